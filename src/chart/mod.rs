//! Charts as PNG, drawn in-process with `plotters` on a bitmap and a font bundled in the
//! binary (DejaVu Sans, `assets/fonts`), so nothing is read from the system or the network.
//! Every chart is drawn from the analysis ([`Analysed`]): forecasts, the critical path and
//! health are never worked out again here. The dependency map is also text: DOT and Mermaid.
//!
//! [`render`] is the pure entry point; [`draw`] loads what a chart needs first, for callers
//! that hold a connection (commands, digest jobs, an HTTP handler).

mod canvas;
pub mod depmap;
mod heatmap;
mod timeline;
mod trend;

use chrono::{DateTime, Utc};

use crate::analysis::trend::{self as trend_analysis, Trend};
use crate::analysis::Analysed;
use crate::domain::{ChartKind, Program};
use crate::store::{self, Conn, Scope};

pub use canvas::encode;
pub use depmap::{DepMap, Edge, NodeKind};
pub use timeline::MAX_ROWS as TIMELINE_MAX_ROWS;

/// The PNG media type, for attachments.
pub const PNG: &str = "image/png";

/// Weeks the health trend covers unless asked otherwise.
pub const DEFAULT_WEEKS: u16 = 8;
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
    match input {
        Input::Timeline => timeline::render(a),
        Input::Risks => heatmap::render(a),
        Input::Deps => depmap::render(a),
        Input::Trend(t) => trend::render(a, t),
    }
}

/// The file name a chart goes by: `atlas-timeline.png`.
pub fn file_name(program: &str, kind: ChartKind) -> String {
    format!("{program}-{}.png", kind.as_str())
}

/// Loads what `kind` needs and draws it: the program's snapshot as of `now`, and for the
/// trend the status history of its `weeks`.
pub async fn draw(
    conn: &mut Conn,
    scope: &Scope,
    program: Program,
    now: DateTime<Utc>,
    kind: ChartKind,
    weeks: u16,
) -> anyhow::Result<Vec<u8>> {
    let snap = store::load_snapshot(conn, scope, program, now, Some(now)).await?;
    let a = Analysed::of(&snap);
    draw_from(conn, scope, &a, &[kind], weeks)
        .await
        .map(|mut v| v.remove(0).1)
}

/// Several charts of one analysis, in the order asked: each as (kind, PNG).
pub async fn draw_from(
    conn: &mut Conn,
    scope: &Scope,
    a: &Analysed<'_>,
    kinds: &[ChartKind],
    weeks: u16,
) -> anyhow::Result<Vec<(ChartKind, Vec<u8>)>> {
    let trend = if kinds.contains(&ChartKind::Trend) {
        let since = trend_analysis::window_start(a.snap, weeks);
        let history = store::status_history(conn, scope, since).await?;
        Some(trend_analysis::weekly(a.snap, &a.health, &history, weeks))
    } else {
        None
    };
    kinds
        .iter()
        .map(|&kind| {
            let input = match (kind, &trend) {
                (ChartKind::Timeline, _) => Input::Timeline,
                (ChartKind::Risks, _) => Input::Risks,
                (ChartKind::Deps, _) => Input::Deps,
                (ChartKind::Trend, Some(t)) => Input::Trend(t),
                (ChartKind::Trend, None) => unreachable!("the trend is loaded when asked for"),
            };
            Ok((kind, render(input, a)?))
        })
        .collect()
}
