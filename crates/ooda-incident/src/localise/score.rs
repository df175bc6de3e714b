//! Robust per-series anomaly scores against the normal period (after BARO: median and IQR of the
//! reference, not mean and standard deviation, so a few outliers in the normal period do not
//! hide a change). Each series gets a smoothed z-score track over the analysis window, its peak
//! and its onset (the first time it crossed the significance line).

use super::frame::Column;

/// |z| above which a smoothed deviation counts as significant (and marks an onset).
pub const SIGNIFICANT_Z: f64 = 3.0;

/// Faults push latency, errors, CPU and memory *up*; a series falling (fewer requests reaching a
/// callee whose caller is failing) is more often an effect than a cause. Falls count this much.
pub const FALL_WEIGHT: f64 = 0.5;

/// The smallest robust scale, as a fraction of the normal median: a series that barely moves in
/// the normal period (CPU at 20.00 %) would otherwise turn a rounding change into a huge z.
const RELATIVE_SCALE_FLOOR: f64 = 0.01;

/// How one series behaved over the analysis window.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesScore {
    pub metric: String,
    /// Peak of the smoothed, direction-weighted |z| (0 without a reference).
    pub peak: f64,
    /// Whether the peak was a rise.
    pub rising: bool,
    /// When the smoothed |z| first crossed [`SIGNIFICANT_Z`] (unix seconds).
    pub onset: Option<f64>,
    /// Median of the reference (normal) values.
    pub normal_median: f64,
    /// The raw value at the peak.
    pub observed: Option<f64>,
    /// Smoothed, direction-weighted |z| per analysis row (0 where nothing was read).
    pub track: Vec<f64>,
}

/// The robust centre and scale of a reference sample; `None` without at least three values.
pub fn reference(values: &[f64]) -> Option<(f64, f64)> {
    if values.len() < 3 {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = quantile(&sorted, 0.5);
    let iqr = quantile(&sorted, 0.75) - quantile(&sorted, 0.25);
    let mut scale = iqr / 1.349;
    if scale <= f64::EPSILON {
        let mut deviations: Vec<f64> = sorted.iter().map(|v| (v - median).abs()).collect();
        deviations.sort_by(f64::total_cmp);
        scale = 1.4826 * quantile(&deviations, 0.5);
    }
    if scale <= f64::EPSILON {
        let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
        scale =
            (sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / sorted.len() as f64).sqrt();
    }
    Some((median, scale.max(RELATIVE_SCALE_FLOOR * median.abs())))
}

/// Linear-interpolated quantile of sorted, non-empty data.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    let fraction = position - low as f64;
    sorted[low] + (sorted[high] - sorted[low]) * fraction
}

/// Scores one series over the analysis rows `rows` (indices into `column.values`, ascending)
/// against `normal` (the reference sample). `timestamps` are the frame's.
pub fn score_series(
    column: &Column,
    rows: &[usize],
    timestamps: &[f64],
    normal: &[f64],
) -> SeriesScore {
    let mut score = SeriesScore {
        metric: column.metric.clone(),
        peak: 0.0,
        rising: true,
        onset: None,
        normal_median: 0.0,
        observed: None,
        track: vec![0.0; rows.len()],
    };
    let Some((median, mut scale)) = reference(normal) else {
        return score;
    };
    score.normal_median = median;
    let values: Vec<Option<f64>> = rows
        .iter()
        .map(|&row| column.values.get(row).copied().flatten())
        .collect();
    if scale <= f64::EPSILON {
        // A constant normal period (errors always 0): a tenth of the largest excursion, so any
        // sustained change reads as z = 10 rather than infinity.
        let largest = values
            .iter()
            .flatten()
            .map(|v| (v - median).abs())
            .fold(0.0_f64, f64::max);
        scale = (largest / 10.0).max(1e-9);
    }
    let z: Vec<Option<f64>> = values
        .iter()
        .map(|v| v.map(|v| (v - median) / scale))
        .collect();
    // Median of three neighbours: one-sample spikes (a GC pause, a scrape hiccup) vanish, a step
    // or ramp survives.
    for i in 0..z.len() {
        // No allocation per point: this runs for every series × row.
        let mut window = [0.0_f64; 3];
        let mut filled = 0;
        for value in z[i.saturating_sub(1)..(i + 2).min(z.len())]
            .iter()
            .flatten()
        {
            window[filled] = *value;
            filled += 1;
        }
        let window = &mut window[..filled];
        if window.is_empty() {
            continue;
        }
        window.sort_by(f64::total_cmp);
        let smoothed = if window.len() == 2 {
            // Two neighbours: the one closer to zero, so a lone spike at the edge stays out.
            if window[0].abs() < window[1].abs() {
                window[0]
            } else {
                window[1]
            }
        } else {
            window[window.len() / 2]
        };
        let weighted = if smoothed >= 0.0 {
            smoothed
        } else {
            -smoothed * FALL_WEIGHT
        };
        score.track[i] = weighted;
        if weighted > score.peak {
            score.peak = weighted;
            score.rising = smoothed >= 0.0;
            score.observed = values[i];
        }
        if score.onset.is_none() && weighted >= SIGNIFICANT_Z {
            score.onset = rows.get(i).and_then(|&row| timestamps.get(row)).copied();
        }
    }
    score
}
