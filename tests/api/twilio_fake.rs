//! A fake Twilio Messages resource that keeps what it accepted, shared by the API tests and
//! the kill loop (`tests/kill_loop.rs`): a POST is held and answered 201, a GET lists the held
//! messages to `To` as Twilio's message list does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use wiremock::matchers::{path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The messages path of the test account (`AC0123456789abcdef0123456789abcdef`).
pub const MESSAGES: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";

/// A message's status and error code as a fetch answers them.
type Fetched = (String, Option<i64>);

/// A message the fake accepted.
#[derive(Debug, Clone)]
pub struct Held {
    pub sid: String,
    pub to: String,
    pub from: String,
    pub body: String,
}

/// Twilio's Messages resource, kept in memory: a POST is answered 201 and held (unless
/// `fail` says this request fails), a GET lists the held messages to `To`.
#[derive(Clone, Default)]
pub struct TwilioFake {
    pub held: Arc<Mutex<Vec<Held>>>,
    /// What `GET Messages/{sid}.json` answers: the status and error code Twilio holds.
    statuses: Arc<Mutex<HashMap<String, Fetched>>>,
    fetches: Arc<AtomicUsize>,
    lookups: Arc<AtomicUsize>,
    posts: Arc<AtomicUsize>,
    /// How long an accepted message's answer takes (the message is held at once).
    delay: Duration,
    /// The answer to the n-th POST (from 0) when it is not accepted.
    fail: Option<Arc<dyn Fn(usize) -> Option<ResponseTemplate> + Send + Sync>>,
}

impl TwilioFake {
    pub fn failing(
        fail: impl Fn(usize) -> Option<ResponseTemplate> + Send + Sync + 'static,
    ) -> Self {
        TwilioFake {
            fail: Some(Arc::new(fail)),
            ..TwilioFake::default()
        }
    }

    /// A fake whose accepted messages are answered after `delay`.
    pub fn answering_in(delay: Duration) -> Self {
        TwilioFake {
            delay,
            ..TwilioFake::default()
        }
    }

    pub async fn start(&self) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(path(MESSAGES))
            .respond_with(self.clone())
            .mount(&server)
            .await;
        Mock::given(path_regex(r"/Messages/SM[0-9a-f]{32}\.json$"))
            .respond_with(self.clone())
            .mount(&server)
            .await;
        server
    }

    /// Holds a message as if an earlier POST had created it.
    pub fn hold(&self, to: &str, body: &str) -> String {
        let mut held = self.held.lock().unwrap();
        let sid = format!("SM{:032x}", 0xfeed_0000 + held.len());
        held.push(Held {
            sid: sid.clone(),
            to: to.into(),
            from: "whatsapp:+14155238886".into(),
            body: body.into(),
        });
        sid
    }

    pub fn posts(&self) -> usize {
        self.posts.load(Ordering::SeqCst)
    }

    /// Message-list look-ups (`GET Messages.json?To=...`) so far.
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }

    /// Status fetches (`GET Messages/{sid}.json`) so far.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// What Twilio holds for message `sid` (a callback that never arrived).
    pub fn set_status(&self, sid: &str, status: &str, error_code: Option<i64>) {
        self.statuses
            .lock()
            .unwrap()
            .insert(sid.to_string(), (status.to_string(), error_code));
    }
}

impl Respond for TwilioFake {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if let Some(sid) = req
            .url
            .path()
            .strip_suffix(".json")
            .and_then(|p| p.rsplit_once("/Messages/"))
            .map(|(_, sid)| sid)
        {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            let known = self.statuses.lock().unwrap().get(sid).cloned();
            let (status, code) = known.unwrap_or(("sent".into(), None));
            return ResponseTemplate::new(200)
                .set_body_json(json!({"sid": sid, "status": status, "error_code": code}));
        }
        if req.method.as_str() == "GET" {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            let to: String = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "To")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let messages: Vec<Value> = self
                .held
                .lock()
                .unwrap()
                .iter()
                .rev()
                .filter(|m| m.to == to)
                .map(|m| json!({"sid": m.sid, "to": m.to, "from": m.from, "body": m.body, "status": "sent",
                    "date_created": Utc::now().to_rfc2822()}))
                .collect();
            return ResponseTemplate::new(200).set_body_json(json!({"messages": messages}));
        }
        let n = self.posts.fetch_add(1, Ordering::SeqCst);
        if let Some(answer) = self.fail.as_ref().and_then(|f| f(n)) {
            return answer;
        }
        let form: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let sid = self.hold(&field("To"), &field("Body"));
        ResponseTemplate::new(201)
            .set_body_json(json!({"sid": sid, "status": "queued"}))
            .set_delay(self.delay)
    }
}
