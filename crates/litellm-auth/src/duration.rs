//! LiteLLM's duration strings (`duration`, `budget_duration`): a whole number and a unit, as
//! `litellm_core_utils/duration_parser.py` reads them: `30s`, `15m`, `1h`, `1d`, `2w`, `1mo`.
//!
//! Months are calendar months (`1mo` from 31 January is the last day of February), everything
//! else a fixed number of seconds.

use chrono::{DateTime, Months, Utc};

/// A parsed duration string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetDuration {
    /// A fixed number of seconds (`s`, `m`, `h`, `d`, `w`).
    Seconds(i64),
    /// Calendar months (`mo`).
    Months(u32),
}

impl BudgetDuration {
    /// Parses `"30s"`, `"15m"`, `"1h"`, `"1d"`, `"2w"`, `"1mo"` (surrounding spaces allowed).
    /// The number must be a positive integer; the error names the accepted forms.
    pub fn parse(s: &str) -> Result<BudgetDuration, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let bad = || {
            format!(
                "invalid duration {s:?}: use a positive whole number and a unit, e.g. 30s, 15m, \
                 1h, 1d, 7d, 2w or 1mo"
            )
        };
        let n: i64 = num.parse().map_err(|_| bad())?;
        if n <= 0 {
            return Err(bad());
        }
        let secs = |mult: i64| {
            n.checked_mul(mult)
                .map(BudgetDuration::Seconds)
                .ok_or_else(bad)
        };
        match unit.trim() {
            "s" => secs(1),
            "m" => secs(60),
            "h" => secs(3_600),
            "d" => secs(86_400),
            "w" => secs(7 * 86_400),
            "mo" => u32::try_from(n)
                .map(BudgetDuration::Months)
                .map_err(|_| bad()),
            _ => Err(bad()),
        }
    }

    /// `start` plus this duration (saturating at the far future).
    pub fn after(self, start: DateTime<Utc>) -> DateTime<Utc> {
        self.shift(start, true).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// `end` minus this duration (saturating at the far past).
    pub fn before(self, end: DateTime<Utc>) -> DateTime<Utc> {
        self.shift(end, false).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// `t` moved by this duration, forward or back; `None` past the representable range.
    fn shift(self, t: DateTime<Utc>, forward: bool) -> Option<DateTime<Utc>> {
        match self {
            BudgetDuration::Seconds(s) => {
                let d = chrono::Duration::try_seconds(s)?;
                if forward {
                    t.checked_add_signed(d)
                } else {
                    t.checked_sub_signed(d)
                }
            }
            BudgetDuration::Months(m) => {
                let m = Months::new(m);
                if forward {
                    t.checked_add_months(m)
                } else {
                    t.checked_sub_months(m)
                }
            }
        }
    }
}

/// `now` plus the duration string `s`: when a key made now with `duration: s` expires, or when
/// a budget with `budget_duration: s` next resets.
pub fn deadline_after(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    BudgetDuration::parse(s).map(|d| d.after(now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn parses_every_unit() {
        for (text, parsed) in [
            ("30s", BudgetDuration::Seconds(30)),
            ("15m", BudgetDuration::Seconds(900)),
            ("1h", BudgetDuration::Seconds(3600)),
            (" 7d ", BudgetDuration::Seconds(604_800)),
            ("2w", BudgetDuration::Seconds(1_209_600)),
            ("1mo", BudgetDuration::Months(1)),
        ] {
            assert_eq!(BudgetDuration::parse(text), Ok(parsed), "{text:?}");
        }
    }

    #[test]
    fn refuses_malformed_durations() {
        for bad in [
            "",
            "d",
            "30",
            "-1d",
            "0d",
            "1.5h",
            "1y",
            "1 mo x",
            "99999999999999999999s",
        ] {
            let err = BudgetDuration::parse(bad).expect_err(bad);
            assert!(err.contains("invalid duration"), "{err}");
        }
    }

    #[test]
    fn months_are_calendar_months() {
        let jan31 = Utc
            .with_ymd_and_hms(2025, 1, 31, 12, 0, 0)
            .single()
            .expect("valid time");
        assert_eq!(
            deadline_after("1mo", jan31),
            Ok(Utc
                .with_ymd_and_hms(2025, 2, 28, 12, 0, 0)
                .single()
                .expect("valid time"))
        );
        assert_eq!(
            deadline_after("30d", jan31),
            Ok(Utc
                .with_ymd_and_hms(2025, 3, 2, 12, 0, 0)
                .single()
                .expect("valid time"))
        );
    }
}
