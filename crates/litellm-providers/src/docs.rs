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
            endpoints: "`{api_base}/chat/completions`, `{api_base}/embeddings`, \
                        `{api_base}/moderations`, `{api_base}/images/generations`",
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
                    cache usage; `max_tokens` defaults to the model's `max_output_tokens` from the \
                    price table (4096 for a model it does not know).",
        },
        ProviderKind::Azure => Native {
            prefix: "azure",
            endpoints: "`{api_base}/openai/deployments/{model}/chat/completions?api-version=`, \
                        `.../embeddings?api-version=`, `.../moderations?api-version=`, \
                        `.../images/generations?api-version=`",
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
        ProviderKind::Cohere => Native {
            prefix: "cohere",
            endpoints: "`{api_base}/v2/chat` (chat, SSE streaming), `{api_base}/v2/embed`, `{api_base}/v2/rerank` (rerank)",
            auth: "`Authorization: Bearer`",
            env: "`COHERE_API_KEY` / `CO_API_KEY`, `COHERE_API_BASE` (default \
                  `https://api.cohere.com`)",
            example: "model: cohere/command-r-plus-08-2024<br>api_key: os.environ/COHERE_API_KEY",
            notes: "Native v2 translation (`cohere_chat/` too): system/user/assistant/tool \
                    messages, tools and tool results, `image_url` parts, JSON mode \
                    (`response_format` with `json_schema`), `top_p`→`p`, `top_k`→`k`, \
                    `stop`→`stop_sequences`; tool plans and thinking as `reasoning_content`; \
                    usage from `usage.tokens`. Embeddings: `input_type` defaults to \
                    `search_document`. Refused: `logit_bias`, `logprobs`, `n` > 1, a named \
                    `tool_choice`, `reasoning_effort`. No rerank route.",
        },
        ProviderKind::Ollama => Native {
            prefix: "ollama",
            endpoints: "`{api_base}/api/generate` (chat as a prompt, NDJSON streaming), \
                        `{api_base}/api/embed`",
            auth: "none, or `Authorization: Bearer` with `api_key`",
            env: "`OLLAMA_API_BASE` (default `http://localhost:11434`), `OLLAMA_API_KEY`",
            example: "model: ollama/llama3.1<br>api_base: http://localhost:11434",
            notes: "The messages become one prompt as LiteLLM builds it (`### User:` ...); \
                    images as base64 `images` (data URLs only); `options` (`num_predict` from \
                    `max_tokens`, `temperature`, `top_p`, `top_k`, `stop`, `seed`, `num_ctx`, \
                    ...), `format` for JSON mode, `reasoning_effort`→`think`. No tools: use \
                    `ollama_chat/`.",
        },
        ProviderKind::OllamaChat => Native {
            prefix: "ollama_chat",
            endpoints: "`{api_base}/api/chat` (NDJSON streaming), `{api_base}/api/embed`",
            auth: "none, or `Authorization: Bearer` with `api_key`",
            env: "`OLLAMA_API_BASE` (default `http://localhost:11434`), `OLLAMA_API_KEY`",
            example: "model: ollama_chat/llama3.1<br>api_base: http://localhost:11434",
            notes: "Native `/api/chat` translation: messages with `images` (base64 data URLs), \
                    tools (`tool_calls` arguments as objects), tool results with `tool_name`, \
                    `options`, `format` (JSON mode or a JSON schema), `thinking` as \
                    `reasoning_content`, `done_reason`, usage from `prompt_eval_count` / \
                    `eval_count`. `tool_choice` `required` or named is refused.",
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
    let mut endpoints = vec!["`/chat/completions`".to_string()];
    if p.embeddings {
        endpoints.push("`/embeddings`".into());
    }
    for family in p
        .families
        .iter()
        .filter_map(|m| litellm_core::Family::from_mode(m))
    {
        endpoints.push(format!("`/{}`", family.openai_path()));
    }
    let endpoints = endpoints.join(", ");
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
    out.push_str(&capability_matrix());
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

/// Whether a provider does something, as declared for the capability matrix and checked by the
/// conformance suite (`tests/conformance.rs`) against each provider's fake upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Works, and is tested against the fake upstream.
    Supported,
    /// Refused with a clear 400 before anything is sent (the reason says why).
    Refused(&'static str),
    /// Not applicable (the reason says why); nothing is checked.
    Unsupported(&'static str),
}

/// The capabilities of the matrix, in column order.
pub const CAPABILITIES: [&str; 15] = [
    "chat",
    "stream",
    "tools",
    "tool result",
    "image input",
    "JSON mode",
    "embeddings",
    "usage",
    "401",
    "429",
    "500",
    "context window",
    "rerank",
    "moderations",
    "images",
];

/// The providers of the matrix: every native provider, then the OpenAI-compatible table (one
/// row for all of its entries).
pub const MATRIX_PROVIDERS: [&str; 11] = [
    "openai",
    "azure",
    "anthropic",
    "gemini",
    "vertex_ai",
    "bedrock",
    "cohere",
    "ollama",
    "ollama_chat",
    "mock",
    "openai-compatible",
];

/// The declared support of `provider` (a name of [`MATRIX_PROVIDERS`]) for each of
/// [`CAPABILITIES`], in order.
pub fn capabilities(provider: &str) -> Option<[Support; 15]> {
    use Support::{Refused, Supported as S, Unsupported};
    // Chat and embeddings everywhere; the JSON families where the provider has them.
    const fn with(rerank: Support, moderations: Support, images: Support) -> [Support; 15] {
        let mut c = [S; 15];
        c[12] = rerank;
        c[13] = moderations;
        c[14] = images;
        c
    }
    const NO_RERANK: Support = Refused("no rerank API");
    const NO_MODERATIONS: Support = Refused("no moderations API");
    const NO_IMAGES: Support = Refused("image generation not served (yet) for this provider");
    const CHAT_ONLY: [Support; 15] = with(NO_RERANK, NO_MODERATIONS, NO_IMAGES);
    Some(match provider {
        "openai" | "azure" => with(NO_RERANK, S, S),
        "gemini" | "vertex_ai" | "bedrock" | "ollama_chat" => CHAT_ONLY,
        "cohere" => with(S, NO_MODERATIONS, NO_IMAGES),
        "openai-compatible" => with(
            S,
            Refused("per provider: the table's `families` (e.g. together_ai: rerank, images)"),
            S,
        ),
        "anthropic" => {
            let mut c = CHAT_ONLY;
            c[6] = Refused("Anthropic has no embeddings API");
            c
        }
        "ollama" => {
            let mut c = CHAT_ONLY;
            c[2] = Refused("/api/generate has no tools: use ollama_chat/");
            c
        }
        "mock" => [
            S,
            S,
            Unsupported("the mock answers with text only"),
            Unsupported("no upstream: the mock echoes the last user message"),
            Unsupported("no upstream: the mock echoes the last user message"),
            Unsupported("no upstream: the mock echoes the last user message"),
            S,
            S,
            Unsupported("no upstream: use mock_response: litellm.AuthenticationError"),
            Unsupported("no upstream: use mock_response: litellm.RateLimitError"),
            Unsupported("no upstream: use mock_response: litellm.InternalServerError"),
            Unsupported("no upstream: use mock_response: litellm.ContextWindowExceededError"),
            S,
            S,
            S,
        ],
        _ => return None,
    })
}

/// The capability matrix section of `docs/providers.md`.
fn capability_matrix() -> String {
    let mut out = String::from(
        "\n## Capability matrix\n\n\
         Declared in `src/docs.rs` and verified by `tests/conformance.rs` against each \
         provider's fake upstream: ✓ works (chat, streaming, tool calls, tool results, \
         image input, JSON mode, embeddings, usage, the mapping of upstream 401 / 429 / 500 \
         / context-window errors, and the JSON families: rerank, moderations, image \
         generation); ✗ refused with a 400 naming the parameter or the family, before anything \
         is sent; – not applicable. Notes give the reason.\n\n| provider |",
    );
    for c in CAPABILITIES {
        let _ = write!(out, " {c} |");
    }
    out.push_str(" notes |\n|---|");
    for _ in CAPABILITIES {
        out.push_str("---|");
    }
    out.push_str("---|\n");
    for provider in MATRIX_PROVIDERS {
        let Some(caps) = capabilities(provider) else {
            continue;
        };
        let _ = write!(out, "| `{provider}` |");
        let mut notes: Vec<String> = Vec::new();
        for (name, support) in CAPABILITIES.iter().zip(caps) {
            let mark = match support {
                Support::Supported => "✓",
                Support::Refused(why) => {
                    notes.push(format!("{name}: {why}"));
                    "✗"
                }
                Support::Unsupported(why) => {
                    let note = why.to_string();
                    if !notes.iter().any(|n| n.ends_with(&note)) {
                        notes.push(format!("{name}: {why}"));
                    }
                    "–"
                }
            };
            let _ = write!(out, " {mark} |");
        }
        let _ = writeln!(out, " {} |", notes.join("; "));
    }
    out
}
