//! SimpleJWT-compatible HS256 tokens: the claims, order and checks of the original, so tokens it
//! issued with the same `SECRET_KEY` stay valid here. Tokens issued here carry one claim more,
//! `iat_us` (the issue time in microseconds), after SimpleJWT's five: revocation compares it with
//! the user's revocation instants, so a token issued in the same second as a password change or
//! a deactivation is told apart. A token without it (the original's) counts as issued at the
//! start of its `iat` second.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

/// The claims in SimpleJWT's order: `token_type`, `exp`, `iat`, `jti`, `user_id`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: TokenType,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// Written as a string (SimpleJWT >= 5.5); older tokens carry an integer, also accepted.
    #[serde(serialize_with = "ser_user_id", deserialize_with = "de_user_id")]
    pub user_id: i64,
    /// The issue time in microseconds since the epoch (this server's tokens only; SimpleJWT
    /// ignores a claim it does not know).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat_us: Option<i64>,
}

impl Claims {
    /// When the token was issued: `iat_us` when it agrees with `iat`, else the start of the
    /// `iat` second, the earliest instant it can have been issued at (so a revocation in that
    /// second refuses it).
    pub fn issued_at(&self) -> DateTime<Utc> {
        let second = || Utc.timestamp_opt(self.iat, 0).single();
        self.iat_us
            .filter(|us| us.div_euclid(1_000_000) == self.iat)
            .and_then(|us| Utc.timestamp_micros(us).single())
            .or_else(second)
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// When the token expires.
    pub fn expires_at(&self) -> DateTime<Utc> {
        Utc.timestamp_opt(self.exp, 0)
            .single()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

fn ser_user_id<S: serde::Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&id.to_string())
}

fn de_user_id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Int(i64),
        Str(String),
    }
    match Id::deserialize(d)? {
        Id::Int(i) => Ok(i),
        // Digits only, as a path id: `"+2"` is not user 2.
        Id::Str(s) => crate::domain::id::parse(&s)
            .ok_or_else(|| serde::de::Error::custom("user_id is not an id")),
    }
}

/// Why a token was refused, in SimpleJWT's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Invalid,
    Expired,
    WrongType,
    /// Rotated already, or issued before a password change or a deactivation.
    Blacklisted,
}

impl TokenError {
    pub const fn message(self) -> &'static str {
        match self {
            TokenError::Blacklisted => "Token is blacklisted",
            TokenError::Invalid => "Token is invalid",
            TokenError::Expired => "Token is expired",
            TokenError::WrongType => "Token has wrong type",
        }
    }
}

/// Signs and checks tokens with one key.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_lifetime: Duration,
    pub refresh_lifetime: Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(<redacted>)")
    }
}

pub struct Issued {
    pub token: String,
    pub claims: Claims,
}

impl JwtKeys {
    pub fn new(secret: &str, access_lifetime: Duration, refresh_lifetime: Duration) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        JwtKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            access_lifetime,
            refresh_lifetime,
        }
    }

    pub fn issue(
        &self,
        user_id: i64,
        token_type: TokenType,
    ) -> Result<Issued, jsonwebtoken::errors::Error> {
        let issued_at = crate::domain::datetime::now();
        let now = issued_at.timestamp();
        let lifetime = match token_type {
            TokenType::Access => self.access_lifetime,
            TokenType::Refresh => self.refresh_lifetime,
        };
        let claims = Claims {
            token_type,
            exp: now + lifetime.as_secs() as i64,
            iat: now,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            user_id,
            iat_us: Some(issued_at.timestamp_micros()),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(Issued { token, claims })
    }

    /// Checks the signature and expiry, then the type, in SimpleJWT's order.
    pub fn verify(&self, token: &str, expected: TokenType) -> Result<Claims, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        // SimpleJWT treats `exp == now` as expired; jsonwebtoken only `exp < now`.
        if data.claims.exp <= Utc::now().timestamp() {
            return Err(TokenError::Expired);
        }
        if data.claims.token_type != expected {
            return Err(TokenError::WrongType);
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(
            "k".repeat(32).as_str(),
            Duration::from_secs(60),
            Duration::from_secs(120),
        )
    }

    #[test]
    fn access_roundtrip_and_claim_order() {
        let k = keys();
        let t = k.issue(4, TokenType::Access).unwrap();
        let payload = t.token.split('.').nth(1).unwrap();
        use base64::Engine;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        let text = String::from_utf8(json).unwrap();
        assert!(
            text.starts_with("{\"token_type\":\"access\",\"exp\":"),
            "{text}"
        );
        assert!(text.contains(",\"user_id\":\"4\",\"iat_us\":"), "{text}");
        assert_eq!(t.claims.jti.len(), 32);
        assert_eq!(k.verify(&t.token, TokenType::Access).unwrap().user_id, 4);
    }

    #[test]
    fn issue_time_has_microseconds_and_the_original_tokens_count_from_their_second() {
        let t = keys().issue(4, TokenType::Access).unwrap();
        let us = t.claims.iat_us.unwrap();
        assert_eq!(us.div_euclid(1_000_000), t.claims.iat);
        assert_eq!(t.claims.issued_at().timestamp_micros(), us);
        let original = Claims {
            iat_us: None,
            ..t.claims.clone()
        };
        assert_eq!(
            original.issued_at().timestamp_micros(),
            t.claims.iat * 1_000_000
        );
        // An `iat_us` that contradicts `iat` is ignored.
        let odd = Claims {
            iat_us: Some(us + 5_000_000),
            ..t.claims
        };
        assert_eq!(odd.issued_at(), original.issued_at());
    }

    #[test]
    fn refresh_token_is_the_wrong_type_for_access() {
        let k = keys();
        let t = k.issue(1, TokenType::Refresh).unwrap();
        assert_eq!(
            k.verify(&t.token, TokenType::Access).unwrap_err(),
            TokenError::WrongType
        );
    }

    #[test]
    fn other_key_and_garbage_are_invalid() {
        let t = keys().issue(1, TokenType::Access).unwrap();
        let other = JwtKeys::new(
            "another-key-another-key",
            Duration::from_secs(60),
            Duration::from_secs(60),
        );
        assert_eq!(
            other.verify(&t.token, TokenType::Access).unwrap_err(),
            TokenError::Invalid
        );
        assert_eq!(
            keys().verify("garbage", TokenType::Access).unwrap_err(),
            TokenError::Invalid
        );
    }

    #[test]
    fn a_user_id_that_is_not_digits_is_an_invalid_token() {
        let secret = "k".repeat(32);
        let now = Utc::now().timestamp();
        let enc = EncodingKey::from_secret(secret.as_bytes());
        for id in ["+2", " 2", "2.0", "", "0x2"] {
            let claims = serde_json::json!({"token_type":"access","exp":now+60,"iat":now,"jti":"c".repeat(32),"user_id":id});
            let token =
                jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &enc).unwrap();
            assert_eq!(
                keys().verify(&token, TokenType::Access).unwrap_err(),
                TokenError::Invalid,
                "{id:?}"
            );
        }
    }

    #[test]
    fn integer_user_id_is_accepted_and_expired_tokens_refused() {
        let secret = "k".repeat(32);
        let now = Utc::now().timestamp();
        let enc = EncodingKey::from_secret(secret.as_bytes());
        let ok = serde_json::json!({"token_type":"access","exp":now+60,"iat":now,"jti":"a".repeat(32),"user_id":7});
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &ok, &enc).unwrap();
        assert_eq!(keys().verify(&token, TokenType::Access).unwrap().user_id, 7);
        let old = serde_json::json!({"token_type":"access","exp":now-1,"iat":now-100,"jti":"b".repeat(32),"user_id":"7"});
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &old, &enc).unwrap();
        assert_eq!(
            keys().verify(&token, TokenType::Access).unwrap_err(),
            TokenError::Expired
        );
    }
}
