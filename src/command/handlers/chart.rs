//! Charts: `chart show` draws one as PNG, or as SVG with `--format svg`. Discord uploads it with the reply; the console
//! writes it with `--out`, and says how without; Slack, which takes no files through a
//! response URL, gets the reply's words.

use super::analysis::{load, out_allowed};
use super::{refuse, Session};
use crate::analysis::trend;
use crate::analysis::Analysed;
use crate::chart::{self, DEFAULT_WEEKS, MAX_WEEKS};
use crate::command::grammar::ChartCmd;
use crate::command::{Ctx, Result};
use crate::domain::{ChartKind, Platform};
use crate::reply::{Attachment, Reply, Text};
use crate::store;

/// `--weeks` checked against the chart it is for.
fn weeks_for(kind: ChartKind, weeks: Option<u16>) -> Result<u16> {
    match (kind, weeks) {
        (_, None) => Ok(DEFAULT_WEEKS),
        (ChartKind::Trend, Some(w)) if (1..=MAX_WEEKS).contains(&w) => Ok(w),
        (ChartKind::Trend, Some(w)) => refuse(format!(
            "--weeks is a number of weeks from 1 to {MAX_WEEKS}, not {w}"
        )),
        (other, Some(_)) => refuse(format!(
            "--weeks is for the trend chart only, not the {}: `chart show trend --weeks 12`",
            other.as_str()
        )),
    }
}

/// What a chart shows, in a sentence, from the analysis it was drawn from.
fn caption(a: &Analysed<'_>, kind: ChartKind, weeks: u16) -> Text {
    let s = a.snap;
    match kind {
        ChartKind::Timeline => {
            let live = s
                .milestones
                .iter()
                .enumerate()
                .filter(|(i, _)| a.forecasts.milestone(*i).is_some())
                .count();
            let mut t = Text::plain(format!(
                "{live} milestones: baseline (grey) above forecast, the target as a hollow diamond and the forecast as a filled one (red when late), weekly ticks, today's line, the critical path outlined, arrows from what each waits on, dependencies arriving late marked."
            ));
            if let Some(end) = a.launch() {
                if let Some(fc) = a.forecasts.milestone(end) {
                    t = t
                        .text(" The path ends at ")
                        .code(s.milestones[end].key.as_str())
                        .text(format!(
                            ", forecast {} (float {:+}).",
                            fc.forecast, fc.float_days
                        ));
                }
            }
            t
        }
        ChartKind::Risks => Text::plain(format!(
            "{} open risks on likelihood × impact, the top ones numbered.",
            a.open_risks().len()
        )),
        ChartKind::Deps => Text::plain(format!(
            "{} dependencies between teams, coloured by state; boxes filled by health. `path map {} --format mermaid` gives it as text.",
            s.deps.len(),
            s.program.key
        )),
        ChartKind::Trend if weeks == DEFAULT_WEEKS => Text::plain(
            "Each project's reported RAG at the end of each week since the program was created, and its health now.",
        ),
        ChartKind::Trend => Text::plain(format!(
            "Each project's reported RAG at the end of each of the last {weeks} weeks (or since the program was created), and its health now."
        )),
    }
}

/// A chart as a reply: the PNG attached, saved with `out`, and where it cannot be shown,
/// how to get it.
pub(crate) fn chart_reply(
    s: &Session<'_>,
    a: &Analysed<'_>,
    kind: ChartKind,
    weeks: u16,
    png: Vec<u8>,
    out: Option<String>,
) -> Reply {
    reply_in(s.ctx, a, kind, weeks, (png, chart::Format::Png), out)
}

/// `--format`: PNG unless SVG is asked for.
fn format_of(raw: Option<&str>) -> Result<chart::Format> {
    match raw.map(|f| f.trim().to_ascii_lowercase()).as_deref() {
        None | Some("png") => Ok(chart::Format::Png),
        Some("svg") => Ok(chart::Format::Svg),
        Some(_) => refuse(format!(
            "--format `{}`: a chart is drawn as png (the default) or svg",
            crate::domain::truncate_for_error(raw.unwrap_or_default())
        )),
    }
}

/// [`chart_reply`] for a command from `ctx`, where no session is at hand (on a blocking
/// thread).
fn reply_in(
    ctx: &Ctx,
    a: &Analysed<'_>,
    kind: ChartKind,
    weeks: u16,
    (picture, format): (Vec<u8>, chart::Format),
    out: Option<String>,
) -> Reply {
    let key = a.snap.program.key.as_str();
    let name = chart::file_name_as(key, kind, format);
    let bytes = picture.len();
    let mut reply = Reply::new(format!(
        "{}: {}",
        a.snap.program.name.as_str(),
        match kind {
            ChartKind::Timeline => "timeline",
            ChartKind::Risks => "risk heat map",
            ChartKind::Deps => "dependency map",
            ChartKind::Trend => "health trend",
        }
    ))
    .paragraph(caption(a, kind, weeks));
    let command = match kind {
        ChartKind::Trend if weeks != DEFAULT_WEEKS => {
            format!("chart show {key} trend --weeks {weeks}")
        }
        _ => format!("chart show {key} {}", kind.as_str()),
    };
    let command = match format {
        chart::Format::Png => command,
        chart::Format::Svg => format!("{command} --format svg"),
    };
    if out.is_none() {
        match ctx.platform {
            Platform::Discord => {}
            Platform::Console => {
                reply = reply.paragraph(
                    Text::plain("A chart is a picture: ")
                        .code(format!("{command} --out {name}"))
                        .text(" writes it to a file."),
                )
            }
            // With a public address the Slack app shows it as an image at a signed link.
            Platform::Slack if ctx.public_url.is_some() => {}
            _ => {
                reply = reply.paragraph(
                    Text::plain("Slack takes no files here: on Discord ")
                        .code("/chart show")
                        .text(" uploads it, and on the console ")
                        .code(format!("{command} --out {name}"))
                        .text(" writes it."),
                )
            }
        }
    }
    let mut file = Attachment::png(name.clone(), picture);
    if format == chart::Format::Svg {
        file.media_type = chart::SVG.into();
    }
    file.save_to = out;
    reply
        .attach(file)
        .shows_chart(a.snap.program.key.clone(), kind)
        .data(serde_json::json!({
            "chart": kind.as_str(),
            "program": key,
            "file": name,
            "bytes": bytes,
        }))
}

pub async fn chart(s: &mut Session<'_>, c: ChartCmd) -> Result<Reply> {
    let ChartCmd::Show {
        target,
        weeks,
        format,
        out,
    } = c;
    let (program, kind) = target.split()?;
    let kind = ChartKind::parse(kind)?;
    let weeks = weeks_for(kind, weeks)?;
    let format = format_of(format.as_deref())?;
    out_allowed(s, out.as_deref(), "atlas-timeline.png")?;
    let (scope, p) = s.program(program).await?;
    let snap = load(s, &scope, p, Some(s.ctx.now)).await?;
    let history = match kind {
        ChartKind::Trend => {
            let since = trend::window_start(&snap, weeks);
            Some(store::status_history(s.conn(), &scope, since).await?)
        }
        _ => None,
    };
    let ctx = s.ctx.clone();
    // Analysing and drawing a large program is CPU work (tens of ms): on a blocking thread
    // it never holds up the gateway, Slack's 3 s, or other commands.
    let drawn = tokio::task::spawn_blocking(move || {
        let a = Analysed::of(&snap);
        let trend = history.map(|h| trend::weekly(&snap, &a.health, &h, weeks));
        let input = match (kind, &trend) {
            (ChartKind::Trend, Some(t)) => chart::Input::Trend(t),
            (ChartKind::Trend, None) => anyhow::bail!("the trend's history was not loaded"),
            (ChartKind::Timeline, _) => chart::Input::Timeline,
            (ChartKind::Risks, _) => chart::Input::Risks,
            (ChartKind::Deps, _) => chart::Input::Deps,
        };
        let picture = chart::draw(input, &a, format)?;
        anyhow::Ok(reply_in(&ctx, &a, kind, weeks, (picture, format), out))
    })
    .await
    .map_err(|e| anyhow::anyhow!("drawing the chart stopped: {e}"))?;
    Ok(drawn?)
}
