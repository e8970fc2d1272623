//! Every response the API suite receives is held against the OpenAPI document the server
//! publishes: the status must be documented for that operation (or, for a path and method the
//! document does not have, be the router's 401/403/404/405), and a JSON body must match the
//! documented schema for that status. Tests reach the server through [`Client`], which checks
//! each response before handing it back, so a handler whose answer drifts from the document fails
//! whichever test called it, on both databases.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::{HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// `reqwest::Client`, checking every response against the document.
#[derive(Clone, Default)]
pub struct Client {
    inner: reqwest::Client,
}

/// `reqwest::RequestBuilder` with the methods the suite uses; `send` checks the response.
pub struct RequestBuilder {
    inner: reqwest::RequestBuilder,
}

impl Client {
    pub fn new() -> Client {
        Client::default()
    }

    /// A client that shows redirects instead of following them.
    pub fn without_redirects() -> Client {
        Client {
            inner: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
        }
    }

    /// A client that opens a connection per request: an answer given before the request body
    /// was read (a 401 for a large body) may leave a pooled connection that the server closes
    /// while the next request is sent (`IncompleteMessage`), which would fail an unrelated case.
    pub fn without_pooling() -> Client {
        Client {
            inner: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("an HTTP client"),
        }
    }

    pub fn request(&self, method: Method, url: impl reqwest::IntoUrl) -> RequestBuilder {
        RequestBuilder {
            inner: self.inner.request(method, url),
        }
    }

    pub fn get(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    pub fn post(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    pub fn delete(&self, url: impl reqwest::IntoUrl) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }
}

impl RequestBuilder {
    fn map(self, f: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder) -> Self {
        RequestBuilder {
            inner: f(self.inner),
        }
    }

    pub fn header<K, V>(self, key: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<axum::http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<axum::http::Error>,
    {
        self.map(|r| r.header(key, value))
    }

    pub fn bearer_auth<T: std::fmt::Display>(self, token: T) -> Self {
        self.map(|r| r.bearer_auth(token))
    }

    pub fn json<T: serde::Serialize + ?Sized>(self, json: &T) -> Self {
        self.map(|r| r.json(json))
    }

    pub fn form<T: serde::Serialize + ?Sized>(self, form: &T) -> Self {
        self.map(|r| r.form(form))
    }

    pub fn body<T: Into<reqwest::Body>>(self, body: T) -> Self {
        self.map(|r| r.body(body))
    }

    /// Sends the request and checks the answer against the document. An event stream never
    /// ends, so only its status is checked.
    pub async fn send(self) -> reqwest::Result<reqwest::Response> {
        let (client, request) = self.inner.build_split();
        let request = request?;
        let method = request.method().clone();
        let resp = client.execute(request).await?;
        // After a followed redirect the answer is the final address's: check it against that.
        let path = resp.url().path().to_string();
        let status = resp.status();
        let headers = resp.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if content_type.starts_with("text/event-stream") {
            check(&method, &path, status, &content_type, None);
            return Ok(resp);
        }
        let version = resp.version();
        let body = resp.bytes().await?;
        check(&method, &path, status, &content_type, Some(&body));
        let mut rebuilt = axum::http::Response::new(body.to_vec());
        *rebuilt.status_mut() = status;
        *rebuilt.version_mut() = version;
        *rebuilt.headers_mut() = headers;
        Ok(reqwest::Response::from(rebuilt))
    }
}

/// The document as JSON, and the validators compiled so far (by operation, status).
struct Document {
    doc: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| Document {
        doc: serde_json::to_value(incident::http::openapi::document())
            .expect("the document serializes"),
        validators: Mutex::default(),
    })
}

/// `/api/tickets/{id}/` matches `/api/tickets/7/`; requests without the slash are served as if
/// they had it.
fn template_matches(template: &str, path: &str) -> bool {
    let path = if path.starts_with("/api") && !path.ends_with('/') {
        format!("{path}/")
    } else {
        path.to_string()
    };
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}') && !p.is_empty()))
}

/// Follows a `$ref` to a component (`#/components/responses/X`).
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => v,
    }
}

fn check(method: &Method, path: &str, status: StatusCode, content_type: &str, body: Option<&[u8]>) {
    let d = document();
    let doc = &d.doc;
    let method_key = method.as_str().to_ascii_lowercase();
    // The router prefers a literal segment to a parameter (`/api/users/by_role/` over
    // `/api/users/{id}/`), so the most literal matching path is the route.
    let route = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(t, _)| template_matches(t, path))
        .min_by_key(|(t, _)| t.matches('{').count());
    let operation = route.and_then(|(t, item)| item.get(&method_key).map(|op| (t, op)));
    let Some((template, op)) = operation else {
        // Not an operation of the document: the router's own answers only (a CORS preflight
        // is answered by the CORS layer).
        assert!(
            matches!(status.as_u16(), 401 | 403 | 404 | 405) || *method == Method::OPTIONS,
            "{method} {path}: {status} from a path and method the document does not have"
        );
        return;
    };
    let code = status.as_u16().to_string();
    let responses = &op["responses"];
    let Some(response) = responses.get(&code).or_else(|| responses.get("default")) else {
        let documented: Vec<&String> = responses
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        panic!("{method} {template} ({path}) answered {status}, which the document does not list: {documented:?}");
    };
    let response = resolve(doc, response);
    let Some(body) = body else { return };
    let Some(schema) = response.pointer("/content/application~1json/schema") else {
        return;
    };
    if !content_type.starts_with("application/json") {
        panic!(
            "{method} {template} answered {status} with {content_type:?}; the document says JSON"
        );
    }
    let instance: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{method} {path}: {status} body is not JSON ({e})"));
    let key = format!("{method_key} {template} {code}");
    let validator = {
        let mut cache = d.validators.lock().expect("validator cache");
        cache
            .entry(key)
            .or_insert_with(|| {
                let mut wrapped = match schema {
                    Value::Object(m) => m.clone(),
                    other => panic!("schema is not an object: {other}"),
                };
                wrapped.insert("components".into(), doc["components"].clone());
                Arc::new(
                    jsonschema::draft202012::new(&Value::Object(wrapped))
                        .expect("the schema compiles"),
                )
            })
            .clone()
    };
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {template} ({path}) answered {status} with a body the document does not allow:\n{}\nbody: {instance}",
        errors.join("\n")
    );
}

/// Holds the `data` of one event of the stream at `path` against the schema its 200
/// `text/event-stream` content documents (an event stream is otherwise checked by status only).
pub fn check_event_data(path: &str, data: &Value) {
    let doc = &document().doc;
    let schema = doc["paths"][path]["get"]["responses"]["200"]["content"]["text/event-stream"]
        ["schema"]
        .clone();
    let Value::Object(mut wrapped) = schema else {
        panic!("GET {path} documents no event-stream schema");
    };
    wrapped.insert("components".into(), doc["components"].clone());
    let validator =
        jsonschema::draft202012::new(&Value::Object(wrapped)).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(data)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "GET {path}: an event's data the document does not allow:\n{}\ndata: {data}",
        errors.join("\n")
    );
}

#[test]
fn templates_match_concrete_paths() {
    assert!(template_matches("/api/tickets/{id}/", "/api/tickets/7/"));
    assert!(template_matches("/api/tickets/{id}/", "/api/tickets/7"));
    assert!(!template_matches("/api/tickets/{id}/", "/api/tickets/"));
    assert!(!template_matches(
        "/api/tickets/{id}/",
        "/api/tickets/7/open/"
    ));
}

#[test]
#[should_panic(expected = "does not list")]
fn an_undocumented_status_fails_the_test() {
    check(
        &Method::GET,
        "/api/tickets/",
        StatusCode::IM_A_TEAPOT,
        "application/json",
        Some(b"{}"),
    );
}

#[test]
#[should_panic(expected = "does not allow")]
fn a_body_off_the_schema_fails_the_test() {
    check(
        &Method::GET,
        "/healthz",
        StatusCode::OK,
        "application/json",
        Some(br#"{"status": 5}"#),
    );
}
