//! `litellm-rs check --config FILE`: loads the config, builds every deployment's backend as the
//! proxy would (listing each one it cannot serve yet), and prints the model groups, aliases,
//! key settings and warnings. Never prints
//! a secret: no API keys, no master key, URLs with their password masked.

use std::io::Write;
use std::path::Path;

use litellm_router::{deployment_id, Deployment, DeploymentConfig, Router};
use litellm_server::config::redact_url_password;
use litellm_server::{load_config, ProxyConfig, DEFAULT_DATABASE_URL};

/// One deployment as printed.
struct Row {
    model: String,
    provider: Option<String>,
    api_base: Option<String>,
    id: String,
    /// Why the proxy cannot build this deployment's backend.
    error: Option<String>,
}

/// Checks the config at `path`, writing the report to `out`. `Err` carries the one-line
/// reason the proxy would not start with this file.
pub fn check(path: &Path, out: &mut dyn Write) -> Result<(), String> {
    let loaded = load_config(path).map_err(|e| e.to_string())?;
    let config = &loaded.config;

    // Build every deployment (not just up to the first failure) so the report lists all the
    // deployments this proxy cannot serve yet.
    let runtime = runtime_context()?;
    let _guard = runtime.as_ref().map(|rt| rt.enter());
    let mut groups: Vec<(String, Vec<Row>)> = Vec::new();
    let mut built = Vec::new();
    let mut failures = Vec::new();
    for (i, d) in config.model_list.iter().enumerate() {
        let row = match Deployment::build(d.clone()) {
            Ok(dep) => {
                let row = Row {
                    model: dep.model().to_string(),
                    provider: Some(dep.backend.provider().to_string()),
                    api_base: dep.backend.api_base().map(str::to_string),
                    id: dep.id.clone(),
                    error: None,
                };
                built.push(dep);
                row
            }
            Err(e) => {
                let message = format!("model_list[{i}]: {}", e.message);
                failures.push(message.clone());
                Row {
                    error: Some(message),
                    ..config_row(d)
                }
            }
        };
        push_row(&mut groups, &d.model_name, row);
    }
    write_report(out, path, config, &groups, &loaded.warnings).map_err(|e| e.to_string())?;

    if let Some(first) = failures.first() {
        let others = match failures.len() {
            1 => String::new(),
            n => format!(" (and {} more, listed above)", n - 1),
        };
        return Err(format!(
            "the proxy would not start with this config: {first}{others}"
        ));
    }
    Router::from_deployments(built, config.router_settings.clone())
        .map_err(|e| format!("the proxy would not start with this config: {}", e.message))?;
    writeln!(out, "\nOK: {} is valid.", path.display()).map_err(|e| e.to_string())?;
    Ok(())
}

/// A runtime to enter while building backends, unless the caller already runs in one.
fn runtime_context() -> Result<Option<tokio::runtime::Runtime>, String> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Ok(None);
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(Some)
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn config_row(d: &DeploymentConfig) -> Row {
    Row {
        model: d.litellm_params.provider.model.clone(),
        provider: None,
        api_base: d.litellm_params.provider.api_base.clone(),
        id: deployment_id(d),
        error: None,
    }
}

fn push_row(groups: &mut Vec<(String, Vec<Row>)>, name: &str, row: Row) {
    match groups.iter_mut().find(|(g, _)| g == name) {
        Some((_, rows)) => rows.push(row),
        None => groups.push((name.to_string(), vec![row])),
    }
}

fn write_report(
    out: &mut dyn Write,
    path: &Path,
    config: &ProxyConfig,
    groups: &[(String, Vec<Row>)],
    warnings: &[String],
) -> std::io::Result<()> {
    writeln!(out, "Config: {}", path.display())?;
    let deployments: usize = groups.iter().map(|(_, rows)| rows.len()).sum();
    writeln!(
        out,
        "Model groups: {} ({} deployment{})",
        groups.len(),
        deployments,
        if deployments == 1 { "" } else { "s" }
    )?;
    for (name, rows) in groups {
        writeln!(out, "  {name}")?;
        for row in rows {
            let mut line = format!("    - {}", row.model);
            if let Some(p) = &row.provider {
                line.push_str(&format!("  provider: {p}"));
            }
            let api_base = row
                .api_base
                .as_deref()
                .map(redact_url_password)
                .unwrap_or_else(|| "(provider default)".to_string());
            line.push_str(&format!("  api_base: {api_base}  id: {}", row.id));
            writeln!(out, "{line}")?;
            if let Some(e) = &row.error {
                writeln!(out, "      error: {e}")?;
            }
        }
    }

    let aliases = &config.router_settings.model_group_alias;
    if !aliases.is_empty() {
        writeln!(out, "Aliases:")?;
        for (alias, target) in aliases {
            let (group, hidden) = match target {
                serde_json::Value::Object(o) => (
                    o.get("model").and_then(|m| m.as_str()).unwrap_or_default(),
                    o.get("hidden").and_then(|h| h.as_bool()).unwrap_or(false),
                ),
                other => (other.as_str().unwrap_or_default(), false),
            };
            let hidden = if hidden { " (hidden)" } else { "" };
            writeln!(out, "  {alias} -> {group}{hidden}")?;
        }
    }

    let r = &config.router_settings;
    writeln!(
        out,
        "Router: {}, num_retries {}, timeout {}s",
        r.routing_strategy, r.num_retries, r.timeout
    )?;
    let general = &config.general_settings;
    writeln!(
        out,
        "Master key: {}",
        if general.master_key.is_some() {
            "set"
        } else {
            "not set (every request is accepted; the proxy listens on 127.0.0.1 only)"
        }
    )?;
    let database = match &general.database_url {
        Some(url) => redact_url_password(url),
        None => format!("{DEFAULT_DATABASE_URL} (default)"),
    };
    writeln!(out, "Database: {database}")?;

    if warnings.is_empty() {
        writeln!(out, "Warnings: none")?;
    } else {
        writeln!(out, "Warnings ({}):", warnings.len())?;
        for w in warnings {
            writeln!(out, "  - {w}")?;
        }
    }
    Ok(())
}
