//! Response and output-item ids. A response id carries the deployment that answered
//! (`resp_` + base64url of `litellm:deployment:<id>;uuid:<uuid>`, as LiteLLM encodes its
//! response ids), so a follow-up with `previous_response_id` can be routed back to it; item ids
//! (`msg_...`, `fc_...`, `rs_...`) derive from the response id and the item's position, so the
//! streamed events and the final response name the same items.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

const PREFIX: &str = "litellm:deployment:";
const UUID_SEP: &str = ";uuid:";

/// A new response id naming `deployment_id`.
pub fn encode_response_id(deployment_id: &str) -> String {
    let raw = format!(
        "{PREFIX}{deployment_id}{UUID_SEP}{}",
        uuid::Uuid::new_v4().simple()
    );
    format!("resp_{}", URL_SAFE_NO_PAD.encode(raw))
}

/// The deployment id in a response id made by [`encode_response_id`]; `None` for any other
/// id (OpenAI's own `resp_...` ids, garbage).
pub fn decode_response_id(id: &str) -> Option<String> {
    let b64 = id.strip_prefix("resp_")?;
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(b64).ok()?).ok()?;
    let rest = raw.strip_prefix(PREFIX)?;
    let (deployment, uuid) = rest.rsplit_once(UUID_SEP)?;
    if uuid.is_empty() {
        return None;
    }
    Some(deployment.to_string())
}

fn fnv1a(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h = seed;
    for part in parts {
        for b in part.iter().chain(&[0xff]) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The id of output item `index` of response `response_id`: `prefix` (`msg`, `fc`, `rs`) +
/// `_` + 32 hex digits derived from both (stable, so tests and the stream can predict it).
pub fn item_id(prefix: &str, response_id: &str, index: usize) -> String {
    let idx = index.to_le_bytes();
    let parts: [&[u8]; 3] = [prefix.as_bytes(), response_id.as_bytes(), &idx];
    format!(
        "{prefix}_{:016x}{:016x}",
        fnv1a(0xcbf2_9ce4_8422_2325, &parts),
        fnv1a(0x6c62_272e_07bb_0142, &parts)
    )
}
