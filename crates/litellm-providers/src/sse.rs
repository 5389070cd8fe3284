//! An incremental Server-Sent Events parser: bytes go in as they arrive from the network, in
//! chunks of any size, and complete events come out.
//!
//! It follows the WHATWG `text/event-stream` rules: lines end with `\n`, `\r\n` or a lone `\r`
//! (a `\r\n` split across two chunks counts once); a blank line dispatches the event; `data:`
//! lines accumulate joined by `\n`; `event:` and `id:` set the event's type and id; lines starting
//! with `:` are comments; one space after the colon is dropped; a leading UTF-8 BOM is skipped.
//! An event without any `data:` line is not dispatched. The `[DONE]` terminator OpenAI sends is an
//! ordinary event here (`data == "[DONE]"`); the provider's stream decoder interprets it.

/// One complete event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when the event had one.
    pub event: Option<String>,
    /// The `data:` lines joined by `\n`.
    pub data: String,
    /// The `id:` field, when the event had one.
    pub id: Option<String>,
}

/// The parser state: the unfinished line and the event being assembled.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of the current line that has not ended yet.
    line: Vec<u8>,
    /// Data lines of the current event, each followed by `\n`.
    data: String,
    /// Whether the current event has seen a `data:` line (an empty `data:` still counts).
    has_data: bool,
    event: Option<String>,
    id: Option<String>,
    /// The previous chunk ended with `\r`: a `\n` starting the next chunk belongs to it.
    skip_lf: bool,
    /// Whether the start of the stream (and its optional BOM) has been handled.
    started: bool,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes of the stream and appends every event they complete to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) {
        if !self.started {
            // The BOM may itself be split across chunks, so wait for three bytes (or a mismatch).
            let mut probe = std::mem::take(&mut self.line);
            probe.extend_from_slice(chunk);
            if probe.len() < BOM.len() && BOM.starts_with(&probe) {
                self.line = probe;
                return;
            }
            self.started = true;
            let rest = probe.strip_prefix(BOM).unwrap_or(&probe);
            // Re-feed what we held back plus this chunk as one slice.
            let rest = rest.to_vec();
            self.push_lines(&rest, out);
            return;
        }
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        self.push_lines(chunk, out);
    }

    fn push_lines(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) {
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', chunk) {
            let (head, tail) = chunk.split_at(pos);
            let is_cr = tail[0] == b'\r';
            chunk = &tail[1..];
            if is_cr {
                match chunk.first() {
                    Some(b'\n') => chunk = &chunk[1..],
                    Some(_) => {}
                    // The `\n` of a `\r\n` may start the next chunk.
                    None => self.skip_lf = true,
                }
            }
            if self.line.is_empty() {
                self.process_line(head, out);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(head);
                self.process_line(&line, out);
                // Keep the allocation for the next partial line.
                line.clear();
                self.line = line;
            }
        }
        self.line.extend_from_slice(chunk);
    }

    /// Ends the stream. A final event not followed by a blank line is dispatched when its last
    /// line is complete or holds a field (servers that close right after `data: [DONE]\n` are
    /// common), which is more lenient than the spec's "discard".
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if !self.started {
            self.started = true;
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
        }
        self.dispatch(out);
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                self.data.push_str(&String::from_utf8_lossy(value));
                self.data.push('\n');
                self.has_data = true;
            }
            b"event" => self.event = Some(String::from_utf8_lossy(value).into_owned()),
            // Per spec, an id containing NUL is ignored.
            b"id" if !value.contains(&0) => {
                self.id = Some(String::from_utf8_lossy(value).into_owned());
            }
            // `retry:` and unknown fields are ignored.
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if !self.has_data {
            // An event without data is dropped, along with its type.
            self.event = None;
            self.data.clear();
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        self.has_data = false;
        out.push(SseEvent {
            event: self.event.take(),
            data,
            id: self.id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(pieces: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for piece in pieces {
            p.push(piece, &mut out);
        }
        p.finish(&mut out);
        out
    }

    fn ev(event: Option<&str>, data: &str, id: Option<&str>) -> SseEvent {
        SseEvent {
            event: event.map(str::to_string),
            data: data.to_string(),
            id: id.map(str::to_string),
        }
    }

    /// A stream exercising every rule: comments, CRLF, lone CR, multi-line data, event and id
    /// fields, a field without a colon, no space after the colon, a data-less event, a multi-byte
    /// character, and the OpenAI terminator.
    const STREAM: &[u8] = b"\xEF\xBB\xBF: keep-alive comment\r\n\
data: {\"a\":1}\r\n\r\n\
event: ping\nid: 7\ndata: line one\ndata:line two\n\n\
event: ignored-without-data\n\n\
data\n\n\
data: caf\xC3\xA9 \xE2\x82\xAC\r\rdata: {\"b\":2}\n\n\
retry: 100\ndata: [DONE]\n\n";

    fn expected() -> Vec<SseEvent> {
        vec![
            ev(None, "{\"a\":1}", None),
            ev(Some("ping"), "line one\nline two", Some("7")),
            ev(None, "", Some("7")),
            ev(None, "café €", Some("7")),
            ev(None, "{\"b\":2}", Some("7")),
            ev(None, "[DONE]", Some("7")),
        ]
    }

    #[test]
    fn whole_stream_parses() {
        assert_eq!(parse_in_pieces(&[STREAM]), expected());
    }

    #[test]
    fn every_single_split_point_gives_the_same_events() {
        for i in 0..=STREAM.len() {
            let (a, b) = STREAM.split_at(i);
            assert_eq!(parse_in_pieces(&[a, b]), expected(), "split at {i}");
        }
    }

    #[test]
    fn every_pair_of_split_points_gives_the_same_events() {
        for i in 0..=STREAM.len() {
            for j in i..=STREAM.len() {
                let (a, rest) = STREAM.split_at(i);
                let (b, c) = rest.split_at(j - i);
                assert_eq!(parse_in_pieces(&[a, b, c]), expected(), "split at {i},{j}");
            }
        }
    }

    #[test]
    fn byte_by_byte_with_empty_chunks_between_gives_the_same_events() {
        let mut pieces: Vec<&[u8]> = Vec::new();
        for b in STREAM.chunks(1) {
            pieces.push(b);
            pieces.push(b"");
        }
        assert_eq!(parse_in_pieces(&pieces), expected());
    }

    #[test]
    fn events_are_emitted_as_soon_as_their_blank_line_arrives() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        p.push(b"data: one\n", &mut out);
        assert!(out.is_empty(), "no blank line yet");
        p.push(b"\ndata: two", &mut out);
        assert_eq!(out, vec![ev(None, "one", None)]);
        p.push(b"\n\n", &mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn a_final_event_without_blank_line_is_flushed_at_the_end() {
        assert_eq!(
            parse_in_pieces(&[b"data: x\n\ndata: [DONE]"]),
            vec![ev(None, "x", None), ev(None, "[DONE]", None)]
        );
        assert_eq!(
            parse_in_pieces(&[b"data: [DONE]\n"]),
            vec![ev(None, "[DONE]", None)]
        );
    }

    #[test]
    fn a_short_stream_that_looks_like_a_bom_prefix_is_not_lost() {
        assert_eq!(parse_in_pieces(&[b"\xEF"]), vec![]);
        assert_eq!(
            parse_in_pieces(&[b"da", b"ta: z\n\n"]),
            vec![ev(None, "z", None)]
        );
    }
}
