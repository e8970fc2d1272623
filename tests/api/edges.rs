//! The server's edges (issue 10): connection time limits and the connection cap, security
//! headers, CORS without credentials for `*`, `ALLOWED_HOSTS`, and `/metrics` off the public
//! port.

use std::time::{Duration, Instant};

use incident::config::{Config, Secret};
use incident::domain::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::TestApp;
use crate::on_both_databases;

on_both_databases!(
    http2_and_http1_are_served_on_one_port,
    shutdown_closes_websockets_with_1001_and_ends_event_streams,
    every_response_carries_the_security_headers,
    a_request_for_a_host_not_allowed_is_400_and_the_probes_are_exempt,
    metrics_are_not_on_the_api_port_by_default,
);

on_both_databases!(config = tight_connections;
    a_half_sent_request_line_is_closed_after_the_header_timeout,
    a_silent_socket_is_closed_after_the_header_timeout,
);

on_both_databases!(config = short_keep_alive; an_idle_keep_alive_connection_is_closed);

on_both_databases!(config = two_connections;
    at_the_connection_cap_open_connections_keep_answering_and_new_ones_wait,
);

on_both_databases!(config = https_public_url; hsts_is_sent_when_the_public_address_is_https);

on_both_databases!(config = any_origin; cors_wildcard_allows_any_origin_without_credentials);

on_both_databases!(config = example_hosts;
    allowed_hosts_take_names_and_subdomains_and_links_use_them,
);

on_both_databases!(config = metrics_token; metrics_on_the_api_port_need_the_token);

fn tight_connections(c: &mut Config) {
    c.connections.header_read_timeout = Duration::from_millis(500);
}

fn short_keep_alive(c: &mut Config) {
    c.connections.header_read_timeout = Duration::from_secs(30);
    c.connections.keep_alive_timeout = Duration::from_millis(500);
}

fn two_connections(c: &mut Config) {
    c.connections.max_connections = Some(2);
}

fn https_public_url(c: &mut Config) {
    c.public_base_url = Some("https://tickets.example.com".into());
    c.allowed_hosts.push("tickets.example.com".into());
}

fn any_origin(c: &mut Config) {
    c.cors_allowed_origins = vec!["*".into()];
}

fn example_hosts(c: &mut Config) {
    c.allowed_hosts = vec![".example.com".into(), "127.0.0.1".into()];
}

const METRICS_TOKEN: &str = "scrape-token-0123456789";

fn metrics_token(c: &mut Config) {
    c.metrics_token = Some(Secret::new(METRICS_TOKEN));
}

/// Reads until the peer closes (`Ok(bytes)`) or `limit` passes (`Err(bytes so far)`).
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Result<Vec<u8>, Vec<u8>> {
    let mut got = Vec::new();
    let deadline = Instant::now() + limit;
    loop {
        let mut buf = [0u8; 4096];
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return Err(got),
        }
    }
}

/// One `GET /healthz` on an open keep-alive connection; the response's text, or `None` if
/// nothing complete came within `limit`.
async fn healthz_on(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .ok()?;
    let mut got = Vec::new();
    let deadline = Instant::now() + limit;
    while !String::from_utf8_lossy(&got).contains(r#"{"status":"ok"}"#) {
        let mut buf = [0u8; 4096];
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&got).into_owned())
}

async fn a_half_sent_request_line_is_closed_after_the_header_timeout(app: TestApp) {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(b"GET /healthz HT").await.unwrap();
    let started = Instant::now();
    let closed = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(
        closed.is_ok(),
        "the half-sent request was still open after 5 s"
    );
    assert!(started.elapsed() >= Duration::from_millis(400));
    // The server still serves everyone else.
    let mut other = TcpStream::connect(app.addr).await.unwrap();
    assert!(healthz_on(&mut other, Duration::from_secs(5))
        .await
        .is_some());
}

async fn a_silent_socket_is_closed_after_the_header_timeout(app: TestApp) {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let closed = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(
        closed.is_ok(),
        "a socket that sent nothing was still open after 5 s"
    );
}

async fn an_idle_keep_alive_connection_is_closed(app: TestApp) {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    assert!(healthz_on(&mut stream, Duration::from_secs(5))
        .await
        .is_some());
    let started = Instant::now();
    let closed = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(
        closed.is_ok(),
        "an idle keep-alive connection was still open after 5 s"
    );
    assert!(started.elapsed() >= Duration::from_millis(400));
}

async fn at_the_connection_cap_open_connections_keep_answering_and_new_ones_wait(app: TestApp) {
    let mut first = TcpStream::connect(app.addr).await.unwrap();
    let mut second = TcpStream::connect(app.addr).await.unwrap();
    let quick = Duration::from_secs(5);
    assert!(healthz_on(&mut first, quick).await.is_some());
    assert!(healthz_on(&mut second, quick).await.is_some());
    // A third connection waits in the listen queue: no answer while two are open.
    let mut third = TcpStream::connect(app.addr).await.unwrap();
    let waiting = tokio::spawn(async move {
        let answer = healthz_on(&mut third, Duration::from_secs(10)).await;
        (answer, Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!waiting.is_finished(), "a third connection was served");
    // The open ones keep answering.
    for _ in 0..3 {
        assert!(healthz_on(&mut first, quick).await.is_some());
    }
    // One closes: the waiting connection is served.
    let closed_at = Instant::now();
    drop(second);
    let (answer, answered_at) = waiting.await.unwrap();
    assert!(answer.is_some(), "the waiting connection was never served");
    assert!(answered_at >= closed_at);
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header: {headers:?}"))
        .to_str()
        .unwrap()
}

async fn every_response_carries_the_security_headers(app: TestApp) {
    let (_, token) = app.user_token("admin", Role::Admin).await;
    let login = app
        .client
        .post(app.url("/api/auth/login/"))
        .json(&json!({"username": "admin", "password": crate::common::password_of("admin")}));
    let refused = app
        .client
        .post(app.url("/api/auth/login/"))
        .json(&json!({"username": "admin", "password": "wrong-password"}));
    let requests = [
        app.client.get(app.url("/healthz")),
        app.client.get(app.url("/api/tickets/")),
        app.client.get(app.url("/api/users/")).bearer_auth(&token),
        app.client.get(app.url("/api/nowhere/")),
        app.client.get(app.url("/api/docs/")),
        login,
        refused,
    ];
    for req in requests {
        let (status, headers, _) = app.send(req).await;
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        assert_eq!(header(&headers, "x-frame-options"), "DENY");
        assert_eq!(header(&headers, "referrer-policy"), "same-origin");
        assert!(header(&headers, "content-security-policy").contains("frame-ancestors 'none'"));
        assert!(headers.get("strict-transport-security").is_none());
        let _ = status;
    }
    // The docs page may load its own scripts and styles, nothing from elsewhere.
    let (_, headers, html) = app.send(app.client.get(app.url("/api/docs/"))).await;
    let csp = header(&headers, "content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    assert!(
        !html.contains("<script>"),
        "the page has inline script: {html}"
    );
    // Token answers are never cached; other answers keep their own caching.
    for req in [
        app.client
            .post(app.url("/api/auth/login/"))
            .json(&json!({"username": "admin", "password": crate::common::password_of("admin")})),
        app.client
            .post(app.url("/api/auth/refresh/"))
            .json(&json!({"refresh": "not-a-token"})),
    ] {
        let (_, headers, _) = app.send(req).await;
        assert_eq!(header(&headers, "cache-control"), "no-store");
    }
    let (_, headers, _) = app.send(app.client.get(app.url("/healthz"))).await;
    assert!(headers.get("cache-control").is_none());
}

async fn hsts_is_sent_when_the_public_address_is_https(app: TestApp) {
    let (_, headers, _) = app.send(app.client.get(app.url("/healthz"))).await;
    assert!(header(&headers, "strict-transport-security").starts_with("max-age="));
}

async fn cors_wildcard_allows_any_origin_without_credentials(app: TestApp) {
    let origin = "https://anywhere.example.net";
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/tickets/"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        );
    let (status, headers, _) = app.send(preflight).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "access-control-allow-origin"), "*");
    assert!(
        headers.get("access-control-allow-credentials").is_none(),
        "{headers:?}"
    );
    let allowed = header(&headers, "access-control-allow-headers").to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    let (_, token) = app.user_token("client", Role::Client).await;
    let req = app
        .client
        .get(app.url("/api/tickets/"))
        .bearer_auth(&token)
        .header("Origin", origin);
    let (status, headers, _) = app.send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "access-control-allow-origin"), "*");
    assert!(headers.get("access-control-allow-credentials").is_none());
}

/// A request with `Host: host`, outside the documented client (a refused host is answered
/// before any route, on every path alike).
async fn with_host(app: &TestApp, path: &str, host: &str) -> (StatusCode, String) {
    let resp = reqwest::Client::new()
        .get(app.url(path))
        .header("Host", host)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

async fn a_request_for_a_host_not_allowed_is_400_and_the_probes_are_exempt(app: TestApp) {
    for path in [
        "/api/tickets/",
        "/api/auth/login/",
        "/api/docs/",
        "/nowhere",
    ] {
        let (status, body) = with_host(&app, path, "evil.example.net").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body,
            json!({"detail": "Invalid HTTP_HOST header: 'evil.example.net'. You may need to add it to ALLOWED_HOSTS."})
        );
    }
    for host in ["localhost", "localhost:8000", "app.localhost", "[::1]:80"] {
        let (status, body) = with_host(&app, "/api/tickets/", host).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{host}: {body}");
    }
    // A load balancer probes by the replica's address.
    let (status, _) = with_host(&app, "/healthz", "10.1.2.3:8000").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = with_host(&app, "/readyz", "10.1.2.3").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn allowed_hosts_take_names_and_subdomains_and_links_use_them(app: TestApp) {
    let (_, token) = app.user_token("admin", Role::Admin).await;
    for i in 0..21 {
        app.create_user(&format!("user{i:02}"), Role::Client).await;
    }
    let page = |host: &'static str| {
        let req = reqwest::Client::new()
            .get(app.url("/api/users/"))
            .bearer_auth(&token)
            .header("Host", host);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = page("api.example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["next"], "http://api.example.com/api/users/?page=2");
    let (status, _) = page("example.com:443").await;
    assert_eq!(status, StatusCode::OK);
    // localhost is allowed only by development's default list, replaced here.
    for refused in ["localhost", "example.com.evil.net", "badexample.com"] {
        let (status, body) = page(refused).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}: {body}");
    }
}

async fn metrics_are_not_on_the_api_port_by_default(app: TestApp) {
    let resp = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(!resp.text().await.unwrap().contains("http_requests_total"));
}

async fn metrics_on_the_api_port_need_the_token(app: TestApp) {
    let scrape = |token: Option<&str>| {
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let resp = req.send().await.unwrap();
            (resp.status(), resp.text().await.unwrap())
        }
    };
    let (status, _) = scrape(None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = scrape(Some("scrape-token-0123456788")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = scrape(Some("scrape")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, text) = scrape(Some(METRICS_TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("notification_channel_healthy"), "{text}");
    // The documented client checked those answers; the call helper works as well.
    let (status, _) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
}

async fn http2_and_http1_are_served_on_one_port(app: TestApp) {
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let resp = h2.get(app.url("/api/tickets/")).send().await.unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = reqwest::Client::builder()
        .http1_only()
        .build()
        .unwrap()
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_11);
    assert_eq!(resp.status(), StatusCode::OK);
}

async fn shutdown_closes_websockets_with_1001_and_ends_event_streams(app: TestApp) {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let (_, token) = app.user_token("watcher", Role::Client).await;
    let url = format!("ws://{}/ws/notifications/?token={token}", app.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut events = app
        .client
        .get(app.url("/api/notifications/stream/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert!(events.chunk().await.unwrap().is_some());

    app.state.shutdown.cancel();
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return Some(u16::from(frame.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the WebSocket stayed open after shutdown");
    assert_eq!(close, Some(1001));
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = events.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the event stream stayed open after shutdown");
}
