//! When budgets reset, and what a reset pass did: the leaf the records (patches setting
//! `budget_reset_at`), the store (the reset statements) and the reset job (`reset.rs`) share.
//!
//! [`next_reset`] follows LiteLLM's `get_next_standardized_reset_time`: resets fall on calendar
//! boundaries in `litellm_settings.timezone` (UTC by default; any IANA name, set once at start-up
//! with [`set_timezone`]):
//!
//! - `1d`: the next midnight; `7d` (and `1w`): the next Monday midnight; `30d` and `Nmo`: midnight
//!   of the 1st of the next month (N months on); other `Nd`/`Nw`: midnight today plus N days;
//! - `Nh`, `Nm`, `Ns`: the hour / minute / second of the local clock rounded up to the next
//!   multiple of N (`30s` resets at :00 and :30 of every minute, `15m` at :00, :15, :30, :45).

use std::sync::RwLock;

use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::duration::BudgetDuration;

static TIMEZONE: RwLock<Tz> = RwLock::new(Tz::UTC);

/// Sets the timezone budget resets align to (`litellm_settings.timezone`). An unknown name is
/// an error naming it; the previous zone stays.
pub fn set_timezone(name: &str) -> Result<(), String> {
    let tz: Tz = name.trim().parse().map_err(|_| {
        format!(
            "unknown timezone {name:?}: use an IANA name such as UTC, US/Eastern or Asia/Kolkata"
        )
    })?;
    *TIMEZONE.write().unwrap_or_else(|p| p.into_inner()) = tz;
    Ok(())
}

/// The timezone budget resets align to.
pub fn timezone() -> Tz {
    *TIMEZONE.read().unwrap_or_else(|p| p.into_inner())
}

/// When a budget with `budget_duration: duration` set at `now` next resets, aligned in the
/// configured timezone.
pub fn next_reset(duration: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    next_reset_in(duration, now, timezone())
}

/// [`next_reset`] in an explicit timezone.
pub fn next_reset_in(duration: &str, now: DateTime<Utc>, tz: Tz) -> Result<DateTime<Utc>, String> {
    let d = BudgetDuration::parse(duration)?;
    let local = now.with_timezone(&tz);
    let today = local.date_naive();
    let midnight = |date: NaiveDate| -> DateTime<Utc> {
        let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        // A midnight skipped by a DST change falls back to the earliest valid local time.
        tz.from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
    };
    let first_of_month_after = |months: u32| -> DateTime<Utc> {
        let index = today.year() as i64 * 12 + i64::from(today.month0()) + i64::from(months);
        let (y, m) = (index.div_euclid(12) as i32, index.rem_euclid(12) as u32 + 1);
        midnight(NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(NaiveDate::MAX))
    };
    let plus_days = |n: i64| {
        midnight(
            today
                .checked_add_signed(ChronoDuration::days(n))
                .unwrap_or(NaiveDate::MAX),
        )
    };
    let next = match d {
        BudgetDuration::Months(m) => first_of_month_after(m),
        BudgetDuration::Seconds(s) if s % 86_400 == 0 => match s / 86_400 {
            1 => plus_days(1),
            7 => plus_days(7 - i64::from(local.weekday().num_days_from_monday())),
            30 => first_of_month_after(1),
            n => plus_days(n),
        },
        BudgetDuration::Seconds(s) => {
            // Align the unit's field of the local clock to the next multiple of N (LiteLLM's
            // `_handle_{hour,minute,second}_reset`), rolling over into the next unit.
            let unit = if s % 3_600 == 0 {
                3_600
            } else if s % 60 == 0 {
                60
            } else {
                1
            };
            let n = s / unit;
            let naive = local.naive_local();
            let field = i64::from(match unit {
                3_600 => naive.hour(),
                60 => naive.minute(),
                _ => naive.second(),
            });
            let secs_into_unit = i64::from(naive.num_seconds_from_midnight()) % unit;
            let truncated =
                naive.with_nanosecond(0).unwrap_or(naive) - ChronoDuration::seconds(secs_into_unit);
            let target = truncated + ChronoDuration::seconds((n - field % n) * unit);
            tz.from_local_datetime(&target)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&target))
        }
    };
    Ok(next)
}

/// What one reset pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResetCounts {
    pub keys: u64,
    pub users: u64,
    pub teams: u64,
    pub budgets: u64,
    /// End users whose budget reset (their spend is set to 0 with it).
    pub end_users: u64,
}

impl ResetCounts {
    pub fn total(&self) -> u64 {
        self.keys + self.users + self.teams + self.budgets + self.end_users
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    /// Asserts `next_reset_in(duration, now, tz)` for every `(duration, now, expected)` case.
    fn assert_resets(tz: Tz, cases: &[(&str, &str, &str)]) {
        for &(duration, now, expected) in cases {
            assert_eq!(
                next_reset_in(duration, at(now), tz),
                Ok(at(expected)),
                "{duration} after {now}"
            );
        }
    }

    #[test]
    fn day_week_and_month_durations_land_on_midnights_like_litellm() {
        let now = "2023-05-15T10:30:00Z"; // a Monday
        let dec = "2023-12-20T10:00:00Z";
        assert_resets(
            Tz::UTC,
            &[
                ("1d", now, "2023-05-16T00:00:00Z"),
                ("7d", now, "2023-05-22T00:00:00Z"),
                ("1w", now, "2023-05-22T00:00:00Z"),
                ("30d", now, "2023-06-01T00:00:00Z"),
                ("1mo", now, "2023-06-01T00:00:00Z"),
                ("3d", now, "2023-05-18T00:00:00Z"),
                ("1mo", dec, "2024-01-01T00:00:00Z"),
                ("2mo", dec, "2024-02-01T00:00:00Z"),
            ],
        );
    }

    #[test]
    fn clock_durations_align_to_multiples() {
        let now = "2023-05-15T10:30:12.5Z";
        assert_resets(
            Tz::UTC,
            &[
                ("30s", now, "2023-05-15T10:30:30Z"),
                ("15m", now, "2023-05-15T10:45:00Z"),
                ("1h", now, "2023-05-15T11:00:00Z"),
                ("5h", now, "2023-05-15T15:00:00Z"),
                ("1h", "2023-05-15T23:10:00Z", "2023-05-16T00:00:00Z"),
                ("7s", now, "2023-05-15T10:30:14Z"),
            ],
        );
    }

    #[test]
    fn midnights_are_local_to_the_timezone() {
        let tz: Tz = "US/Eastern".parse().unwrap_or(Tz::UTC);
        let now = at("2023-05-15T10:30:00Z"); // 06:30 EDT (UTC-4)
        assert_eq!(next_reset_in("1d", now, tz), Ok(at("2023-05-16T04:00:00Z")));
        assert_eq!(
            next_reset_in("1mo", now, tz),
            Ok(at("2023-06-01T04:00:00Z"))
        );
        let ist: Tz = "Asia/Kolkata".parse().unwrap_or(Tz::UTC);
        assert_eq!(
            next_reset_in("1h", now, ist),
            Ok(at("2023-05-15T10:30:00Z") + ChronoDuration::minutes(60))
        );
        assert!(next_reset_in("1x", now, tz).is_err());
    }
}
