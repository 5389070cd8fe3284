//! Unit tests of the command line: flag spellings, the config source rules, log levels, and
//! the `check` report.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::path::{Path, PathBuf};

use super::*;

fn parse(args: &[&str]) -> Cli {
    let mut full = vec!["litellm-rs"];
    full.extend_from_slice(args);
    parse_args(full)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
        .0
}

fn parse_fails(args: &[&str]) -> clap::Error {
    let mut full = vec!["litellm-rs"];
    full.extend_from_slice(args);
    match parse_args(full) {
        Ok((cli, _)) => panic!("{args:?} should not parse: {cli:?}"),
        Err(e) => e,
    }
}

#[test]
fn proxy_flags_parse() {
    let cli = parse(&[
        "--config",
        "c.yaml",
        "--host",
        "0.0.0.0",
        "--port",
        "8080",
        "--detailed_debug",
        "--json-logs",
    ]);
    assert!(cli.command.is_none());
    assert_eq!(cli.config, Some(PathBuf::from("c.yaml")));
    assert_eq!(cli.host.as_deref(), Some("0.0.0.0"));
    assert_eq!(cli.port, 8080);
    assert!(cli.detailed_debug);
    assert!(cli.json_logs);
}

#[test]
fn litellm_spellings_are_accepted() {
    let cli = parse(&[
        "--detailed-debug",
        "--json_logs",
        "--num_workers",
        "4",
        "--debug",
    ]);
    assert!(cli.detailed_debug && cli.json_logs && cli.debug);
    assert_eq!(cli.num_workers, Some(4));
    assert_eq!(parse(&["--num-workers", "2"]).num_workers, Some(2));
    let cli = parse(&[
        "--model",
        "openai/gpt-4o",
        "--api_base",
        "http://127.0.0.1:9/v1",
    ]);
    assert_eq!(cli.model.as_deref(), Some("openai/gpt-4o"));
    assert_eq!(cli.api_base.as_deref(), Some("http://127.0.0.1:9/v1"));
    let cli = parse(&[
        "-m",
        "mock/x",
        "--api-base",
        "http://h/v1",
        "-c",
        "f.yaml",
        "-p",
        "1",
    ]);
    assert_eq!(cli.api_base.as_deref(), Some("http://h/v1"));
    assert_eq!(cli.config, Some(PathBuf::from("f.yaml")));
    assert_eq!(cli.port, 1);
}

#[test]
fn the_default_port_is_4000() {
    // The PORT environment variable overrides the default, as in LiteLLM.
    if std::env::var_os("PORT").is_none() {
        assert_eq!(parse(&[]).port, 4000);
    }
}

#[test]
fn subcommands_parse() {
    let cli = parse(&["check", "--config", "x.yaml"]);
    assert!(matches!(cli.command, Some(Command::Check)));
    assert_eq!(cli.config, Some(PathBuf::from("x.yaml")));
    // The global flag also works before the subcommand.
    let cli = parse(&["--config", "y.yaml", "check"]);
    assert!(matches!(cli.command, Some(Command::Check)));
    assert_eq!(cli.config, Some(PathBuf::from("y.yaml")));
    assert!(matches!(
        parse(&["openapi"]).command,
        Some(Command::Openapi)
    ));
    match parse(&["healthcheck"]).command {
        Some(Command::Healthcheck { url, timeout }) => {
            assert_eq!(url, "http://127.0.0.1:4000/health/liveliness");
            assert_eq!(timeout, 5.0);
        }
        other => panic!("{other:?}"),
    }
    match parse(&["healthcheck", "--url", "http://proxy:4000/health/readiness"]).command {
        Some(Command::Healthcheck { url, .. }) => {
            assert_eq!(url, "http://proxy:4000/health/readiness")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_arguments_are_rejected() {
    parse_fails(&["--no-such-flag"]);
    parse_fails(&["--port", "not-a-port"]);
    parse_fails(&["--port", "70000"]);
    // --api_base only makes sense with --model.
    parse_fails(&["--api_base", "http://h/v1"]);
    assert_eq!(parse_fails(&["--no-such-flag"]).exit_code(), 2);
}

#[test]
fn config_and_model_on_the_command_line_conflict() {
    let (cli, on_cli) =
        parse_args(["litellm-rs", "--config", "c.yaml", "--model", "mock/x"]).unwrap();
    assert!(on_cli);
    assert_eq!(
        source(&cli, on_cli).unwrap_err(),
        "--config and --model cannot be used together"
    );
    // A CONFIG_FILE_PATH from the environment yields to --model.
    assert_eq!(
        source(&cli, false).unwrap(),
        Source::Model {
            model: "mock/x".into(),
            api_base: None
        }
    );
}

#[test]
fn the_source_follows_the_flags() {
    let cli = parse(&["--config", "c.yaml"]);
    assert_eq!(source(&cli, true).unwrap(), Source::File("c.yaml".into()));
    if std::env::var_os("CONFIG_FILE_PATH").is_none() {
        assert_eq!(source(&parse(&[]), false).unwrap(), Source::Nothing);
    }
    let cli = parse(&["--model", "openai/gpt-4o", "--api_base", "http://h/v1"]);
    assert_eq!(
        source(&cli, false).unwrap(),
        Source::Model {
            model: "openai/gpt-4o".into(),
            api_base: Some("http://h/v1".into())
        }
    );
}

#[test]
fn model_mode_serves_one_group_named_after_the_model() {
    let loaded = load(&Source::Model {
        model: "mock/gpt-4o".into(),
        api_base: Some("http://127.0.0.1:9/v1".into()),
    })
    .unwrap();
    let list = &loaded.config.model_list;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].model_name, "mock/gpt-4o");
    assert_eq!(list[0].litellm_params.provider.model, "mock/gpt-4o");
    assert!(load(&Source::Nothing).unwrap().config.model_list.is_empty());
}

#[test]
fn log_levels_follow_litellm_log_then_rust_log() {
    let debug = level_directives(true, Some("ERROR"), Some("warn"));
    assert!(debug.starts_with("info,"), "{debug}");
    assert!(debug.contains("litellm_server=debug"), "{debug}");
    assert!(debug.contains("litellm_router=debug"), "{debug}");
    assert_eq!(level_directives(false, Some("DEBUG"), None), debug);
    assert_eq!(level_directives(false, Some("INFO"), Some("trace")), "info");
    assert_eq!(level_directives(false, Some("warning"), None), "warn");
    assert_eq!(level_directives(false, Some("ERROR"), None), "error");
    assert_eq!(
        level_directives(false, Some("litellm_router=trace"), None),
        "litellm_router=trace"
    );
    assert_eq!(
        level_directives(false, None, Some("hyper=debug")),
        "hyper=debug"
    );
    assert_eq!(level_directives(false, Some(" "), None), "info");
    assert_eq!(level_directives(false, None, None), "info");
}

#[test]
fn json_logs_and_debug_come_from_flags_or_litellm_settings() {
    let plain = parse(&[]);
    let mut config = ProxyConfig::default();
    if std::env::var_os("JSON_LOGS").is_none() {
        assert_eq!(
            LogFormat::from_flags(&plain, Some(&config)),
            LogFormat::default()
        );
    }
    config.litellm_settings.json_logs = Some(true);
    config.litellm_settings.set_verbose = Some(true);
    assert_eq!(
        LogFormat::from_flags(&plain, Some(&config)),
        LogFormat {
            json: true,
            debug: true
        }
    );
    let flags = parse(&["--json-logs", "--detailed_debug"]);
    assert_eq!(
        LogFormat::from_flags(&flags, None),
        LogFormat {
            json: true,
            debug: true
        }
    );
}

/// A temp directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "litellm-cli-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run_check(path: &Path) -> (Result<(), String>, String) {
    let mut out = Vec::new();
    let result = check(path, &mut out);
    (result, String::from_utf8(out).unwrap())
}

/// [`run_check`] on `yaml`, written to `name` in a fresh temp directory tagged `tag`.
fn check_yaml(tag: &str, name: &str, yaml: &str) -> (Result<(), String>, String) {
    let dir = TempDir::new(tag);
    run_check(&dir.write(name, yaml))
}

#[test]
fn check_prints_groups_and_warnings_but_no_secrets() {
    let (result, out) = check_yaml(
        "check",
        "c.yaml",
        "\
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-check-secret-0001
      api_base: http://user:url-password-0001@127.0.0.1:9/v1
    model_info:
      id: primary
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: sk-check-secret-0002
      api_base: http://127.0.0.1:9/v1
  - model_name: echo
    litellm_params:
      model: mock/echo
router_settings:
  model_group_alias:
    gpt-4: gpt-4o
  enable_tag_filtering: true
general_settings:
  master_key: sk-check-master-0003
  database_url: postgresql://u:db-password-0004@db:5432/x
",
    );
    assert_eq!(result, Ok(()), "{out}");
    assert!(out.contains("Model groups: 2 (3 deployments)"), "{out}");
    assert!(out.contains("\n  gpt-4o\n    - openai/gpt-4o "), "{out}");
    assert!(out.contains("- openai/gpt-4o-mini "), "{out}");
    assert!(out.contains("\n  echo\n    - mock/echo "), "{out}");
    assert!(out.contains("id: primary"), "{out}");
    assert!(
        out.contains("api_base: http://user:***@127.0.0.1:9/v1"),
        "{out}"
    );
    assert!(out.contains("gpt-4 -> gpt-4o"), "{out}");
    assert!(out.contains("Master key: set"), "{out}");
    assert!(
        out.contains("Database: postgresql://u:***@db:5432/x"),
        "{out}"
    );
    assert!(
        out.contains("  - router_settings.enable_tag_filtering: not supported yet; ignored"),
        "{out}"
    );
    assert!(out.contains("OK: "), "{out}");
    for secret in [
        "sk-check-secret-0001",
        "url-password-0001",
        "sk-check-secret-0002",
        "sk-check-master-0003",
        "db-password-0004",
    ] {
        assert!(!out.contains(secret), "{secret} printed:\n{out}");
    }
}

#[test]
fn check_reports_a_bad_config_with_its_path() {
    let (result, out) = check_yaml(
        "check-bad",
        "bad.yaml",
        "model_list:\n  - model_name: x\n    litellm_params:\n      rpm: fast\n",
    );
    let err = result.unwrap_err();
    assert!(
        err.contains("model_list[0].litellm_params.rpm: invalid type"),
        "{err}"
    );
    assert!(err.contains("bad.yaml"), "{err}");
    assert!(out.is_empty(), "{out}");
    let dir = TempDir::new("check-missing");
    let (result, _) = run_check(&dir.0.join("missing.yaml"));
    assert!(result.unwrap_err().starts_with("cannot read config file"));
}

#[test]
fn check_lists_every_deployment_the_proxy_cannot_build() {
    let (result, out) = check_yaml(
        "check-unbuildable",
        "c.yaml",
        "\
model_list:
  - model_name: a
    litellm_params: {model: nosuchprovider/x}
  - model_name: b
    litellm_params: {model: mock/x}
  - model_name: c
    litellm_params: {model: alsonotaprovider/y}
",
    );
    let err = result.unwrap_err();
    assert!(
        err.starts_with("the proxy would not start with this config: model_list[0]: "),
        "{err}"
    );
    assert!(err.ends_with("(and 1 more, listed above)"), "{err}");
    assert!(out.contains("      error: model_list[0]: "), "{out}");
    assert!(out.contains("      error: model_list[2]: "), "{out}");
    assert!(out.contains("- mock/x  provider: mock"), "{out}");
    assert!(!out.contains("OK: "), "{out}");
}

#[test]
fn check_without_models_says_so() {
    let (result, out) = check_yaml("check-empty", "empty.yaml", "# nothing yet\n");
    assert_eq!(result, Ok(()));
    assert!(out.contains("Model groups: 0 (0 deployments)"), "{out}");
    assert!(out.contains("Master key: not set"), "{out}");
    assert!(out.contains("Warnings: none"), "{out}");
}

#[test]
fn check_exits_non_zero_on_a_bad_config() {
    let dir = TempDir::new("check-run");
    let bad = dir.write("bad.yaml", "router_settings:\n  num_retries: x\n");
    assert_eq!(
        run([
            OsString::from("litellm-rs"),
            "check".into(),
            "--config".into(),
            bad.into()
        ]),
        1
    );
}
