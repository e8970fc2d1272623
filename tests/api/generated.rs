//! Generated inputs over the served OpenAPI document (issue 10, item 10). Every operation of
//! `GET /api/schema/` is called with path ids, query values, headers and bodies generated from
//! its schemas: valid ones, and hostile ones (wrong types, huge and negative numbers and ids, NUL
//! bytes, very long strings, malformed and deeply nested JSON, the wrong media type), each as an
//! admin and anonymously. No answer may be a 5xx, and every answer must match the document:
//! `documented::Client` holds each one against it, and a mismatch is collected here with the
//! request that caused it, so one run lists every failure.
//!
//! Deterministic: one seeded generator (SplitMix64; `GENERATED_SEED=<n>` explores another seed)
//! and a bounded number of cases per operation. The WebSocket route only gets plain GETs (its
//! documented 400); the event stream's 200 is checked by status and dropped, and its events'
//! data by `sse_events_match_the_document`.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::common::TestApp;
use crate::on_both_databases;
use crate::tickets_support::{cast, new_ticket, upload, Multipart};

on_both_databases!(
    every_operation_answers_generated_inputs_as_documented,
    sse_events_match_the_document,
);

const DEFAULT_SEED: u64 = 0x1D_C1DE_4711;
/// Cases per operation (the first two are valid; the rest a seeded sample of the hostile ones).
const MAX_CASES: usize = 30;
const STREAM: &str = "/api/notifications/stream/";

/// SplitMix64: small, seedable, the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
    /// `n` items of `items`, without repeats, in a seeded order.
    fn sample<T: Clone>(&mut self, items: &[T], n: usize) -> Vec<T> {
        let mut pool = items.to_vec();
        let mut out = Vec::new();
        while !pool.is_empty() && out.len() < n {
            out.push(pool.swap_remove(self.below(pool.len())));
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Values from schemas

/// Follows `$ref`s to the schema they name.
fn resolve<'a>(doc: &'a Value, mut s: &'a Value) -> &'a Value {
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        s = doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {r}"));
    }
    s
}

fn types(s: &Value) -> Vec<&str> {
    match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ if s.get("properties").is_some() => vec!["object"],
        _ => Vec::new(),
    }
}

/// The properties of an object schema (through `allOf`), with their schemas.
fn properties<'a>(doc: &'a Value, s: &'a Value) -> Vec<(&'a String, &'a Value)> {
    let s = resolve(doc, s);
    let mut out: Vec<(&String, &Value)> = s
        .get("properties")
        .and_then(Value::as_object)
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    for part in s
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.extend(properties(doc, part));
    }
    out
}

/// A value the schema allows (as far as a generator can tell: patterns come from examples).
fn valid(doc: &Value, schema: &Value, rng: &mut Rng, depth: usize) -> Value {
    let s = resolve(doc, schema);
    if depth > 6 {
        return Value::Null;
    }
    if let Some(v) = s.get("const") {
        return v.clone();
    }
    if let Some(Value::Array(choices)) = s.get("enum") {
        return rng.pick(choices).clone();
    }
    if let Some(example) = s.get("example") {
        if rng.coin() {
            return example.clone();
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(alternatives)) = s.get(key) {
            let concrete: Vec<&Value> = alternatives
                .iter()
                .filter(|a| types(resolve(doc, a)) != ["null"])
                .collect();
            if !concrete.is_empty() {
                let chosen = concrete[rng.below(concrete.len())];
                return valid(doc, chosen, rng, depth + 1);
            }
        }
    }
    if let Some(Value::Array(parts)) = s.get("allOf") {
        let mut merged = Map::new();
        for part in parts {
            match valid(doc, part, rng, depth + 1) {
                Value::Object(m) => merged.extend(m),
                other if parts.len() == 1 => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    let concrete: Vec<&str> = types(s).into_iter().filter(|t| *t != "null").collect();
    match concrete.first().map(|_| *rng.pick(&concrete)) {
        Some("object") => {
            let required: Vec<&str> = s
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut m = Map::new();
            for (name, p) in properties(doc, s) {
                if required.contains(&name.as_str()) || rng.coin() {
                    m.insert(name.clone(), valid(doc, p, rng, depth + 1));
                }
            }
            Value::Object(m)
        }
        Some("array") => {
            let items = s.get("items").cloned().unwrap_or(json!({}));
            let n = 1 + rng.below(2);
            Value::Array((0..n).map(|_| valid(doc, &items, rng, depth + 1)).collect())
        }
        Some("integer") => {
            let min = s.get("minimum").and_then(Value::as_i64).unwrap_or(1);
            json!(min.max(1) + rng.below(3) as i64)
        }
        Some("number") => json!(1.5),
        Some("boolean") => json!(rng.coin()),
        Some("string") | None => Value::String(text_for(s, rng)),
        Some(_) => Value::Null,
    }
}

fn text_for(s: &Value, rng: &mut Rng) -> String {
    match s.get("format").and_then(Value::as_str) {
        Some("date-time") => return "2031-01-02T03:04:05Z".into(),
        Some("email") => return format!("gen{}@example.com", rng.next() % 100_000),
        Some("binary") => return "generated file".into(),
        _ => {}
    }
    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(1) as usize;
    let max = s.get("maxLength").and_then(Value::as_u64).unwrap_or(12) as usize;
    let len = min.max(1) + rng.below(max.clamp(min.max(1), 12) - min.max(1) + 1);
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len).map(|_| *rng.pick(ALPHABET) as char).collect()
}

/// Values no field should take without a clear 4xx.
fn hostile_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e308),
        json!(-0.5),
        json!("\u{0}"),
        json!("a\u{0}b"),
        json!("x".repeat(100_000)),
        json!(""),
        json!("   "),
        json!([]),
        json!([1, "2", null]),
        json!({}),
        json!({"a": {"b": [null]}}),
        json!("9223372036854775808"),
        json!("+1"),
        json!("1e3"),
        json!("' OR 1=1 --"),
        json!("%_\\"),
        json!("\u{202e}ü😀"),
        json!("2030-13-45T99:99:99Z"),
    ]
}

/// Hostile path and query values (a long one is added where it fits).
const HOSTILE_TEXT: &[&str] = &[
    "\u{0}",
    "a\u{0}b",
    "-1",
    "+1",
    "0",
    "99999999999999999999",
    "9223372036854775807",
    "-9223372036854775808",
    "1.0",
    "1e3",
    " 1",
    "abc",
    "%",
    "'",
    "ü😀",
    "null",
    "true",
];

fn hostile_texts() -> Vec<String> {
    let mut all: Vec<String> = HOSTILE_TEXT.iter().map(|s| s.to_string()).collect();
    all.push("a".repeat(60_000));
    all
}

/// The hostile values every path or query parameter gets (the largest id, a NUL byte, a value
/// longer than any field), then `extra` more from the seeded sample.
fn hostile_sample(rng: &mut Rng, extra: usize) -> Vec<String> {
    let mut out = vec![
        "9223372036854775807".to_string(),
        "a\u{0}b".to_string(),
        "a".repeat(60_000),
    ];
    let rest: Vec<String> = hostile_texts()
        .into_iter()
        .filter(|v| !out.contains(v))
        .collect();
    out.extend(rng.sample(&rest, extra));
    out
}

// ---------------------------------------------------------------------------------------------
// Requests

/// One request, before the credentials.
#[derive(Clone)]
struct Case {
    path: Vec<(String, String)>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Payload>,
    label: String,
}

/// A request body: its content type and bytes.
type Payload = (String, Vec<u8>);

/// Path segments percent-encoded byte by byte (`+` and spaces stay what they are).
fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn url(app: &TestApp, template: &str, case: &Case) -> String {
    let mut path = template.to_string();
    for (name, value) in &case.path {
        path = path.replace(&format!("{{{name}}}"), &encode_segment(value));
    }
    if case.query.is_empty() {
        return app.url(&path);
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&case.query)
        .finish();
    app.url(&format!("{path}?{query}"))
}

/// A JSON object as a form: strings as they are, lists as repeated keys, the rest as JSON.
fn form_of(v: &Value) -> Vec<(String, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let mut pairs = Vec::new();
    for (k, v) in v.as_object().into_iter().flatten() {
        match v {
            Value::Array(items) => pairs.extend(items.iter().map(|i| (k.clone(), text(i)))),
            other => pairs.push((k.clone(), text(other))),
        }
    }
    pairs
}

fn form_body(pairs: &[(String, String)]) -> Payload {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    (
        "application/x-www-form-urlencoded".into(),
        body.into_bytes(),
    )
}

/// A multipart body of `v`'s fields; `files` are sent as file parts named `filename`.
fn multipart_body(v: &Value, files: &[&str], filename: &str) -> Payload {
    let mut form = Multipart::new();
    for (k, value) in form_of(v) {
        form = if files.contains(&k.as_str()) {
            form.file(&k, filename, Some("text/plain"), value.as_bytes())
        } else {
            form.text(&k, &value)
        };
    }
    (form.content_type(), form.finish())
}

fn json_body(v: &Value) -> Payload {
    ("application/json".into(), serde_json::to_vec(v).unwrap())
}

fn raw_json(text: &str) -> Payload {
    ("application/json".into(), text.as_bytes().to_vec())
}

/// The bodies of an operation: the valid one first (None when it reads none), then hostile ones.
fn bodies(doc: &Value, op: &Value, rng: &mut Rng) -> Vec<(String, Option<Payload>)> {
    let Some(content) = op
        .pointer("/requestBody/content")
        .and_then(Value::as_object)
    else {
        return vec![("no body".into(), None)];
    };
    let mut valid_out = Vec::new();
    let mut hostile = Vec::new();
    for (media, c) in content {
        let schema = &c["schema"];
        let good = valid(doc, schema, rng, 0);
        let props = properties(doc, schema);
        let files: Vec<&str> = props
            .iter()
            .filter(|(_, p)| resolve(doc, p).get("format") == Some(&json!("binary")))
            .map(|(n, _)| n.as_str())
            .collect();
        match media.as_str() {
            "application/json" => {
                valid_out.push(("valid JSON".to_string(), Some(json_body(&good))));
                for (name, _) in &props {
                    for bad in rng.sample(&hostile_values(), 2) {
                        let mut v = good.clone();
                        v[name.as_str()] = bad.clone();
                        let shown: String = bad.to_string().chars().take(40).collect();
                        hostile.push((format!("JSON {name}={shown}"), Some(json_body(&v))));
                    }
                }
                let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
                for text in [r#"{"title": "#, "[1, 2]", "null", "\"text\"", "12", &deep] {
                    let shown: String = text.chars().take(20).collect();
                    hostile.push((format!("raw JSON {shown}"), Some(raw_json(text))));
                }
                let mut odd_key = good.clone();
                if let Value::Object(m) = &mut odd_key {
                    m.insert("\u{0}".into(), json!("\u{0}"));
                }
                hostile.push(("JSON with a NUL key".into(), Some(json_body(&odd_key))));
            }
            "application/x-www-form-urlencoded" => {
                valid_out.push(("valid form".to_string(), Some(form_body(&form_of(&good)))));
                if let Some((name, _)) = props.first() {
                    for bad in ["a\u{0}b".to_string(), "y".repeat(100_000)] {
                        let mut pairs = form_of(&good);
                        pairs.retain(|(k, _)| k != *name);
                        pairs.push((name.to_string(), bad));
                        hostile.push((format!("form {name}=hostile"), Some(form_body(&pairs))));
                    }
                }
            }
            "multipart/form-data" => {
                valid_out.push((
                    "valid multipart".to_string(),
                    Some(multipart_body(&good, &files, "generated.txt")),
                ));
                hostile.push((
                    "multipart NUL file name".into(),
                    Some(multipart_body(&good, &files, "a\u{0}.txt")),
                ));
                let mut nul = good.clone();
                if let Some((name, _)) = props.iter().find(|(n, _)| !files.contains(&n.as_str())) {
                    nul[name.as_str()] = json!("a\u{0}b");
                }
                hostile.push((
                    "multipart NUL field".into(),
                    Some(multipart_body(&nul, &files, "generated.txt")),
                ));
            }
            _ => valid_out.push((
                format!("valid {media}"),
                Some((media.clone(), b"x".to_vec())),
            )),
        }
    }
    hostile.push((
        "text/plain body".into(),
        Some(("text/plain".into(), b"plain".to_vec())),
    ));
    let first = valid_out.swap_remove(rng.below(valid_out.len()));
    let mut out = vec![first];
    out.extend(valid_out);
    out.extend(hostile);
    out
}

/// Ids that exist, for the valid cases.
struct Ids {
    ticket: i64,
    attachment: i64,
    user: i64,
    profile: i64,
    notification: i64,
}

fn valid_path_value(template: &str, name: &str, ids: &Ids) -> String {
    let id = match name {
        "attachment_id" => ids.attachment,
        "file" => return "swagger-ui.css".into(),
        _ if template.starts_with("/api/tickets/") => ids.ticket,
        _ if template.starts_with("/api/users/") => ids.user,
        _ if template.starts_with("/api/profiles/") => ids.profile,
        _ if template.starts_with("/api/notifications/") => ids.notification,
        _ => 1,
    };
    id.to_string()
}

fn query_value(doc: &Value, p: &Value, rng: &mut Rng) -> String {
    match valid(doc, &p["schema"], rng, 0) {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The cases of one operation: two valid ones, then a seeded sample of hostile path values,
/// query values and bodies.
fn cases(doc: &Value, template: &str, op: &Value, ids: &Ids, rng: &mut Rng) -> Vec<Case> {
    let params: Vec<&Value> = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| ps.iter().map(|p| resolve(doc, p)).collect())
        .unwrap_or_default();
    let of = |place: &str| -> Vec<&Value> {
        params
            .iter()
            .copied()
            .filter(|p| p["in"] == place)
            .collect()
    };
    let (path_params, query_params, header_params) = (of("path"), of("query"), of("header"));
    let path: Vec<(String, String)> = path_params
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap().to_string();
            let value = valid_path_value(template, &name, ids);
            (name, value)
        })
        .collect();
    let headers: Vec<(String, String)> = header_params
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_string(), "generated".into()))
        .collect();
    let valid_query = |rng: &mut Rng| -> Vec<(String, String)> {
        let mut query = Vec::new();
        for p in &query_params {
            if rng.coin() {
                let name = p["name"].as_str().unwrap().to_string();
                query.push((name, query_value(doc, p, rng)));
            }
        }
        query
    };
    let bodies = bodies(doc, op, rng);
    let base = |query, body: &(String, Option<Payload>), label: String| Case {
        path: path.clone(),
        query,
        headers: headers.clone(),
        body: body.1.clone(),
        label: format!("{label}; body: {}", body.0),
    };
    let mut valid_cases = Vec::new();
    for _ in 0..2 {
        let q = valid_query(rng);
        valid_cases.push(base(q, &bodies[0], "valid".into()));
    }
    let mut hostile = Vec::new();
    for (i, p) in path_params.iter().enumerate() {
        let name = p["name"].as_str().unwrap();
        for bad in hostile_sample(rng, 2) {
            let mut c = base(
                Vec::new(),
                &bodies[0],
                format!("path {name}={}", shown(&bad)),
            );
            c.path[i].1 = bad;
            hostile.push(c);
        }
    }
    for p in &query_params {
        let name = p["name"].as_str().unwrap().to_string();
        for bad in hostile_sample(rng, 1) {
            let label = format!("query {name}={}", shown(&bad));
            hostile.push(base(vec![(name.clone(), bad)], &bodies[0], label));
        }
    }
    for body in &bodies[1..] {
        let q = valid_query(rng);
        hostile.push(base(q, body, "hostile body".into()));
    }
    let room = MAX_CASES.saturating_sub(valid_cases.len());
    valid_cases.extend(rng.sample(&hostile, room));
    valid_cases
}

/// A value as a label shows it: quoted, escaped, cut short.
fn shown(value: &str) -> String {
    format!("{value:?}").chars().take(24).collect()
}

/// Sends one case; `Err` says why its answer is wrong (a 5xx, or off the document).
async fn send(
    client: &crate::documented::Client,
    method: &Method,
    url: &str,
    token: Option<&str>,
    case: &Case,
) -> Result<StatusCode, String> {
    let mut req = client.request(method.clone(), url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in &case.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    if let Some((ct, bytes)) = &case.body {
        req = req
            .header(reqwest::header::CONTENT_TYPE, ct.as_str())
            .body(bytes.clone());
    }
    let answer = AssertUnwindSafe(async move { req.send().await.map(|r| r.status()) })
        .catch_unwind()
        .await;
    match answer {
        Ok(Ok(status)) if status.is_server_error() => Err(format!("answered {status}")),
        Ok(Ok(status)) => Ok(status),
        Ok(Err(e)) => Err(format!("no answer: {e:?}")),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panicked".into())),
    }
}

/// Operations in document order, those that end the fixtures' life (deletes, the admin's own
/// profile) last.
fn operations(doc: &Value) -> Vec<(String, Method, Value)> {
    let mut ops = Vec::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(op) = item.get(method) {
                let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
                ops.push((template.clone(), m, op.clone()));
            }
        }
    }
    ops.sort_by_key(|(t, m, _)| (*m == Method::DELETE || t == "/api/profile/update/") as u8);
    ops
}

/// Users and tickets for the valid cases: the admin is not user 1, so a `+1` that would be read
/// as 1 does not reach the admin's own account.
async fn fixtures(app: &TestApp) -> (String, Ids) {
    let target = app.create_user("target", Role::Client).await;
    let c = cast(app).await;
    let ticket = new_ticket(app, &c.client).await;
    let attachment = upload(app, ticket, &c.client, "a.txt", Some("text/plain"), b"hi").await;
    let (_, notes) = app.get("/api/notifications/", &c.admin).await;
    let notification = notes["results"][0]["id"].as_i64().unwrap_or(1);
    let ids = Ids {
        ticket,
        attachment,
        user: target,
        // A profile is read by its user's id.
        profile: target,
        notification,
    };
    (c.admin, ids)
}

async fn every_operation_answers_generated_inputs_as_documented(app: TestApp) {
    let seed = std::env::var("GENERATED_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let mut rng = Rng(seed);
    let started = std::time::Instant::now();
    let (status, doc) = app.call(Method::GET, "/api/schema/", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (admin, ids) = fixtures(&app).await;
    let client = crate::documented::Client::without_pooling();
    let mut failures = Vec::new();
    let mut seen: BTreeMap<String, BTreeMap<u16, usize>> = BTreeMap::new();
    let mut sent = 0;
    for (template, method, op) in operations(&doc) {
        for case in cases(&doc, &template, &op, &ids, &mut rng) {
            let url = url(&app, &template, &case);
            for (who, token) in [("admin", Some(admin.as_str())), ("anonymous", None)] {
                sent += 1;
                match send(&client, &method, &url, token, &case).await {
                    Ok(status) => {
                        *seen
                            .entry(format!("{method} {template}"))
                            .or_default()
                            .entry(status.as_u16())
                            .or_default() += 1;
                    }
                    Err(why) => failures.push(format!(
                        "{method} {template} as {who} ({}): {}",
                        case.label,
                        why.chars().take(600).collect::<String>()
                    )),
                }
            }
        }
    }
    eprintln!(
        "generated inputs (seed {seed:#x}): {sent} requests in {:?}",
        started.elapsed()
    );
    for (op, statuses) in &seen {
        eprintln!("  {op}: {statuses:?}");
    }
    assert!(
        failures.is_empty(),
        "{} of {sent} generated requests (seed {seed:#x}) answered off the document or with a 5xx:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The data of the stream's events, read as the document describes them: the first event and a
/// notification pushed after a ticket is created.
async fn sse_events_match_the_document(app: TestApp) {
    let c = cast(&app).await;
    let mut resp = app
        .client
        .get(app.url(STREAM))
        .bearer_auth(&c.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut text = String::new();
    let mut data = Vec::new();
    let mut created = false;
    while data.len() < 2 {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), resp.chunk())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .expect("the stream stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
        data = text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| serde_json::from_str::<Value>(d.trim()).expect("event data is JSON"))
            .collect();
        if !data.is_empty() && !created {
            new_ticket(&app, &c.client).await;
            created = true;
        }
    }
    assert_eq!(data[0]["type"], "connection_established");
    assert_eq!(data[1]["notification_type"], "ticket_created");
    for d in &data {
        crate::documented::check_event_data(STREAM, d);
    }
}
