//! The command line: `serve` (default), `migrate`, `create-user`, `import-django`,
//! `notifications prune`; the Django management commands a team expects, with messages a
//! person understands.

use std::io::{BufRead, IsTerminal};

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::config::{Config, WhatsAppProviderKind};
use crate::db::{self, Db};
use crate::domain::phone::WhatsAppNumber;
use crate::domain::user::Role;
use crate::state::AppState;

mod import;
mod notifications;
pub use import::ImportDjango;
pub use notifications::{NotificationsCommand, Prune};

#[derive(Parser, Debug)]
#[command(
    name = "incident",
    version,
    about = "Incident and support-ticket server with WhatsApp notifications"
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
    /// WhatsApp diagnostics.
    #[command(subcommand)]
    Whatsapp(WhatsAppCommand),
    /// Bring a Django deployment's database over (users keep their passwords); run it with
    /// --dry-run first. The target (DATABASE_URL) must be empty.
    ImportDjango(ImportDjango),
    /// The notification log's upkeep: `prune --older-than 365d [--dry-run]`.
    #[command(subcommand)]
    Notifications(NotificationsCommand),
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

fn parse_role(s: &str) -> Result<Role, String> {
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
            code: 1,
        }
    }
}

async fn open_db(config: &Config) -> Result<Db, Failure> {
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

/// The database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

pub async fn migrate(config: Config) -> Result<(), Failure> {
    let db = open_db(&config).await?;
    println!(
        "migrations applied to {} ({})",
        redact_url(&config.database_url),
        db.engine()
    );
    db.close().await;
    Ok(())
}

pub async fn create_user(config: Config, args: CreateUser) -> Result<(), Failure> {
    let username = args.username.trim().to_string();
    if username.is_empty()
        || username.chars().count() > 150
        || !username
            .chars()
            .all(|c| c.is_alphanumeric() || "_.@+-".contains(c))
    {
        return Err(Failure::new(
            "the username may contain only letters, digits and @ . + - _ (at most 150 characters)",
        ));
    }
    let email = args.email.trim().to_string();
    if !email.is_empty() && !crate::http::body::is_valid_email(&email) {
        return Err(Failure::new(format!(
            "{email:?} is not a valid e-mail address"
        )));
    }
    let whatsapp = match args
        .whatsapp_number
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(n) => Some(
            WhatsAppNumber::parse(n, config.default_phone_region.as_deref())
                .map_err(|e| Failure::new(format!("--whatsapp-number: {e}")))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let password = read_password(args.password_stdin)?;
    if password.chars().count() < 8 {
        return Err(Failure::new("the password must have at least 8 characters"));
    }
    let db = open_db(&config).await?;
    if db::users::username_taken(&db, &username)
        .await
        .map_err(|e| Failure::new(e.to_string()))?
    {
        return Err(Failure::new(format!(
            "a user named {username:?} already exists"
        )));
    }
    let new = db::users::NewUser {
        username: username.clone(),
        password_hash: crate::auth::hash_password(password)
            .await
            .map_err(|e| Failure::new(e.to_string()))?,
        email,
        first_name: args.first_name.trim().to_string(),
        last_name: args.last_name.trim().to_string(),
        role: args.role,
        phone_number: Some(args.phone_number.unwrap_or_default()),
        whatsapp_number: Some(whatsapp.unwrap_or_default()),
        department: Some(args.department.unwrap_or_default()),
    };
    let id = db::users::create(&db, &new, crate::domain::datetime::now())
        .await
        .map_err(|e| Failure::new(format!("cannot create the user: {e}")))?;
    println!("created {} user {username:?} with id {id}", args.role);
    db.close().await;
    Ok(())
}

fn read_password(from_stdin: bool) -> Result<String, Failure> {
    if from_stdin || !std::io::stdin().is_terminal() {
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

/// `incident notifications prune`: deletes (or counts) the log's finished history.
pub async fn prune_notifications(config: Config, args: Prune) -> Result<(), Failure> {
    let db = open_db(&config).await?;
    let pruned =
        crate::service::notifications::prune_history(&db, args.older_than, args.dry_run).await;
    db.close().await;
    let pruned =
        pruned.map_err(|e| Failure::new(format!("cannot prune the notification log: {e}")))?;
    print!("{}", notifications::summary(&pruned));
    Ok(())
}

/// `incident import-django`: the Django deployment's database into `DATABASE_URL`.
pub async fn import_django(config: Config, args: ImportDjango) -> Result<(), Failure> {
    let source_name = redact_url(&args.from);
    let opts = args.options(&config, source_name);
    let db = open_db(&config).await?;
    let result = crate::service::import::run(&db, &opts, import::progress().as_ref()).await;
    db.close().await;
    let report = result.map_err(|e| Failure::new(e.to_string()))?;
    print!("{}", import::summary(&report, &opts.source_name));
    Ok(())
}

/// `incident whatsapp test`: one real send, explained.
pub async fn whatsapp_test(config: Config, to: &str, message: &str) -> Result<(), Failure> {
    use crate::notify::provider::{diagnose, Outgoing, Provider};
    let number = WhatsAppNumber::parse(to, config.default_phone_region.as_deref())
        .map_err(|e| Failure::new(format!("--to: {e}\nCause and fix: Invalid phone number format. Use the international format +1234567890 (country code + number, no spaces).")))?;
    let provider = Provider::from_config(&config);
    println!(
        "Sending a WhatsApp test message to {} with provider {}...",
        number,
        provider.name()
    );
    let msg = Outgoing {
        notification_id: 0,
        username: "whatsapp-test".to_string(),
        to: number.as_str().to_string(),
        body: message.to_string(),
        event: "test".to_string(),
        variables: Vec::new(),
    };
    match provider.send(&msg).await {
        Ok(receipt) => {
            println!(
                "✅ Sent: message SID {} (status: {})",
                receipt.provider_message_id,
                receipt.delivery_status.as_deref().unwrap_or("unknown")
            );
            Ok(())
        }
        Err(e) => Err(Failure::new(format!(
            "❌ WhatsApp send failed: {}{}\nCause and fix: {}",
            e.message(),
            e.code()
                .map(|c| format!(" (error {c})"))
                .unwrap_or_default(),
            diagnose(&e)
        ))),
    }
}

/// Says loudly what a newcomer needs to know before the first request.
async fn startup_warnings(state: &AppState) {
    let c = &state.config;
    if c.secret_key_is_ephemeral {
        tracing::warn!(
            "SECRET_KEY is not set: using a random key for this process only; every token dies when the server stops. Set SECRET_KEY (required with INCIDENT_ENV=production)."
        );
    }
    let configured = match c.whatsapp_provider {
        WhatsAppProviderKind::Twilio => c.twilio.is_configured(),
        WhatsAppProviderKind::Meta => c.meta.is_configured(),
        WhatsAppProviderKind::Log => true,
    };
    if !configured {
        let needs = match c.whatsapp_provider {
            WhatsAppProviderKind::Meta => "WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID",
            _ => "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
        };
        tracing::warn!(
            "WhatsApp is not configured: set {needs} (see .env.example). Until then WhatsApp notifications are recorded as FAILED \"WhatsApp provider not configured\"."
        );
    } else if c.whatsapp_provider == WhatsAppProviderKind::Log {
        tracing::warn!(
            "WHATSAPP_PROVIDER=log: WhatsApp messages are written to this log, not sent"
        );
    }
    match db::users::admins(&state.db).await {
        Ok(admins) => {
            for a in admins
                .iter()
                .filter(|a| a.whatsapp_number.as_deref().unwrap_or("").is_empty())
            {
                tracing::warn!(admin = %a.username, "User {} has no WhatsApp number configured", a.username);
            }
            if admins.is_empty() {
                tracing::warn!("no admin exists yet: create one with `incident create-user --username admin --role ADMIN`");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot list admins"),
    }
}

pub async fn serve(config: Config) -> Result<(), Failure> {
    let addr = std::net::SocketAddr::new(config.host, config.port);
    let db = open_db(&config).await?;
    tracing::info!(database = %redact_url(&config.database_url), engine = db.engine(), "database ready");
    let shutdown = shutdown_signal();
    let state = AppState::new(db.clone(), config);
    startup_warnings(&state).await;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::new(format!("cannot listen on {addr}: {e} (set HOST and PORT)")))?;
    tracing::info!(
        "listening on http://{}",
        listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    );
    crate::app::run(state, listener, shutdown)
        .await
        .map_err(|e| Failure::new(format!("server error: {e}")))?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed now, not when first polled, so a
/// signal that arrives while the server is starting is not the default (fatal) action.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
            tracing::info!("shutdown signal received: finishing in-flight work");
        }
    }
    #[cfg(not(unix))]
    async move {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received: finishing in-flight work");
    }
}
