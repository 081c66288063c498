//! Health over time: each project's reported RAG at the end of each of the last N weeks,
//! read from its status updates, beside the health the analysis computes now. Reported
//! history is what exists (computed health is not stored per week), so the trend says what
//! owners said, and when what they said had gone stale.

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
    /// The last day of each week, oldest first; the last one is today.
    pub week_ends: Vec<NaiveDate>,
    pub rows: Vec<TrendRow>,
}

/// The first instant the trend of `weeks` weeks needs updates from: the end of the day
/// before its first week, where the program lives.
pub fn window_start(s: &Snapshot, weeks: u16) -> DateTime<Utc> {
    end_of(s, s.today() - Duration::weeks(i64::from(weeks)))
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

/// The weekly trend of every active project. `history` is the program's updates from
/// [`window_start`] on (each project's last one before it included), oldest first, as
/// `store::status_history` loads them; linear in projects × weeks + updates.
pub fn weekly(s: &Snapshot, health: &ProgramHealth, history: &[StatusUpdate], weeks: u16) -> Trend {
    let today = s.today();
    let n = i64::from(weeks.max(1));
    let week_ends: Vec<NaiveDate> = (0..n).rev().map(|i| today - Duration::weeks(i)).collect();
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
    Trend { week_ends, rows }
}
