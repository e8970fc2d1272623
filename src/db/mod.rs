//! Storage: one `Db` value over PostgreSQL or SQLite, chosen at run time, with every query text
//! written once (`$N` placeholders work on both drivers). Only this module knows SQL.

pub mod blob;
pub mod channel_incidents;
pub mod console_sessions;
pub mod dashboard;
pub mod django;
pub mod fallback;
pub mod import;
pub mod inbound;
pub mod listen;
pub mod lookup;
pub mod notifications;
pub mod pool;
pub mod preferences;
pub mod retention;
pub mod ticket_list;
pub mod tickets;
pub mod tokens;
pub mod users;

pub use crate::{bind_args, on_db, on_tx, on_write};
pub use pool::{
    is_unique_violation, placeholders, sqlite_file, Arg, Db, DbError, PageRow, SqliteTx,
    SqliteWriter, Tx, Writer,
};
