//! `incident import-django`: the door of `service::import` for a person at a terminal: a
//! progress bar per table (plain lines when the output is not a terminal), then the summary and
//! the users who need attention.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::service::import::{Options, Outcome, Progress, Report};

#[derive(clap::Args, Debug)]
pub struct ImportDjango {
    /// The Django database: a SQLite file path (or sqlite:// URL) or a postgres:// URL. It is
    /// opened read-only.
    #[arg(long = "from", value_name = "SOURCE")]
    pub from: String,
    /// ISO 3166 region of phone numbers stored without a country code, e.g. EG (default:
    /// DEFAULT_PHONE_REGION).
    #[arg(long, value_name = "REGION")]
    pub phone_region: Option<String>,
    /// Read and check everything and print the report, without writing anything.
    #[arg(long)]
    pub dry_run: bool,
}

impl ImportDjango {
    /// The service's options; `source_name` is how the source is shown (no password).
    pub fn options(self, config: &Config, source_name: String) -> Options {
        Options {
            source_name,
            from: self.from,
            phone_region: self.phone_region.or(config.default_phone_region.clone()),
            dry_run: self.dry_run,
        }
    }
}

/// Progress bars on a terminal, plain lines otherwise (both on standard error).
pub fn progress() -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(Bars::default())
    } else {
        Box::new(Lines::default())
    }
}

/// The summary table, the users needing attention and the outcome, as printed.
pub fn summary(report: &Report, source: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<34} {:>10} {:>10} {:>8}  why\n",
        "table", "read", "imported", "skipped"
    ));
    for t in &report.tables {
        out.push_str(&format!(
            "{:<34} {:>10} {:>10} {:>8}  {}\n",
            t.table, t.read, t.imported, t.skipped, t.why
        ));
    }
    if !report.attention.is_empty() {
        out.push_str(&format!(
            "\n{} note(s) on users needing attention:\n",
            report.attention.len()
        ));
        for a in &report.attention {
            out.push_str(&format!(
                "  user {} {:?}: {}\n",
                a.user_id, a.username, a.reason
            ));
        }
    }
    let secs = report.elapsed.as_secs_f64();
    out.push('\n');
    out.push_str(&match &report.outcome {
        Outcome::Imported => format!(
            "imported {} rows from {source} in {secs:.1} s ({:.0} rows/s), in one transaction\n",
            report.rows_imported(),
            report.rows_imported() as f64 / secs.max(0.001)
        ),
        Outcome::DryRun => format!(
            "dry run: {} rows read and checked from {source} in {secs:.1} s; nothing was written\n",
            report.rows_read()
        ),
        Outcome::AlreadyImported { at } => format!(
            "already imported: this database holds the import of {source} made {}; nothing changed\n",
            crate::domain::datetime::format_dt(at)
        ),
    });
    out
}

/// One indicatif bar per table, on standard error.
#[derive(Default)]
struct Bars {
    current: Mutex<Option<ProgressBar>>,
}

impl Progress for Bars {
    fn start(&self, table: &'static str, rows: u64) {
        let bar = ProgressBar::new(rows);
        if let Ok(style) = ProgressStyle::with_template(
            "{prefix:<34} [{bar:30}] {pos:>9}/{len:9} {per_sec:>12} {elapsed}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(table);
        if let Ok(mut current) = self.current.lock() {
            *current = Some(bar);
        }
    }

    fn advance(&self, rows: u64) {
        if let Ok(current) = self.current.lock() {
            if let Some(bar) = current.as_ref() {
                bar.inc(rows);
            }
        }
    }

    fn finish(&self, _: &'static str) {
        if let Ok(mut current) = self.current.lock() {
            if let Some(bar) = current.take() {
                bar.finish();
            }
        }
    }
}

/// A line per finished table, on standard error (logs, pipes, CI).
#[derive(Default)]
struct Lines {
    started: Mutex<Option<Instant>>,
    rows: Mutex<u64>,
}

impl Progress for Lines {
    fn start(&self, table: &'static str, rows: u64) {
        eprintln!("{table}: {rows} rows...");
        if let (Ok(mut s), Ok(mut n)) = (self.started.lock(), self.rows.lock()) {
            *s = Some(Instant::now());
            *n = 0;
        }
    }

    fn advance(&self, rows: u64) {
        if let Ok(mut n) = self.rows.lock() {
            *n += rows;
        }
    }

    fn finish(&self, table: &'static str) {
        let secs = self
            .started
            .lock()
            .ok()
            .and_then(|s| *s)
            .map_or(0.0, |s| s.elapsed().as_secs_f64());
        let rows = self.rows.lock().map_or(0, |n| *n);
        eprintln!("{table}: {rows} rows done in {secs:.1} s");
    }
}
