//! The `assign` request body (contract §6.7): the developer ids and the two SLA date-times read
//! with DRF's exact messages, check order and all-field-errors-at-once reporting, into the typed
//! input of the assign step.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::domain::assign::{
    DeadlineRules, Patch, ESTIMATED_RESOLUTION, ESTIMATE_AFTER_DUE, INVALID_DEVELOPERS,
    MAX_DEVELOPERS, RESOLUTION_DUE,
};
use crate::domain::datetime::parse_datetime_input;
use crate::domain::ticket::is_py_whitespace;
use crate::domain::workflow::py_float_repr;
use crate::http::body::RawBody;
use crate::service::tickets::AssignInput;

const REQUIRED: &str = "This field is required.";
const NULL: &str = "This field may not be null.";
const INVALID_INTEGER: &str = "A valid integer is required.";
const BELOW_MIN: &str = "Ensure this value is greater than or equal to 1.";
/// DRF's `IntegerField` refuses strings over 1000 characters before trying to parse them.
const STRING_TOO_LARGE: &str = "String value too large.";
const MAX_INTEGER_STRING_CHARS: usize = 1000;
const DATE_FORMAT: &str =
    "Invalid datetime format. Use ISO 8601 format: YYYY-MM-DDTHH:MM:SS or YYYY-MM-DD HH:MM:SS";

/// Form bodies carry `assigned_to` as repeated keys and empty dates as "": make them the JSON
/// the validator reads, as DRF's form parsing does.
pub fn normalize_form_assign(body: &RawBody, mut data: Map<String, Value>) -> Map<String, Value> {
    let form = matches!(
        body.media_type().as_deref(),
        Some("application/x-www-form-urlencoded" | "multipart/form-data")
    );
    if form {
        if let Some(v @ Value::String(_)) = data.get_mut("assigned_to") {
            *v = Value::Array(vec![v.take()]);
        }
        for key in ["resolution_due_at", "estimated_resolution_time"] {
            if let Some(v) = data.get_mut(key) {
                if v.as_str() == Some("") {
                    *v = Value::Null;
                }
            }
        }
    }
    data
}

/// Validates an `assign` body. On failure returns the exact 400 body: field errors for every
/// failing field together (`{"assigned_to": ...,"resolution_due_at": [...]}`), then the
/// cross-field rule only when every field passed, then `{"error": INVALID_DEVELOPERS}` for ids no
/// database can hold (the original crashed on those in its developer lookup).
///
/// Form-encoded bodies: the caller turns the repeated `assigned_to` keys into a JSON array of
/// strings (a single `assigned_to=5` too: DRF reads form lists with `getlist`), and an empty form
/// value of a date field into `null`, which is what DRF's HTML-form handling makes of it.
pub fn validate_assign(
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<AssignInput, Value> {
    let mut errors = Map::new();
    let ids = check_assigned_to(body.get("assigned_to"))
        .map_err(|e| errors.insert("assigned_to".to_string(), e))
        .ok();
    let due = check_date(body.get(RESOLUTION_DUE.field), &RESOLUTION_DUE, now)
        .map_err(|e| errors.insert(RESOLUTION_DUE.field.to_string(), json!([e])))
        .ok();
    let estimate = check_date(
        body.get(ESTIMATED_RESOLUTION.field),
        &ESTIMATED_RESOLUTION,
        now,
    )
    .map_err(|e| errors.insert(ESTIMATED_RESOLUTION.field.to_string(), json!([e])))
    .ok();
    let (Some(ids), Some(due), Some(estimate)) = (ids, due, estimate) else {
        return Err(Value::Object(errors));
    };
    if let (Patch::Set(due_at), Patch::Set(estimated)) = (due, estimate) {
        if estimated > due_at {
            return Err(json!({ ESTIMATED_RESOLUTION.field: [ESTIMATE_AFTER_DUE] }));
        }
    }
    let developer_ids = ids
        .iter()
        .map(|digits| digits.parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| json!({ "error": INVALID_DEVELOPERS }))?;
    Ok(AssignInput {
        developer_ids,
        resolution_due_at: due,
        estimated_resolution_time: estimate,
    })
}

/// `ListField(child=IntegerField(min_value=1))` plus the original's length and duplicate rules.
/// Ok holds each id as canonical decimal digits, so ids beyond i64 still compare correctly.
fn check_assigned_to(value: Option<&Value>) -> Result<Vec<String>, Value> {
    let items = match value {
        None => return Err(json!([REQUIRED])),
        Some(Value::Null) => return Err(json!([NULL])),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(json!([format!(
                "Expected a list of items but got type \"{}\".",
                py_type_name(other)
            )]))
        }
    };
    let mut ids = Vec::with_capacity(items.len());
    let mut item_errors = Map::new();
    for (index, item) in items.iter().enumerate() {
        match check_id(item) {
            Ok(id) => ids.push(id),
            Err(message) => {
                item_errors.insert(index.to_string(), json!([message]));
            }
        }
    }
    if !item_errors.is_empty() {
        return Err(Value::Object(item_errors));
    }
    if ids.is_empty() {
        return Err(json!(["At least one developer must be assigned"]));
    }
    if ids.len() > MAX_DEVELOPERS {
        return Err(json!([format!(
            "Cannot assign more than {MAX_DEVELOPERS} developers to one ticket"
        )]));
    }
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != ids.len() {
        return Err(json!(["Duplicate user IDs are not allowed"]));
    }
    Ok(ids)
}

/// One list item through DRF's `IntegerField(min_value=1)`: `int(str(value))` after dropping a
/// `.000` tail, so `"5"`, `5.0` and `" 5 "` are all 5, while `true`, `5.5` and `[5]` are not.
fn check_id(item: &Value) -> Result<String, &'static str> {
    let text = match item {
        Value::Null => return Err(NULL),
        Value::String(s) if s.chars().count() > MAX_INTEGER_STRING_CHARS => {
            return Err(STRING_TOO_LARGE)
        }
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::Number(n) => py_float_repr(n.as_f64().unwrap_or(f64::NAN)),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => return Err(INVALID_INTEGER),
    };
    let (negative, digits) = parse_py_int(strip_decimal_zeros(&text)).ok_or(INVALID_INTEGER)?;
    if negative || digits == "0" {
        return Err(BELOW_MIN);
    }
    Ok(digits)
}

/// DRF's `re.sub(r'\.0*\s*$', '', text)`: only the last dot can start such a tail.
fn strip_decimal_zeros(text: &str) -> &str {
    match text.rfind('.') {
        Some(dot)
            if text[dot + 1..]
                .trim_start_matches('0')
                .chars()
                .all(is_py_whitespace) =>
        {
            &text[..dot]
        }
        _ => text,
    }
}

/// Python's `int(text)` in base 10: surrounding whitespace, one sign, digits with single
/// underscores between them. Returns the sign and the digits without leading zeros.
fn parse_py_int(text: &str) -> Option<(bool, String)> {
    let text = text.trim_matches(is_py_whitespace);
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let bytes = body.as_bytes();
    let well_formed = !bytes.is_empty()
        && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'_')
        && bytes[0] != b'_'
        && bytes[bytes.len() - 1] != b'_'
        && !body.contains("__");
    if !well_formed {
        return None;
    }
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    let trimmed = digits.trim_start_matches('0');
    let canonical = if trimmed.is_empty() { "0" } else { trimmed };
    Some((negative, canonical.to_string()))
}

/// Python's `type(value).__name__` for a value `json.loads` produced.
fn py_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "int",
        Value::Number(_) => "float",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn check_date(
    value: Option<&Value>,
    rules: &DeadlineRules,
    now: DateTime<Utc>,
) -> Result<Patch<DateTime<Utc>>, &'static str> {
    let at = match value {
        None => return Ok(Patch::Unchanged),
        Some(Value::Null) => return Ok(Patch::Clear),
        // DRF's DateTimeField answers any non-string with its format message too.
        Some(Value::String(s)) => parse_datetime_input(s).ok_or(DATE_FORMAT)?,
        Some(_) => return Err(DATE_FORMAT),
    };
    rules.check(at, now)?;
    Ok(Patch::Set(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::datetime::format_dtiso;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, 12, 0, 0).unwrap()
    }

    fn iso(t: DateTime<Utc>) -> String {
        format_dtiso(&t)
    }

    fn validate(body: Value) -> Result<AssignInput, Value> {
        match body {
            Value::Object(map) => validate_assign(&map, now()),
            other => panic!("not an object: {other}"),
        }
    }

    fn ids_error(body: Value) -> Value {
        validate(body).unwrap_err()["assigned_to"].clone()
    }

    #[test]
    fn accepts_ids_alone_and_leaves_the_dates_unchanged() {
        let input = validate(json!({"assigned_to": [5, 3]})).unwrap();
        assert_eq!(input.developer_ids, vec![5, 3]);
        assert_eq!(input.resolution_due_at, Patch::Unchanged);
        assert_eq!(input.estimated_resolution_time, Patch::Unchanged);
    }

    #[test]
    fn numeric_strings_and_whole_floats_are_ids() {
        let input = validate(json!({"assigned_to": ["5", " 6 ", "7.0", 8.0, "+9", "1_0", "011"]}));
        assert_eq!(input.unwrap().developer_ids, vec![5, 6, 7, 8, 9, 10, 11]);
    }

    #[test]
    fn missing_ids_are_required() {
        assert_eq!(ids_error(json!({})), json!(["This field is required."]));
    }

    #[test]
    fn null_ids_are_refused() {
        assert_eq!(
            ids_error(json!({"assigned_to": null})),
            json!(["This field may not be null."])
        );
    }

    #[test]
    fn a_non_list_names_its_python_type() {
        let cases = [
            (json!("5"), "str"),
            (json!(5), "int"),
            (json!(5.5), "float"),
            (json!(true), "bool"),
            (json!({"0": 5}), "dict"),
        ];
        for (value, type_name) in cases {
            assert_eq!(
                ids_error(json!({ "assigned_to": value })),
                json!([format!(
                    "Expected a list of items but got type \"{type_name}\"."
                )])
            );
        }
    }

    #[test]
    fn an_empty_list_needs_one_developer() {
        assert_eq!(
            ids_error(json!({"assigned_to": []})),
            json!(["At least one developer must be assigned"])
        );
    }

    #[test]
    fn more_than_twenty_developers_are_refused() {
        let ids: Vec<i64> = (1..=21).collect();
        assert_eq!(
            ids_error(json!({ "assigned_to": ids })),
            json!(["Cannot assign more than 20 developers to one ticket"])
        );
        let twenty: Vec<i64> = (1..=20).collect();
        assert!(validate(json!({ "assigned_to": twenty })).is_ok());
    }

    #[test]
    fn duplicates_are_refused_whatever_their_spelling() {
        for list in [
            json!([5, 5]),
            json!([5, "5"]),
            json!(["05", 5.0]),
            json!([3, 4, "4.00"]),
        ] {
            assert_eq!(
                ids_error(json!({ "assigned_to": list })),
                json!(["Duplicate user IDs are not allowed"])
            );
        }
    }

    #[test]
    fn item_errors_are_keyed_by_string_index() {
        let err = ids_error(
            json!({"assigned_to": [1, null, "abc", 0, -4, true, 2.5, [3], {}, "", "1__0"]}),
        );
        assert_eq!(
            err,
            json!({
                "1": ["This field may not be null."],
                "2": ["A valid integer is required."],
                "3": ["Ensure this value is greater than or equal to 1."],
                "4": ["Ensure this value is greater than or equal to 1."],
                "5": ["A valid integer is required."],
                "6": ["A valid integer is required."],
                "7": ["A valid integer is required."],
                "8": ["A valid integer is required."],
                "9": ["A valid integer is required."],
                "10": ["A valid integer is required."],
            })
        );
    }

    #[test]
    fn item_errors_win_over_the_length_and_duplicate_checks() {
        let mut ids: Vec<Value> = (1..=25).map(|_| json!(1)).collect();
        ids.push(Value::Null);
        assert_eq!(
            ids_error(json!({ "assigned_to": ids })),
            json!({"25": ["This field may not be null."]})
        );
    }

    #[test]
    fn an_overlong_numeric_string_is_too_large() {
        let long = "1".repeat(1001);
        assert_eq!(
            ids_error(json!({ "assigned_to": [long] })),
            json!({"0": ["String value too large."]})
        );
    }

    #[test]
    fn minus_zero_and_float_zero_are_below_the_minimum() {
        assert_eq!(
            ids_error(json!({"assigned_to": ["-0", 0.0]})),
            json!({
                "0": ["Ensure this value is greater than or equal to 1."],
                "1": ["Ensure this value is greater than or equal to 1."],
            })
        );
    }

    #[test]
    fn ids_no_database_can_hold_fail_like_the_developer_lookup() {
        let err = validate(json!({"assigned_to": ["99999999999999999999"]})).unwrap_err();
        assert_eq!(
            err,
            json!({"error": "Some user IDs are invalid or not support users"})
        );
    }

    #[test]
    fn dates_in_range_are_set_and_null_clears() {
        let due = now() + Duration::days(2);
        let estimate = now() + Duration::days(1);
        let input = validate(json!({
            "assigned_to": [1],
            "resolution_due_at": iso(due),
            "estimated_resolution_time": iso(estimate),
        }))
        .unwrap();
        assert_eq!(input.resolution_due_at, Patch::Set(due));
        assert_eq!(input.estimated_resolution_time, Patch::Set(estimate));

        let input = validate(json!({
            "assigned_to": [1], "resolution_due_at": null, "estimated_resolution_time": null,
        }))
        .unwrap();
        assert_eq!(input.resolution_due_at, Patch::Clear);
        assert_eq!(input.estimated_resolution_time, Patch::Clear);
    }

    #[test]
    fn dates_accept_the_django_input_forms() {
        let input = validate(json!({"assigned_to": [1], "resolution_due_at": "2030-01-03 10:30"}));
        let expected = Utc.with_ymd_and_hms(2030, 1, 3, 10, 30, 0).unwrap();
        assert_eq!(input.unwrap().resolution_due_at, Patch::Set(expected));
    }

    #[test]
    fn malformed_dates_get_the_custom_format_message() {
        for value in [
            json!("tomorrow"),
            json!(""),
            json!(1893456000),
            json!(true),
            json!({}),
        ] {
            let err = validate(json!({
                "assigned_to": [1], "resolution_due_at": value, "estimated_resolution_time": value,
            }))
            .unwrap_err();
            assert_eq!(
                err,
                json!({
                    "resolution_due_at": [DATE_FORMAT],
                    "estimated_resolution_time": [DATE_FORMAT],
                })
            );
        }
        assert_eq!(
            DATE_FORMAT,
            "Invalid datetime format. Use ISO 8601 format: YYYY-MM-DDTHH:MM:SS or YYYY-MM-DD HH:MM:SS"
        );
    }

    fn date_error(field: &str, at: DateTime<Utc>) -> Option<Value> {
        let mut body = json!({"assigned_to": [1]});
        body[field] = json!(iso(at));
        validate(body).err().map(|e| e[field].clone())
    }

    #[test]
    fn resolution_due_range_messages() {
        let f = "resolution_due_at";
        let msg = |m: &str| Some(json!([m]));
        assert_eq!(
            date_error(f, now()),
            msg("Resolution due date must be in the future")
        );
        assert_eq!(
            date_error(f, now() - Duration::days(3)),
            msg("Resolution due date must be in the future")
        );
        assert_eq!(
            date_error(f, now() + Duration::days(365) + Duration::seconds(1)),
            msg("Resolution due date cannot be more than 1 year in the future")
        );
        assert_eq!(date_error(f, now() + Duration::days(365)), None);
        assert_eq!(
            date_error(f, now() + Duration::minutes(29)),
            msg("Resolution due date must be at least 30 minutes in the future")
        );
        assert_eq!(date_error(f, now() + Duration::minutes(30)), None);
    }

    #[test]
    fn estimated_resolution_range_messages() {
        let f = "estimated_resolution_time";
        let msg = |m: &str| Some(json!([m]));
        assert_eq!(
            date_error(f, now()),
            msg("Estimated resolution time must be in the future")
        );
        assert_eq!(
            date_error(f, now() + Duration::days(366)),
            msg("Estimated time cannot be more than 1 year in the future")
        );
        assert_eq!(
            date_error(f, now() + Duration::minutes(14)),
            msg("Estimated time must be at least 15 minutes in the future")
        );
        assert_eq!(date_error(f, now() + Duration::minutes(15)), None);
    }

    #[test]
    fn all_field_errors_are_reported_together() {
        let err = validate(json!({
            "assigned_to": "5",
            "resolution_due_at": iso(now() - Duration::hours(1)),
            "estimated_resolution_time": "soon",
        }))
        .unwrap_err();
        assert_eq!(
            err,
            json!({
                "assigned_to": ["Expected a list of items but got type \"str\"."],
                "resolution_due_at": ["Resolution due date must be in the future"],
                "estimated_resolution_time": [DATE_FORMAT],
            })
        );
    }

    #[test]
    fn an_estimate_after_the_due_date_is_refused() {
        let err = validate(json!({
            "assigned_to": [1],
            "resolution_due_at": iso(now() + Duration::days(1)),
            "estimated_resolution_time": iso(now() + Duration::days(2)),
        }))
        .unwrap_err();
        assert_eq!(
            err,
            json!({"estimated_resolution_time": [
                "Estimated resolution time should not be after the resolution due date"
            ]})
        );
    }

    #[test]
    fn an_estimate_equal_to_the_due_date_is_fine() {
        let at = iso(now() + Duration::days(1));
        let body =
            json!({"assigned_to": [1], "resolution_due_at": at, "estimated_resolution_time": at});
        assert!(validate(body).is_ok());
    }

    #[test]
    fn the_cross_field_check_waits_for_every_field_to_pass() {
        let err = validate(json!({
            "assigned_to": [],
            "resolution_due_at": iso(now() + Duration::days(1)),
            "estimated_resolution_time": iso(now() + Duration::days(2)),
        }))
        .unwrap_err();
        assert_eq!(
            err,
            json!({"assigned_to": ["At least one developer must be assigned"]})
        );
    }

    #[test]
    fn the_cross_field_check_needs_both_dates_in_the_request() {
        let body = json!({"assigned_to": [1], "estimated_resolution_time": iso(now() + Duration::days(2))});
        assert!(validate(body).is_ok());
        let body = json!({
            "assigned_to": [1],
            "resolution_due_at": null,
            "estimated_resolution_time": iso(now() + Duration::days(2)),
        });
        assert!(validate(body).is_ok());
    }

    #[test]
    fn python_int_parsing_edges() {
        assert_eq!(parse_py_int(" -12 "), Some((true, "12".to_string())));
        assert_eq!(parse_py_int("000"), Some((false, "0".to_string())));
        for bad in ["", "+", "_1", "1_", "1__2", "1 2", "0x10", "1e3", "١"] {
            assert_eq!(parse_py_int(bad), None, "{bad}");
        }
        assert_eq!(strip_decimal_zeros("5."), "5");
        assert_eq!(strip_decimal_zeros("5.000 \n"), "5");
        assert_eq!(strip_decimal_zeros("5.01"), "5.01");
        assert_eq!(strip_decimal_zeros("5.0.0"), "5.0");
    }
}
