//! The HTTP section: where to listen, which clients and proxies to trust, the public address,
//! body limits, time limits, connection limits, allowed hosts and the metrics listener.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::reader::Reader;
use super::values::{Environment, Secret};

/// `HOST` (an IP address or a host name) and `PORT`.
pub(super) fn listener(r: &mut Reader) -> (String, u16) {
    let host = r.string("HOST", "127.0.0.1");
    let is_name = |h: &str| {
        !h.is_empty()
            && h.len() <= 253
            && h.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    if host.parse::<IpAddr>().is_err() && !is_name(&host) {
        r.error(format!(
            "HOST={host:?} is not an IP address or a host name (e.g. 127.0.0.1, 0.0.0.0, localhost)"
        ));
    }
    let port = r.parse("PORT", 8000u16, "a port number (0-65535)");
    (host, port)
}

/// `TRUSTED_PROXY_HOPS` and `CORS_ALLOWED_ORIGINS`.
pub(super) fn clients(r: &mut Reader) -> (usize, Vec<String>) {
    let trusted_proxy_hops = r.parse("TRUSTED_PROXY_HOPS", 0usize, "a whole number");
    let origins: Vec<String> = r
        .raw("CORS_ALLOWED_ORIGINS")
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().trim_end_matches('/').to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    for o in &origins {
        if o != "*" && url::Url::parse(o).is_err() {
            r.error(format!(
                "CORS_ALLOWED_ORIGINS entry {o:?} is not an origin such as https://app.example.com"
            ));
        }
    }
    (trusted_proxy_hops, origins)
}

/// `PUBLIC_BASE_URL`: the address the outside world (and the providers' webhooks) uses.
pub(super) fn public_base_url(r: &mut Reader) -> Option<String> {
    let url = r
        .raw("PUBLIC_BASE_URL")
        .map(|v| v.trim_end_matches('/').to_string());
    if let Some(u) = &url {
        match url::Url::parse(u) {
            Ok(p) if p.scheme() == "http" || p.scheme() == "https" => {}
            _ => r.error(format!("PUBLIC_BASE_URL={u:?} is not an http(s) URL")),
        }
    }
    url
}

pub(super) struct Limits {
    pub max_attachment_bytes: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
}

/// Body sizes, the request timeout and the shutdown grace.
pub(super) fn limits(r: &mut Reader) -> Limits {
    let max_attachment_bytes = r.parse(
        "MAX_ATTACHMENT_BYTES",
        10 * 1024 * 1024usize,
        "a number of bytes",
    );
    let max_body_bytes = r.parse("MAX_BODY_BYTES", 1024 * 1024usize, "a number of bytes");
    let request_timeout = r.duration("REQUEST_TIMEOUT", Duration::from_secs(30));
    Limits {
        max_attachment_bytes,
        max_body_bytes,
        request_timeout,
        shutdown_grace: r.duration("SHUTDOWN_GRACE", Duration::from_secs(20)),
    }
}

/// How connections are held: time limits and how many are open at once.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A request's headers must arrive within this; on HTTP/1 the clock also runs while a
    /// keep-alive connection waits for its next request.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight and none for this long is closed.
    pub keep_alive_timeout: Duration,
    /// HTTP/2: a PING after this much silence; no answer within as long closes the connection.
    pub http2_keep_alive_interval: Duration,
    /// Open connections at most (`MAX_CONNECTIONS`); further ones wait in the listen queue
    /// until one closes. `None`: what the open-file limit allows (see `app::serve`).
    pub max_connections: Option<usize>,
}

/// `HEADER_READ_TIMEOUT`, `KEEP_ALIVE_TIMEOUT`, `HTTP2_KEEP_ALIVE_INTERVAL`, `MAX_CONNECTIONS`.
pub(super) fn connections(r: &mut Reader) -> ConnectionLimits {
    let header_read_timeout = r.duration("HEADER_READ_TIMEOUT", Duration::from_secs(10));
    let keep_alive_timeout = r.duration("KEEP_ALIVE_TIMEOUT", Duration::from_secs(75));
    let http2_keep_alive_interval =
        r.duration("HTTP2_KEEP_ALIVE_INTERVAL", Duration::from_secs(20));
    let max_connections = r
        .raw("MAX_CONNECTIONS")
        .map(|_| r.parse("MAX_CONNECTIONS", 1usize, "a whole number"));
    if max_connections == Some(0) {
        r.error("MAX_CONNECTIONS=0 would refuse every connection: use 1 or more");
    }
    ConnectionLimits {
        header_read_timeout,
        keep_alive_timeout,
        http2_keep_alive_interval,
        max_connections: max_connections.map(|n| n.max(1)),
    }
}

/// Where `/metrics` is served: `METRICS_ADDR` (default `127.0.0.1:9100`, `off` for none) and
/// `METRICS_TOKEN` (also on the API port, behind `Authorization: Bearer <token>`). With a token
/// and no `METRICS_ADDR`, the private listener is off.
pub(super) fn metrics(r: &mut Reader) -> (Option<SocketAddr>, Option<Secret>) {
    let token = r.raw("METRICS_TOKEN").map(Secret::new);
    let addr = match r.raw("METRICS_ADDR") {
        None if token.is_some() => None,
        None => Some(SocketAddr::from(([127, 0, 0, 1], 9100))),
        Some(v) if v.eq_ignore_ascii_case("off") => None,
        Some(v) => match v.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                r.error(format!(
                    "METRICS_ADDR={v:?} is not an address such as 127.0.0.1:9100 (or off)"
                ));
                None
            }
        },
    };
    (addr, token)
}

/// `ALLOWED_HOSTS` as Django reads it: comma-separated host names, `.example.com` for the
/// domain and its subdomains, `*` for any. The host of `PUBLIC_BASE_URL` is always allowed. In
/// development an unset list allows what Django's `DEBUG` does (`.localhost`, `127.0.0.1`,
/// `[::1]`); in production an unset list with no `PUBLIC_BASE_URL` is a configuration error.
pub(super) fn allowed_hosts(
    r: &mut Reader,
    environment: Environment,
    public_base_url: Option<&str>,
) -> Vec<String> {
    let listed: Option<Vec<String>> = r.raw("ALLOWED_HOSTS").map(|v| {
        v.split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect()
    });
    let public_host = public_base_url
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    let mut hosts = match (listed, environment) {
        (Some(list), _) => list,
        (None, Environment::Development) => {
            vec![".localhost".into(), "127.0.0.1".into(), "[::1]".into()]
        }
        (None, Environment::Production) => {
            if public_host.is_none() {
                r.error(
                    "INCIDENT_ENV=production needs ALLOWED_HOSTS (the host names clients use, comma-separated) or PUBLIC_BASE_URL",
                );
            }
            Vec::new()
        }
    };
    hosts.extend(public_host);
    hosts
}
