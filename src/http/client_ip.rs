//! Who is calling: the peer's address, or with `TRUSTED_PROXY_HOPS` set, the one our own
//! proxies recorded in `X-Forwarded-For`. Keys login throttling and goes into the request log.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};

use crate::state::AppState;

/// The client's address; `None` only when the server runs without connect info.
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(of(
            &parts.extensions,
            &parts.headers,
            state.config.trusted_proxy_hops,
        )))
    }
}

/// The client address of a request (its extensions carry the peer address).
pub fn of(extensions: &Extensions, headers: &HeaderMap, hops: usize) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    client_ip(peer, headers, hops)
}

/// Entries left of what our `hops` proxies appended are the client's word and not trusted.
fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, hops: usize) -> Option<IpAddr> {
    if hops == 0 {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    // Each of our `hops` proxies appended the address it was reached from.
    forwarded
        .len()
        .checked_sub(hops)
        .and_then(|i| forwarded[i].parse().ok())
        .or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_client_address_is_the_one_our_proxies_recorded() {
        let peer: Option<IpAddr> = Some("10.0.0.2".parse().unwrap());
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let spoofed = forwarded(&["6.6.6.6, 203.0.113.7"]);
        // No proxy trusted: the peer, whatever the header says.
        assert_eq!(client_ip(peer, &spoofed, 0), peer);
        // One proxy: the entry it appended, not the client-supplied one before it.
        assert_eq!(client_ip(peer, &spoofed, 1), ip("203.0.113.7"));
        assert_eq!(client_ip(peer, &spoofed, 2), ip("6.6.6.6"));
        // Several header lines are one list.
        let lines = forwarded(&["6.6.6.6", "203.0.113.7, 10.0.0.1"]);
        assert_eq!(client_ip(peer, &lines, 2), ip("203.0.113.7"));
        assert_eq!(
            client_ip(peer, &forwarded(&["2001:db8::1"]), 1),
            ip("2001:db8::1")
        );
        // Missing, too short or unparsable: the peer.
        assert_eq!(client_ip(peer, &HeaderMap::new(), 1), peer);
        assert_eq!(client_ip(peer, &spoofed, 3), peer);
        assert_eq!(client_ip(peer, &forwarded(&["not-an-ip"]), 1), peer);
    }
}
