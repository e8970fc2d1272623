//! `incident users`: the jobs the setup guide sent admins to Django admin for, scriptable. Each
//! goes through the same service functions as the API (a new password revokes the refresh
//! tokens issued before it and ends the user's live sessions; a deactivation ends their access).

use clap::Subcommand;

use super::common::{open_db, parse_role, read_password, say, Failure};
use crate::auth::AuthUser;
use crate::config::Config;
use crate::db::users::UserRow;
use crate::domain::phone::WhatsAppNumber;
use crate::domain::user::Role;
use crate::service::users::{self as service, UserChanges};
use crate::state::AppState;

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Every user: id, username, role, active, WhatsApp number, e-mail.
    List,
    /// Change a user's password (prompted twice, or --password-stdin); their refresh tokens
    /// issued before it stop working and their live sessions end.
    SetPassword {
        username: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user's role: ADMIN, SUPPORT (developer) or CLIENT.
    SetRole {
        username: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Set a user's WhatsApp number (international format, or local with DEFAULT_PHONE_REGION);
    /// an empty string clears it.
    SetWhatsapp { username: String, number: String },
    /// Deactivate a user: they cannot log in and their tokens and sessions end.
    Deactivate { username: String },
    /// Activate a user again.
    Activate { username: String },
}

/// The operator at the command line: an admin that is no row of the users table.
fn operator() -> AuthUser {
    AuthUser {
        id: 0,
        username: "command line".into(),
        first_name: String::new(),
        last_name: String::new(),
        role: Role::Admin,
    }
}

pub async fn run(config: Config, command: UsersCommand) -> Result<(), Failure> {
    let db = open_db(&config).await?;
    // These commands send no message: the built-in texts stand in for any TEMPLATES_DIR.
    let templates = crate::notify::templates::Templates::builtin(&config.frontend_url);
    let state = AppState::new(db.clone(), config, templates);
    let result = apply(&state, command).await;
    db.close().await;
    let message = result?;
    say(&format!("{message}\n"));
    Ok(())
}

/// Runs one subcommand; the answer is what to print.
async fn apply(state: &AppState, command: UsersCommand) -> Result<String, Failure> {
    let failed = |e: crate::error::Error| Failure::new(e.to_string());
    match command {
        UsersCommand::List => {
            let total = service::count(state).await.map_err(failed)?;
            let users = service::page(state, 0, total.max(1))
                .await
                .map_err(failed)?;
            Ok(listing(&users))
        }
        UsersCommand::SetPassword {
            username,
            password_stdin,
        } => {
            let user = find(state, &username).await?;
            let password = read_password(password_stdin)?;
            let length = password.chars().count();
            if !(8..=128).contains(&length) {
                return Err(Failure::new(
                    "the password must have 8 to 128 characters; nothing was changed",
                ));
            }
            let changes = UserChanges {
                password: Some(password),
                ..UserChanges::default()
            };
            edit(state, &user, changes).await?;
            Ok(format!(
                "password of {username:?} changed; their earlier refresh tokens no longer work"
            ))
        }
        UsersCommand::SetRole { username, role } => {
            let user = find(state, &username).await?;
            let changes = UserChanges {
                role: Some(role),
                ..UserChanges::default()
            };
            edit(state, &user, changes).await?;
            Ok(format!("{username:?} is now {role}"))
        }
        UsersCommand::SetWhatsapp { username, number } => {
            let user = find(state, &username).await?;
            let number = whatsapp_number(state, &number)?;
            let changes = UserChanges {
                whatsapp_number: Some(number.clone()),
                ..UserChanges::default()
            };
            edit(state, &user, changes).await?;
            Ok(match number.as_str() {
                "" => format!("WhatsApp number of {username:?} cleared"),
                n => format!("WhatsApp number of {username:?} set to {n}"),
            })
        }
        UsersCommand::Deactivate { username } => activate(state, &username, false).await,
        UsersCommand::Activate { username } => activate(state, &username, true).await,
    }
}

async fn find(state: &AppState, username: &str) -> Result<UserRow, Failure> {
    service::by_username(state, username)
        .await
        .map_err(|e| Failure::new(e.to_string()))?
        .ok_or_else(|| {
            Failure::new(format!(
                "no user named {username:?} (see `incident users list`)"
            ))
        })
}

async fn edit(state: &AppState, user: &UserRow, changes: UserChanges) -> Result<(), Failure> {
    service::update(state, &operator(), user.id, changes)
        .await
        .map(|_| ())
        .map_err(|e| Failure::new(format!("cannot change {:?}: {e}", user.username)))
}

async fn activate(state: &AppState, username: &str, active: bool) -> Result<String, Failure> {
    let user = find(state, username).await?;
    service::set_active(state, &operator(), user.id, active)
        .await
        .map_err(|e| Failure::new(e.to_string()))?;
    Ok(if active {
        format!("{username:?} activated")
    } else {
        format!("{username:?} deactivated: they cannot log in and their tokens no longer work")
    })
}

/// The API's check of a WhatsApp number (at most 40 characters, E.164 after the default
/// region); empty clears it.
fn whatsapp_number(state: &AppState, number: &str) -> Result<String, Failure> {
    let number = number.trim();
    if number.is_empty() {
        return Ok(String::new());
    }
    if number.chars().count() > 40 {
        return Err(Failure::new(
            "the WhatsApp number has more than 40 characters",
        ));
    }
    WhatsAppNumber::parse(number, state.config.default_phone_region.as_deref())
        .map(|n| n.as_str().to_string())
        .map_err(|e| Failure::new(format!("{number:?}: {e}")))
}

fn listing(users: &[UserRow]) -> String {
    let mut out = format!(
        "{:>5}  {:<24} {:<8} {:<7} {:<17} email\n",
        "id", "username", "role", "active", "whatsapp"
    );
    for u in users {
        out.push_str(&format!(
            "{:>5}  {:<24} {:<8} {:<7} {:<17} {}\n",
            u.id,
            u.username,
            u.role.to_string(),
            if u.is_active { "yes" } else { "no" },
            u.whatsapp_number.as_deref().unwrap_or(""),
            u.email
        ));
    }
    out.push_str(&format!("{} user(s)", users.len()));
    out
}
