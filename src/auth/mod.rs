//! Authentication: tokens (SimpleJWT-compatible), password hashes, login throttling and the
//! password-check queue, per-user request rates, the cache of authenticated users and the
//! `AuthUser` type. The request extractor is HTTP's
//! (`http::extract`).

pub mod cache;
pub mod jwt;
pub mod password;
pub mod queue;
pub mod rate;
pub mod throttle;
pub mod user;

pub use user::AuthUser;

/// At most one password computation per core: each argon2 run holds ~19 MiB, and a login burst
/// must queue rather than fill memory and starve the request threads.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(hashing_parallelism()))
}

/// How many password computations run at once: one per core.
fn hashing_parallelism() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// Hashes off the async runtime: argon2 and PBKDF2 take tens of milliseconds of CPU.
pub async fn hash_password(password: String) -> crate::error::Result<String> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .map_err(crate::error::Error::internal)?;
    tokio::task::spawn_blocking(move || password::hash_password(&password))
        .await
        .map_err(crate::error::Error::internal)?
        .map_err(crate::error::Error::internal)
}

/// Verifies off the async runtime; `None` stored hash means an unknown user, which costs the
/// same time as a wrong password.
pub async fn verify_password(password: String, stored: Option<String>) -> password::Verification {
    verify_timed(password, stored).await.0
}

/// Verifies, and says how long the computation itself took (not the wait for a slot).
async fn verify_timed(
    password: String,
    stored: Option<String>,
) -> (password::Verification, Option<std::time::Duration>) {
    let Ok(_slot) = hashing_slots().acquire().await else {
        return (password::Verification::Invalid, None);
    };
    let result = tokio::task::spawn_blocking(move || {
        let start = std::time::Instant::now();
        let verdict = match stored {
            Some(hash) => password::verify_password(&password, &hash),
            None => {
                password::dummy_verify(&password);
                password::Verification::Invalid
            }
        };
        (verdict, Some(start.elapsed()))
    })
    .await;
    result.unwrap_or((password::Verification::Invalid, None))
}
