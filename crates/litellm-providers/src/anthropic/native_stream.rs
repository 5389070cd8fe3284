//! The event stream of a native Messages call (see `anthropic_native`): the upstream's SSE body
//! cut at event boundaries and handed on as it arrives, each piece with its events exactly as
//! the upstream framed them and, beside them, the OpenAI chunks the same bytes decode to (the
//! gateway bills and meters from those; the client gets the events).

use std::collections::VecDeque;

use futures::StreamExt;

use litellm_core::{LlmError, NativeEventStream, NativeStreamPiece};

use crate::anthropic::{AnthropicStreamDecoder, CallOptions};
use crate::sse::{SseEvent, SseParser};
use crate::transport::ByteStream;

/// One SSE event written back in the wire format (`event:` line when it had one, one `data:`
/// line per data line, the blank line).
pub fn render_event(ev: &SseEvent) -> String {
    let mut out = String::with_capacity(ev.data.len() + 32);
    if let Some(name) = &ev.event {
        out.push_str("event: ");
        out.push_str(name);
        out.push('\n');
    }
    for line in ev.data.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

struct State<F> {
    body: Option<ByteStream>,
    parser: SseParser,
    decoder: AnthropicStreamDecoder,
    on_error: F,
}

impl<F: Fn(LlmError) -> LlmError> State<F> {
    fn piece(
        &mut self,
        events: Vec<SseEvent>,
        chunks: VecDeque<Result<litellm_core::ChatChunk, LlmError>>,
    ) -> NativeStreamPiece {
        NativeStreamPiece {
            sse: events.iter().map(render_event).collect(),
            chunks: chunks
                .into_iter()
                .map(|c| c.map_err(&self.on_error))
                .collect(),
        }
    }
}

/// The native event stream of an upstream body. `model` names chunks until `message_start`
/// names the upstream's; `on_error` scrubs an error item (the adapter's `stream_error`).
pub fn native_events<F>(body: ByteStream, model: &str, on_error: F) -> NativeEventStream
where
    F: Fn(LlmError) -> LlmError + Send + 'static,
{
    let options = CallOptions {
        json_mode: false,
        include_usage: true,
    };
    let state = State {
        body: Some(body),
        parser: SseParser::new(),
        decoder: AnthropicStreamDecoder::new(model, options),
        on_error,
    };
    Box::pin(futures::stream::unfold(state, |mut st| async move {
        loop {
            let body = st.body.as_mut()?;
            if st.decoder.is_done() {
                // The end event came: never wait for more of the body.
                return None;
            }
            let mut events = Vec::new();
            let mut chunks = VecDeque::new();
            match body.next().await {
                Some(Ok(bytes)) => {
                    st.parser.push(&bytes, &mut events);
                    st.decoder.feed(&bytes, &mut chunks);
                }
                Some(Err(e)) => {
                    st.body = None;
                    return Some((Err((st.on_error)(e)), st));
                }
                None => {
                    st.body = None;
                    st.parser.finish(&mut events);
                    st.decoder.finish(&mut chunks);
                }
            }
            if events.is_empty() && chunks.is_empty() {
                continue;
            }
            let piece = st.piece(events, chunks);
            return Some((Ok(piece), st));
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn body(parts: &[&'static str]) -> ByteStream {
        let parts: Vec<Result<Bytes, LlmError>> = parts
            .iter()
            .map(|p| Ok(Bytes::from_static(p.as_bytes())))
            .collect();
        Box::pin(futures::stream::iter(parts))
    }

    #[tokio::test]
    async fn events_pass_unchanged_with_their_usage_beside_them() {
        let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-x\",\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n";
        let rest = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":7}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        // The first event arrives split across two reads.
        let (a, b) = start.split_at(40);
        let pieces: Vec<_> = native_events(body(&[a, b, rest]), "m", |e| e)
            .collect::<Vec<_>>()
            .await;
        let sse: String = pieces
            .iter()
            .map(|p| p.as_ref().expect("piece").sse.clone())
            .collect();
        assert_eq!(sse, format!("{start}{rest}"));
        let usage = pieces
            .iter()
            .flat_map(|p| p.as_ref().expect("piece").chunks.clone())
            .filter_map(|c| c.expect("chunk").usage)
            .next_back()
            .expect("a usage chunk");
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (12, 7));
    }

    #[tokio::test]
    async fn a_cut_stream_ends_with_an_error_chunk() {
        let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":1}}}\n\n";
        let pieces: Vec<_> = native_events(body(&[start]), "m", |e| e)
            .collect::<Vec<_>>()
            .await;
        let last = pieces.last().expect("pieces").as_ref().expect("piece");
        assert!(last.chunks.iter().any(Result::is_err), "{pieces:?}");
    }
}
