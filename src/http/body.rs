//! Request bodies as DRF parses them (JSON, form, multipart text fields) and field validation
//! with DRF's exact messages, collected in serializer field order.

use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::{json, Map, Value};

use crate::domain::workflow::{py_float_repr, TextInput};
use crate::error::Error;

/// The request body as a JSON object, whatever encoding the client used.
pub struct Body(pub Map<String, Value>);

/// The raw request body, parsed only when the handler asks: DRF parses lazily, after the
/// permission checks, so a forbidden caller gets 403 even for a malformed body.
pub struct RawBody {
    content_type: Option<String>,
    pub bytes: axum::body::Bytes,
}

/// One part of a multipart body.
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: axum::body::Bytes,
}

/// The Python type name DRF puts in its messages.
pub fn python_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Adds a form value; a repeated key becomes a list, as QueryDict.getlist sees it.
fn push_form_value(map: &mut Map<String, Value>, key: String, value: Value) {
    match map.get_mut(&key) {
        None => {
            map.insert(key, value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

pub fn media_type(req_ct: Option<&str>) -> Option<String> {
    req_ct.map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    Error::PayloadTooLarge("Request body is too large.".into())
                } else {
                    Error::MalformedBody(e.body_text())
                }
            })?;
        Ok(RawBody {
            content_type,
            bytes,
        })
    }
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        RawBody::from_request(req, state)
            .await?
            .parse()
            .await
            .map(Body)
    }
}

impl RawBody {
    pub fn media_type(&self) -> Option<String> {
        media_type(self.content_type.as_deref())
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The parts of a multipart body; an error when the body is not multipart or malformed.
    pub async fn parts(&self) -> Result<Vec<Part>, Error> {
        let ct = self.content_type.as_deref().unwrap_or_default();
        let boundary = multer::parse_boundary(ct)
            .map_err(|e| Error::MalformedBody(format!("Multipart form parse error - {e}")))?;
        let data = self.bytes.clone();
        let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(data) });
        let mut mp = multer::Multipart::new(stream, boundary);
        let mut parts = Vec::new();
        while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_string();
            let filename = field.file_name().map(str::to_string);
            let content_type = field.content_type().map(|m| m.to_string());
            let data = field.bytes().await.map_err(multipart_error)?;
            parts.push(Part {
                name,
                filename,
                content_type,
                data,
            });
        }
        Ok(parts)
    }

    /// The body as a JSON object, however it was encoded. A field holding a NUL byte anywhere
    /// is refused here, for every handler: PostgreSQL cannot store one in text.
    pub async fn parse(&self) -> Result<Map<String, Value>, Error> {
        let map = self.parse_any().await?;
        refuse_null_characters(&map)?;
        Ok(map)
    }

    async fn parse_any(&self) -> Result<Map<String, Value>, Error> {
        if self.media_type().as_deref() == Some("multipart/form-data") {
            let mut map = Map::new();
            for p in self.parts().await? {
                let value = if p.filename.is_some() {
                    // A file is present but is not text; only the attachment endpoint reads it.
                    json!({"__file__": true})
                } else {
                    Value::String(String::from_utf8_lossy(&p.data).into_owned())
                };
                push_form_value(&mut map, p.name, value);
            }
            return Ok(map);
        }
        parse_bytes(
            self.media_type().as_deref(),
            self.content_type.as_deref(),
            &self.bytes,
        )
    }
}

/// Django's `ProhibitNullCharactersValidator` message, which DRF's `CharField` runs.
pub const NULL_CHARACTERS_MESSAGE: &str = "Null characters are not allowed.";

pub fn has_null_character(text: &str) -> bool {
    text.contains('\0')
}

/// DRF's field errors naming each of `fields` with the NUL-byte message.
pub fn null_characters_in(fields: impl IntoIterator<Item = String>) -> Error {
    let errors = fields
        .into_iter()
        .map(|f| (f, json!([NULL_CHARACTERS_MESSAGE])))
        .collect();
    Error::Validation(Value::Object(errors))
}

/// Refuses a body in which any field holds a NUL byte (in a string, however deep), naming every
/// such field: no text with one reaches the database, on either engine.
pub fn refuse_null_characters(body: &Map<String, Value>) -> Result<(), Error> {
    fn holds_null(v: &Value) -> bool {
        match v {
            Value::String(s) => has_null_character(s),
            Value::Array(items) => items.iter().any(holds_null),
            Value::Object(m) => m
                .iter()
                .any(|(k, v)| has_null_character(k) || holds_null(v)),
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
    let fields: Vec<String> = body
        .iter()
        .filter(|(_, v)| holds_null(v))
        .map(|(k, _)| k.clone())
        .collect();
    if fields.is_empty() {
        Ok(())
    } else {
        Err(null_characters_in(fields))
    }
}

pub fn multipart_error(e: multer::Error) -> Error {
    Error::MalformedBody(format!("Multipart form parse error - {e}"))
}

/// Parses a non-multipart body by its media type.
pub fn parse_bytes(
    media: Option<&str>,
    raw_ct: Option<&str>,
    bytes: &[u8],
) -> Result<Map<String, Value>, Error> {
    match media {
        None | Some("") if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
        Some("application/json") => parse_json_object(bytes),
        Some(m) if m.starts_with("application/") && m.ends_with("+json") => {
            parse_json_object(bytes)
        }
        Some("application/x-www-form-urlencoded") => {
            let mut map = Map::new();
            for (k, v) in form_urlencoded::parse(bytes) {
                push_form_value(&mut map, k.into_owned(), Value::String(v.into_owned()));
            }
            Ok(map)
        }
        None | Some("") => Err(Error::UnsupportedMediaType(String::new())),
        Some(_) => Err(Error::UnsupportedMediaType(
            raw_ct.unwrap_or_default().to_string(),
        )),
    }
}

fn parse_json_object(bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(Error::Validation(json!({
            "non_field_errors": [format!("Invalid data. Expected a dictionary, but got {}.", python_type_name(&other))]
        }))),
        Err(e) => Err(Error::MalformedBody(format!("JSON parse error - {e}"))),
    }
}

/// Reads a text body field the way DRF's `CharField` does, for the workflow's comment bodies:
/// numbers become the text Python's `str()` gives them (`12345` -> `"12345"`, `1.0` -> `"1.0"`).
pub fn text_input(value: Option<&Value>) -> TextInput {
    match value {
        None => TextInput::Missing,
        Some(Value::Null) => TextInput::Null,
        Some(Value::String(s)) => TextInput::Value(s.clone()),
        Some(Value::Number(n)) => TextInput::Value(py_str_of_number(n)),
        Some(Value::Bool(_) | Value::Array(_) | Value::Object(_)) => TextInput::NotAString,
    }
}

/// Python's `str()` of a number decoded by `json.loads`: integers as digits, floats as `repr`.
pub fn py_str_of_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if !(n.is_i64() || n.is_u64()) => py_float_repr(f),
        _ => n.to_string(),
    }
}

/// What a string field rule allows.
#[derive(Clone, Copy)]
pub struct Str {
    pub required: bool,
    pub allow_blank: bool,
    pub allow_null: bool,
    pub max: Option<usize>,
    pub min: Option<usize>,
    pub trim: bool,
}

impl Str {
    pub const fn required() -> Str {
        Str {
            required: true,
            allow_blank: false,
            allow_null: false,
            max: None,
            min: None,
            trim: true,
        }
    }
    pub const fn optional() -> Str {
        Str {
            required: false,
            allow_blank: true,
            allow_null: false,
            max: None,
            min: None,
            trim: true,
        }
    }
    pub const fn max(mut self, n: usize) -> Str {
        self.max = Some(n);
        self
    }
    pub const fn min(mut self, n: usize) -> Str {
        self.min = Some(n);
        self
    }
    pub const fn no_blank(mut self) -> Str {
        self.allow_blank = false;
        self
    }
    pub const fn nullable(mut self) -> Str {
        self.allow_null = true;
        self
    }
}

/// The value of one field after validation.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    Absent,
    Null,
    Value(T),
    /// An error was recorded for this field.
    Invalid,
}

impl<T> Field<T> {
    pub fn value(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }
    pub fn is_present(&self) -> bool {
        !matches!(self, Field::Absent)
    }
}

/// Collects field errors in the order fields are read (the serializer's field order).
pub struct Fields<'a> {
    data: &'a Map<String, Value>,
    errors: Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub fn new(data: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            data,
            errors: Map::new(),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.data.contains_key(name)
    }

    pub fn raw(&self, name: &str) -> Option<&'a Value> {
        self.data.get(name)
    }

    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        let entry = self
            .errors
            .entry(name.to_string())
            .or_insert_with(|| json!([]));
        if let Value::Array(items) = entry {
            items.push(Value::String(message.into()));
        }
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn has_error(&self, name: &str) -> bool {
        self.errors.contains_key(name)
    }

    /// DRF CharField: numbers become strings, other types are "Not a valid string.".
    pub fn str(&mut self, name: &str, rule: Str) -> Field<String> {
        let v = match self.data.get(name) {
            None => {
                if rule.required {
                    self.error(name, "This field is required.");
                    return Field::Invalid;
                }
                return Field::Absent;
            }
            Some(v) => v,
        };
        let s = match v {
            Value::Null => {
                if rule.allow_null {
                    return Field::Null;
                }
                self.error(name, "This field may not be null.");
                return Field::Invalid;
            }
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            // A repeated form key: DRF reads the last value.
            Value::Array(items) if items.iter().all(Value::is_string) && !items.is_empty() => items
                .last()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            _ => {
                self.error(name, "Not a valid string.");
                return Field::Invalid;
            }
        };
        let s = if rule.trim { s.trim().to_string() } else { s };
        if s.is_empty() {
            if !rule.allow_blank {
                self.error(name, "This field may not be blank.");
                return Field::Invalid;
            }
            return Field::Value(s);
        }
        let len = s.chars().count();
        if let Some(max) = rule.max {
            if len > max {
                self.error(
                    name,
                    format!("Ensure this field has no more than {max} characters."),
                );
                return Field::Invalid;
            }
        }
        if let Some(min) = rule.min {
            if len < min {
                self.error(
                    name,
                    format!("Ensure this field has at least {min} characters."),
                );
                return Field::Invalid;
            }
        }
        Field::Value(s)
    }

    /// DRF BooleanField.
    pub fn bool(&mut self, name: &str) -> Field<bool> {
        match self.data.get(name) {
            None => Field::Absent,
            Some(Value::Null) => {
                self.error(name, "This field may not be null.");
                Field::Invalid
            }
            Some(v) => match parse_bool(v) {
                Some(b) => Field::Value(b),
                None => {
                    self.error(name, "Must be a valid boolean.");
                    Field::Invalid
                }
            },
        }
    }

    /// DRF ChoiceField over `choices`.
    pub fn choice(&mut self, name: &str, required: bool, choices: &[&str]) -> Field<String> {
        match self.data.get(name) {
            None => {
                if required {
                    self.error(name, "This field is required.");
                    return Field::Invalid;
                }
                Field::Absent
            }
            Some(Value::Null) => {
                self.error(name, "This field may not be null.");
                Field::Invalid
            }
            Some(v) => {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
                    _ => String::new(),
                };
                if choices.contains(&s.as_str()) {
                    Field::Value(s)
                } else if s.is_empty() && matches!(v, Value::String(_)) {
                    self.error(name, format!("\"{s}\" is not a valid choice."));
                    Field::Invalid
                } else {
                    let shown = match v {
                        Value::String(_) | Value::Number(_) | Value::Bool(_) => s,
                        other => other.to_string(),
                    };
                    self.error(name, format!("\"{shown}\" is not a valid choice."));
                    Field::Invalid
                }
            }
        }
    }

    /// DRF DateTimeField with the default format message.
    pub fn datetime(&mut self, name: &str) -> Field<chrono::DateTime<chrono::Utc>> {
        match self.data.get(name) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(Value::String(s)) if s.trim().is_empty() => Field::Null,
            Some(Value::String(s)) => match crate::domain::datetime::parse_datetime_input(s) {
                Some(t) => Field::Value(t),
                None => {
                    self.error(name, DATETIME_FORMAT_MESSAGE);
                    Field::Invalid
                }
            },
            Some(_) => {
                self.error(name, DATETIME_FORMAT_MESSAGE);
                Field::Invalid
            }
        }
    }

    pub fn finish(self) -> Result<(), Error> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(Value::Object(self.errors)))
        }
    }
}

pub const DATETIME_FORMAT_MESSAGE: &str =
    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].";

pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.as_str() {
            "true" | "True" | "TRUE" | "1" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "t"
            | "T" | "y" | "Y" => Some(true),
            "false" | "False" | "FALSE" | "0" | "no" | "No" | "NO" | "off" | "Off" | "OFF"
            | "f" | "F" | "n" | "N" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Django's EmailValidator, reduced to what matters: one `@`, a plausible local part, and a
/// domain of dot-separated labels (or `localhost`).
pub fn is_valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.is_empty() || s.len() > 254 {
        return false;
    }
    let local_ok = local.split('.').all(|part| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c))
    });
    if !local_ok {
        return false;
    }
    if domain == "localhost" {
        return true;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn text_input_reads_json_like_drf() {
        let body = json!({"s": " hi ", "i": 12345, "neg": -3, "f": 1.0, "t": true, "l": [], "o": {}, "n": null});
        let get = |k: &str| text_input(body.get(k));
        assert_eq!(get("s"), TextInput::Value(" hi ".to_string()));
        assert_eq!(get("i"), TextInput::Value("12345".to_string()));
        assert_eq!(get("neg"), TextInput::Value("-3".to_string()));
        assert_eq!(get("f"), TextInput::Value("1.0".to_string()));
        assert_eq!(get("t"), TextInput::NotAString);
        assert_eq!(get("l"), TextInput::NotAString);
        assert_eq!(get("o"), TextInput::NotAString);
        assert_eq!(get("n"), TextInput::Null);
        assert_eq!(get("missing"), TextInput::Missing);
    }

    #[test]
    fn str_rules_use_drf_messages_in_field_order() {
        let data = map(json!({"b": "  ", "a": true, "c": 12345, "d": "x".repeat(5)}));
        let mut f = Fields::new(&data);
        assert_eq!(f.str("z", Str::required()), Field::Invalid);
        assert_eq!(f.str("b", Str::required()), Field::Invalid);
        assert_eq!(f.str("a", Str::optional()), Field::Invalid);
        assert_eq!(f.str("c", Str::optional()), Field::Value("12345".into()));
        assert_eq!(f.str("d", Str::optional().max(4)), Field::Invalid);
        let body = serde_json::to_string(&f.finish().unwrap_err().body()).unwrap();
        assert_eq!(
            body,
            r#"{"z":["This field is required."],"b":["This field may not be blank."],"a":["Not a valid string."],"d":["Ensure this field has no more than 4 characters."]}"#
        );
    }

    #[test]
    fn bodies_parse_like_drf() {
        assert!(parse_bytes(Some("application/json"), None, b"[1]").is_err());
        assert!(matches!(
            parse_bytes(Some("application/json"), None, b"{bad"),
            Err(Error::MalformedBody(_))
        ));
        let m = parse_bytes(
            Some("application/x-www-form-urlencoded"),
            None,
            b"a=1&a=2&b=x",
        )
        .unwrap();
        assert_eq!(Value::Object(m), json!({"a": ["1", "2"], "b": "x"}));
        assert!(matches!(
            parse_bytes(Some("text/plain"), Some("text/plain"), b"hi"),
            Err(Error::UnsupportedMediaType(_))
        ));
        assert!(parse_bytes(None, None, b"").unwrap().is_empty());
    }

    #[test]
    fn a_null_character_anywhere_in_a_field_names_that_field() {
        let body =
            map(json!({"ok": "fine", "title": "a\u{0}b", "ids": [1, {"k": "\u{0}"}], "n": 1}));
        let err = refuse_null_characters(&body).unwrap_err();
        assert_eq!(
            err.body(),
            json!({"title": [NULL_CHARACTERS_MESSAGE], "ids": [NULL_CHARACTERS_MESSAGE]})
        );
        assert!(refuse_null_characters(&map(json!({"a": "no nul", "b": [true]}))).is_ok());
    }

    #[test]
    fn emails() {
        assert!(is_valid_email("john@example.com"));
        assert!(is_valid_email("a.b+c@sub.example.co"));
        assert!(!is_valid_email("john@"));
        assert!(!is_valid_email("john@example"));
        assert!(!is_valid_email("no-at-sign"));
        assert!(!is_valid_email("a@b@c.com"));
    }
}
