//! OpenAI Embeddings wire types, with both `float` and `base64` encodings.

use base64_lite::encode_f32_le;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{wire_struct, JsonMap};

wire_struct! {
    /// `POST /v1/embeddings` request body.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct EmbeddingRequest {
        pub model: String,
        pub input: EmbeddingInput,
        /// `float` (the default) or `base64`.
        pub encoding_format?: String,
        pub dimensions?: u32,
        pub user?: String,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

impl EmbeddingRequest {
    /// A request of `input` for `model`, every option unset.
    pub fn new(model: impl Into<String>, input: EmbeddingInput) -> Self {
        EmbeddingRequest {
            model: model.into(),
            input,
            encoding_format: None,
            dimensions: None,
            user: None,
            extra: JsonMap::new(),
        }
    }

    /// Whether the client asked for base64-encoded vectors.
    pub fn wants_base64(&self) -> bool {
        self.encoding_format.as_deref() == Some("base64")
    }
}

/// `input`: a string, strings, tokens, or batches of tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EmbeddingInput {
    Text(String),
    Texts(Vec<String>),
    Tokens(Vec<u32>),
    TokenBatches(Vec<Vec<u32>>),
}

impl EmbeddingInput {
    /// How many vectors the request asks for.
    pub fn len(&self) -> usize {
        match self {
            EmbeddingInput::Text(_) | EmbeddingInput::Tokens(_) => 1,
            EmbeddingInput::Texts(v) => v.len(),
            EmbeddingInput::TokenBatches(v) => v.len(),
        }
    }

    /// Whether there is nothing to embed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The inputs as texts (token inputs are rendered as their numbers).
    pub fn texts(&self) -> Vec<String> {
        match self {
            EmbeddingInput::Text(s) => vec![s.clone()],
            EmbeddingInput::Texts(v) => v.clone(),
            EmbeddingInput::Tokens(t) => vec![join_tokens(t)],
            EmbeddingInput::TokenBatches(b) => b.iter().map(|t| join_tokens(t)).collect(),
        }
    }
}

fn join_tokens(t: &[u32]) -> String {
    t.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
}

wire_struct! {
    /// The embeddings response: `{"object": "list", "data": [...], "model", "usage"}`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    pub struct EmbeddingResponse {
        #[serde(default = "list_object")]
        pub object: String,
        pub data: Vec<Embedding>,
        pub model: String,
        pub usage?: EmbeddingUsage,
        #[serde(flatten)]
        #[schema(value_type = Object)]
        pub extra: JsonMap,
    }
}

fn list_object() -> String {
    "list".to_string()
}

/// One vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Embedding {
    #[serde(default = "embedding_object")]
    pub object: String,
    pub index: u32,
    pub embedding: EmbeddingVector,
}

fn embedding_object() -> String {
    "embedding".to_string()
}

/// A vector as floats, or as base64 of little-endian `f32`s (`encoding_format: base64`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EmbeddingVector {
    Float(Vec<f32>),
    Base64(String),
}

impl EmbeddingVector {
    /// This vector in base64 form (floats are encoded as little-endian `f32`, as OpenAI does).
    pub fn into_base64(self) -> EmbeddingVector {
        match self {
            EmbeddingVector::Float(v) => EmbeddingVector::Base64(encode_f32_le(&v)),
            b @ EmbeddingVector::Base64(_) => b,
        }
    }
}

/// Token usage of an embeddings call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmbeddingUsage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

/// A dependency-free standard base64 encoder for `f32` vectors (core stays free of IO crates).
mod base64_lite {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// Standard base64 (with padding) of the little-endian bytes of `v`.
    pub fn encode_f32_le(v: &[f32]) -> String {
        let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_openai_encoding_of_le_f32() {
        // 1.0f32 = 0x3f800000 -> LE bytes 00 00 80 3f -> "AACAPw=="
        assert_eq!(
            EmbeddingVector::Float(vec![1.0]).into_base64(),
            EmbeddingVector::Base64("AACAPw==".into())
        );
        // Two floats (8 bytes) need one padding char.
        assert_eq!(
            EmbeddingVector::Float(vec![1.0, -2.0]).into_base64(),
            EmbeddingVector::Base64("AACAPwAAAMA=".into())
        );
    }

    #[test]
    fn input_shapes_parse() {
        let cases = [
            (r#""hi""#, 1),
            (r#"["a","b","c"]"#, 3),
            (r#"[1,2,3]"#, 1),
            (r#"[[1,2],[3]]"#, 2),
        ];
        for (json, n) in cases {
            let input: EmbeddingInput = serde_json::from_str(json).expect(json);
            assert_eq!(input.len(), n, "{json}");
        }
    }
}
