//! The health trend: a row per project, a column per week since the program was created,
//! each cell the RAG its owner had reported by the end of that week (pale when that update
//! had gone stale, grey before the first), and beside them the health the analysis computes
//! now. The axis is a date axis: it begins on the day the program was created, so the
//! first column may be shorter than a week.

use chrono::{Duration, NaiveDate};

use super::canvas::{self, lighter, paint, Anchor};
use crate::analysis::trend::Trend;
use crate::analysis::Analysed;

const WIDTH: u32 = 1200;
const NAME_W: i32 = 260;
const TOP: i32 = 96;
const ROW: i32 = 24;
const NOW_W: i32 = 90;
const FOOT: i32 = 46;
const GRID_X1: i32 = WIDTH as i32 - 30 - NOW_W - 20;
const AXIS_SIZE: f64 = 11.0;
/// More rows than this and the picture stops being readable.
pub const MAX_ROWS: usize = 80;

/// One column of the grid: the days it covers and where it is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Column {
    from: NaiveDate,
    to: NaiveDate,
    x0: i32,
    x1: i32,
}

/// The trend's columns between `x0` and `x1`, each as wide as the days it covers: the
/// first begins at `x0` on the day the program was created, the last ends at `x1` today.
fn columns(t: &Trend, x0: i32, x1: i32) -> Vec<Column> {
    let spans: Vec<(NaiveDate, NaiveDate)> = t.columns().collect();
    let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
        return vec![];
    };
    let days = ((last.1 - first.0).num_days() + 1).max(1) as f64;
    let x = |d: NaiveDate| {
        x0 + ((d - first.0).num_days() as f64 / days * f64::from(x1 - x0)).round() as i32
    };
    spans
        .iter()
        .map(|&(from, to)| Column {
            from,
            to,
            x0: x(from),
            x1: x(to + Duration::days(1)),
        })
        .collect()
}

/// A date written under the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AxisLabel {
    /// The left edge of `created …`; the centre of a column's end date.
    x: i32,
    text: String,
    created: bool,
}

/// `created Nov 4` at the start of the axis, then each column's last day from today
/// backwards, centred on its column, leaving out any that would touch the one beside it.
fn axis_labels(cols: &[Column], measure: &dyn Fn(&str) -> i32) -> Vec<AxisLabel> {
    let Some(first) = cols.first() else {
        return vec![];
    };
    let created = format!("created {}", first.from.format("%b %-d %Y"));
    let created_end = first.x0 + measure(&created);
    let mut out = vec![AxisLabel {
        x: first.x0,
        text: created,
        created: true,
    }];
    let mut left_of_last = i32::MAX;
    for c in cols.iter().rev() {
        let text = c.to.format("%b %-d").to_string();
        let w = measure(&text);
        let x = (c.x0 + c.x1) / 2;
        if x + w / 2 + 6 <= left_of_last && x - w / 2 - 6 >= created_end {
            left_of_last = x - w / 2;
            out.push(AxisLabel {
                x,
                text,
                created: false,
            });
        }
    }
    out
}

pub fn render(a: &Analysed<'_>, t: &Trend, format: canvas::Format) -> anyhow::Result<Vec<u8>> {
    let s = a.snap;
    // Past the limit, the worst now first: those are the ones a reader needs.
    let mut rows: Vec<&_> = t.rows.iter().collect();
    let total = rows.len();
    if total > MAX_ROWS {
        rows.sort_by_key(|r| std::cmp::Reverse(r.now));
        rows.truncate(MAX_ROWS);
    }
    let height = (TOP + ROW * rows.len().max(1) as i32 + FOOT) as u32;
    let cols = columns(t, NAME_W, GRID_X1);
    let labels = axis_labels(&cols, &|s| canvas::text_width(s, AXIS_SIZE, false));
    let title = format!(
        "{}: health since {}",
        s.program.name.as_str(),
        t.start.format("%-d %b %Y")
    );
    let period = match t.weeks_per_column {
        1 => "each week".to_owned(),
        n => format!("each {n}-week column"),
    };
    paint(format, WIDTH, height, |pen| {
        pen.title(&title, (20, 26), 1100)?;
        let subtitle = format!(
            "What each owner reported by the end of {period} since the program was created; at the right, the health computed now from every signal"
        );
        pen.text(
            &subtitle,
            (20, 52),
            13.0,
            false,
            canvas::MUTED,
            Anchor::Left,
        )?;
        for l in &labels {
            let (anchor, colour) = if l.created {
                (Anchor::Left, canvas::INK)
            } else {
                (Anchor::Centre, canvas::MUTED)
            };
            pen.text(
                &l.text,
                (l.x, TOP - 14),
                AXIS_SIZE,
                l.created,
                colour,
                anchor,
            )?;
        }
        let now_x = GRID_X1 + 20;
        pen.text(
            "now",
            (now_x + NOW_W / 2, TOP - 14),
            11.0,
            true,
            canvas::INK,
            Anchor::Centre,
        )?;
        if rows.is_empty() {
            pen.text(
                &format!(
                    "No projects yet: `project add {} …` adds one.",
                    s.program.key
                ),
                (20, TOP + ROW / 2),
                14.0,
                false,
                canvas::MUTED,
                Anchor::Left,
            )?;
        }
        for (i, r) in rows.iter().enumerate() {
            let y0 = TOP + ROW * i as i32;
            pen.text(
                &pen.fit(&r.name, 12.0, false, NAME_W - 30),
                (20, y0 + ROW / 2),
                12.0,
                false,
                canvas::INK,
                Anchor::Left,
            )?;
            for (c, cell) in cols.iter().zip(&r.weeks) {
                let fill = match cell.reported {
                    None => canvas::BAND,
                    Some(rag) if cell.stale => lighter(canvas::rag_colour(rag), 0.6),
                    Some(rag) => canvas::rag_colour(rag),
                };
                // A gap between columns where there is room for one.
                let inset = i32::from(c.x1 - c.x0 >= 6);
                pen.rect((c.x0 + inset, y0 + 2), (c.x1 - inset, y0 + ROW - 2), fill)?;
            }
            pen.rect(
                (now_x, y0 + 2),
                (now_x + NOW_W, y0 + ROW - 2),
                canvas::rag_colour(r.now),
            )?;
            pen.text(
                r.now.as_str(),
                (now_x + NOW_W / 2, y0 + ROW / 2),
                11.0,
                true,
                canvas::INK,
                Anchor::Centre,
            )?;
        }
        // Where the program began: the axis's first day.
        if let Some(first) = cols.first() {
            let bottom = TOP + ROW * rows.len().max(1) as i32;
            pen.line(
                vec![(first.x0, TOP - 6), (first.x0, bottom)],
                canvas::INK,
                1,
            )?;
        }
        let y = height as i32 - FOOT / 2;
        let mut x = 20;
        let keys: [(&str, canvas::Colour); 5] = [
            ("green", canvas::GREEN),
            ("amber", canvas::AMBER),
            ("red", canvas::RED),
            ("stale (pale)", lighter(canvas::AMBER, 0.6)),
            ("no update yet", canvas::BAND),
        ];
        for (label, colour) in &keys {
            pen.rect((x, y - 7), (x + 18, y + 7), *colour)?;
            pen.frame((x, y - 7), (x + 18, y + 7), canvas::RULE, 1)?;
            pen.text(label, (x + 24, y), 12.0, false, canvas::INK, Anchor::Left)?;
            x += 30 + pen.text_width(label, 12.0, false) + 16;
        }
        if rows.len() < total {
            let note = format!("Showing {} of {total} projects, worst first.", rows.len());
            pen.text(&note, (x + 10, y), 12.0, false, canvas::MUTED, Anchor::Left)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::trend::{Cell, TrendRow};
    use crate::domain::Rag;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn measure(s: &str) -> i32 {
        6 * s.chars().count() as i32
    }

    fn trend(start: &str, per: u16, ends: &[&str]) -> Trend {
        Trend {
            start: day(start),
            weeks_per_column: per,
            week_ends: ends.iter().map(|d| day(d)).collect(),
            rows: vec![TrendRow {
                project: 1,
                key: "api".into(),
                name: "Public API".into(),
                weeks: vec![
                    Cell {
                        reported: Some(Rag::Green),
                        stale: false
                    };
                    ends.len()
                ],
                now: Rag::Green,
            }],
        }
    }

    #[test]
    fn the_axis_begins_on_the_day_the_program_was_created() {
        // Created on a Wednesday: the first column holds its three days to Friday.
        let t = trend(
            "2026-11-04",
            1,
            &["2026-11-06", "2026-11-13", "2026-11-20", "2026-11-27"],
        );
        let cols = columns(&t, NAME_W, GRID_X1);
        assert_eq!(cols.len(), 4);
        assert_eq!((cols[0].from, cols[0].x0), (day("2026-11-04"), NAME_W));
        assert_eq!(cols[3].x1, GRID_X1);
        assert_eq!(cols[3].to, day("2026-11-27"));
        // A date axis: widths by days, each column starting where the last one ended.
        let full = cols[1].x1 - cols[1].x0;
        let part = cols[0].x1 - cols[0].x0;
        assert!((part * 7 - full * 3).abs() <= 7 * 2, "{part} vs {full}");
        for w in cols.windows(2) {
            assert_eq!(w[0].x1, w[1].x0);
            assert_eq!(w[0].to + Duration::days(1), w[1].from);
        }
        let labels = axis_labels(&cols, &measure);
        assert_eq!(
            labels[0],
            AxisLabel {
                x: NAME_W,
                text: "created Nov 4 2026".into(),
                created: true
            }
        );
        assert!(labels.iter().any(|l| l.text == "Nov 27"), "{labels:?}");
    }

    #[test]
    fn axis_labels_leave_out_those_that_would_touch() {
        let ends: Vec<String> = (0..52)
            .map(|w| (day("2025-12-05") + Duration::weeks(w)).to_string())
            .collect();
        let ends: Vec<&str> = ends.iter().map(String::as_str).collect();
        let t = trend("2025-12-01", 1, &ends);
        let cols = columns(&t, NAME_W, GRID_X1);
        let labels = axis_labels(&cols, &measure);
        // Today's column is labelled; some are left out; none touch.
        assert_eq!(labels[1].text, "Nov 27");
        assert!(labels.len() < 40, "{}", labels.len());
        let mut spans: Vec<(i32, i32)> = labels
            .iter()
            .map(|l| {
                let w = measure(&l.text);
                if l.created {
                    (l.x, l.x + w)
                } else {
                    (l.x - w / 2, l.x + w / 2)
                }
            })
            .collect();
        spans.sort();
        for w in spans.windows(2) {
            assert!(w[0].1 < w[1].0, "{spans:?}");
        }
    }

    #[test]
    fn a_program_created_today_has_one_full_width_column() {
        let t = trend("2026-11-27", 1, &["2026-11-27"]);
        let cols = columns(&t, NAME_W, GRID_X1);
        assert_eq!(cols.len(), 1);
        assert_eq!((cols[0].x0, cols[0].x1), (NAME_W, GRID_X1));
        let labels = axis_labels(&cols, &measure);
        assert!(labels[0].created);
    }
}
