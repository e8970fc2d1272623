//! The ticket list (`GET /api/tickets/`): a page read in index order that stops at the page,
//! its exact count, and search.
//!
//! - **Pages**: the page's ids are chosen first (`ORDER BY` an index of migration 0008, then
//!   `LIMIT`/`OFFSET`), and only those rows are joined to their creator and their assignees'
//!   JSON; no window over every matching row.
//! - **Count**: the admin's count, whatever the status, priority and category filters, is a
//!   sum over `ticket_counts` (kept by triggers in the transaction of every write to
//!   `tickets`); a client's own tickets, a developer's assigned ones and a search are counted
//!   through their indexes. The count comes first: a page past it is not read at all, so a
//!   filter that matches nothing never walks the table.
//! - **Search**: a case-insensitive substring of the title, description or project, with `%`
//!   and `_` plain characters. Terms of three characters or more read the engine's trigram
//!   index (SQLite: the FTS5 table `tickets_search`; PostgreSQL: `pg_trgm` GIN indexes on the
//!   lowered columns). Shorter terms have no trigram: they are searched by a scan of the
//!   tickets (`lower(column) LIKE`), as before.

use super::pool::{bind_args, on_db, Arg, Db};
use super::tickets::{
    assignees_column, scope_condition, Assigned, Scope, TicketRow, TICKET_COLUMNS,
};
use crate::domain::ticket::{Category, Priority, Status};

/// The list filters of `GET /api/tickets/` (all optional, combined with AND).
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub statuses: Vec<Status>,
    pub priorities: Vec<Priority>,
    pub categories: Vec<Category>,
    pub search: Option<String>,
    /// `None`: newest first.
    pub order_by: Option<TicketOrder>,
}

/// The orderings `?ordering=` offers: by creation time, by priority (LOW < MEDIUM < HIGH) or by
/// status in workflow order; priority and status put the newest first within equal values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketOrder {
    Created,
    CreatedDesc,
    Priority,
    PriorityDesc,
    Status,
    StatusDesc,
}

macro_rules! priority_rank {
    () => {
        "CASE t.priority WHEN 'LOW' THEN 1 WHEN 'MEDIUM' THEN 2 WHEN 'HIGH' THEN 3 ELSE 0 END"
    };
}
macro_rules! status_rank {
    () => {
        "CASE t.status WHEN 'NEW' THEN 1 WHEN 'OPENED' THEN 2 WHEN 'IN_PROGRESS' THEN 3 WHEN 'RESOLVED' THEN 4 \
         WHEN 'WAITING_APPROVAL' THEN 5 WHEN 'CLOSED' THEN 6 ELSE 0 END"
    };
}

impl TicketOrder {
    /// The ordering a `?ordering=` value names (`-` first for descending).
    pub fn parse(value: &str) -> Option<TicketOrder> {
        Some(match value {
            "created_at" => TicketOrder::Created,
            "-created_at" => TicketOrder::CreatedDesc,
            "priority" => TicketOrder::Priority,
            "-priority" => TicketOrder::PriorityDesc,
            "status" => TicketOrder::Status,
            "-status" => TicketOrder::StatusDesc,
            _ => return None,
        })
    }

    /// The ORDER BY clause: known columns only, never caller text.
    fn sql(self) -> &'static str {
        match self {
            TicketOrder::Created => "t.created_at ASC, t.id ASC",
            TicketOrder::CreatedDesc => "t.created_at DESC, t.id DESC",
            TicketOrder::Priority => {
                concat!(priority_rank!(), " ASC, t.created_at DESC, t.id DESC")
            }
            TicketOrder::PriorityDesc => {
                concat!(priority_rank!(), " DESC, t.created_at DESC, t.id DESC")
            }
            TicketOrder::Status => concat!(status_rank!(), " ASC, t.created_at DESC, t.id DESC"),
            TicketOrder::StatusDesc => {
                concat!(status_rank!(), " DESC, t.created_at DESC, t.id DESC")
            }
        }
    }
}

/// Search terms shorter than this (in characters) hold no trigram, so no index serves them.
pub const TRIGRAM_CHARS: usize = 3;

/// The `WHERE` clause of the list and its arguments (the caller's scope, the attribute
/// filters, the search) on `tickets t`; with `on_counters`, the attribute filters alone on
/// `ticket_counts` (see `counted`).
fn conditions(
    db: &Db,
    scope: Scope,
    assigned: Assigned,
    f: &ListFilter,
    on_counters: bool,
) -> (String, Vec<Arg>) {
    let mut where_ = Vec::new();
    let mut args = Vec::new();
    scope_condition(scope, assigned, &mut where_, &mut args);
    let table = if on_counters { "" } else { "t." };
    let filters: [(&str, Vec<&'static str>); 3] = [
        ("status", f.statuses.iter().map(|s| s.as_str()).collect()),
        (
            "priority",
            f.priorities.iter().map(|s| s.as_str()).collect(),
        ),
        (
            "category",
            f.categories.iter().map(|s| s.as_str()).collect(),
        ),
    ];
    for (column, values) in filters {
        if values.is_empty() {
            continue;
        }
        let mut ph = Vec::new();
        for v in values {
            args.push(Arg::Text(v.to_string()));
            ph.push(format!("${}", args.len()));
        }
        where_.push(format!("{table}{column} IN ({})", ph.join(", ")));
    }
    if let Some(term) = f.search.as_deref() {
        where_.push(search_condition(db, term, &mut args));
    }
    let clause = if where_.is_empty() {
        String::new()
    } else {
        format!("WHERE {} ", where_.join(" AND "))
    };
    (clause, args)
}

/// Whether the counters answer the count: the admin's list without a search, whatever its
/// status, priority and category filters.
fn counted(scope: Scope, f: &ListFilter) -> bool {
    matches!(scope, Scope::All) && f.search.is_none()
}

/// The search as a condition on `t`. On SQLite a term of three characters or more is a quoted
/// FTS5 phrase (`"` doubled inside), which the trigram tokenizer matches as a case-folded
/// substring of one column; otherwise (and always on PostgreSQL, whose trigram indexes serve
/// this very condition) the lowered columns `LIKE` the lowered term with `\`, `%` and `_`
/// escaped.
fn search_condition(db: &Db, term: &str, args: &mut Vec<Arg>) -> String {
    if matches!(db, Db::Sqlite(..)) && term.chars().count() >= TRIGRAM_CHARS {
        args.push(Arg::Text(format!("\"{}\"", term.replace('"', "\"\""))));
        return format!(
            "t.id IN (SELECT rowid FROM tickets_search WHERE tickets_search MATCH ${})",
            args.len()
        );
    }
    let escaped = term
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    args.push(Arg::Text(format!("%{escaped}%")));
    let n = args.len();
    format!(
        "(lower(t.title) LIKE ${n} ESCAPE '\\' OR lower(t.description) LIKE ${n} ESCAPE '\\' \
         OR lower(t.project_name) LIKE ${n} ESCAPE '\\')"
    )
}

/// How many tickets the list shows in all. The admin's list without a search reads the
/// counters; anything else counts through its index (the creator's, the assignee's, the
/// search's).
pub async fn count(db: &Db, scope: Scope, f: &ListFilter) -> Result<i64, sqlx::Error> {
    let (sql, args) = count_query(db, scope, f);
    on_db!(db, p => bind_args!(sqlx::query_scalar(&sql), &args).fetch_one(p).await)
}

fn count_query(db: &Db, scope: Scope, f: &ListFilter) -> (String, Vec<Arg>) {
    let unfiltered = f.statuses.is_empty()
        && f.priorities.is_empty()
        && f.categories.is_empty()
        && f.search.is_none();
    if let (Scope::AssignedTo(user), true) = (scope, unfiltered) {
        // Every assignment names a ticket (deleting one deletes its assignments): the index of
        // assignments alone counts them.
        let sql = "SELECT COUNT(*) FROM ticket_assignees a WHERE a.user_id = $1";
        return (sql.to_string(), vec![Arg::I64(user)]);
    }
    let on_counters = counted(scope, f);
    let (clause, args) = conditions(db, scope, Assigned::Set, f, on_counters);
    let sql = if on_counters {
        format!("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM ticket_counts {clause}")
    } else {
        format!("SELECT COUNT(*) FROM tickets t {clause}")
    };
    (sql, args)
}

/// One page of the list, each row carrying the total: the count first, then (if the page is
/// not past it) the page's ids in index order, and the full rows for those ids only.
pub async fn list(
    db: &Db,
    scope: Scope,
    f: &ListFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<TicketRow>, sqlx::Error> {
    let total = count(db, scope, f).await?;
    if offset >= total {
        return Ok(Vec::new());
    }
    let assigned = assigned_reading(db, scope, total, offset + limit).await?;
    let (clause, mut args) = conditions(db, scope, assigned, f, false);
    args.push(Arg::I64(limit));
    args.push(Arg::I64(offset));
    let sql = page_sql(db, f, &clause, args.len());
    let mut rows: Vec<TicketRow> =
        on_db!(db, p => bind_args!(sqlx::query_as(&sql), &args).fetch_all(p).await)?;
    for r in &mut rows {
        r.total_count = total;
    }
    Ok(rows)
}

/// How a developer's page finds their `total` tickets (matching the filters): their set, read
/// and sorted (`total` rows), or the list's order index walked with a probe of each ticket's
/// assignment until the page's last row, about `end × tickets / total` rows when their tickets
/// spread over the index. The cheaper of the two: a developer with a third of a million tickets
/// walks a few dozen, one with a dozen reads their dozen.
async fn assigned_reading(
    db: &Db,
    scope: Scope,
    total: i64,
    end: i64,
) -> Result<Assigned, sqlx::Error> {
    if !matches!(scope, Scope::AssignedTo(_)) {
        return Ok(Assigned::Set);
    }
    let tickets = count(db, Scope::All, &ListFilter::default()).await?;
    let walked = end.saturating_mul(tickets) / total.max(1);
    Ok(if walked < total {
        Assigned::Probe
    } else {
        Assigned::Set
    })
}

/// The page query; its last two placeholders (`$n - 1`, `$n`) are the limit and the offset.
/// `CROSS JOIN` keeps SQLite's join order (PostgreSQL's planner reorders it freely): the
/// page's ids first, then their rows; left free, SQLite would walk every ticket in the outer
/// order's index to avoid sorting twenty rows.
fn page_sql(db: &Db, f: &ListFilter, clause: &str, n: usize) -> String {
    let order = f.order_by.unwrap_or(TicketOrder::CreatedDesc).sql();
    format!(
        "SELECT {TICKET_COLUMNS}, {} FROM (SELECT t.id FROM tickets t {clause}ORDER BY {order} LIMIT ${} OFFSET ${}) page \
         CROSS JOIN tickets t JOIN users u ON u.id = t.created_by_id WHERE t.id = page.id ORDER BY {order}",
        assignees_column(db),
        n - 1,
        n
    )
}

/// The plans of the list's page and count queries (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN`
/// on PostgreSQL), one line per step: tests check they read their indexes.
pub async fn plans(
    db: &Db,
    scope: Scope,
    f: &ListFilter,
    offset: i64,
) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    let (sql, args) = count_query(db, scope, f);
    let count = explain(db, &sql, &args).await?;
    let total = self::count(db, scope, f).await?;
    let assigned = assigned_reading(db, scope, total, offset + 20).await?;
    let (clause, mut args) = conditions(db, scope, assigned, f, false);
    args.push(Arg::I64(20));
    args.push(Arg::I64(offset));
    let page = explain(db, &page_sql(db, f, &clause, args.len()), &args).await?;
    Ok((page, count))
}

async fn explain(db: &Db, sql: &str, args: &[Arg]) -> Result<Vec<String>, sqlx::Error> {
    match db {
        Db::Postgres(p) => {
            let sql = format!("EXPLAIN {sql}");
            bind_args!(sqlx::query_scalar(&sql), args)
                .fetch_all(p)
                .await
        }
        Db::Sqlite(p, _) => {
            let sql = format!("EXPLAIN QUERY PLAN {sql}");
            let rows: Vec<(i64, i64, i64, String)> =
                bind_args!(sqlx::query_as(&sql), args).fetch_all(p).await?;
            // Indented by depth, as PostgreSQL's plans are: (id, parent, _, step).
            let mut depths: Vec<(i64, usize)> = Vec::new();
            let mut lines = Vec::new();
            for (id, parent, _, step) in rows {
                let depth = depths
                    .iter()
                    .find(|(i, _)| *i == parent)
                    .map_or(0, |(_, d)| d + 1);
                depths.push((id, depth));
                lines.push(format!("{}{step}", "  ".repeat(depth)));
            }
            Ok(lines)
        }
    }
}

/// Differences between `ticket_counts` and the tickets, as (status, priority, category,
/// counted, actual): empty when the counters are exact. For tests and for checking a database
/// by hand; it reads every ticket.
pub async fn counter_drift(
    db: &Db,
) -> Result<Vec<(String, String, String, i64, i64)>, sqlx::Error> {
    const SQL: &str = "WITH actual AS (SELECT status, priority, category, COUNT(*) AS n FROM tickets GROUP BY 1, 2, 3), \
                       counted AS (SELECT status, priority, category, CAST(SUM(n) AS BIGINT) AS n FROM ticket_counts GROUP BY 1, 2, 3), \
                       keys AS (SELECT status, priority, category FROM actual UNION SELECT status, priority, category FROM counted) \
                       SELECT k.status, k.priority, k.category, CAST(COALESCE(c.n, 0) AS BIGINT), CAST(COALESCE(a.n, 0) AS BIGINT) \
                       FROM keys k \
                       LEFT JOIN actual a ON a.status = k.status AND a.priority = k.priority AND a.category = k.category \
                       LEFT JOIN counted c ON c.status = k.status AND c.priority = k.priority AND c.category = k.category \
                       WHERE COALESCE(c.n, 0) <> COALESCE(a.n, 0) ORDER BY 1, 2, 3";
    on_db!(db, p => sqlx::query_as(SQL).fetch_all(p).await)
}

/// Checks that the search index holds exactly the tickets' text: on SQLite FTS5's
/// `integrity-check` against its content table (an error if they differ); PostgreSQL's GIN
/// indexes are maintained with the table itself. For tests.
pub async fn check_search_index(db: &Db) -> Result<(), sqlx::Error> {
    const SQL: &str =
        "INSERT INTO tickets_search (tickets_search, rank) VALUES ('integrity-check', 1)";
    match db {
        Db::Postgres(_) => Ok(()),
        Db::Sqlite(..) => {
            crate::on_write!(db.write().await, p => sqlx::query(SQL).execute(p).await.map(|_| ()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TicketOrder;

    #[test]
    fn ordering_values_name_their_order_and_nothing_else_does() {
        let cases = [
            ("created_at", TicketOrder::Created),
            ("-created_at", TicketOrder::CreatedDesc),
            ("priority", TicketOrder::Priority),
            ("-priority", TicketOrder::PriorityDesc),
            ("status", TicketOrder::Status),
            ("-status", TicketOrder::StatusDesc),
        ];
        for (value, order) in cases {
            assert_eq!(TicketOrder::parse(value), Some(order), "{value}");
        }
        for bad in [
            "",
            "title",
            "-",
            "Priority",
            "created_at; DROP TABLE tickets",
        ] {
            assert_eq!(TicketOrder::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn newest_first_is_the_default_order() {
        assert_eq!(
            TicketOrder::CreatedDesc.sql(),
            "t.created_at DESC, t.id DESC"
        );
    }
}
