//! A model's self-reported confidence is never used raw. It is first calibrated (a Platt map on
//! its logit, identity until fitted by `ooda eval reasoners`), then combined with the built-in
//! reasoner's calibrated evidence score for the same cause by a geometric mean, and capped by
//! that score: an LLM can lower confidence below what the evidence supports, never raise it
//! above. So no confidence band (act, act-and-notify) opens for an LLM answer that would stay
//! shut for the built-in score of the same cause.

use serde::{Deserialize, Serialize};

/// `p' = σ(a · logit(p) + b)`. The identity is `a = 1, b = 0`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

impl Default for Platt {
    fn default() -> Self {
        Self { a: 1.0, b: 0.0 }
    }
}

impl Platt {
    pub fn apply(&self, p: f64) -> f64 {
        if !p.is_finite() {
            return 0.0;
        }
        let p = p.clamp(1e-6, 1.0 - 1e-6);
        let z = self.a * (p / (1.0 - p)).ln() + self.b;
        let out = 1.0 / (1.0 + (-z).exp());
        if out.is_finite() {
            out
        } else {
            0.0
        }
    }

    /// Fits `a, b` on (model confidence, was right) pairs by minimising log loss on a grid. Few
    /// pairs fit poorly: below 20 the identity is kept.
    pub fn fit(pairs: &[(f64, bool)]) -> Self {
        if pairs.len() < 20 {
            return Self::default();
        }
        let mut best = (f64::INFINITY, Self::default());
        for ai in 0..=30 {
            let a = 0.1 + f64::from(ai) * 0.1;
            for bi in -20..=20 {
                let candidate = Self {
                    a,
                    b: f64::from(bi) * 0.2,
                };
                let loss: f64 = pairs
                    .iter()
                    .map(|(p, right)| {
                        let q = candidate.apply(*p).clamp(1e-9, 1.0 - 1e-9);
                        if *right {
                            -q.ln()
                        } else {
                            -(1.0 - q).ln()
                        }
                    })
                    .sum();
                if loss < best.0 {
                    best = (loss, candidate);
                }
            }
        }
        best.1
    }
}

/// The confidence ooda uses for an LLM's cause: `min(evidence, √(calibrated(model) · evidence))`.
pub fn combine(model: f64, evidence: f64, calibration: &Platt) -> f64 {
    let evidence = if evidence.is_finite() {
        evidence.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let model = calibration.apply(model);
    (model * evidence).sqrt().min(evidence).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_overconfident_model_is_held_to_the_evidence() {
        let identity = Platt::default();
        assert!((combine(1.0, 0.4, &identity) - 0.4).abs() < 1e-9);
        assert!(combine(0.2, 0.9, &identity) < 0.9);
        assert_eq!(combine(f64::NAN, 0.9, &identity), 0.0);
        assert_eq!(combine(0.9, f64::NAN, &identity), 0.0);
    }

    #[test]
    fn fitting_an_overconfident_model_shrinks_it() {
        // Says 0.95 and is right half of the time.
        let pairs: Vec<(f64, bool)> = (0..100).map(|i| (0.95, i % 2 == 0)).collect();
        let fitted = Platt::fit(&pairs);
        assert!(
            (fitted.apply(0.95) - 0.5).abs() < 0.1,
            "{fitted:?} → {}",
            fitted.apply(0.95)
        );
    }

    proptest! {
        #[test]
        fn never_above_the_evidence_and_always_a_probability(model in any::<f64>(), evidence in any::<f64>(), a in 0.1f64..3.0, b in -4.0f64..4.0) {
            let c = combine(model, evidence, &Platt { a, b });
            prop_assert!((0.0..=1.0).contains(&c));
            if evidence.is_finite() {
                prop_assert!(c <= evidence.clamp(0.0, 1.0) + 1e-12);
            }
        }
    }
}
