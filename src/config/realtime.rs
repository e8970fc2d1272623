//! The real-time section: how many WebSocket and SSE sessions one user may keep open.

use super::reader::Reader;

/// `MAX_REALTIME_SESSIONS_PER_USER`: live WebSocket and SSE sessions per user and replica; a
/// new one beyond it ends the user's oldest.
pub(super) fn max_sessions_per_user(r: &mut Reader) -> usize {
    let max = r.parse("MAX_REALTIME_SESSIONS_PER_USER", 5usize, "a whole number");
    if max == 0 {
        r.error("MAX_REALTIME_SESSIONS_PER_USER must be at least 1");
    }
    max.max(1)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn max(value: Option<&str>) -> Result<usize, String> {
        Config::from_lookup(&|name| match name {
            "MAX_REALTIME_SESSIONS_PER_USER" => value.map(str::to_string),
            _ => None,
        })
        .map(|c| c.max_realtime_sessions_per_user)
        .map_err(|e| e.to_string())
    }

    #[test]
    fn sessions_per_user_default_to_5_and_must_be_at_least_1() {
        assert_eq!(max(None), Ok(5));
        assert_eq!(max(Some("2")), Ok(2));
        let zero = max(Some("0")).unwrap_err();
        assert!(zero.contains("MAX_REALTIME_SESSIONS_PER_USER"), "{zero}");
        assert!(max(Some("many")).is_err());
    }
}
