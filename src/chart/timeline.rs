//! The timeline: milestones per project, each with its baseline bar above its forecast bar,
//! the target as a tick, today's line, the critical path outlined, and arrows from each
//! predecessor or providing milestone to what waits on it.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};

use super::canvas::{self, lighter, paint, Anchor, Pen};
use crate::analysis::Analysed;
use crate::domain::{DepState, Endpoint, MilestoneState};

const WIDTH: u32 = 1400;
const LABEL_X: i32 = 12;
const KEY_X: i32 = 170;
const BARS_X0: i32 = 390;
const BARS_X1: i32 = WIDTH as i32 - 30;
const TOP: i32 = 104;
const ROW: i32 = 24;
const FOOT: i32 = 44;
/// More rows than this and the picture stops being readable in a chat window.
pub const MAX_ROWS: usize = 80;

/// One milestone on the chart.
struct Row {
    index: usize,
    project: String,
    label: String,
    baseline: NaiveDate,
    target: NaiveDate,
    forecast: NaiveDate,
    /// Days of work before the dates: the bars' length.
    duration: i64,
    done: bool,
    late: bool,
    critical: bool,
}

/// The milestones to show, grouped by project in the program's order, each group by
/// forecast; and how many there were. Past [`MAX_ROWS`], the critical path comes first,
/// then late milestones, then the next due.
fn rows(a: &Analysed<'_>) -> (Vec<Row>, usize) {
    let s = a.snap;
    let project_rank: HashMap<i64, usize> = s
        .projects
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id, i))
        .collect();
    let mut all: Vec<Row> = s
        .milestones
        .iter()
        .enumerate()
        .filter(|(_, m)| m.state != MilestoneState::Cancelled)
        .filter_map(|(i, m)| {
            let fc = a.forecasts.milestone(i)?;
            let project = m
                .project
                .and_then(|p| s.project(p))
                .map(|p| p.name.as_str().to_owned())
                .unwrap_or_else(|| "No project".into());
            Some(Row {
                index: i,
                project,
                label: format!("{} · {}", m.key, m.title.as_str()),
                baseline: m.baseline,
                target: m.target,
                forecast: fc.forecast,
                duration: m.duration.map(|d| i64::from(d.get())).unwrap_or(0),
                done: m.state == MilestoneState::Done,
                late: m.state != MilestoneState::Done && fc.float_days < 0,
                critical: fc.critical,
            })
        })
        .collect();
    let total = all.len();
    if total > MAX_ROWS {
        let today = s.today();
        all.sort_by_key(|r| {
            (
                !r.critical,
                !r.late,
                r.done,
                (r.forecast - today).num_days().abs(),
                r.index,
            )
        });
        all.truncate(MAX_ROWS);
    }
    let rank = |r: &Row| {
        s.milestones[r.index]
            .project
            .and_then(|p| project_rank.get(&p).copied())
            .unwrap_or(usize::MAX)
    };
    all.sort_by_key(|r| (rank(r), r.forecast, r.index));
    (all, total)
}

/// Ticks along the date axis: weeks, months or quarters, by how long the span is.
fn ticks(lo: NaiveDate, hi: NaiveDate) -> Vec<(NaiveDate, String)> {
    let span = (hi - lo).num_days();
    let mut out = Vec::new();
    if span <= 70 {
        let mut d = lo + Duration::days((7 - i64::from(lo.weekday().num_days_from_monday())) % 7);
        while d <= hi {
            out.push((d, d.format("%b %-d").to_string()));
            d += Duration::days(7);
        }
        return out;
    }
    let step = if span <= 400 { 1 } else { 3 };
    let (mut y, mut m) = (lo.year(), lo.month());
    loop {
        if let Some(d) = NaiveDate::from_ymd_opt(y, m, 1) {
            if d > hi {
                break;
            }
            if d >= lo && (m - 1) % step == 0 {
                let label = if m == 1 || out.is_empty() {
                    d.format("%b %Y").to_string()
                } else {
                    d.format("%b").to_string()
                };
                out.push((d, label));
            }
        }
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
    out
}

pub fn render(a: &Analysed<'_>) -> anyhow::Result<Vec<u8>> {
    let s = a.snap;
    let today = s.today();
    let (rows, total) = rows(a);
    let height = (TOP + ROW * rows.len().max(1) as i32 + FOOT) as u32;
    let title = format!("{}: timeline", s.program.name.as_str());
    paint(WIDTH, height, |pen| {
        pen.title(&title, (LABEL_X, 24), 760)?;
        pen.text(
            &format!("today {today} · {} milestones", total),
            (LABEL_X, 50),
            13.0,
            false,
            canvas::MUTED,
            Anchor::Left,
        )?;
        legend(pen)?;
        if rows.is_empty() {
            pen.text(
                &format!(
                    "No milestones yet: `milestone add {} …` adds one.",
                    s.program.key
                ),
                (LABEL_X, TOP + ROW / 2),
                14.0,
                false,
                canvas::MUTED,
                Anchor::Left,
            )?;
            return Ok(());
        }
        let lo = rows
            .iter()
            .flat_map(|r| {
                [
                    r.baseline - Duration::days(r.duration),
                    r.forecast - Duration::days(r.duration),
                    r.target,
                ]
            })
            .chain([today])
            .min()
            .unwrap_or(today)
            - Duration::days(3);
        let mut hi = rows
            .iter()
            .flat_map(|r| [r.baseline, r.forecast, r.target])
            .chain([today])
            .max()
            .unwrap_or(today)
            + Duration::days(5);
        if (hi - lo).num_days() < 21 {
            hi = lo + Duration::days(21);
        }
        let span = (hi - lo).num_days().max(1) as f64;
        let x = |d: NaiveDate| {
            BARS_X0
                + (((d - lo).num_days() as f64) / span * f64::from(BARS_X1 - BARS_X0)).round()
                    as i32
        };
        let y_of = |i: usize| TOP + ROW * i as i32 + ROW / 2;
        let bottom = TOP + ROW * rows.len() as i32;

        // Project bands, then the date grid over them.
        let mut shade = false;
        for (i, r) in rows.iter().enumerate() {
            let first = i == 0 || rows[i - 1].project != r.project;
            if first {
                shade = !shade;
            }
            if shade {
                pen.rect(
                    (0, y_of(i) - ROW / 2),
                    (WIDTH as i32, y_of(i) + ROW / 2),
                    canvas::BAND,
                )?;
            }
            if first {
                pen.text(
                    &pen.fit(&r.project, 12.0, true, KEY_X - LABEL_X - 10),
                    (LABEL_X, y_of(i)),
                    12.0,
                    true,
                    canvas::MUTED,
                    Anchor::Left,
                )?;
            }
        }
        for (d, label) in ticks(lo, hi) {
            pen.line(vec![(x(d), TOP - 6), (x(d), bottom)], canvas::RULE, 1)?;
            pen.text(
                &label,
                (x(d), TOP - 16),
                12.0,
                false,
                canvas::MUTED,
                Anchor::Centre,
            )?;
        }

        // Arrows first, so bars sit on top of them.
        let place: HashMap<usize, usize> =
            rows.iter().enumerate().map(|(i, r)| (r.index, i)).collect();
        let arrow = |from: usize, to: usize, colour| -> anyhow::Result<()> {
            let (f, t) = (&rows[from], &rows[to]);
            let (x0, y0) = (x(f.forecast), y_of(from));
            let x1 = x(t.forecast - Duration::days(t.duration)).max(BARS_X0);
            let elbow = x0 + 6;
            let (y1, x_end) = (y_of(to), x1.max(elbow + 8) - 2);
            pen.arrow(
                vec![(x0, y0), (elbow, y0), (elbow, y1), (x_end, y1)],
                colour,
                1,
            )
        };
        for (to, r) in rows.iter().enumerate() {
            for p in &s.milestones[r.index].after {
                if let Some(&from) = s.milestone_index(*p).and_then(|pi| place.get(&pi)) {
                    let colour = if rows[from].critical && r.critical {
                        canvas::DARK_RED
                    } else {
                        lighter(canvas::MUTED, 0.35)
                    };
                    arrow(from, to, colour)?;
                }
            }
        }
        for d in &s.deps {
            let (Endpoint::Milestone(p), Endpoint::Milestone(c)) = (&d.from, &d.needs) else {
                continue;
            };
            let (Some(&from), Some(&to)) = (
                s.milestone_index(*p).and_then(|i| place.get(&i)),
                s.milestone_index(*c).and_then(|i| place.get(&i)),
            ) else {
                continue;
            };
            let colour = match d.state {
                DepState::Blocked => canvas::RED,
                DepState::AtRisk => canvas::ORANGE,
                DepState::Open => lighter(canvas::BLUE, 0.2),
                DepState::Delivered => canvas::GREEN,
                DepState::Cancelled => continue,
            };
            arrow(from, to, colour)?;
        }

        // Today, behind the bars.
        pen.dashed_vertical(x(today), TOP - 6, bottom, canvas::BLUE, 2)?;
        pen.text(
            "today",
            (x(today) + 4, TOP - 30),
            11.0,
            true,
            canvas::BLUE,
            Anchor::Left,
        )?;

        for (i, r) in rows.iter().enumerate() {
            let y = y_of(i);
            let colour = if r.done {
                canvas::DONE
            } else if r.late {
                canvas::RED
            } else {
                canvas::BLUE
            };
            let label_colour = if r.critical {
                canvas::DARK_RED
            } else {
                canvas::INK
            };
            pen.text(
                &pen.fit(&r.label, 12.0, r.critical, BARS_X0 - KEY_X - 12),
                (KEY_X, y),
                12.0,
                r.critical,
                label_colour,
                Anchor::Left,
            )?;
            let bar = |end: NaiveDate| {
                let x1 = x(end);
                (x(end - Duration::days(r.duration)).min(x1 - 4), x1)
            };
            let (b0, b1) = bar(r.baseline);
            pen.rect((b0, y - 8), (b1, y - 3), canvas::BASELINE)?;
            let (f0, f1) = bar(r.forecast);
            pen.rect((f0, y - 1), (f1, y + 7), colour)?;
            if r.critical {
                pen.frame((f0 - 2, y - 3), (f1 + 2, y + 9), canvas::DARK_RED, 2)?;
            }
            pen.diamond((f1, y + 3), 6, colour)?;
            if r.target != r.forecast {
                pen.line(
                    vec![(x(r.target), y - 10), (x(r.target), y + 10)],
                    canvas::INK,
                    2,
                )?;
            }
        }
        let shown = if rows.len() < total {
            format!(
                "Showing {} of {total} milestones: the critical path, then the late ones, then those due nearest today. `milestone list {}` lists them all.",
                rows.len(),
                s.program.key
            )
        } else {
            "Grey bar: baseline · coloured bar: forecast (blue on track, red late, grey done) · black tick: target · outlined: critical path".to_owned()
        };
        pen.text(
            &pen.fit(&shown, 12.0, false, WIDTH as i32 - 2 * LABEL_X),
            (LABEL_X, bottom + FOOT / 2),
            12.0,
            false,
            canvas::MUTED,
            Anchor::Left,
        )
    })
}

fn legend(pen: &Pen<'_, '_>) -> anyhow::Result<()> {
    let y = 24;
    let mut x = 820;
    let mut key = |label: &str, draw: &dyn Fn(i32) -> anyhow::Result<()>| -> anyhow::Result<()> {
        draw(x)?;
        pen.text(label, (x + 26, y), 12.0, false, canvas::INK, Anchor::Left)?;
        x += 34 + pen.text_width(label, 12.0, false) + 14;
        Ok(())
    };
    key("baseline", &|x| {
        pen.rect((x, y - 3), (x + 20, y + 2), canvas::BASELINE)
    })?;
    key("on track", &|x| {
        pen.rect((x, y - 4), (x + 20, y + 4), canvas::BLUE)
    })?;
    key("late", &|x| {
        pen.rect((x, y - 4), (x + 20, y + 4), canvas::RED)
    })?;
    key("done", &|x| {
        pen.rect((x, y - 4), (x + 20, y + 4), canvas::DONE)
    })?;
    key("critical", &|x| {
        pen.rect((x, y - 4), (x + 20, y + 4), canvas::BLUE)?;
        pen.frame((x - 2, y - 6), (x + 22, y + 6), canvas::DARK_RED, 2)
    })?;
    Ok(())
}
