//! `incident import-django`: moves a Django deployment's database into ours, ids preserved.
//!
//! The order of work is what makes it safe: open the source read-only, check its schema, look
//! at the target (empty, or exactly an earlier import of this source), check every foreign key
//! and that local phone numbers have a region, and only then write, every table in one
//! transaction. Rows are streamed from the source and written in multi-row batches, so memory
//! stays flat whatever the size of the deployment. A dry run does all of it but the writing.

mod convert;
mod report;

use std::future::Future;
use std::time::Instant;

use futures::stream::BoxStream;
use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::db::django::{self, Source, FOREIGN_KEYS, TABLES};
use crate::db::import::{self as store, BATCH_ROWS};
use crate::db::{Db, DbError, Tx};
use crate::domain::datetime::now;

pub use convert::{file_type, NEVER_SENT};
pub use report::{Attention, ImportError, Outcome, Report, TableReport};

/// What to import and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// A SQLite file path, a `sqlite:` URL or a `postgres://` URL.
    pub from: String,
    /// How `from` is shown in messages (a URL without its password).
    pub source_name: String,
    /// ISO 3166 region for national phone numbers (`--phone-region`, else `DEFAULT_PHONE_REGION`).
    pub phone_region: Option<String>,
    pub dry_run: bool,
}

/// Told how far the import is, table by table (progress bars, or plain lines).
pub trait Progress: Sync {
    fn start(&self, table: &'static str, rows: u64);
    fn advance(&self, rows: u64);
    fn finish(&self, table: &'static str);
}

/// No progress output.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: &'static str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self, _: &'static str) {}
}

/// An attachment batch is written once it holds this many bytes, whatever its row count.
const BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Runs the import into `target` (migrated). On any error nothing has been written.
pub async fn run(
    target: &Db,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<Report, ImportError> {
    let started = Instant::now();
    let source = django::open(&opts.from)
        .await
        .map_err(|e| ImportError::CannotOpen {
            source_name: opts.source_name.clone(),
            cause: e.to_string(),
        })?;
    let result = import(target, &source, opts, progress, started).await;
    source.close().await;
    result
}

async fn import(
    target: &Db,
    source: &Source,
    opts: &Options,
    progress: &dyn Progress,
    started: Instant,
) -> Result<Report, ImportError> {
    check_schema(source, &opts.source_name).await?;
    let region = match opts.phone_region.as_deref().map(str::trim) {
        Some(r) if !crate::domain::phone::validate_region(r) => {
            return Err(ImportError::UnknownRegion(r.to_string()))
        }
        r => r.map(str::to_ascii_uppercase),
    };
    let mut sizes = Vec::new();
    for (table, _) in TABLES {
        let (rows, max_id) = source
            .table_size(table)
            .await
            .map_err(|cause| ImportError::Read { table, cause })?;
        sizes.push((*table, rows, max_id));
    }
    let fingerprint = fingerprint(source, &sizes).await?;
    let state = store::target_state(target)
        .await
        .map_err(|cause| ImportError::Read {
            table: "the target",
            cause,
        })?;
    if let Some((_, at)) = state.imports.iter().find(|(f, _)| *f == fingerprint) {
        return Ok(Report {
            outcome: Outcome::AlreadyImported { at: *at },
            tables: sizes
                .iter()
                .map(|(table, rows, _)| TableReport {
                    table,
                    read: *rows as u64,
                    imported: 0,
                    skipped: *rows as u64,
                    why: "already imported".to_string(),
                })
                .collect(),
            attention: Vec::new(),
            elapsed: started.elapsed(),
        });
    }
    if !state.non_empty.is_empty() || !state.imports.is_empty() {
        let mut tables: Vec<String> = state
            .non_empty
            .iter()
            .map(|(t, n)| format!("{t}: {n} rows"))
            .collect();
        if !state.imports.is_empty() {
            tables.push(
                "an import of another Django database, or of this one before it changed".into(),
            );
        }
        return Err(ImportError::TargetNotEmpty {
            tables: tables.join(", "),
        });
    }
    check_foreign_keys(source).await?;
    if region.is_none() {
        check_numbers_need_no_region(source).await?;
    }

    let mut tx = if opts.dry_run {
        None
    } else {
        Some(target.begin().await.map_err(|cause| ImportError::Write {
            table: "the target",
            cause,
        })?)
    };
    let (indexes, foreign_keys) = match tx.as_mut() {
        Some(tx) => {
            let failed = |cause| ImportError::Write {
                table: "the indexes",
                cause,
            };
            let indexes = store::drop_secondary_indexes(tx).await.map_err(failed)?;
            (indexes, store::drop_foreign_keys(tx).await.map_err(failed)?)
        }
        None => (Vec::new(), Vec::new()),
    };
    let size = |t: &str| sizes.iter().find(|s| s.0 == t).map_or(0, |s| s.1 as u64);
    let mut attention = Vec::new();
    let mut tables = Vec::new();
    let mut copy = Copier {
        tx: &mut tx,
        progress,
    };

    // A table that comes over as it is: read in batches, converted row by row, written, and a
    // line in the report. Tables go in foreign-key order.
    macro_rules! copy_table {
        ($table:literal, $rows:expr, $convert:path, $store:path, $note:literal) => {{
            let n = copy
                .table($table, size($table), $rows, $convert, $store)
                .await?;
            tables.push(line($table, n, $note));
        }};
    }
    copy_table!(
        "auth_user",
        source.users(),
        convert::user,
        store::insert_users,
        ""
    );

    let n = copy
        .table(
            "core_userprofile",
            size("core_userprofile"),
            source.profiles(),
            |p| convert::profile(p, region.as_deref(), &mut attention),
            store::insert_profiles,
        )
        .await?;
    let without = source
        .users_without_profile()
        .await
        .map_err(|cause| ImportError::Read {
            table: "core_userprofile",
            cause,
        })?;
    let max_profile = sizes
        .iter()
        .find(|s| s.0 == "core_userprofile")
        .map_or(0, |s| s.2);
    let mut created = Vec::new();
    for (i, (user_id, username, joined)) in without.iter().enumerate() {
        let joined = crate::domain::datetime::parse_datetime_input(joined).ok_or_else(|| {
            ImportError::bad_row(
                "auth_user",
                *user_id,
                format!("date_joined {joined:?} is not a date-time"),
            )
        })?;
        created.push(store::Profile {
            id: max_profile + 1 + i as i64,
            user_id: *user_id,
            role: crate::domain::user::Role::Client.as_str(),
            phone_number: None,
            whatsapp_number: None,
            department: None,
            created_at: joined,
            updated_at: joined,
        });
        attention.push(Attention {
            user_id: *user_id,
            username: username.clone(),
            reason: "no profile in the original: imported as CLIENT, without a WhatsApp number"
                .into(),
        });
    }
    for chunk in created.chunks(BATCH_ROWS) {
        copy.write("core_userprofile", chunk, &store::insert_profiles)
            .await?;
    }
    let why = if created.is_empty() {
        String::new()
    } else {
        format!("+{} CLIENT profiles for users without one", created.len())
    };
    tables.push(TableReport {
        table: "core_userprofile",
        read: n,
        imported: n + created.len() as u64,
        skipped: 0,
        why,
    });

    copy_table!(
        "core_ticket",
        source.tickets(),
        convert::ticket,
        store::insert_tickets,
        ""
    );
    copy_table!(
        "core_ticket_assigned_to",
        source.assignees(),
        convert::assignee,
        store::insert_assignees,
        ""
    );
    copy_table!(
        "core_tickethistory",
        source.history(),
        convert::history,
        store::insert_history,
        ""
    );
    copy_table!(
        "core_ticketattachment",
        source.attachments(),
        convert::attachment,
        store::insert_attachments,
        "name and type inferred from the bytes"
    );
    copy_table!(
        "core_notificationlog",
        source.notifications(),
        convert::notification,
        store::insert_notifications,
        "history: never sent again"
    );
    copy_table!(
        "token_blacklist_outstandingtoken",
        source.outstanding_tokens(),
        convert::outstanding_token,
        store::insert_outstanding_tokens,
        ""
    );
    copy_table!(
        "token_blacklist_blacklistedtoken",
        source.blacklisted_tokens(),
        convert::blacklisted_token,
        store::insert_blacklisted_tokens,
        ""
    );

    let mut report = Report {
        outcome: Outcome::DryRun,
        tables,
        attention,
        elapsed: started.elapsed(),
    };
    report.attention.sort_by_key(|a| a.user_id);
    if let Some(mut tx) = tx {
        progress.start(
            "rebuilding indexes",
            (indexes.len() + foreign_keys.len()) as u64,
        );
        for index in &indexes {
            store::rebuild_index(&mut tx, index)
                .await
                .map_err(|cause| ImportError::Write {
                    table: "the indexes",
                    cause,
                })?;
            progress.advance(1);
        }
        for key in &foreign_keys {
            store::restore_foreign_key(&mut tx, key)
                .await
                .map_err(|cause| ImportError::Write {
                    table: "the indexes",
                    cause,
                })?;
            progress.advance(1);
        }
        progress.finish("rebuilding indexes");
        let failed = |cause| ImportError::Write {
            table: "the import record",
            cause,
        };
        store::continue_sequences(&mut tx).await.map_err(failed)?;
        let rows = report.rows_imported() as i64;
        store::record(&mut tx, &fingerprint, &opts.source_name, rows, now())
            .await
            .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        report.outcome = Outcome::Imported;
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

fn line(table: &'static str, n: u64, why: &str) -> TableReport {
    TableReport {
        table,
        read: n,
        imported: n,
        skipped: 0,
        why: why.to_string(),
    }
}

/// Streams one table into the transaction (or only through the checks, on a dry run).
struct Copier<'a> {
    tx: &'a mut Option<Tx>,
    progress: &'a dyn Progress,
}

/// How much of a batch a row fills: its bytes for attachments, else nothing.
trait Weight {
    fn weight(&self) -> usize {
        0
    }
}
impl Weight for store::User {}
impl Weight for store::Profile {}
impl Weight for store::Ticket {}
impl Weight for store::Assignee {}
impl Weight for store::History {}
impl Weight for store::Notification {}
impl Weight for store::OutstandingToken {}
impl Weight for store::BlacklistedToken {}
impl Weight for store::Attachment {
    fn weight(&self) -> usize {
        self.data.len()
    }
}

impl Copier<'_> {
    async fn table<S, T, F>(
        &mut self,
        table: &'static str,
        rows: u64,
        mut stream: BoxStream<'_, Result<S, DbError>>,
        mut convert: impl FnMut(S) -> Result<T, ImportError>,
        insert: F,
    ) -> Result<u64, ImportError>
    where
        T: Weight,
        F: for<'b> AsyncInsert<'b, T>,
    {
        self.progress.start(table, rows);
        let mut batch: Vec<T> = Vec::with_capacity(BATCH_ROWS.min(rows as usize));
        let mut bytes = 0;
        let mut n = 0;
        while let Some(row) = stream.next().await {
            let row = row.map_err(|cause| ImportError::Read { table, cause })?;
            let row = convert(row)?;
            bytes += row.weight();
            batch.push(row);
            n += 1;
            if batch.len() >= BATCH_ROWS || bytes >= BATCH_BYTES {
                self.write(table, &batch, &insert).await?;
                self.progress.advance(batch.len() as u64);
                batch.clear();
                bytes = 0;
            }
        }
        self.write(table, &batch, &insert).await?;
        self.progress.advance(batch.len() as u64);
        self.progress.finish(table);
        Ok(n)
    }

    async fn write<T, F>(
        &mut self,
        table: &'static str,
        rows: &[T],
        insert: &F,
    ) -> Result<(), ImportError>
    where
        F: for<'b> AsyncInsert<'b, T>,
    {
        match self.tx.as_mut() {
            Some(tx) if !rows.is_empty() => insert
                .call(tx, rows)
                .await
                .map_err(|cause| ImportError::Write { table, cause }),
            _ => Ok(()),
        }
    }
}

/// `async fn(&mut Tx, &[T]) -> Result<(), DbError>`, as a bound.
trait AsyncInsert<'b, T: 'b> {
    fn call(&self, tx: &'b mut Tx, rows: &'b [T])
        -> impl Future<Output = Result<(), DbError>> + 'b;
}

impl<'b, T: 'b, F, Fut> AsyncInsert<'b, T> for F
where
    F: Fn(&'b mut Tx, &'b [T]) -> Fut,
    Fut: Future<Output = Result<(), DbError>> + 'b,
{
    fn call(
        &self,
        tx: &'b mut Tx,
        rows: &'b [T],
    ) -> impl Future<Output = Result<(), DbError>> + 'b {
        self(tx, rows)
    }
}

async fn check_schema(source: &Source, name: &str) -> Result<(), ImportError> {
    let read = |cause| ImportError::Read {
        table: "the schema",
        cause,
    };
    let mut absent_tables = Vec::new();
    let mut absent_columns = Vec::new();
    for (table, columns) in TABLES {
        let have = source.columns(table).await.map_err(read)?;
        if have.is_empty() {
            absent_tables.push(*table);
            continue;
        }
        for c in *columns {
            if !have.iter().any(|h| h == c) {
                absent_columns.push(format!("{table}.{c}"));
            }
        }
    }
    if absent_tables.len() == TABLES.len()
        || absent_tables.contains(&"auth_user")
        || absent_tables.contains(&"core_ticket")
    {
        return Err(ImportError::NotDjango {
            source_name: name.to_string(),
            missing: format!("no table {}", absent_tables.join(", ")),
        });
    }
    if absent_tables.is_empty() && absent_columns.is_empty() {
        return Ok(());
    }
    let mut missing: Vec<String> = absent_tables.iter().map(|t| format!("table {t}")).collect();
    missing.extend(absent_columns.iter().map(|c| format!("column {c}")));
    let mut text = format!("{} missing", missing.join(", "));
    let applied = source.core_migrations().await.map_err(read)?;
    let not_applied: Vec<&str> = ["0001", "0002", "0003", "0004"]
        .into_iter()
        .filter(|m| !applied.iter().any(|a| a.starts_with(m)))
        .collect();
    if !applied.is_empty() && !not_applied.is_empty() {
        text.push_str(&format!(
            " (core migration {} not applied)",
            not_applied.join(", ")
        ));
    } else if absent_columns
        .iter()
        .any(|c| c.ends_with(".is_read") || c.ends_with(".read_at"))
    {
        text.push_str(" (core migration 0004 not applied)");
    }
    Err(ImportError::OlderSchema {
        source_name: name.to_string(),
        missing: text,
    })
}

async fn check_foreign_keys(source: &Source) -> Result<(), ImportError> {
    for (table, column, parent) in FOREIGN_KEYS {
        let orphan = source
            .first_orphan(table, column, parent)
            .await
            .map_err(|cause| ImportError::Read { table, cause })?;
        if let Some((id, value)) = orphan {
            return Err(ImportError::bad_row(
                table,
                id,
                format!("{column} = {value} points to no {parent} row"),
            ));
        }
    }
    Ok(())
}

/// With no region known, a national number cannot be normalized: say who has one, before
/// anything is written.
async fn check_numbers_need_no_region(source: &Source) -> Result<(), ImportError> {
    let mut local = Vec::new();
    let mut profiles = source.profiles();
    while let Some(p) = profiles.next().await {
        let p = p.map_err(|cause| ImportError::Read {
            table: "core_userprofile",
            cause,
        })?;
        for raw in [&p.phone_number, &p.whatsapp_number] {
            if convert::is_local_number(raw.as_deref()) {
                local.push(format!(
                    "{} ({})",
                    p.username,
                    raw.as_deref().unwrap_or("").trim()
                ));
            }
        }
    }
    if local.is_empty() {
        return Ok(());
    }
    const SHOWN: usize = 20;
    let more = local.len().saturating_sub(SHOWN);
    let mut users = local.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
    if more > 0 {
        users.push_str(&format!(" and {more} more"));
    }
    Err(ImportError::RegionNeeded { users })
}

/// Names this source as it is now: its tables' sizes and highest ids, and its latest changes.
async fn fingerprint(source: &Source, sizes: &[(&str, i64, i64)]) -> Result<String, ImportError> {
    let mut hash = Sha256::new();
    for (table, rows, max_id) in sizes {
        hash.update(format!("{table}:{rows}:{max_id};"));
    }
    let latest = source
        .latest_changes()
        .await
        .map_err(|cause| ImportError::Read {
            table: "the fingerprint",
            cause,
        })?;
    for t in latest {
        hash.update(t.unwrap_or_default());
        hash.update(";");
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
