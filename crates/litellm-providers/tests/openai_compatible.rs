//! The OpenAI-compatible provider table: every entry resolves from its prefix, builds its URL and
//! `Authorization` header from the deployment or its environment variables (never `OPENAI_*`),
//! applies its parameter rules; and one provider answers through the real transport against
//! `FakeOpenAi` with an `api_base` override, reporting its own name.
#![allow(clippy::unwrap_used)] // Tests: a panic is the failure report.

mod common;

use secrecy::SecretString;
use serde_json::{json, Value};

use litellm_core::{CallContext, ChatRequest, ErrorKind, Message};
use litellm_providers::openai_compatible::{self, adapter, providers};
use litellm_providers::{build_backend, resolve_provider, ProviderKind, ProviderParams};
use litellm_test_support::{FakeOpenAi, Scripted};

fn chat() -> ChatRequest {
    ChatRequest {
        model: "group".into(),
        messages: vec![Message::user("hi")],
        max_completion_tokens: Some(50),
        ..Default::default()
    }
}

fn header(req: &litellm_providers::UpstreamRequest, name: &str) -> Option<String> {
    req.headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

#[test]
fn every_table_entry_resolves_and_builds_its_url_and_auth() {
    let table = providers().unwrap();
    assert!(table.len() >= 22);
    for p in table {
        let params = ProviderParams {
            model: format!("{}/some-org/some-model", p.prefix),
            ..Default::default()
        };
        let (kind, model) = resolve_provider(&params).unwrap();
        assert_eq!(kind, ProviderKind::OpenAiCompatible(p), "{}", p.prefix);
        assert_eq!(kind.name(), p.prefix);
        assert_eq!(model, "some-org/some-model");

        // Key and (when there is no default) base from the provider's own variables; OPENAI_*
        // must never be read.
        let key_var = p.api_key_env.last().unwrap().clone();
        let base_var = p.api_base_env.first().cloned();
        let env = |k: &str| {
            if k == key_var {
                Some("sk-compat-env".to_string())
            } else if Some(k) == base_var.as_deref() && p.api_base.is_none() {
                Some("http://env-base:1/v1/".to_string())
            } else if k.starts_with("OPENAI") {
                Some("sk-openai-must-not-be-used".to_string())
            } else {
                None
            }
        };
        let a = adapter(p, &params, &model, env).unwrap();
        let expected_base = p
            .api_base
            .clone()
            .unwrap_or_else(|| "http://env-base:1/v1".to_string());
        assert_eq!(a.api_base(), expected_base, "{}", p.prefix);
        assert_eq!(a.provider(), p.prefix);
        let req = a.build_chat_request(chat(), false, &[]).unwrap();
        assert_eq!(
            req.url,
            format!("{expected_base}/chat/completions"),
            "{}",
            p.prefix
        );
        assert_eq!(
            header(&req, "authorization").as_deref(),
            Some("Bearer sk-compat-env"),
            "{}",
            p.prefix
        );
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["model"], "some-org/some-model");
        match p.param_renames.get("max_completion_tokens") {
            Some(to) => {
                assert_eq!(body[to.as_str()], 50, "{}", p.prefix);
                assert!(body.get("max_completion_tokens").is_none(), "{}", p.prefix);
            }
            None => assert_eq!(body["max_completion_tokens"], 50, "{}", p.prefix),
        }

        // The deployment's own key and base win over the environment.
        let mut own = params.clone();
        own.api_key = Some(SecretString::from("sk-own"));
        own.api_base = Some("http://own:2/v1".into());
        let a = adapter(p, &own, &model, env).unwrap();
        let req = a.build_chat_request(chat(), false, &[]).unwrap();
        assert_eq!(req.url, "http://own:2/v1/chat/completions");
        assert_eq!(
            header(&req, "authorization").as_deref(),
            Some("Bearer sk-own")
        );

        // Without a key: an error naming the variable, unless the server runs keyless.
        let no_key = adapter(p, &params, &model, |k: &str| {
            (Some(k) == base_var.as_deref()).then(|| "http://b/v1".to_string())
        });
        if p.api_key_optional {
            let req = no_key
                .unwrap()
                .build_chat_request(chat(), false, &[])
                .unwrap();
            assert!(header(&req, "authorization").is_none(), "{}", p.prefix);
        } else {
            let e = no_key.err().unwrap();
            assert_eq!(e.kind, ErrorKind::BadRequest);
            assert!(e.message.contains(&p.api_key_env[0]), "{}", e.message);
        }
    }
}

#[test]
fn groq_sends_the_bare_model_to_its_base_with_its_key() {
    let params = ProviderParams {
        model: "groq/llama3-8b".into(),
        ..Default::default()
    };
    let (kind, model) = resolve_provider(&params).unwrap();
    let ProviderKind::OpenAiCompatible(p) = kind else {
        panic!("groq is table-driven: {kind:?}");
    };
    let a = adapter(p, &params, &model, |k| {
        (k == "GROQ_API_KEY").then(|| "gsk-test".to_string())
    })
    .unwrap();
    let req = a.build_chat_request(chat(), false, &[]).unwrap();
    assert_eq!(req.url, "https://api.groq.com/openai/v1/chat/completions");
    assert_eq!(
        header(&req, "authorization").as_deref(),
        Some("Bearer gsk-test")
    );
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["model"], "llama3-8b");
}

#[test]
fn unsupported_params_are_refused_or_dropped() {
    let p = openai_compatible::find("perplexity").unwrap();
    let mut params = ProviderParams {
        model: "perplexity/sonar".into(),
        api_key: Some(SecretString::from("pplx-test")),
        ..Default::default()
    };
    let mut req = chat();
    req.logit_bias = Some(serde_json::from_value(json!({"1": 1})).unwrap());
    req.n = Some(1);
    let a = adapter(p, &params, "sonar", |_| None).unwrap();
    let e = a.build_chat_request(req.clone(), false, &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(
        e.message.contains("perplexity") && e.message.contains("logit_bias"),
        "{}",
        e.message
    );
    assert!(!e.message.contains("`n`") && !e.message.contains(", n"));
    assert_eq!(e.param.as_deref(), Some("logit_bias"));

    // The request's own drop_params.
    let mut dropping = req.clone();
    dropping.extra.insert("drop_params".into(), json!(true));
    let body: Value =
        serde_json::from_slice(&a.build_chat_request(dropping, false, &[]).unwrap().body).unwrap();
    assert!(body.get("logit_bias").is_none());
    assert!(body.get("drop_params").is_none());

    // The deployment's drop_params.
    params.drop_params = Some(true);
    let a = adapter(p, &params, "sonar", |_| None).unwrap();
    let body: Value =
        serde_json::from_slice(&a.build_chat_request(req, false, &[]).unwrap().body).unwrap();
    assert!(body.get("logit_bias").is_none());
}

#[test]
fn providers_without_embeddings_refuse_them_before_sending() {
    let params = ProviderParams {
        model: "groq/x".into(),
        api_key: Some(SecretString::from("gsk")),
        ..Default::default()
    };
    let embed =
        litellm_core::EmbeddingRequest::new("x", litellm_core::EmbeddingInput::Text("a".into()));
    let groq = openai_compatible::find("groq").unwrap();
    let e = adapter(groq, &params, "x", |_| None)
        .unwrap()
        .build_embedding_request(embed.clone(), &[])
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(e.message.contains("groq"), "{}", e.message);
    let mistral = openai_compatible::find("mistral").unwrap();
    let req = adapter(mistral, &params, "x", |_| None)
        .unwrap()
        .build_embedding_request(embed, &[])
        .unwrap();
    assert_eq!(req.url, "https://api.mistral.ai/v1/embeddings");
}

#[test]
fn a_provider_without_a_default_base_needs_one() {
    let params = ProviderParams {
        model: "hosted_vllm/llama".into(),
        ..Default::default()
    };
    let e = build_backend(&params).err().unwrap();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(e.message.contains("HOSTED_VLLM_API_BASE"), "{}", e.message);
}

#[tokio::test]
async fn a_table_provider_answers_through_the_transport_and_names_itself() {
    let fake = FakeOpenAi::start().await;
    let backend = common::http::backend("groq/llama3-8b", fake.base_url(), Some("gsk-live-secret"));
    assert_eq!(backend.provider(), "groq");
    assert_eq!(backend.api_base(), Some(fake.base_url().as_str()));
    let out = backend.chat(chat(), &CallContext::default()).await.unwrap();
    assert_eq!(
        out.response.choices[0].message.content.as_deref(),
        Some(FakeOpenAi::DEFAULT_REPLY)
    );
    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.header("authorization"), Some("Bearer gsk-live-secret"));
    assert_eq!(sent.body["model"], "llama3-8b");

    fake.push(Scripted::error(
        429,
        "Rate limit reached for gsk-live-secret",
        "tokens",
        Some("rate_limit_exceeded"),
    ));
    let e = common::http::chat_error(&backend, chat()).await;
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.provider.as_deref(), Some("groq"));
    assert!(!e.message.contains("gsk-live-secret"), "{}", e.message);
}
