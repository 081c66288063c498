//! A program's working calendar: which days count as work days (its week and its
//! holidays), so the scheduler keeps days off and the blocker ladder counts working days.

use chrono::{Datelike, NaiveDate};

use super::{Program, WorkDays};

/// The work days of one program: its working week, less its holidays.
#[derive(Debug, Clone, Copy)]
pub struct WorkCalendar<'a> {
    week: WorkDays,
    holidays: &'a [NaiveDate],
}

/// The longest stretch [`WorkCalendar::work_days_between`] counts: a dependency blocked
/// for years still costs at most about ten years of days.
const MAX_DAYS_COUNTED: usize = 3660;

impl<'a> WorkCalendar<'a> {
    pub fn new(week: WorkDays, holidays: &'a [NaiveDate]) -> Self {
        Self { week, holidays }
    }

    /// One of the week's work days and not a holiday.
    pub fn is_work_day(&self, day: NaiveDate) -> bool {
        self.week.contains(day.weekday()) && !self.holidays.contains(&day)
    }

    /// Work days from `from` (exclusive) to `to` (inclusive); 0 when `to` is not after
    /// `from`.
    pub fn work_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        from.iter_days()
            .skip(1)
            .take_while(|d| *d <= to)
            .take(MAX_DAYS_COUNTED)
            .filter(|d| self.is_work_day(*d))
            .count() as i64
    }
}

impl Program {
    /// The program's working calendar.
    pub fn calendar(&self) -> WorkCalendar<'_> {
        WorkCalendar::new(self.work_days, &self.holidays)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn weekdays() -> WorkDays {
        WorkDays::WEEKDAYS
    }

    #[test]
    fn weekends_and_holidays_are_days_off() {
        let holidays = [day("2026-12-02")];
        let cal = WorkCalendar::new(weekdays(), &holidays);
        assert!(cal.is_work_day(day("2026-12-01"))); // Tuesday
        assert!(!cal.is_work_day(day("2026-12-02"))); // Wednesday, a holiday
        assert!(!cal.is_work_day(day("2026-12-05"))); // Saturday
        assert!(!cal.is_work_day(day("2026-12-06"))); // Sunday
    }

    #[test]
    fn a_custom_week_is_kept() {
        let cal = WorkCalendar::new(WorkDays::parse("sun,mon-thu").unwrap(), &[]);
        assert!(cal.is_work_day(day("2026-12-06"))); // Sunday
        assert!(!cal.is_work_day(day("2026-12-04"))); // Friday
    }

    #[test]
    fn work_days_between_counts_the_end_and_not_the_start() {
        let holidays = [day("2026-12-02")];
        let cal = WorkCalendar::new(weekdays(), &holidays);
        // Mon 30 Nov → Mon 7 Dec: Tue, Thu, Fri, Mon (Wed is a holiday).
        assert_eq!(
            cal.work_days_between(day("2026-11-30"), day("2026-12-07")),
            4
        );
        assert_eq!(
            cal.work_days_between(day("2026-11-30"), day("2026-12-01")),
            1
        );
        assert_eq!(
            cal.work_days_between(day("2026-11-30"), day("2026-11-30")),
            0
        );
        // A weekend alone is no working day.
        assert_eq!(
            cal.work_days_between(day("2026-12-04"), day("2026-12-06")),
            0
        );
    }

    #[test]
    fn work_days_between_is_zero_backwards_and_bounded_forwards() {
        let cal = WorkCalendar::new(weekdays(), &[]);
        assert_eq!(
            cal.work_days_between(day("2026-12-07"), day("2026-11-30")),
            0
        );
        let years = cal.work_days_between(day("2000-01-01"), day("2030-01-01"));
        assert!(years <= MAX_DAYS_COUNTED as i64, "{years}");
        assert!(years > 2000, "{years}");
    }
}
