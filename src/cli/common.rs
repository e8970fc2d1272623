//! What the commands share: the failure with its exit status, the exit statuses, writing to
//! standard output, opening the database (saying which), reading a password, and the
//! `create-user` arguments.

use std::io::{BufRead, IsTerminal};

use crate::config::{redact_url, Config};
use crate::db::{self, Db};
use crate::domain::user::Role;

/// Exit status: the command failed (a refused input, an unreachable database ...).
pub const EXIT_FAILURE: i32 = 1;
/// Exit status: the command line is wrong (clap's usage errors).
pub const EXIT_USAGE: i32 = 2;
/// Exit status: the configuration is wrong (`EX_CONFIG` of sysexits.h).
pub const EXIT_CONFIG: i32 = 78;

/// Writes to standard output; a closed pipe (`incident config | head`) is not an error.
pub fn say(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

#[derive(clap::Args, Debug)]
pub struct CreateUser {
    /// Login name: letters, digits and @ . + - _ only.
    #[arg(long)]
    pub username: String,
    /// ADMIN, SUPPORT (developer) or CLIENT.
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    #[arg(long, default_value = "")]
    pub email: String,
    #[arg(long, default_value = "")]
    pub first_name: String,
    #[arg(long, default_value = "")]
    pub last_name: String,
    /// WhatsApp number with country code, e.g. +201094402250.
    #[arg(long)]
    pub whatsapp_number: Option<String>,
    #[arg(long)]
    pub phone_number: Option<String>,
    #[arg(long)]
    pub department: Option<String>,
    /// Read the password from the first line of standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
}

pub fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(&s.to_ascii_uppercase())
        .ok_or_else(|| format!("{s:?} is not a role: use ADMIN, SUPPORT or CLIENT"))
}

/// An error worth showing to the person at the terminal, with the exit code to use.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: i32,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: EXIT_FAILURE,
        }
    }

    /// A wrong command line.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: EXIT_USAGE,
        }
    }

    /// A configuration that cannot work (a development key that cannot be kept ...).
    pub fn config(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: EXIT_CONFIG,
        }
    }
}

/// Opens and migrates the database, saying on standard error which one (and that a SQLite file
/// is being created when it does not exist yet).
pub async fn open_db(config: &Config) -> Result<Db, Failure> {
    let url = redact_url(&config.database_url);
    match db::sqlite_file(&config.database_url) {
        Some(file) if !file.exists() => eprintln!(
            "database: {url} (SQLite; creating {}, which does not exist yet)",
            absolute(&file).display()
        ),
        Some(file) => eprintln!("database: {url} (SQLite {})", absolute(&file).display()),
        None => eprintln!("database: {url}"),
    }
    let db = Db::connect_limited(
        &config.database_url,
        config.database_max_connections,
        Some(config.database_statement_timeout),
    )
    .await
    .map_err(|e| {
        Failure::new(format!(
            "cannot open the database ({}): {e}",
            redact_url(&config.database_url)
        ))
    })?;
    db.migrate()
        .await
        .map_err(|e| Failure::new(format!("cannot apply migrations: {e}")))?;
    Ok(db)
}

fn absolute(path: &std::path::Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

pub fn read_password(from_stdin: bool) -> Result<String, Failure> {
    if !from_stdin && !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "no terminal to ask the password on: pipe it in and pass --password-stdin",
        ));
    }
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::new(format!("cannot read the password from stdin: {e}")))?;
        return Ok(line.trim().to_string());
    }
    let first = rpassword::prompt_password("Password: ")
        .map_err(|e| Failure::new(format!("cannot read the password: {e}")))?;
    let again = rpassword::prompt_password("Password (again): ")
        .map_err(|e| Failure::new(format!("cannot read the password: {e}")))?;
    if first != again {
        return Err(Failure::new("the two passwords differ"));
    }
    Ok(first.trim().to_string())
}
