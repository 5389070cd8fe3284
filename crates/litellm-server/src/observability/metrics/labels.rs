//! The label sets of every metric family: field names and order are LiteLLM's
//! (`PrometheusMetricLabels`), so dashboards keep working.

#[allow(unused_imports)]
use super::*;

/// The labels a call has beyond its request's and its deployment's.
#[derive(Clone, Debug, Default)]
pub(super) struct CallLabels {
    pub(super) status_code: Lv,
    pub(super) exception_status: Lv,
    pub(super) exception_class: Lv,
    pub(super) model_group: Lv,
}

/// The value of every label of the one series a family's overflow goes to.
pub(super) const OVERFLOW: &str = "other";

/// A label set with an overflow series: where a family's calls go once it holds its most
/// series (see `Metrics::series`).
pub(super) trait Overflow {
    fn overflow() -> Self;
}

/// Declares a label set, its fields in LiteLLM's order (`PrometheusMetricLabels`, so dashboards
/// keep working), and `of`, which takes each label from the request's labels (`req`), the
/// deployment's (`dep`) or the call's own (`call`).
macro_rules! label_set {
    (@take req, $field:ident, $req:ident, $dep:ident, $call:ident) => { $req.$field.clone() };
    (@take dep, $field:ident, $req:ident, $dep:ident, $call:ident) => { $dep.$field.clone() };
    (@take call, $field:ident, $req:ident, $dep:ident, $call:ident) => { $call.$field.clone() };
    ($(#[$m:meta])* $name:ident { $($field:ident: $src:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
        pub(super) struct $name {
            $(pub(super) $field: Lv,)*
        }

        impl $name {
            #[allow(unused_variables)] // Reason: a set may take nothing from one of the sources.
            pub(super) fn of(req: &RequestLabels, dep: &DeploymentInfo, call: &CallLabels) -> Self {
                $name { $($field: label_set!(@take $src, $field, req, dep, call),)* }
            }
        }

        impl Overflow for $name {
            fn overflow() -> Self {
                $name { $($field: Lv::new(OVERFLOW),)* }
            }
        }
    };
}

label_set! {
    ProxyRequestLabels {
        end_user: req, hashed_api_key: req, api_key_alias: req, requested_model: req,
        team: req, team_alias: req, user: req, status_code: call, user_email: req, route: req,
        client_ip: req, user_agent: req, model_id: req
    }
}

label_set! {
    ProxyFailedLabels {
        end_user: req, hashed_api_key: req, api_key_alias: req, requested_model: req,
        team: req, team_alias: req, user: req, user_email: req, exception_status: call,
        exception_class: call, route: req, client_ip: req, user_agent: req, model_id: req
    }
}

label_set! {
    /// `litellm_requests_metric` and `litellm_spend_metric`.
    RequestsLabels {
        end_user: req, hashed_api_key: req, api_key_alias: req, model: dep, team: req,
        team_alias: req, user: req, user_email: req, client_ip: req, user_agent: req,
        model_id: dep, api_provider: dep
    }
}

label_set! {
    /// The three token counters.
    TokenLabels {
        end_user: req, hashed_api_key: req, api_key_alias: req, model: dep, team: req,
        team_alias: req, user: req, user_email: req, requested_model: req, model_id: dep
    }
}

label_set! {
    TotalLatencyLabels {
        end_user: req, hashed_api_key: req, api_key_alias: req, requested_model: req,
        team: req, team_alias: req, user: req, model: dep, model_id: dep
    }
}

label_set! {
    /// `litellm_llm_api_latency_metric` and `litellm_llm_api_time_to_first_token_metric`.
    ApiLatencyLabels {
        model: dep, hashed_api_key: req, api_key_alias: req, team: req, team_alias: req,
        requested_model: req, end_user: req, user: req, model_id: dep
    }
}

label_set! {
    OverheadLabels {
        model_group: call, api_provider: dep, api_base: dep, litellm_model_name: dep,
        hashed_api_key: req, api_key_alias: req, model_id: dep
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct DeploymentLabels {
    pub(super) litellm_model_name: Lv,
    pub(super) model_id: Lv,
    pub(super) api_base: Lv,
    pub(super) api_provider: Lv,
}

label_set! {
    DeploymentCallLabels {
        requested_model: req, litellm_model_name: dep, model_id: dep, api_base: dep,
        api_provider: dep, hashed_api_key: req, api_key_alias: req, team: req, team_alias: req,
        client_ip: req, user_agent: req
    }
}

label_set! {
    DeploymentFailureLabels {
        requested_model: req, litellm_model_name: dep, model_id: dep, api_base: dep,
        api_provider: dep, exception_status: call, exception_class: call, hashed_api_key: req,
        api_key_alias: req, team: req, team_alias: req, client_ip: req, user_agent: req
    }
}

label_set! {
    KeyBudgetLabels {
        hashed_api_key: req, api_key_alias: req
    }
}

label_set! {
    TeamBudgetLabels {
        team: req, team_alias: req
    }
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

impl Overflow for CacheLabels {
    fn overflow() -> Self {
        let other = Lv::new(OVERFLOW);
        CacheLabels {
            model: other.clone(),
            hashed_api_key: other.clone(),
            api_key_alias: other.clone(),
            team: other.clone(),
            team_alias: other.clone(),
            end_user: other.clone(),
            user: other.clone(),
            model_id: other,
        }
    }
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
