//! The notifications section: the default phone region, which WhatsApp provider delivers, and
//! each provider's account, credentials and templates.

use std::collections::HashMap;

use super::reader::Reader;
use super::values::Secret;

/// Which WhatsApp provider delivers messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhatsAppProviderKind {
    Twilio,
    Meta,
    /// Writes each message to the log and marks it SENT: for demos, never the default.
    Log,
}

#[derive(Debug, Clone)]
pub struct TwilioConfig {
    pub account_sid: String,
    /// API key SID (`SK...`) used as the Basic-auth user instead of the account SID, when set.
    pub api_key_sid: Option<String>,
    /// Auth token, or the API key secret when `api_key_sid` is set.
    pub auth_token: Secret,
    /// Auth token used to check `X-Twilio-Signature` on status callbacks (the primary auth token).
    pub webhook_auth_token: Secret,
    pub whatsapp_from: String,
    pub messaging_service_sid: Option<String>,
    pub base_url: String,
    /// Content template SIDs by event code (`ticket_created` ...), sent as `ContentSid`.
    pub content_sids: HashMap<String, String>,
}

impl TwilioConfig {
    pub fn is_configured(&self) -> bool {
        !self.account_sid.is_empty() && !self.auth_token.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct MetaConfig {
    pub access_token: Secret,
    pub phone_number_id: String,
    pub api_version: String,
    pub base_url: String,
    pub app_secret: Secret,
    pub verify_token: Secret,
    /// Template names by event code, sent as template messages.
    pub templates: HashMap<String, String>,
    pub template_language: String,
}

impl MetaConfig {
    pub fn is_configured(&self) -> bool {
        !self.access_token.is_empty() && !self.phone_number_id.is_empty()
    }
}

/// `DEFAULT_PHONE_REGION`: how numbers without a country code are read.
pub(super) fn phone_region(r: &mut Reader) -> Option<String> {
    let region = r
        .raw("DEFAULT_PHONE_REGION")
        .map(|v| v.to_ascii_uppercase());
    if let Some(region) = &region {
        if !crate::domain::phone::validate_region(region) {
            r.error(format!(
                "DEFAULT_PHONE_REGION={region:?} is not a two-letter country code such as EG or US"
            ));
        }
    }
    region
}

/// `WHATSAPP_PROVIDER`.
pub(super) fn kind(r: &mut Reader) -> WhatsAppProviderKind {
    r.choice(
        "WHATSAPP_PROVIDER",
        "twilio",
        &[
            (&["twilio"], WhatsAppProviderKind::Twilio),
            (&["meta"], WhatsAppProviderKind::Meta),
            (&["log"], WhatsAppProviderKind::Log),
        ],
        "twilio, meta or log",
    )
}

/// The `TWILIO_*` variables. An API key and its secret come together and replace the auth
/// token for sending; the auth token still checks webhook signatures. The sender is read with
/// the users' phone parser (`whatsapp:+1 415 523 8886`, a national number in `region`); the
/// account SID and the Content template SIDs are checked for their shape, so a typo refuses
/// start naming its variable instead of failing every send.
pub(super) fn twilio(r: &mut Reader, region: Option<&str>) -> TwilioConfig {
    let auth_token = Secret::new(r.raw("TWILIO_AUTH_TOKEN").unwrap_or_default());
    let api_key_sid = r.raw("TWILIO_API_KEY_SID");
    let api_key_secret = r.raw("TWILIO_API_KEY_SECRET");
    if api_key_sid.is_some() != api_key_secret.is_some() {
        r.error("TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET must be set together");
    }
    let twilio = TwilioConfig {
        account_sid: r.string("TWILIO_ACCOUNT_SID", ""),
        api_key_sid: api_key_sid.clone(),
        auth_token: match (&api_key_sid, api_key_secret) {
            (Some(_), Some(secret)) => Secret::new(secret),
            _ => auth_token.clone(),
        },
        webhook_auth_token: auth_token,
        whatsapp_from: twilio_sender(r, region),
        messaging_service_sid: r.raw("TWILIO_MESSAGING_SERVICE_SID"),
        base_url: r
            .string("TWILIO_BASE_URL", "https://api.twilio.com")
            .trim_end_matches('/')
            .to_string(),
        content_sids: content_sids(r),
    };
    if !twilio.account_sid.is_empty() && !is_sid(&twilio.account_sid, "AC") {
        r.error(format!(
            "TWILIO_ACCOUNT_SID={:?} is not an account SID: AC followed by 32 hexadecimal digits (find it in the Twilio Console under Account Info)",
            twilio.account_sid
        ));
    }
    twilio
}

/// The Twilio sender default: the Sandbox's number.
const SANDBOX_SENDER: &str = "whatsapp:+14155238886";

/// `TWILIO_WHATSAPP_FROM` as `whatsapp:+E164`.
fn twilio_sender(r: &mut Reader, region: Option<&str>) -> String {
    let Some(raw) = r.raw("TWILIO_WHATSAPP_FROM") else {
        return SANDBOX_SENDER.to_string();
    };
    match crate::domain::phone::WhatsAppNumber::parse(&raw, region) {
        Ok(number) => number.whatsapp_address(),
        Err(e) => {
            r.error(format!(
                "TWILIO_WHATSAPP_FROM={raw:?} is not a WhatsApp sender number: {e} (the Sandbox's is whatsapp:+14155238886)"
            ));
            SANDBOX_SENDER.to_string()
        }
    }
}

/// `TWILIO_CONTENT_SIDS`: `event=HX...` pairs, each event one of the workflow's and each SID
/// a Content template SID.
fn content_sids(r: &mut Reader) -> HashMap<String, String> {
    let sids = r.map("TWILIO_CONTENT_SIDS");
    let mut entries: Vec<_> = sids.iter().collect();
    entries.sort();
    for (event, sid) in entries {
        if !crate::domain::workflow::Event::CODES.contains(&event.as_str()) {
            r.error(format!(
                "TWILIO_CONTENT_SIDS: {event:?} is not an event; use {}",
                crate::domain::workflow::Event::CODES.join(", ")
            ));
        }
        if !is_sid(sid, "HX") {
            r.error(format!(
                "TWILIO_CONTENT_SIDS: {sid:?} (for {event}) is not a Content template SID: HX followed by 32 hexadecimal digits"
            ));
        }
    }
    sids
}

/// A Twilio SID: its two-letter prefix and 32 hexadecimal digits.
fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The Meta Cloud API variables (`WHATSAPP_*`).
pub(super) fn meta(r: &mut Reader) -> MetaConfig {
    MetaConfig {
        access_token: Secret::new(r.raw("WHATSAPP_ACCESS_TOKEN").unwrap_or_default()),
        phone_number_id: r.string("WHATSAPP_PHONE_NUMBER_ID", ""),
        api_version: r.string("WHATSAPP_API_VERSION", "v21.0"),
        base_url: r
            .string("WHATSAPP_BASE_URL", "https://graph.facebook.com")
            .trim_end_matches('/')
            .to_string(),
        app_secret: Secret::new(r.raw("WHATSAPP_APP_SECRET").unwrap_or_default()),
        verify_token: Secret::new(r.raw("WHATSAPP_VERIFY_TOKEN").unwrap_or_default()),
        templates: r.map("WHATSAPP_TEMPLATES"),
        template_language: r.string("WHATSAPP_TEMPLATE_LANGUAGE", "en_US"),
    }
}
