//! Correlation breaks: each series of a host predicted from its strongest peers on the same host,
//! the residual scored like a baseline. Catches a broken relation while every series is inside
//! its own band (disk I/O 3× what the CPU load predicts). Learns from complete rows only.
//!
//! Models are refitted every `refit_every` rows from forgetting means and covariances; between
//! refits they are fixed, so a row's residual depends only on rows before it.

use crate::config::CorrelationConfig;

/// One target's peer model.
#[derive(Debug, Clone)]
struct PeerModel {
    peers: Vec<usize>,
    coef: Vec<f64>,
    intercept: f64,
    residual_mean: f64,
    residual_var: f64,
    residual_weight: f64,
    /// EWMA of the residual z (see `CorrelationConfig::ewma_alpha`).
    ewma: f64,
}

/// A residual score for one series in one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Break {
    pub target: usize,
    pub z: f64,
    pub actual: f64,
    pub predicted: f64,
    /// (peer index, peer value) the prediction came from.
    pub peers: Vec<(usize, f64)>,
}

/// The relations between the series of one host.
#[derive(Debug, Clone)]
pub struct Relations {
    n: usize,
    mean: Vec<f64>,
    /// Row-major n×n covariance.
    cov: Vec<f64>,
    weight: f64,
    rows: u64,
    since_refit: u32,
    last_ms: Option<i64>,
    models: Vec<Option<PeerModel>>,
}

impl Relations {
    pub fn new(n: usize) -> Self {
        Self {
            n,
            mean: vec![0.0; n],
            cov: vec![0.0; n * n],
            weight: 0.0,
            rows: 0,
            since_refit: 0,
            last_ms: None,
            models: vec![None; n],
        }
    }

    pub fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + 8 * (self.mean.len() + self.cov.len())
            + self
                .models
                .iter()
                .flatten()
                .map(|m| std::mem::size_of::<PeerModel>() + 16 * m.peers.len())
                .sum::<usize>()
    }

    /// Scores a complete row against the current models, then learns it. `floors[i]` bounds
    /// series i's residual σ from below (its resolution); the σ fraction comes from config.
    pub fn observe(
        &mut self,
        time_ms: i64,
        row: &[f64],
        floors: &[f64],
        config: &CorrelationConfig,
        learn: bool,
    ) -> Vec<Break> {
        let mut breaks = Vec::new();
        self.observe_into(
            time_ms,
            row,
            floors,
            config,
            learn,
            |_, _| true,
            &mut breaks,
        );
        breaks
    }

    /// [`Self::observe`], appending to `breaks` only the breaks `wanted(target, z)` accepts: a
    /// caller that drops most of them (the engine keeps those pointing the way its series
    /// alert) saves building their peer lists, one allocation per series on every row.
    #[allow(clippy::too_many_arguments)]
    pub fn observe_into(
        &mut self,
        time_ms: i64,
        row: &[f64],
        floors: &[f64],
        config: &CorrelationConfig,
        learn: bool,
        wanted: impl Fn(usize, f64) -> bool,
        breaks: &mut Vec<Break>,
    ) {
        debug_assert_eq!(row.len(), self.n);
        if row.len() != self.n || row.iter().any(|v| !v.is_finite()) {
            return;
        }
        if self.last_ms.is_some_and(|last| time_ms <= last) {
            return;
        }
        let half_life_ms = config.half_life.as_millis().max(1) as f64;
        let elapsed = self.last_ms.map_or(0.0, |last| (time_ms - last) as f64);
        let decay = (-elapsed / half_life_ms).exp2();
        if learn {
            self.last_ms = Some(time_ms);
        }

        let trusted = self.rows >= u64::from(config.warm_up);
        for (target, model) in self.models.iter_mut().enumerate() {
            let Some(model) = model.as_mut() else {
                continue;
            };
            let predicted = model.intercept
                + model
                    .peers
                    .iter()
                    .zip(&model.coef)
                    .map(|(&p, &c)| c * row[p])
                    .sum::<f64>();
            let residual = row[target] - predicted;
            let target_sigma = self.cov[target * self.n + target].max(0.0).sqrt();
            let floor = (config.sigma_floor_fraction * target_sigma).max(floors[target]);
            let sigma = model.residual_var.max(0.0).sqrt().max(floor);
            let mut z = if sigma > 0.0 {
                (residual - model.residual_mean) / sigma
            } else {
                0.0
            };
            if config.ewma_alpha > 0.0 && z.is_finite() {
                let a = config.ewma_alpha;
                model.ewma = a * z.clamp(-50.0, 50.0) + (1.0 - a) * model.ewma;
                let sustained = model.ewma * ((2.0 - a) / a).sqrt();
                if sustained.abs() > z.abs() {
                    z = sustained;
                }
            }
            if trusted && z.is_finite() && wanted(target, z) {
                breaks.push(Break {
                    target,
                    z,
                    actual: row[target],
                    predicted: predicted + model.residual_mean,
                    peers: model.peers.iter().map(|&p| (p, row[p])).collect(),
                });
            }
            if !learn {
                continue;
            }
            // Learn the residual, clipped so a break does not widen its own band.
            let bound = 3.0 * sigma;
            let learned = crate::baseline::clip(
                residual,
                model.residual_mean - bound,
                model.residual_mean + bound,
            );
            let w = model.residual_weight * decay + 1.0;
            let d = learned - model.residual_mean;
            let m = model.residual_mean + d / w;
            model.residual_var =
                ((model.residual_weight * decay * model.residual_var + d * (learned - m)) / w)
                    .max(0.0);
            model.residual_mean = m;
            model.residual_weight = w;
        }

        if !learn {
            // While the host is abnormal the relations neither learn nor refit: an incident must
            // not become the model that judges it.
            return;
        }
        // Forgetting mean and covariance.
        let old = self.weight * decay;
        let w = old + 1.0;
        let n = self.n;
        let delta: Vec<f64> = row.iter().zip(&self.mean).map(|(x, m)| x - m).collect();
        for (m, d) in self.mean.iter_mut().zip(&delta) {
            *m += d / w;
        }
        for (i, (x, m)) in row.iter().zip(&self.mean).enumerate() {
            let after_i = x - m;
            for (c, d) in self.cov[i * n..(i + 1) * n].iter_mut().zip(&delta) {
                *c = (old * *c + d * after_i) / w;
            }
        }
        self.weight = w;
        self.rows += 1;
        self.since_refit += 1;

        let at_warm_up = self.rows == u64::from(config.warm_up.max(2));
        if at_warm_up
            || (self.rows > u64::from(config.warm_up) && self.since_refit >= config.refit_every)
        {
            self.refit(config);
        }
    }

    fn refit(&mut self, config: &CorrelationConfig) {
        self.since_refit = 0;
        let n = self.n;
        let var: Vec<f64> = (0..n).map(|i| self.cov[i * n + i].max(0.0)).collect();
        for target in 0..n {
            let previous = self.models[target].take();
            if var[target] <= 0.0 {
                continue;
            }
            let mut candidates: Vec<(usize, f64)> = (0..n)
                .filter(|&j| j != target && var[j] > 0.0)
                .map(|j| (j, self.cov[target * n + j] / (var[target] * var[j]).sqrt()))
                .filter(|(_, r)| r.abs() >= config.min_abs_corr)
                .collect();
            candidates.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
            candidates.truncate(config.peers);
            if candidates.is_empty() {
                continue;
            }
            let peers: Vec<usize> = candidates.iter().map(|c| c.0).collect();
            let k = peers.len();
            // Normal equations with a small ridge so near-identical peers stay solvable.
            let mut a = vec![0.0; k * k];
            let mut b = vec![0.0; k];
            for (r, &pr) in peers.iter().enumerate() {
                for (c, &pc) in peers.iter().enumerate() {
                    a[r * k + c] = self.cov[pr * n + pc];
                }
                a[r * k + r] += 1e-6 * var[pr] + f64::MIN_POSITIVE;
                b[r] = self.cov[pr * n + target];
            }
            let Some(coef) = solve(&mut a, &mut b, k) else {
                continue;
            };
            let intercept = self.mean[target]
                - peers
                    .iter()
                    .zip(&coef)
                    .map(|(&p, c)| c * self.mean[p])
                    .sum::<f64>();
            let explained: f64 = peers
                .iter()
                .zip(&coef)
                .map(|(&p, c)| c * self.cov[p * n + target])
                .sum();
            let residual_var = (var[target] - explained).max(0.0);
            // Keep the learned residual spread when the model barely changed; the analytic
            // in-sample spread is optimistic.
            let residual_var = previous
                .as_ref()
                .filter(|p| p.peers == peers)
                .map_or(residual_var, |p| p.residual_var.max(residual_var));
            self.models[target] = Some(PeerModel {
                peers,
                coef,
                intercept,
                residual_mean: 0.0,
                residual_var,
                residual_weight: f64::from(config.refit_every.max(1)),
                ewma: previous.as_ref().map_or(0.0, |p| p.ewma),
            });
        }
    }
}

/// Gaussian elimination with partial pivoting on a k×k system (k ≤ 4).
fn solve(a: &mut [f64], b: &mut [f64], k: usize) -> Option<Vec<f64>> {
    for col in 0..k {
        let pivot =
            (col..k).max_by(|&x, &y| a[x * k + col].abs().total_cmp(&a[y * k + col].abs()))?;
        if a[pivot * k + col].abs() < 1e-300 {
            return None;
        }
        if pivot != col {
            for c in 0..k {
                a.swap(pivot * k + c, col * k + c);
            }
            b.swap(pivot, col);
        }
        for row in (col + 1)..k {
            let f = a[row * k + col] / a[col * k + col];
            for c in col..k {
                a[row * k + c] -= f * a[col * k + c];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; k];
    for row in (0..k).rev() {
        let s: f64 = ((row + 1)..k).map(|c| a[row * k + c] * x[c]).sum();
        x[row] = (b[row] - s) / a[row * k + row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_small_systems() {
        let mut a = vec![2.0, 1.0, 1.0, 3.0];
        let mut b = vec![5.0, 10.0];
        let x = solve(&mut a, &mut b, 2).expect("solvable");
        assert!(
            (x[0] - 1.0).abs() < 1e-9 && (x[1] - 3.0).abs() < 1e-9,
            "{x:?}"
        );
    }

    #[test]
    fn flags_a_broken_relation_inside_each_band() {
        let config = CorrelationConfig {
            warm_up: 200,
            refit_every: 100,
            ..CorrelationConfig::default()
        };
        let mut rel = Relations::new(3);
        // b = 2a, c independent noise.
        for i in 0..1000i64 {
            let a = ((i * 37) % 100) as f64;
            let noise = ((i * 13) % 7) as f64 * 0.1;
            let c = ((i * 53) % 17) as f64;
            let breaks = rel.observe(i * 1000, &[a, 2.0 * a + noise, c], &[0.0; 3], &config, true);
            for b in breaks {
                assert!(b.z.abs() < config.warning_z, "row {i}: {b:?}");
            }
        }
        // a = 50 and b = 20 are each inside their ranges, but b should be ~100.
        let breaks = rel.observe(1_000_000, &[50.0, 20.0, 5.0], &[0.0; 3], &config, true);
        let b = breaks
            .iter()
            .find(|b| b.target == 1)
            .expect("b is modelled");
        assert!(b.z < -config.warning_z, "{b:?}");
        assert_eq!(b.peers[0].0, 0);
        assert!(
            !breaks.iter().any(|b| b.target == 2),
            "c has no strong peer"
        );
    }
}
