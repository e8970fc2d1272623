//! What the benchmarks share: finding the release binary, reading knobs and `/proc`, and
//! printing latencies. Each benchmark includes it with `#[path = "common.rs"] mod common;`.

#![allow(dead_code)] // each benchmark uses part of it

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A whole-number knob from the environment, or its default.
pub fn env_usize(name: &str, default: usize) -> Result<usize, String> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v:?} is not a whole number")),
    }
}

/// The release binary (`INCIDENT_BIN`, else `$CARGO_TARGET_DIR/release/incident`); a warning
/// when sources are newer than it. The benchmarks build nothing.
pub fn find_binary() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = match std::env::var_os("INCIDENT_BIN") {
        Some(p) => PathBuf::from(p),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|t| if t.is_relative() { root.join(t) } else { t })
            .unwrap_or_else(|| root.join("target"))
            .join("release")
            .join("incident"),
    };
    if !bin.is_file() {
        return Err(format!(
            "{} is missing: run `cargo build --release` first (this benchmark runs the release binary and builds nothing)",
            bin.display()
        ));
    }
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let newest = ["src", "migrations", "Cargo.toml"]
        .iter()
        .filter_map(|p| newest_mtime(&root.join(p)))
        .max();
    if newest.is_some_and(|n| n > built) {
        println!(
            "warning: sources changed after {} was built; run `cargo build --release` to measure them",
            bin.display()
        );
    }
    Ok(bin)
}

fn newest_mtime(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| newest_mtime(&e.path()))
        .max()
}

/// Kilobytes of a `/proc/<pid>/status` line such as `VmRSS` or `VmHWM`.
pub fn proc_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The machine's load averages (1, 5, 15 minutes), to print beside figures.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The nearest-rank `q` quantile of sorted durations (zero for none).
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
