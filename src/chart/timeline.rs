//! The timeline: milestones per project, each with its baseline bar above its forecast bar,
//! the forecast as a filled diamond against the target as a hollow one (red when late),
//! a mark where an incoming dependency arrives after the milestone needs it, a tick and a
//! light line each Monday, today's line, the critical path outlined, and arrows from each
//! predecessor or providing milestone to what waits on it.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate};

use super::canvas::{self, lighter, paint, Anchor, Colour, Pen};
use crate::analysis::Analysed;
use crate::domain::{DepState, Endpoint, MilestoneState};

const WIDTH: u32 = 1400;
const LABEL_X: i32 = 12;
const KEY_X: i32 = 170;
const BARS_X0: i32 = 390;
const BARS_X1: i32 = WIDTH as i32 - 30;
const TOP: i32 = 104;
const ROW: i32 = 26;
const TICK_SIZE: f64 = 12.0;
const FOOT: i32 = 44;
/// More rows than this and the picture stops being readable in a chat window.
pub const MAX_ROWS: usize = 80;

/// One milestone on the chart.
#[derive(Debug, Clone)]
struct Row {
    index: usize,
    key: String,
    project: String,
    label: String,
    baseline: NaiveDate,
    target: NaiveDate,
    forecast: NaiveDate,
    /// Days of work before the dates: the bars' length.
    duration: i64,
    done: bool,
    /// Forecast past its target, or making a later target late.
    late: bool,
    critical: bool,
    /// Incoming dependencies that arrive after this milestone needs them.
    conflicts: Vec<LateArrival>,
}

/// A dependency that arrives after the milestone waiting on it needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LateArrival {
    number: i64,
    need_by: NaiveDate,
    arrival: NaiveDate,
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
    let mut late_arrivals: HashMap<usize, Vec<LateArrival>> = HashMap::new();
    for c in a.forecasts.conflicts(s) {
        let d = &s.deps[c.dep];
        if let Some(i) = match d.needs {
            Endpoint::Milestone(m) => s.milestone_index(m),
            _ => None,
        } {
            late_arrivals.entry(i).or_default().push(LateArrival {
                number: d.number,
                need_by: d.need_by,
                arrival: c.arrival,
            });
        }
    }
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
                key: m.key.as_str().to_owned(),
                project,
                label: format!("{} · {}", m.key, m.title.as_str()),
                baseline: m.baseline,
                target: m.target,
                forecast: fc.forecast,
                duration: m.duration.map(|d| i64::from(d.get())).unwrap_or(0),
                done: m.state == MilestoneState::Done,
                late: m.state != MilestoneState::Done
                    && (fc.forecast > m.target || fc.float_days < 0),
                critical: fc.critical,
                conflicts: {
                    let mut c = late_arrivals.remove(&i).unwrap_or_default();
                    c.sort_by_key(|l| (l.arrival, l.number));
                    c
                },
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
                r.conflicts.is_empty(),
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

/// The dates across the bars: `lo` at [`BARS_X0`], `hi` at [`BARS_X1`].
#[derive(Debug, Clone, Copy)]
struct Axis {
    lo: NaiveDate,
    hi: NaiveDate,
}

impl Axis {
    /// From the earliest bar start to the latest date shown (a forecast, a target, a late
    /// arrival, today), with a little room, three weeks at least.
    fn of(rows: &[Row], today: NaiveDate) -> Self {
        let lo = rows
            .iter()
            .flat_map(|r| {
                [
                    r.baseline - Duration::days(r.duration),
                    r.forecast - Duration::days(r.duration),
                    r.target,
                ]
            })
            .chain(
                rows.iter()
                    .flat_map(|r| r.conflicts.iter().map(|c| c.need_by)),
            )
            .chain([today])
            .min()
            .unwrap_or(today)
            - Duration::days(3);
        let hi = rows
            .iter()
            .flat_map(|r| [r.baseline, r.forecast, r.target])
            .chain(
                rows.iter()
                    .flat_map(|r| r.conflicts.iter().map(|c| c.arrival)),
            )
            .chain([today])
            .max()
            .unwrap_or(today)
            + Duration::days(5);
        Self {
            lo,
            hi: hi.max(lo + Duration::days(21)),
        }
    }

    fn x(&self, d: NaiveDate) -> i32 {
        let span = (self.hi - self.lo).num_days().max(1) as f64;
        BARS_X0
            + (((d - self.lo).num_days() as f64) / span * f64::from(BARS_X1 - BARS_X0)).round()
                as i32
    }
}

/// A Monday on the date axis: a tick and a light line, and its date when there is room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub day: NaiveDate,
    pub x: i32,
    pub label: Option<String>,
}

/// Every Monday of the axis. Labels go on every Monday when they fit, else on every 2nd,
/// 4th, 8th, 13th… (the fewest left out so that no two labels touch); the year is written
/// on the first label and where it changes.
fn ticks(axis: &Axis, measure: &dyn Fn(&str) -> i32) -> Vec<Tick> {
    let to_monday = (7 - i64::from(axis.lo.weekday().num_days_from_monday())) % 7;
    let mondays: Vec<NaiveDate> =
        std::iter::successors(Some(axis.lo + Duration::days(to_monday)), |d| {
            Some(*d + Duration::days(7))
        })
        .take_while(|d| *d <= axis.hi)
        .collect();
    let labels_every = |k: usize| -> Option<Vec<Option<String>>> {
        let mut out = vec![None; mondays.len()];
        let mut prev: Option<(NaiveDate, i32, i32)> = None;
        for i in (0..mondays.len()).step_by(k) {
            let d = mondays[i];
            let text = if prev.is_none_or(|(p, _, _)| p.year() != d.year()) {
                d.format("%b %-d %Y").to_string()
            } else {
                d.format("%b %-d").to_string()
            };
            let (x, w) = (axis.x(d), measure(&text));
            if x + w / 2 > WIDTH as i32 - 4 {
                break;
            }
            if let Some((_, px, pw)) = prev {
                if x - px < (pw + w) / 2 + 10 {
                    return None;
                }
            }
            prev = Some((d, x, w));
            out[i] = Some(text);
        }
        Some(out)
    };
    let labels = [1, 2, 4, 8, 13, 26, 52, 104, 260]
        .into_iter()
        .find_map(labels_every)
        .unwrap_or_else(|| vec![None; mondays.len()]);
    mondays
        .into_iter()
        .zip(labels)
        .map(|(day, label)| Tick {
            day,
            x: axis.x(day),
            label,
        })
        .collect()
}

/// Where a dependency that arrives late is marked on its consumer's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictMark {
    pub need_by: i32,
    pub arrival: i32,
    /// `#4 +5d`: the dependency and how late it arrives.
    pub label: String,
}

/// One milestone's marks on its row, in pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct RowMarks {
    /// The row's middle.
    pub y: i32,
    pub baseline: (i32, i32),
    pub forecast_bar: (i32, i32),
    /// The forecast: a filled diamond at the bar's end.
    pub forecast: i32,
    /// Forecast past its target, or making a later target late: drawn red.
    pub late: bool,
    /// Blue on track, red late, grey done.
    pub colour: Colour,
    /// The target: a hollow diamond.
    pub target: i32,
    /// From the target to a forecast past it.
    pub slip: Option<(i32, i32)>,
    pub conflicts: Vec<ConflictMark>,
}

fn marks(r: &Row, y: i32, axis: &Axis) -> RowMarks {
    let bar = |end: NaiveDate| {
        let x1 = axis.x(end);
        (axis.x(end - Duration::days(r.duration)).min(x1 - 4), x1)
    };
    let colour = if r.done {
        canvas::DONE
    } else if r.late {
        canvas::RED
    } else {
        canvas::BLUE
    };
    let (forecast, target) = (axis.x(r.forecast), axis.x(r.target));
    RowMarks {
        y,
        late: r.late && !r.done,
        baseline: bar(r.baseline),
        forecast_bar: bar(r.forecast),
        forecast,
        colour,
        target,
        slip: (!r.done && r.forecast > r.target).then_some((target, forecast)),
        conflicts: r
            .conflicts
            .iter()
            .map(|c| ConflictMark {
                need_by: axis.x(c.need_by),
                arrival: axis.x(c.arrival),
                label: format!("#{} +{}d", c.number, (c.arrival - c.need_by).num_days()),
            })
            .collect(),
    }
}

/// The timeline worked out before anything is drawn: the Mondays of its date axis and the
/// marks of each milestone shown.
pub struct Plan {
    pub ticks: Vec<Tick>,
    /// One per milestone shown, top to bottom: its key and its marks.
    pub rows: Vec<(String, RowMarks)>,
    /// The program's milestones, shown or not.
    pub total: usize,
    lines: Vec<Row>,
    axis: Axis,
}

fn y_of(i: usize) -> i32 {
    TOP + ROW * i as i32 + ROW / 2
}

pub fn plan(a: &Analysed<'_>) -> Plan {
    let (lines, total) = rows(a);
    let axis = Axis::of(&lines, a.snap.today());
    let ticks = if lines.is_empty() {
        vec![]
    } else {
        ticks(&axis, &|s| canvas::text_width(s, TICK_SIZE, false))
    };
    let rows = lines
        .iter()
        .enumerate()
        .map(|(i, r)| (r.key.clone(), marks(r, y_of(i), &axis)))
        .collect();
    Plan {
        ticks,
        rows,
        total,
        lines,
        axis,
    }
}

pub fn render(a: &Analysed<'_>, format: canvas::Format) -> anyhow::Result<Vec<u8>> {
    let s = a.snap;
    let today = s.today();
    let plan = plan(a);
    let (rows, total) = (&plan.lines, plan.total);
    let height = (TOP + ROW * rows.len().max(1) as i32 + FOOT) as u32;
    let title = format!("{}: timeline", s.program.name.as_str());
    let conflicted = rows.iter().filter(|r| !r.conflicts.is_empty()).count();
    paint(format, WIDTH, height, |pen| {
        pen.title(&title, (LABEL_X, 24), 760)?;
        let mut summary = format!("today {today} · {total} milestones");
        if conflicted > 0 {
            summary += &format!(" · {conflicted} waiting on a dependency that arrives late");
        }
        pen.text(
            &pen.fit(&summary, 13.0, false, 790),
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
        let x = |d: NaiveDate| plan.axis.x(d);
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
        let grid = lighter(canvas::RULE, 0.45);
        for t in &plan.ticks {
            let line = if t.label.is_some() {
                canvas::RULE
            } else {
                grid
            };
            pen.line(vec![(t.x, TOP - 2), (t.x, bottom)], line, 1)?;
            pen.line(vec![(t.x, TOP - 7), (t.x, TOP - 2)], canvas::MUTED, 1)?;
            if let Some(label) = &t.label {
                pen.text(
                    label,
                    (t.x, TOP - 16),
                    TICK_SIZE,
                    false,
                    canvas::MUTED,
                    Anchor::Centre,
                )?;
            }
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

        for (r, (_, m)) in rows.iter().zip(&plan.rows) {
            let y = m.y;
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
            if !m.conflicts.is_empty() {
                pen.triangle((KEY_X - 9, y), 5, canvas::RED)?;
            }
            pen.rect(
                (m.baseline.0, y - 9),
                (m.baseline.1, y - 4),
                canvas::BASELINE,
            )?;
            let (f0, f1) = m.forecast_bar;
            pen.rect((f0, y - 2), (f1, y + 6), m.colour)?;
            if r.critical {
                pen.frame((f0 - 2, y - 4), (f1 + 2, y + 8), canvas::DARK_RED, 2)?;
            }
            if let Some((t, f)) = m.slip {
                pen.line(vec![(t, y + 2), (f, y + 2)], canvas::RED, 2)?;
            }
            // The target under the forecast, so a forecast on its target shows as a filled
            // diamond in a ring.
            pen.hollow_diamond((m.target, y + 2), 8, canvas::INK, 2)?;
            pen.diamond((m.forecast, y + 2), 6, m.colour)?;
            for c in &m.conflicts {
                pen.line(
                    vec![(c.need_by, y + 11), (c.arrival, y + 11)],
                    canvas::RED,
                    2,
                )?;
                pen.line(
                    vec![(c.need_by, y + 7), (c.need_by, y + 12)],
                    canvas::RED,
                    2,
                )?;
                pen.triangle((c.arrival, y + 6), 5, canvas::RED)?;
                pen.text(
                    &c.label,
                    (c.arrival + 8, y + 7),
                    10.0,
                    true,
                    canvas::RED,
                    Anchor::Left,
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
            "Grey bar: baseline · coloured bar ending in a filled diamond: forecast (blue on track, red late, grey done) · hollow diamond: target · red triangle: a dependency arriving after it is needed · outlined: critical path".to_owned()
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
    type Draw<'p> = Box<dyn Fn(i32, i32) -> anyhow::Result<()> + 'p>;
    let keys: [(i32, &str, Draw<'_>); 7] = [
        (
            24,
            "baseline",
            Box::new(|x, y| pen.rect((x, y - 3), (x + 20, y + 2), canvas::BASELINE)),
        ),
        (
            24,
            "on track",
            Box::new(|x, y| {
                pen.rect((x, y - 4), (x + 14, y + 4), canvas::BLUE)?;
                pen.diamond((x + 14, y), 6, canvas::BLUE)
            }),
        ),
        (
            24,
            "late",
            Box::new(|x, y| {
                pen.rect((x, y - 4), (x + 14, y + 4), canvas::RED)?;
                pen.diamond((x + 14, y), 6, canvas::RED)
            }),
        ),
        (
            24,
            "done",
            Box::new(|x, y| pen.rect((x, y - 4), (x + 20, y + 4), canvas::DONE)),
        ),
        (
            48,
            "target",
            Box::new(|x, y| pen.hollow_diamond((x + 10, y), 8, canvas::INK, 2)),
        ),
        (
            48,
            "critical",
            Box::new(|x, y| {
                pen.rect((x, y - 4), (x + 20, y + 4), canvas::BLUE)?;
                pen.frame((x - 2, y - 6), (x + 22, y + 6), canvas::DARK_RED, 2)
            }),
        ),
        (
            48,
            "dependency late",
            Box::new(|x, y| {
                pen.line(vec![(x, y + 5), (x + 14, y + 5)], canvas::RED, 2)?;
                pen.triangle((x + 14, y), 5, canvas::RED)
            }),
        ),
    ];
    let (mut x, mut line) = (820, 24);
    for (y, label, draw) in &keys {
        if *y != line {
            (x, line) = (820, *y);
        }
        draw(x, *y)?;
        pen.text(label, (x + 26, *y), 12.0, false, canvas::INK, Anchor::Left)?;
        x += 34 + pen.text_width(label, 12.0, false) + 14;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Weekday;

    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn measure(s: &str) -> i32 {
        7 * s.chars().count() as i32
    }

    fn row(target: &str, forecast: &str) -> Row {
        Row {
            index: 0,
            key: "api-beta".into(),
            project: "Public API".into(),
            label: "api-beta · API beta".into(),
            baseline: day(target),
            target: day(target),
            forecast: day(forecast),
            duration: 10,
            done: false,
            late: day(forecast) > day(target),
            critical: false,
            conflicts: vec![],
        }
    }

    fn axis(lo: &str, hi: &str) -> Axis {
        Axis {
            lo: day(lo),
            hi: day(hi),
        }
    }

    /// Every Monday between the ends, a week apart, and no labels that touch.
    fn check_ticks(a: &Axis, ticks: &[Tick]) {
        assert!(!ticks.is_empty());
        for t in ticks {
            assert_eq!(t.day.weekday(), Weekday::Mon, "{}", t.day);
            assert_eq!(t.x, a.x(t.day));
        }
        for w in ticks.windows(2) {
            assert_eq!(w[1].day - w[0].day, Duration::days(7));
            assert!(w[1].x > w[0].x);
        }
        assert!(ticks[0].day >= a.lo && ticks[0].day - Duration::days(7) < a.lo);
        let last = ticks[ticks.len() - 1].day;
        assert!(last <= a.hi && last + Duration::days(7) > a.hi);
        let labelled: Vec<&Tick> = ticks.iter().filter(|t| t.label.is_some()).collect();
        assert!(!labelled.is_empty());
        assert!(
            labelled[0]
                .label
                .as_deref()
                .unwrap()
                .ends_with(&a.lo.year().to_string())
                || labelled[0]
                    .label
                    .as_deref()
                    .unwrap()
                    .ends_with(&(a.lo.year() + 1).to_string())
        );
        for w in labelled.windows(2) {
            let (l0, l1) = (
                w[0].label.as_deref().unwrap(),
                w[1].label.as_deref().unwrap(),
            );
            assert!(
                w[1].x - w[0].x >= (measure(l0) + measure(l1)) / 2,
                "{l0} at {} and {l1} at {} touch",
                w[0].x,
                w[1].x
            );
        }
    }

    #[test]
    fn a_short_span_has_a_labelled_tick_every_monday() {
        let a = axis("2026-11-25", "2027-01-20");
        let t = ticks(&a, &measure);
        check_ticks(&a, &t);
        assert_eq!(t[0].day, day("2026-11-30"));
        assert_eq!(t.len(), 8);
        assert!(t.iter().all(|t| t.label.is_some()), "{t:?}");
        assert_eq!(t[0].label.as_deref(), Some("Nov 30 2026"));
        assert_eq!(t[1].label.as_deref(), Some("Dec 7"));
        // The year is written again where it changes.
        assert_eq!(t[5].label.as_deref(), Some("Jan 4 2027"));
    }

    #[test]
    fn a_long_span_keeps_a_tick_every_monday_and_thins_the_labels() {
        let a = axis("2026-01-01", "2027-12-31");
        let t = ticks(&a, &measure);
        check_ticks(&a, &t);
        assert_eq!(t.len(), 104);
        let labelled = t.iter().filter(|t| t.label.is_some()).count();
        assert!((4..52).contains(&labelled), "{labelled} labels");
        // Thinned evenly: the labelled Mondays are a whole number of weeks apart.
        let gaps: std::collections::HashSet<i64> = t
            .iter()
            .filter(|t| t.label.is_some())
            .collect::<Vec<_>>()
            .windows(2)
            .map(|w| (w[1].day - w[0].day).num_days())
            .collect();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
    }

    #[test]
    fn the_axis_starts_on_a_monday_when_it_does() {
        let a = axis("2026-11-30", "2026-12-21");
        let t = ticks(&a, &measure);
        check_ticks(&a, &t);
        assert_eq!(t[0].day, day("2026-11-30"));
        assert_eq!(t[0].x, BARS_X0);
    }

    #[test]
    fn the_forecast_is_marked_against_the_target_and_late_ones_are_red() {
        let a = axis("2026-11-01", "2027-02-01");
        let on_time = marks(&row("2026-12-18", "2026-12-11"), 100, &a);
        assert_eq!(on_time.colour, canvas::BLUE);
        assert_eq!(on_time.forecast, a.x(day("2026-12-11")));
        assert_eq!(on_time.forecast, on_time.forecast_bar.1);
        assert_eq!(on_time.target, a.x(day("2026-12-18")));
        assert_eq!(on_time.slip, None);
        assert!(!on_time.late);

        let late = marks(&row("2026-12-18", "2027-01-08"), 124, &a);
        assert_eq!(late.colour, canvas::RED);
        assert!(late.late);
        assert!(late.target < late.forecast);
        assert_eq!(late.slip, Some((late.target, late.forecast)));

        let mut done = row("2026-12-18", "2027-01-08");
        done.done = true;
        let done = marks(&done, 148, &a);
        assert_eq!((done.colour, done.slip), (canvas::DONE, None));
    }

    #[test]
    fn a_dependency_arriving_after_it_is_needed_is_marked_on_its_consumer() {
        let mut r = row("2027-01-15", "2027-01-15");
        r.conflicts = vec![LateArrival {
            number: 4,
            need_by: day("2026-12-18"),
            arrival: day("2026-12-23"),
        }];
        let a = Axis::of(std::slice::from_ref(&r), day("2026-11-27"));
        let m = marks(&r, 100, &a);
        assert_eq!(
            m.conflicts,
            [ConflictMark {
                need_by: a.x(day("2026-12-18")),
                arrival: a.x(day("2026-12-23")),
                label: "#4 +5d".into(),
            }]
        );
        assert!(m.conflicts[0].need_by < m.conflicts[0].arrival);
        // The axis reaches a late arrival past every other date.
        let mut far = r.clone();
        far.conflicts[0].arrival = day("2027-03-01");
        let wide = Axis::of(&[far], day("2026-11-27"));
        assert!(wide.hi >= day("2027-03-01"));
        assert!(marks(&row("2027-01-15", "2027-01-15"), 0, &a)
            .conflicts
            .is_empty());
    }
}
