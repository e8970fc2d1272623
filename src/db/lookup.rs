//! What tells a provider look-up's candidates apart, when the worker asks the provider whether
//! an earlier attempt of a row reached it (`notify::worker`).

use super::notifications::Claimed;
use super::pool::{bind_args, on_db, placeholders_from, Arg, Db};

/// What tells a look-up's candidates apart: which of `ids` another row already records as its
/// provider message id, and whether another PENDING row carries the same text to the same
/// recipient (then a candidate may be that row's message, not yet recorded).
pub async fn lookup_conflicts(
    db: &Db,
    row: &Claimed,
    ids: &[String],
) -> Result<(Vec<String>, bool), sqlx::Error> {
    const TWIN: &str =
        "SELECT COUNT(*) FROM notification_log WHERE recipient_id = $1 AND status = 'PENDING' \
                        AND notification_type = 'WHATSAPP' AND id <> $2 AND message = $3";
    let twins: i64 = on_db!(db, p => sqlx::query_scalar(TWIN).bind(row.recipient_id).bind(row.id).bind(&row.message)
        .fetch_one(p).await)?;
    if ids.is_empty() {
        return Ok((Vec::new(), twins > 0));
    }
    let sql = format!(
        "SELECT provider_message_id FROM notification_log WHERE provider_message_id IN ({})",
        placeholders_from(1, ids.len())
    );
    let args: Vec<Arg> = ids.iter().map(|i| Arg::Text(i.clone())).collect();
    let taken = on_db!(db, p => bind_args!(sqlx::query_scalar(&sql), &args).fetch_all(p).await)?;
    Ok((taken, twins > 0))
}
