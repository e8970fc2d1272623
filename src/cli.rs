//! The command line: `serve` (default), `migrate`, `create-user`, `users`, `whatsapp test`, `email test`,
//! `import-django`, `notifications prune`, `templates`, `config`; the Django management commands a team expects, with messages a
//! person understands. Every command says which database it uses, on standard error.

use tokio::net::TcpListener;

use crate::config::{redact_url, Config, KeySource, WhatsAppProviderKind};
use crate::db;
use crate::domain::phone::WhatsAppNumber;
use crate::service::diagnostics;
use crate::state::AppState;

mod args;
mod common;
mod import;
mod notifications;
mod settings;
mod templates;
mod users;
pub use args::{command, Cli, Command, EmailCommand, Settings, Source, WhatsAppCommand};
pub use common::{
    open_db, read_password, say, CreateUser, Failure, EXIT_CONFIG, EXIT_FAILURE, EXIT_USAGE,
};
pub use import::ImportDjango;
pub use notifications::{NotificationsCommand, Prune};
pub use templates::TemplatesCommand;
pub use users::UsersCommand;

/// The binary: parses the command line and the configuration, runs the command, and answers
/// the exit status (see `common::EXIT_*`).
pub async fn run() -> i32 {
    let invocation = args::parse();
    let command = invocation.command;
    if let Command::Help { command } = &command {
        return exit_code(args::print_help(command));
    }
    if let Command::Config = &command {
        return settings::print(&invocation.settings, invocation.dotenv.as_deref());
    }
    let config = match invocation.settings.config() {
        Ok(c) => c,
        Err(e) => {
            eprint!("error: {e}");
            eprintln!("(see `incident config` and `incident help serve`)");
            return EXIT_CONFIG;
        }
    };
    crate::telemetry::init(config.log_format, &config.log_filter);
    exit_code(match command {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::CreateUser(args) => create_user(config, args).await,
        Command::Users(users) => users::run(config, users).await,
        Command::Whatsapp(WhatsAppCommand::Test { to, message }) => {
            whatsapp_test(config, &to, &message).await
        }
        Command::Email(EmailCommand::Test { to, message }) => {
            email_test(config, &to, &message).await
        }
        Command::ImportDjango(args) => import_django(config, args).await,
        Command::Notifications(NotificationsCommand::Prune(args)) => {
            prune_notifications(config, args).await
        }
        Command::Templates(command) => templates::run(&config, command),
        Command::Config | Command::Help { .. } => Ok(()),
    })
}

fn exit_code(result: Result<(), Failure>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(f) => {
            eprintln!("error: {}", f.message);
            f.code
        }
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

/// `incident notifications prune`: finished history out of the log, in short batches.
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

/// `incident whatsapp test`: one real send, explained (`service::diagnostics`, as the console).
pub async fn whatsapp_test(config: Config, to: &str, message: &str) -> Result<(), Failure> {
    let provider = crate::notify::provider::Provider::from_config(&config);
    println!(
        "Sending a WhatsApp test message to {to} with provider {}...",
        provider.name()
    );
    let region = config.default_phone_region.as_deref();
    report(diagnostics::whatsapp_test(&provider, region, to, message).await)
}

/// `incident email test`: one real e-mail, explained (`service::diagnostics`, as the console).
pub async fn email_test(config: Config, to: &str, message: &str) -> Result<(), Failure> {
    let mailer = crate::notify::provider::smtp::Mailer::from_config(&config.email, 1);
    println!(
        "Sending a test e-mail to {to} through {}...",
        mailer.describe()
    );
    report(diagnostics::email_test(&mailer, to, message).await)
}

/// A test send's outcome: printed when sent, the failure with its cause and fix otherwise.
fn report(result: diagnostics::TestResult) -> Result<(), Failure> {
    if result.sent {
        println!("✅ {}", result.text);
        return Ok(());
    }
    let fix = result
        .fix
        .map(|f| format!("\nCause and fix: {f}"))
        .unwrap_or_default();
    Err(Failure::new(format!("❌ {}{fix}", result.text)))
}

/// Says loudly what a newcomer needs to know before the first request.
async fn startup_warnings(state: &AppState, key: &KeySource) {
    let c = &state.config;
    match key {
        KeySource::Configured => {}
        KeySource::File { path, created } => tracing::warn!(
            "SECRET_KEY is not set: tokens are signed with the development key {} {}; set SECRET_KEY before production (INCIDENT_ENV=production refuses to start without it).",
            if *created { "generated now and kept in" } else { "kept in" },
            path.display()
        ),
        KeySource::Process => tracing::warn!(
            "SECRET_KEY is not set: using a random key for this process only; every token dies when the server stops. Set SECRET_KEY (required with INCIDENT_ENV=production)."
        ),
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
            "WhatsApp is not configured: set {needs} (see `incident help serve`). Until then WhatsApp notifications are recorded as FAILED \"WhatsApp provider not configured\"."
        );
    } else if c.whatsapp_provider == WhatsAppProviderKind::Log {
        tracing::warn!(
            "WHATSAPP_PROVIDER=log: WhatsApp messages are written to this log, not sent"
        );
    }
    if !c.email.is_configured() {
        tracing::warn!(
            "E-mail is not configured: set EMAIL_HOST (and EMAIL_HOST_USER, EMAIL_HOST_PASSWORD; see `incident help serve`). Until then e-mail notifications are recorded as FAILED \"E-mail not configured\"."
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
    // A channel left broken by an earlier run: the next successful send closes its incident.
    if let Ok(open) = db::channel_incidents::open_incidents(&state.db).await {
        for (name, text) in crate::notify::channel_health::described(&open) {
            tracing::warn!("{name}: {text}");
        }
    }
}

pub async fn serve(mut config: Config) -> Result<(), Failure> {
    // Broken templates stop it before anything is written (the key file, the database).
    let templates = templates::load(&config)?;
    let key = config.keep_development_key().map_err(Failure::config)?;
    let addr = (config.host.clone(), config.port);
    let db = open_db(&config).await?;
    tracing::info!(database = %redact_url(&config.database_url), engine = db.engine(), "database ready");
    let shutdown = shutdown_signal();
    let state = AppState::new(db.clone(), config, templates);
    startup_warnings(&state, &key).await;
    let listener = TcpListener::bind(addr.clone()).await.map_err(|e| {
        Failure::new(format!(
            "cannot listen on {}:{}: {e} (set HOST and PORT, or --host and --port)",
            addr.0, addr.1
        ))
    })?;
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
