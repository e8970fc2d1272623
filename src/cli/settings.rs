//! `incident config`: the configuration in effect, secrets redacted, and where each value came
//! from (flag, environment, `.env`, default), as `manage.py diffsettings` shows a Django admin.

use std::path::Path;

use super::args::{dotenv_path, Settings};
use super::common::{say, EXIT_CONFIG};
use crate::config::{key_file, redact_url, VARIABLES};

/// Prints the listing; the exit status is [`EXIT_CONFIG`] when the configuration is invalid.
pub fn print(settings: &Settings, dotenv: Option<&Path>) -> i32 {
    say(&listing(settings, dotenv));
    match settings.config() {
        Ok(config) => {
            if config.secret_key_is_ephemeral {
                if let Some(file) = key_file(&config.database_url) {
                    say(&format!(
                        "# Without SECRET_KEY, `serve` signs tokens with the development key kept in {}\n",
                        file.display()
                    ));
                }
            }
            0
        }
        Err(e) => {
            eprint!("error: {e}");
            EXIT_CONFIG
        }
    }
}

/// One line per variable: name, value (the default when unset), source.
pub fn listing(settings: &Settings, dotenv: Option<&Path>) -> String {
    let mut out = match dotenv {
        Some(p) => format!("# .env read from {}\n", p.display()),
        None => format!(
            "# no .env file ({} does not exist)\n",
            dotenv_path().display()
        ),
    };
    let width = VARIABLES.iter().map(|v| v.name.len()).max().unwrap_or(0);
    for v in VARIABLES {
        let source = settings.source(v.name);
        let value = match settings.value(v.name) {
            Some(_) if v.secret => "<redacted>".to_string(),
            Some(value) => redact_url(&value),
            None => v.default.to_string(),
        };
        let value = if value.is_empty() { "\"\"" } else { &value };
        out.push_str(&format!(
            "{:<width$}  {:<44}  # {}\n",
            v.name,
            value,
            source.as_str()
        ));
    }
    out
}
