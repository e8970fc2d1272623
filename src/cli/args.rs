//! The command line: the subcommands, and every configuration variable as a flag of the
//! commands that read it (generated from `config::VARIABLES`, with clap's `env`), so that
//! `incident serve --help` lists each with its variable, default and meaning. A value comes from
//! its flag, else the environment, else `./.env`, else its default; [`Settings`] remembers
//! which.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{Arg, ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use super::common::{CreateUser, Failure, EXIT_CONFIG};
use super::import::ImportDjango;
use super::notifications::NotificationsCommand;
use super::templates::TemplatesCommand;
use super::users::UsersCommand;
use crate::config::{Config, ConfigErrors, VARIABLES};

const AFTER_HELP: &str = "\
Configuration: each setting is taken from its flag, else its environment variable, else the .env
file in the working directory, else its default. `incident config` shows the values in effect
and where each came from. Secrets are better passed in the environment than as flags.

Exit status: 0 success, 1 the command failed, 2 usage error, 78 configuration error.";

#[derive(Parser, Debug)]
#[command(
    name = "incident",
    version,
    about = "Incident and support-ticket server with WhatsApp notifications",
    disable_help_subcommand = true,
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Apply migrations, then serve the HTTP API and run the notification worker (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create a user (like Django's createsuperuser); the password is read from a prompt or stdin.
    CreateUser(CreateUser),
    /// List and change users: passwords, roles, WhatsApp numbers, activation.
    #[command(subcommand)]
    Users(UsersCommand),
    /// WhatsApp diagnostics.
    #[command(subcommand)]
    Whatsapp(WhatsAppCommand),
    /// E-mail diagnostics.
    #[command(subcommand)]
    Email(EmailCommand),
    /// Bring a Django deployment's database over (users keep their passwords); run it with
    /// --dry-run first. The target (DATABASE_URL) must be empty.
    ImportDjango(ImportDjango),
    /// The notification log's upkeep: `prune --older-than 365d [--dry-run]`.
    #[command(subcommand)]
    Notifications(NotificationsCommand),
    /// Message templates: export the built-in texts to a folder, check a folder.
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// Print the configuration in effect (secrets redacted) and where each value came from:
    /// flag, environment, .env or default.
    Config,
    /// Print this message or the help of the given subcommand.
    Help {
        /// The subcommand, e.g. `users set-password`.
        command: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum WhatsAppCommand {
    /// Send one message with the configured provider; print its SID, or the cause and the fix.
    Test {
        /// Recipient in international format, e.g. +201094402250.
        #[arg(long)]
        to: String,
        /// The text to send.
        #[arg(
            long,
            default_value = "✅ Test message from Incident Management System: WhatsApp notifications are working."
        )]
        message: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum EmailCommand {
    /// Send one e-mail through the configured SMTP server; print its Message-ID, or the cause
    /// and the fix.
    Test {
        /// The recipient's address, e.g. someone@example.com.
        #[arg(long)]
        to: String,
        /// The text to send.
        #[arg(
            long,
            default_value = "Test message from Incident Management System: e-mail notifications are working."
        )]
        message: String,
    },
}

/// Where a configuration value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Environment,
    DotEnv,
    Default,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Environment => "environment",
            Source::DotEnv => ".env",
            Source::Default => "default",
        }
    }
}

/// The configuration values given to one command, with their sources.
#[derive(Debug, Default)]
pub struct Settings {
    values: BTreeMap<&'static str, (String, Source)>,
}

impl Settings {
    pub fn value(&self, name: &str) -> Option<String> {
        self.values.get(name).map(|(v, _)| v.clone())
    }

    pub fn source(&self, name: &str) -> Source {
        self.values.get(name).map_or(Source::Default, |(_, s)| *s)
    }

    /// The configuration these values make (unset ones take their defaults).
    pub fn config(&self) -> Result<Config, ConfigErrors> {
        Config::from_lookup(&|name| self.value(name))
    }
}

/// A parsed command line.
pub struct Invocation {
    pub command: Command,
    pub settings: Settings,
    /// The `.env` file read, if there was one.
    pub dotenv: Option<PathBuf>,
}

/// The `.env` of the working directory.
pub fn dotenv_path() -> PathBuf {
    std::env::current_dir().unwrap_or_default().join(".env")
}

/// Reads `./.env` (variables already in the environment win), then the command line. Exits with
/// [`EXIT_USAGE`] on a usage error, [`EXIT_CONFIG`] on an unreadable `.env`.
pub fn parse() -> Invocation {
    let before: BTreeSet<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .collect();
    let path = dotenv_path();
    let dotenv = match dotenvy::from_path(&path) {
        Ok(()) => Some(path),
        Err(e) if e.not_found() => None,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            std::process::exit(EXIT_CONFIG);
        }
    };
    let argv: Vec<OsString> = std::env::args_os().collect();
    let mut matches = command().get_matches_from(&argv);
    if matches.subcommand().is_none() {
        let program = argv.first().cloned().unwrap_or_else(|| "incident".into());
        matches = command().get_matches_from([program, "serve".into()]);
    }
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let settings = settings(&matches, &before);
    Invocation {
        command: cli.command.unwrap_or(Command::Serve),
        settings,
        dotenv,
    }
}

/// The values of the innermost subcommand's variable flags.
fn settings(matches: &ArgMatches, before: &BTreeSet<String>) -> Settings {
    let mut leaf = matches;
    while let Some((_, sub)) = leaf.subcommand() {
        leaf = sub;
    }
    let mut settings = Settings::default();
    for v in VARIABLES {
        let Ok(Some(value)) = leaf.try_get_one::<String>(v.name) else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        let source = match leaf.value_source(v.name) {
            Some(ValueSource::CommandLine) => Source::Flag,
            Some(ValueSource::EnvVariable) if before.contains(v.name) => Source::Environment,
            Some(ValueSource::EnvVariable) => Source::DotEnv,
            _ => continue,
        };
        settings.values.insert(v.name, (value.clone(), source));
    }
    settings
}

/// The whole command line: the derived subcommands, each given the flags of the variables it
/// reads.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(&name, |sub| with_variables(sub, &name));
    }
    cmd
}

fn with_variables(sub: clap::Command, top: &str) -> clap::Command {
    if sub.has_subcommands() {
        let leaves: Vec<String> = sub
            .get_subcommands()
            .map(|s| s.get_name().to_string())
            .collect();
        return leaves.iter().fold(sub, |cmd, leaf| {
            cmd.mut_subcommand(leaf, |l| with_variables(l, top))
        });
    }
    let flags: Vec<Arg> = VARIABLES
        .iter()
        .filter(|v| v.used_by(top))
        .map(|v| {
            Arg::new(v.name)
                .long(v.flag())
                .env(v.name)
                .value_name(v.name)
                .hide_env_values(v.secret)
                .help(format!("{} [default: {}]", v.meaning, v.default))
        })
        .collect();
    if flags.is_empty() {
        return sub.after_help(AFTER_HELP);
    }
    sub.next_help_heading("Configuration (flag, else environment variable, else ./.env)")
        .args(flags)
        .after_help(AFTER_HELP)
}

/// `incident help [COMMAND...]`: the help of that command.
pub fn print_help(path: &[String]) -> Result<(), Failure> {
    let mut cmd = command();
    for name in path {
        cmd = cmd
            .find_subcommand(name)
            .cloned()
            .ok_or_else(|| Failure::usage(format!("no such command: {}", path.join(" "))))?;
    }
    cmd.print_help()
        .map_err(|e| Failure::new(format!("cannot print the help: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn each_command_has_the_flags_of_what_it_reads() {
        let cmd = command();
        let flags = |path: &[&str]| -> Vec<String> {
            let mut c = &cmd;
            for p in path {
                c = c.find_subcommand(p).unwrap();
            }
            c.get_arguments()
                .filter_map(|a| a.get_long().map(str::to_string))
                .collect()
        };
        let serve = flags(&["serve"]);
        assert!(serve.contains(&"port".to_string()));
        assert!(serve.contains(&"secret-key".to_string()));
        let migrate = flags(&["migrate"]);
        assert!(migrate.contains(&"database-url".to_string()));
        assert!(!migrate.contains(&"port".to_string()), "{migrate:?}");
        let set_password = flags(&["users", "set-password"]);
        assert!(set_password.contains(&"database-url".to_string()));
        let config = flags(&["config"]);
        assert_eq!(config.len(), VARIABLES.len());
    }
}
