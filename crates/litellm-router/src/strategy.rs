//! Routing strategies: how one deployment is picked among the healthy candidates of a group.
//!
//! [`RoutingStrategy`] is `router_settings.routing_strategy`: LiteLLM's `simple-shuffle`
//! (default), `least-busy`, `usage-based-routing(-v2)`, `latency-based-routing` and
//! `cost-based-routing`. Each picks from the candidates the router left after cooldowns,
//! `max_parallel_requests`, pre-call checks and `order` tiers, given a [`Stats`] snapshot of
//! each; the router gathers only the stats the strategy reads.

use rand::Rng;

use litellm_core::{ErrorKind, JsonMap, LlmError};
use litellm_providers::prices;

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

/// What the router knows of one candidate when picking.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    /// Requests in flight on this replica.
    pub in_flight: u64,
    /// Requests started this minute (shared across replicas with Redis).
    pub rpm_used: u64,
    /// Tokens used this minute (shared across replicas with Redis).
    pub tpm_used: u64,
    /// Average recent latency in seconds (per output token, or time to first token for
    /// streams); `None` before the first sample.
    pub latency: Option<f64>,
}

/// `router_settings.routing_strategy`.
#[derive(Debug, Clone, PartialEq)]
pub enum RoutingStrategy {
    /// Weighted random by `weight`, `rpm`, `tpm` (see [`SimpleShuffle`]).
    SimpleShuffle,
    /// Fewest requests in flight; ties at random.
    LeastBusy,
    /// Per-minute `rpm`/`tpm` enforced; lowest tokens used this minute wins.
    UsageBased,
    /// Lowest average latency; random among those within `buffer` of the best.
    LatencyBased {
        /// `lowest_latency_buffer` (default 0).
        buffer: f64,
        /// `ttl`: samples older than this are forgotten (default 3600 s).
        ttl: std::time::Duration,
        /// `max_latency_list_size` (default 10).
        max_samples: usize,
    },
    /// Cheapest `input_cost_per_token + output_cost_per_token`; ties at random.
    CostBased,
}

/// LiteLLM's per-token price for a deployment without one (`lowest_cost.py`).
const UNKNOWN_COST_PER_TOKEN: f64 = 5.0;

impl RoutingStrategy {
    /// The strategy named `name`, with `routing_strategy_args`.
    pub fn parse(name: &str, args: &JsonMap) -> Result<Self, LlmError> {
        let num = |k: &str| args.get(k).and_then(|v| v.as_f64());
        Ok(match name {
            "" | "simple-shuffle" => RoutingStrategy::SimpleShuffle,
            "least-busy" => RoutingStrategy::LeastBusy,
            "usage-based-routing" | "usage-based-routing-v2" => RoutingStrategy::UsageBased,
            "latency-based-routing" => RoutingStrategy::LatencyBased {
                buffer: num("lowest_latency_buffer")
                    .filter(|b| b.is_finite() && *b >= 0.0)
                    .unwrap_or(0.0),
                ttl: num("ttl")
                    .filter(|t| t.is_finite() && *t > 0.0)
                    .map_or(std::time::Duration::from_secs(3600), |t| {
                        std::time::Duration::from_secs_f64(t)
                    }),
                max_samples: num("max_latency_list_size")
                    .filter(|n| *n >= 1.0)
                    .map_or(10, |n| n as usize),
            },
            "cost-based-routing" => RoutingStrategy::CostBased,
            other => {
                return Err(LlmError::client(
                    ErrorKind::BadRequest,
                    format!(
                        "router_settings.routing_strategy: unknown strategy '{other}'; expected one of simple-shuffle, least-busy, usage-based-routing, usage-based-routing-v2, latency-based-routing, cost-based-routing"
                    ),
                ))
            }
        })
    }

    /// The LiteLLM name.
    pub fn name(&self) -> &'static str {
        match self {
            RoutingStrategy::SimpleShuffle => "simple-shuffle",
            RoutingStrategy::LeastBusy => "least-busy",
            RoutingStrategy::UsageBased => "usage-based-routing-v2",
            RoutingStrategy::LatencyBased { .. } => "latency-based-routing",
            RoutingStrategy::CostBased => "cost-based-routing",
        }
    }

    /// Whether picking reads per-minute usage (and the router enforces `rpm`/`tpm`).
    pub fn uses_usage(&self) -> bool {
        matches!(self, RoutingStrategy::UsageBased)
    }

    /// Picks among `candidates` (stats index-aligned). `input_tokens` is the request's estimated
    /// prompt size, for the `tpm` check. `None` when no candidate may take the request (empty,
    /// or usage-based with every candidate at its limits).
    pub fn pick(
        &self,
        candidates: &[&Deployment],
        stats: &[Stats],
        input_tokens: u64,
    ) -> Option<usize> {
        if candidates.is_empty() {
            return None;
        }
        match self {
            RoutingStrategy::SimpleShuffle => SimpleShuffle.pick(candidates),
            RoutingStrategy::LeastBusy => {
                random_min(candidates.len(), |i| stats[i].in_flight as f64, 0.0)
            }
            RoutingStrategy::UsageBased => {
                let fits: Vec<usize> = (0..candidates.len())
                    .filter(|&i| fits_limits(candidates[i], &stats[i], input_tokens))
                    .collect();
                let j = random_min(fits.len(), |j| stats[fits[j]].tpm_used as f64, 0.0)?;
                Some(fits[j])
            }
            RoutingStrategy::LatencyBased { buffer, .. } => random_min(
                candidates.len(),
                |i| stats[i].latency.unwrap_or(0.0),
                *buffer,
            ),
            RoutingStrategy::CostBased => {
                random_min(candidates.len(), |i| cost_per_token(candidates[i]), 0.0)
            }
        }
    }
}

/// Whether one more request of `input_tokens` stays within the deployment's `rpm` and `tpm`.
pub fn fits_limits(d: &Deployment, s: &Stats, input_tokens: u64) -> bool {
    let p = &d.config.litellm_params;
    p.rpm.is_none_or(|rpm| s.rpm_used < rpm)
        && p.tpm.is_none_or(|tpm| s.tpm_used + input_tokens <= tpm)
}

/// Input plus output price per token (the deployment's prices, else the price table's),
/// LiteLLM's default for unknown prices.
pub fn cost_per_token(d: &Deployment) -> f64 {
    let prices = deployment_prices(d).unwrap_or_default();
    prices
        .input_cost_per_token
        .unwrap_or(UNKNOWN_COST_PER_TOKEN)
        + prices
            .output_cost_per_token
            .unwrap_or(UNKNOWN_COST_PER_TOKEN)
}

/// The deployment's entry in the price table (by `base_model`, then `litellm_params.model`;
/// see `litellm_providers::prices`).
pub fn price_entry(d: &Deployment) -> Option<&'static prices::ModelPrice> {
    let info = &d.config.model_info;
    let base_model = info.base_model.as_deref();
    let base_model = base_model.or(d.config.litellm_params.base_model.as_deref());
    prices::table().for_deployment(d.backend.provider(), d.model(), base_model)
}

/// The deployment's effective per-token prices: `litellm_params` prices, then `model_info`
/// prices, then the price table's, field by field; `None` when nothing prices it.
pub fn deployment_prices(d: &Deployment) -> Option<prices::TokenPrices> {
    let p = &d.config.litellm_params;
    let info = &d.config.model_info;
    let mut from_params = prices::TokenPrices::from_map(&p.provider.extra);
    from_params.input_cost_per_token = p.input_cost_per_token.or(from_params.input_cost_per_token);
    from_params.output_cost_per_token = p
        .output_cost_per_token
        .or(from_params.output_cost_per_token);
    let mut from_info = prices::TokenPrices::from_map(&info.extra);
    from_info.input_cost_per_token = info.input_cost_per_token.or(from_info.input_cost_per_token);
    from_info.output_cost_per_token = info
        .output_cost_per_token
        .or(from_info.output_cost_per_token);
    let table = price_entry(d).map(|e| e.prices).unwrap_or_default();
    let merged = from_params.or(from_info).or(table);
    (!merged.is_empty()).then_some(merged)
}

/// A random index among those whose score is within `buffer` (a fraction) of the lowest.
fn random_min(n: usize, score: impl Fn(usize) -> f64, buffer: f64) -> Option<usize> {
    let best = (0..n).map(&score).fold(f64::INFINITY, f64::min);
    if !best.is_finite() {
        return (n > 0).then(|| rand::thread_rng().gen_range(0..n));
    }
    let limit = best + best.abs() * buffer;
    let ties: Vec<usize> = (0..n).filter(|&i| score(i) <= limit).collect();
    match ties.len() {
        0 => None,
        1 => Some(ties[0]),
        k => Some(ties[rand::thread_rng().gen_range(0..k)]),
    }
}
