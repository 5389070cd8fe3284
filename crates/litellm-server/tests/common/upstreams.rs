//! Fake upstreams behind a test proxy: the `model_list` entries that route to a fake OpenAI
//! or a fake Anthropic (or to the mock provider), and proxies started over them.

use serde_json::json;

use litellm_test_support::{FakeAnthropic, FakeOpenAi, Scripted};

use super::{config_yaml, Proxy, MASTER};

/// `litellm_params` lines for [`gpt_entry`]: $0.5 per prompt and $1.0 per completion token,
/// no retries.
pub const PRICED_NO_RETRIES: &str =
    "      input_cost_per_token: 0.5\n      output_cost_per_token: 1.0\n      num_retries: 0\n";

/// The `gpt` entry of a `model_list`: `openai/upstream-model` at `api_base` with key
/// `sk-test`, then `params` (further `litellm_params` lines).
pub fn gpt_entry(api_base: &str, params: &str) -> String {
    format!(
        "  - model_name: gpt\n    litellm_params:\n      model: openai/upstream-model\n      \
         api_base: {api_base}\n      api_key: sk-test\n{params}"
    )
}

/// The `claude` entry of a `model_list`: `anthropic/claude-sonnet-4-20250514` at `api_base`
/// with key `sk-ant-test`, no retries.
pub fn claude_entry(api_base: &str) -> String {
    format!(
        "  - model_name: claude\n    litellm_params:\n      \
         model: anthropic/claude-sonnet-4-20250514\n      api_base: {api_base}\n      \
         api_key: sk-ant-test\n      num_retries: 0\n"
    )
}

/// A `model_list` entry `name` served by the mock provider as `mock/{model}`, answering
/// `response` (none when empty), then `params` (further `litellm_params` lines).
pub fn mock_entry(name: &str, model: &str, response: &str, params: &str) -> String {
    let answer = if response.is_empty() {
        String::new()
    } else {
        format!("      mock_response: {response:?}\n")
    };
    format!(
        "  - model_name: {name}\n    litellm_params:\n      model: mock/{model}\n{answer}{params}"
    )
}

/// An OpenAI chat completion `id` (model `upstream-model`) whose one choice says `content`
/// and calls `get_weather` for Paris as tool call `call_id`, with `usage` (prompt and
/// completion tokens).
pub fn weather_tool_call(
    id: &str,
    content: Option<&str>,
    call_id: &str,
    (prompt, completion): (u64, u64),
) -> Scripted {
    Scripted::Json(json!({
        "id": id, "object": "chat.completion", "created": 1, "model": "upstream-model",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
            "content": content, "tool_calls": [{"id": call_id, "type": "function",
            "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion}
    }))
}

/// A fake OpenAI and a proxy (master key [`MASTER`]) whose only model is [`gpt_entry`] on
/// it, with `params`.
pub async fn openai_proxy(params: &str) -> (FakeOpenAi, Proxy) {
    let openai = FakeOpenAi::start().await;
    let models = gpt_entry(&openai.base_url(), params);
    let proxy = Proxy::new(&config_yaml(&models, "", MASTER)).await;
    (openai, proxy)
}

/// A fake OpenAI, a fake Anthropic and a proxy over both.
pub struct Upstreams {
    pub openai: FakeOpenAi,
    pub anthropic: FakeAnthropic,
    pub proxy: Proxy,
}

impl Upstreams {
    /// Both fakes and a proxy (master key [`MASTER`]) whose `model_list` is `first` (entries
    /// that need no upstream), then `gpt` on the fake OpenAI ([`PRICED_NO_RETRIES`]) and
    /// `claude` on the fake Anthropic.
    pub async fn start(first: &str) -> Upstreams {
        let openai = FakeOpenAi::start().await;
        let anthropic = FakeAnthropic::start().await;
        let models = format!(
            "{first}{}{}",
            gpt_entry(&openai.base_url(), PRICED_NO_RETRIES),
            claude_entry(&anthropic.base_url())
        );
        let proxy = Proxy::new(&config_yaml(&models, "", MASTER)).await;
        Upstreams {
            openai,
            anthropic,
            proxy,
        }
    }
}
