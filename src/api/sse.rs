//! Server-sent events as the MCP relay reads them from a streamed `exec` or `run` and writes
//! them to its client: an incremental parser (chunks may split events and UTF-8 sequences) and
//! the encoder.

/// One thing a stream carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Event {
        name: String,
        data: String,
    },
    /// A comment line (`: ...`), such as a heartbeat.
    Comment(String),
}

/// Splits a byte stream into [`Item`]s.
#[derive(Debug, Default)]
pub struct Parser {
    pending: Vec<u8>,
}

impl Parser {
    /// Feeds bytes; answers the items completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Item> {
        self.pending.extend_from_slice(bytes);
        let mut items = Vec::new();
        while let Some(end) = find_blank_line(&self.pending) {
            let block: Vec<u8> = self.pending.drain(..end.0).collect();
            self.pending.drain(..end.1 - end.0);
            items.extend(parse_block(&String::from_utf8_lossy(&block)));
        }
        items
    }
}

/// `(end of block, start of the next)` of the first blank line.
fn find_blank_line(bytes: &[u8]) -> Option<(usize, usize)> {
    let lf = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i, i + 2));
    let crlf = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn parse_block(block: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut name = None;
    let mut data: Option<String> = None;
    for line in block.lines() {
        if let Some(comment) = line.strip_prefix(':') {
            items.push(Item::Comment(comment.trim_start().to_string()));
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => name = Some(value.to_string()),
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_string()),
            },
            _ => {}
        }
    }
    if let Some(data) = data {
        items.push(Item::Event {
            name: name.unwrap_or_else(|| "message".into()),
            data,
        });
    }
    items
}

/// One event; data with newlines becomes several `data:` lines.
pub fn encode(name: &str, data: &str) -> String {
    let mut out = format!("event: {name}\n");
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// A comment (heartbeat).
pub fn comment(text: &str) -> String {
    format!(": {text}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_are_reassembled() {
        let stream = format!(
            "{}{}{}",
            encode("stdout", r#"{"text":"héllo"}"#),
            comment("keepalive"),
            encode("result", "{\"a\":\n1}")
        );
        let bytes = stream.as_bytes();
        for cut in 0..bytes.len() {
            let mut parser = Parser::default();
            let mut items = parser.push(&bytes[..cut]);
            items.extend(parser.push(&bytes[cut..]));
            assert_eq!(
                items,
                vec![
                    Item::Event {
                        name: "stdout".into(),
                        data: r#"{"text":"héllo"}"#.into()
                    },
                    Item::Comment("keepalive".into()),
                    Item::Event {
                        name: "result".into(),
                        data: "{\"a\":\n1}".into()
                    },
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn crlf_and_unnamed_events() {
        let mut parser = Parser::default();
        assert_eq!(
            parser.push(b"data: x\r\n\r\n"),
            vec![Item::Event {
                name: "message".into(),
                data: "x".into()
            }]
        );
    }
}
