//! The authentication section: the signing key, token lifetimes, the user cache, the login
//! lockouts and the bound on the password-check queue.

use std::time::Duration;

use super::reader::Reader;
use super::values::{Environment, Secret};

pub(super) struct Auth {
    pub secret_key: Secret,
    pub secret_key_is_ephemeral: bool,
    pub access_token_lifetime: Duration,
    pub refresh_token_lifetime: Duration,
    pub console_session_idle: Duration,
    pub console_session_lifetime: Duration,
    pub auth_cache_ttl: Duration,
    pub login_max_failures: u32,
    pub login_lockout: Duration,
    pub login_max_failures_per_address: u32,
    pub login_max_hash_wait: Duration,
}

pub(super) fn read(r: &mut Reader, environment: Environment) -> Auth {
    let (secret_key, secret_key_is_ephemeral) = match r.raw("SECRET_KEY") {
        Some(k) => {
            if k.len() < 16 {
                r.error("SECRET_KEY is shorter than 16 characters");
            }
            (Secret::new(k), false)
        }
        None => {
            if environment == Environment::Production {
                r.error("SECRET_KEY is required when INCIDENT_ENV=production");
            }
            (Secret::new(random_key()), true)
        }
    };
    let access_token_lifetime = r.duration("ACCESS_TOKEN_LIFETIME", Duration::from_secs(7200));
    let refresh_token_lifetime = r.duration("REFRESH_TOKEN_LIFETIME", Duration::from_secs(172_800));
    let auth_cache_ttl = match r.raw("AUTH_CACHE_TTL").as_deref() {
        Some("0") => Duration::ZERO,
        _ => r.duration("AUTH_CACHE_TTL", Duration::from_secs(1)),
    };
    Auth {
        secret_key,
        secret_key_is_ephemeral,
        access_token_lifetime,
        refresh_token_lifetime,
        console_session_idle: r.duration("CONSOLE_SESSION_IDLE", Duration::from_secs(1800)),
        console_session_lifetime: r
            .duration("CONSOLE_SESSION_LIFETIME", Duration::from_secs(43_200)),
        auth_cache_ttl,
        login_max_failures: r.parse("LOGIN_MAX_FAILURES", 10u32, "a whole number"),
        login_lockout: r.duration("LOGIN_LOCKOUT", Duration::from_secs(900)),
        login_max_failures_per_address: r.parse(
            "LOGIN_MAX_FAILURES_PER_ADDRESS",
            20u32,
            "a whole number",
        ),
        login_max_hash_wait: match r.raw("LOGIN_MAX_HASH_WAIT").as_deref() {
            Some("0") => Duration::ZERO,
            _ => r.duration("LOGIN_MAX_HASH_WAIT", Duration::from_secs(2)),
        },
    }
}

/// A per-process key when `SECRET_KEY` is unset (tokens then die with the process).
fn random_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
