//! The text of `docs/providers.md`, generated from the registry: the native providers (described
//! here, next to their code) and the embedded OpenAI-compatible table. A test compares it with
//! the committed file (`UPDATE_EXPECT=1` rewrites it), so the docs cannot drift from the code.

use std::fmt::Write as _;

use crate::openai_compatible::{parse_table, CompatProvider, EMBEDDED_TABLE, OVERRIDE_ENV};
use crate::ProviderKind;

/// One native provider's row.
struct Native {
    prefix: &'static str,
    endpoints: &'static str,
    auth: &'static str,
    env: &'static str,
    example: &'static str,
    notes: &'static str,
}

fn native(kind: ProviderKind) -> Option<Native> {
    Some(match kind {
        ProviderKind::OpenAI => Native {
            prefix: "openai",
            endpoints: "`{api_base}/chat/completions`, `{api_base}/embeddings`",
            auth: "`Authorization: Bearer`",
            env: "`OPENAI_API_KEY`, `OPENAI_BASE_URL` / `OPENAI_API_BASE`, `OPENAI_ORGANIZATION`",
            example: "model: openai/gpt-4o<br>api_key: os.environ/OPENAI_API_KEY",
            notes:
                "Any OpenAI-compatible server with `api_base` (a bare model name is OpenAI too).",
        },
        ProviderKind::Anthropic => Native {
            prefix: "anthropic",
            endpoints: "`{api_base}/v1/messages` (chat, streaming); no embeddings",
            auth: "`x-api-key`, `anthropic-version: 2023-06-01`",
            env: "`ANTHROPIC_API_KEY`, `ANTHROPIC_API_BASE` / `ANTHROPIC_BASE_URL`",
            example: "model: anthropic/claude-sonnet-4-5<br>api_key: os.environ/ANTHROPIC_API_KEY",
            notes: "Native translation: system, tools, tool results, images (data and http URLs), \
                    JSON mode (`json_tool_call`), `reasoning_effort` to thinking, `cache_control`, \
                    cache usage; `max_tokens` defaults to 4096.",
        },
        ProviderKind::Azure => Native {
            prefix: "azure",
            endpoints: "`{api_base}/openai/deployments/{model}/chat/completions?api-version=`, \
                        `.../embeddings?api-version=`",
            auth: "`api-key`, or `Authorization: Bearer` with `azure_ad_token`",
            env: "`AZURE_API_BASE`, `AZURE_OPENAI_API_KEY` / `AZURE_API_KEY`, \
                  `AZURE_API_VERSION` (default `2025-02-01-preview`), `AZURE_AD_TOKEN`",
            example: "model: azure/my-deployment<br>api_base: https://my-resource.openai.azure.com\
                      <br>api_version: \"2024-10-21\"<br>api_key: os.environ/AZURE_API_KEY",
            notes: "The model after `azure/` is the deployment name. Content-filter errors are \
                    `ContentPolicyViolation` (400).",
        },
        ProviderKind::Bedrock => Native {
            prefix: "bedrock",
            endpoints: "`https://bedrock-runtime.{region}.amazonaws.com/model/{id}/converse`, \
                        `/converse-stream` (binary event stream), `/invoke` (Titan and Cohere \
                        embeddings)",
            auth: "SigV4 (service `bedrock`), or `Authorization: Bearer` with `api_key` \
                   (Bedrock API key)",
            env: "`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, \
                  `AWS_REGION_NAME` / `AWS_REGION` / `AWS_DEFAULT_REGION` (default `us-west-2`), \
                  `AWS_BEARER_TOKEN_BEDROCK`, `AWS_BEDROCK_RUNTIME_ENDPOINT`",
            example: "model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0\
                      <br>aws_region_name: us-east-1\
                      <br>aws_access_key_id: os.environ/AWS_ACCESS_KEY_ID\
                      <br>aws_secret_access_key: os.environ/AWS_SECRET_ACCESS_KEY",
            notes: "Converse translation: system, tools (`toolSpec`/`toolUse`/`toolResult`), \
                    images and documents as base64 data URLs or `s3://` URIs (http image URLs \
                    are a 400), `inferenceConfig`, `top_k` and other fields in \
                    `additionalModelRequestFields`, JSON mode (`json_tool_call`), \
                    `reasoning_effort` to thinking on Claude, cache usage. \
                    `bedrock/converse/<id>` works too; `bedrock/invoke/` and role/profile \
                    credentials are refused. Embeddings: `amazon.titan-embed-*`, `cohere.embed-*`.",
        },
        ProviderKind::Gemini => Native {
            prefix: "gemini",
            endpoints: "`{api_base}/v1beta/models/{model}:generateContent`, \
                        `:streamGenerateContent?alt=sse`, `:batchEmbedContents`",
            auth: "`x-goog-api-key` (never `?key=`)",
            env: "`GEMINI_API_KEY`, `GEMINI_API_BASE` (default \
                  `https://generativelanguage.googleapis.com`)",
            example: "model: gemini/gemini-2.0-flash<br>api_key: os.environ/GEMINI_API_KEY",
            notes: "Native translation: `systemInstruction`, `generationConfig`, tools as \
                    `functionDeclarations`, `toolConfig`, tool results as `functionResponse`, \
                    images (`inlineData`/`fileData`), JSON mode (`responseSchema`), \
                    `reasoning_effort` to `thinkingConfig`, thoughts as `reasoning_content`; \
                    `SAFETY` finishes are `content_filter`, `MALFORMED_FUNCTION_CALL` an error; \
                    usage with cached and thoughts tokens.",
        },
        ProviderKind::VertexAi => Native {
            prefix: "vertex_ai",
            endpoints: "`https://{location}-aiplatform.googleapis.com/v1/projects/{project}/\
                        locations/{location}/publishers/google/models/{model}:generateContent` \
                        (`:streamGenerateContent?alt=sse`, `:predict` for embeddings); \
                        `claude-*` via `publishers/anthropic/...:rawPredict` / `:streamRawPredict`",
            auth: "`Authorization: Bearer` OAuth2 token from a service account (JWT bearer grant \
                   at the JSON's `token_uri`, cached until expiry)",
            env: "`GOOGLE_APPLICATION_CREDENTIALS`, `VERTEXAI_PROJECT`, `VERTEXAI_LOCATION` \
                  (default `us-central1`)",
            example: "model: vertex_ai/gemini-2.0-flash<br>vertex_project: my-project\
                      <br>vertex_location: us-central1\
                      <br>vertex_credentials: os.environ/VERTEX_SA_JSON",
            notes: "Gemini models use the `gemini/` translation; Claude models the `anthropic/` \
                    one with `anthropic_version: vertex-2023-10-16`. `vertex_credentials` is the \
                    service account JSON or a path to it; `api_base` replaces the host.",
        },
        ProviderKind::Mock => Native {
            prefix: "mock",
            endpoints: "none (answers locally)",
            auth: "none",
            env: "none",
            example: "model: mock/anything<br>mock_response: \"Hi!\"",
            notes: "Also any deployment with `mock_response`.",
        },
        ProviderKind::OpenAiCompatible(_) => return None,
    })
}

fn compat_row(p: &CompatProvider) -> String {
    let base = match &p.api_base {
        Some(b) => format!("`{b}`"),
        None => "required (`api_base`)".to_string(),
    };
    let code = |v: &[String]| {
        v.iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let mut params = Vec::new();
    if !p.unsupported_params.is_empty() {
        params.push(format!("unsupported: {}", code(&p.unsupported_params)));
    }
    if !p.param_renames.is_empty() {
        let renames: Vec<String> = p
            .param_renames
            .iter()
            .map(|(a, b)| format!("`{a}`→`{b}`"))
            .collect();
        params.push(format!("renamed: {}", renames.join(", ")));
    }
    let auth = if p.api_key_optional {
        "`Authorization: Bearer` (optional)"
    } else {
        "`Authorization: Bearer`"
    };
    let endpoints = if p.embeddings {
        "`/chat/completions`, `/embeddings`"
    } else {
        "`/chat/completions`"
    };
    format!(
        "| `{prefix}/` | {name} | {base} | {endpoints} | {auth} | key: {keys}; base: {bases} | {params} | `model: {prefix}/<model>` |\n",
        prefix = p.prefix,
        name = p.name,
        keys = code(&p.api_key_env),
        bases = code(&p.api_base_env),
        params = if params.is_empty() {
            "—".to_string()
        } else {
            params.join("; ")
        },
    )
}

/// The full text of `docs/providers.md`.
pub fn providers_markdown() -> String {
    let mut out = String::new();
    out.push_str(
        "# Providers\n\n\
         <!-- Generated from crates/litellm-providers (src/docs.rs and \
         data/openai_compatible.json). Do not edit by hand: run \
         `UPDATE_EXPECT=1 cargo test -p litellm-providers --test docs`. -->\n\n\
         A deployment's `litellm_params.model` is `<prefix>/<model>`; the prefix picks the \
         provider (or `custom_llm_provider` does). Every `litellm_params` value may be \
         `os.environ/NAME`. Keys not set in the config are read from the environment variables \
         listed. A LiteLLM prefix not listed here is refused at startup with an error naming it.\n\n\
         ## Native providers\n\n\
         | prefix | endpoints | auth | environment | example `litellm_params` | notes |\n\
         |---|---|---|---|---|---|\n",
    );
    for kind in ProviderKind::ALL {
        if let Some(n) = native(*kind) {
            let _ = writeln!(
                out,
                "| `{}/` | {} | {} | {} | `{}` | {} |",
                n.prefix,
                n.endpoints,
                n.auth,
                n.env,
                n.example.replace("<br>", "`<br>`"),
                n.notes
            );
        }
    }
    out.push_str(
        "\n## OpenAI-compatible providers\n\n\
         Served by the OpenAI adapter from the table in \
         `crates/litellm-providers/data/openai_compatible.json` (embedded in the binary). The model \
         after the prefix is sent as is to `{api_base}/chat/completions` with \
         `Authorization: Bearer <key>`; `api_base` in the config overrides the default. \
         Unsupported parameters are a 400 naming them unless `drop_params: true` (deployment or \
         request); renamed parameters are sent under the provider's name. ",
    );
    let _ = write!(
        out,
        "Set `{OVERRIDE_ENV}` to a JSON file in the same format to add providers or replace \
         entries without rebuilding.\n\n"
    );
    out.push_str(
        "| prefix | provider | default `api_base` | endpoints | auth | environment | parameters | example |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    match parse_table(EMBEDDED_TABLE) {
        Ok(table) => {
            for p in &table {
                out.push_str(&compat_row(p));
            }
        }
        Err(e) => {
            let _ = writeln!(out, "\n(the embedded table is invalid: {e})");
        }
    }
    out.push_str(
        "\n## Example\n\n\
         ```yaml\n\
         model_list:\n\
         \x20 - model_name: claude\n\
         \x20   litellm_params:\n\
         \x20     model: anthropic/claude-sonnet-4-5\n\
         \x20     api_key: os.environ/ANTHROPIC_API_KEY\n\
         \x20 - model_name: llama\n\
         \x20   litellm_params:\n\
         \x20     model: groq/llama-3.1-8b-instant   # key from GROQ_API_KEY\n\
         \x20 - model_name: local\n\
         \x20   litellm_params:\n\
         \x20     model: hosted_vllm/meta-llama/Llama-3.1-8B-Instruct\n\
         \x20     api_base: http://localhost:8000/v1\n\
         ```\n",
    );
    out
}
