//! Django's host check (`ALLOWED_HOSTS`, contract §1.9): a request whose `Host` is not allowed
//! is answered 400 before any route runs, so absolute links and the Twilio signature URL (built
//! from `Host` when `PUBLIC_BASE_URL` is unset) only ever use an allowed host. The probes
//! (`/healthz`, `/readyz`) and `/metrics` are exempt: a load balancer or scraper reaches them by
//! the replica's address.

use axum::extract::{Request, State};
use axum::http::{header, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::state::AppState;

/// Paths served to any `Host`.
const EXEMPT: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Answers 400 unless the request's host matches `ALLOWED_HOSTS`.
pub async fn check_host(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if EXEMPT.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let host = request_host(req.headers(), req.uri());
    if host.is_some_and(|h| is_allowed(h, &state.config.allowed_hosts)) {
        return next.run(req).await;
    }
    let shown = host.unwrap_or("");
    tracing::warn!(host = %shown, "Invalid HTTP_HOST header: not in ALLOWED_HOSTS");
    Error::DisallowedHost(shown.to_string()).into_response()
}

/// `Host`, or the authority of an HTTP/2 request.
fn request_host<'a>(headers: &'a axum::http::HeaderMap, uri: &'a Uri) -> Option<&'a str> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
}

/// Django's `validate_host`: the host must look like a host name or a bracketed IPv6 address
/// with an optional port; the port and one trailing dot are ignored; a pattern is `*`, a name,
/// or `.example.com` for the domain and every subdomain.
pub fn is_allowed(host: &str, allowed: &[String]) -> bool {
    let Some(domain) = domain_of(host) else {
        return false;
    };
    allowed.iter().any(|pattern| {
        pattern == "*"
            || *pattern == domain
            || pattern
                .strip_prefix('.')
                .is_some_and(|base| domain == base || domain.ends_with(pattern.as_str()))
    })
}

/// The lowercase domain of a `Host` value without its port, or `None` when it is not a host.
fn domain_of(host: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    let (domain, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        let (d, rest) = host.split_at(end + 1);
        let inner = &d[1..d.len() - 1];
        let ipv6 = inner.contains(':')
            && inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        if !ipv6 {
            return None;
        }
        (d.to_string(), rest.strip_prefix(':').map(str::to_string))
    } else {
        match host.rsplit_once(':') {
            Some((d, p)) => (d.to_string(), Some(p.to_string())),
            None => (host.clone(), None),
        }
    };
    if let Some(p) = &port {
        if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
    } else if host.starts_with('[') && !host.ends_with(']') {
        return None;
    }
    let name_ok = domain.starts_with('[')
        || (!domain.is_empty()
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if !name_ok {
        return None;
    }
    Some(domain.strip_suffix('.').unwrap_or(&domain).to_string())
}

#[cfg(test)]
mod tests {
    use super::is_allowed;

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_subdomains_wildcards_and_ports_like_django() {
        let allowed = list(&[".example.com", "api.example.org", "[::1]", "127.0.0.1"]);
        for ok in [
            "example.com",
            "a.b.example.com:8443",
            "API.example.org",
            "api.example.org.",
            "[::1]:8000",
            "127.0.0.1:9",
        ] {
            assert!(is_allowed(ok, &allowed), "{ok}");
        }
        for refused in [
            "evil.com",
            "example.com.evil.com",
            "notexample.com",
            "www.example.org",
            "api.example.org:x",
            "api.example.org:",
            "exa mple.com",
            "[::2]",
            "[zz]:80",
            "",
            "127.0.0.1@evil.com",
        ] {
            assert!(!is_allowed(refused, &allowed), "{refused}");
        }
        assert!(is_allowed("anything.test:1", &list(&["*"])));
        assert!(!is_allowed("bad host", &list(&["*"])));
        assert!(!is_allowed("example.com", &[]));
    }
}
