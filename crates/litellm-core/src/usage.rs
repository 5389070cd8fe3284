//! Canonical token usage, in OpenAI's shape, with cached-read, cache-creation and reasoning
//! token details. Every provider adapter converts its own usage into this one type, and the
//! spend ledger bills from it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{wire_struct, JsonMap};

wire_struct! {
    /// Token counts for one call. `prompt_tokens` includes cached tokens, as OpenAI counts them.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct Usage {
        #[serde(default)]
        pub prompt_tokens: u64,
        #[serde(default)]
        pub completion_tokens: u64,
        #[serde(default)]
        pub total_tokens: u64,
        pub prompt_tokens_details?: PromptTokensDetails,
        pub completion_tokens_details?: CompletionTokensDetails,
        /// Fields we do not model (provider extras such as `cache_read_input_tokens`), forwarded.
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

wire_struct! {
    /// Breakdown of the prompt side.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct PromptTokensDetails {
        /// Tokens read from the provider's prompt cache.
        pub cached_tokens?: u64,
        /// Tokens written to the provider's prompt cache (Anthropic cache creation).
        pub cache_creation_tokens?: u64,
        pub audio_tokens?: u64,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

wire_struct! {
    /// Breakdown of the completion side.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct CompletionTokensDetails {
        pub reasoning_tokens?: u64,
        pub audio_tokens?: u64,
        pub accepted_prediction_tokens?: u64,
        pub rejected_prediction_tokens?: u64,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

impl Usage {
    /// A usage with only the three totals set; `total_tokens` is their sum.
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens.saturating_add(completion_tokens),
            ..Default::default()
        }
    }

    /// Tokens served from the provider's prompt cache, 0 when not reported.
    pub fn cached_tokens(&self) -> u64 {
        self.prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .unwrap_or(0)
    }

    /// Tokens written to the provider's prompt cache, 0 when not reported.
    pub fn cache_creation_tokens(&self) -> u64 {
        self.prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cache_creation_tokens)
            .unwrap_or(0)
    }

    /// Reasoning tokens (part of `completion_tokens`), 0 when not reported.
    pub fn reasoning_tokens(&self) -> u64 {
        self.completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0)
    }
}
