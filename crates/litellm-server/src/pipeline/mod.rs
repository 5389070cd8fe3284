//! The request path of every inference route (chat completions, embeddings, `/v1/messages`),
//! one pipeline, in this order:
//!
//! 1. [`auth`]: the `authenticate` layer checks the key once per request and puts the caller
//!    into the request's extensions; handlers take it with the `Authed` extractor.
//! 2. The handler parses its body into its request type (`routes::parse_body`).
//! 3. [`admit`]: model access, end user, aliases, the request's own validation, tags, budget
//!    hold, rate limits, spend facts, cache plan (per family: the [`admit::Inference`] trait).
//! 4. The cache lookup (`routes::cache`), then the router call.
//! 5. [`settle`]: cost, rate-limit release, metrics, headers, cache store, spend record (a
//!    stream settles when it ends, in `stream.rs`).
//!
//! To add an endpoint family: a request type implementing [`admit::Inference`] and
//! [`endpoint::Endpoint`] (how it is parsed, the router call it maps to, how its usage is read);
//! its handler is one line, `call.serve::<Family>(None).await` on an [`InferenceCall`].

pub mod admit;
pub mod auth;
pub mod endpoint;
pub mod settle;

pub(crate) use admit::openai_fields;
pub use admit::{admit, Admission, Inference};
pub use auth::{authenticate, Authed};
pub use endpoint::{stream_reply, Endpoint, InferenceCall, RawBody};
pub use settle::{answer_as_requested, reply, routed, settle, stream_start, Done};
