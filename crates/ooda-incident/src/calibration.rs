//! Calibration: does "90% confident" mean right nine times in ten? Measured on labelled
//! scenarios as a reliability curve and the expected calibration error (ECE), and used to fit
//! the reasoner's temperature.
//!
//! The scenarios here are generated from the catalogue with a noise model that is *not* the
//! scorer's likelihood ratios (a fixed chance of showing each primary and secondary signal, of
//! unrelated noise signals and of probe gaps), so the measurement is not the model grading
//! itself. The lab will produce richer scenarios; they plug into [`measure`] unchanged.

use serde::Serialize;

use crate::catalogue::Catalogue;
use crate::reasoner::builtin::{BuiltinReasoner, Signals};

/// One labelled scenario: the signals seen and looked for, and the true cause.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// A catalogue cause id, or [`UNKNOWN`].
    pub truth: String,
    pub signals: Signals,
}

/// The label of scenarios whose cause is outside the catalogue.
pub const UNKNOWN: &str = "unknown";

/// A small deterministic generator (xorshift64*), so scenarios are reproducible from a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Generates `n` scenarios. True causes are drawn by prior; each shows its primary signals
/// (`expects`) with probability 0.8, its other supporting signals with 0.45, each signal of the
/// catalogue as noise with 0.03 (a generic symptom such as slow responses with 0.3). What is looked at varies as it does between fleets: each
/// scenario draws a metric coverage between 0.3 and 0.95 (the share of metric signals some probe
/// reads: a fleet with node-exporter alone sees few of the catalogue's metrics), the log probe
/// answers for all log signals or none (0.85), and each built-in signal (deploys, topology,
/// CMDB, maintenance) is available with 0.6. A signal not looked at is a gap: neither seen nor
/// looked for. One scenario in ten has a cause outside the catalogue and shows only noise.
pub fn scenarios(catalogue: &Catalogue, n: usize, seed: u64) -> Vec<Scenario> {
    let mut rng = Rng::new(seed);
    let causes = catalogue.causes();
    let total: f64 = causes.iter().map(|c| c.prior).sum();
    let all_signals: Vec<String> = catalogue
        .signals()
        .iter()
        .map(|s| s.id.clone())
        .chain(
            crate::catalogue::BUILT_IN_SIGNALS
                .iter()
                .map(|s| (*s).to_owned()),
        )
        .collect();
    let generic: Vec<&String> = all_signals
        .iter()
        .filter(|s| catalogue.is_generic(s))
        .collect();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let coverage = 0.3 + 0.65 * rng.unit();
        let logs_answered = rng.unit() < 0.85;
        let mut pick = rng.unit() * total;
        let mut truth = &causes[0];
        for cause in causes {
            if pick < cause.prior {
                truth = cause;
                break;
            }
            pick -= cause.prior;
        }
        let outside = rng.unit() < 0.1;
        let mut seen: Vec<&str> = Vec::new();
        let mut looked: Vec<&str> = Vec::new();
        for signal in &all_signals {
            let available = if signal.starts_with("metric.") {
                coverage
            } else if signal.starts_with("log.") {
                if logs_answered {
                    1.0
                } else {
                    0.0
                }
            } else {
                0.6
            };
            if rng.unit() >= available {
                continue; // gap
            }
            looked.push(signal);
            let p = if outside {
                0.03
            } else if truth.expects.contains_key(signal) {
                0.8
            } else if truth.supports.get(signal).is_some_and(|r| *r > 1.0) {
                0.45
            } else if generic.contains(&signal) {
                0.3
            } else {
                0.03
            };
            if rng.unit() < p {
                seen.push(signal);
            }
        }
        out.push(Scenario {
            truth: if outside {
                UNKNOWN.to_owned()
            } else {
                truth.id.clone()
            },
            signals: Signals::from_names(&seen, &looked),
        });
    }
    out
}

/// One bin of the reliability curve.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Bin {
    pub low: f64,
    pub high: f64,
    pub count: usize,
    pub mean_confidence: f64,
    pub accuracy: f64,
}

/// The measurement.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Calibration {
    pub scenarios: usize,
    pub top1_accuracy: f64,
    pub ece: f64,
    /// Mean negative log-likelihood of the true cause.
    pub nll: f64,
    pub bins: Vec<Bin>,
    /// Among scenarios with confidence > 0.85 (the act band): how many, and how many right.
    pub act_band: (usize, usize),
}

/// Measures `reasoner` on `scenarios` with 10 equal-width bins over the top-1 confidence.
pub fn measure(reasoner: &BuiltinReasoner, scenarios: &[Scenario]) -> Calibration {
    let mut bins: Vec<(usize, f64, usize)> = vec![(0, 0.0, 0); 10];
    let mut right = 0;
    let mut nll = 0.0;
    let mut act = (0, 0);
    for scenario in scenarios {
        let ranked = reasoner.rank(&scenario.signals, &[]);
        let Some(top) = ranked.first() else { continue };
        let correct = top.cause == scenario.truth;
        let p_truth = if scenario.truth == UNKNOWN {
            1.0 - ranked.iter().map(|h| h.confidence).sum::<f64>()
        } else {
            ranked
                .iter()
                .find(|h| h.cause == scenario.truth)
                .map(|h| h.confidence)
                .unwrap_or(0.0)
        };
        nll -= p_truth.max(1e-12).ln();
        let bin = ((top.confidence * 10.0) as usize).min(9);
        bins[bin].0 += 1;
        bins[bin].1 += top.confidence;
        bins[bin].2 += usize::from(correct);
        right += usize::from(correct);
        if top.confidence > 0.85 {
            act.0 += 1;
            act.1 += usize::from(correct);
        }
    }
    let n = scenarios.len().max(1) as f64;
    let mut ece = 0.0;
    let bins: Vec<Bin> = bins
        .into_iter()
        .enumerate()
        .map(|(i, (count, conf, correct))| {
            let (mean_confidence, accuracy) = if count == 0 {
                (0.0, 0.0)
            } else {
                (conf / count as f64, correct as f64 / count as f64)
            };
            ece += count as f64 / n * (mean_confidence - accuracy).abs();
            Bin {
                low: i as f64 / 10.0,
                high: (i + 1) as f64 / 10.0,
                count,
                mean_confidence,
                accuracy,
            }
        })
        .collect();
    Calibration {
        scenarios: scenarios.len(),
        top1_accuracy: right as f64 / n,
        ece,
        nll: nll / n,
        bins,
        act_band: act,
    }
}

/// The fitted parameters of the built-in reasoner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub temperature: f64,
    pub unknown_prior: f64,
    pub unexplained: f64,
}

impl Fit {
    pub fn reasoner(&self, catalogue: &Catalogue) -> BuiltinReasoner {
        BuiltinReasoner::new(catalogue.clone())
            .with_temperature(self.temperature)
            .with_unknown_prior(self.unknown_prior)
            .with_unexplained(self.unexplained)
    }
}

/// The (temperature, unknown-cause prior, unexplained-symptom ratio) on a grid that minimises
/// the negative log-likelihood on `train`.
pub fn fit(catalogue: &Catalogue, train: &[Scenario]) -> Fit {
    let mut best = (
        f64::INFINITY,
        Fit {
            temperature: 1.0,
            unknown_prior: 0.27,
            unexplained: 1.0,
        },
    );
    for step in 0..=15 {
        let temperature = 0.5 + f64::from(step) * 0.1;
        for unknown_prior in [0.02, 0.05, 0.1, 0.15, 0.2, 0.27] {
            for unexplained in [0.2, 0.3, 0.4, 0.5, 0.7, 1.0] {
                let candidate = Fit {
                    temperature,
                    unknown_prior,
                    unexplained,
                };
                let nll = measure(&candidate.reasoner(catalogue), train).nll;
                if nll < best.0 {
                    best = (nll, candidate);
                }
            }
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fits the reasoner on one seed and measures on another. Prints the reliability table
    /// (copied into BENCHMARKS.md); asserts only that the fitted reasoner is not badly
    /// miscalibrated, beats the unfitted one, and that the shipped defaults are the fitted values.
    #[test]
    fn fit_and_report() {
        let catalogue = Catalogue::embedded().unwrap();
        let train = scenarios(&catalogue, 800, 7);
        let test = scenarios(&catalogue, 2000, 11);
        let raw = measure(
            &Fit {
                temperature: 1.0,
                unknown_prior: 0.27,
                unexplained: 1.0,
            }
            .reasoner(&catalogue),
            &test,
        );
        let fit = fit(&catalogue, &train);
        let fitted = measure(&fit.reasoner(&catalogue), &test);
        println!(
            "T=1.0 unknown=0.27 unexplained=1.0: accuracy {:.3} ECE {:.3} NLL {:.3} act band {:?}",
            raw.top1_accuracy, raw.ece, raw.nll, raw.act_band
        );
        println!(
            "{fit:?}: accuracy {:.3} ECE {:.3} NLL {:.3} act band {:?}",
            fitted.top1_accuracy, fitted.ece, fitted.nll, fitted.act_band
        );
        for bin in &fitted.bins {
            println!(
                "[{:.1}, {:.1}) n={:4} confidence {:.3} accuracy {:.3}",
                bin.low, bin.high, bin.count, bin.mean_confidence, bin.accuracy
            );
        }
        assert!(fitted.ece < 0.1, "ECE {}", fitted.ece);
        assert!(fitted.nll <= raw.nll + 1e-9);
        use crate::reasoner::builtin::{
            DEFAULT_TEMPERATURE, DEFAULT_UNEXPLAINED, DEFAULT_UNKNOWN_PRIOR,
        };
        assert!(
            (fit.temperature - DEFAULT_TEMPERATURE).abs() < 0.051
                && (fit.unknown_prior - DEFAULT_UNKNOWN_PRIOR).abs() < 1e-9
                && (fit.unexplained - DEFAULT_UNEXPLAINED).abs() < 1e-9,
            "refit: the shipped defaults should be {fit:?}"
        );
    }

    #[test]
    fn scenarios_are_reproducible() {
        let catalogue = Catalogue::embedded().unwrap();
        let a = scenarios(&catalogue, 20, 3);
        let b = scenarios(&catalogue, 20, 3);
        let truths = |s: &[Scenario]| s.iter().map(|x| x.truth.clone()).collect::<Vec<_>>();
        assert_eq!(truths(&a), truths(&b));
    }
}
