//! The HTTP section: where to listen, which clients and proxies to trust, the public address,
//! body limits and time limits.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::reader::Reader;

/// `HOST` and `PORT`.
pub(super) fn listener(r: &mut Reader) -> (IpAddr, u16) {
    let host = r.parse("HOST", IpAddr::from([127, 0, 0, 1]), "an IP address");
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
    pub metrics_addr: Option<SocketAddr>,
    pub shutdown_grace: Duration,
}

/// Body sizes, the request timeout, the metrics listener and the shutdown grace.
pub(super) fn limits(r: &mut Reader) -> Limits {
    let max_attachment_bytes = r.parse(
        "MAX_ATTACHMENT_BYTES",
        10 * 1024 * 1024usize,
        "a number of bytes",
    );
    let max_body_bytes = r.parse("MAX_BODY_BYTES", 1024 * 1024usize, "a number of bytes");
    let request_timeout = r.duration("REQUEST_TIMEOUT", Duration::from_secs(30));
    let metrics_addr = match r.raw("METRICS_ADDR") {
        None => None,
        Some(v) => match v.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                r.error(format!(
                    "METRICS_ADDR={v:?} is not an address such as 127.0.0.1:9100"
                ));
                None
            }
        },
    };
    Limits {
        max_attachment_bytes,
        max_body_bytes,
        request_timeout,
        metrics_addr,
        shutdown_grace: r.duration("SHUTDOWN_GRACE", Duration::from_secs(20)),
    }
}
