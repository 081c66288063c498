//! Read-only commands over the analysis: digests, the critical path, what-ifs and reports.
//! Each loads one snapshot in one read transaction and renders what the analysis says.

use chrono::{DateTime, Utc};

use super::common::{not_found, Listing};
use super::{parse_key, refuse, Session};
use crate::analysis::Analysed;
use crate::analysis::Snapshot;
use crate::chart;
use crate::command::grammar::{DigestCmd, PathCmd, ProgramArg, ReportArgs, ReportCmd, Target};
use crate::command::Result;
use crate::digest::{self, PathStep};
use crate::domain::{
    Audience, ChartKind, DateSpec, Days, Format, MapFormat, MilestoneState, Platform, Program,
};
use crate::reply::{discord, markdown, slack, Attachment, Reply, Text, Tone};
use crate::report;
use crate::store::{self, Scope};

/// The start of `spec`'s day in the program's timezone.
fn day_start(p: &Program, spec: &DateSpec, now: DateTime<Utc>) -> DateTime<Utc> {
    let day = spec.resolve(p.today(now));
    let tz = p.timezone.tz();
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    // A midnight skipped by a DST change starts the day at the first instant after it.
    chrono::TimeZone::from_local_datetime(&tz, &midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| midnight.and_utc())
}

async fn snapshot(
    s: &mut Session<'_>,
    program: Option<&str>,
    events_since: Option<DateTime<Utc>>,
) -> Result<Snapshot> {
    let (scope, p) = s.program(program).await?;
    load(s, &scope, p, events_since).await
}

pub(super) async fn load(
    s: &mut Session<'_>,
    scope: &Scope,
    p: Program,
    events_since: Option<DateTime<Utc>>,
) -> Result<Snapshot> {
    let now = s.ctx.now;
    Ok(store::load_snapshot(s.conn(), scope, p, now, events_since).await?)
}

fn json_attachment(name: String, v: &impl serde::Serialize) -> Result<Attachment> {
    Ok(Attachment {
        filename: name,
        media_type: "application/json".into(),
        body: (serde_json::to_string_pretty(v).map_err(anyhow::Error::from)? + "\n").into(),
        save_to: None,
    })
}

/// A reply in one of the digest formats: the reply itself for text, else the rendered
/// payload as an attachment that the console prints as it is.
pub(crate) fn in_format(
    reply: Reply,
    format: Format,
    stem: &str,
    value: &impl serde::Serialize,
) -> Result<Reply> {
    let attachment = match format {
        Format::Text => return Ok(reply.data(value)),
        Format::Markdown => Attachment {
            filename: format!("{stem}.md"),
            media_type: "text/markdown".into(),
            body: markdown::render(&reply).into(),
            save_to: None,
        },
        Format::Discord => {
            json_attachment(format!("{stem}.discord.json"), &discord::render(&reply))?
        }
        Format::Slack => json_attachment(format!("{stem}.slack.json"), &slack::render(&reply))?,
        Format::Json => json_attachment(format!("{stem}.json"), value)?,
    };
    let title = format!("{} ({})", reply.title, format.as_str());
    Ok(Reply::new(title).attach(attachment).data(value))
}

pub async fn digest(s: &mut Session<'_>, c: DigestCmd) -> Result<Reply> {
    match c {
        DigestCmd::Subscribe {
            portfolio: Some(key),
            audience,
            at,
            slack_webhook,
            channel,
            ..
        } => super::portfolio::subscribe(s, &key, audience, &at, slack_webhook, channel).await,
        DigestCmd::Subscribe {
            program: ProgramArg { program },
            audience,
            at,
            slack_webhook,
            channel,
            portfolio: None,
        } => subscribe(s, program.as_deref(), audience, &at, slack_webhook, channel).await,
        DigestCmd::Show {
            portfolio: Some(key),
            audience,
            format,
            since,
            ..
        } => {
            if since.is_some() {
                return refuse(
                    "--since is for a program's digest: a portfolio digest shows each program as it stands now",
                );
            }
            super::portfolio::show_digest(s, &key, audience, format).await
        }
        DigestCmd::Show {
            program: ProgramArg { program },
            audience,
            format,
            since,
            portfolio: None,
        } => show_digest(s, program.as_deref(), audience, format, since).await,
        DigestCmd::Note { target, audience } => digest_note(s, &target, audience).await,
    }
}

/// `digest note`: the summary that leads the next digest of the audience.
async fn digest_note(
    s: &mut Session<'_>,
    target: &crate::command::grammar::Noted,
    audience: Audience,
) -> Result<Reply> {
    let (program, text) = target.split()?;
    let body = crate::domain::Prose::parse(text)?;
    if body.as_str().is_empty() {
        return refuse("the note is empty: write the summary in quotes after the program");
    }
    let (scope, p) = s.program_for_change(program).await?;
    s.require(
        &scope,
        &p,
        crate::domain::Role::Editor,
        "write a digest note",
    )
    .await?;
    let author = s.actor_id().await?;
    let note = crate::domain::DigestNote {
        audience,
        body: body.as_str().to_owned(),
        author: Some(author),
        written_at: s.ctx.now,
    };
    store::insert_digest_note(s.conn(), &scope, &note).await?;
    s.event(
        Some(&scope),
        "digest.noted",
        format!("digest:{}", audience.as_str()),
        None::<&()>,
        Some(&note),
    )
    .await?;
    Ok(Reply::success(format!(
        "The next {} digest of {} leads with your note",
        audience.as_str(),
        p.key
    ))
    .paragraph(body.as_str()))
}

/// `digest subscribe`: a digest schedule, set as `schedule set … digest` sets it.
async fn subscribe(
    s: &mut Session<'_>,
    program: Option<&str>,
    audience: Audience,
    at: &str,
    slack_webhook: Option<String>,
    channel: Option<String>,
) -> Result<Reply> {
    let spec = crate::schedule::ScheduleSpec::parse(at)?;
    super::schedule::set_schedule(
        s,
        program,
        crate::domain::ScheduleKind::Digest,
        spec,
        Some(audience),
        channel,
        slack_webhook,
    )
    .await
}

async fn show_digest(
    s: &mut Session<'_>,
    program: Option<&str>,
    audience: Audience,
    format: Format,
    since: Option<DateSpec>,
) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let since = digest::period_start(s.ctx.now, since.map(|d| day_start(&p, &d, s.ctx.now)));
    if since >= s.ctx.now {
        return refuse("--since must be before now: the digest covers a period that has started");
    }
    let (note, was) = store::digest_context(s.conn(), &scope, &p, audience, since).await?;
    let events = digest::events_from(audience, since, s.ctx.now, p.timezone.tz());
    let snap = load(s, &scope, p, Some(events)).await?;
    // Analysing and rendering a large program is CPU work: on a blocking thread it
    // holds up neither the gateway nor other commands.
    tokio::task::spawn_blocking(move || {
        let a = Analysed::of(&snap);
        let mut d = digest::build(&a, audience, since);
        d.note = note;
        d.was = was;
        let reply = digest::to_reply(&d);
        let stem = format!("{}-{}-digest", d.program.key, audience.as_str());
        in_format(reply, format, &stem, &d)
    })
    .await
    .map_err(|e| anyhow::anyhow!("building the digest stopped: {e}"))?
}

fn path_reply(snap: &Snapshot, steps: &[PathStep]) -> Reply {
    let key = snap.program.key.as_str();
    let mut r = Reply::new(format!("{}: critical path", snap.program.name.as_str()));
    let Some(end) = steps.last() else {
        return r.paragraph(
            Text::plain("No milestones yet: ")
                .code(format!("milestone add {key} …"))
                .text(" adds one."),
        );
    };
    let late = end.float_days.is_some_and(|d| d < 0);
    r = r.tone(if late { Tone::Warning } else { Tone::Info });
    let steps_words = if steps.len() == 1 {
        "Its own target holds it: nothing before it is late enough to move it.".to_owned()
    } else {
        format!("{} steps; each waits on the one before.", steps.len())
    };
    r = r.paragraph(Text::plain("Ends at ").code(&end.name).text(format!(
        ", forecast {} against a target of {} (float {}). {steps_words}",
        end.forecast,
        end.target.map(|d| d.to_string()).unwrap_or_default(),
        end.float_days.map(|d| format!("{d:+}")).unwrap_or_default(),
    )));
    r.table(
        &["Step", "What", "Owner", "Target", "Forecast", "Float"],
        steps
            .iter()
            .map(|p| {
                vec![
                    Text::new().code(&p.name),
                    Text::plain(&p.title),
                    Text::plain(crate::reply::Mention::plain(p.owner.as_ref())),
                    Text::plain(p.target.map(|d| d.to_string()).unwrap_or_default()),
                    Text::new().date(p.forecast),
                    Text::plain(p.float_days.map(|d| format!("{d:+}")).unwrap_or_default()),
                ]
            })
            .collect(),
    )
}

#[derive(serde::Serialize)]
struct WhatIfLine {
    milestone: String,
    title: String,
    owner: Option<crate::reply::Mention>,
    target: chrono::NaiveDate,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    days: i64,
    float_days: i64,
}

pub async fn path(s: &mut Session<'_>, c: PathCmd) -> Result<Reply> {
    match c {
        PathCmd::Show {
            program: ProgramArg { program },
            near,
        } => show_path(s, program.as_deref(), near).await,
        PathCmd::Whatif { target, slip } => what_if(s, &target, slip).await,
        PathCmd::Map {
            program: ProgramArg { program },
            format,
            out,
        } => map(s, program.as_deref(), format, out).await,
    }
}

/// One milestone's place in the schedule, as `path show --json` gives it.
#[derive(serde::Serialize)]
struct Timing {
    milestone: String,
    title: String,
    owner: Option<crate::reply::Mention>,
    target: chrono::NaiveDate,
    /// The forecast: never before the target.
    forecast: chrono::NaiveDate,
    /// The earliest its predecessors let it finish.
    earliest: chrono::NaiveDate,
    /// Latest finish without making a target late; none when nothing after it has one.
    latest: Option<chrono::NaiveDate>,
    /// Latest − earliest in working days.
    float_days: i64,
    critical: bool,
}

async fn show_path(s: &mut Session<'_>, program: Option<&str>, near: u32) -> Result<Reply> {
    // The schedule and the people who own it: no statuses, risks, RAID log or events.
    let (scope, p) = s.program(program).await?;
    let now = s.ctx.now;
    let mut snap = store::load_schedule(s.conn(), &scope, p, now).await?;
    snap.people = store::people(s.conn(), scope.tenant()).await?;
    let a = Analysed::of(&snap);
    let steps = a.critical_path();
    let mut reply = path_reply(&snap, &steps);
    // Held by its own target: say what comes next in line, and how much room is left.
    if steps.len() == 1 {
        if let Some((node, by)) = a.launch().and_then(|i| a.forecasts.nearest_constraint(i)) {
            let name = match node {
                crate::analysis::Node::Milestone(i) => {
                    format!("`{}`", snap.milestones[i].key)
                }
                crate::analysis::Node::Dependency(i) => {
                    format!("dependency #{}", snap.deps[i].number)
                }
            };
            let room = (steps[0].forecast - by).num_days();
            reply = reply.paragraph(Text::marked(&format!(
                "The closest constraint is {name}, which allows {by}: {} of room.",
                crate::domain::n_days(room)
            )));
        }
    }
    // What is nearly critical: off the chain, with little float.
    let mut timings: Vec<Timing> = snap
        .milestones
        .iter()
        .enumerate()
        .filter(|(_, m)| m.state == MilestoneState::Planned)
        .filter_map(|(i, m)| {
            let fc = a.forecasts.milestone(i)?;
            Some(Timing {
                milestone: m.key.as_str().to_owned(),
                title: m.title.as_str().to_owned(),
                owner: snap.milestone_owner(m).map(crate::reply::Mention::from),
                target: m.target,
                forecast: fc.forecast,
                earliest: fc.earliest,
                latest: fc.latest,
                float_days: fc.float_days,
                critical: fc.critical,
            })
        })
        .collect();
    timings.sort_by(|a, b| {
        (a.float_days, a.earliest, &a.milestone).cmp(&(b.float_days, b.earliest, &b.milestone))
    });
    let near_rows: Vec<Vec<Text>> = timings
        .iter()
        .filter(|t| !t.critical && t.latest.is_some() && t.float_days <= i64::from(near))
        .map(|t| {
            vec![
                Text::new().code(&t.milestone),
                Text::plain(&t.title),
                Text::plain(crate::reply::Mention::plain(t.owner.as_ref())),
                Text::new().date(t.target),
                Text::new().date(t.forecast),
                Text::plain(format!("{:+}", t.float_days)),
            ]
        })
        .collect();
    if !near_rows.is_empty() {
        reply = reply
            .heading(format!(
                "Near-critical (float ≤ {near} working days, {})",
                near_rows.len()
            ))
            .table(
                &["Milestone", "What", "Owner", "Target", "Forecast", "Float"],
                near_rows,
            );
    }
    Ok(reply.data(serde_json::json!({ "chain": steps, "milestones": timings })))
}

/// `path whatif`: what a slip would move, changing nothing.
async fn what_if(s: &mut Session<'_>, target: &Target, slip: Days) -> Result<Reply> {
    let (program, key) = target.split()?;
    let key = parse_key(key, "milestone")?;
    if slip.get() == 0 {
        return refuse("--slip must be at least 1 day");
    }
    let snap = snapshot(s, program, Some(s.ctx.now)).await?;
    let Some(index) = snap.milestones.iter().position(|m| m.key == key) else {
        return not_found(
            format_args!("milestone `{key}`"),
            &snap.program,
            Some(Listing::MILESTONES),
        );
    };
    let m = &snap.milestones[index];
    if m.state != MilestoneState::Planned {
        return refuse(format!(
            "milestone `{key}` is {}: only planned milestones can slip",
            m.state.as_str()
        ));
    }
    let a = Analysed::of(&snap);
    let days = i64::from(slip.get());
    let shifts = a.forecasts.what_if(index, days);
    let lines: Vec<WhatIfLine> = shifts
        .iter()
        .map(|sh| {
            let m = &snap.milestones[sh.milestone];
            WhatIfLine {
                milestone: m.key.as_str().to_owned(),
                title: m.title.as_str().to_owned(),
                owner: snap.milestone_owner(m).map(crate::reply::Mention::from),
                target: m.target,
                from: sh.from,
                to: sh.to,
                days: sh.days(),
                float_days: (m.target - sh.to).num_days(),
            }
        })
        .collect();
    let downstream = lines.iter().filter(|l| l.milestone != key.as_str()).count();
    let newly_late = lines
        .iter()
        .filter(|l| l.milestone != key.as_str() && l.float_days < 0)
        .count();
    let mut r = Reply::new(format!(
        "What if {key} slips {}?",
        crate::domain::n_days(days)
    ))
    .tone(if newly_late > 0 {
        Tone::Warning
    } else {
        Tone::Info
    })
    .paragraph(Text::plain(format!(
        "{}. Hypothetical: nothing is changed and nobody is told.",
        match (downstream, newly_late) {
            (0, _) => "No other milestone moves".to_owned(),
            (1, 1) => "1 other milestone moves; it would be past its target".to_owned(),
            (1, _) => "1 other milestone moves; it stays within its target".to_owned(),
            (n, l) => format!("{n} other milestones move; {l} of them would be past their target"),
        }
    )));
    if !lines.is_empty() {
        r = r.table(
            &["Milestone", "Owner", "Forecast", "Moves", "Target", "Float"],
            lines
                .iter()
                .map(|l| {
                    vec![
                        Text::new().code(&l.milestone),
                        Text::plain(crate::reply::Mention::plain(l.owner.as_ref())),
                        Text::plain(format!("{} → {}", l.from, l.to)),
                        Text::plain(crate::domain::signed_days(l.days)),
                        Text::new().date(l.target),
                        Text::plain(format!("{:+}", l.float_days)),
                    ]
                })
                .collect(),
        );
    }
    Ok(r.data(&lines))
}

/// `path map`: the dependency map as Mermaid, DOT or a picture.
async fn map(
    s: &mut Session<'_>,
    program: Option<&str>,
    format: MapFormat,
    out: Option<String>,
) -> Result<Reply> {
    out_allowed(s, out.as_deref(), "atlas-deps.mmd")?;
    let (scope, p) = s.program(program).await?;
    let snap = load(s, &scope, p, Some(s.ctx.now)).await?;
    let a = Analysed::of(&snap);
    let key = snap.program.key.as_str();
    let map = chart::DepMap::of(&a);
    let (body, ext, media_type) = match format {
        MapFormat::Png => {
            let png = chart::render(chart::Input::Deps, &a)?;
            return Ok(super::chart::chart_reply(
                s,
                &a,
                ChartKind::Deps,
                chart::DEFAULT_WEEKS,
                png,
                out,
            ));
        }
        MapFormat::Mermaid => (map.mermaid(), "mmd", "text/vnd.mermaid"),
        MapFormat::Dot => (map.dot(), "dot", "text/vnd.graphviz"),
    };
    let title = format!(
        "{}: dependency map ({})",
        snap.program.name.as_str(),
        format.as_str()
    );
    Ok(Reply::new(title)
        .attach(Attachment {
            filename: format!("{key}-deps.{ext}"),
            media_type: media_type.into(),
            body: body.into(),
            save_to: out,
        })
        .data(&map))
}

/// Refuses `--out` where Drumbeat cannot write a file for the one who asked.
pub(super) fn out_allowed(s: &Session<'_>, out: Option<&str>, example: &str) -> Result<()> {
    let Some(out) = out else {
        return Ok(());
    };
    if s.ctx.platform != Platform::Console {
        return refuse("--out writes a file where Drumbeat runs: it works on the console and in `drumbeat exec` only");
    }
    if out.trim().is_empty() {
        return refuse(format!("--out needs a file name, e.g. --out {example}"));
    }
    Ok(())
}

/// With `--out`, the report as Markdown and its charts beside it.
async fn with_out(
    s: &mut Session<'_>,
    scope: &Scope,
    a: &Analysed<'_>,
    reply: Reply,
    args: &ReportArgs,
    stem: &str,
    charts: &[ChartKind],
) -> Result<Reply> {
    out_allowed(s, args.out.as_deref(), "postmortem.md")?;
    let Some(out) = &args.out else {
        return Ok(reply);
    };
    if is_html(out) {
        return refuse(format!(
            "--out {}: only the status report is written as a page (`report status {} --out {}`); this report is written as Markdown, e.g. --out {stem}.md",
            crate::domain::truncate_for_error(out),
            a.snap.program.key,
            crate::domain::truncate_for_error(out),
        ));
    }
    let body = markdown::render(&reply);
    let mut reply = reply.attach(Attachment {
        filename: format!("{stem}.md"),
        media_type: "text/markdown".into(),
        body: body.into(),
        save_to: Some(out.clone()),
    });
    let key = a.snap.program.key.as_str();
    let weeks = chart::DEFAULT_WEEKS;
    let history = match chart::history_since(a, charts, weeks) {
        Some(since) => Some(store::status_history(s.conn(), scope, since).await?),
        None => None,
    };
    for (kind, png) in chart::draw_from(a, charts, weeks, history.as_deref())? {
        let mut file = Attachment::png(chart::file_name(key, kind), png);
        file.save_to = Some(out.clone());
        reply = reply.attach(file);
    }
    Ok(reply)
}

/// Analyses the snapshot and renders a report. A report for chat is CPU work done on a
/// blocking thread, so a large program holds up neither the gateway nor other commands; one
/// written to files with its charts (`--out`, console and `exec` only) is drawn here.
async fn build_report(
    s: &mut Session<'_>,
    scope: &Scope,
    snap: Snapshot,
    args: &ReportArgs,
    stem: &str,
    charts: &[ChartKind],
    render: impl FnOnce(&Analysed<'_>) -> Reply + Send + 'static,
) -> Result<Reply> {
    if args.out.is_none() {
        out_allowed(s, None, "postmortem.md")?;
        return tokio::task::spawn_blocking(move || render(&Analysed::of(&snap)))
            .await
            .map_err(|e| anyhow::anyhow!("building the report stopped: {e}").into());
    }
    let a = Analysed::of(&snap);
    let reply = render(&a);
    with_out(s, scope, &a, reply, args, stem, charts).await
}

pub async fn report(s: &mut Session<'_>, c: ReportCmd) -> Result<Reply> {
    match c {
        ReportCmd::Charter(args) => charter_report(s, &args).await,
        ReportCmd::Status { args, since } => status_report(s, &args, since).await,
        ReportCmd::Agenda(args) => agenda(s, &args).await,
        ReportCmd::Postmortem {
            args,
            milestone,
            actions,
        } => postmortem(s, &args, milestone, actions).await,
        ReportCmd::Readiness { target, out } => readiness_report(s, &target, out).await,
        ReportCmd::Scorecard { args, weeks } => scorecard(s, &args, weeks).await,
    }
}

async fn readiness_report(
    s: &mut Session<'_>,
    target: &crate::command::grammar::Target,
    out: Option<String>,
) -> Result<Reply> {
    let (program, key) = target.split()?;
    let args = ReportArgs {
        program: ProgramArg {
            program: program.map(str::to_owned),
        },
        out,
    };
    let (scope, p) = s.program(program).await?;
    let snap = load(s, &scope, p, Some(s.ctx.now)).await?;
    let key = parse_key(key, "milestone")?;
    let Some(id) = snap.milestone_by_key(key.as_str()).map(|m| m.id) else {
        return not_found(
            format_args!("milestone `{key}`"),
            &snap.program,
            Some(Listing::MILESTONES),
        );
    };
    let stem = format!("{}-{key}-readiness", snap.program.key);
    build_report(s, &scope, snap, &args, &stem, &[], move |a| {
        report::readiness(a, id)
    })
    .await
}

async fn scorecard(s: &mut Session<'_>, args: &ReportArgs, weeks: u32) -> Result<Reply> {
    if !(1..=52).contains(&weeks) {
        return refuse(format!("--weeks {weeks}: give 1 to 52 weeks"));
    }
    let (scope, p) = s.program(args.program.program.as_deref()).await?;
    let snap = load(s, &scope, p, None).await?;
    let stem = format!("{}-scorecard", snap.program.key);
    build_report(s, &scope, snap, args, &stem, &[], move |a| {
        report::scorecard(a, weeks)
    })
    .await
}

async fn charter_report(s: &mut Session<'_>, args: &ReportArgs) -> Result<Reply> {
    let (scope, p) = s.program(args.program.program.as_deref()).await?;
    let snap = load(s, &scope, p, Some(s.ctx.now)).await?;
    let stem = format!("{}-charter", snap.program.key);
    let charts = [ChartKind::Timeline];
    build_report(s, &scope, snap, args, &stem, &charts, report::charter).await
}

async fn status_report(
    s: &mut Session<'_>,
    args: &ReportArgs,
    since: Option<DateSpec>,
) -> Result<Reply> {
    use ChartKind::{Deps, Risks, Timeline, Trend};
    let (scope, p) = s.program(args.program.program.as_deref()).await?;
    let since = digest::period_start(s.ctx.now, since.map(|d| day_start(&p, &d, s.ctx.now)));
    let snap = load(s, &scope, p, Some(since)).await?;
    let stem = format!("{}-status", snap.program.key);
    if let Some(out) = args.out.as_deref().filter(|o| is_html(o)) {
        out_allowed(s, Some(out), "atlas-status.html")?;
        return status_page(snap, since, stem, out.to_owned()).await;
    }
    let charts = [Timeline, Risks, Deps, Trend];
    build_report(s, &scope, snap, args, &stem, &charts, move |a| {
        report::status(a, since)
    })
    .await
}

async fn agenda(s: &mut Session<'_>, args: &ReportArgs) -> Result<Reply> {
    let (scope, p) = s.program(args.program.program.as_deref()).await?;
    // The week's slips and completions come from the events of the last seven days.
    let since = s.ctx.now - chrono::Duration::days(report::SYNC_DAYS);
    let snap = load(s, &scope, p, Some(since)).await?;
    let stem = format!("{}-agenda", snap.program.key);
    let charts = [ChartKind::Timeline, ChartKind::Risks];
    build_report(s, &scope, snap, args, &stem, &charts, report::agenda).await
}

async fn postmortem(
    s: &mut Session<'_>,
    args: &ReportArgs,
    milestone: Option<String>,
    actions: bool,
) -> Result<Reply> {
    let (scope, p) = if actions {
        s.program_for_change(args.program.program.as_deref())
            .await?
    } else {
        s.program(args.program.program.as_deref()).await?
    };
    if actions {
        s.require(
            &scope,
            &p,
            crate::domain::Role::Editor,
            "record a post-mortem's action items",
        )
        .await?;
    }
    let snap = load(s, &scope, p, None).await?;
    let pk = snap.program.key.as_str().to_owned();
    let id = match &milestone {
        Some(raw) => {
            let key = parse_key(raw, "milestone")?;
            match snap.milestone_by_key(key.as_str()) {
                Some(m) => Some(m.id),
                None => {
                    return not_found(
                        format_args!("milestone `{key}`"),
                        &snap.program,
                        Some(Listing::MILESTONES),
                    )
                }
            }
        }
        None => None,
    };
    if actions {
        return record_actions(s, &scope, &snap, id).await;
    }
    let stem = match &milestone {
        Some(k) => format!("{pk}-{k}-postmortem"),
        None => format!("{pk}-postmortem"),
    };
    let charts = [ChartKind::Timeline, ChartKind::Trend];
    build_report(s, &scope, snap, args, &stem, &charts, move |a| {
        report::postmortem(a, id)
    })
    .await
}

/// `report postmortem … --actions`: the post-mortem's action items become action items of
/// the program, each once (one with the same title still open is not added again).
async fn record_actions(
    s: &mut Session<'_>,
    scope: &Scope,
    snap: &Snapshot,
    id: Option<crate::domain::MilestoneId>,
) -> Result<Reply> {
    let proposed = report::postmortem_actions(&Analysed::of(snap), id);
    let key = snap.program.key.as_str();
    if proposed.is_empty() {
        return Ok(Reply::new(format!(
            "The post-mortem of {key} proposes no action items"
        )));
    }
    let mut added = Vec::new();
    let mut kept = 0;
    for x in proposed {
        let title = crate::domain::Title::parse(&x.title)?;
        if snap
            .items
            .iter()
            .any(|i| i.kind == crate::domain::ItemKind::Action && i.is_open() && i.title == title)
        {
            kept += 1;
            continue;
        }
        let mut item = crate::domain::Item {
            id: 0,
            kind: crate::domain::ItemKind::Action,
            number: 0,
            project: None,
            title,
            owner: x.owner.or(Some(snap.program.owner)),
            due: Some(x.due),
            state: crate::domain::ItemState::Open,
            severity: None,
            note: String::new(),
            link: x
                .link
                .map(|(kind, number)| crate::domain::Link { kind, number }),
            created_at: s.ctx.now,
            closed_on: None,
        };
        item.number = store::insert_item(s.conn(), scope, &item).await?;
        s.event(
            Some(scope),
            "action.added",
            format!("action:{}", item.number),
            None::<&()>,
            Some(&item),
        )
        .await?;
        let owner = s.maybe_mention(item.owner).await?;
        let mut t = Text::plain(format!("#{} {}: ", item.number, item.title));
        if let Some(o) = owner {
            t = t.person(o);
        }
        added.push(t.text(format!(", due {}", x.due)));
    }
    let mut r = Reply::success(format!(
        "{} action items recorded from the post-mortem of {key}",
        added.len()
    ));
    if !added.is_empty() {
        r = r.list(added);
    }
    if kept > 0 {
        r = r.paragraph(format!(
            "{kept} already open with the same words, not added again."
        ));
    }
    Ok(r.paragraph(Text::plain("See them with ").code(format!("action list {key}"))))
}

/// Whether `--out` names an HTML file: the page is written instead of Markdown.
fn is_html(out: &str) -> bool {
    let lower = out.trim().to_ascii_lowercase();
    lower.ends_with(".html") || lower.ends_with(".htm")
}

/// `report status --out FILE.html`: the program's page as its share link shows it, with
/// the stylesheet inside, to send by mail.
async fn status_page(
    snap: Snapshot,
    since: DateTime<Utc>,
    stem: String,
    out: String,
) -> Result<Reply> {
    let name = snap.program.name.as_str().to_owned();
    let html = tokio::task::spawn_blocking(move || {
        let a = Analysed::of(&snap);
        crate::web::program_page(&a, since, crate::web::Styles::Inline)
    })
    .await
    .map_err(|e| anyhow::anyhow!("building the page stopped: {e}"))??;
    let bytes = html.len();
    Ok(Reply::new(format!("{name}: status page"))
        .paragraph(Text::plain(
            "The program's page as its share link shows it (health, milestones and forecasts, the timeline, dependencies, risks, the RAID log, decisions and the week's changes), in one HTML file with its stylesheet inside: it opens offline and prints as a status report.",
        ))
        .attach(Attachment {
            filename: format!("{stem}.html"),
            media_type: crate::web::HTML.into(),
            body: html.into(),
            save_to: Some(out),
        })
        .data(serde_json::json!({ "file": format!("{stem}.html"), "bytes": bytes })))
}
