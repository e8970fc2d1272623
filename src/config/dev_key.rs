//! The development signing key: without `SECRET_KEY` outside production, a random key generated
//! once and kept beside the SQLite database (`incident.db.secret-key`, mode 0600), so a restart
//! does not log everybody out.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::values::{Environment, Secret};

/// Where the signing key of this configuration came from, for the start-up warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `SECRET_KEY` is set.
    Configured,
    /// The development key file beside the SQLite database; `created` when made just now.
    File { path: PathBuf, created: bool },
    /// A random key for this process only (PostgreSQL without `SECRET_KEY`).
    Process,
}

/// The file beside a SQLite database that keeps its development key.
pub fn key_file(database_url: &str) -> Option<PathBuf> {
    let db = crate::db::sqlite_file(database_url)?;
    let mut name = db.file_name()?.to_os_string();
    name.push(".secret-key");
    Some(db.with_file_name(name))
}

/// The kept development key when `SECRET_KEY` is unset, in development, on a SQLite file: read
/// from the file beside the database, or `generated` written there. `None` elsewhere. Errors name
/// the file and the fix.
pub(super) fn kept_key(
    database_url: &str,
    environment: Environment,
    generated: &Secret,
) -> Result<Option<(Secret, KeySource)>, String> {
    let path = match key_file(database_url) {
        Some(p) if environment == Environment::Development => p,
        _ => return Ok(None),
    };
    let created = !path.exists();
    let key = if created {
        write_new_key(&path, generated.expose())?;
        generated.clone()
    } else {
        Secret::new(read_key(&path)?)
    };
    Ok(Some((key, KeySource::File { path, created })))
}

fn read_key(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the development key {}: {e} (set SECRET_KEY, or delete the file to make a new one)",
            path.display()
        )
    })?;
    let key = text.trim().to_string();
    if key.len() < 16 {
        return Err(format!(
            "the development key {} is shorter than 16 characters: delete it to make a new one",
            path.display()
        ));
    }
    Ok(key)
}

fn write_new_key(path: &Path, key: &str) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(path)
        .and_then(|mut f| f.write_all(format!("{key}\n").as_bytes()));
    written.map_err(|e| {
        format!(
            "cannot keep a development key in {}: {e} (set SECRET_KEY instead)",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config(url: &str, env: &str) -> Config {
        let url = url.to_string();
        let env = env.to_string();
        Config::from_lookup(&|name| match name {
            "DATABASE_URL" => Some(url.clone()),
            "INCIDENT_ENV" => Some(env.clone()),
            "ALLOWED_HOSTS" => Some("x".into()),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn the_key_is_made_once_beside_the_database_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("app.db").display());
        let mut first = config(&url, "development");
        let path = dir.path().join("app.db.secret-key");
        assert_eq!(
            first.keep_development_key(),
            Ok(KeySource::File {
                path: path.clone(),
                created: true
            })
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut second = config(&url, "development");
        assert_ne!(first.secret_key, second.secret_key, "random before reading");
        assert_eq!(
            second.keep_development_key(),
            Ok(KeySource::File {
                path,
                created: false
            })
        );
        assert_eq!(first.secret_key, second.secret_key);
        assert!(!second.secret_key_is_ephemeral);
    }

    #[test]
    fn postgres_and_a_set_key_keep_no_file() {
        let mut pg = config("postgres://u@localhost/db", "development");
        assert_eq!(pg.keep_development_key(), Ok(KeySource::Process));
        assert!(pg.secret_key_is_ephemeral);
        let mut set = Config::for_tests("sqlite://never-written.db");
        assert_eq!(set.keep_development_key(), Ok(KeySource::Configured));
        assert!(!Path::new("never-written.db.secret-key").exists());
    }
}
