//! Charts as PNG or SVG, drawn in-process with `plotters` on a bitmap (or as SVG) and a font bundled in the
//! binary (DejaVu Sans, `assets/fonts`), so nothing is read from the system or the network.
//! Every chart is drawn from the analysis ([`Analysed`]): forecasts, the critical path and
//! health are never worked out again here. The dependency map is also text: DOT and Mermaid.
//!
//! Nothing here reads the database: [`render`] draws one chart, [`draw_from`] several, from
//! what the caller loaded ([`history_since`] says which status history the trend needs).

mod canvas;
pub mod depmap;
mod heatmap;
pub mod timeline;
mod trend;

use chrono::{DateTime, Utc};

use crate::analysis::trend::{self as trend_analysis, Trend};
use crate::analysis::Analysed;
use crate::domain::{ChartKind, StatusUpdate};

pub use canvas::{encode, Format};
pub use depmap::{DepMap, Edge, NodeKind};
pub use timeline::MAX_ROWS as TIMELINE_MAX_ROWS;

/// The PNG media type, for attachments.
pub const PNG: &str = "image/png";

/// The SVG media type.
pub const SVG: &str = "image/svg+xml";

/// Weeks the health trend covers unless asked otherwise: 0, the whole life of the program.
pub const DEFAULT_WEEKS: u16 = 0;
/// At most a year of weeks: wider, a column is too thin to read.
pub const MAX_WEEKS: u16 = 52;

/// What a chart is drawn from beyond the analysis: the health trend's weeks.
pub enum Input<'a> {
    Timeline,
    Risks,
    Deps,
    Trend(&'a Trend),
}

impl Input<'_> {
    pub fn kind(&self) -> ChartKind {
        match self {
            Input::Timeline => ChartKind::Timeline,
            Input::Risks => ChartKind::Risks,
            Input::Deps => ChartKind::Deps,
            Input::Trend(_) => ChartKind::Trend,
        }
    }
}

/// The PNG of one chart.
pub fn render(input: Input<'_>, a: &Analysed<'_>) -> anyhow::Result<Vec<u8>> {
    draw(input, a, Format::Png)
}

/// One chart as `format`: PNG bytes, or an SVG document.
pub fn draw(input: Input<'_>, a: &Analysed<'_>, format: Format) -> anyhow::Result<Vec<u8>> {
    match input {
        Input::Timeline => timeline::render(a, format),
        Input::Risks => heatmap::render(a, format),
        Input::Deps => depmap::render(a, format),
        Input::Trend(t) => trend::render(a, t, format),
    }
}

/// One chart as an SVG document, to inline in a page.
pub fn svg(input: Input<'_>, a: &Analysed<'_>) -> anyhow::Result<String> {
    String::from_utf8(draw(input, a, Format::Svg)?)
        .map_err(|_| anyhow::anyhow!("an SVG chart was not UTF-8"))
}

/// The file name a chart goes by: `atlas-timeline.png`.
pub fn file_name(program: &str, kind: ChartKind) -> String {
    file_name_as(program, kind, Format::Png)
}

/// The file name of a chart in `format`: `atlas-timeline.png`, `atlas-timeline.svg`.
pub fn file_name_as(program: &str, kind: ChartKind, format: Format) -> String {
    let ext = match format {
        Format::Png => "png",
        Format::Svg => "svg",
    };
    format!("{program}-{}.{ext}", kind.as_str())
}

/// Where the status history the charts of `kinds` need starts: `Some` when they include
/// the trend, which reaches back to the day the program was created. The caller loads it
/// from the store (`store::status_history`) and hands it to [`draw_from`].
pub fn history_since(a: &Analysed<'_>, kinds: &[ChartKind], weeks: u16) -> Option<DateTime<Utc>> {
    kinds
        .contains(&ChartKind::Trend)
        .then(|| trend_analysis::window_start(a.snap, weeks))
}

/// Several charts of one analysis, in the order asked: each as (kind, PNG). `history` is
/// the status history since [`history_since`]; the trend cannot be drawn without it.
pub fn draw_from(
    a: &Analysed<'_>,
    kinds: &[ChartKind],
    weeks: u16,
    history: Option<&[StatusUpdate]>,
) -> anyhow::Result<Vec<(ChartKind, Vec<u8>)>> {
    let trend = match (kinds.contains(&ChartKind::Trend), history) {
        (true, Some(history)) => Some(trend_analysis::weekly(a.snap, &a.health, history, weeks)),
        (true, None) => anyhow::bail!("the trend's history was not loaded"),
        (false, _) => None,
    };
    kinds
        .iter()
        .map(|&kind| {
            let input = match (kind, &trend) {
                (ChartKind::Timeline, _) => Input::Timeline,
                (ChartKind::Risks, _) => Input::Risks,
                (ChartKind::Deps, _) => Input::Deps,
                (ChartKind::Trend, Some(t)) => Input::Trend(t),
                (ChartKind::Trend, None) => unreachable!("the trend is made when asked for"),
            };
            Ok((kind, render(input, a)?))
        })
        .collect()
}
