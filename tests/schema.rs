//! The schema that `migrations/sqlite` and `migrations/postgres` produce is the same: both are
//! applied to fresh databases, introspected (tables, columns with type family, nullability and
//! default, primary keys, foreign keys, indexes, unique and check constraints) and compared.
//! What differs only because the engines differ is normalized below, each with its reason.
//! Needs PostgreSQL (`TEST_DATABASE_URL`, as the API tests).

use std::collections::{BTreeMap, BTreeSet};

use incident::db::Db;
use sqlx::Row;

#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// Column name → its normalized description.
    columns: BTreeMap<String, Column>,
    primary_key: Vec<String>,
    /// `(columns) -> table(columns) ON DELETE action`.
    foreign_keys: BTreeSet<String>,
    /// Named indexes (`CREATE [UNIQUE] INDEX`): name → normalized definition.
    indexes: BTreeMap<String, String>,
    /// Column sets of UNIQUE constraints (their index names are the engine's own).
    uniques: BTreeSet<Vec<String>>,
    /// `column IN (sorted values)` of each CHECK constraint.
    checks: BTreeSet<String>,
}

#[derive(Debug, PartialEq, Eq)]
struct Column {
    family: String,
    not_null: bool,
    default: Option<String>,
}

type Schema = BTreeMap<String, Table>;

/// A row of `information_schema.columns`: name, data type, VARCHAR length, nullable, default.
type PgColumn = (String, String, Option<i32>, String, Option<String>);

/// The engine-neutral family of a declared type. Integers of every width are one family:
/// SQLite stores every INTEGER as 64 bits whatever its declared name, and its auto-increment
/// key must be declared `INTEGER PRIMARY KEY` where PostgreSQL's is BIGINT. Timestamps:
/// SQLite has no date type (sqlx stores `DATETIME` columns as text). Lengths of VARCHAR are kept:
/// SQLite does not enforce them, but a different length is a real difference.
fn family(declared: &str, pg_length: Option<i32>) -> String {
    let t = declared.to_ascii_lowercase();
    let length = pg_length.map(|n| n.to_string()).or_else(|| {
        let (_, rest) = t.split_once('(')?;
        Some(rest.trim_end_matches(')').trim().to_string())
    });
    let base = t.split('(').next().unwrap_or_default().trim().to_string();
    match base.as_str() {
        "integer" | "bigint" | "int" | "int4" | "int8" | "smallint" => "integer".into(),
        "varchar" | "character varying" => format!("text({})", length.unwrap_or_default()),
        "text" => "text".into(),
        "boolean" | "bool" => "boolean".into(),
        "datetime" | "timestamp with time zone" | "timestamptz" => "timestamp".into(),
        "blob" | "bytea" => "bytes".into(),
        other => panic!("type {other} has no family yet: add it"),
    }
}

/// Drops PostgreSQL's casts (`'x'::character varying`, `(email)::text`): PostgreSQL writes
/// them into every stored expression, SQLite keeps the text as written.
fn strip_casts(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("::") {
        out.push_str(&rest[..i]);
        rest = &rest[i + 2..];
        // The type name: words, spaces between words, and `[]`.
        let end = rest
            .char_indices()
            .find(|&(j, c)| {
                !(c.is_ascii_alphanumeric()
                    || c == '_'
                    || c == '['
                    || c == ']'
                    || (c == ' '
                        && rest[j + 1..]
                            .chars()
                            .next()
                            .is_some_and(|n| n.is_ascii_alphabetic())
                        && !["AND ", "OR ", "THEN ", "WHEN ", "ELSE ", "END"]
                            .iter()
                            .any(|k| rest[j + 1..].starts_with(k))))
            })
            .map_or(rest.len(), |(j, _)| j);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// An expression in one spelling: no casts, no parentheses around a bare name or around the
/// whole, no identifier quotes, lower case outside quotes, single spaces. PostgreSQL adds such
/// parentheses when it stores an expression, and quotes names that are also keywords
/// (`"timestamp"`); neither changes the meaning.
fn normalize_expr(s: &str) -> String {
    let mut s = strip_casts(s).replace('"', "");
    loop {
        let before = s.clone();
        // `(name)` → `name`
        let mut out = String::new();
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '(' {
                let close = chars[i + 1..].iter().position(|&c| c == ')');
                if let Some(k) = close {
                    let inner: String = chars[i + 1..i + 1 + k].iter().collect();
                    let bare = !inner.is_empty()
                        && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    let call =
                        i > 0 && (chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '_');
                    if bare && !call {
                        out.push_str(&inner);
                        i += k + 2;
                        continue;
                    }
                }
            }
            out.push(chars[i]);
            i += 1;
        }
        s = out.trim().to_string();
        if s.starts_with('(') && matching_close(&s, 0) == Some(s.len() - 1) {
            s = s[1..s.len() - 1].trim().to_string();
        }
        if s == before {
            break;
        }
    }
    let mut out = String::new();
    let mut quoted = false;
    for c in s.split_whitespace().collect::<Vec<_>>().join(" ").chars() {
        if c == '\'' {
            quoted = !quoted;
        }
        out.push(if quoted { c } else { c.to_ascii_lowercase() });
    }
    out
}

/// The index of the parenthesis that closes the one at `open`.
fn matching_close(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in s.char_indices().skip_while(|&(i, _)| i < open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits on commas outside parentheses and quotes.
fn split_top(s: &str) -> Vec<String> {
    let (mut parts, mut cur, mut depth, mut quoted) = (Vec::new(), String::new(), 0, false);
    for c in s.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    parts.into_iter().map(|p| p.trim().to_string()).collect()
}

/// `(key, key DESC, ...) [WHERE predicate]` of a `CREATE INDEX` statement as either engine
/// prints it (PostgreSQL adds `USING btree` and the schema name).
fn index_definition(sql: &str) -> String {
    let unique = sql.to_ascii_uppercase().starts_with("CREATE UNIQUE");
    let after_on = &sql[sql.find(" ON ").expect("ON")..];
    let open = after_on.find('(').expect("key list");
    let close = matching_close(after_on, open).expect("closed key list");
    let keys: Vec<String> = split_top(&after_on[open + 1..close])
        .iter()
        .map(|k| {
            let k = k.trim();
            let (expr, desc) = match k.strip_suffix(" DESC").or_else(|| k.strip_suffix(" desc")) {
                Some(e) => (e, " desc"),
                None => (k, ""),
            };
            format!("{}{desc}", normalize_expr(expr))
        })
        .collect();
    let predicate = after_on[close + 1..]
        .split_once("WHERE")
        .map(|(_, p)| format!(" where {}", normalize_expr(p)))
        .unwrap_or_default();
    let kind = if unique { "unique " } else { "" };
    format!("{kind}({}){predicate}", keys.join(", "))
}

/// `column IN (sorted values)` of a CHECK expression. Both engines' checks here are
/// `column IN (...)`; PostgreSQL stores them as `column = ANY (ARRAY[...])`.
fn check_definition(expr: &str) -> String {
    let e = normalize_expr(expr);
    let column: String = e
        .trim_start_matches('(')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let mut values: Vec<&str> = e.split('\'').skip(1).step_by(2).collect();
    values.sort();
    assert!(
        e.contains(" in ") || e.contains("= any"),
        "a check that is not `column IN (...)`: compare it some other way: {e}"
    );
    format!("{column} IN ({})", values.join(", "))
}

/// The `CHECK (...)` expressions in a `CREATE TABLE` statement (SQLite keeps no other record).
fn checks_in(create_table: &str) -> Vec<String> {
    let upper = create_table.to_ascii_uppercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = upper[from..].find("CHECK (") {
        let open = from + i + "CHECK ".len();
        let close = matching_close(create_table, open).expect("closed check");
        out.push(create_table[open + 1..close].to_string());
        from = close;
    }
    out
}

async fn sqlite_schema(db: &Db) -> Schema {
    let Db::Sqlite(p, _) = db else { unreachable!() };
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(p)
    .await
    .unwrap();
    // Search is each engine's own (SQLite: an FTS5 virtual table and the shadow tables behind
    // it; PostgreSQL: trigram GIN indexes, skipped below): nothing to compare.
    let search_tables: Vec<String> = tables
        .iter()
        .filter(|(_, sql)| sql.starts_with("CREATE VIRTUAL TABLE"))
        .map(|(name, _)| name.clone())
        .collect();
    let mut schema = Schema::new();
    for (name, sql) in tables {
        if search_tables
            .iter()
            .any(|v| name == *v || name.starts_with(&format!("{v}_")))
        {
            continue;
        }
        let mut t = Table::default();
        let cols = sqlx::query(&format!("PRAGMA table_info({name})"))
            .fetch_all(p)
            .await
            .unwrap();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in &cols {
            let col: String = c.get("name");
            let declared: String = c.get("type");
            let pk_pos: i64 = c.get("pk");
            let mut not_null = c.get::<i64, _>("notnull") == 1;
            // `INTEGER PRIMARY KEY` is the rowid, which is never NULL, but SQLite reports it
            // nullable unless NOT NULL is written.
            if pk_pos > 0 && declared.eq_ignore_ascii_case("INTEGER") {
                not_null = true;
            }
            if pk_pos > 0 {
                pk.push((pk_pos, col.clone()));
            }
            let default: Option<String> = c.get("dflt_value");
            t.columns.insert(
                col,
                Column {
                    family: family(&declared, None),
                    not_null,
                    default: default.map(|d| normalize_expr(&d)),
                },
            );
        }
        pk.sort();
        t.primary_key = pk.into_iter().map(|(_, c)| c).collect();
        let fks = sqlx::query(&format!("PRAGMA foreign_key_list({name})"))
            .fetch_all(p)
            .await
            .unwrap();
        for f in &fks {
            let (from, to, table, on_delete): (String, String, String, String) = (
                f.get("from"),
                f.get("to"),
                f.get("table"),
                f.get("on_delete"),
            );
            t.foreign_keys.insert(format!(
                "({from}) -> {table}({to}) ON DELETE {}",
                on_delete.to_ascii_uppercase()
            ));
        }
        let indexes = sqlx::query(&format!("PRAGMA index_list({name})"))
            .fetch_all(p)
            .await
            .unwrap();
        for i in &indexes {
            let (index, origin): (String, String) = (i.get("name"), i.get("origin"));
            match origin.as_str() {
                "c" => {
                    let sql: String =
                        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = $1")
                            .bind(&index)
                            .fetch_one(p)
                            .await
                            .unwrap();
                    t.indexes.insert(index, index_definition(&sql));
                }
                "u" => {
                    let cols: Vec<String> = sqlx::query(&format!("PRAGMA index_info({index})"))
                        .fetch_all(p)
                        .await
                        .unwrap()
                        .iter()
                        .map(|r| r.get("name"))
                        .collect();
                    t.uniques.insert(cols);
                }
                _ => {} // the primary key, compared above
            }
        }
        t.checks = checks_in(&sql)
            .iter()
            .map(|c| check_definition(c))
            .collect();
        schema.insert(name, t);
    }
    schema
}

async fn postgres_schema(db: &Db) -> Schema {
    let Db::Postgres(p) = db else { unreachable!() };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations' ORDER BY 1",
    )
    .fetch_all(p)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for name in tables {
        let mut t = Table::default();
        let cols: Vec<PgColumn> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, character_maximum_length::int4, \
             is_nullable::text, column_default::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(&name)
        .fetch_all(p)
        .await
        .unwrap();
        for (col, data_type, length, nullable, default) in cols {
            t.columns.insert(
                col,
                Column {
                    family: family(&data_type, length),
                    not_null: nullable == "NO",
                    default: default.map(|d| normalize_expr(&d)),
                },
            );
        }
        let constraints: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT contype::text, conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = $1::regclass",
        )
        .bind(&name)
        .fetch_all(p)
        .await
        .unwrap();
        let list = |def: &str, from: usize| -> Vec<String> {
            let open = from + def[from..].find('(').unwrap();
            let close = matching_close(def, open).unwrap();
            split_top(&def[open + 1..close])
        };
        for (kind, _, def) in &constraints {
            match kind.as_str() {
                "p" => t.primary_key = list(def, 0),
                "u" => {
                    t.uniques.insert(list(def, 0));
                }
                "c" => {
                    let body = def.trim_start_matches("CHECK ");
                    t.checks.insert(check_definition(body));
                }
                "f" => {
                    let from = list(def, 0).join(", ");
                    let refs = def.find("REFERENCES ").unwrap() + "REFERENCES ".len();
                    let table: String = def[refs..].chars().take_while(|&c| c != '(').collect();
                    let to = list(def, refs).join(", ");
                    // PostgreSQL omits the default action; SQLite reports it.
                    let on_delete = def
                        .split_once("ON DELETE ")
                        .map(|(_, a)| a.trim().to_string())
                        .unwrap_or_else(|| "NO ACTION".into());
                    t.foreign_keys
                        .insert(format!("({from}) -> {table}({to}) ON DELETE {on_delete}"));
                }
                other => panic!("constraint kind {other} is not compared yet: add it"),
            }
        }
        // Indexes made by CREATE INDEX: not those behind the primary key or a UNIQUE constraint.
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.relname::text, pg_get_indexdef(i.indexrelid) FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        )
        .bind(&name)
        .fetch_all(p)
        .await
        .unwrap();
        for (index, def) in indexes
            .into_iter()
            .filter(|(_, d)| !d.contains("USING gin"))
        {
            t.indexes.insert(index, index_definition(&def));
        }
        schema.insert(name, t);
    }
    schema
}

/// Every difference, one line each.
fn differences(lite: &Schema, pg: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    let names: BTreeSet<&String> = lite.keys().chain(pg.keys()).collect();
    for name in names {
        let (Some(a), Some(b)) = (lite.get(name), pg.get(name)) else {
            out.push(format!(
                "table {name}: only in {}",
                if lite.contains_key(name) {
                    "sqlite"
                } else {
                    "postgres"
                }
            ));
            continue;
        };
        let cols: BTreeSet<&String> = a.columns.keys().chain(b.columns.keys()).collect();
        for c in cols {
            let (x, y) = (a.columns.get(c), b.columns.get(c));
            if x != y {
                out.push(format!("{name}.{c}: sqlite {x:?} / postgres {y:?}"));
            }
        }
        let mut field = |what: &str, x: String, y: String| {
            if x != y {
                out.push(format!("{name} {what}:\n  sqlite   {x}\n  postgres {y}"));
            }
        };
        field(
            "primary key",
            format!("{:?}", a.primary_key),
            format!("{:?}", b.primary_key),
        );
        field(
            "foreign keys",
            format!("{:?}", a.foreign_keys),
            format!("{:?}", b.foreign_keys),
        );
        field(
            "indexes",
            format!("{:?}", a.indexes),
            format!("{:?}", b.indexes),
        );
        field(
            "unique",
            format!("{:?}", a.uniques),
            format!("{:?}", b.uniques),
        );
        field(
            "checks",
            format!("{:?}", a.checks),
            format!("{:?}", b.checks),
        );
    }
    out
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_produce_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let lite = Db::connect(
        &format!("sqlite://{}", dir.path().join("s.db").display()),
        2,
    )
    .await
    .unwrap();
    lite.migrate().await.unwrap();

    let admin_url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".to_string());
    let name = format!("incident_schema_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("cannot reach PostgreSQL for tests: start it or set TEST_DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    let pg = Db::connect(url.as_str(), 2).await.unwrap();
    let compared = async {
        pg.migrate().await.unwrap();
        (sqlite_schema(&lite).await, postgres_schema(&pg).await)
    };
    let (a, b) = compared.await;
    pg.close().await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await;

    assert!(a.len() >= 9, "tables found: {:?}", a.keys());
    assert!(
        a["notification_log"].indexes.len() >= 7 && !a["tickets"].checks.is_empty(),
        "the introspection found too little: {:#?}",
        a["notification_log"]
    );
    let diff = differences(&a, &b);
    assert!(
        diff.is_empty(),
        "the migrations differ:\n{}",
        diff.join("\n")
    );
}

#[test]
fn normalization_keeps_what_matters() {
    assert_eq!(
        index_definition(
            "CREATE INDEX d ON public.notification_log USING btree (next_attempt_at) WHERE ((status)::text = 'PENDING'::text)"
        ),
        index_definition("CREATE INDEX d ON notification_log (next_attempt_at) WHERE status = 'PENDING'")
    );
    assert_eq!(
        index_definition("CREATE INDEX e ON public.users USING btree (lower((email)::text))"),
        "(lower(email))"
    );
    assert_ne!(
        index_definition("CREATE INDEX t ON t (a, b DESC)"),
        index_definition("CREATE INDEX t ON t (a, b)")
    );
    assert_eq!(
        check_definition("((role)::text = ANY ((ARRAY['CLIENT'::character varying, 'ADMIN'::character varying])::text[]))"),
        check_definition("role IN ('ADMIN', 'CLIENT')")
    );
    assert_eq!(normalize_expr("''::character varying"), "''");
    assert_eq!(
        family("VARCHAR(30)", None),
        family("character varying", Some(30))
    );
    assert_ne!(
        family("VARCHAR(30)", None),
        family("character varying", Some(31))
    );
}
