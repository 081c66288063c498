//! Health over time: each project's reported RAG at the end of each week since the program
//! was created, read from its status updates, beside the health the analysis computes now.
//! Reported history is what exists (computed health is not stored per week), so the trend
//! says what owners said, and when what they said had gone stale. It starts where the
//! program does, so weeks before it existed are never shown as weeks without updates.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde::Serialize;

use super::{ProgramHealth, Snapshot};
use crate::domain::{ProjectId, Rag, StatusUpdate};

/// One project's colour at the end of one week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// The latest reported RAG by then; `None` before the first update.
    pub reported: Option<Rag>,
    /// That update was older than the program's staleness window by then.
    pub stale: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendRow {
    pub project: ProjectId,
    pub key: String,
    pub name: String,
    /// One per week, oldest first.
    pub weeks: Vec<Cell>,
    /// The health the analysis computes now, with every signal.
    pub now: Rag,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    /// The day the program was created, where it lives: the first day of the first column.
    pub start: NaiveDate,
    /// Weeks each column covers: 1, or more for a program too old for a column a week.
    pub weeks_per_column: u16,
    /// The last day of each column, oldest first; the last one is today. The first column
    /// runs from `start`, which can be fewer days than the others.
    pub week_ends: Vec<NaiveDate>,
    pub rows: Vec<TrendRow>,
}

impl Trend {
    /// The first and last day of each column, oldest first.
    pub fn columns(&self) -> impl Iterator<Item = (NaiveDate, NaiveDate)> + '_ {
        let days = i64::from(self.weeks_per_column) * 7;
        self.week_ends
            .iter()
            .map(move |end| ((*end - Duration::days(days - 1)).max(self.start), *end))
    }
}

/// At most this many columns: wider, a column is too thin to read, so an older program's
/// columns cover several weeks each.
pub const MAX_COLUMNS: u16 = 52;

/// The day the program was created, where it lives (today at the latest).
pub fn created_on(s: &Snapshot) -> NaiveDate {
    s.program.today(s.program.created_at).min(s.today())
}

/// The first day the trend shows: the day the program was created, or, with `weeks` > 0,
/// the first day of the last `weeks` weeks if that is later.
pub fn first_day(s: &Snapshot, weeks: u16) -> NaiveDate {
    let created = created_on(s);
    if weeks == 0 {
        created
    } else {
        created.max(s.today() - Duration::days(i64::from(weeks) * 7 - 1))
    }
}

/// The first instant the trend needs updates from: the start of its first day, where the
/// program lives. `weeks` 0 is the whole life of the program.
pub fn window_start(s: &Snapshot, weeks: u16) -> DateTime<Utc> {
    end_of(s, first_day(s, weeks) - Duration::days(1))
}

/// The columns from `start` to `today`: how many weeks each covers, and the last day of
/// each, oldest first. The last column ends today; the first holds `start`.
fn column_ends(start: NaiveDate, today: NaiveDate) -> (u16, Vec<NaiveDate>) {
    let days = (today - start).num_days().max(0) + 1;
    let weeks = (days + 6) / 7;
    let per = (weeks + i64::from(MAX_COLUMNS) - 1) / i64::from(MAX_COLUMNS);
    let columns = (weeks + per - 1) / per;
    let ends = (0..columns)
        .rev()
        .map(|i| today - Duration::weeks(i * per))
        .collect();
    (per as u16, ends)
}

/// The instant a program-local day ends.
fn end_of(s: &Snapshot, day: NaiveDate) -> DateTime<Utc> {
    let next = (day + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists");
    s.program
        .timezone
        .tz()
        .from_local_datetime(&next)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| next.and_utc())
}

/// The weekly trend of every active project since the program was created. `history` is
/// the program's updates from [`window_start`] on (each project's last one before it
/// included), oldest first, as `store::status_history` loads them; linear in projects ×
/// weeks + updates. (`_weeks` is no longer the span: see [`window_start`].)
pub fn weekly(s: &Snapshot, health: &ProgramHealth, history: &[StatusUpdate], weeks: u16) -> Trend {
    let today = s.today();
    let start = first_day(s, weeks);
    let (weeks_per_column, week_ends) = column_ends(start, today);
    let ends: Vec<DateTime<Utc>> = week_ends.iter().map(|d| end_of(s, *d)).collect();
    let staleness = Duration::days(i64::from(s.program.staleness_days));
    let mut by_project: HashMap<ProjectId, Vec<&StatusUpdate>> = HashMap::new();
    for u in history {
        by_project.entry(u.project).or_default().push(u);
    }
    let rows = s
        .active_projects()
        .map(|p| {
            let mut updates = by_project
                .get(&p.id)
                .map(|v| v.as_slice())
                .unwrap_or_default()
                .iter()
                .copied()
                .peekable();
            let mut last: Option<&StatusUpdate> = None;
            let cells = week_ends
                .iter()
                .zip(&ends)
                .map(|(day, end)| {
                    while let Some(u) = updates.next_if(|u| u.posted_at < *end) {
                        last = Some(u);
                    }
                    Cell {
                        reported: last.map(|u| u.rag),
                        stale: last.is_some_and(|u| *day - s.posted_on(u) > staleness),
                    }
                })
                .collect();
            TrendRow {
                project: p.id,
                key: p.key.as_str().to_owned(),
                name: p.name.as_str().to_owned(),
                weeks: cells,
                now: health
                    .project(p.id)
                    .map(|h| h.health.rag)
                    .unwrap_or(Rag::Amber),
            }
        })
        .collect();
    Trend {
        start,
        weeks_per_column,
        week_ends,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn columns_run_from_the_creation_day_to_today() {
        // Created on a Wednesday, today the Friday of the third week after.
        let (per, ends) = column_ends(day("2026-11-04"), day("2026-11-27"));
        assert_eq!(per, 1);
        assert_eq!(
            ends,
            [
                day("2026-11-06"),
                day("2026-11-13"),
                day("2026-11-20"),
                day("2026-11-27")
            ]
        );
        let t = Trend {
            start: day("2026-11-04"),
            weeks_per_column: per,
            week_ends: ends,
            rows: vec![],
        };
        let cols: Vec<_> = t.columns().collect();
        // The first column starts on the day of creation, not a week before it.
        assert_eq!(cols[0], (day("2026-11-04"), day("2026-11-06")));
        assert_eq!(cols[1], (day("2026-11-07"), day("2026-11-13")));
        for w in cols.windows(2) {
            assert_eq!(w[0].1 + Duration::days(1), w[1].0);
        }
    }

    #[test]
    fn a_program_created_today_has_one_column_of_one_day() {
        let (per, ends) = column_ends(day("2026-11-27"), day("2026-11-27"));
        assert_eq!((per, ends), (1, vec![day("2026-11-27")]));
        // A creation "after" today (a clock set back) still gives one column.
        let (per, ends) = column_ends(day("2026-11-28"), day("2026-11-27"));
        assert_eq!((per, ends), (1, vec![day("2026-11-27")]));
    }

    #[test]
    fn an_old_program_gets_wider_columns_and_still_starts_at_creation() {
        let start = day("2024-06-03");
        let today = day("2026-11-27");
        let (per, ends) = column_ends(start, today);
        assert!(ends.len() <= usize::from(MAX_COLUMNS), "{}", ends.len());
        assert_eq!(per, 3);
        assert_eq!(*ends.last().unwrap(), today);
        let first_from = ends[0] - Duration::weeks(i64::from(per)) + Duration::days(1);
        assert!(
            first_from <= start && start <= ends[0],
            "{first_from} {start} {}",
            ends[0]
        );
    }
}
