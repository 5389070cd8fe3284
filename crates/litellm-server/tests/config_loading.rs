//! Tests of config.yaml loading: `os.environ/` resolution, path-aware errors, warnings for keys
//! we do not act on, the router/litellm settings merge, the master key rules, validation, and
//! that every shipped config file loads.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::collections::HashMap;
use std::path::PathBuf;

use secrecy::ExposeSecret;

use litellm_server::config::{parse_config_with_env, redact_url_password};
use litellm_server::{load_config, parse_config, ConfigError, LoadedConfig, ProxyConfig};

/// Parses with a fake process environment (the real one is shared by parallel tests).
fn parse_env(yaml: &str, vars: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    parse_config_with_env(yaml, &|name| vars.get(name).cloned())
}

fn parse_ok(yaml: &str) -> LoadedConfig {
    parse_env(yaml, &[]).unwrap_or_else(|e| panic!("config should load: {e}"))
}

fn parse_err(yaml: &str) -> String {
    match parse_env(yaml, &[]) {
        Ok(_) => panic!("config should not load:\n{yaml}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts that each `(yaml, error)` fails to load with exactly `error`.
fn assert_parse_errors(cases: &[(&str, &str)]) {
    for &(yaml, error) in cases {
        assert_eq!(parse_err(yaml), error, "{yaml}");
    }
}

/// The loaded master key (which must be set).
fn master_key(loaded: &LoadedConfig) -> &str {
    loaded
        .config
        .general_settings
        .master_key
        .as_ref()
        .unwrap()
        .expose_secret()
}

fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

const ONE_MODEL: &str =
    "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n";

// ---- os.environ/ resolution ----

#[test]
fn os_environ_reads_the_environment_variables_section_before_the_process_env() {
    let yaml = "\
environment_variables:
  OPENAI_API_KEY: sk-from-section
  ORG: 1234
model_list:
  - model_name: a
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      organization: os.environ/ORG
      api_base: os.environ/BASE
";
    let loaded = parse_env(
        yaml,
        &[
            ("OPENAI_API_KEY", "sk-from-process"),
            ("BASE", "http://127.0.0.1:9/v1"),
        ],
    )
    .unwrap();
    let p = &loaded.config.model_list[0].litellm_params.provider;
    assert_eq!(
        p.api_key.as_ref().unwrap().expose_secret(),
        "sk-from-section"
    );
    assert_eq!(p.organization.as_deref(), Some("1234"));
    assert_eq!(p.api_base.as_deref(), Some("http://127.0.0.1:9/v1"));
    assert_eq!(
        loaded
            .config
            .environment_variables
            .get("ORG")
            .map(String::as_str),
        Some("1234")
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn a_missing_variable_warns_with_its_path_and_the_value_is_absent() {
    let yaml = "\
model_list:
  - model_name: a
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY_NOT_SET
";
    let loaded = parse_ok(yaml);
    assert_eq!(
        loaded.warnings,
        vec![
            "model_list[0].litellm_params.api_key: environment variable OPENAI_API_KEY_NOT_SET \
             is not set"
                .to_string()
        ]
    );
    let p = &loaded.config.model_list[0].litellm_params.provider;
    assert!(p.api_key.is_none());
    assert!(!p.extra.contains_key("api_key"));
}

#[test]
fn os_environ_resolves_at_any_depth_including_lists() {
    let yaml = "\
model_list:
  - model_name: a
    litellm_params:
      model: openai/gpt-4o
      extra_headers:
        X-Team: os.environ/TEAM
      stop: [os.environ/STOP_A, os.environ/STOP_MISSING, literal]
";
    let loaded = parse_env(yaml, &[("TEAM", "blue"), ("STOP_A", "END")]).unwrap();
    let p = &loaded.config.model_list[0].litellm_params.provider;
    assert_eq!(p.extra_headers.as_ref().unwrap()["X-Team"], "blue");
    assert_eq!(p.extra["stop"], serde_json::json!(["END", "literal"]));
    assert_eq!(
        loaded.warnings,
        vec![
            "model_list[0].litellm_params.stop[1]: environment variable STOP_MISSING is not set"
                .to_string()
        ]
    );
}

#[test]
fn numbers_from_the_environment_fill_numeric_fields() {
    let yaml = "\
model_list:
  - model_name: a
    litellm_params:
      model: openai/gpt-4o
      rpm: os.environ/RPM
router_settings:
  num_retries: os.environ/RETRIES
";
    let loaded = parse_env(yaml, &[("RPM", "120"), ("RETRIES", "4")]).unwrap();
    assert_eq!(loaded.config.model_list[0].litellm_params.rpm, Some(120));
    assert_eq!(loaded.config.router_settings.num_retries, 4);
}

#[test]
fn a_bad_value_from_the_environment_is_reported_without_the_value() {
    let yaml = "router_settings:\n  timeout: os.environ/SECRET_TIMEOUT\n";
    let err = parse_env(yaml, &[("SECRET_TIMEOUT", "very-secret-value-42")])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("router_settings.timeout: invalid type"),
        "{err}"
    );
    assert!(!err.contains("very-secret-value-42"), "{err}");
}

#[test]
fn a_literal_secret_of_the_wrong_type_is_not_echoed() {
    let yaml = "general_settings:\n  master_key: [sk-in-a-list-123456]\n";
    let err = parse_err(yaml);
    assert!(err.starts_with("general_settings.master_key: "), "{err}");
    assert!(!err.contains("sk-in-a-list-123456"), "{err}");
}

// ---- path-aware errors ----

#[test]
fn a_missing_model_names_the_full_path() {
    let yaml = "\
model_list:
  - model_name: a
    litellm_params: {model: openai/a}
  - model_name: b
    litellm_params: {model: openai/b}
  - model_name: c
    litellm_params:
      api_base: http://localhost:8000
";
    assert_eq!(
        parse_err(yaml),
        "model_list[2].litellm_params.model: missing field `model`"
    );
}

#[test]
fn a_wrong_type_names_the_path_and_the_expected_type() {
    assert_parse_errors(&[
        (
            "router_settings:\n  num_retries: x\n",
            "router_settings.num_retries: invalid type: string \"x\", expected u32",
        ),
        (
            "model_list:\n  - litellm_params: {model: openai/x}\n",
            "model_list[0].model_name: missing field `model_name`",
        ),
        (
            "model_list:\n  gpt: {}\n",
            "model_list: invalid type: map, expected a sequence",
        ),
    ]);
    let err = parse_err("model_list:\n  - model_name: x\n    litellm_params:\n      rpm: fast\n");
    assert!(
        err.starts_with("model_list[0].litellm_params.rpm: invalid type: string \"fast\""),
        "{err}"
    );
}

#[test]
fn yaml_syntax_errors_carry_line_and_column() {
    let err = parse_err("model_list:\n  - model_name: a\n   litellm_params: [\n");
    assert!(err.starts_with("invalid YAML: "), "{err}");
    assert!(err.contains("line"), "{err}");
    assert!(err.contains("column"), "{err}");
}

#[test]
fn a_top_level_that_is_not_a_mapping_is_an_error() {
    assert_eq!(
        parse_err("- a\n- b\n"),
        "config: expected a mapping of sections (model_list, router_settings, \
         litellm_settings, general_settings, ...), found a list"
    );
}

#[test]
fn load_config_names_the_file() {
    let dir = std::env::temp_dir().join(format!("litellm-rs-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "router_settings:\n  num_retries: x\n").unwrap();
    let err = load_config(&file).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: router_settings.num_retries: invalid type: string \"x\", expected u32",
            file.display()
        )
    );
    let missing = dir.join("missing.yaml");
    let err = load_config(&missing).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("cannot read config file {}: ", missing.display())),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_empty_file_or_null_model_list_is_a_config_without_models() {
    for yaml in [
        "",
        "# only a comment\n",
        "model_list:\n",
        "model_list: null\n",
    ] {
        let loaded = parse_ok(yaml);
        assert!(loaded.config.model_list.is_empty(), "{yaml:?}");
        assert!(
            loaded.warnings.is_empty(),
            "{yaml:?}: {:?}",
            loaded.warnings
        );
        assert_eq!(loaded.config.router_settings.num_retries, 2);
    }
}

// ---- warnings for keys we do not act on ----

#[test]
fn unknown_and_unsupported_keys_are_warnings_naming_their_path() {
    let yaml = "\
model_list:
  - model_name: a
    litellm_params:
      model: openai/gpt-4o
      temperature: 0.2
    model_info:
      supports_vision: true
router_settings:
  routing_strategy: latency-based-routing
  routing_strategy_args: {ttl: 10}
  redis_host: localhost
  provider_budget_config: {}
litellm_settings:
  success_callback: [langfuse]
  cache: true
  cache_params: {type: local, similarity_threshold: 0.8}
general_settings:
  alerting: [slack]
guardrails:
  - guardrail_name: g
    litellm_params: {guardrail: aporia, mode: pre_call}
  - guardrail_name: h
mcp_servers:
  x: {url: http://localhost}
model_lists: []
";
    let loaded = parse_ok(yaml);
    let expected = [
        "router_settings.provider_budget_config: not supported yet; ignored",
        "litellm_settings.success_callback: callback `langfuse` not supported yet; ignored",
        "litellm_settings.cache_params.similarity_threshold: not supported yet; ignored",
        "general_settings.alerting: not supported yet; ignored",
        "guardrails: section not supported yet; ignored",
        "mcp_servers: section not supported yet; ignored",
        "model_lists: unknown section (not a LiteLLM config section); ignored",
    ];
    for w in expected {
        assert!(
            loaded.warnings.iter().any(|x| x == w),
            "missing warning {w:?} in {:#?}",
            loaded.warnings
        );
    }
    assert_eq!(
        loaded.warnings.len(),
        expected.len(),
        "{:#?}",
        loaded.warnings
    );
    // Extra litellm_params are forwarded to the provider, not warned about.
    let d = &loaded.config.model_list[0];
    assert_eq!(d.litellm_params.provider.extra["temperature"], 0.2);
    assert_eq!(d.model_info.extra["supports_vision"], true);
}

#[test]
fn a_missing_variable_under_an_ignored_key_is_reported_as_ignored_only() {
    let yaml = "\
model_list:
  - model_name: a
    litellm_params:
      model: bedrock/anthropic.claude
      aws_secret_access_key: os.environ/AWS_SECRET_NOT_SET
router_settings:
  provider_budget_config: os.environ/BUDGET_CONFIG_NOT_SET
  num_retries: 1
credential_list:
  - credential_name: c
    credential_values:
      api_key: os.environ/CREDENTIAL_KEY_NOT_SET
";
    let loaded = parse_ok(yaml);
    assert_eq!(
        loaded.warnings,
        vec![
            // Forwarded to the provider, so the missing variable matters.
            "model_list[0].litellm_params.aws_secret_access_key: environment variable \
             AWS_SECRET_NOT_SET is not set"
                .to_string(),
            "router_settings.provider_budget_config: not supported yet; ignored".to_string(),
            "credential_list: section not supported yet; ignored".to_string(),
        ]
    );
}

// ---- settings precedence ----

#[test]
fn litellm_settings_fill_router_settings_that_are_not_written() {
    let loaded = parse_ok("litellm_settings:\n  num_retries: 5\n  request_timeout: 30\n");
    assert_eq!(loaded.config.router_settings.num_retries, 5);
    assert_eq!(loaded.config.router_settings.timeout, 30.0);
    assert_eq!(loaded.config.litellm_settings.num_retries, Some(5));
}

#[test]
fn router_settings_win_over_litellm_settings_even_at_default_values() {
    let yaml = "\
litellm_settings:
  num_retries: 5
  request_timeout: 30
router_settings:
  num_retries: 2
  timeout: 600
";
    let loaded = parse_ok(yaml);
    assert_eq!(loaded.config.router_settings.num_retries, 2);
    assert_eq!(loaded.config.router_settings.timeout, 600.0);
}

#[test]
fn without_either_setting_the_router_defaults_apply() {
    let loaded = parse_ok(ONE_MODEL);
    assert_eq!(loaded.config.router_settings.num_retries, 2);
    assert_eq!(loaded.config.router_settings.timeout, 600.0);
    assert_eq!(
        loaded.config.router_settings.routing_strategy,
        "simple-shuffle"
    );
}

#[test]
fn a_non_positive_timeout_is_an_error() {
    assert_parse_errors(&[
        (
            "litellm_settings:\n  request_timeout: 0\n",
            "litellm_settings.request_timeout: must be a positive number of seconds",
        ),
        (
            "router_settings:\n  timeout: -1\n",
            "router_settings.timeout: must be a positive number of seconds",
        ),
    ]);
}

#[test]
fn global_drop_params_applies_to_deployments_that_do_not_set_it() {
    let yaml = "\
litellm_settings:
  drop_params: true
model_list:
  - model_name: a
    litellm_params: {model: openai/a}
  - model_name: b
    litellm_params: {model: openai/b, drop_params: false}
";
    let loaded = parse_ok(yaml);
    let drops: Vec<_> = loaded
        .config
        .model_list
        .iter()
        .map(|d| d.litellm_params.provider.drop_params)
        .collect();
    assert_eq!(drops, vec![Some(true), Some(false)]);
}

// ---- general settings and the master key ----

#[test]
fn a_master_key_must_start_with_sk() {
    let err = parse_err("general_settings:\n  master_key: my-admin-password\n");
    assert_eq!(
        err,
        "general_settings.master_key: the master key must start with `sk-` (LiteLLM rule)"
    );
    assert!(!err.contains("my-admin-password"));
}

#[test]
fn the_published_example_key_is_accepted_with_a_loud_warning() {
    let loaded = parse_ok("general_settings:\n  master_key: sk-1234\n");
    assert_eq!(master_key(&loaded), "sk-1234");
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0].starts_with("general_settings.master_key: `sk-1234`"));
    assert!(loaded.warnings[0].contains("publicly known"));
}

#[test]
fn the_master_key_falls_back_to_the_environment() {
    let from_env = parse_env("", &[("LITELLM_MASTER_KEY", "sk-from-env-0001")]).unwrap();
    assert_eq!(master_key(&from_env), "sk-from-env-0001");
    // An empty key in the file counts as unset.
    let empty = parse_env(
        "general_settings:\n  master_key: \"\"\n",
        &[("LITELLM_MASTER_KEY", "sk-from-env-0002")],
    )
    .unwrap();
    assert_eq!(master_key(&empty), "sk-from-env-0002");
    // The file wins over the environment.
    let file = parse_env(
        "general_settings:\n  master_key: sk-from-file-0003\n",
        &[("LITELLM_MASTER_KEY", "sk-from-env-0003")],
    )
    .unwrap();
    assert_eq!(master_key(&file), "sk-from-file-0003");
    let bad = parse_env("", &[("LITELLM_MASTER_KEY", "not-an-sk-key")])
        .unwrap_err()
        .to_string();
    assert_eq!(
        bad,
        "LITELLM_MASTER_KEY: the master key must start with `sk-` (LiteLLM rule)"
    );
    let none = parse_env("general_settings:\n  master_key: \"\"\n", &[]).unwrap();
    assert!(none.config.general_settings.master_key.is_none());
}

#[test]
fn general_settings_are_read_with_environment_fallbacks() {
    let yaml = "\
general_settings:
  max_request_size_mb: 2.5
  proxy_batch_write_at: 3
  disable_spend_logs: true
  always_include_stream_usage: true
  litellm_key_header_name: X-Litellm-Key
";
    let loaded = parse_env(yaml, &[("DATABASE_URL", "postgresql://u:p@db:5432/x")]).unwrap();
    let g = &loaded.config.general_settings;
    assert_eq!(g.max_request_size_mb, Some(2.5));
    assert_eq!(g.proxy_batch_write_at, Some(3.0));
    assert!(g.disable_spend_logs && g.always_include_stream_usage);
    assert_eq!(g.litellm_key_header_name.as_deref(), Some("X-Litellm-Key"));
    assert_eq!(
        g.database_url.as_deref(),
        Some("postgresql://u:p@db:5432/x")
    );
    assert!(g.master_key.is_none());

    let file = parse_env(
        "general_settings:\n  database_url: sqlite://spend.db\n",
        &[("DATABASE_URL", "postgresql://u:p@db:5432/x")],
    )
    .unwrap();
    assert_eq!(
        file.config.general_settings.database_url.as_deref(),
        Some("sqlite://spend.db")
    );
    assert!(parse_ok("").config.general_settings.database_url.is_none());
    assert_eq!(
        parse_err("general_settings:\n  max_request_size_mb: 0\n"),
        "general_settings.max_request_size_mb: must be a positive number"
    );
}

#[test]
fn debug_output_never_shows_secrets() {
    let yaml = "\
environment_variables:
  ANTHROPIC_API_KEY: sk-ant-secret-in-section
model_list:
  - model_name: a
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-upstream-secret-0042
general_settings:
  master_key: sk-master-secret-0042
  database_url: postgresql://admin:db-password-0042@db:5432/litellm
";
    let debug = format!("{:?}", parse_ok(yaml).config);
    for secret in [
        "sk-ant-secret-in-section",
        "sk-upstream-secret-0042",
        "sk-master-secret-0042",
        "db-password-0042",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked in {debug}");
    }
    assert!(debug.contains("ANTHROPIC_API_KEY"));
    assert!(debug.contains("postgresql://admin:***@db:5432/litellm"));
}

#[test]
fn url_passwords_are_masked() {
    assert_eq!(
        redact_url_password("postgres://u:pw@h:1/db"),
        "postgres://u:***@h:1/db"
    );
    assert_eq!(redact_url_password("sqlite://x.db"), "sqlite://x.db");
    assert_eq!(
        redact_url_password("redis://user@h:6379"),
        "redis://user@h:6379"
    );
}

// ---- validation ----

#[test]
fn empty_names_are_errors() {
    assert_eq!(
        parse_err("model_list:\n  - model_name: \"\"\n    litellm_params: {model: openai/x}\n"),
        "model_list[0].model_name: must not be empty"
    );
    let err = parse_err("model_list:\n  - model_name: a\n    litellm_params: {model: \" \"}\n");
    assert!(
        err.starts_with("model_list[0].litellm_params.model: must not be empty"),
        "{err}"
    );
}

#[test]
fn duplicate_deployment_ids_name_both_paths() {
    let yaml = "\
model_list:
  - model_name: a
    litellm_params: {model: openai/a}
    model_info: {id: dep-1}
  - model_name: b
    litellm_params: {model: openai/b}
    model_info: {id: dep-2}
  - model_name: c
    litellm_params: {model: openai/c}
    model_info: {id: dep-1}
";
    assert_eq!(
        parse_err(yaml),
        "model_list[2].model_info.id: duplicate deployment id `dep-1` (also used by \
         model_list[0].model_info.id); ids must be unique"
    );
}

#[test]
fn aliases_must_point_at_a_model_group() {
    let ok = parse_ok(&format!(
        "{ONE_MODEL}router_settings:\n  model_group_alias:\n    gpt-4: gpt-4o\n    hidden: {{model: gpt-4o, hidden: true}}\n"
    ));
    assert_eq!(ok.config.router_settings.model_group_alias.len(), 2);
    assert_eq!(
        parse_err(&format!(
            "{ONE_MODEL}router_settings:\n  model_group_alias:\n    gpt-4: gpt-5\n"
        )),
        "router_settings.model_group_alias.gpt-4: no model group named `gpt-5` in model_list"
    );
}

#[test]
fn single_model_mode_names_the_group_after_the_model() {
    let config = ProxyConfig::single_model("openai/gpt-4o", Some("http://127.0.0.1:8000/v1"));
    assert_eq!(config.model_list.len(), 1);
    let d = &config.model_list[0];
    assert_eq!(d.model_name, "openai/gpt-4o");
    assert_eq!(d.litellm_params.provider.model, "openai/gpt-4o");
    assert_eq!(
        d.litellm_params.provider.api_base.as_deref(),
        Some("http://127.0.0.1:8000/v1")
    );
    assert!(config.general_settings.master_key.is_none());
    let bare = ProxyConfig::single_model("mock/x", None);
    assert!(bare.model_list[0]
        .litellm_params
        .provider
        .api_base
        .is_none());
}

#[test]
fn yaml_anchors_and_merge_keys_work() {
    let yaml = "\
common: &common
  api_base: http://127.0.0.1:8000/v1
  rpm: 10
model_list:
  - model_name: a
    litellm_params:
      <<: *common
      model: openai/a
";
    let loaded = parse_ok(yaml);
    let d = &loaded.config.model_list[0];
    assert_eq!(
        d.litellm_params.provider.api_base.as_deref(),
        Some("http://127.0.0.1:8000/v1")
    );
    assert_eq!(d.litellm_params.rpm, Some(10));
}

// ---- the shipped config files ----

#[test]
fn every_shipped_config_loads_without_errors() {
    let mut files = vec![config_dir().join("quickstart.yaml")];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(config_dir().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    examples.sort();
    assert!(
        examples.len() >= 4,
        "expected several examples: {examples:?}"
    );
    files.extend(examples);
    for file in files {
        // The process environment may or may not hold the provider keys: load through
        // `load_config` so the real path handling is exercised.
        let loaded = load_config(&file).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !loaded.config.model_list.is_empty(),
            "{} has no models",
            file.display()
        );
    }
}

#[test]
fn the_quickstart_needs_no_key_and_has_the_documented_groups() {
    let text = std::fs::read_to_string(config_dir().join("quickstart.yaml")).unwrap();
    let loaded = parse_ok(&text);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let groups: Vec<(&str, &str)> = loaded
        .config
        .model_list
        .iter()
        .map(|d| {
            (
                d.model_name.as_str(),
                d.litellm_params.provider.model.as_str(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            ("mock-gpt", "mock/gpt-4o"),
            ("echo", "mock/echo"),
            ("mock-embedding", "mock/text-embedding-3-small"),
        ]
    );
    let mock = &loaded.config.model_list[0].litellm_params.provider;
    assert!(mock
        .mock_response
        .as_deref()
        .unwrap()
        .contains("litellm-rs"));
    assert!(loaded.config.model_list[1]
        .litellm_params
        .provider
        .mock_response
        .is_none());
    assert_eq!(
        loaded.config.model_list[2].model_info.mode.as_deref(),
        Some("embedding")
    );
    assert!(loaded.config.general_settings.master_key.is_none());
    assert!(loaded
        .config
        .model_list
        .iter()
        .all(|d| d.litellm_params.provider.api_key.is_none()));
}

#[test]
fn parse_config_reads_the_process_environment() {
    // PATH is set in every test environment; nothing in this crate's tests changes it.
    let path = std::env::var("PATH").unwrap();
    let loaded = parse_config(
        "model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      organization: os.environ/PATH\n",
    )
    .unwrap();
    assert_eq!(
        loaded.config.model_list[0]
            .litellm_params
            .provider
            .organization
            .as_deref(),
        Some(path.as_str())
    );
}

#[test]
fn router_settings_name_the_strategy_redis_and_litellm_settings_fallbacks() {
    let yaml = "\
model_list:
  - model_name: a
    litellm_params: {model: mock/a}
  - model_name: b
    litellm_params: {model: mock/b}
router_settings:
  routing_strategy: usage-based-routing-v2
  retry_policy: {RateLimitErrorRetries: 1}
litellm_settings:
  fallbacks: [{a: [b]}]
  context_window_fallbacks: [{a: [b]}]
";
    let env = |k: &str| match k {
        "REDIS_HOST" => Some("127.0.0.1".to_string()),
        "REDIS_PORT" => Some("6380".to_string()),
        "REDIS_PASSWORD" => Some("p@ss".to_string()),
        _ => None,
    };
    let loaded = litellm_server::config::parse_config_with_env(yaml, &env).unwrap();
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    let r = &loaded.config.router_settings;
    assert_eq!(r.fallbacks[0]["a"], vec!["b".to_string()]);
    assert_eq!(r.context_window_fallbacks[0]["a"], vec!["b".to_string()]);
    assert_eq!(r.retry_policy["RateLimitErrorRetries"], 1);
    assert_eq!(
        r.redis_connection_url().as_deref(),
        Some("redis://:p%40ss@127.0.0.1:6380")
    );
    assert!(!format!("{:?}", loaded.config).contains("p@ss"));

    let bad = "router_settings:\n  routing_strategy: fastest\n";
    let err = litellm_server::config::parse_config_with_env(bad, &|_| None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("router_settings.routing_strategy"), "{err}");
    assert!(err.contains("fastest"), "{err}");
}
