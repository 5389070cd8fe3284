//! The endpoint families beyond chat and embeddings whose bodies travel as JSON objects
//! (rerank, moderations, image generation): which family a call is, its request (the client's
//! body) and its answer (the upstream's body, with what it bills). A backend says which
//! families it serves ([`crate::ModelBackend::serves`]); the router refuses the others before
//! anything is sent.

use serde::Serialize;

use crate::usage::Usage;
use crate::{JsonMap, UpstreamHeaders};

/// A JSON endpoint family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// `POST /v1/rerank` in Cohere's format.
    Rerank,
    /// `POST /v1/moderations`.
    Moderation,
    /// `POST /v1/images/generations`.
    ImageGeneration,
}

impl Family {
    /// Every family, in the order the docs list them.
    pub const ALL: [Family; 3] = [Family::Rerank, Family::Moderation, Family::ImageGeneration];

    /// LiteLLM's `model_info.mode` for deployments of this family.
    pub const fn mode(self) -> &'static str {
        match self {
            Family::Rerank => "rerank",
            Family::Moderation => "moderation",
            Family::ImageGeneration => "image_generation",
        }
    }

    /// The family of a `model_info.mode` value.
    pub fn from_mode(mode: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.mode() == mode)
    }

    /// The path of the family's endpoint below an OpenAI-style base URL.
    pub const fn openai_path(self) -> &'static str {
        match self {
            Family::Rerank => "rerank",
            Family::Moderation => "moderations",
            Family::ImageGeneration => "images/generations",
        }
    }

    /// The spend-log `call_type` (LiteLLM's names).
    pub const fn call_type(self) -> &'static str {
        match self {
            Family::Rerank => "arerank",
            Family::Moderation => "amoderation",
            Family::ImageGeneration => "aimage_generation",
        }
    }

    /// A human name for messages ("rerank", "moderations", "image generation").
    pub const fn label(self) -> &'static str {
        match self {
            Family::Rerank => "rerank",
            Family::Moderation => "moderations",
            Family::ImageGeneration => "image generation",
        }
    }
}

/// A family call: the client's body (`model` is the caller's name; the backend sends its own).
/// Gateway-only fields (`fallbacks`, `num_retries`, `metadata`, ...) are removed before it
/// reaches a backend.
#[derive(Debug, Clone)]
pub struct FamilyRequest {
    pub family: Family,
    pub body: JsonMap,
}

/// What a call bills beyond tokens: rerank queries (Cohere's search units), images and their
/// pixels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Units {
    /// Rerank queries (`billed_units.search_units`, else 1 a call).
    pub queries: u64,
    /// Images generated.
    pub images: u64,
    /// Their pixels (width × height × images), for per-pixel prices.
    pub pixels: u64,
}

/// A family call's answer: the body for the client, in the family's OpenAI (or, for rerank,
/// Cohere) shape.
#[derive(Debug, Clone)]
pub struct FamilyOutput {
    pub body: JsonMap,
    /// Tokens the upstream reports (Jina's and Together's rerank, `gpt-image-1`), if any.
    pub usage: Option<Usage>,
    pub units: Units,
    /// The model the upstream reports, if it does.
    pub model: Option<String>,
    pub upstream_headers: UpstreamHeaders,
}
