//! The risk heat map: open risks on a 5 × 5 grid of likelihood by impact, each cell shaded
//! by its band and showing how many risks sit there, with the top risks numbered in their
//! cells and listed beside the grid.

use super::canvas::{self, lighter, paint, Anchor};
use crate::analysis::Analysed;
use crate::domain::RiskBand;

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 700;
const GRID_X: i32 = 120;
const GRID_Y: i32 = 90;
const CELL: i32 = 104;
const LIST_X: i32 = GRID_X + 5 * CELL + 50;
/// Risks named in their cells and in the list.
const TOP_RISKS: usize = 10;

fn band_colour(b: RiskBand) -> canvas::Colour {
    match b {
        RiskBand::Low => canvas::GREEN,
        RiskBand::Medium => canvas::AMBER,
        RiskBand::High => canvas::ORANGE,
        RiskBand::Critical => canvas::RED,
    }
}

pub fn render(a: &Analysed<'_>, format: canvas::Format) -> anyhow::Result<Vec<u8>> {
    let s = a.snap;
    let open = a.open_risks();
    // counts[likelihood - 1][impact - 1]
    let mut counts = [[0usize; 5]; 5];
    for r in &open {
        counts[usize::from(r.likelihood.get()) - 1][usize::from(r.impact.get()) - 1] += 1;
    }
    let top: Vec<_> = open.iter().take(TOP_RISKS).collect();
    let title = format!("{}: risks", s.program.name.as_str());
    paint(format, WIDTH, HEIGHT, |pen| {
        pen.title(&title, (20, 28), 1100)?;
        pen.text(
            &format!(
                "{} open risks by likelihood × impact; score = likelihood × impact",
                open.len()
            ),
            (20, 56),
            13.0,
            false,
            canvas::MUTED,
            Anchor::Left,
        )?;
        for l in 1..=5u8 {
            for i in 1..=5u8 {
                let n = counts[usize::from(l) - 1][usize::from(i) - 1];
                let (x0, y0) = (
                    GRID_X + CELL * (i32::from(i) - 1),
                    GRID_Y + CELL * (5 - i32::from(l)),
                );
                let score = l * i;
                let base = band_colour(RiskBand::of_score(score));
                let fill = if n == 0 {
                    lighter(base, 0.8)
                } else {
                    lighter(base, 0.35)
                };
                pen.rect((x0, y0), (x0 + CELL, y0 + CELL), fill)?;
                pen.frame((x0, y0), (x0 + CELL, y0 + CELL), canvas::WHITE, 2)?;
                pen.text(
                    &score.to_string(),
                    (x0 + 8, y0 + 12),
                    11.0,
                    false,
                    canvas::MUTED,
                    Anchor::Left,
                )?;
                if n > 0 {
                    pen.text(
                        &n.to_string(),
                        (x0 + CELL / 2, y0 + CELL / 2 - 10),
                        28.0,
                        true,
                        canvas::INK,
                        Anchor::Centre,
                    )?;
                }
                let here: Vec<String> = top
                    .iter()
                    .filter(|r| r.likelihood.get() == l && r.impact.get() == i)
                    .map(|r| format!("#{}", r.number))
                    .collect();
                if !here.is_empty() {
                    let line = pen.fit(&here.join(" "), 12.0, true, CELL - 10);
                    pen.text(
                        &line,
                        (x0 + CELL / 2, y0 + CELL - 18),
                        12.0,
                        true,
                        canvas::DARK_RED,
                        Anchor::Centre,
                    )?;
                }
            }
        }
        for k in 1..=5 {
            pen.text(
                &k.to_string(),
                (GRID_X - 14, GRID_Y + CELL * (5 - k) + CELL / 2),
                14.0,
                false,
                canvas::INK,
                Anchor::Centre,
            )?;
            pen.text(
                &k.to_string(),
                (GRID_X + CELL * (k - 1) + CELL / 2, GRID_Y + 5 * CELL + 16),
                14.0,
                false,
                canvas::INK,
                Anchor::Centre,
            )?;
        }
        pen.text(
            "likelihood ↑",
            (GRID_X - 14, GRID_Y - 16),
            13.0,
            true,
            canvas::INK,
            Anchor::Centre,
        )?;
        pen.text(
            "impact →",
            (GRID_X + 5 * CELL / 2, GRID_Y + 5 * CELL + 42),
            13.0,
            true,
            canvas::INK,
            Anchor::Centre,
        )?;

        pen.text(
            "Top risks",
            (LIST_X, GRID_Y + 4),
            15.0,
            true,
            canvas::INK,
            Anchor::Left,
        )?;
        if top.is_empty() {
            pen.text(
                &format!("No open risks. `risk add {} …` records one.", s.program.key),
                (LIST_X, GRID_Y + 34),
                13.0,
                false,
                canvas::MUTED,
                Anchor::Left,
            )?;
        }
        let room = WIDTH as i32 - LIST_X - 20;
        for (n, r) in top.iter().enumerate() {
            let y = GRID_Y + 34 + 46 * n as i32;
            let colour = band_colour(r.band());
            pen.rect((LIST_X, y - 9), (LIST_X + 40, y + 9), colour)?;
            pen.text(
                &format!("#{}", r.number),
                (LIST_X + 20, y),
                12.0,
                true,
                canvas::INK,
                Anchor::Centre,
            )?;
            pen.text(
                &pen.fit(r.title.as_str(), 13.0, true, room - 52),
                (LIST_X + 52, y),
                13.0,
                true,
                canvas::INK,
                Anchor::Left,
            )?;
            let owner = a
                .who(r.owner)
                .map(|m| format!("@{}", m.name))
                .unwrap_or_else(|| "no owner".into());
            let detail = format!(
                "{} {} (L{} × I{}) · {owner} · {}",
                r.band().as_str(),
                r.score(),
                r.likelihood.get(),
                r.impact.get(),
                r.state.as_str()
            );
            pen.text(
                &pen.fit(&detail, 12.0, false, room - 52),
                (LIST_X + 52, y + 18),
                12.0,
                false,
                canvas::MUTED,
                Anchor::Left,
            )?;
        }
        let mut x = GRID_X;
        let y = HEIGHT as i32 - 24;
        for band in RiskBand::ALL {
            pen.rect(
                (x, y - 7),
                (x + 18, y + 7),
                lighter(band_colour(*band), 0.35),
            )?;
            let label = match band {
                RiskBand::Low => "low ≤ 4",
                RiskBand::Medium => "medium 5–9",
                RiskBand::High => "high 10–14",
                RiskBand::Critical => "critical ≥ 15",
            };
            pen.text(label, (x + 24, y), 12.0, false, canvas::INK, Anchor::Left)?;
            x += 30 + pen.text_width(label, 12.0, false) + 20;
        }
        Ok(())
    })
}
