//! The OpenAPI document (`GET /api/schema/`) and the Swagger UI (`/api/docs/`): every route of the
//! router is described, the document is valid OpenAPI 3.1 (checked against the official JSON
//! Schema and parsed by `oas3`), every example matches its schema, and the UI's page loads only
//! assets the binary serves itself.
//!
//! `tests/data/openapi-3.1-schema.json` is the OpenAPI Initiative's schema for OpenAPI 3.1
//! documents (`https://spec.openapis.org/oas/3.1/schema/2022-10-07`, Apache-2.0), as shipped by
//! the `openapi-spec-validator` package.

use std::collections::{BTreeMap, BTreeSet};

use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::on_both_databases;

const HTTP_METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The sources that register routes: the API router, the app (`/metrics`) and the docs routes.
const ROUTER_SOURCES: [(&str, &str); 3] = [
    ("src/http/mod.rs", include_str!("../../src/http/mod.rs")),
    ("src/app.rs", include_str!("../../src/app.rs")),
    (
        "src/http/openapi/mod.rs",
        include_str!("../../src/http/openapi/mod.rs"),
    ),
];

fn document() -> Value {
    serde_json::to_value(incident::http::openapi::document()).expect("the document serializes")
}

/// `name(` called as a function or method (not a suffix of a longer identifier).
fn calls(text: &str, name: &str) -> bool {
    let needle = format!("{name}(");
    text.match_indices(&needle).any(|(i, _)| {
        text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

/// Every `.route("path", get(..).post(..))` of a source file: (path, methods).
fn route_registrations(src: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut rest = src;
    while let Some(start) = rest.find(".route(") {
        let call = &rest[start + ".route(".len()..];
        let mut depth = 1;
        let mut end = call.len();
        for (i, c) in call.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let args = &call[..end];
        let open = args.find('"').expect("a route's path is a string literal");
        let close = open + 1 + args[open + 1..].find('"').expect("closing quote");
        let path = args[open + 1..close].to_string();
        let handlers = &args[close + 1..];
        let methods: Vec<String> = HTTP_METHODS
            .iter()
            .filter(|m| calls(handlers, m))
            .map(|m| m.to_string())
            .collect();
        assert!(
            !methods.is_empty(),
            "no method found for route {path}: {handlers}"
        );
        found.push((path, methods));
        rest = &call[end..];
    }
    found
}

fn router_operations() -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (file, src) in ROUTER_SOURCES {
        let routes = route_registrations(src);
        assert!(!routes.is_empty(), "no `.route(` found in {file}");
        for (path, methods) in routes {
            for m in methods {
                ops.insert((path.clone(), m.to_uppercase()));
            }
        }
    }
    ops
}

fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (key, _) in item.as_object().expect("path item") {
            if [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&key.as_str())
            {
                ops.insert((path.clone(), key.to_uppercase()));
            }
        }
    }
    ops
}

#[test]
fn the_route_parser_reads_the_router_as_written() {
    let routes = route_registrations(
        r#"Router::new()
            .route("/a/", get(h::list).post(h::create))
            .route(
                "/a/{id}/",
                get(h::retrieve).put(h::update).patch(h::update).delete(h::destroy),
            )
            .route("/a/{id}/delete_attachment/{x}/", delete(h::delete_attachment))
            .route("/a/{id}/get_attachments/", get(h::get_attachments).layer(limit(3)))
            .route("/m", axum::routing::get(crate::h::metrics));"#,
    );
    let as_strs: Vec<(&str, Vec<&str>)> = routes
        .iter()
        .map(|(p, m)| (p.as_str(), m.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        as_strs,
        vec![
            ("/a/", vec!["get", "post"]),
            ("/a/{id}/", vec!["get", "put", "patch", "delete"]),
            ("/a/{id}/delete_attachment/{x}/", vec!["delete"]),
            ("/a/{id}/get_attachments/", vec!["get"]),
            ("/m", vec!["get"]),
        ]
    );
}

#[test]
fn every_route_of_the_router_is_documented_and_nothing_else() {
    let router = router_operations();
    let documented = documented_operations(&document());
    // A sample of what the router must hold, so a parser that finds nothing cannot pass.
    for (path, method) in [
        ("/api/tickets/{id}/open/", "POST"),
        ("/api/tickets/{id}/", "PATCH"),
        ("/api/notifications/retry_failed/", "POST"),
        ("/api/webhooks/meta/", "GET"),
        ("/metrics", "GET"),
        ("/api/schema/", "GET"),
        ("/api/docs/", "GET"),
    ] {
        assert!(
            router.contains(&(path.to_string(), method.to_string())),
            "the router should register {method} {path}"
        );
    }
    let missing: Vec<_> = router.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&router).collect();
    assert!(
        missing.is_empty(),
        "routes the OpenAPI document does not describe: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "operations the router does not serve: {extra:?}"
    );
    assert_eq!(router.len(), 66, "one operation per method and path");
}

// ---------------------------------------------------------------------------------------------
// Validity

fn oas_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!("../data/openapi-3.1-schema.json"))
        .expect("the OpenAPI 3.1 schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the OpenAPI 3.1 schema compiles")
}

fn errors_of(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("at {}: {}", e.instance_path(), e))
        .collect()
}

#[test]
fn the_document_validates_against_the_openapi_3_1_schema() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let validator = oas_validator();
    let errors = errors_of(&validator, &doc);
    assert!(
        errors.is_empty(),
        "invalid OpenAPI 3.1:\n{}",
        errors.join("\n")
    );

    // The validator does catch a broken document.
    let mut broken = doc.clone();
    broken["paths"]["/api/tickets/"]["get"]["responses"]["200"]
        .as_object_mut()
        .unwrap()
        .remove("description");
    broken["info"].as_object_mut().unwrap().remove("title");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn the_document_parses_as_an_openapi_3_1_spec() {
    let text = incident::http::openapi::document()
        .to_pretty_json()
        .expect("serializes");
    let spec = oas3::from_json(&text).expect("oas3 parses the document");
    assert!(spec.openapi.starts_with("3.1"));
    assert_eq!(
        spec.paths.as_ref().map(|p| p.len()),
        Some(
            documented_operations(&document())
                .iter()
                .map(|(p, _)| p)
                .collect::<BTreeSet<_>>()
                .len()
        )
    );
    let schemes = &spec
        .components
        .as_ref()
        .expect("components")
        .security_schemes;
    assert!(
        schemes.contains_key("bearerAuth"),
        "the Bearer scheme is declared"
    );
}

#[test]
fn every_schema_is_a_valid_json_schema_2020_12() {
    let doc = document();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    assert!(schemas.len() > 40, "the shapes are components");
    for (name, schema) in schemas {
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            panic!("components.schemas.{name} is not a valid JSON Schema: {e}");
        }
    }
}

/// Every `$ref` string in the document.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Value::String(s) = x {
                        out.push(s.clone());
                    }
                }
                refs(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_and_operations_are_well_formed() {
    let doc = document();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in &all {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(
            doc.pointer(pointer).is_some(),
            "$ref {r} resolves to nothing"
        );
    }

    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let templated: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_string)
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let where_ = format!("{} {path}", method.to_uppercase());
            let id = op["operationId"].as_str().expect("operationId");
            assert!(
                operation_ids.insert(id.to_string()),
                "duplicate operationId {id}"
            );
            assert!(op["summary"].is_string(), "{where_} has a summary");
            assert!(
                op["tags"].as_array().is_some_and(|t| t.len() == 1),
                "{where_} has a tag"
            );
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let in_path: BTreeSet<String> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(
                        p["required"], true,
                        "{where_}: path parameters are required"
                    );
                    p["name"].as_str().unwrap().to_string()
                })
                .collect();
            assert_eq!(
                in_path, templated,
                "{where_}: path parameters match the template"
            );
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                // A WebSocket's success is the 101 upgrade; a redirect's is its 3xx.
                responses
                    .keys()
                    .any(|k| k.starts_with('2') || k.starts_with('3') || k == "101"),
                "{where_} documents its success"
            );
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearerAuth").is_some()));
            let public = path.starts_with("/api/auth/")
                || path.starts_with("/api/webhooks/")
                || path.starts_with("/api/docs")
                || path == "/api/schema/"
                || !path.starts_with("/api/");
            assert_eq!(
                secured, !public,
                "{where_}: Bearer security on exactly the authenticated routes"
            );
            if secured {
                assert!(responses.contains_key("401"), "{where_} documents 401");
            }
        }
    }
    let scheme = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
}

/// `schema` with the document's components beside it, so `#/components/...` refs resolve.
fn validator_for_schema(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut wrapped = match schema {
        Value::Object(m) => m.clone(),
        other => panic!("schema is not an object: {other}"),
    };
    wrapped.insert("components".into(), doc["components"].clone());
    jsonschema::draft202012::new(&Value::Object(wrapped)).expect("the schema compiles")
}

/// The `example` and `examples` of a schema and of the schemas inside it.
fn schema_examples(schema: &Value, where_: &str, out: &mut Vec<(String, Value, Value)>) {
    let Value::Object(m) = schema else { return };
    if let Some(ex) = m.get("example") {
        out.push((format!("{where_} example"), schema.clone(), ex.clone()));
    }
    for (i, ex) in m
        .get("examples")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        out.push((
            format!("{where_} examples[{i}]"),
            schema.clone(),
            ex.clone(),
        ));
    }
    for (prop, sub) in m
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        schema_examples(sub, &format!("{where_}.{prop}"), out);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = m.get(key) {
            schema_examples(sub, &format!("{where_}.{key}"), out);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for (i, sub) in m
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            schema_examples(sub, &format!("{where_}.{key}[{i}]"), out);
        }
    }
}

/// (where, schema, example) for every example in the document.
fn examples(doc: &Value) -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        schema_examples(schema, &format!("components.schemas.{name}"), &mut out);
    }
    let mut media = |where_: String, m: &Value| {
        for (ct, content) in m.as_object().into_iter().flatten() {
            let Some(schema) = content.get("schema") else {
                continue;
            };
            if let Some(ex) = content.get("example") {
                out.push((format!("{where_} {ct} example"), schema.clone(), ex.clone()));
            }
            for (name, ex) in content["examples"].as_object().into_iter().flatten() {
                out.push((
                    format!("{where_} {ct} examples.{name}"),
                    schema.clone(),
                    ex["value"].clone(),
                ));
            }
        }
    };
    for (name, resp) in doc["components"]["responses"]
        .as_object()
        .into_iter()
        .flatten()
    {
        media(format!("components.responses.{name}"), &resp["content"]);
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let at = format!("{} {path}", method.to_uppercase());
            media(format!("{at} requestBody"), &op["requestBody"]["content"]);
            for (status, resp) in op["responses"].as_object().unwrap() {
                media(format!("{at} {status}"), &resp["content"]);
            }
        }
    }
    out
}

#[test]
fn every_example_matches_its_schema() {
    let doc = document();
    let all = examples(&doc);
    assert!(
        all.len() > 80,
        "the contract's examples are in the document ({})",
        all.len()
    );
    let mut failures = Vec::new();
    for (where_, schema, example) in &all {
        let v = validator_for_schema(&doc, schema);
        let errors = errors_of(&v, example);
        if !errors.is_empty() {
            failures.push(format!("{where_}: {}", errors.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "examples that do not match:\n{}",
        failures.join("\n")
    );

    // The check has teeth: a wrong example fails.
    let ticket = json!({"$ref": "#/components/schemas/TicketCreated"});
    let v = validator_for_schema(&doc, &ticket);
    assert!(!v.is_valid(&json!({"id": "12"})));
}

#[test]
fn key_examples_come_from_the_contract() {
    let doc = document();
    let login = &doc["components"]["schemas"]["LoginResponse"]["example"];
    assert!(login["access"].is_string() && login["user"]["role"] == "CLIENT");
    let created = &doc["paths"]["/api/tickets/"]["post"]["responses"]["201"];
    assert_eq!(
        created["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/TicketCreated"
    );
    let approve_400 = &doc["paths"]["/api/tickets/{id}/approve/"]["post"]["responses"]["400"]
        ["content"]["application/json"]["example"];
    assert_eq!(
        approve_400,
        &json!({"error": "Ticket is not awaiting approval", "current_status": "IN_PROGRESS", "required_status": ["RESOLVED", "WAITING_APPROVAL"], "message": "Developer must finish work before client can approve"})
    );
    let token = &doc["components"]["schemas"]["TokenNotValid"];
    assert!(token["properties"]["messages"].is_object());
    let notification = &doc["components"]["schemas"]["Notification"]["properties"];
    for field in [
        "status",
        "error_code",
        "error_message",
        "delivery_status",
        "provider_message_id",
        "sent_at",
    ] {
        assert!(
            notification.get(field).is_some(),
            "Notification documents the delivery field {field}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Served

on_both_databases!(
    the_schema_is_served_as_json,
    the_docs_page_loads_only_assets_the_binary_serves,
);

/// `/metrics` is on the API port only with `METRICS_TOKEN`.
fn metrics_on_the_api_port(c: &mut incident::config::Config) {
    c.metrics_token = Some(incident::config::Secret::new("metrics-token-for-tests"));
}

on_both_databases!(config = metrics_on_the_api_port; every_documented_operation_is_routed);

async fn the_schema_is_served_as_json(app: TestApp) {
    for path in ["/api/schema/", "/api/schema"] {
        let resp = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("application/json"), "{path}: {ct}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body, document());
    }
}

/// The `src` and `href` attribute values of an HTML page.
fn linked_urls(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            urls.push(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    urls
}

async fn the_docs_page_loads_only_assets_the_binary_serves(app: TestApp) {
    let mut pages = Vec::new();
    // `/` and `/api/docs` redirect (relatively, keeping a proxy's path prefix) to the page.
    for path in ["/api/docs/", "/api/docs", "/"] {
        let resp = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        pages.push(resp.text().await.unwrap());
    }
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (path, location) in [("/", "api/docs/"), ("/api/docs", "docs/")] {
        let resp = no_redirects.get(app.url(path)).send().await.unwrap();
        assert!(resp.status().is_redirection(), "{path}");
        assert_eq!(resp.headers()["location"], location, "{path}");
    }
    assert!(pages.iter().all(|p| p == &pages[0]), "one page");
    let html = &pages[0];
    assert!(html.contains("<div id=\"swagger-ui\">"), "{html}");
    assert!(!html.contains("<base"), "no absolute base: {html}");
    let (_, _, initializer) = app
        .send(app.client.get(app.url("/api/docs/swagger-initializer.js")))
        .await;
    assert!(
        initializer.contains("../schema/") && !initializer.contains("\"/api/schema/\""),
        "the schema is found relative to the page: {initializer}"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"),
        "{html}"
    );

    let urls: Vec<String> = linked_urls(html)
        .into_iter()
        .filter(|u| u != "/api/docs/")
        .collect();
    for needed in [
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-initializer.js",
        "swagger-ui.css",
    ] {
        assert!(
            urls.iter().any(|u| u.ends_with(needed)),
            "the page loads {needed}: {urls:?}"
        );
    }
    for url in &urls {
        assert!(
            !url.contains("//") && !url.starts_with('/'),
            "{url} is relative to the page's base, served by us"
        );
        let file = url.trim_start_matches("./");
        let path = format!("/api/docs/{file}");
        let resp = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        let expected = match file.rsplit('.').next().unwrap() {
            "js" => "javascript",
            "css" => "text/css",
            "png" => "image/png",
            other => panic!("unexpected asset type {other}"),
        };
        assert!(ct.contains(expected), "{path}: {ct}");
        let body = resp.bytes().await.unwrap();
        assert!(!body.is_empty(), "{path} is empty");
        if file == "swagger-initializer.js" {
            let js = String::from_utf8(body.to_vec()).unwrap();
            assert!(
                js.contains("../schema/"),
                "the UI loads our document, relative to the page: {js}"
            );
            assert!(!js.contains("http://") && !js.contains("https://"), "{js}");
        }
        // The same file with the slash every /api/ path accepts.
        let slash = app
            .client
            .get(app.url(&format!("{path}/")))
            .send()
            .await
            .unwrap();
        assert_eq!(slash.status(), StatusCode::OK, "{path}/");
    }
    let (status, body) = app
        .call(Method::GET, "/api/docs/no-such-file.js", None, None)
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({"detail": "Not found."}))
    );
}

/// Calls every documented operation as an admin: none may fall through to the router's "no such
/// route" (`404 {"detail": "Not found."}`) or "no such method" (405) answers.
async fn every_documented_operation_is_routed(app: TestApp) {
    let (_, token) = app.user_token("admin", Role::Admin).await;
    let not_routed = |status: StatusCode, body: &str| {
        status == StatusCode::METHOD_NOT_ALLOWED
            || (status == StatusCode::NOT_FOUND
                && serde_json::from_str::<Value>(body).ok()
                    == Some(json!({"detail": "Not found."})))
    };
    // The probe tells an unrouted path and method apart.
    for (method, path) in [
        (Method::GET, "/api/nothing-here/"),
        (Method::DELETE, "/api/tickets/"),
    ] {
        let req = app
            .client
            .request(method.clone(), app.url(path))
            .bearer_auth(&token);
        let (status, _, body) = app.send(req).await;
        assert!(
            not_routed(status, &body),
            "{method} {path}: {status} {body}"
        );
    }
    let ops = documented_operations(&document());
    let mut unrouted = BTreeMap::new();
    for (path, method) in &ops {
        let concrete = path
            .replace("{id}", "999999")
            .replace("{attachment_id}", "999999")
            .replace("{file}", "index.css");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let req = app
            .client
            .request(method.clone(), app.url(&concrete))
            .bearer_auth(&token);
        // An event stream never ends: its status and headers are the answer.
        let (status, body) = if path.ends_with("/stream/") {
            (req.send().await.unwrap().status(), String::new())
        } else {
            let (status, _, body) = app.send(req).await;
            (status, body)
        };
        if not_routed(status, &body) {
            unrouted.insert(format!("{method} {path}"), format!("{status} {body}"));
        }
    }
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:#?}"
    );
}
