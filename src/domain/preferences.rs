//! A user's notification preferences: which channels each event uses (SYSTEM is always on), a
//! time zone and quiet hours, and when a message due at some instant must wait for the quiet
//! hours to end (DST-correct: the window is read on the user's wall clock).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::domain::workflow::Event;

/// The channels a user may turn on or off, in the order the API lists them.
pub const SWITCHABLE_CHANNELS: [&str; 2] = ["WHATSAPP", "EMAIL"];
/// The in-app channel: always on.
pub const SYSTEM: &str = "SYSTEM";
/// The zone of a user who chose none (the original stored and rendered everything in UTC).
pub const DEFAULT_TIME_ZONE: Tz = Tz::UTC;

/// Every event code a notification can carry, in the workflow's order.
pub fn event_codes() -> [&'static str; 7] {
    [
        Event::TicketCreated,
        Event::TicketOpened,
        Event::DevelopersAssigned {
            newly_added: Vec::new(),
        },
        Event::WorkStarted,
        Event::WorkFinished,
        Event::TicketClosed,
        Event::TicketRejected {
            reason: String::new(),
        },
    ]
    .map(|e| e.code())
}

/// Whether a channel is on for an event when the user has not said otherwise: every channel
/// the original used is on, so preferences nobody set change nothing.
pub fn default_enabled(_event: &str, _channel: &str) -> bool {
    true
}

/// Parses an IANA zone name (`Africa/Cairo`).
pub fn parse_time_zone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// A local time of day to the minute, `HH:MM`.
pub fn parse_clock(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.split_once(':')?;
    let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(h) || !two_digits(m) {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// `HH:MM`.
pub fn format_clock(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

/// Minutes since midnight, as stored.
pub fn clock_minutes(t: NaiveTime) -> i32 {
    (t.hour() * 60 + t.minute()) as i32
}

/// The time of day `minutes` after midnight, if in range.
pub fn clock_from_minutes(minutes: i32) -> Option<NaiveTime> {
    let m = u32::try_from(minutes).ok()?;
    NaiveTime::from_hms_opt(m / 60, m % 60, 0)
}

/// Quiet hours on the user's wall clock, `[start, end)`; `start > end` wraps midnight
/// (22:00–07:00). Start and end differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// `None` when start and end are the same time (an empty or a whole-day window, both
    /// meaningless here).
    pub fn new(start: NaiveTime, end: NaiveTime) -> Option<QuietHours> {
        (start != end).then_some(QuietHours { start, end })
    }

    /// From stored minutes; `None` when unset or out of range.
    pub fn from_minutes(start: Option<i32>, end: Option<i32>) -> Option<QuietHours> {
        QuietHours::new(clock_from_minutes(start?)?, clock_from_minutes(end?)?)
    }

    fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// When a message due at `at` may go out: `None` when `at` is outside the quiet hours,
    /// otherwise the first instant after `at` at which the wall clock in `zone` reads `end`.
    pub fn end_after(&self, at: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&zone).naive_local();
        if !self.contains(local.time()) {
            return None;
        }
        let mut day = local.date();
        if local.time() >= self.end {
            day = day.succ_opt()?;
        }
        Some(first_instant_at(zone, day.and_time(self.end)))
    }
}

/// The first instant at which `zone`'s wall clock reads `local`. A time skipped by a DST jump
/// (02:30 on a spring-forward night) is reached when the clock jumps past it; a time repeated
/// in autumn counts from its first occurrence.
fn first_instant_at(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    // No zone skips more than a day; minute steps land on the transition itself.
    for _ in 0..=24 * 60 {
        match zone.from_local_datetime(&probe) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => probe += Duration::minutes(1),
        }
    }
    local.and_utc()
}

/// Why a row waits, for the log: "Held for quiet hours until 07:00 Africa/Cairo".
pub fn hold_reason(quiet: &QuietHours, zone: Tz) -> String {
    format!(
        "Held for quiet hours until {} {}",
        format_clock(quiet.end),
        zone.name()
    )
}

/// A message that must wait: until when, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub until: DateTime<Utc>,
    pub reason: String,
}

/// When a message due at `at` to someone with these quiet hours may go out, if it must wait.
pub fn hold_for(quiet: Option<&QuietHours>, zone: Tz, at: DateTime<Utc>) -> Option<Hold> {
    let quiet = quiet?;
    quiet.end_after(at, zone).map(|until| Hold {
        until,
        reason: hold_reason(quiet, zone),
    })
}

/// One user's preferences. Only the channel choices that differ from [`default_enabled`] are
/// kept (and stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub time_zone: Tz,
    pub quiet_hours: Option<QuietHours>,
    /// (event, channel) → on, for the choices that differ from the default.
    pub deviations: BTreeMap<(String, String), bool>,
}

impl Default for Preferences {
    fn default() -> Preferences {
        Preferences {
            time_zone: DEFAULT_TIME_ZONE,
            quiet_hours: None,
            deviations: BTreeMap::new(),
        }
    }
}

impl Preferences {
    /// Whether `event` reaches this user on `channel`. SYSTEM is always on.
    pub fn wants(&self, event: &str, channel: &str) -> bool {
        if channel == SYSTEM {
            return true;
        }
        self.deviations
            .get(&(event.to_string(), channel.to_string()))
            .copied()
            .unwrap_or_else(|| default_enabled(event, channel))
    }

    /// Turns `channel` on or off for `event`, keeping only deviations from the default.
    pub fn set(&mut self, event: &str, channel: &str, on: bool) {
        let key = (event.to_string(), channel.to_string());
        if on == default_enabled(event, channel) {
            self.deviations.remove(&key);
        } else {
            self.deviations.insert(key, on);
        }
    }

    /// Whether a message on `channel` due at `at` must wait for the quiet hours to end. SYSTEM
    /// messages never wait.
    pub fn hold(&self, channel: &str, at: DateTime<Utc>) -> Option<Hold> {
        if channel == SYSTEM {
            return None;
        }
        hold_for(self.quiet_hours.as_ref(), self.time_zone, at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn quiet(start: &str, end: &str) -> QuietHours {
        QuietHours::new(parse_clock(start).unwrap(), parse_clock(end).unwrap()).unwrap()
    }

    fn zone(name: &str) -> Tz {
        parse_time_zone(name).unwrap()
    }

    #[test]
    fn clocks_are_two_digit_hours_and_minutes() {
        assert_eq!(format_clock(parse_clock("07:05").unwrap()), "07:05");
        for bad in [
            "7:05", "24:00", "12:60", "12:00:00", "noon", "", "ab:cd", "+1:00",
        ] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
        assert_eq!(clock_minutes(parse_clock("22:30").unwrap()), 1350);
        assert_eq!(clock_from_minutes(1350), parse_clock("22:30"));
        assert_eq!(clock_from_minutes(1440), None);
        assert_eq!(clock_from_minutes(-1), None);
    }

    #[test]
    fn same_start_and_end_is_not_a_window() {
        let t = parse_clock("07:00").unwrap();
        assert_eq!(QuietHours::new(t, t), None);
    }

    #[test]
    fn a_window_within_one_day_ends_the_same_day() {
        let q = quiet("12:00", "14:00");
        let z = zone("UTC");
        assert_eq!(
            q.end_after(utc("2026-06-01T13:00:00Z"), z),
            Some(utc("2026-06-01T14:00:00Z"))
        );
        assert_eq!(q.end_after(utc("2026-06-01T14:00:00Z"), z), None);
        assert_eq!(q.end_after(utc("2026-06-01T11:59:00Z"), z), None);
    }

    #[test]
    fn a_window_wrapping_midnight_ends_the_next_morning_or_this_one() {
        let q = quiet("22:00", "07:00");
        let cairo = zone("Africa/Cairo");
        // Cairo in January is UTC+2: 23:30 local is 21:30 UTC; it ends at 07:00 local = 05:00 UTC.
        assert_eq!(
            q.end_after(utc("2026-01-10T21:30:00Z"), cairo),
            Some(utc("2026-01-11T05:00:00Z"))
        );
        // 03:00 local, after midnight: the same morning.
        assert_eq!(
            q.end_after(utc("2026-01-11T01:00:00Z"), cairo),
            Some(utc("2026-01-11T05:00:00Z"))
        );
        // 12:00 local: not quiet.
        assert_eq!(q.end_after(utc("2026-01-11T10:00:00Z"), cairo), None);
    }

    #[test]
    fn the_end_follows_the_wall_clock_across_a_dst_change() {
        let q = quiet("22:00", "07:00");
        let ny = zone("America/New_York");
        // The night of 2026-03-08 springs forward (EST -5 → EDT -4): 07:00 EDT is 11:00 UTC,
        // not the 12:00 UTC a fixed offset from 22:00 EST would give.
        assert_eq!(
            q.end_after(utc("2026-03-08T03:30:00Z"), ny),
            Some(utc("2026-03-08T11:00:00Z"))
        );
        // And back in autumn (2026-11-01): 07:00 EST is 12:00 UTC.
        assert_eq!(
            q.end_after(utc("2026-11-01T03:30:00Z"), ny),
            Some(utc("2026-11-01T12:00:00Z"))
        );
    }

    #[test]
    fn an_end_skipped_by_the_spring_jump_is_reached_at_the_jump() {
        // Berlin springs from 02:00 to 03:00 on 2026-03-29; 02:30 never shows on the clock.
        let q = quiet("23:00", "02:30");
        let berlin = zone("Europe/Berlin");
        assert_eq!(
            q.end_after(utc("2026-03-28T23:00:00Z"), berlin),
            Some(utc("2026-03-29T01:00:00Z"))
        );
    }

    #[test]
    fn an_end_repeated_in_autumn_counts_from_its_first_occurrence() {
        // Berlin falls back from 03:00 to 02:00 on 2026-10-25; 02:30 happens twice.
        let q = quiet("23:00", "02:30");
        let berlin = zone("Europe/Berlin");
        assert_eq!(
            q.end_after(utc("2026-10-24T22:00:00Z"), berlin),
            Some(utc("2026-10-25T00:30:00Z"))
        );
    }

    #[test]
    fn system_messages_never_wait_and_are_always_on() {
        let mut p = Preferences {
            time_zone: zone("UTC"),
            quiet_hours: Some(quiet("00:00", "23:59")),
            ..Preferences::default()
        };
        p.set("ticket_created", "WHATSAPP", false);
        assert!(!p.wants("ticket_created", "WHATSAPP"));
        assert!(p.wants("ticket_created", "EMAIL"));
        assert!(p.wants("ticket_created", SYSTEM));
        let at = utc("2026-06-01T12:00:00Z");
        assert_eq!(p.hold(SYSTEM, at), None);
        let hold = p.hold("EMAIL", at).unwrap();
        assert_eq!(hold.until, utc("2026-06-01T23:59:00Z"));
        assert_eq!(hold.reason, "Held for quiet hours until 23:59 UTC");
    }

    #[test]
    fn only_deviations_from_the_default_are_kept() {
        let mut p = Preferences::default();
        p.set("work_started", "EMAIL", false);
        assert_eq!(p.deviations.len(), 1);
        p.set("work_started", "EMAIL", true);
        assert!(p.deviations.is_empty());
    }

    #[test]
    fn every_event_code_is_listed_once() {
        let codes = event_codes();
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len());
        assert!(codes.contains(&"ticket_approved"));
    }
}
