//! Dates as people type them: ISO (`2026-12-15`) or relative (`+2w`, `fri`, `today`),
//! resolved against "today" in the program's timezone; durations in days; work days.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use super::{values::truncate_for_error, Invalid};

/// A date as typed, before it is pinned to a calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateSpec {
    On(NaiveDate),
    /// `today`, `tomorrow`, `+3d`, `+2w`, `-1d`: days from today.
    InDays(i64),
    /// `fri`: the next such weekday on or after today.
    Next(Weekday),
}

/// The years a date may fall in, everywhere: commands, stored data and documents. Before
/// 1900 or after 9999 is a typo, and chrono's date arithmetic near its own limits would fail.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// Refuses a date outside [`YEARS`], saying which years are accepted.
pub fn check_year(d: NaiveDate) -> Result<NaiveDate, Invalid> {
    if YEARS.contains(&d.year()) {
        Ok(d)
    } else {
        Err(Invalid(format!(
            "{d} is outside the years {} to {}",
            YEARS.start(),
            YEARS.end()
        )))
    }
}

const DATE_HELP: &str =
    "use an ISO date (2026-12-15), `today`, `tomorrow`, a weekday (`fri`) or an offset (`+3d`, `+2w`)";

impl DateSpec {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim().to_ascii_lowercase();
        let bad = || {
            Invalid(format!(
                "`{}` is not a date: {DATE_HELP}",
                truncate_for_error(raw)
            ))
        };
        if let Ok(d) = NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
            // chrono accepts 1-digit months and days; ISO means exactly YYYY-MM-DD.
            if s.len() == 10 || !YEARS.contains(&d.year()) {
                return check_year(d).map(Self::On);
            }
            return Err(bad());
        }
        match s.as_str() {
            "today" => return Ok(Self::InDays(0)),
            "tomorrow" => return Ok(Self::InDays(1)),
            _ => {}
        }
        if let Some(wd) = weekday(&s) {
            return Ok(Self::Next(wd));
        }
        let (sign, rest) = match s.as_bytes().first() {
            Some(b'+') => (1, &s[1..]),
            Some(b'-') => (-1, &s[1..]),
            _ => return Err(bad()),
        };
        // By suffix, not by byte position: the last character may be any width.
        let days = if let Some(num) = rest.strip_suffix('d') {
            num.parse::<i64>().map_err(|_| bad())?
        } else if let Some(num) = rest.strip_suffix('w') {
            let n: i64 = num.parse().map_err(|_| bad())?;
            n.checked_mul(7).ok_or_else(bad)?
        } else {
            return Err(bad());
        };
        if days.abs() > 3650 {
            return Err(Invalid(format!(
                "`{}` is more than ten years away",
                truncate_for_error(raw)
            )));
        }
        Ok(Self::InDays(sign * days))
    }

    /// Pins the date to the calendar, given today's date in the program's timezone.
    pub fn resolve(&self, today: NaiveDate) -> NaiveDate {
        match *self {
            Self::On(d) => d,
            Self::InDays(n) => today + Duration::days(n),
            Self::Next(wd) => {
                let ahead = (7 + wd.num_days_from_monday() as i64
                    - today.weekday().num_days_from_monday() as i64)
                    % 7;
                today + Duration::days(ahead)
            }
        }
    }
}

impl FromStr for DateSpec {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::parse(s)
    }
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tues" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// "1 day", "3 days", "-2 days": how replies count days.
pub fn n_days(n: i64) -> String {
    if n.abs() == 1 {
        format!("{n} day")
    } else {
        format!("{n} days")
    }
}

/// "+1 day", "+3 days", "-2 days": a change in days.
pub fn signed_days(n: i64) -> String {
    if n > 0 {
        format!("+{}", n_days(n))
    } else {
        n_days(n)
    }
}

/// A span of work in whole days (`10`, `10d`, `2w`), 0 to 3650.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Days(u32);

impl Days {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim().to_ascii_lowercase();
        let bad = || {
            Invalid(format!(
                "`{}` is not a duration: use whole days (`10`, `10d`) or weeks (`2w`), at most 3650 days",
                truncate_for_error(raw)
            ))
        };
        let (num, mult) = if let Some(n) = s.strip_suffix('w') {
            (n, 7)
        } else if let Some(n) = s.strip_suffix('d') {
            (n, 1)
        } else {
            (s.as_str(), 1)
        };
        let n: u32 = num.parse().map_err(|_| bad())?;
        let days = n.checked_mul(mult).filter(|d| *d <= 3650).ok_or_else(bad)?;
        Ok(Self(days))
    }

    pub fn new(n: i64) -> Result<Self, Invalid> {
        Self::parse(&n.to_string())
    }

    pub fn get(&self) -> u32 {
        self.0
    }
}

impl FromStr for Days {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for Days {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Days::new(i64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}d", self.0)
    }
}

/// The days of the week a program works: `mon,tue,wed,thu,fri` or `mon-fri`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkDays(u8);

impl WorkDays {
    pub const WEEKDAYS: WorkDays = WorkDays(0b0011111);
    /// No working day at all (durations then count calendar days).
    pub const NONE: WorkDays = WorkDays(0);

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = || {
            Invalid(format!(
                "`{}` is not a set of work days: use a list like `mon,tue,wed,thu,fri` or a range like `mon-fri`",
                truncate_for_error(raw)
            ))
        };
        let mut bits = 0u8;
        for part in raw.to_ascii_lowercase().split(',') {
            let part = part.trim();
            if let Some((a, b)) = part.split_once('-') {
                let (a, b) = (weekday(a).ok_or_else(bad)?, weekday(b).ok_or_else(bad)?);
                let (a, b) = (a.num_days_from_monday(), b.num_days_from_monday());
                if a > b {
                    return Err(bad());
                }
                for d in a..=b {
                    bits |= 1 << d;
                }
            } else {
                bits |= 1 << weekday(part).ok_or_else(bad)?.num_days_from_monday();
            }
        }
        if bits == 0 {
            return Err(bad());
        }
        Ok(Self(bits))
    }

    pub fn contains(&self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    /// How many days of the week are work days.
    pub fn count(&self) -> i64 {
        i64::from(self.0.count_ones())
    }

    pub fn as_string(&self) -> String {
        const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        (0..7)
            .filter(|d| self.0 & (1 << d) != 0)
            .map(|d| NAMES[d])
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl FromStr for WorkDays {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::parse(s)
    }
}

impl Serialize for WorkDays {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for WorkDays {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        WorkDays::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn relative_dates_resolve_against_today() {
        let friday = d("2026-11-27");
        let cases = [
            ("2026-12-15", "2026-12-15"),
            ("today", "2026-11-27"),
            ("tomorrow", "2026-11-28"),
            ("+3d", "2026-11-30"),
            ("+2w", "2026-12-11"),
            ("-1d", "2026-11-26"),
            ("fri", "2026-11-27"),
            ("mon", "2026-11-30"),
            ("Thursday", "2026-12-03"),
        ];
        for (raw, want) in cases {
            assert_eq!(
                DateSpec::parse(raw).unwrap().resolve(friday),
                d(want),
                "{raw}"
            );
        }
    }

    #[test]
    fn bad_dates_say_what_is_accepted() {
        for raw in [
            "2026-13-01",
            "2026-02-30",
            "2026-1-5",
            "next week",
            "+3x",
            "+",
            "+99999w",
        ] {
            assert!(DateSpec::parse(raw).is_err(), "{raw} should be refused");
        }
        assert!(DateSpec::parse("soon").unwrap_err().0.contains("ISO date"));
    }

    #[test]
    fn dates_are_within_the_years_1900_to_9999() {
        for raw in ["1899-12-31", "0000-01-01", "0999-06-15", "+10000-01-01"] {
            let e = DateSpec::parse(raw).unwrap_err().0;
            assert!(e.contains("outside the years 1900 to 9999"), "{raw}: {e}");
        }
        // Five digits are not ISO's YYYY at all.
        assert!(DateSpec::parse("10000-01-01").is_err());
        assert!(DateSpec::parse("1900-01-01").is_ok());
        assert!(DateSpec::parse("9999-12-31").is_ok());
    }

    #[test]
    fn durations() {
        assert_eq!(Days::parse("10").unwrap().get(), 10);
        assert_eq!(Days::parse("2w").unwrap().get(), 14);
        assert!(Days::parse("-1").is_err());
        assert!(Days::parse("9999").is_err());
    }

    #[test]
    fn work_days() {
        assert_eq!(WorkDays::parse("mon-fri").unwrap(), WorkDays::WEEKDAYS);
        assert_eq!(
            WorkDays::parse("sun,mon-thu").unwrap().as_string(),
            "mon,tue,wed,thu,sun"
        );
        assert!(WorkDays::parse("fri-mon").is_err());
        assert!(WorkDays::parse("").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_a_date_or_a_refusal(raw in "\\PC{0,12}", tail in "[+-][0-9]{0,3}\\PC{0,2}") {
            let _ = DateSpec::parse(&raw);
            let _ = DateSpec::parse(&tail);
        }
    }
}
