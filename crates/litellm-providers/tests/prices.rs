//! The price table: the built-in data, lookup rules (prefixes, base_model, Azure, Bedrock
//! regions, provider checks), LiteLLM-format override files (merge and errors), and the cost
//! arithmetic with cached, cache-creation and reasoning tokens against hand-computed values.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::path::PathBuf;

use litellm_core::usage::{CompletionTokensDetails, PromptTokensDetails};
use litellm_core::Usage;
use litellm_providers::prices::{self, ModelPrice, PriceError, PriceTable, TokenPrices};
use serde_json::json;

fn builtin() -> PriceTable {
    PriceTable::parse(prices::EMBEDDED_TABLE).expect("the built-in table parses")
}

fn input_price(p: Option<&ModelPrice>) -> Option<f64> {
    p.and_then(|p| p.prices.input_cost_per_token)
}

/// Each `(provider, model, base_model, input price)` deployment is priced at that input price.
fn assert_input_prices(t: &PriceTable, cases: &[(&str, &str, Option<&str>, f64)]) {
    for &(provider, model, base_model, price) in cases {
        assert_eq!(
            input_price(t.for_deployment(provider, model, base_model)),
            Some(price),
            "{provider} {model} (base_model {base_model:?})"
        );
    }
}

/// The built-in token prices of a deployment (which must have some).
fn token_prices(provider: &str, model: &str) -> TokenPrices {
    builtin()
        .for_deployment(provider, model, None)
        .unwrap_or_else(|| panic!("no price for {provider} {model}"))
        .prices
}

/// Equal up to float rounding (relative 1e-12).
fn assert_usd(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= expected.abs() * 1e-12,
        "cost {actual} != {expected}"
    );
}

fn usage(prompt: u64, completion: u64, cached: u64, created: u64, reasoning: u64) -> Usage {
    let mut u = Usage::new(prompt, completion);
    u.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(cached),
        cache_creation_tokens: Some(created),
        ..Default::default()
    });
    u.completion_tokens_details = Some(CompletionTokensDetails {
        reasoning_tokens: Some(reasoning),
        ..Default::default()
    });
    u
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("litellm-prices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn builtin_table_covers_every_provider_with_complete_entries() {
    let table = builtin();
    assert!((80..=200).contains(&table.len()), "{} entries", table.len());
    for (key, p) in table.entries() {
        let mode = p.mode.as_deref().unwrap_or_default();
        if mode == "image_generation" {
            // Priced per pixel (DALL·E by size and quality), per image, or per token.
            let prices = &p.prices;
            assert!(
                prices.input_cost_per_pixel.is_some()
                    || prices.output_cost_per_image.is_some()
                    || prices.input_cost_per_token.is_some(),
                "{key}: no image price"
            );
        } else {
            assert!(
                p.prices.input_cost_per_token.is_some(),
                "{key}: no input price"
            );
            assert!(
                p.prices.output_cost_per_token.is_some(),
                "{key}: no output price"
            );
            assert!(p.max_input_tokens.is_some(), "{key}: no context window");
            assert!(
                ["chat", "embedding", "rerank", "moderation"].contains(&mode),
                "{key}: mode {mode:?}"
            );
        }
        assert!(p.litellm_provider.is_some(), "{key}: no provider");
    }
    for provider in [
        "openai",
        "azure",
        "anthropic",
        "gemini",
        "vertex_ai",
        "bedrock",
        "groq",
        "mistral",
        "deepseek",
        "together_ai",
        "fireworks_ai",
        "xai",
        "perplexity",
        "cerebras",
        "cohere",
    ] {
        assert!(
            table.entries().any(|(_, p)| p
                .litellm_provider
                .as_deref()
                .is_some_and(|lp| lp.starts_with(provider))),
            "no entry for {provider}"
        );
    }
    // The _README entry is documentation, not a model.
    assert!(table.get("_README").is_none());
    let readme: serde_json::Value = serde_json::from_str(prices::EMBEDDED_TABLE).unwrap();
    assert!(readme["_README"]["prices_checked"].is_string());
}

#[test]
fn lookup_by_prefix_bare_name_and_provider_key() {
    let t = builtin();
    assert_input_prices(
        &t,
        &[
            // `openai/gpt-4o-mini` -> the bare `gpt-4o-mini` entry; a bare model name works too.
            ("openai", "openai/gpt-4o-mini", None, 1.5e-7),
            ("openai", "gpt-4o-mini", None, 1.5e-7),
            // Exact prefixed keys.
            ("groq", "groq/llama-3.3-70b-versatile", None, 5.9e-7),
            ("groq", "groq/openai/gpt-oss-20b", None, 7.5e-8),
            // An unprefixed model of a provider (custom_llm_provider) finds `provider/model`.
            ("groq", "llama-3.3-70b-versatile", None, 5.9e-7),
            // Anthropic and Cohere by bare name (`cohere` matches `cohere_chat`).
            ("anthropic", "anthropic/claude-sonnet-4-5", None, 3e-6),
            ("cohere", "cohere/command-r-08-2024", None, 1.5e-7),
        ],
    );
    // Gemini API and Vertex AI have their own entries for the same model.
    let gemini = t
        .for_deployment("gemini", "gemini/gemini-2.0-flash", None)
        .unwrap();
    assert_eq!(gemini.litellm_provider.as_deref(), Some("gemini"));
    let vertex = t
        .for_deployment("vertex_ai", "vertex_ai/gemini-2.0-flash", None)
        .unwrap();
    assert_eq!(
        vertex.litellm_provider.as_deref(),
        Some("vertex_ai-language-models")
    );
    assert_eq!(gemini.prices.input_cost_per_token, Some(1e-7));
    assert_eq!(vertex.prices.input_cost_per_token, Some(1.5e-7));
    // An unprefixed Gemini model with custom_llm_provider gemini is not priced as Vertex's.
    assert_eq!(
        t.for_deployment("gemini", "gemini-2.0-flash", None)
            .and_then(|p| p.litellm_provider.as_deref()),
        Some("gemini")
    );
}

#[test]
fn a_bare_name_of_another_provider_is_not_used() {
    let t = builtin();
    // gpt-4o is OpenAI's entry; a groq deployment of that name has no price.
    assert!(t.for_deployment("groq", "groq/gpt-4o", None).is_none());
    assert!(t
        .for_deployment("together_ai", "together_ai/gpt-4o", None)
        .is_none());
    // Unknown models have no price.
    assert!(t
        .for_deployment("openai", "openai/my-finetune", None)
        .is_none());
    assert!(t.for_deployment("mock", "mock/gpt-4o", None).is_none());
}

#[test]
fn bedrock_route_and_region_prefixes_are_stripped() {
    let t = builtin();
    let base = "anthropic.claude-3-5-sonnet-20241022-v2:0";
    for model in [
        format!("bedrock/{base}"),
        format!("bedrock/us.{base}"),
        format!("bedrock/eu.{base}"),
        format!("bedrock/apac.{base}"),
        format!("bedrock/converse/us.{base}"),
        format!("bedrock/invoke/{base}"),
    ] {
        let p = t.for_deployment("bedrock", &model, None);
        assert_eq!(input_price(p), Some(3e-6), "{model}");
        assert_eq!(
            p.unwrap().prices.cache_creation_input_token_cost,
            Some(3.75e-6)
        );
    }
    assert_input_prices(
        &t,
        &[
            // An unprefixed region model with custom_llm_provider bedrock.
            ("bedrock", &format!("us.{base}"), None, 3e-6),
            (
                "bedrock",
                "bedrock/amazon.titan-embed-text-v2:0",
                None,
                2e-8,
            ),
        ],
    );
}

#[test]
fn azure_is_priced_only_through_base_model() {
    let t = builtin();
    // The deployment name is the user's own: even `azure/gpt-4o` is not looked up.
    assert!(t
        .for_deployment("azure", "azure/my-gpt4o-deployment", None)
        .is_none());
    assert!(t.for_deployment("azure", "azure/gpt-4o", None).is_none());
    assert_input_prices(
        &t,
        &[
            // base_model with or without the prefix finds Azure's entry (not OpenAI's).
            ("azure", "azure/prod", Some("azure/gpt-4o-mini"), 1.65e-7),
            ("azure", "azure/prod", Some("gpt-4o-mini"), 1.65e-7),
            // A base_model only OpenAI has is still used (the operator said "price me as this").
            ("azure", "azure/prod", Some("gpt-4o-2024-11-20"), 2.5e-6),
        ],
    );
}

#[test]
fn base_model_wins_over_the_model() {
    assert_input_prices(
        &builtin(),
        &[
            ("openai", "openai/gpt-4o", Some("gpt-4o-mini"), 1.5e-7),
            // An unknown base_model falls back to the model.
            ("openai", "openai/gpt-4o", Some("nope"), 2.5e-6),
        ],
    );
}

#[test]
fn override_file_merges_over_the_builtin_table() {
    let path = temp_file(
        "merge.json",
        &json!({
            "sample_spec": {"max_tokens": "LEGACY parameter", "input_cost_per_token": 0.0},
            "gpt-4o": {"input_cost_per_token": 0.000001, "supports_vision": true},
            "openai/my-finetune": {
                "input_cost_per_token": 0.00002, "output_cost_per_token": 0.00004,
                "max_input_tokens": 4096, "litellm_provider": "openai", "mode": "chat"
            },
            "claude-sonnet-4-5": {"max_input_tokens": null}
        })
        .to_string(),
    );
    let mut t = builtin();
    let before = t.len();
    t.merge_file(&path, "test").unwrap();
    assert_eq!(t.len(), before + 1);
    let gpt4o = t.get("gpt-4o").unwrap();
    // The file's field replaces ours; the fields it does not set are kept.
    assert_eq!(gpt4o.prices.input_cost_per_token, Some(1e-6));
    assert_eq!(gpt4o.prices.output_cost_per_token, Some(1e-5));
    assert_eq!(gpt4o.max_input_tokens, Some(128000));
    assert_eq!(gpt4o.extra.get("supports_vision"), Some(&json!(true)));
    // A null is "not set".
    assert_eq!(
        t.get("claude-sonnet-4-5").unwrap().max_input_tokens,
        Some(200000)
    );
    // The new entry is found like a built-in one.
    let ft = t
        .for_deployment("openai", "openai/my-finetune", None)
        .unwrap();
    assert_eq!(ft.prices.output_cost_per_token, Some(4e-5));
    assert_eq!(ft.context_window(), Some(4096));
}

#[test]
fn load_merges_env_file_then_config_file() {
    let env = temp_file(
        "env.json",
        r#"{"gpt-4o-mini": {"input_cost_per_token": 1, "output_cost_per_token": 2}}"#,
    );
    let cfg = temp_file(
        "cfg.json",
        r#"{"gpt-4o-mini": {"output_cost_per_token": 3}}"#,
    );
    let t = prices::load(Some(&env), Some(&cfg)).unwrap();
    let p = t.get("gpt-4o-mini").unwrap().prices;
    assert_eq!(
        (p.input_cost_per_token, p.output_cost_per_token),
        (Some(1.0), Some(3.0))
    );
    // Without files: the one shared built-in table.
    let a = prices::load(None, None).unwrap();
    let b = prices::load(None, None).unwrap();
    assert!(std::ptr::eq(a, b));
    assert_eq!(a.len(), builtin().len());
}

#[test]
fn bad_files_are_errors_naming_the_file_and_the_problem() {
    let not_json = temp_file("bad.json", "{\"gpt-4o\": {");
    let err = prices::load(None, Some(&not_json)).unwrap_err();
    assert!(matches!(err, PriceError::Invalid { .. }));
    let msg = err.to_string();
    assert!(msg.contains("bad.json"), "{msg}");
    assert!(msg.contains("not valid JSON"), "{msg}");
    assert!(
        msg.contains("litellm_settings.model_cost_map_path"),
        "{msg}"
    );

    let wrong_type = temp_file(
        "wrong.json",
        r#"{"my-model": {"input_cost_per_token": "cheap"}}"#,
    );
    let msg = prices::load(Some(&wrong_type), None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("wrong.json"), "{msg}");
    assert!(msg.contains("LITELLM_MODEL_COST_MAP"), "{msg}");
    assert!(msg.contains("\"my-model\""), "{msg}");
    assert!(msg.contains("input_cost_per_token"), "{msg}");

    let negative = temp_file("neg.json", r#"{"m": {"output_cost_per_token": -1}}"#);
    let msg = prices::load(None, Some(&negative)).unwrap_err().to_string();
    assert!(
        msg.contains("output_cost_per_token must be a non-negative number"),
        "{msg}"
    );

    let array = temp_file("array.json", "[1, 2]");
    let msg = prices::load(None, Some(&array)).unwrap_err().to_string();
    assert!(msg.contains("expected a JSON object"), "{msg}");

    let missing = std::env::temp_dir().join("litellm-prices-does-not-exist.json");
    let err = prices::load(None, Some(&missing)).unwrap_err();
    assert!(matches!(err, PriceError::Read { .. }));
    assert!(err
        .to_string()
        .contains("litellm-prices-does-not-exist.json"));
}

#[test]
fn cost_bills_cached_reads_at_the_cache_price() {
    let p = token_prices("openai", "openai/gpt-4o");
    // 600 uncached × $2.50/M + 400 cached × $1.25/M + 500 out × $10/M
    // = 0.0015 + 0.0005 + 0.005
    assert_usd(p.cost(&usage(1000, 500, 400, 0, 0)), 0.007);
    // The same call without a cache hit.
    assert_usd(p.cost(&Usage::new(1000, 500)), 0.0075);
}

#[test]
fn cost_bills_anthropic_cache_writes_and_reads() {
    let p = token_prices("anthropic", "anthropic/claude-sonnet-4-5-20250929");
    // prompt 10000 = 2000 input + 5000 cache read + 3000 cache write (LiteLLM's count):
    // 2000 × $3/M + 5000 × $0.30/M + 3000 × $3.75/M + 1000 out × $15/M
    // = 0.006 + 0.0015 + 0.01125 + 0.015
    assert_usd(p.cost(&usage(10_000, 1000, 5000, 3000, 0)), 0.03375);
}

#[test]
fn reasoning_tokens_are_inside_completion_tokens_and_never_double_counted() {
    // A model with its own reasoning price: 100 in × $2/M + 400 text out × $8/M
    // + 600 reasoning × $3/M = 0.0002 + 0.0032 + 0.0018
    let deep = token_prices("perplexity", "perplexity/sonar-deep-research");
    assert_usd(deep.cost(&usage(100, 1000, 0, 0, 600)), 0.0052);
    // Without a reasoning price, reasoning tokens are output tokens, counted once:
    // 100 × $1.10/M + 1000 × $4.40/M = 0.00011 + 0.0044
    let o3mini = token_prices("openai", "o3-mini");
    assert_usd(o3mini.cost(&usage(100, 1000, 0, 0, 600)), 0.00451);
    assert_usd(o3mini.cost(&Usage::new(100, 1000)), 0.00451);
}

#[test]
fn embeddings_cost_their_prompt_tokens() {
    let t = builtin();
    let p = t
        .for_deployment("openai", "openai/text-embedding-3-small", None)
        .unwrap();
    assert_eq!(p.mode.as_deref(), Some("embedding"));
    // 1000 × $0.02/M
    assert_usd(p.prices.cost(&Usage::new(1000, 0)), 0.00002);
}

#[test]
fn missing_cache_prices_default_to_the_input_price() {
    let p = TokenPrices {
        input_cost_per_token: Some(1e-6),
        output_cost_per_token: Some(2e-6),
        ..Default::default()
    };
    // 300 prompt (100 read, 50 written) all at the input price + 10 out.
    assert_usd(
        p.cost(&usage(300, 10, 100, 50, 0)),
        300.0 * 1e-6 + 10.0 * 2e-6,
    );
    // Inconsistent counts (more cached than prompt) never bill a token twice.
    assert_usd(
        p.cost(&usage(100, 10, 500, 50, 20)),
        100.0 * 1e-6 + 10.0 * 2e-6,
    );
    assert_eq!(TokenPrices::default().cost(&Usage::new(100, 100)), 0.0);
}

#[test]
fn deployment_overrides_win_field_by_field() {
    let mut extra = litellm_core::JsonMap::new();
    extra.insert("cache_read_input_token_cost".into(), json!(1e-9));
    extra.insert("output_cost_per_reasoning_token".into(), json!("bad"));
    extra.insert("temperature".into(), json!(0.2));
    let own = TokenPrices::from_map(&extra);
    assert_eq!(own.cache_read_input_token_cost, Some(1e-9));
    assert_eq!(own.output_cost_per_reasoning_token, None);
    let table = builtin().get("gpt-4o").unwrap().prices;
    let merged = own.or(table);
    assert_eq!(merged.cache_read_input_token_cost, Some(1e-9));
    assert_eq!(merged.input_cost_per_token, Some(2.5e-6));
    assert_eq!(merged.per_token(), Some(2.5e-6 + 1e-5));
    assert!(TokenPrices::default().is_empty());
}

#[test]
fn family_prices_bill_queries_images_and_pixels() {
    let t = PriceTable::builtin();
    // Per-pixel prices are rounded to 12 digits in the table.
    let assert_usd = |actual: f64, expected: f64| {
        assert!(
            (actual - expected).abs() <= expected * 1e-9,
            "cost {actual} != {expected}"
        );
    };
    // DALL·E 3 is priced per pixel by quality and size, standard when the request names none.
    let hd = t
        .image_entry("openai", "openai/dall-e-3", "1024x1792", Some("hd"))
        .expect("hd entry");
    let units = litellm_core::Units {
        images: 2,
        pixels: 2 * 1024 * 1792,
        ..Default::default()
    };
    assert_usd(hd.prices.unit_cost(&units), 2.0 * 0.12);
    let standard = t
        .image_entry("openai", "dall-e-3", "1024x1024", None)
        .expect("standard entry");
    let one = litellm_core::Units {
        images: 1,
        pixels: 1024 * 1024,
        ..Default::default()
    };
    assert_usd(standard.prices.unit_cost(&one), 0.04);
    let small = t
        .image_entry("openai", "dall-e-2", "256x256", None)
        .expect("dall-e-2 entry");
    assert_usd(
        small.prices.unit_cost(&litellm_core::Units {
            images: 1,
            pixels: 256 * 256,
            ..Default::default()
        }),
        0.016,
    );
    assert!(t.image_entry("openai", "dall-e-3", "7x7", None).is_none());
    // Cohere rerank: per search unit.
    let rerank = t
        .for_deployment("cohere", "cohere/rerank-v3.5", None)
        .expect("rerank entry");
    assert_eq!(rerank.mode.as_deref(), Some("rerank"));
    let queries = litellm_core::Units {
        queries: 3,
        ..Default::default()
    };
    assert_usd(rerank.prices.unit_cost(&queries), 0.006);
    // Per-image prices from a deployment's own keys.
    let mut own = litellm_core::JsonMap::new();
    own.insert("output_cost_per_image".into(), serde_json::json!(0.05));
    own.insert("input_cost_per_query".into(), serde_json::json!(-1));
    let p = TokenPrices::from_map(&own);
    assert_eq!(p.output_cost_per_image, Some(0.05));
    assert_eq!(p.input_cost_per_query, None);
}
