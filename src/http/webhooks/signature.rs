//! Webhook signature checks: Twilio's `X-Twilio-Signature` and Meta's `X-Hub-Signature-256`.
//!
//! Hand-rolled to match twilio-python's `RequestValidator` exactly (see shared/spec/whatsapp.md
//! §2 and §4); the `twilio` crate drops the query string and collapses repeated keys.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha1 = Hmac<Sha1>;
type HmacSha256 = Hmac<Sha256>;

/// The Twilio signature of a form-encoded request: the URL followed by every `name value` pair
/// (names sorted, each name's values sorted, exact duplicates once), HMAC-SHA1 keyed with the
/// auth token, standard base64.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    // HMAC takes keys of any length, so `None` cannot happen; an empty string matches nothing
    // because the validators never accept an empty signature.
    sign_twilio(auth_token, url, params).unwrap_or_default()
}

/// Checks `X-Twilio-Signature` on a form-encoded webhook.
///
/// `url` is the URL Twilio requested, with its query string, as Twilio sent it (rebuilt from
/// `X-Forwarded-*` behind a proxy); `params` are all decoded form fields, repeats included.
/// Like twilio-python, it accepts a signature of the URL with the default port added or with
/// any port removed, because Twilio does not sign ports consistently.
pub fn validate_twilio(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    if auth_token.is_empty() || signature.is_empty() {
        return false;
    }
    let Some(variants) = url_variants(url) else {
        return false;
    };
    // Every variant is checked, without stopping at the first match, so the time taken does not
    // reveal which form of the URL matched.
    variants.iter().fold(false, |valid, candidate| {
        let matches = sign_twilio(auth_token, candidate, params)
            .is_some_and(|expected| constant_time_eq(expected.as_bytes(), signature.as_bytes()));
        valid | matches
    })
}

/// Checks `X-Twilio-Signature` on a JSON webhook: Twilio puts the hex SHA-256 of the body in the
/// URL's `bodySHA256` query parameter and signs the URL alone.
///
/// Unlike twilio-python, a URL without `bodySHA256` is rejected: the body would be unsigned.
pub fn validate_twilio_json(auth_token: &str, url: &str, raw_body: &[u8], signature: &str) -> bool {
    let Some(claimed_hash) = body_sha256_param(url) else {
        return false;
    };
    let actual_hash = lower_hex(&Sha256::digest(raw_body));
    let body_matches = constant_time_eq(actual_hash.as_bytes(), claimed_hash.as_bytes());
    let signature_matches = validate_twilio(auth_token, url, &[], signature);
    body_matches & signature_matches
}

/// Checks Meta's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
pub fn validate_meta(app_secret: &str, raw_body: &[u8], header: &str) -> bool {
    if app_secret.is_empty() {
        return false;
    }
    let Some(claimed) = header.strip_prefix("sha256=").and_then(decode_hex) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(raw_body);
    // `verify_slice` compares in constant time and rejects a wrong length.
    mac.verify_slice(&claimed).is_ok()
}

fn sign_twilio(auth_token: &str, url: &str, params: &[(String, String)]) -> Option<String> {
    // Sorting the pairs orders names and then each name's values; byte order of UTF-8 equals
    // Python's code-point order, and `dedup` matches its use of sets.
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();

    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).ok()?;
    mac.update(url.as_bytes());
    for (name, value) in pairs {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    Some(STANDARD.encode(mac.finalize().into_bytes()))
}

/// The URL as given, with the scheme's default port added, and with any port removed.
///
/// Done on the string rather than with `url::Url`, which would drop a default port and
/// re-encode the path and query, changing the text that was signed. `None` if the URL has no
/// `scheme://authority` or a port that is not a number in 0..=65535 (where twilio-python raises).
fn url_variants(url: &str) -> Option<Vec<String>> {
    let scheme_end = url.find("://")?;
    let scheme = &url[..scheme_end];
    // RFC 3986 scheme syntax, so a "://" inside a relative URL's query is not taken for one.
    let mut scheme_chars = scheme.bytes();
    if !scheme_chars.next().is_some_and(|b| b.is_ascii_alphabetic())
        || !scheme_chars.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return None;
    }
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |offset| authority_start + offset);
    let authority = &url[authority_start..authority_end];
    let (before, after) = (&url[..authority_start], &url[authority_end..]);

    // Userinfo may itself contain ':' (`user:password@`), so the port is looked for after '@'.
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let (userinfo, host_port) = authority.split_at(host_start);
    let port_sep = if host_port.starts_with('[') {
        // IPv6 literal: only a ':' after the closing bracket starts a port.
        let close = host_port.find(']')?;
        host_port[close..].find(':').map(|offset| close + offset)
    } else {
        host_port.find(':')
    };
    let (host, port) = match port_sep {
        Some(sep) => (&host_port[..sep], &host_port[sep + 1..]),
        None => (host_port, ""),
    };
    // `u16::from_str` alone would also accept "+443".
    let port_is_valid = port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok();
    if !port.is_empty() && !port_is_valid {
        return None;
    }

    let without_port = format!("{before}{userinfo}{host}{after}");
    let with_port = if port.is_empty() {
        let default_port = if scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            80
        };
        format!("{before}{userinfo}{host}:{default_port}{after}")
    } else {
        url.to_owned()
    };

    let mut variants = vec![url.to_owned()];
    for candidate in [with_port, without_port] {
        if !variants.contains(&candidate) {
            variants.push(candidate);
        }
    }
    Some(variants)
}

/// The first non-empty `bodySHA256` value of the URL's query, percent-decoded, as Python's
/// `parse_qs` (which drops blank values) would give it.
fn body_sha256_param(url: &str) -> Option<String> {
    let without_fragment = url.split('#').next().unwrap_or(url);
    let (_, query) = without_fragment.split_once('?')?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, value)| name == "bodySHA256" && !value.is_empty())
        .map(|(_, value)| value.into_owned())
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // `ct_eq` on slices of different lengths is false, like twilio-python's `compare`.
    a.ct_eq(b).into()
}

fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors from twilio-python's tests/unit/test_request_validator.py, re-run in
    // shared/spec/whatsapp.md §2.
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const EXPECTED: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    const BODY: &str = r#"{"property": "value", "boolean": true}"#;
    const BODY_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    const BODY_SIGNATURE: &str = "a9nBmqA0ju/hNViExpshrM61xv4=";

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    fn call_params() -> Vec<(String, String)> {
        pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ])
    }

    fn url_with_body_hash() -> String {
        format!("{URL}&bodySHA256={BODY_HASH}")
    }

    #[test]
    fn twilio_signature_of_the_plain_url() {
        assert_eq!(twilio_signature(TOKEN, URL, &call_params()), EXPECTED);
        assert!(validate_twilio(TOKEN, URL, &call_params(), EXPECTED));
    }

    #[test]
    fn twilio_signature_does_not_depend_on_parameter_order() {
        let mut params = call_params();
        params.reverse();
        assert_eq!(twilio_signature(TOKEN, URL, &params), EXPECTED);
    }

    #[test]
    fn twilio_signature_with_port_443_is_accepted_on_the_portless_url() {
        let with_443 = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        let expected = "kvajT1Ptam85bY51eRf/AJRuM3w=";
        assert_eq!(twilio_signature(TOKEN, with_443, &call_params()), expected);
        assert!(validate_twilio(TOKEN, URL, &call_params(), expected));
        assert!(validate_twilio(TOKEN, with_443, &call_params(), expected));
    }

    #[test]
    fn twilio_signature_with_port_1234_on_http() {
        let url = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
        let expected = "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=";
        assert_eq!(twilio_signature(TOKEN, url, &call_params()), expected);
        assert!(validate_twilio(TOKEN, url, &call_params(), expected));
    }

    #[test]
    fn twilio_signature_with_port_80_is_accepted_on_the_portless_http_url() {
        let with_80 = "http://mycompany.com:80/myapp.php?foo=1&bar=2";
        let expected = "0ZXoZLH/DfblKGATFgpif+LLRf4=";
        assert_eq!(twilio_signature(TOKEN, with_80, &call_params()), expected);
        let plain_http = "http://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(validate_twilio(TOKEN, plain_http, &call_params(), expected));
    }

    #[test]
    fn twilio_validation_strips_a_port_on_https() {
        let url = "https://mycompany.com:1234/myapp.php?foo=1&bar=2";
        assert!(validate_twilio(TOKEN, url, &call_params(), EXPECTED));
    }

    #[test]
    fn twilio_signature_sorts_and_deduplicates_repeated_values() {
        let expected = "IK+Dwps556ElfBT0I3Rgjkr1wJU=";
        let triple = pairs(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(twilio_signature(TOKEN, URL, &triple), expected);
        assert!(validate_twilio(TOKEN, URL, &triple, expected));
        let pair = pairs(&[
            ("Digits", "5678"),
            ("SidAccount", "AC123"),
            ("Digits", "1234"),
            ("Sid", "CA123"),
        ]);
        assert_eq!(twilio_signature(TOKEN, URL, &pair), expected);
    }

    #[test]
    fn twilio_json_body_is_checked_against_body_sha256() {
        assert_eq!(lower_hex(&Sha256::digest(BODY.as_bytes())), BODY_HASH);
        let url = url_with_body_hash();
        assert_eq!(twilio_signature(TOKEN, &url, &[]), BODY_SIGNATURE);
        assert!(validate_twilio_json(
            TOKEN,
            &url,
            BODY.as_bytes(),
            BODY_SIGNATURE
        ));
    }

    #[test]
    fn twilio_json_with_a_tampered_body_is_rejected() {
        let tampered = BODY.replace("value", "other");
        assert!(!validate_twilio_json(
            TOKEN,
            &url_with_body_hash(),
            tampered.as_bytes(),
            BODY_SIGNATURE
        ));
    }

    #[test]
    fn twilio_json_without_body_sha256_is_rejected() {
        let signature = twilio_signature(TOKEN, URL, &[]);
        assert!(!validate_twilio_json(
            TOKEN,
            URL,
            BODY.as_bytes(),
            &signature
        ));
        let blank = format!("{URL}&bodySHA256=");
        let signature = twilio_signature(TOKEN, &blank, &[]);
        assert!(!validate_twilio_json(TOKEN, &blank, b"", &signature));
    }

    #[test]
    fn twilio_json_with_a_wrong_signature_or_token_is_rejected() {
        let url = url_with_body_hash();
        assert!(!validate_twilio_json(
            TOKEN,
            &url,
            BODY.as_bytes(),
            EXPECTED
        ));
        assert!(!validate_twilio_json(
            "54321",
            &url,
            BODY.as_bytes(),
            BODY_SIGNATURE
        ));
        assert!(!validate_twilio_json(TOKEN, &url, BODY.as_bytes(), ""));
    }

    #[test]
    fn twilio_wrong_token_is_rejected() {
        assert!(!validate_twilio("54321", URL, &call_params(), EXPECTED));
        assert!(!validate_twilio("", URL, &call_params(), EXPECTED));
    }

    #[test]
    fn twilio_tampered_params_are_rejected() {
        let mut changed = call_params();
        changed[1].1 = "9999".into();
        assert!(!validate_twilio(TOKEN, URL, &changed, EXPECTED));

        let mut extra = call_params();
        extra.push(("MessageStatus".into(), "delivered".into()));
        assert!(!validate_twilio(TOKEN, URL, &extra, EXPECTED));

        let mut missing = call_params();
        missing.pop();
        assert!(!validate_twilio(TOKEN, URL, &missing, EXPECTED));
    }

    #[test]
    fn twilio_tampered_url_is_rejected() {
        let other_query = "https://mycompany.com/myapp.php?foo=1&bar=3";
        assert!(!validate_twilio(
            TOKEN,
            other_query,
            &call_params(),
            EXPECTED
        ));
        let other_scheme = "http://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(!validate_twilio(
            TOKEN,
            other_scheme,
            &call_params(),
            EXPECTED
        ));
    }

    #[test]
    fn twilio_empty_or_altered_signature_is_rejected() {
        assert!(!validate_twilio(TOKEN, URL, &call_params(), ""));
        assert!(!validate_twilio(
            TOKEN,
            URL,
            &call_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8"
        ));
        assert!(!validate_twilio(
            TOKEN,
            URL,
            &call_params(),
            "rSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn twilio_unusable_urls_are_rejected() {
        for url in [
            "/myapp.php?foo=1&bar=2",
            "/myapp.php?next=https://mycompany.com/",
            "://mycompany.com/myapp.php",
            "mycompany.com/myapp.php",
            "https://mycompany.com:http/myapp.php",
            "https://mycompany.com:70000/myapp.php",
        ] {
            let signature = twilio_signature(TOKEN, url, &call_params());
            assert!(
                !validate_twilio(TOKEN, url, &call_params(), &signature),
                "{url}"
            );
        }
    }

    #[test]
    fn url_variants_keep_userinfo_and_ipv6_hosts_intact() {
        assert_eq!(
            url_variants("https://user:pw@example.com:8443/cb?x=1").unwrap(),
            [
                "https://user:pw@example.com:8443/cb?x=1",
                "https://user:pw@example.com/cb?x=1",
            ]
        );
        assert_eq!(
            url_variants("http://[::1]/cb").unwrap(),
            ["http://[::1]/cb", "http://[::1]:80/cb"]
        );
        assert_eq!(
            url_variants("https://[::1]:8443").unwrap(),
            ["https://[::1]:8443", "https://[::1]"]
        );
    }

    #[test]
    fn meta_signature_vector_is_accepted() {
        let header = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914";
        assert!(validate_meta("secret", b"test", header));
    }

    #[test]
    fn meta_wrong_secret_or_tampered_body_is_rejected() {
        let header = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914";
        assert!(!validate_meta("secreT", b"test", header));
        assert!(!validate_meta("", b"test", header));
        assert!(!validate_meta("secret", b"test ", header));
    }

    #[test]
    fn meta_malformed_headers_are_rejected() {
        let hex = "0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914";
        for header in [
            hex.to_string(),
            format!("sha1={hex}"),
            format!("SHA256={hex}"),
            format!("sha256= {hex}"),
            format!("sha256={}", &hex[..62]),
            format!("sha256={hex}00"),
            format!("sha256={}zz", &hex[..62]),
            "sha256=".to_string(),
            String::new(),
        ] {
            assert!(!validate_meta("secret", b"test", &header), "{header:?}");
        }
    }
}
