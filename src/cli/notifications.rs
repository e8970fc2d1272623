//! `incident notifications prune`: the door of `service::notifications::prune_history` for a
//! person at a terminal, and what it prints.

use std::time::Duration;

use crate::config::parse_duration;
use crate::service::notifications::Pruned;

#[derive(clap::Subcommand, Debug)]
pub enum NotificationsCommand {
    /// Delete finished notification history: SENT and FAILED rows older than --older-than, of
    /// closed tickets only (PENDING rows and open tickets' rows are kept), in short batches.
    /// Run it with --dry-run first.
    Prune(Prune),
}

#[derive(clap::Args, Debug)]
pub struct Prune {
    /// Rows created longer ago than this go, e.g. 365d, 720h (a number with s, m, h or d).
    #[arg(long, value_parser = parse_age, value_name = "AGE")]
    pub older_than: Duration,
    /// Count what would be deleted and print it, deleting nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// An age with its unit, above zero: a bare number (seconds elsewhere) is refused here, where
/// `365` meaning seconds would delete nearly everything.
fn parse_age(value: &str) -> Result<Duration, String> {
    let has_unit = value.trim().ends_with(|c: char| c.is_ascii_alphabetic());
    match parse_duration(value) {
        Some(age) if has_unit && !age.is_zero() => Ok(age),
        _ => Err(format!(
            "{value:?} is not an age: use a number above zero with s, m, h or d, e.g. 365d"
        )),
    }
}

/// One line: what went (or would go), per channel, and what is always kept.
pub fn summary(pruned: &Pruned) -> String {
    let verb = if pruned.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    let channels = if pruned.by_channel.is_empty() {
        String::new()
    } else {
        let each: Vec<String> = pruned
            .by_channel
            .iter()
            .map(|(channel, n)| format!("{channel} {n}"))
            .collect();
        format!(" ({})", each.join(", "))
    };
    format!(
        "{verb} {} notification rows created before {}{channels}; PENDING rows and rows of tickets that are not CLOSED are kept\n",
        pruned.total(),
        pruned.cutoff.format("%Y-%m-%d %H:%M:%S UTC"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_age_needs_a_unit_and_must_be_above_zero() {
        assert_eq!(parse_age("365d"), Ok(Duration::from_secs(365 * 86400)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3600)));
        for bad in ["365", "0d", "-3d", "d", "soon", "", "3y"] {
            assert!(parse_age(bad).is_err(), "{bad:?} accepted");
        }
    }
}
