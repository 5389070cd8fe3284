//! `docs/providers.md` is generated from the provider registry and the OpenAI-compatible table;
//! this test fails when the committed file is stale (`UPDATE_EXPECT=1` rewrites it).
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

use std::path::Path;

use litellm_providers::docs::providers_markdown;
use litellm_providers::openai_compatible::{parse_table, EMBEDDED_TABLE};
use litellm_test_support::golden::update_mode;

#[test]
fn providers_md_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/providers.md");
    let generated = providers_markdown();
    if update_mode() {
        if std::fs::read_to_string(&path).ok().as_deref() != Some(generated.as_str()) {
            std::fs::write(&path, &generated).unwrap();
        }
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/providers.md is stale; run UPDATE_EXPECT=1 cargo test -p litellm-providers --test docs"
    );
}

#[test]
fn every_provider_has_a_row() {
    let text = providers_markdown();
    for prefix in ["openai", "anthropic", "azure", "mock"] {
        assert!(text.contains(&format!("| `{prefix}/` |")), "{prefix}");
    }
    for p in parse_table(EMBEDDED_TABLE).unwrap() {
        assert!(
            text.contains(&format!("| `{}/` |", p.prefix)),
            "{}",
            p.prefix
        );
        for var in &p.api_key_env {
            assert!(text.contains(var.as_str()), "{var}");
        }
    }
}
