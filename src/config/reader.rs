//! Reading variables: trimmed, empty counts as unset, and every unusable value recorded as an
//! error (with the default kept) so all of them are reported at once.

use std::collections::HashMap;
use std::time::Duration;

use super::values::ConfigErrors;

/// Reads variables from any source (the process environment in `from_env`, a map in tests).
pub(super) struct Reader<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
    pub(super) errors: Vec<String>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(get: &'a dyn Fn(&str) -> Option<String>) -> Reader<'a> {
        Reader {
            get,
            errors: Vec::new(),
        }
    }

    /// Records a problem with a variable; reading goes on.
    pub(super) fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    /// Every problem recorded, or nothing.
    pub(super) fn finish(self) -> Result<(), ConfigErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(self.errors))
        }
    }

    pub(super) fn raw(&self, name: &str) -> Option<String> {
        (self.get)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn string(&self, name: &str, default: &str) -> String {
        self.raw(name).unwrap_or_else(|| default.to_string())
    }

    /// A value that must be one of a few words (case-insensitive); `choices` maps words to values.
    pub(super) fn choice<T: Copy>(
        &mut self,
        name: &str,
        default: &str,
        choices: &[(&[&str], T)],
        expected: &str,
    ) -> T {
        let value = self.string(name, default).to_ascii_lowercase();
        let found = choices
            .iter()
            .find(|(words, _)| words.contains(&value.as_str()));
        match found {
            Some((_, v)) => *v,
            None => {
                self.error(format!("{name}={value:?} must be {expected}"));
                let fallback = choices.iter().find(|(words, _)| words.contains(&default));
                fallback.map_or(choices[0].1, |(_, v)| *v)
            }
        }
    }

    pub(super) fn parse<T: std::str::FromStr>(&mut self, name: &str, default: T, what: &str) -> T {
        match self.raw(name) {
            None => default,
            Some(v) => match v.parse() {
                Ok(x) => x,
                Err(_) => {
                    self.error(format!("{name}={v:?} is not {what}"));
                    default
                }
            },
        }
    }

    pub(super) fn duration(&mut self, name: &str, default: Duration) -> Duration {
        match self.raw(name) {
            None => default,
            Some(v) => match parse_duration(&v) {
                Some(d) if !d.is_zero() => d,
                _ => {
                    self.error(format!(
                        "{name}={v:?} is not a duration (a number of seconds, or a number with s, m, h or d, e.g. 2h)"
                    ));
                    default
                }
            },
        }
    }

    pub(super) fn bool(&mut self, name: &str, default: bool) -> bool {
        match self.raw(name).map(|v| v.to_ascii_lowercase()) {
            None => default,
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => true,
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => false,
            Some(v) => {
                self.error(format!("{name}={v:?} is not a boolean (true or false)"));
                default
            }
        }
    }

    /// `key=value,key=value` pairs (blank keys or values skipped).
    pub(super) fn map(&self, name: &str) -> HashMap<String, String> {
        map_list(&self.string(name, ""))
    }
}

/// `7200`, `7200s`, `120m`, `2h`, `2d`.
pub fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let (num, unit) = match v.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&v[..i], v[i..].trim()),
        None => (v, "s"),
    };
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return None,
    };
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(secs))
}

fn map_list(v: &str) -> HashMap<String, String> {
    v.split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .collect()
}
