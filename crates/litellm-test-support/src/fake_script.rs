//! What the scripted fakes share about their scripts: the [`Answer`] every chat fake's script
//! comes down to (the built-in reply, a fixed JSON answer, or the provider's own stream) and how
//! it is answered; `chat_script!`, which declares a chat fake's script type with its
//! `with_header` and its conversion to an [`Answer`]; and `with_header!` alone, for the script
//! types of other shapes.

use axum::response::Response;
use serde_json::Value;

use crate::fake_server::FakeHeaders;

/// A fixed answer: this status, JSON body and extra headers.
pub(crate) struct Fixed {
    pub(crate) status: u16,
    pub(crate) body: Value,
    pub(crate) headers: Vec<(String, String)>,
}

/// A scripted answer in the form every chat fake shares: the built-in reply (with this text, and
/// this usage or else the estimate), a fixed answer, or the provider's own stream `S` (events,
/// lines or frames).
pub(crate) enum Answer<S> {
    Reply {
        text: String,
        usage: Option<(u64, u64)>,
    },
    Fixed(Fixed),
    Stream(S),
}

impl<S> Answer<S> {
    /// A fixed answer written with the fake's `headers`; any other is given back.
    pub(crate) fn fixed(self, headers: &FakeHeaders) -> Result<Response, Self> {
        match self {
            Answer::Fixed(f) => Ok(headers.json(f.status, &f.body, &f.headers)),
            other => Err(other),
        }
    }

    /// The answer: a fixed one written with the fake's `headers`, a stream with `stream`, the reply with
    /// `reply(text, (input, output))`, the usage scripted or else `(prompt(), ⌈text/4⌉)`.
    pub(crate) fn respond(
        self,
        headers: &FakeHeaders,
        stream: impl FnOnce(S) -> Response,
        prompt: impl FnOnce() -> u64,
        reply: impl FnOnce(&str, (u64, u64)) -> Response,
    ) -> Response {
        match self {
            Answer::Fixed(f) => headers.json(f.status, &f.body, &f.headers),
            Answer::Stream(s) => stream(s),
            Answer::Reply { text, usage } => {
                let usage =
                    usage.unwrap_or_else(|| (prompt(), crate::fake_server::estimate_tokens(&text)));
                reply(&text, usage)
            }
        }
    }
}

/// `with_header` for a script type with a `Status { headers, .. }` variant.
macro_rules! with_header {
    ($script:ident) => {
        impl $script {
            /// Adds a response header (only meaningful on `Status`; other variants are
            /// unchanged).
            pub fn with_header(mut self, name: &str, value: &str) -> Self {
                if let $script::Status { headers, .. } = &mut self {
                    headers.push((name.to_string(), value.to_string()));
                }
                self
            }
        }
    };
}
pub(crate) use with_header;

/// Declares a chat fake's script type: `Default` (the built-in answer), `Reply { text, usage }`
/// (the built-in answer with this text and exact usage), `Json(Value)` (status 200 with exactly
/// this body), `Status { status, body, headers }` and the provider's stream variant; with
/// `with_header`, and `answer`, the script as an [`Answer`] (`Default` is the reply `$default`).
macro_rules! chat_script {
    (
        $(#[$attr:meta])*
        $script:ident: $default_doc:literal,
        usage $usage:literal, default $default:expr,
        $(#[$stream_attr:meta])*
        $variant:ident($stream:ty) $(,)?
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $script {
            #[doc = concat!("The built-in answer (", $default_doc, ").")]
            Default,
            #[doc = concat!("The built-in answer with this text and exact usage `", $usage, "`.")]
            Reply {
                text: String,
                usage: Option<(u64, u64)>,
            },
            /// Status 200 with exactly this JSON body.
            Json(serde_json::Value),
            /// Any status with this JSON body and extra response headers.
            Status {
                status: u16,
                body: serde_json::Value,
                headers: Vec<(String, String)>,
            },
            $(#[$stream_attr])*
            $variant($stream),
        }

        $crate::fake_script::with_header!($script);

        impl $script {
            /// The script in the shared form.
            pub(crate) fn answer(self) -> $crate::fake_script::Answer<$stream> {
                use $crate::fake_script::{Answer, Fixed};
                match self {
                    $script::Default => Answer::Reply {
                        text: $default.to_string(),
                        usage: None,
                    },
                    $script::Reply { text, usage } => Answer::Reply { text, usage },
                    $script::Json(body) => Answer::Fixed(Fixed {
                        status: 200,
                        body,
                        headers: Vec::new(),
                    }),
                    $script::Status {
                        status,
                        body,
                        headers,
                    } => Answer::Fixed(Fixed {
                        status,
                        body,
                        headers,
                    }),
                    $script::$variant(s) => Answer::Stream(s),
                }
            }
        }
    };
}
pub(crate) use chat_script;
