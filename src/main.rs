//! The `incident` binary: reads `.env` and the environment, then runs a subcommand.

use clap::Parser;
use incident::cli::{self, Cli, Command, NotificationsCommand, WhatsAppCommand};
use incident::config::Config;

// glibc malloc showed up at ~15% of CPU under load (many small JSON and row allocations).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    // A missing .env is normal; a broken one is worth saying.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("error: cannot read .env: {e}");
            std::process::exit(2);
        }
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprint!("error: {e}");
            std::process::exit(2);
        }
    };
    incident::telemetry::init(config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => cli::serve(config).await,
        Command::Migrate => cli::migrate(config).await,
        Command::CreateUser(args) => cli::create_user(config, args).await,
        Command::Whatsapp(WhatsAppCommand::Test { to, message }) => {
            cli::whatsapp_test(config, &to, &message).await
        }
        Command::ImportDjango(args) => cli::import_django(config, args).await,
        Command::Notifications(NotificationsCommand::Prune(args)) => {
            cli::prune_notifications(config, args).await
        }
    };
    if let Err(f) = result {
        eprintln!("error: {}", f.message);
        std::process::exit(f.code);
    }
}
