//! Routing strategies: how one deployment is picked among the healthy candidates of a group.
//!
//! Only `simple-shuffle` exists in this release. The [`Strategy`] trait is the seam the other
//! LiteLLM strategies (least-busy, usage-based, latency-based, cost-based) plug into.

use rand::Rng;

use crate::deployment::Deployment;

/// Picks one deployment among candidates; `None` only when `candidates` is empty.
pub trait Strategy: Send + Sync {
    /// The index into `candidates` of the chosen deployment.
    fn pick(&self, candidates: &[&Deployment]) -> Option<usize>;
}

/// LiteLLM's default: weighted random by `weight`, else `rpm`, else `tpm`, else uniform.
///
/// As in LiteLLM (`router_strategy/simple_shuffle.py`), the first weight set in which any
/// candidate has a weight above zero is used, and candidates without that field weigh zero.
#[derive(Debug, Default, Clone, Copy)]
pub struct SimpleShuffle;

impl SimpleShuffle {
    /// The weights that decide the draw, or `None` for a uniform draw.
    pub fn weights(candidates: &[&Deployment]) -> Option<Vec<f64>> {
        let sets: [fn(&Deployment) -> Option<f64>; 3] = [
            |d| d.config.litellm_params.weight,
            |d| d.config.litellm_params.rpm.map(|v| v as f64),
            |d| d.config.litellm_params.tpm.map(|v| v as f64),
        ];
        sets.iter().find_map(|get| {
            let w: Vec<f64> = candidates
                .iter()
                .map(|d| get(d).filter(|w| w.is_finite() && *w > 0.0).unwrap_or(0.0))
                .collect();
            w.iter().any(|x| *x > 0.0).then_some(w)
        })
    }
}

impl Strategy for SimpleShuffle {
    fn pick(&self, candidates: &[&Deployment]) -> Option<usize> {
        if candidates.is_empty() {
            return None;
        }
        if candidates.len() == 1 {
            return Some(0);
        }
        let mut rng = rand::thread_rng();
        match Self::weights(candidates) {
            None => Some(rng.gen_range(0..candidates.len())),
            Some(weights) => {
                let total: f64 = weights.iter().sum();
                let mut x = rng.gen_range(0.0..total);
                for (i, w) in weights.iter().enumerate() {
                    if x < *w {
                        return Some(i);
                    }
                    x -= w;
                }
                // Floating-point rounding can leave `x` just past the end: take the last
                // deployment with a positive weight.
                weights.iter().rposition(|w| *w > 0.0)
            }
        }
    }
}
