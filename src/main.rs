//! The `incident` binary: reads `./.env`, the environment and the command line, then runs a
//! subcommand (see `incident --help`; exit status 0, 1 failure, 2 usage, 78 configuration).

// glibc malloc showed up at ~15% of CPU under load (many small JSON and row allocations).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    std::process::exit(incident::cli::run().await);
}
