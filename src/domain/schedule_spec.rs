//! A schedule as a person writes it (`0 9 * * mon`, `weekly fri 16:00`), validated, and
//! the instants at which it fires in a timezone.
//!
//! Daylight saving follows Vixie cron as the Python package `cronsim` implements it (it is
//! the oracle of the differential test below):
//!
//! - A *fixed-time* schedule, whose minute and hour fields both do not start with `*`,
//!   reads the local wall clock. A local time skipped by spring-forward fires at the first
//!   minute after the gap; a local time repeated by fall-back fires once, the first time.
//! - Any other schedule (`*/15 * * * *`, `0 * * * *`, `* 9 * * *`) follows real time: every
//!   instant whose local time matches fires, so the repeated hour at fall-back fires twice,
//!   and nothing fires inside a spring-forward gap.
//!
//! Where cronsim departs from those two rules, this module keeps the rules. That happens
//! for real-time schedules in zones whose clocks change by half an hour (Lord Howe) or at
//! a quarter to the hour (Chatham), where cronsim skips or repeats firings, and when asked
//! from inside the second pass of a repeated hour, where cronsim can answer an instant
//! before the one asked about. The tests pin both (`lord_howe_half_hour_changes`,
//! `new_york_fall_back`, `agrees_with_cronsim`).
//!
//! The `cron` crate is not used here, though it is a dependency, because it fits neither
//! half of the job:
//! - Parsing: its day of week runs 1–7 from Sunday (Quartz), where crontab runs 0–7 with
//!   0 and 7 both Sunday, so `1-5` would mean Sunday–Thursday; its parsed schedule forgets
//!   whether a field was written with a leading `*`, which decides both Vixie's day rule
//!   and the fixed-time rule above; and its errors are not written for a person.
//! - Firing: it always ANDs day of month with day of week, and it skips a local time that
//!   does not exist and fires a repeated one twice (Vixie cron's rule is the one here).
//!
//! The tests still use it as a second opinion on UTC schedules, where its rules and ours
//! coincide.

use std::fmt;
use std::iter::FusedIterator;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::{truncate_for_error, Invalid};

const HELP: &str =
    "use 5-field crontab (`0 9 * * mon`) or `daily 09:30`, `weekdays 10:00`, `weekly fri 16:00`";

/// How far ahead [`ScheduleSpec::next_after`] looks: a little over five years. A firing
/// further away than that counts as none (only `0 0 29 2 *`-like schedules get there, across
/// a century year that is not a leap year).
pub const LOOKAHEAD_DAYS: i64 = 5 * 366;

/// The minute counts `every N minutes` accepts: those that divide an hour, so the firings
/// really are N minutes apart, also across the hour.
const EVERY_MINUTES: [u32; 11] = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];

/// When a job fires: a 5-field crontab or a friendly form, in local time of a timezone
/// given when asking for firings. Built only by [`ScheduleSpec::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScheduleSpec {
    /// The canonical text: what `Display` gives back and `parse` reads again.
    text: String,
    /// The friendly form it was written in, if any.
    friendly: Option<Friendly>,
    /// The 5-field crontab this schedule means, canonical (lowercase, single spaces).
    crontab: String,
    fields: Fields,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Friendly {
    Hourly,
    EveryMinutes(u32),
    Daily(ClockTime),
    Weekdays(ClockTime),
    Weekly(Weekday, ClockTime),
}

/// A time of day as `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ClockTime {
    hour: u32,
    minute: u32,
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// The longest schedule text accepted: a crontab of long lists still fits, a pasted essay does
/// not reach the parser or the database.
pub const MAX_SPEC_CHARS: usize = 200;

impl ScheduleSpec {
    /// Reads a schedule, case-insensitively:
    /// - a 5-field crontab, `minute hour day-of-month month day-of-week`, with `*`, lists,
    ///   ranges, steps, `jan`–`dec` and `sun`–`sat`, day of week 0–7 (0 and 7 are Sunday);
    /// - `daily 09:30`, `weekdays 10:00` (Monday to Friday), `weekly fri 16:00`, `hourly`,
    ///   `every 15 minutes`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let lower = raw.trim().to_ascii_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        let quoted = truncate_for_error(raw.trim());
        if words.is_empty() {
            return Err(Invalid(format!("a schedule cannot be empty: {HELP}")));
        }
        let length = raw.trim().chars().count();
        if length > MAX_SPEC_CHARS {
            return Err(Invalid(format!(
                "a schedule is at most {MAX_SPEC_CHARS} characters; `{quoted}` has {length}: {HELP}"
            )));
        }
        if let Some(friendly) = parse_friendly(&words, &quoted)? {
            let crontab = friendly.crontab();
            // A friendly form is a crontab underneath, so both fire by one set of rules.
            let fields = Fields::parse(&crontab, &quoted)?;
            return Ok(Self {
                text: friendly.text(),
                friendly: Some(friendly),
                crontab,
                fields,
            });
        }
        if words.len() != 5 {
            return Err(Invalid(format!("`{quoted}` is not a schedule: {HELP}")));
        }
        let crontab = words.join(" ");
        let fields = Fields::parse(&crontab, &quoted)?;
        Ok(Self {
            text: crontab.clone(),
            friendly: None,
            crontab,
            fields,
        })
    }

    /// The canonical text, as stored.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The 5-field crontab this schedule means (`weekly fri 16:00` is `0 16 * * 5`).
    pub fn crontab(&self) -> &str {
        &self.crontab
    }

    /// Whether the schedule reads the local wall clock (its minute and hour fields both do
    /// not start with `*`) rather than following real time; see the module doc.
    pub fn is_fixed_time(&self) -> bool {
        self.fields.fixed_time
    }

    /// The schedule in words: "every Friday at 16:00".
    pub fn describe(&self) -> String {
        match self.friendly {
            Some(friendly) => friendly.describe(),
            None => self.fields.describe(&self.crontab),
        }
    }

    /// The first firing strictly after `after`, with the schedule read in `tz`; `None` if
    /// there is none within [`LOOKAHEAD_DAYS`] of `after`.
    pub fn next_after(&self, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let after = after.naive_utc();
        // Far from today the calendar arithmetic below could leave chrono's range; nothing
        // is scheduled there.
        if !(1..=9000).contains(&after.year()) {
            return None;
        }
        let limit = after + TimeDelta::days(LOOKAHEAD_DAYS);
        let next = if self.fields.fixed_time {
            self.fields.next_on_wall_clock(tz, after, limit)
        } else {
            self.fields.next_in_real_time(tz, after, limit)
        };
        next.filter(|at| *at > after && *at <= limit)
            .map(|at| at.and_utc())
    }

    /// The firings strictly after `after`, in order.
    pub fn iter_after(&self, tz: Tz, after: DateTime<Utc>) -> Firings<'_> {
        Firings {
            spec: self,
            tz,
            cursor: Some(after),
        }
    }

    /// The next `n` firings strictly after `after` (fewer if the lookahead runs out).
    pub fn upcoming(&self, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        self.iter_after(tz, after).take(n).collect()
    }
}

/// The firings of a schedule after an instant; see [`ScheduleSpec::iter_after`].
#[derive(Debug, Clone)]
pub struct Firings<'a> {
    spec: &'a ScheduleSpec,
    tz: Tz,
    cursor: Option<DateTime<Utc>>,
}

impl Iterator for Firings<'_> {
    type Item = DateTime<Utc>;

    fn next(&mut self) -> Option<DateTime<Utc>> {
        let next = self.spec.next_after(self.tz, self.cursor?);
        self.cursor = next;
        next
    }
}

impl FusedIterator for Firings<'_> {}

impl fmt::Display for ScheduleSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for ScheduleSpec {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::parse(s)
    }
}

impl Serialize for ScheduleSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ScheduleSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------
// Friendly forms

impl Friendly {
    fn text(&self) -> String {
        match *self {
            Friendly::Hourly => "hourly".to_owned(),
            Friendly::EveryMinutes(1) => "every minute".to_owned(),
            Friendly::EveryMinutes(n) => format!("every {n} minutes"),
            Friendly::Daily(at) => format!("daily {at}"),
            Friendly::Weekdays(at) => format!("weekdays {at}"),
            Friendly::Weekly(day, at) => format!("weekly {} {at}", weekday_abbrev(day)),
        }
    }

    fn crontab(&self) -> String {
        match *self {
            Friendly::Hourly => "0 * * * *".to_owned(),
            Friendly::EveryMinutes(1) => "* * * * *".to_owned(),
            Friendly::EveryMinutes(n) => format!("*/{n} * * * *"),
            Friendly::Daily(at) => format!("{} {} * * *", at.minute, at.hour),
            Friendly::Weekdays(at) => format!("{} {} * * 1-5", at.minute, at.hour),
            Friendly::Weekly(day, at) => format!(
                "{} {} * * {}",
                at.minute,
                at.hour,
                day.num_days_from_sunday()
            ),
        }
    }

    fn describe(&self) -> String {
        match *self {
            Friendly::Hourly => "every hour, on the hour".to_owned(),
            Friendly::EveryMinutes(1) => "every minute".to_owned(),
            Friendly::EveryMinutes(n) => format!("every {n} minutes"),
            Friendly::Daily(at) => format!("every day at {at}"),
            Friendly::Weekdays(at) => format!("every weekday (Monday to Friday) at {at}"),
            Friendly::Weekly(day, at) => format!("every {} at {at}", weekday_name(day)),
        }
    }
}

/// A friendly form, `None` if `words` do not start with one of its keywords.
fn parse_friendly(words: &[&str], quoted: &str) -> Result<Option<Friendly>, Invalid> {
    let not_a_schedule = || Invalid(format!("`{quoted}` is not a schedule: {HELP}"));
    let form = match words {
        ["hourly"] | ["every", "hour"] => Friendly::Hourly,
        ["every", "minute"] => Friendly::EveryMinutes(1),
        ["every", n, "minute" | "minutes" | "min" | "mins"] => match n.parse::<u32>() {
            Ok(n) if EVERY_MINUTES.contains(&n) => Friendly::EveryMinutes(n),
            _ if n.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(Invalid(format!(
                    "`{quoted}`: the minutes must divide an hour evenly: 1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30"
                )))
            }
            _ => return Err(not_a_schedule()),
        },
        ["daily", at] => Friendly::Daily(clock_time(at, quoted)?),
        ["weekdays", at] => Friendly::Weekdays(clock_time(at, quoted)?),
        ["weekly", day, at] => {
            let day = weekday(day).ok_or_else(not_a_schedule)?;
            Friendly::Weekly(day, clock_time(at, quoted)?)
        }
        [first, ..] if ["hourly", "daily", "weekdays", "weekly", "every"].contains(first) => {
            return Err(not_a_schedule())
        }
        _ => return Ok(None),
    };
    Ok(Some(form))
}

/// `9:30` or `09:30`, 00:00 to 23:59.
fn clock_time(raw: &str, quoted: &str) -> Result<ClockTime, Invalid> {
    let bad = || {
        Invalid(format!(
            "`{quoted}`: `{}` is not a time of day: use HH:MM, from 00:00 to 23:59",
            truncate_for_error(raw)
        ))
    };
    let (h, m) = raw.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 1..=2) || !digits(m, 2..=2) {
        return Err(bad());
    }
    match (h.parse::<u32>(), m.parse::<u32>()) {
        (Ok(hour @ 0..=23), Ok(minute @ 0..=59)) => Ok(ClockTime { hour, minute }),
        _ => Err(bad()),
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

const WEEKDAY_ABBREVS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const WEEKDAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTH_ABBREVS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// The most days each month can have (February in a leap year), for refusing a day of
/// month that never comes.
const MAX_DAYS_IN_MONTH: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

fn weekday_abbrev(day: Weekday) -> &'static str {
    WEEKDAY_ABBREVS[day.num_days_from_sunday() as usize]
}

fn weekday_name(day: Weekday) -> &'static str {
    WEEKDAY_NAMES[day.num_days_from_sunday() as usize]
}

// ---------------------------------------------------------------------------------------
// Crontab fields

/// A parsed crontab: each field as a bit set of the values it matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Fields {
    /// Bit n: minute n (0–59).
    minutes: u64,
    /// Bit n: hour n (0–23).
    hours: u64,
    /// Bit n: day of month n (1–31).
    days: u64,
    /// Bit n: month n (1–12).
    months: u64,
    /// Bit n: n days after Sunday (0–6); a 7 in the text is folded onto 0.
    weekdays: u64,
    /// Vixie's rule: when both day fields are restricted, a day matches if either does.
    /// "Restricted" is judged on the text, as Vixie cron and cronsim do: a field starting
    /// with `*` (also `*/2`) is not, and then both must match.
    either_day: bool,
    /// Minute and hour both do not start with `*`: the schedule reads the wall clock.
    fixed_time: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day of the month",
            Field::Month => "month",
            Field::DayOfWeek => "day of the week",
        }
    }

    fn bounds(self) -> (u32, u32) {
        match self {
            Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::DayOfMonth => (1, 31),
            Field::Month => (1, 12),
            Field::DayOfWeek => (0, 7),
        }
    }

    fn accepted(self) -> &'static str {
        match self {
            Field::Minute => "0–59",
            Field::Hour => "0–23",
            Field::DayOfMonth => "1–31",
            Field::Month => "1–12 or jan–dec",
            Field::DayOfWeek => "0–7 (0 and 7 are Sunday) or sun–sat",
        }
    }

    /// A name for a value, as crontab allows: three letters, any case.
    fn named(self, s: &str) -> Option<u32> {
        let (names, first): (&[&str], u32) = match self {
            Field::Month => (&MONTH_ABBREVS, 1),
            Field::DayOfWeek => (&WEEKDAY_ABBREVS, 0),
            _ => return None,
        };
        names.iter().position(|n| *n == s).map(|i| i as u32 + first)
    }
}

/// The bits lo..=hi.
fn bit_range(lo: u32, hi: u32) -> u64 {
    if lo > hi || hi > 63 {
        return 0;
    }
    (u64::MAX >> (63 - hi)) & (u64::MAX << lo)
}

/// The values in a bit set, ascending.
fn members(set: u64) -> impl Iterator<Item = u32> {
    (0..64).filter(move |n| set & (1 << n) != 0)
}

/// The smallest value in `set` that is at least `from`.
fn next_member(set: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let rest = set >> from;
    (rest != 0).then(|| from + rest.trailing_zeros())
}

impl Fields {
    /// Parses a lowercase 5-field crontab; `quoted` is the input as the person typed it.
    fn parse(crontab: &str, quoted: &str) -> Result<Self, Invalid> {
        let texts: Vec<&str> = crontab.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = texts[..] else {
            return Err(Invalid(format!("`{quoted}` is not a schedule: {HELP}")));
        };
        let minutes = parse_field(Field::Minute, minute, quoted)?;
        let hours = parse_field(Field::Hour, hour, quoted)?;
        let days = parse_field(Field::DayOfMonth, day, quoted)?;
        let months = parse_field(Field::Month, month, quoted)?;
        let mut weekdays = parse_field(Field::DayOfWeek, weekday, quoted)?;
        if weekdays & (1 << 7) != 0 {
            weekdays = (weekdays & !(1 << 7)) | 1;
        }
        let either_day = !day.starts_with('*') && !weekday.starts_with('*');
        let fields = Self {
            minutes,
            hours,
            days,
            months,
            weekdays,
            either_day,
            fixed_time: !minute.starts_with('*') && !hour.starts_with('*'),
        };
        fields.check_day_comes(quoted)?;
        Ok(fields)
    }

    /// Refuses `0 0 30 2 *`: when the day of month must match, some chosen month must
    /// have that day (as cronsim checks; with Vixie's either-day rule the weekday still fires).
    fn check_day_comes(&self, quoted: &str) -> Result<(), Invalid> {
        let Some(first_day) = next_member(self.days, 1) else {
            return Ok(());
        };
        if self.either_day || first_day <= 29 {
            return Ok(());
        }
        let chosen: Vec<u32> = members(self.months).collect();
        if chosen
            .iter()
            .any(|m| MAX_DAYS_IN_MONTH[*m as usize - 1] >= first_day)
        {
            return Ok(());
        }
        let names: Vec<String> = chosen
            .iter()
            .map(|m| MONTH_NAMES[*m as usize - 1].to_owned())
            .collect();
        let verb = if names.len() == 1 { "has" } else { "have" };
        Err(Invalid(format!(
            "`{quoted}`: {} never {verb} a day {first_day}",
            join_words(&names, "and")
        )))
    }

    fn month_matches(&self, month: u32) -> bool {
        self.months & (1 << month) != 0
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        if !self.month_matches(date.month()) {
            return false;
        }
        let by_day = self.days & (1 << date.day()) != 0;
        let by_weekday = self.weekdays & (1 << date.weekday().num_days_from_sunday()) != 0;
        if self.either_day {
            by_day || by_weekday
        } else {
            by_day && by_weekday
        }
    }

    /// The first matching time of day at or after hour:minute, on a day that matches.
    fn first_time_from(&self, hour: u32, minute: u32) -> Option<(u32, u32)> {
        if self.hours & (1 << hour) != 0 {
            if let Some(m) = next_member(self.minutes, minute) {
                return Some((hour, m));
            }
        }
        let h = next_member(self.hours, hour + 1)?;
        Some((h, next_member(self.minutes, 0)?))
    }

    /// The first matching wall-clock minute at or after `from` (a whole minute), on a date
    /// no later than `until`. Skips whole months and days, so a sparse schedule is cheap.
    fn next_wall_time(&self, from: NaiveDateTime, until: NaiveDate) -> Option<NaiveDateTime> {
        let mut date = from.date();
        let (mut hour, mut minute) = (from.hour(), from.minute());
        while date <= until {
            if !self.month_matches(date.month()) {
                date = first_of_next_month(date)?;
                (hour, minute) = (0, 0);
                continue;
            }
            if self.day_matches(date) {
                if let Some((h, m)) = self.first_time_from(hour, minute) {
                    return date.and_hms_opt(h, m, 0);
                }
            }
            date = date.succ_opt()?;
            (hour, minute) = (0, 0);
        }
        None
    }

    /// Fixed-time rule: the matching wall-clock minutes, in order, each placed on the
    /// timeline as cronsim does (the first occurrence; in a gap, the first minute after
    /// it); the first of those after `after`. Placing is monotone in wall-clock time, so
    /// the first wall-clock match that lands after `after` is the answer. Only one that
    /// falls in a repeated hour `after` is already past can land before it.
    fn next_on_wall_clock(
        &self,
        tz: Tz,
        after: NaiveDateTime,
        limit: NaiveDateTime,
    ) -> Option<NaiveDateTime> {
        let local_after = tz.from_utc_datetime(&after).naive_local();
        let mut from = next_whole_minute(local_after)?;
        let until = tz
            .from_utc_datetime(&limit)
            .naive_local()
            .date()
            .succ_opt()?;
        loop {
            let wall = self.next_wall_time(from, until)?;
            let at = place_wall_time(tz, wall)?;
            if at > limit {
                return None;
            }
            if at > after {
                return Some(at);
            }
            from = wall + TimeDelta::minutes(1);
        }
    }

    /// Real-time rule: the first whole minute after `after` whose local time matches.
    ///
    /// Goes day by local day (skipping days that cannot match); on a day, the instants
    /// that have that local date are split where the UTC offset changes, and within one
    /// offset local time runs with real time, so the first match there is one lookup. A
    /// clock turned back over midnight can put instants of the next local day before
    /// those of this one, hence the minimum over days until no later day can do better.
    fn next_in_real_time(
        &self,
        tz: Tz,
        after: NaiveDateTime,
        limit: NaiveDateTime,
    ) -> Option<NaiveDateTime> {
        let first = next_whole_minute(after)?;
        let mut date = (first - MAX_OFFSET).date();
        let mut best: Option<NaiveDateTime> = None;
        loop {
            let earliest_that_day = date.and_time(NaiveTime::MIN) - MAX_OFFSET;
            if earliest_that_day > limit || best.is_some_and(|b| earliest_that_day > b) {
                break;
            }
            if !self.month_matches(date.month()) {
                match first_of_next_month(date) {
                    Some(next) => date = next,
                    None => break,
                }
                continue;
            }
            if self.day_matches(date) {
                if let Some(at) = self.first_on_local_day(tz, date, first) {
                    best = Some(best.map_or(at, |b| b.min(at)));
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        best
    }

    /// The first instant at or after `first` whose local date is `date` and whose local
    /// time of day matches.
    fn first_on_local_day(
        &self,
        tz: Tz,
        date: NaiveDate,
        first: NaiveDateTime,
    ) -> Option<NaiveDateTime> {
        let midnight = date.and_time(NaiveTime::MIN);
        let next_midnight = midnight + TimeDelta::days(1);
        let lo = (midnight - MAX_OFFSET).max(first);
        let hi = next_midnight + MAX_OFFSET;
        if lo >= hi {
            return None;
        }
        for span in offset_spans(tz, lo, hi) {
            let from = round_up_to_minute(span.start + span.offset).max(midnight);
            let to = (span.end + span.offset).min(next_midnight);
            if from >= to {
                continue;
            }
            if let Some((h, m)) = self.first_time_from(from.hour(), from.minute()) {
                let wall = date.and_hms_opt(h, m, 0)?;
                if wall < to {
                    return Some(wall - span.offset);
                }
            }
        }
        None
    }
}

/// Every UTC offset in tzdb is within this of UTC (the largest is Manila's local mean time
/// before 1845, −15:56), so the instants with one local date lie within that day widened
/// by this on both sides.
const MAX_OFFSET: TimeDelta = TimeDelta::hours(16);

/// Offsets are probed this far apart when looking for a change, which finds every change as
/// long as no zone changes twice within it: in tzdb 2025b the closest two changes of one
/// zone's offset are four days apart (Freetown, 1939).
const PROBE_STEP: TimeDelta = TimeDelta::hours(6);

/// A stretch of UTC time [start, end) with one UTC offset.
struct Span {
    start: NaiveDateTime,
    end: NaiveDateTime,
    offset: TimeDelta,
}

fn offset_at(tz: Tz, utc: NaiveDateTime) -> TimeDelta {
    TimeDelta::seconds(i64::from(
        tz.offset_from_utc_datetime(&utc).fix().local_minus_utc(),
    ))
}

/// [lo, hi) cut where the offset of `tz` changes. chrono-tz does not expose its
/// transitions, so they are found by probing and bisecting.
fn offset_spans(tz: Tz, lo: NaiveDateTime, hi: NaiveDateTime) -> Vec<Span> {
    let mut spans = Vec::with_capacity(2);
    let (mut start, mut offset) = (lo, offset_at(tz, lo));
    let mut probed_to = lo;
    while probed_to < hi {
        let probe = (probed_to + PROBE_STEP).min(hi);
        if offset_at(tz, probe) == offset {
            probed_to = probe;
            continue;
        }
        let change = first_change(tz, probed_to, probe, offset);
        spans.push(Span {
            start,
            end: change,
            offset,
        });
        (start, offset) = (change, offset_at(tz, change));
        probed_to = change;
    }
    spans.push(Span {
        start,
        end: hi,
        offset,
    });
    spans
}

/// The first second in (ok, changed] whose offset is not `offset`, given one change there.
fn first_change(
    tz: Tz,
    ok: NaiveDateTime,
    changed: NaiveDateTime,
    offset: TimeDelta,
) -> NaiveDateTime {
    let (mut ok, mut changed) = (ok, changed);
    while changed - ok > TimeDelta::seconds(1) {
        let mid = ok + TimeDelta::seconds((changed - ok).num_seconds() / 2);
        if offset_at(tz, mid) == offset {
            ok = mid;
        } else {
            changed = mid;
        }
    }
    changed
}

/// Where cronsim puts a wall-clock time on the timeline: its first occurrence (fold 0); a
/// time in a spring-forward gap moves a minute at a time until it exists.
fn place_wall_time(tz: Tz, wall: NaiveDateTime) -> Option<NaiveDateTime> {
    let mut wall = wall;
    // The longest gap in tzdb is a day (Samoa, 2011).
    for _ in 0..=2 * 24 * 60 {
        match tz.from_local_datetime(&wall) {
            LocalResult::Single(at) => return Some(at.naive_utc()),
            LocalResult::Ambiguous(a, b) => return Some(a.naive_utc().min(b.naive_utc())),
            LocalResult::None => wall = wall.checked_add_signed(TimeDelta::minutes(1))?,
        }
    }
    None
}

/// The first whole minute strictly after `t`.
fn next_whole_minute(t: NaiveDateTime) -> Option<NaiveDateTime> {
    t.with_second(0)?
        .with_nanosecond(0)?
        .checked_add_signed(TimeDelta::minutes(1))
}

fn round_up_to_minute(t: NaiveDateTime) -> NaiveDateTime {
    if t.second() == 0 && t.nanosecond() == 0 {
        t
    } else {
        next_whole_minute(t).unwrap_or(t)
    }
}

fn first_of_next_month(date: NaiveDate) -> Option<NaiveDate> {
    match date.month() {
        12 => NaiveDate::from_ymd_opt(date.year() + 1, 1, 1),
        m => NaiveDate::from_ymd_opt(date.year(), m + 1, 1),
    }
}

/// One crontab field as a bit set, following cronsim (the oracle) where crontab dialects
/// differ: `5/15` is `5-59/15`, a step may exceed the range, and `*` may sit in a list.
fn parse_field(field: Field, text: &str, quoted: &str) -> Result<u64, Invalid> {
    let (lo, hi) = field.bounds();
    if text == "*" {
        return Ok(bit_range(lo, hi));
    }
    let mut set = 0;
    for term in text.split(',') {
        if term.is_empty() {
            return Err(Invalid(format!(
                "`{quoted}`: the {} `{}` has an empty item: separate values with single commas, as in `1,15`",
                field.name(),
                truncate_for_error(text)
            )));
        }
        set |= parse_term(field, term, quoted)?;
    }
    Ok(set)
}

fn parse_term(field: Field, term: &str, quoted: &str) -> Result<u64, Invalid> {
    let (lo, hi) = field.bounds();
    if term == "*" {
        return Ok(bit_range(lo, hi));
    }
    if let Some((base, step)) = term.split_once('/') {
        let step = match step.parse::<usize>() {
            Ok(n) if n > 0 && step.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => {
                return Err(Invalid(format!(
                    "`{quoted}`: the step in `{}` must be a whole number from 1 up, as in `*/15`",
                    truncate_for_error(term)
                )))
            }
        };
        let base = if base == "*" {
            bit_range(lo, hi)
        } else if base.contains('-') {
            parse_range(field, base, quoted)?
        } else {
            // A single start runs to the end of the field: `5/15` is `5-59/15`.
            bit_range(value(field, base, term, quoted)?, hi)
        };
        return Ok(members(base).step_by(step).fold(0, |set, v| set | (1 << v)));
    }
    if term.contains('-') {
        return parse_range(field, term, quoted);
    }
    Ok(1 << value(field, term, term, quoted)?)
}

fn parse_range(field: Field, range: &str, quoted: &str) -> Result<u64, Invalid> {
    let (start, end) = range.split_once('-').unwrap_or((range, ""));
    let start = value(field, start, range, quoted)?;
    let end = value(field, end, range, quoted)?;
    if end < start {
        let hint = if field == Field::DayOfWeek {
            " (Sunday is also 7, as in `5-7`)"
        } else {
            ""
        };
        return Err(Invalid(format!(
            "`{quoted}`: the {} range `{}` runs backwards: write the smaller value first{hint}",
            field.name(),
            truncate_for_error(range)
        )));
    }
    Ok(bit_range(start, end))
}

/// One value of a field: a number in range, or a name where the field has names.
fn value(field: Field, s: &str, term: &str, quoted: &str) -> Result<u32, Invalid> {
    if let Some(v) = field.named(s) {
        return Ok(v);
    }
    let (lo, hi) = field.bounds();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.parse::<u32>() {
            Ok(v) if (lo..=hi).contains(&v) => Ok(v),
            _ => Err(Invalid(format!(
                "`{quoted}`: {} {} is out of range {lo}–{hi}",
                field.name(),
                truncate_for_error(s)
            ))),
        };
    }
    Err(Invalid(format!(
        "`{quoted}`: `{}` is not a valid {}: use {}, `*`, lists (`1,15`), ranges (`1-5`) and steps (`*/15`)",
        truncate_for_error(term),
        field.name(),
        field.accepted()
    )))
}

// ---------------------------------------------------------------------------------------
// Words

impl Fields {
    /// A crontab in words, as far as it reads naturally; the field values otherwise.
    fn describe(&self, crontab: &str) -> String {
        let minute_text = crontab.split_whitespace().next().unwrap_or("");
        let days = self.describe_days();
        let months = self.describe_months();
        let day_part = match (days, months) {
            (None, None) => None,
            (None, Some(m)) => Some(format!("every day {m}")),
            (Some(d), None) => Some(d),
            (Some(d), Some(m)) => Some(format!("{d} {m}")),
        };
        match self.describe_times(minute_text) {
            Times::At(at) => format!("{} {at}", day_part.as_deref().unwrap_or("every day")),
            Times::Every(every) => match day_part {
                None => every,
                Some(d) => format!("{every}, {d}"),
            },
        }
    }

    fn describe_times(&self, minute_text: &str) -> Times {
        let minutes: Vec<u32> = members(self.minutes).collect();
        let hours: Vec<u32> = members(self.hours).collect();
        if hours.len() < 24 && minutes.len() * hours.len() <= 4 {
            let times: Vec<String> = hours
                .iter()
                .flat_map(|h| minutes.iter().map(move |m| format!("{h:02}:{m:02}")))
                .collect();
            return Times::At(format!("at {}", join_words(&times, "and")));
        }
        let step = minute_text
            .strip_prefix("*/")
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| 60 % n == 0);
        let every = if minutes.len() == 60 {
            "every minute".to_owned()
        } else if let Some(n) = step {
            format!("every {n} minutes")
        } else if hours.len() == 24 && minutes == [0] {
            return Times::Every("every hour, on the hour".to_owned());
        } else if hours.len() == 24 {
            return Times::Every(format!(
                "every hour at minute{} {}",
                plural(minutes.len()),
                number_ranges(self.minutes)
            ));
        } else {
            return Times::Every(format!(
                "at minute{} {} past hour{} {}",
                plural(minutes.len()),
                number_ranges(self.minutes),
                plural(hours.len()),
                number_ranges(self.hours)
            ));
        };
        if hours.len() == 24 {
            Times::Every(every)
        } else {
            Times::Every(format!(
                "{every} during hour{} {}",
                plural(hours.len()),
                number_ranges(self.hours)
            ))
        }
    }

    fn describe_days(&self) -> Option<String> {
        let every_date = self.days == bit_range(1, 31);
        let every_weekday = self.weekdays == bit_range(0, 6);
        // Monday first, as a working week reads.
        let weekday_names = |joiner: &str| {
            let names: Vec<String> = (1..=7)
                .map(|d| d % 7)
                .filter(|d| self.weekdays & (1 << d) != 0)
                .map(|d| WEEKDAY_NAMES[d as usize].to_owned())
                .collect();
            join_words(&names, joiner)
        };
        let weekdays = || {
            if self.weekdays == bit_range(1, 5) {
                "every weekday".to_owned()
            } else {
                format!("every {}", weekday_names("and"))
            }
        };
        let dates = |joiner: &str| {
            let days: Vec<u32> = members(self.days).collect();
            if days.len() <= 4 {
                let ordinals: Vec<String> = days.iter().map(|d| ordinal(*d)).collect();
                format!("the {} of the month", join_words(&ordinals, joiner))
            } else {
                format!("days {} of the month", number_ranges(self.days))
            }
        };
        match (every_date, every_weekday) {
            (true, true) => None,
            (true, false) => Some(weekdays()),
            (false, true) => Some(format!("on {}", dates("and"))),
            (false, false) if self.either_day => {
                Some(format!("on {} and {}", dates("and"), weekdays()))
            }
            (false, false) => Some(format!(
                "every {} that falls on {}",
                weekday_names("or"),
                dates("or")
            )),
        }
    }

    fn describe_months(&self) -> Option<String> {
        if self.months == bit_range(1, 12) {
            return None;
        }
        let names: Vec<String> = members(self.months)
            .map(|m| MONTH_NAMES[m as usize - 1].to_owned())
            .collect();
        Some(format!("in {}", join_words(&names, "and")))
    }
}

enum Times {
    /// A few times of day: "at 09:00 and 17:00".
    At(String),
    /// A repetition: "every 15 minutes".
    Every(String),
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// "a", "a and b", "a, b and c".
fn join_words(items: &[String], last: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., tail] => format!("{} {last} {tail}", init.join(", ")),
    }
}

/// A bit set as "0, 15–30 and 45": runs of three or more become ranges.
fn number_ranges(set: u64) -> String {
    let values: Vec<u32> = members(set).collect();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == values[j] + 1 {
            j += 1;
        }
        if j - i >= 2 {
            parts.push(format!("{}–{}", values[i], values[j]));
        } else {
            parts.extend(values[i..=j].iter().map(|v| v.to_string()));
        }
        i = j + 1;
    }
    join_words(&parts, "and")
}

/// 1st, 2nd, 3rd, 4th, 11th, 21st.
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    use std::time::Instant;

    use chrono::SecondsFormat;
    use chrono_tz::America::New_York;
    use chrono_tz::Australia::Lord_Howe;
    use chrono_tz::Europe::Berlin;
    use chrono_tz::Pacific::Chatham;
    use chrono_tz::UTC;
    use proptest::prelude::*;

    use super::*;

    fn spec(raw: &str) -> ScheduleSpec {
        ScheduleSpec::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn err(raw: &str) -> String {
        match ScheduleSpec::parse(raw) {
            Ok(s) => panic!("{raw} should be refused, read as {s}"),
            Err(e) => e.0,
        }
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().expect("a test instant")
    }

    fn utc_text(t: DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    }

    /// Firings as local times with their offsets, the way a person checks them.
    fn local_firings(raw: &str, tz: Tz, after: &str, n: usize) -> Vec<String> {
        spec(raw)
            .upcoming(tz, at(after), n)
            .iter()
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M%:z").to_string())
            .collect()
    }

    #[test]
    fn crontab_and_friendly_forms_read_to_a_canonical_text() {
        let cases = [
            ("0 9 * * mon", "0 9 * * mon", "0 9 * * mon"),
            ("  0  9 * *\tMON ", "0 9 * * mon", "0 9 * * mon"),
            (
                "*/15 9-17 * * 1-5",
                "*/15 9-17 * * 1-5",
                "*/15 9-17 * * 1-5",
            ),
            (
                "0 0 1,15 Jan-Jun *",
                "0 0 1,15 jan-jun *",
                "0 0 1,15 jan-jun *",
            ),
            ("0 9 * * 7", "0 9 * * 7", "0 9 * * 7"),
            ("daily 9:30", "daily 09:30", "30 9 * * *"),
            ("Weekdays 10:00", "weekdays 10:00", "0 10 * * 1-5"),
            ("weekly Friday 16:00", "weekly fri 16:00", "0 16 * * 5"),
            ("weekly sun 08:05", "weekly sun 08:05", "5 8 * * 0"),
            ("hourly", "hourly", "0 * * * *"),
            ("every hour", "hourly", "0 * * * *"),
            ("every 15 minutes", "every 15 minutes", "*/15 * * * *"),
            ("every 1 min", "every minute", "* * * * *"),
        ];
        for (raw, text, crontab) in cases {
            let s = spec(raw);
            assert_eq!(s.to_string(), text, "{raw}");
            assert_eq!(s.crontab(), crontab, "{raw}");
            assert_eq!(spec(text), s, "{raw} does not read back");
        }
        let json = serde_json::to_string(&spec("Weekly FRI 16:00")).unwrap();
        assert_eq!(json, "\"weekly fri 16:00\"");
        assert_eq!(
            serde_json::from_str::<ScheduleSpec>(&json).unwrap(),
            spec("weekly fri 16:00")
        );
        assert!(serde_json::from_str::<ScheduleSpec>("\"61 * * * *\"")
            .unwrap_err()
            .to_string()
            .contains("out of range"));
    }

    #[test]
    fn a_schedule_is_at_most_200_characters() {
        // A long valid crontab within the limit still parses; past it, refused.
        let minutes: Vec<String> = (0..60).map(|m| m.to_string()).collect();
        let mut list = minutes.join(",");
        let tail = " * * * *";
        while list.len() + tail.len() > MAX_SPEC_CHARS {
            list.truncate(list.rfind(',').unwrap());
        }
        assert!(ScheduleSpec::parse(&format!("{list}{tail}")).is_ok());
        let long = format!("{list},59,58,57,56,55,54,53,52,51,50,49,48,47,46,45,44,43,42{tail}");
        assert!(long.len() > MAX_SPEC_CHARS);
        let e = err(&long);
        assert!(e.contains("at most 200 characters"), "{e}");
        assert!(e.contains('…'), "the echo is truncated: {e}");
        assert!(err(&"x".repeat(100_000)).contains("at most 200 characters"));
    }

    #[test]
    fn bad_schedules_say_what_is_wrong_and_what_is_accepted() {
        assert_eq!(
            err("61 * * * *"),
            "`61 * * * *`: minute 61 is out of range 0–59"
        );
        assert_eq!(
            err("weekly funday 10:00"),
            "`weekly funday 10:00` is not a schedule: use 5-field crontab (`0 9 * * mon`) or `daily 09:30`, `weekdays 10:00`, `weekly fri 16:00`"
        );
        assert_eq!(
            err("0 24 * * *"),
            "`0 24 * * *`: hour 24 is out of range 0–23"
        );
        assert_eq!(
            err("0 9 0 * *"),
            "`0 9 0 * *`: day of the month 0 is out of range 1–31"
        );
        assert_eq!(
            err("0 9 * 13 *"),
            "`0 9 * 13 *`: month 13 is out of range 1–12"
        );
        assert_eq!(
            err("0 9 * * 8"),
            "`0 9 * * 8`: day of the week 8 is out of range 0–7"
        );
        assert_eq!(
            err("99999999999 * * * *"),
            "`99999999999 * * * *`: minute 99999999999 is out of range 0–59"
        );
        assert_eq!(
            err("0 9 * * fun"),
            "`0 9 * * fun`: `fun` is not a valid day of the week: use 0–7 (0 and 7 are Sunday) or sun–sat, `*`, lists (`1,15`), ranges (`1-5`) and steps (`*/15`)"
        );
        assert_eq!(
            err("0 9 * * fri-sun"),
            "`0 9 * * fri-sun`: the day of the week range `fri-sun` runs backwards: write the smaller value first (Sunday is also 7, as in `5-7`)"
        );
        assert_eq!(
            err("*/0 * * * *"),
            "`*/0 * * * *`: the step in `*/0` must be a whole number from 1 up, as in `*/15`"
        );
        assert_eq!(
            err("1,,2 * * * *"),
            "`1,,2 * * * *`: the minute `1,,2` has an empty item: separate values with single commas, as in `1,15`"
        );
        assert_eq!(
            err("0 0 30 2 *"),
            "`0 0 30 2 *`: February never has a day 30"
        );
        assert_eq!(
            err("0 0 31 apr,jun *"),
            "`0 0 31 apr,jun *`: April and June never have a day 31"
        );
        assert_eq!(
            err("daily 25:00"),
            "`daily 25:00`: `25:00` is not a time of day: use HH:MM, from 00:00 to 23:59"
        );
        assert_eq!(
            err("every 7 minutes"),
            "`every 7 minutes`: the minutes must divide an hour evenly: 1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30"
        );
        assert!(err("  ").starts_with("a schedule cannot be empty: use 5-field crontab"));
        for not_a_schedule in ["0 9 * *", "0 9 * * * *", "@daily", "daily", "weekly 16:00"] {
            assert!(
                err(not_a_schedule).contains("is not a schedule: use 5-field crontab"),
                "{not_a_schedule}"
            );
        }
        // Dialects this crontab does not speak (Quartz, cronie extensions) are refused.
        for other in ["0 9 * * mon#2", "0 0 L * *", "0 9 ? * mon", "0 9 * * 5L"] {
            assert!(err(other).contains("is not a valid"), "{other}");
        }
        assert!(
            err(&"1".repeat(200)).contains('…'),
            "long input is cut short"
        );
        // With Vixie's either-day rule a weekday still fires in a month without the day.
        assert!(ScheduleSpec::parse("0 0 30 2 mon").is_ok());
    }

    #[test]
    fn descriptions_read_as_words() {
        let cases = [
            ("weekly fri 16:00", "every Friday at 16:00"),
            ("daily 09:30", "every day at 09:30"),
            (
                "weekdays 10:00",
                "every weekday (Monday to Friday) at 10:00",
            ),
            ("hourly", "every hour, on the hour"),
            ("every 15 minutes", "every 15 minutes"),
            ("0 9 * * mon", "every Monday at 09:00"),
            ("0 9 * * 1-5", "every weekday at 09:00"),
            ("0 9 * * sat,7", "every Saturday and Sunday at 09:00"),
            ("0 9,17 * * *", "every day at 09:00 and 17:00"),
            ("30 8 1,15 * *", "on the 1st and 15th of the month at 08:30"),
            (
                "*/15 9-17 * * mon-fri",
                "every 15 minutes during hours 9–17, every weekday",
            ),
            (
                "0 9 13 * fri",
                "on the 13th of the month and every Friday at 09:00",
            ),
            (
                "0 0 1 jan,jul *",
                "on the 1st of the month in January and July at 00:00",
            ),
            ("5 * * * *", "every hour at minute 5"),
            (
                "0 9 1-7 * */7",
                "every Sunday that falls on days 1–7 of the month at 09:00",
            ),
            (
                "0 9 */10 * fri",
                "every Friday that falls on the 1st, 11th, 21st or 31st of the month at 09:00",
            ),
            ("0,30 9-17 * * *", "at minutes 0 and 30 past hours 9–17"),
        ];
        for (raw, words) in cases {
            assert_eq!(spec(raw).describe(), words, "{raw}");
        }
    }

    #[test]
    fn both_day_fields_restricted_means_either_one() {
        let either = spec("0 9 13 * fri").upcoming(UTC, at("2026-11-01T00:00:00Z"), 8);
        let days: Vec<String> = either
            .iter()
            .map(|t| t.format("%b %d").to_string())
            .collect();
        assert_eq!(
            days,
            ["Nov 06", "Nov 13", "Nov 20", "Nov 27", "Dec 04", "Dec 11", "Dec 13", "Dec 18"]
        );
        // A field that starts with `*` does not count as restricted (Vixie, cronsim): both
        // must match, here odd days that are Fridays.
        let both = spec("0 9 */2 * fri").upcoming(UTC, at("2026-11-01T00:00:00Z"), 4);
        let days: Vec<String> = both.iter().map(|t| t.format("%b %d").to_string()).collect();
        assert_eq!(days, ["Nov 13", "Nov 27", "Dec 11", "Dec 25"]);
        // 0 and 7 are both Sunday.
        assert_eq!(
            spec("0 9 * * 0").upcoming(UTC, at("2026-11-01T00:00:00Z"), 3),
            spec("0 9 * * 7").upcoming(UTC, at("2026-11-01T00:00:00Z"), 3)
        );
    }

    #[test]
    fn firings_are_strictly_after_the_instant_given() {
        let s = spec("0 9 * * *");
        assert_eq!(
            s.next_after(UTC, at("2026-06-01T09:00:00Z")),
            Some(at("2026-06-02T09:00:00Z"))
        );
        assert_eq!(
            s.next_after(UTC, at("2026-06-01T08:59:59Z")),
            Some(at("2026-06-01T09:00:00Z"))
        );
        let half_second: DateTime<Utc> = at("2026-06-01T08:59:59.500Z");
        assert_eq!(
            s.next_after(UTC, half_second),
            Some(at("2026-06-01T09:00:00Z"))
        );
    }

    #[test]
    fn new_york_spring_forward() {
        // 2026-03-08: 02:00 EST becomes 03:00 EDT; 02:30 does not exist.
        assert_eq!(
            local_firings("30 2 * * *", New_York, "2026-03-06T12:00:00Z", 4),
            [
                "2026-03-07 02:30-05:00",
                "2026-03-08 03:00-04:00",
                "2026-03-09 02:30-04:00",
                "2026-03-10 02:30-04:00",
            ]
        );
        // Real time: nothing in the hour that does not exist.
        assert_eq!(
            local_firings("*/30 * * * *", New_York, "2026-03-08T05:50:00Z", 4),
            [
                "2026-03-08 01:00-05:00",
                "2026-03-08 01:30-05:00",
                "2026-03-08 03:00-04:00",
                "2026-03-08 03:30-04:00",
            ]
        );
    }

    #[test]
    fn new_york_fall_back() {
        // 2026-11-01: 02:00 EDT becomes 01:00 EST; 01:00–01:59 happens twice, 02:30 once.
        assert_eq!(
            local_firings("30 2 * * *", New_York, "2026-10-31T12:00:00Z", 3),
            [
                "2026-11-01 02:30-05:00",
                "2026-11-02 02:30-05:00",
                "2026-11-03 02:30-05:00",
            ]
        );
        // A fixed time in the repeated hour fires once, the first time (05:30Z).
        assert_eq!(
            local_firings("30 1 * * *", New_York, "2026-10-31T12:00:00Z", 2),
            ["2026-11-01 01:30-04:00", "2026-11-02 01:30-05:00"]
        );
        assert_eq!(
            spec("30 1 * * *").next_after(New_York, at("2026-10-31T12:00:00Z")),
            Some(at("2026-11-01T05:30:00Z"))
        );
        // From inside the second pass (01:10 EST) the firing of this night is behind us.
        // (cronsim, reading the wall clock, would answer 01:30 EDT: 20 minutes earlier
        // than the instant asked about.)
        assert_eq!(
            local_firings("30 1 * * *", New_York, "2026-11-01T06:10:00Z", 1),
            ["2026-11-02 01:30-05:00"]
        );
        assert_eq!(
            local_firings("30 1 * * *", New_York, "2026-11-01T05:10:00Z", 1),
            ["2026-11-01 01:30-04:00"]
        );
        // Real time: both passes of the repeated hour fire.
        assert_eq!(
            local_firings("*/30 * * * *", New_York, "2026-11-01T04:10:00Z", 6),
            [
                "2026-11-01 00:30-04:00",
                "2026-11-01 01:00-04:00",
                "2026-11-01 01:30-04:00",
                "2026-11-01 01:00-05:00",
                "2026-11-01 01:30-05:00",
                "2026-11-01 02:00-05:00",
            ]
        );
    }

    #[test]
    fn berlin_both_changes() {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST. 2026-10-25: 03:00 CEST becomes 02:00 CET.
        assert_eq!(
            local_firings("30 2 * * *", Berlin, "2026-03-28T12:00:00Z", 2),
            ["2026-03-29 03:00+02:00", "2026-03-30 02:30+02:00"]
        );
        assert_eq!(
            local_firings("30 2 * * *", Berlin, "2026-10-24T12:00:00Z", 2),
            ["2026-10-25 02:30+02:00", "2026-10-26 02:30+01:00"]
        );
        // The hour is fixed but the minute field starts with `*`: real time.
        assert_eq!(
            local_firings("*/30 2 * * *", Berlin, "2026-03-28T12:00:00Z", 2),
            ["2026-03-30 02:00+02:00", "2026-03-30 02:30+02:00"]
        );
        assert_eq!(
            local_firings("*/30 2 * * *", Berlin, "2026-10-24T12:00:00Z", 5),
            [
                "2026-10-25 02:00+02:00",
                "2026-10-25 02:30+02:00",
                "2026-10-25 02:00+01:00",
                "2026-10-25 02:30+01:00",
                "2026-10-26 02:00+01:00",
            ]
        );
    }

    #[test]
    fn lord_howe_half_hour_changes() {
        // 2026-04-05: 02:00 +11 becomes 01:30 +10:30, so 01:30–01:59 happens twice.
        // 2026-10-04: 02:00 +10:30 becomes 02:30 +11, so 02:00–02:29 does not exist.
        assert_eq!(
            local_firings("45 1 * * *", Lord_Howe, "2026-04-04T00:00:00Z", 2),
            ["2026-04-05 01:45+11:00", "2026-04-06 01:45+10:30"]
        );
        assert_eq!(
            local_firings("15 2 * * *", Lord_Howe, "2026-10-03T00:00:00Z", 2),
            ["2026-10-04 02:30+11:00", "2026-10-05 02:15+11:00"]
        );
        assert_eq!(
            local_firings("*/15 1 * * *", Lord_Howe, "2026-04-04T12:00:00Z", 7),
            [
                "2026-04-05 01:00+11:00",
                "2026-04-05 01:15+11:00",
                "2026-04-05 01:30+11:00",
                "2026-04-05 01:45+11:00",
                "2026-04-05 01:30+10:30",
                "2026-04-05 01:45+10:30",
                "2026-04-06 01:00+10:30",
            ]
        );
        assert_eq!(
            local_firings("*/30 2 * * *", Lord_Howe, "2026-10-03T12:00:00Z", 2),
            ["2026-10-04 02:30+11:00", "2026-10-05 02:00+11:00"]
        );
        // 03:00 exists on the day clocks go forward. (cronsim steps a whole hour from 01:00
        // +10:30, lands on 03:30 and so starts there.)
        assert_eq!(
            local_firings("*/15 3 * * *", Lord_Howe, "2026-10-03T12:00:00Z", 4),
            [
                "2026-10-04 03:00+11:00",
                "2026-10-04 03:15+11:00",
                "2026-10-04 03:30+11:00",
                "2026-10-04 03:45+11:00",
            ]
        );
    }

    #[test]
    fn chatham_changes_at_a_quarter_to() {
        // 2026-04-05: 03:45 +13:45 becomes 02:45 +12:45. (cronsim goes round 03:00–03:30
        // +13:45 for ever here.)
        assert_eq!(
            local_firings("*/15 3 * * *", Chatham, "2026-04-04T12:00:00Z", 8),
            [
                "2026-04-05 03:00+13:45",
                "2026-04-05 03:15+13:45",
                "2026-04-05 03:30+13:45",
                "2026-04-05 03:00+12:45",
                "2026-04-05 03:15+12:45",
                "2026-04-05 03:30+12:45",
                "2026-04-05 03:45+12:45",
                "2026-04-06 03:00+12:45",
            ]
        );
        // 2026-09-27: 02:45 +12:45 becomes 03:45 +13:45.
        assert_eq!(
            local_firings("0 3 * * *", Chatham, "2026-09-26T00:00:00Z", 2),
            ["2026-09-27 03:45+13:45", "2026-09-28 03:00+13:45"]
        );
        assert_eq!(
            local_firings("*/15 3 * * *", Chatham, "2026-09-26T12:00:00Z", 2),
            ["2026-09-27 03:45+13:45", "2026-09-28 03:00+13:45"]
        );
    }

    #[test]
    fn sparse_schedules_do_not_scan_minute_by_minute() {
        assert_eq!(
            local_firings("0 0 29 2 *", UTC, "2025-03-01T00:00:00Z", 2),
            ["2028-02-29 00:00+00:00", "2032-02-29 00:00+00:00"]
        );
        // 2100 is not a leap year: the next 29 February is beyond the lookahead.
        assert_eq!(
            spec("0 0 29 2 *").next_after(UTC, at("2096-03-01T00:00:00Z")),
            None
        );
        let mondays = spec("0 9 * * mon").upcoming(New_York, at("2025-01-01T00:00:00Z"), 300);
        assert_eq!(mondays.len(), 300);
        assert!(mondays.iter().all(|t| {
            let local = t.with_timezone(&New_York);
            local.weekday() == Weekday::Mon && (local.hour(), local.minute()) == (9, 0)
        }));
        // A thousand far-apart firings, both rules: minute by minute this would be billions
        // of steps; it must take well under the bound even in a debug build on a busy box.
        let started = Instant::now();
        for raw in ["0 0 29 2 *", "* * 29 2 *", "0 9 31 dec *", "*/5 3 1 jan *"] {
            let s = spec(raw);
            let mut after = at("2025-01-01T00:00:00Z");
            for _ in 0..250 {
                match s.next_after(Lord_Howe, after) {
                    Some(next) => after = next,
                    None => after = at("2025-01-01T00:00:00Z"),
                }
            }
        }
        assert!(
            started.elapsed().as_secs() < 10,
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn far_instants_give_none_not_a_panic() {
        let s = spec("* * * * *");
        assert_eq!(s.next_after(UTC, DateTime::<Utc>::MAX_UTC), None);
        assert_eq!(s.next_after(Lord_Howe, DateTime::<Utc>::MIN_UTC), None);
        assert!(s.next_after(UTC, at("9000-12-31T23:59:00Z")).is_some());
    }

    // -----------------------------------------------------------------------------------
    // References to compare against

    /// The rules, minute by minute: slow and plainly right. `None` if nothing fires in
    /// (after, until].
    fn reference_next(
        s: &ScheduleSpec,
        tz: Tz,
        after: NaiveDateTime,
        until: NaiveDateTime,
    ) -> Option<NaiveDateTime> {
        let f = &s.fields;
        let matches = |wall: NaiveDateTime| {
            f.day_matches(wall.date())
                && f.hours & (1 << wall.hour()) != 0
                && f.minutes & (1 << wall.minute()) != 0
        };
        let minute = TimeDelta::minutes(1);
        if f.fixed_time {
            // Every matching wall-clock minute near the span, placed on the timeline; the
            // earliest placed after `after`.
            let mut wall =
                tz.from_utc_datetime(&after).naive_local().with_second(0)? - TimeDelta::days(2);
            let end = tz.from_utc_datetime(&until).naive_local() + TimeDelta::days(2);
            let mut best: Option<NaiveDateTime> = None;
            while wall <= end {
                if matches(wall) {
                    let mut real = wall;
                    let placed = loop {
                        match tz.from_local_datetime(&real) {
                            LocalResult::Single(t) => break t.naive_utc(),
                            LocalResult::Ambiguous(a, b) => break a.naive_utc().min(b.naive_utc()),
                            LocalResult::None => real += minute,
                        }
                    };
                    if placed > after && placed <= until && best.is_none_or(|b| placed < b) {
                        best = Some(placed);
                    }
                }
                wall += minute;
            }
            best
        } else {
            let mut t = after.with_second(0)?.with_nanosecond(0)? + minute;
            while t <= until {
                if matches(tz.from_utc_datetime(&t).naive_local()) {
                    return Some(t);
                }
                t += minute;
            }
            None
        }
    }

    /// Crontab fields for generated schedules: realistic ones, weighted towards the small
    /// hours where clocks change.
    const MINUTE_FIELDS: &[&str] = &[
        "0",
        "30",
        "15",
        "45",
        "*/15",
        "*/30",
        "*/5",
        "*",
        "0,30",
        "15-45/15",
        "5/20",
        "10-20",
        "0-59/7",
        "*/7",
        "59",
        "1",
        "20-40/10",
        "0,15,30,45",
        "*/20",
    ];
    const HOUR_FIELDS: &[&str] = &[
        "*", "0", "1", "2", "3", "4", "9", "12", "23", "1-3", "2,3", "*/2", "*/3", "0-6", "9-17",
        "1,2", "22-23", "*/6", "2-4/2", "1-2", "3/4", "*",
    ];
    const DAY_FIELDS: &[&str] = &[
        "*", "*", "*", "*", "*", "1", "15", "1,15", "29", "30", "31", "*/2", "1-7", "10-20/3",
        "25-31", "5",
    ];
    const MONTH_FIELDS: &[&str] = &[
        "*",
        "*",
        "*",
        "*",
        "*",
        "*",
        "jan",
        "3",
        "mar,nov",
        "4-10",
        "*/3",
        "feb",
        "oct-dec",
        "APR",
        "Mar-Nov/2",
        "10",
        "11",
        "9",
        "sep-apr",
    ];
    const WEEKDAY_FIELDS: &[&str] = &[
        "*",
        "*",
        "*",
        "*",
        "*",
        "mon",
        "1-5",
        "mon-fri",
        "0",
        "7",
        "sun",
        "sat,sun",
        "*/2",
        "1,3,5",
        "MON",
        "5-7",
        "tue-thu/2",
        "Sun",
        "6",
    ];
    /// Fields cronsim refuses too, for checking that both refuse the same things.
    const BAD_FIELDS: &[&str] = &["60", "24", "0-", "5-3", "*/0", "x", "1,,2", "8", "13"];

    const ZONES: [Tz; 7] = [
        New_York,
        Berlin,
        Lord_Howe,
        chrono_tz::Asia::Kolkata,
        chrono_tz::America::Sao_Paulo,
        Chatham,
        UTC,
    ];

    /// The instants in 2025–2028 at which a zone's offset changes.
    fn transitions(tz: Tz) -> Vec<NaiveDateTime> {
        let from = at("2025-01-01T00:00:00Z").naive_utc();
        let to = at("2029-01-01T00:00:00Z").naive_utc();
        offset_spans(tz, from, to)
            .into_iter()
            .skip(1)
            .map(|span| span.start)
            .collect()
    }

    /// SplitMix64: a small seeded generator, so a failing run can be repeated exactly.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }

        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }
    }

    /// A schedule as a person might type it: mostly crontab, sometimes a friendly form.
    fn random_schedule(rng: &mut Rng) -> String {
        let clock = |rng: &mut Rng| {
            let hour = if rng.chance(60) {
                rng.below(5)
            } else {
                rng.below(24)
            };
            let minute = [0, 15, 30, 45, rng.below(60)][rng.below(5)];
            format!("{hour:02}:{minute:02}")
        };
        match rng.below(20) {
            0 => return format!("daily {}", clock(rng)),
            1 => return format!("weekdays {}", clock(rng)),
            2 => {
                let day = rng.pick(&["mon", "tue", "wed", "thu", "fri", "sat", "sun", "Friday"]);
                return format!("weekly {day} {}", clock(rng));
            }
            3 if rng.chance(30) => return "hourly".to_owned(),
            3 => return format!("every {} minutes", rng.pick(&["5", "10", "15", "20", "30"])),
            _ => {}
        }
        let mut fields = [
            rng.pick(MINUTE_FIELDS).to_owned(),
            rng.pick(HOUR_FIELDS).to_owned(),
            rng.pick(DAY_FIELDS).to_owned(),
            rng.pick(MONTH_FIELDS).to_owned(),
            rng.pick(WEEKDAY_FIELDS).to_owned(),
        ];
        if rng.chance(25) {
            fields[0] = rng.below(60).to_string();
        }
        if rng.chance(25) {
            fields[1] = rng.below(24).to_string();
        }
        if rng.chance(3) {
            fields[rng.below(5)] = rng.pick(BAD_FIELDS).to_owned();
        }
        fields.join(" ")
    }

    /// A start instant: half of them within a day and a half of a clock change.
    fn random_start(rng: &mut Rng, changes: &[NaiveDateTime]) -> DateTime<Utc> {
        let seconds = if rng.chance(70) {
            0
        } else {
            rng.below(60) as i64
        };
        let base = if !changes.is_empty() && rng.chance(50) {
            let change = changes[rng.below(changes.len())];
            let minutes = rng.below(36 * 60 * 2) as i64 - 36 * 60;
            change + TimeDelta::minutes(minutes)
        } else {
            let from = at("2025-01-01T00:00:00Z").naive_utc();
            from + TimeDelta::minutes(rng.below(4 * 366 * 24 * 60) as i64)
        };
        (base + TimeDelta::seconds(seconds)).and_utc()
    }

    // -----------------------------------------------------------------------------------
    // Properties

    fn arbitrary_spec() -> impl Strategy<Value = ScheduleSpec> {
        any::<u64>().prop_filter_map("a schedule that parses", |seed| {
            ScheduleSpec::parse(&random_schedule(&mut Rng(seed))).ok()
        })
    }

    fn arbitrary_zone() -> impl Strategy<Value = Tz> {
        prop::sample::select(ZONES.to_vec())
    }

    proptest! {
        #[test]
        fn any_text_is_a_schedule_or_a_refusal(
            raw in "\\PC{0,60}",
            shaped in "[0-9a-zA-Z*,/: -]{0,30}",
            words in prop::collection::vec("[0-9a-z*,/:-]{0,6}", 0..7),
        ) {
            let _ = ScheduleSpec::parse(&raw);
            let _ = ScheduleSpec::parse(&shaped);
            if let Ok(s) = ScheduleSpec::parse(&words.join(" ")) {
                prop_assert_eq!(ScheduleSpec::parse(s.as_str()), Ok(s.clone()));
                let _ = s.describe();
            }
        }

        #[test]
        fn firings_strictly_increase(
            s in arbitrary_spec(),
            tz in arbitrary_zone(),
            seconds in -5_000_000_000i64..10_000_000_000,
        ) {
            let Some(after) = DateTime::from_timestamp(seconds, 0) else { return Ok(()) };
            let mut previous = after;
            for next in s.iter_after(tz, after).take(6) {
                prop_assert!(next > previous, "{} then {} for `{}` in {}", previous, next, s, tz);
                previous = next;
            }
        }

        #[test]
        fn firings_follow_the_rules_minute_by_minute(
            s in arbitrary_spec(),
            tz in arbitrary_zone(),
            seed in any::<u64>(),
        ) {
            let mut rng = Rng(seed);
            let after = random_start(&mut rng, &transitions(tz)).naive_utc();
            let until = after + TimeDelta::days(3);
            let ours = s.next_after(tz, after.and_utc()).map(|t| t.naive_utc()).filter(|t| *t <= until);
            prop_assert_eq!(ours, reference_next(&s, tz, after, until), "`{}` in {} after {}", s, tz, after);
        }
    }

    /// The `cron` crate as a second opinion where its rules are ours: in UTC, with at most
    /// one day field restricted (it always ANDs them), and its day of week renumbered (it
    /// counts 1–7 from Sunday).
    #[test]
    fn agrees_with_the_cron_crate_in_utc() {
        let mut rng = Rng(7);
        let mut compared = 0;
        for _ in 0..600 {
            let Ok(s) = ScheduleSpec::parse(&random_schedule(&mut rng)) else {
                continue;
            };
            if s.fields.either_day {
                continue;
            }
            let texts: Vec<&str> = s.crontab().split_whitespace().collect();
            let weekdays = if texts[4].starts_with('*') && s.fields.weekdays == bit_range(0, 6) {
                "*".to_owned()
            } else {
                members(s.fields.weekdays)
                    .map(|d| (d + 1).to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let quartz = format!(
                "0 {} {} {} {} {weekdays}",
                texts[0], texts[1], texts[2], texts[3]
            );
            // It refuses a few forms crontab allows (a step beyond the field, `7` etc.).
            let Ok(theirs) = quartz.parse::<cron::Schedule>() else {
                continue;
            };
            let start = random_start(&mut rng, &[]);
            let expected: Vec<DateTime<Utc>> = theirs.after(&start).take(5).collect();
            assert_eq!(
                s.upcoming(UTC, start, 5),
                expected,
                "`{s}` (cron crate: `{quartz}`) after {start}"
            );
            compared += 1;
        }
        assert!(compared > 300, "only {compared} compared");
    }

    // -----------------------------------------------------------------------------------
    // The differential test against cronsim

    struct OracleCase {
        raw: String,
        spec: Result<ScheduleSpec, Invalid>,
        tz: Tz,
        start: DateTime<Utc>,
        n: usize,
    }

    /// Runs tests/oracle/cronsim_oracle.py once for all cases; one JSON reply per case.
    fn ask_cronsim(python: &str, cases: &[OracleCase]) -> Vec<serde_json::Value> {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/oracle/cronsim_oracle.py"
        );
        let mut child = Command::new(python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} {script}: {e}"));
        let input: String = cases
            .iter()
            .map(|c| {
                let expr = match &c.spec {
                    Ok(s) => s.crontab().to_owned(),
                    Err(_) => c.raw.clone(),
                };
                let line = serde_json::json!({
                    "expr": expr,
                    "tz": c.tz.name(),
                    "start": utc_text(c.start),
                    "n": c.n,
                    "horizon_days": LOOKAHEAD_DAYS,
                });
                format!("{line}\n")
            })
            .collect();
        let mut stdin = child.stdin.take().expect("piped stdin");
        // Written from another thread so neither side blocks on a full pipe.
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let stdout = child.stdout.take().expect("piped stdout");
        let replies: Vec<serde_json::Value> = BufReader::new(stdout)
            .lines()
            .map(|line| serde_json::from_str(&line.expect("oracle output")).expect("JSON"))
            .collect();
        writer
            .join()
            .expect("writer")
            .expect("writing to the oracle");
        let status = child.wait().expect("oracle exit");
        assert!(status.success(), "the oracle failed: {status}");
        assert_eq!(replies.len(), cases.len(), "one reply per case");
        replies
    }

    /// Whether a disagreement is one of cronsim's known departures from the rules, and
    /// ours are right: a real-time schedule in a zone whose clocks change by half an hour
    /// (Lord Howe) or at a quarter to the hour (Chatham), where cronsim steps whole hours
    /// from a whole local hour and so skips or repeats, with every one of our firings
    /// checked minute by minute.
    fn cronsim_departs_from_the_rules(case: &OracleCase, ours: &[DateTime<Utc>]) -> bool {
        let Ok(s) = &case.spec else { return false };
        if s.is_fixed_time() || ![Lord_Howe, Chatham].contains(&case.tz) {
            return false;
        }
        let mut previous = case.start.naive_utc();
        for fired in ours {
            let fired = fired.naive_utc();
            if fired - previous > TimeDelta::days(400)
                || reference_next(s, case.tz, previous, fired) != Some(fired)
            {
                return false;
            }
            previous = fired;
        }
        ours.len() == case.n
    }

    /// Thousands of random schedules, zones and starts (half of them within a day and a
    /// half of a clock change), each compared with cronsim, the oracle of the rules.
    /// CI sets DRUMBEAT_CRONSIM_PYTHON (see .ci/run); DRUMBEAT_ORACLE_SEED repeats a run.
    #[test]
    fn agrees_with_cronsim() {
        let Ok(python) = std::env::var("DRUMBEAT_CRONSIM_PYTHON") else {
            eprintln!(
                "agrees_with_cronsim: skipped, DRUMBEAT_CRONSIM_PYTHON does not name a Python with cronsim"
            );
            return;
        };
        let seed = std::env::var("DRUMBEAT_ORACLE_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(20_261_101);
        let mut rng = Rng(seed);
        let changes: Vec<Vec<NaiveDateTime>> = ZONES.iter().map(|tz| transitions(*tz)).collect();
        let cases: Vec<OracleCase> = (0..4000)
            .map(|_| {
                let raw = random_schedule(&mut rng);
                let zone = rng.below(ZONES.len());
                OracleCase {
                    spec: ScheduleSpec::parse(&raw),
                    raw,
                    tz: ZONES[zone],
                    start: random_start(&mut rng, &changes[zone]),
                    n: 1 + rng.below(8),
                }
            })
            .collect();
        let replies = ask_cronsim(&python, &cases);

        let (mut equal, mut both_refuse, mut firings) = (0, 0, 0);
        let mut departures = Vec::new();
        let mut mismatches = Vec::new();
        for (case, reply) in cases.iter().zip(&replies) {
            let refused = reply.get("error").and_then(|e| e.as_str());
            let theirs: Vec<String> = reply["firings"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let label = format!(
                "`{}` in {} after {}",
                case.raw,
                case.tz.name(),
                utc_text(case.start)
            );
            match (&case.spec, refused) {
                (Err(_), Some(_)) => both_refuse += 1,
                (Err(e), None) => {
                    mismatches.push(format!("{label}: we refuse ({e}), cronsim accepts"))
                }
                (Ok(_), Some(e)) => {
                    mismatches.push(format!("{label}: cronsim refuses ({e}), we accept"))
                }
                (Ok(s), None) => {
                    let ours = s.upcoming(case.tz, case.start, case.n);
                    let ours_text: Vec<String> = ours.iter().map(|t| utc_text(*t)).collect();
                    if ours_text == theirs {
                        equal += 1;
                        firings += ours.len();
                    } else {
                        let line = format!(
                            "{label} (crontab `{}`):\n    ours:    {ours_text:?}\n    cronsim: {theirs:?}{}",
                            s.crontab(),
                            reply.get("backwards").map(|b| format!(" (went backwards: {b})")).unwrap_or_default()
                        );
                        if cronsim_departs_from_the_rules(case, &ours) {
                            departures.push(line);
                        } else {
                            mismatches.push(line);
                        }
                    }
                }
            }
        }
        eprintln!(
            "agrees_with_cronsim (seed {seed}): {} cases: {equal} equal ({firings} firings), {both_refuse} refused by both, {} where cronsim departs from the rules (checked minute by minute), {} mismatches",
            cases.len(),
            departures.len(),
            mismatches.len()
        );
        for line in departures.iter().take(3) {
            eprintln!("  cronsim departs: {line}");
        }
        for line in mismatches.iter().take(10) {
            eprintln!("  MISMATCH {line}");
        }
        assert!(
            mismatches.is_empty(),
            "{} cases disagree with cronsim",
            mismatches.len()
        );
        assert!(
            equal > cases.len() * 3 / 4,
            "too few cases compared: {equal}"
        );
    }
}
