//! The `incident` binary: reads `./.env`, the environment and the command line, then runs a
//! subcommand (see `incident --help`; exit status 0, 1 failure, 2 usage, 78 configuration).

// glibc malloc showed up at ~15% of CPU under load (many small JSON and row allocations).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Both allocators give memory back to the system soon after it is freed. The server's large
/// blocks (5 MiB upload buffers, blobs read for the inlining answers) come and go by the
/// hundred under load; kept resident, they made most of the peak memory of the hostile
/// benchmark (`bench/hostile.rs`: 404 MB on SQLite without this, 265 MB with it).
mod allocators {
    /// mimalloc v3's `mi_option_purge_delay` (its index in the library's `mi_option_t`; the
    /// crate does not name it) and its default: freed memory stays resident for a second.
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    const MI_DEFAULT_PURGE_DELAY_MS: std::os::raw::c_long = 1000;
    /// The delay used instead: a 5 MiB buffer freed is given back within milliseconds.
    const PURGE_DELAY_MS: std::os::raw::c_long = 0;
    /// Blocks from this size up are mapped on their own by glibc and unmapped when freed.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    const GLIBC_MMAP_THRESHOLD: libc::c_int = 256 * 1024;

    pub fn tune() {
        // SAFETY: plain setters of the allocators' options, called before other threads start.
        unsafe {
            // Only when the option is at its known default: a `MIMALLOC_PURGE_DELAY` set in the
            // environment wins, and another library version (another index) is left alone.
            if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == MI_DEFAULT_PURGE_DELAY_MS {
                libmimalloc_sys::mi_option_set_default(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
            }
            // SQLite (C) allocates with glibc: its copies of 5 MiB blobs otherwise raise
            // glibc's dynamic threshold, after which such blocks are kept in each thread's
            // arena when freed (sqlx runs every SQLite connection on a thread of its own).
            #[cfg(all(target_os = "linux", target_env = "gnu"))]
            libc::mallopt(libc::M_MMAP_THRESHOLD, GLIBC_MMAP_THRESHOLD);
        }
    }
}

fn main() {
    allocators::tune();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        });
    std::process::exit(runtime.block_on(incident::cli::run()));
}
