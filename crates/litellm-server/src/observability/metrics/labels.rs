//! The label sets of every metric family: field names and order are LiteLLM's
//! (`PrometheusMetricLabels`), so dashboards keep working.

#[allow(unused_imports)]
use super::*;

// ---- label sets: field names and order are LiteLLM's (`PrometheusMetricLabels`) ----

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ProxyRequestLabels {
    pub(super) end_user: Lv,
    pub(super) hashed_api_key: Lv,
    pub(super) api_key_alias: Lv,
    pub(super) requested_model: Lv,
    pub(super) team: Lv,
    pub(super) team_alias: Lv,
    pub(super) user: Lv,
    pub(super) status_code: Lv,
    pub(super) user_email: Lv,
    pub(super) route: Lv,
    pub(super) client_ip: Lv,
    pub(super) user_agent: Lv,
    pub(super) model_id: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ProxyFailedLabels {
    pub(super) end_user: Lv,
    pub(super) hashed_api_key: Lv,
    pub(super) api_key_alias: Lv,
    pub(super) requested_model: Lv,
    pub(super) team: Lv,
    pub(super) team_alias: Lv,
    pub(super) user: Lv,
    pub(super) user_email: Lv,
    pub(super) exception_status: Lv,
    pub(super) exception_class: Lv,
    pub(super) route: Lv,
    pub(super) client_ip: Lv,
    pub(super) user_agent: Lv,
    pub(super) model_id: Lv,
}

/// `litellm_requests_metric` and `litellm_spend_metric`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RequestsLabels {
    pub(super) end_user: Lv,
    pub(super) hashed_api_key: Lv,
    pub(super) api_key_alias: Lv,
    pub(super) model: Lv,
    pub(super) team: Lv,
    pub(super) team_alias: Lv,
    pub(super) user: Lv,
    pub(super) user_email: Lv,
    pub(super) client_ip: Lv,
    pub(super) user_agent: Lv,
    pub(super) model_id: Lv,
    pub(super) api_provider: Lv,
}

/// The three token counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct TokenLabels {
    pub(super) end_user: Lv,
    pub(super) hashed_api_key: Lv,
    pub(super) api_key_alias: Lv,
    pub(super) model: Lv,
    pub(super) team: Lv,
    pub(super) team_alias: Lv,
    pub(super) user: Lv,
    pub(super) user_email: Lv,
    pub(super) requested_model: Lv,
    pub(super) model_id: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct TotalLatencyLabels {
    pub(super) end_user: Lv,
    pub(super) hashed_api_key: Lv,
    pub(super) api_key_alias: Lv,
    pub(super) requested_model: Lv,
    pub(super) team: Lv,
    pub(super) team_alias: Lv,
    pub(super) user: Lv,
    pub(super) model: Lv,
    pub(super) model_id: Lv,
}

/// `litellm_llm_api_latency_metric` and `litellm_llm_api_time_to_first_token_metric`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ApiLatencyLabels {
    pub(super) model: Lv,
    pub(super) hashed_api_key: Lv,
    pub(super) api_key_alias: Lv,
    pub(super) team: Lv,
    pub(super) team_alias: Lv,
    pub(super) requested_model: Lv,
    pub(super) end_user: Lv,
    pub(super) user: Lv,
    pub(super) model_id: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct OverheadLabels {
    pub(super) model_group: Lv,
    pub(super) api_provider: Lv,
    pub(super) api_base: Lv,
    pub(super) litellm_model_name: Lv,
    pub(super) hashed_api_key: Lv,
    pub(super) api_key_alias: Lv,
    pub(super) model_id: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct DeploymentLabels {
    pub(super) litellm_model_name: Lv,
    pub(super) model_id: Lv,
    pub(super) api_base: Lv,
    pub(super) api_provider: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct DeploymentCallLabels {
    pub(super) requested_model: Lv,
    pub(super) litellm_model_name: Lv,
    pub(super) model_id: Lv,
    pub(super) api_base: Lv,
    pub(super) api_provider: Lv,
    pub(super) hashed_api_key: Lv,
    pub(super) api_key_alias: Lv,
    pub(super) team: Lv,
    pub(super) team_alias: Lv,
    pub(super) client_ip: Lv,
    pub(super) user_agent: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct DeploymentFailureLabels {
    pub(super) requested_model: Lv,
    pub(super) litellm_model_name: Lv,
    pub(super) model_id: Lv,
    pub(super) api_base: Lv,
    pub(super) api_provider: Lv,
    pub(super) exception_status: Lv,
    pub(super) exception_class: Lv,
    pub(super) hashed_api_key: Lv,
    pub(super) api_key_alias: Lv,
    pub(super) team: Lv,
    pub(super) team_alias: Lv,
    pub(super) client_ip: Lv,
    pub(super) user_agent: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KeyBudgetLabels {
    pub(super) hashed_api_key: Lv,
    pub(super) api_key_alias: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct TeamBudgetLabels {
    pub(super) team: Lv,
    pub(super) team_alias: Lv,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct CacheLabels {
    pub(super) model: Lv,
    pub(super) hashed_api_key: Lv,
    pub(super) api_key_alias: Lv,
    pub(super) team: Lv,
    pub(super) team_alias: Lv,
    pub(super) end_user: Lv,
    pub(super) user: Lv,
    pub(super) model_id: Lv,
}

/// Builds histograms with LiteLLM's latency buckets.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct LatencyHistogram;

impl MetricConstructor<Histogram> for LatencyHistogram {
    fn new_metric(&self) -> Histogram {
        Histogram::new(LATENCY_BUCKETS)
    }
}

pub(super) type FloatCounter = Counter<f64, AtomicU64>;
pub(super) type FloatGauge = Gauge<f64, AtomicU64>;
pub(super) type Histograms<L> = Family<L, Histogram, LatencyHistogram>;
