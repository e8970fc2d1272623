//! A streaming multipart/form-data reader for uploads. It looks at each chunk the connection
//! delivers and copies the bytes of the `file_data` file part straight from that chunk into the
//! upload's one buffer: no intermediate buffer holds the body (a general parser such as multer
//! first appends every chunk that is ready to a buffer of its own, a second copy of much of the
//! file). Only part headers and the few bytes that may begin a boundary are kept between chunks.

use crate::error::{Error, Result};
use crate::service::tickets::{file_too_large, Upload};

/// The most a part's headers may take.
const MAX_HEAD: usize = 16 * 1024;

/// What the last part named `file_data` was.
pub enum FileDataPart {
    Text { empty: bool },
    File(Upload),
}

/// Where the bytes of the current part go.
enum Sink {
    Discard,
    Text { len: usize },
    File(Upload),
}

enum Phase {
    /// In a part's body (or the preamble, read as a body that is thrown away).
    Body,
    /// Just after a delimiter: `--` ends the body, CRLF starts a part's headers.
    AfterDelimiter,
    Headers,
    Done,
}

pub struct Reader {
    /// CRLF, `--` and the boundary.
    delimiter: Vec<u8>,
    /// Bytes kept between chunks: headers, or the start of what may be a delimiter.
    pending: Vec<u8>,
    phase: Phase,
    sink: Sink,
    last: Option<FileDataPart>,
    /// The file buffer's capacity, and the most it may hold.
    capacity: usize,
    limit: usize,
}

pub fn malformed(why: &str) -> Error {
    Error::MalformedBody(format!("Multipart form parse error - {why}"))
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(i) = hay.get(from..)?.iter().position(|b| *b == first) {
        let at = from + i;
        if hay.get(at..at + needle.len()) == Some(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

impl Reader {
    pub fn new(boundary: &str, capacity: usize, limit: usize) -> Reader {
        Reader {
            delimiter: [b"\r\n--", boundary.as_bytes()].concat(),
            // The body starts with `--boundary`: read it as if a CRLF came first.
            pending: b"\r\n".to_vec(),
            phase: Phase::Body,
            sink: Sink::Discard,
            last: None,
            capacity,
            limit,
        }
    }

    /// Takes the next chunk of the body.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            data = match self.phase {
                Phase::Body => self.body(data)?,
                Phase::AfterDelimiter => self.after_delimiter(data)?,
                Phase::Headers => self.headers(data)?,
                Phase::Done => return Ok(()),
            };
        }
        Ok(())
    }

    /// Whether the closing boundary has been read (the rest is an epilogue).
    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    /// The last `file_data` part, once the body has ended; an error if it ended early.
    pub fn finish(self) -> Result<Option<FileDataPart>> {
        match self.phase {
            Phase::Done => Ok(self.last),
            _ => Err(malformed("incomplete body")),
        }
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match &mut self.sink {
            Sink::Discard => {}
            Sink::Text { len } => *len += bytes.len(),
            Sink::File(upload) => {
                if upload.data.len() + bytes.len() > self.limit {
                    return Err(file_too_large(self.limit));
                }
                upload.data.extend_from_slice(bytes);
            }
        }
        Ok(())
    }

    /// Body bytes up to the next delimiter; answers what follows it in `data`.
    fn body<'d>(&mut self, data: &'d [u8]) -> Result<&'d [u8]> {
        let d = self.delimiter.len();
        if !self.pending.is_empty() {
            // `pending` is a proper prefix of the delimiter: does `data` complete it?
            let p = self.pending.len();
            let want = &self.delimiter[p..];
            let n = want.len().min(data.len());
            if data[..n] == want[..n] {
                if n < want.len() {
                    self.pending.extend_from_slice(data);
                    return Ok(&[]);
                }
                self.pending.clear();
                self.end_part();
                return Ok(&data[n..]);
            }
            // Not a delimiter: those bytes were the part's (none other can start one, as the
            // delimiter has no second CR).
            let kept = std::mem::take(&mut self.pending);
            self.write(&kept)?;
        }
        if let Some(i) = find(data, &self.delimiter) {
            self.write(&data[..i])?;
            self.end_part();
            return Ok(&data[i + d..]);
        }
        // Keep a tail that may begin a delimiter.
        let tail_from = data.len().saturating_sub(d - 1);
        let split = (tail_from..data.len())
            .find(|&j| self.delimiter.starts_with(&data[j..]))
            .unwrap_or(data.len());
        self.write(&data[..split])?;
        self.pending.extend_from_slice(&data[split..]);
        Ok(&[])
    }

    /// The part whose body just ended is recorded if it was `file_data`.
    fn end_part(&mut self) {
        match std::mem::replace(&mut self.sink, Sink::Discard) {
            Sink::Discard => {}
            Sink::Text { len } => self.last = Some(FileDataPart::Text { empty: len == 0 }),
            Sink::File(upload) => self.last = Some(FileDataPart::File(upload)),
        }
        self.phase = Phase::AfterDelimiter;
    }

    fn after_delimiter<'d>(&mut self, data: &'d [u8]) -> Result<&'d [u8]> {
        for (i, &b) in data.iter().enumerate() {
            let used = i + 1;
            self.pending.push(b);
            // Transport padding (spaces and tabs) may follow the boundary.
            let seen: Vec<u8> = self
                .pending
                .iter()
                .copied()
                .filter(|c| *c != b' ' && *c != b'\t')
                .collect();
            match seen.as_slice() {
                [] | [b'-'] | [b'\r'] => {}
                [b'-', b'-', ..] => {
                    self.pending.clear();
                    self.phase = Phase::Done;
                    return Ok(&[]);
                }
                [b'\r', b'\n'] => {
                    self.pending.clear();
                    self.phase = Phase::Headers;
                    return Ok(&data[used..]);
                }
                _ => return Err(malformed("bad boundary line")),
            }
            if self.pending.len() > 256 {
                return Err(malformed("bad boundary line"));
            }
        }
        Ok(&[])
    }

    /// A part's headers, up to the empty line; answers the body bytes after them in `data`.
    fn headers<'d>(&mut self, data: &'d [u8]) -> Result<&'d [u8]> {
        let before = self.pending.len();
        let take = data.len().min(MAX_HEAD + 4 - before);
        self.pending.extend_from_slice(&data[..take]);
        // No headers at all: the empty line comes first.
        let found = if self.pending.starts_with(b"\r\n") {
            Some((0, 2))
        } else {
            find(&self.pending, b"\r\n\r\n").map(|end| (end, end + 4))
        };
        let Some((head_len, body_from)) = found else {
            if self.pending.len() >= MAX_HEAD {
                return Err(malformed("part headers too large"));
            }
            return Ok(&[]);
        };
        // Header values hold no control characters (a NUL in a file name, say), as in HTTP.
        if self.pending[..head_len]
            .iter()
            .any(|&b| b != b'\t' && b != b'\r' && b != b'\n' && (b < 0x20 || b == 0x7f))
        {
            return Err(malformed("part headers hold a control character"));
        }
        let head = String::from_utf8_lossy(&self.pending[..head_len]).into_owned();
        let rest = body_from - before;
        self.pending.clear();
        self.start_part(&head);
        self.phase = Phase::Body;
        Ok(&data[rest..])
    }

    fn start_part(&mut self, head: &str) {
        let (mut name, mut filename, mut content_type) = (None, None, None);
        for line in head.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            if key == "content-disposition" {
                name = param(value, "name");
                filename = param(value, "filename");
            } else if key == "content-type" {
                content_type = Some(value.trim().to_string()).filter(|v| !v.is_empty());
            }
        }
        self.sink = match (name.as_deref(), filename) {
            (Some("file_data"), Some(filename)) => {
                // A later file replaces an earlier one: free that buffer first.
                self.last = None;
                Sink::File(Upload {
                    data: Vec::with_capacity(self.capacity),
                    filename: Some(filename),
                    content_type,
                })
            }
            (Some("file_data"), None) => Sink::Text { len: 0 },
            _ => Sink::Discard,
        };
    }
}

/// A `Content-Disposition` parameter (`name="x"` or `name=x`).
fn param(value: &str, key: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case(key) {
            return None;
        }
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        Some(v.replace("\\\"", "\"").replace("\\\\", "\\"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Vec<u8> {
        let mut b = b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--XyZ\r\n\
Content-Disposition: form-data; name=\"file_data\"; filename=\"a \\\"b\\\".bin\"\r\nContent-Type: image/png\r\n\r\n"
            .to_vec();
        // File bytes that hold near-delimiters: CRLF, CRLF-, CRLF--X, a lone CR.
        b.extend_from_slice(b"\r\n-\r\n--X\r\r\n--Xy\x00\xff data \r\n");
        b.extend_from_slice(b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"other\"; filename=\"o\"\r\n\r\nzz\r\n--XyZ--\r\nepilogue");
        b
    }

    fn read(chunks: &[&[u8]], limit: usize) -> Result<Option<FileDataPart>> {
        let mut r = Reader::new("XyZ", 4, limit);
        for c in chunks {
            r.feed(c)?;
        }
        r.finish()
    }

    #[test]
    fn the_file_part_is_found_however_the_body_is_split() {
        let b = body();
        let expected = b"\r\n-\r\n--X\r\r\n--Xy\x00\xff data \r\n".to_vec();
        for at in 0..=b.len() {
            for second in at..=b.len() {
                let parts = [&b[..at], &b[at..second], &b[second..]];
                let Ok(Some(FileDataPart::File(u))) = read(&parts, 1000) else {
                    panic!("split at {at}, {second}: no file");
                };
                assert_eq!(u.data, expected, "split at {at}, {second}");
                assert_eq!(u.filename.as_deref(), Some("a \"b\".bin"));
                assert_eq!(u.content_type.as_deref(), Some("image/png"));
            }
        }
        let bytes: Vec<&[u8]> = b.chunks(1).collect();
        assert!(matches!(
            read(&bytes, 1000),
            Ok(Some(FileDataPart::File(_)))
        ));
    }

    #[test]
    fn text_parts_bad_bodies_and_the_limit() {
        let text =
            b"--B\r\nContent-Disposition: form-data; name=\"file_data\"\r\n\r\n\r\n--B--\r\n";
        let mut r = Reader::new("B", 0, 10);
        r.feed(text).unwrap();
        assert!(matches!(
            r.finish(),
            Ok(Some(FileDataPart::Text { empty: true }))
        ));
        assert!(read(&[b"--XyZ\r\nContent-Disposition: form-data; name=\"file_data\"; filename=\"f\"\r\n\r\nabc"], 100).is_err());
        assert!(read(&[b"not multipart at all"], 100).is_err());
        assert!(matches!(
            read(&[&body()], 5),
            Err(Error::PayloadTooLarge(_))
        ));
        assert!(matches!(read(&[b"--XyZ--\r\n"], 5), Ok(None)));
    }
}
