//! The configuration's tests: defaults, every error at once, redaction, and the documentation
//! of every variable.

use std::collections::HashMap;

use super::*;

fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(&move |n| vars.get(n).cloned())
}

#[test]
fn defaults_serve_sqlite_on_localhost_8000() {
    let c = cfg(&[]).unwrap();
    assert_eq!(c.database_url, "sqlite://incident.db");
    assert_eq!(c.port, 8000);
    assert!(c.secret_key_is_ephemeral);
    assert_eq!(c.access_token_lifetime, Duration::from_secs(7200));
    assert_eq!(c.twilio.whatsapp_from, "whatsapp:+14155238886");
    assert!(!c.twilio.is_configured());
}

#[test]
fn every_bad_variable_is_reported_at_once() {
    let e = cfg(&[
        ("PORT", "eighty"),
        ("ACCESS_TOKEN_LIFETIME", "soon"),
        ("INCIDENT_ENV", "production"),
    ])
    .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("PORT"), "{text}");
    assert!(text.contains("ACCESS_TOKEN_LIFETIME"), "{text}");
    assert!(text.contains("SECRET_KEY is required"), "{text}");
    assert!(text.contains("ALLOWED_HOSTS"), "{text}");
    assert_eq!(e.0.len(), 4);
}

#[test]
fn production_needs_allowed_hosts_or_a_public_base_url() {
    let secret = ("SECRET_KEY", "a-production-secret-key");
    let e = cfg(&[("INCIDENT_ENV", "production"), secret]).unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert!(e.to_string().contains("ALLOWED_HOSTS"), "{e}");
    assert!(e.to_string().contains("PUBLIC_BASE_URL"), "{e}");
    let c = cfg(&[
        ("INCIDENT_ENV", "production"),
        secret,
        ("PUBLIC_BASE_URL", "https://Tickets.Example.com/"),
    ])
    .unwrap();
    assert_eq!(c.allowed_hosts, ["tickets.example.com"]);
    let c = cfg(&[
        ("INCIDENT_ENV", "production"),
        secret,
        ("ALLOWED_HOSTS", " .example.com, API.example.org ,"),
    ])
    .unwrap();
    assert_eq!(c.allowed_hosts, [".example.com", "api.example.org"]);
}

#[test]
fn development_allows_the_local_names_like_djangos_debug() {
    let c = cfg(&[]).unwrap();
    assert_eq!(c.allowed_hosts, [".localhost", "127.0.0.1", "[::1]"]);
    let c = cfg(&[("ALLOWED_HOSTS", "*")]).unwrap();
    assert_eq!(c.allowed_hosts, ["*"]);
}

#[test]
fn metrics_listen_privately_by_default_and_a_token_moves_them_to_the_api_port() {
    let c = cfg(&[]).unwrap();
    assert_eq!(c.metrics_addr, Some("127.0.0.1:9100".parse().unwrap()));
    assert!(c.metrics_token.is_none());
    assert_eq!(cfg(&[("METRICS_ADDR", "off")]).unwrap().metrics_addr, None);
    let c = cfg(&[("METRICS_TOKEN", "scrape-me")]).unwrap();
    assert_eq!(c.metrics_addr, None);
    assert_eq!(c.metrics_token.unwrap().expose(), "scrape-me");
    let c = cfg(&[("METRICS_TOKEN", "t"), ("METRICS_ADDR", "0.0.0.0:9200")]).unwrap();
    assert_eq!(c.metrics_addr, Some("0.0.0.0:9200".parse().unwrap()));
    assert!(cfg(&[("METRICS_ADDR", "nine")]).is_err());
}

#[test]
fn connection_limits_have_defaults_and_refuse_zero() {
    let c = cfg(&[]).unwrap().connections;
    assert_eq!(c.header_read_timeout, Duration::from_secs(10));
    assert_eq!(
        c.max_connections, None,
        "by default the open-file limit decides"
    );
    let c = cfg(&[("MAX_CONNECTIONS", "300")]).unwrap().connections;
    assert_eq!(c.max_connections, Some(300));
    let e = cfg(&[("MAX_CONNECTIONS", "0")]).unwrap_err();
    assert!(e.to_string().contains("MAX_CONNECTIONS"), "{e}");
}

#[test]
fn secrets_are_redacted_in_debug_output() {
    let c = cfg(&[
        ("SECRET_KEY", "super-secret-value-123"),
        ("TWILIO_AUTH_TOKEN", "tok-abcdef"),
    ])
    .unwrap();
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("super-secret-value-123"));
    assert!(!dbg.contains("tok-abcdef"));
}

#[test]
fn durations_accept_units() {
    assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
    assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
    assert_eq!(parse_duration("1w"), None);
}

/// Every variable the server reads is explained in `.env.example` and in the README.
#[test]
fn every_variable_is_documented() {
    let asked = std::sync::Mutex::new(Vec::new());
    let _ = Config::from_lookup(&|name| {
        asked.lock().unwrap().push(name.to_string());
        None
    });
    let asked = asked.into_inner().unwrap();
    assert!(asked.len() > 40, "{asked:?}");
    for (file, text) in [
        (".env.example", include_str!("../../.env.example")),
        ("README.md", include_str!("../../README.md")),
    ] {
        let missing: Vec<&String> = asked
            .iter()
            .filter(|n| !text.contains(n.as_str()))
            .collect();
        assert!(missing.is_empty(), "{file} does not mention {missing:?}");
    }
}

#[test]
fn login_abuse_limits_default_and_turn_off_with_zero() {
    let c = cfg(&[]).unwrap();
    assert_eq!(c.login_max_failures_per_address, 20);
    assert_eq!(c.login_max_hash_wait, Duration::from_secs(2));
    let c = cfg(&[
        ("LOGIN_MAX_FAILURES_PER_ADDRESS", "0"),
        ("LOGIN_MAX_HASH_WAIT", "0"),
    ])
    .unwrap();
    assert_eq!(c.login_max_failures_per_address, 0);
    assert_eq!(c.login_max_hash_wait, Duration::ZERO);
    assert!(cfg(&[("LOGIN_MAX_FAILURES_PER_ADDRESS", "many")]).is_err());
}

#[test]
fn the_twilio_sender_is_read_like_a_users_number() {
    for written in [
        "whatsapp:+1 415 523 8886",
        "+1 (415) 523-8886",
        "14155238886",
        "whatsapp:+14155238886",
    ] {
        let written_plus = if written.starts_with(|c: char| c.is_ascii_digit()) {
            format!("+{written}")
        } else {
            written.to_string()
        };
        let c = cfg(&[("TWILIO_WHATSAPP_FROM", &written_plus)]).unwrap();
        assert_eq!(c.twilio.whatsapp_from, "whatsapp:+14155238886", "{written}");
    }
    // Without `+`: a national number in DEFAULT_PHONE_REGION.
    let c = cfg(&[
        ("TWILIO_WHATSAPP_FROM", "415 523 8886"),
        ("DEFAULT_PHONE_REGION", "US"),
    ])
    .unwrap();
    assert_eq!(c.twilio.whatsapp_from, "whatsapp:+14155238886");
    let e = cfg(&[("TWILIO_WHATSAPP_FROM", "whatsapp:sandbox")]).unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert!(e.0[0].starts_with("TWILIO_WHATSAPP_FROM="), "{e}");
}

#[test]
fn twilio_sids_are_checked_at_start_naming_the_variable() {
    let hx = "HX0123456789abcdef0123456789abcdef";
    let good = cfg(&[
        ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
        (
            "TWILIO_CONTENT_SIDS",
            &format!("ticket_created={hx},work_finished={hx}"),
        ),
    ])
    .unwrap();
    assert_eq!(good.twilio.content_sids.len(), 2);
    let e = cfg(&[
        ("TWILIO_ACCOUNT_SID", "AC0123"),
        (
            "TWILIO_CONTENT_SIDS",
            &format!("ticket_created=HX12,ticket_exploded={hx}"),
        ),
    ])
    .unwrap_err();
    let text = e.to_string();
    assert_eq!(e.0.len(), 3, "{text}");
    assert!(
        e.0.iter()
            .any(|m| m.starts_with("TWILIO_ACCOUNT_SID=\"AC0123\"")),
        "{text}"
    );
    assert!(
        text.contains("\"HX12\" (for ticket_created) is not a Content template SID"),
        "{text}"
    );
    assert!(
        text.contains("\"ticket_exploded\" is not an event"),
        "{text}"
    );
    assert!(cfg(&[("TWILIO_ACCOUNT_SID", "SK0123456789abcdef0123456789abcdef")]).is_err());
}
