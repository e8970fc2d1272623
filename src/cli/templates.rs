//! `incident templates export DIR` and `incident templates check [DIR]`: start a folder of
//! message templates from the built-in texts, and validate one as `serve` would.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::common::Failure;
use crate::config::Config;
use crate::notify::templates::Templates;

#[derive(Subcommand, Debug)]
pub enum TemplatesCommand {
    /// Write every built-in template into DIR, each with a comment listing its variables (and,
    /// for WhatsApp, which is each Twilio Content `{{1}}`, `{{2}}`...). Edit, then set
    /// TEMPLATES_DIR=DIR; files you do not change can be deleted.
    Export {
        dir: PathBuf,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
    },
    /// Check a folder of templates (default: TEMPLATES_DIR) as `serve` does at start: syntax,
    /// unknown variables, required variables; every problem with its file and line.
    Check { dir: Option<PathBuf> },
}

/// A broken folder is a configuration error, as a bad variable is.
fn broken(dir: &Path, errors: impl std::fmt::Display) -> Failure {
    Failure::config(format!(
        "the message templates in {} are broken:\n{errors}",
        dir.display()
    ))
}

/// The templates `serve` uses; a broken override stops it before anything starts.
pub fn load(config: &Config) -> Result<Templates, Failure> {
    let dir = config.templates_dir.as_deref();
    let templates = Templates::load(dir, &config.frontend_url)
        .map_err(|e| broken(dir.unwrap_or(Path::new("TEMPLATES_DIR")), e))?;
    if !templates.overridden().is_empty() {
        tracing::info!(overridden = ?templates.overridden(), "message templates overridden by TEMPLATES_DIR");
    }
    Ok(templates)
}

pub fn run(config: &Config, command: TemplatesCommand) -> Result<(), Failure> {
    match command {
        TemplatesCommand::Export { dir, force } => {
            let written =
                crate::notify::templates::load::export(&dir, force).map_err(Failure::new)?;
            println!(
                "wrote {} templates to {}; edit them, then set TEMPLATES_DIR={} and run `incident templates check`",
                written.len(),
                dir.display(),
                dir.display()
            );
            Ok(())
        }
        TemplatesCommand::Check { dir } => {
            let Some(dir) = dir.or_else(|| config.templates_dir.clone()) else {
                return Err(Failure::usage(
                    "no folder to check: give one (`incident templates check DIR`) or set TEMPLATES_DIR",
                ));
            };
            let templates =
                Templates::load(Some(&dir), &config.frontend_url).map_err(|e| broken(&dir, e))?;
            println!(
                "{}: {} template(s) override the built-in texts, all valid: {}",
                dir.display(),
                templates.overridden().len(),
                templates.overridden().join(", ")
            );
            Ok(())
        }
    }
}
