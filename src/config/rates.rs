//! Per-user request rates, in DRF's `UserRateThrottle` notation: `30/min` is 30 requests per
//! minute (the period is read from its first letter: `s`, `m`, `h` or `d`); `off` or `0` turns a
//! rate off.

use std::time::Duration;

use super::reader::Reader;

/// At most `requests` within any `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub requests: u32,
    pub per: Duration,
}

impl Rate {
    /// `Some(None)` for a rate turned off, `None` when malformed.
    pub fn parse(text: &str) -> Option<Option<Rate>> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") || text == "0" {
            return Some(None);
        }
        let (requests, period) = text.split_once('/')?;
        let requests: u32 = requests.trim().parse().ok()?;
        let seconds = match period.trim().chars().next()?.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        let rate = Rate {
            requests,
            per: Duration::from_secs(seconds),
        };
        Some((requests > 0).then_some(rate))
    }
}

pub(super) struct Rates {
    pub ticket_create: Option<Rate>,
    pub comment: Option<Rate>,
}

pub(super) fn read(r: &mut Reader) -> Rates {
    Rates {
        ticket_create: rate(r, "TICKET_CREATE_RATE", "30/min"),
        comment: rate(r, "COMMENT_RATE", "60/min"),
    }
}

fn rate(r: &mut Reader, name: &str, default: &str) -> Option<Rate> {
    let text = r.raw(name).unwrap_or_else(|| default.to_string());
    Rate::parse(&text).unwrap_or_else(|| {
        r.error(format!(
            "{name} must look like 30/min (a number, then /s, /min, /hour or /day) or be off"
        ));
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_drf_rates() {
        let per = |requests, secs| {
            Some(Some(Rate {
                requests,
                per: Duration::from_secs(secs),
            }))
        };
        assert_eq!(Rate::parse("30/min"), per(30, 60));
        assert_eq!(Rate::parse("5/s"), per(5, 1));
        assert_eq!(Rate::parse("100/hour"), per(100, 3600));
        assert_eq!(Rate::parse("1000/day"), per(1000, 86_400));
        assert_eq!(Rate::parse("off"), Some(None));
        assert_eq!(Rate::parse("0"), Some(None));
        assert_eq!(Rate::parse("0/min"), Some(None));
        for bad in ["30", "x/min", "30/fortnight", "30/", "-1/min"] {
            assert_eq!(Rate::parse(bad), None, "{bad}");
        }
    }
}
