//! The health trend: a row per project, a column per week, each cell the RAG its owner had
//! reported by the end of that week (pale when that update had gone stale, grey before the
//! first), and beside them the health the analysis computes now.

use super::canvas::{self, lighter, paint, Anchor};
use crate::analysis::trend::Trend;
use crate::analysis::Analysed;

const WIDTH: u32 = 1200;
const NAME_W: i32 = 260;
const TOP: i32 = 96;
const ROW: i32 = 24;
const NOW_W: i32 = 90;
const FOOT: i32 = 46;
/// More rows than this and the picture stops being readable.
pub const MAX_ROWS: usize = 80;

pub fn render(a: &Analysed<'_>, t: &Trend) -> anyhow::Result<Vec<u8>> {
    let s = a.snap;
    // Past the limit, the worst now first: those are the ones a reader needs.
    let mut rows: Vec<&_> = t.rows.iter().collect();
    let total = rows.len();
    if total > MAX_ROWS {
        rows.sort_by_key(|r| std::cmp::Reverse(r.now));
        rows.truncate(MAX_ROWS);
    }
    let height = (TOP + ROW * rows.len().max(1) as i32 + FOOT) as u32;
    let weeks = t.week_ends.len().max(1) as i32;
    let grid_x1 = WIDTH as i32 - 30 - NOW_W - 20;
    let col = ((grid_x1 - NAME_W) / weeks).max(4);
    let title = format!(
        "{}: health over {} weeks",
        s.program.name.as_str(),
        t.week_ends.len()
    );
    paint(WIDTH, height, |pen| {
        pen.title(&title, (20, 26), 1100)?;
        pen.text(
            "What each owner reported by the end of each week; at the right, the health computed now from every signal",
            (20, 52),
            13.0,
            false,
            canvas::MUTED,
            Anchor::Left,
        )?;
        // Label every week when there is room, else every few.
        let every = ((48 / col) + 1).max(1) as usize;
        for (w, day) in t.week_ends.iter().enumerate() {
            if (t.week_ends.len() - 1 - w).is_multiple_of(every) {
                let x = NAME_W + col * w as i32 + col / 2;
                pen.text(
                    &day.format("%b %-d").to_string(),
                    (x, TOP - 14),
                    11.0,
                    false,
                    canvas::MUTED,
                    Anchor::Centre,
                )?;
            }
        }
        let now_x = grid_x1 + 20;
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
            for (w, cell) in r.weeks.iter().enumerate() {
                let x0 = NAME_W + col * w as i32;
                let fill = match cell.reported {
                    None => canvas::BAND,
                    Some(rag) if cell.stale => lighter(canvas::rag_colour(rag), 0.6),
                    Some(rag) => canvas::rag_colour(rag),
                };
                pen.rect((x0 + 1, y0 + 2), (x0 + col - 1, y0 + ROW - 2), fill)?;
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
