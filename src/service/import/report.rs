//! What an import tells the person who runs it: the outcome, a line per table, the users who
//! need attention, and the errors that stop it (each naming the table and row).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::db::DbError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Everything was written, in one transaction.
    Imported,
    /// Everything was read and checked; nothing was written.
    DryRun,
    /// The target holds exactly an earlier import of this source; nothing changed.
    AlreadyImported { at: DateTime<Utc> },
}

/// One line of the summary: rows read from a table of the original and what became of them.
#[derive(Debug, Clone)]
pub struct TableReport {
    pub table: &'static str,
    pub read: u64,
    pub imported: u64,
    pub skipped: u64,
    /// Why rows were skipped or added, when any were.
    pub why: String,
}

/// A user an admin should look at after the move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    pub user_id: i64,
    pub username: String,
    pub reason: String,
}

#[derive(Debug)]
pub struct Report {
    pub outcome: Outcome,
    pub tables: Vec<TableReport>,
    pub attention: Vec<Attention>,
    pub elapsed: Duration,
}

impl Report {
    pub fn rows_read(&self) -> u64 {
        self.tables.iter().map(|t| t.read).sum()
    }

    pub fn rows_imported(&self) -> u64 {
        self.tables.iter().map(|t| t.imported).sum()
    }

    pub fn table(&self, name: &str) -> Option<&TableReport> {
        self.tables.iter().find(|t| t.table == name)
    }
}

/// Why an import stopped. Nothing was written when any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot open the Django database {source_name}: {cause}")]
    CannotOpen { source_name: String, cause: String },
    #[error("{source_name} is not a Django database of this schema: {missing}")]
    NotDjango {
        source_name: String,
        missing: String,
    },
    #[error("{source_name} has an older schema: {missing}. Apply the original's migrations first (python manage.py migrate), then import again")]
    OlderSchema {
        source_name: String,
        missing: String,
    },
    #[error("{table} row id={id}: {problem}; nothing was imported")]
    BadRow {
        table: &'static str,
        id: i64,
        problem: String,
    },
    #[error("local phone numbers need a region, and none is known: {users}. Pass --phone-region with the country's ISO code (e.g. --phone-region EG) or set DEFAULT_PHONE_REGION; nothing was imported")]
    RegionNeeded { users: String },
    #[error(
        "--phone-region {0:?} is not a supported region; use an ISO 3166 alpha-2 code such as EG"
    )]
    UnknownRegion(String),
    #[error("the target database already holds data ({tables}); import into an empty database (a new DATABASE_URL), before anyone uses it; nothing was imported")]
    TargetNotEmpty { tables: String },
    #[error("reading {table} from the Django database: {cause}; nothing was imported")]
    Read { table: &'static str, cause: DbError },
    #[error("writing {table}: {cause}; nothing was imported")]
    Write { table: &'static str, cause: DbError },
}

impl ImportError {
    pub fn bad_row(table: &'static str, id: i64, problem: impl Into<String>) -> ImportError {
        ImportError::BadRow {
            table,
            id,
            problem: problem.into(),
        }
    }
}
