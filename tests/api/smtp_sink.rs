//! An in-process SMTP server for the tests: speaks enough of RFC 5321 (EHLO/HELO, AUTH PLAIN
//! and LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for `lettre`, records what it accepted, and
//! can be told to answer a 4xx, a 5xx, slowly, or to refuse the login (535, as Gmail does).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How the sink answers one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 250 after DATA.
    Accept,
    /// 451 after DATA (a temporary failure).
    Transient,
    /// 550 to RCPT (no such mailbox).
    Permanent,
}

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and MIME body), dot-unstuffed.
    pub data: String,
    /// The connection it came on (0, 1, ...): equal numbers mean a reused connection.
    pub connection: usize,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    answers: VecDeque<Answer>,
    /// Each message waits this long before its 250.
    delay: Duration,
    /// When set, only this user and password log in.
    login: Option<(String, String)>,
    connections: usize,
    logins: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = shared.clone();
                let n = {
                    let mut s = state.lock().unwrap();
                    s.connections += 1;
                    s.connections - 1
                };
                tokio::spawn(async move {
                    let _ = serve(socket, state, n).await;
                });
            }
        });
        SmtpSink { addr, state }
    }

    /// The next messages get these answers, in order; then every message is accepted.
    pub fn answer_next(&self, answers: &[Answer]) {
        self.state
            .lock()
            .unwrap()
            .answers
            .extend(answers.iter().cloned());
    }

    /// Every message waits `delay` before it is accepted.
    pub fn slow(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    /// Only `user` with `password` may log in; anyone else gets 535.
    pub fn require_login(&self, user: &str, password: &str) {
        self.state.lock().unwrap().login = Some((user.into(), password.into()));
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// How many connections clients opened.
    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// The user names and passwords clients logged in with.
    pub fn logins(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().logins.clone()
    }

    pub fn clear(&self) {
        self.state.lock().unwrap().received.clear();
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn unb64(s: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn address(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg.find('>').unwrap_or(arg.len());
    arg[start..end].to_string()
}

async fn serve(
    socket: tokio::net::TcpStream,
    state: Arc<Mutex<State>>,
    connection: usize,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut answer = Answer::Accept;
    let mut line = String::new();
    // Reads one line without its CRLF; `None` at the end of the stream.
    macro_rules! next_line {
        () => {{
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            line.trim_end_matches(['\r', '\n']).to_string()
        }};
    }
    loop {
        let command = next_line!();
        let upper = command.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or("").to_string();
        let reply: String = match verb.as_str() {
            "EHLO" => {
                "250-sink.test\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".into()
            }
            "HELO" => "250 sink.test\r\n".into(),
            "AUTH" => {
                let parts: Vec<&str> = command.split_whitespace().collect();
                let (user, password) = match parts.get(1).map(|m| m.to_ascii_uppercase()).as_deref()
                {
                    Some("PLAIN") => {
                        let initial = match parts.get(2) {
                            Some(i) => i.to_string(),
                            None => {
                                write.write_all(b"334 \r\n").await?;
                                next_line!()
                            }
                        };
                        let decoded = unb64(&initial);
                        let mut fields = decoded.split('\0').skip(1);
                        (
                            fields.next().unwrap_or("").to_string(),
                            fields.next().unwrap_or("").to_string(),
                        )
                    }
                    Some("LOGIN") => {
                        let user = match parts.get(2) {
                            Some(u) => unb64(u),
                            None => {
                                write
                                    .write_all(format!("334 {}\r\n", b64("Username:")).as_bytes())
                                    .await?;
                                unb64(&next_line!())
                            }
                        };
                        write
                            .write_all(format!("334 {}\r\n", b64("Password:")).as_bytes())
                            .await?;
                        (user, unb64(&next_line!()))
                    }
                    _ => {
                        write
                            .write_all(b"504 5.5.4 Unrecognized authentication type\r\n")
                            .await?;
                        continue;
                    }
                };
                let ok = {
                    let mut s = state.lock().unwrap();
                    s.logins.push((user.clone(), password.clone()));
                    s.login.as_ref().is_none_or(|l| *l == (user, password))
                };
                if ok {
                    "235 2.7.0 Accepted\r\n".into()
                } else {
                    "535-5.7.8 Username and Password not accepted. For more information, go to\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials\r\n".into()
                }
            }
            "MAIL" => {
                from = address(&command);
                to.clear();
                answer = state
                    .lock()
                    .unwrap()
                    .answers
                    .pop_front()
                    .unwrap_or(Answer::Accept);
                "250 2.1.0 OK\r\n".into()
            }
            "RCPT" => {
                if answer == Answer::Permanent {
                    "550-5.1.1 The email account that you tried to reach does not exist.\r\n550 5.1.1 Please try double-checking the recipient's email address.\r\n".into()
                } else {
                    to.push(address(&command));
                    "250 2.1.5 OK\r\n".into()
                }
            }
            "DATA" => {
                write.write_all(b"354 Go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    let l = next_line!();
                    if l == "." {
                        break;
                    }
                    data.push_str(
                        l.strip_prefix('.')
                            .filter(|_| l.starts_with(".."))
                            .unwrap_or(&l),
                    );
                    data.push_str("\r\n");
                }
                let delay = state.lock().unwrap().delay;
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                if answer == Answer::Transient {
                    "451 4.3.0 Mail server temporarily rejected message, try again later\r\n".into()
                } else {
                    state.lock().unwrap().received.push(Received {
                        from: from.clone(),
                        to: to.clone(),
                        data,
                        connection,
                    });
                    "250 2.0.0 OK queued\r\n".into()
                }
            }
            "RSET" => {
                from.clear();
                to.clear();
                "250 2.0.0 OK\r\n".into()
            }
            "NOOP" => "250 2.0.0 OK\r\n".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 closing connection\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.1 Unrecognized command\r\n".into(),
        };
        write.write_all(reply.as_bytes()).await?;
    }
}

// ---------------------------------------------------------------------------------------------
// Reading what was received

fn unfold_headers(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    out
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_part(headers: &[(String, String)], body: &str) -> String {
    match header(headers, "content-transfer-encoding")
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("base64") => unb64(&body.replace("\r\n", "")),
        Some("quoted-printable") => quoted_printable(body),
        _ => body.to_string(),
    }
}

/// `=?utf-8?b?...?=` and `=?utf-8?q?...?=` words of a header, decoded (the space between two
/// encoded words is not part of the text, RFC 2047).
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut previous_encoded = false;
    for word in value.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        let encoded = word.ends_with("?=")
            && (lower.starts_with("=?utf-8?b?") || lower.starts_with("=?utf-8?q?"));
        if !out.is_empty() && (!encoded || !previous_encoded) {
            out.push(' ');
        }
        if encoded && lower.starts_with("=?utf-8?b?") {
            out.push_str(&unb64(&word[10..word.len() - 2]));
        } else if encoded {
            out.push_str(&quoted_printable(
                &word[10..word.len() - 2].replace('_', " "),
            ));
        } else {
            out.push_str(word);
        }
        previous_encoded = encoded;
    }
    out
}

impl Received {
    fn split(&self) -> (Vec<(String, String)>, &str) {
        let (head, body) = self.data.split_once("\r\n\r\n").unwrap_or((&self.data, ""));
        (unfold_headers(head), body)
    }

    pub fn subject(&self) -> String {
        let (headers, _) = self.split();
        decode_words(header(&headers, "subject").unwrap_or(""))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let (headers, _) = self.split();
        header(&headers, &name.to_ascii_lowercase()).map(str::to_string)
    }

    /// The decoded body of the part of this content type (`text/plain`, `text/html`).
    pub fn part(&self, content_type: &str) -> Option<String> {
        let (headers, body) = self.split();
        let top = header(&headers, "content-type").unwrap_or("text/plain");
        let Some(boundary) = top.split("boundary=").nth(1) else {
            return top
                .starts_with(content_type)
                .then(|| decode_part(&headers, body));
        };
        let boundary = format!(
            "--{}",
            boundary.trim_matches('"').split(';').next().unwrap()
        );
        body.split(boundary.as_str()).find_map(|chunk| {
            let chunk = chunk.trim_start_matches("\r\n");
            let (head, part) = chunk.split_once("\r\n\r\n")?;
            let h = unfold_headers(head);
            header(&h, "content-type")
                .is_some_and(|t| t.starts_with(content_type))
                .then(|| decode_part(&h, part.trim_end_matches("\r\n")))
        })
    }

    pub fn text(&self) -> String {
        self.part("text/plain").unwrap_or_default()
    }

    pub fn html(&self) -> String {
        self.part("text/html").unwrap_or_default()
    }
}
