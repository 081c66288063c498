//! `schedule …`, `outbox …`, and snoozes: the program's rhythm and what it owes people.

use chrono::{DateTime, FixedOffset, Utc};

use super::common::{counted_table, not_found, Listing};
use super::{parse_number, refuse, Session};
use crate::command::grammar::{Numbered, OutboxCmd, ProgramArg, ScheduleCmd};
use crate::command::Result;
use crate::domain::{Audience, DateSpec, Program, Prose, Role, ScheduleKind, Timezone};
use crate::outbox::Destination;
use crate::reply::{Reply, Text};
use crate::schedule::ScheduleSpec;
use crate::store::{self, NewSchedule, Scope};

/// How many upcoming runs `schedule show` lists per schedule.
const SHOW_NEXT: usize = 3;

/// An instant as people there read it: `Fri 2026-11-27 16:00 CET`.
fn at_in(tz: chrono_tz::Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz)
        .format("%a %Y-%m-%d %H:%M %Z")
        .to_string()
}

fn local(p: &Program, t: DateTime<Utc>) -> String {
    at_in(p.timezone.tz(), t)
}

/// Where messages go, from `--channel` or `--slack-webhook`. A webhook must pass the
/// `[delivery]` policy now, so a bad one is refused when it is given rather than found dead
/// a week later.
pub(super) fn destination_from(
    s: &Session<'_>,
    channel: Option<String>,
    webhook: Option<String>,
) -> Result<Option<Destination>> {
    if let Some(c) = channel {
        let c = crate::domain::channel_id(&c)?;
        return Ok(Some(Destination::for_channel(&s.ctx.tenant, &c)));
    }
    if let Some(url) = webhook {
        let u = url.trim();
        if u.len() > 500 {
            return refuse("--slack-webhook: the URL is longer than 500 characters");
        }
        return match s.ctx.webhooks.check(u) {
            Ok(url) => Ok(Some(Destination::SlackWebhook { url })),
            Err(why) => refuse(format!(
                "--slack-webhook takes a Slack incoming-webhook URL (https://hooks.slack.com/services/…): {why}"
            )),
        };
    }
    Ok(None)
}

pub(super) async fn schedule(s: &mut Session<'_>, cmd: ScheduleCmd) -> Result<Reply> {
    match cmd {
        ScheduleCmd::Set {
            words,
            audience,
            channel,
            webhook,
        } => set(s, &words, audience, channel, webhook).await,
        ScheduleCmd::Show(ProgramArg { program }) => show(s, program.as_deref()).await,
        ScheduleCmd::Remove { target } => remove(s, &target).await,
        ScheduleCmd::Preview {
            spec,
            tz,
            from,
            count,
        } => preview(s, &spec, tz, from, count),
    }
}

/// `schedule set [PROGRAM] KIND SPEC`.
async fn set(
    s: &mut Session<'_>,
    words: &[String],
    audience: Option<Audience>,
    channel: Option<String>,
    webhook: Option<String>,
) -> Result<Reply> {
    // `[PROGRAM] KIND SPEC`: the program may be left out in a bound channel.
    let (program, kind, spec) = match words {
        [p, k, sp] => (Some(p.as_str()), k, sp),
        [k, sp] => (None, k, sp),
        _ => {
            return refuse(
                "give the kind and the spec: `schedule set atlas digest \"weekly fri 16:00\"`",
            )
        }
    };
    let kind = ScheduleKind::parse(kind)?;
    let spec = ScheduleSpec::parse(spec)?;
    if kind != ScheduleKind::Digest
        && (audience.is_some() || channel.is_some() || webhook.is_some())
    {
        return refuse("--audience, --channel and --webhook are for digest schedules");
    }
    set_schedule(s, program, kind, spec, audience, channel, webhook).await
}

async fn show(s: &mut Session<'_>, program: Option<&str>) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let schedules = store::schedules(s.conn(), &scope).await?;
    let now = s.ctx.now;
    let key = p.key.as_str().to_owned();
    // Each schedule with its next run, in UTC; destinations masked as in the table.
    let data: Vec<serde_json::Value> = schedules
        .iter()
        .map(|sc| {
            serde_json::json!({
                "id": sc.id,
                "kind": sc.kind.as_str(),
                "audience": sc.audience.map(|a| a.as_str()),
                "spec": sc.spec.to_string(),
                "when": sc.spec.describe(),
                "next": sc.spec.upcoming(p.timezone.tz(), now, 1).first(),
                "to": sc
                    .destination
                    .as_deref()
                    .and_then(|d| serde_json::from_str::<Destination>(d).ok())
                    .map(|d| d.masked()),
            })
        })
        .collect();
    let data = serde_json::json!({ "program": key, "schedules": data });
    if schedules.is_empty() {
        return Ok(Reply::new(format!("No schedules in {key}"))
            .paragraph(
                Text::plain("Start the rhythm with ")
                    .code(format!("schedule set {key} prompt \"weekly mon 10:00\"")),
            )
            .data(data));
    }
    let rows = schedules
        .iter()
        .map(|sc| {
            let next = sc.spec.upcoming(p.timezone.tz(), now, 1);
            let what = match sc.audience {
                Some(a) => format!("{} {}", sc.kind.as_str(), a.as_str()),
                None => sc.kind.as_str().to_owned(),
            };
            let to = sc
                .destination
                .as_deref()
                .and_then(|d| serde_json::from_str::<Destination>(d).ok())
                .map(|d| d.masked())
                .unwrap_or_default();
            vec![
                Text::plain(format!("#{}", sc.id)),
                Text::plain(what),
                Text::plain(sc.spec.describe()),
                Text::plain(next.first().map(|t| local(&p, *t)).unwrap_or_default()),
                Text::plain(to),
            ]
        })
        .collect();
    let runs = store::runs(s.conn(), &scope, 10).await?;
    let mut reply = Reply::new(format!("Schedules of {key} ({})", schedules.len()))
        .table(&["#", "What", "When", "Next", "To"], rows);
    if !runs.is_empty() {
        reply = reply.heading("Latest runs").table(
            &["When", "Job", "State", "Outcome"],
            runs.iter()
                .map(|r| {
                    vec![
                        Text::plain(local(&p, r.scheduled_at)),
                        Text::plain(r.job.clone()),
                        Text::plain(r.state.as_str()),
                        Text::plain(r.outcome.clone()),
                    ]
                })
                .collect(),
        );
    }
    Ok(reply.data(data))
}

async fn remove(s: &mut Session<'_>, target: &Numbered) -> Result<Reply> {
    let (program, n) = target.split()?;
    let n = parse_number(n, "schedule")?;
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Editor, "remove schedules")
        .await?;
    if !store::remove_schedule(s.conn(), &scope, n).await? {
        return not_found(format_args!("schedule #{n}"), &p, Some(Listing::SCHEDULES));
    }
    s.event(
        Some(&scope),
        "schedule.removed",
        format!("schedule:{n}"),
        None::<&()>,
        None::<&()>,
    )
    .await?;
    Ok(Reply::success(format!(
        "Removed schedule #{n} from {}",
        p.key
    )))
}

/// `schedule preview`: when a spec would fire, without a program.
fn preview(
    s: &Session<'_>,
    spec: &ScheduleSpec,
    tz: Timezone,
    from: Option<DateTime<FixedOffset>>,
    count: u16,
) -> Result<Reply> {
    if !(1..=100).contains(&count) {
        return refuse("--count is 1 to 100");
    }
    let from = from.map(|f| f.with_timezone(&Utc)).unwrap_or(s.ctx.now);
    let times = spec.upcoming(tz.tz(), from, usize::from(count));
    let rows = times
        .iter()
        .map(|t| {
            vec![
                Text::plain(at_in(tz.tz(), *t)),
                Text::plain(t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            ]
        })
        .collect();
    let mut reply = Reply::new(format!("{spec}: {}", spec.describe())).paragraph(format!(
        "In {}, after {}:",
        tz.as_str(),
        from.format("%Y-%m-%dT%H:%M:%SZ")
    ));
    reply = if times.is_empty() {
        reply.paragraph("It never fires in the next five years.")
    } else {
        reply.table(&[tz.as_str(), "UTC"], rows)
    };
    Ok(reply.data(&times))
}

pub(super) async fn outbox(s: &mut Session<'_>, cmd: OutboxCmd) -> Result<Reply> {
    match cmd {
        OutboxCmd::List {
            program: ProgramArg { program },
            dead,
            limit,
        } => list_outbox(s, program.as_deref(), dead, limit).await,
        OutboxCmd::Retry { target } => retry(s, &target).await,
    }
}

/// `outbox list`: what waits to go out, or what went dead.
async fn list_outbox(
    s: &mut Session<'_>,
    program: Option<&str>,
    dead: bool,
    limit: u16,
) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    s.require(&scope, &p, Role::Owner, "see its outbox").await?;
    let rows = store::outbox_list::<Reply>(s.conn(), &scope, dead, i64::from(limit)).await?;
    let key = p.key.as_str();
    let table = rows
        .iter()
        .map(|r| {
            vec![
                Text::plain(format!("#{}", r.id)),
                Text::plain(r.state.as_str()),
                Text::plain(r.destination.masked()),
                Text::plain(r.reply.title.clone()),
                Text::plain(r.attempts.to_string()),
                Text::plain(r.last_error.clone().unwrap_or_default()),
            ]
        })
        .collect();
    let empty = Reply::new(if dead {
        format!("No dead messages in {key}")
    } else {
        format!("Nothing waiting to go out in {key}")
    });
    let title = format!(
        "{} messages of {key}",
        if dead { "Dead" } else { "Waiting" }
    );
    let mut reply = counted_table(
        empty,
        title,
        &["#", "State", "To", "Message", "Tries", "Last error"],
        table,
    );
    if dead && !rows.is_empty() {
        reply = reply
            .paragraph(Text::plain("Send one again with ").code(format!("outbox retry {key} ID")));
    }
    // The destination masked, as in the table: a webhook's secret path never shows.
    let data: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "state": r.state.as_str(),
                "to": r.destination.masked(),
                "title": r.reply.title,
                "reason": r.reason,
                "attempts": r.attempts,
                "last_error": r.last_error,
                "created_at": r.created_at,
                "next_attempt_at": r.next_attempt_at,
                "sent_at": r.sent_at,
            })
        })
        .collect();
    Ok(reply.data(serde_json::json!({ "program": key, "messages": data })))
}

async fn retry(s: &mut Session<'_>, target: &Numbered) -> Result<Reply> {
    let (program, n) = target.split()?;
    let n = parse_number(n, "message")?;
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Owner, "retry its messages")
        .await?;
    let now = s.ctx.now;
    if !store::outbox_retry(s.conn(), &scope, n, now).await? {
        return not_found(
            format_args!("dead message #{n}"),
            &p,
            Some(Listing::DEAD_MESSAGES),
        );
    }
    s.event(
        Some(&scope),
        "outbox.retried",
        format!("outbox:{n}"),
        None::<&()>,
        None::<&()>,
    )
    .await?;
    Ok(Reply::success(format!("Message #{n} will be sent again")))
}

/// Puts off pings about one subject until a date (inclusive).
pub(super) async fn snooze(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    subject: &str,
    what: &str,
    until: DateSpec,
    reason: Option<Prose>,
) -> Result<Reply> {
    let today = s.today(p);
    let until = until.resolve(today);
    if until < today {
        return refuse(format!(
            "{until} is in the past: --until takes the last quiet day"
        ));
    }
    if (until - today).num_days() > 365 {
        return refuse("a snooze lasts at most a year; close it instead if it no longer matters");
    }
    // Snoozing silences every rung of the ladder, the program owner's too: owners may
    // pause their own pings for two weeks; longer takes an editor.
    if (until - today).num_days() > 14 && !s.is_editor(scope, p).await? {
        return refuse(format!(
            "owners may snooze for up to two weeks (until {}); longer needs an editor or the owner of `{}`",
            today + chrono::Duration::days(14),
            p.key
        ));
    }
    let by = s.actor_id().await?;
    let reason = reason.map(|r| r.as_str().to_owned()).unwrap_or_default();
    store::snooze(s.conn(), scope, subject, until, Some(by), &reason).await?;
    let kind = if subject.starts_with("dep:") {
        "dep.snoozed"
    } else {
        "risk.snoozed"
    };
    s.event(
        Some(scope),
        kind,
        subject.to_owned(),
        None::<&()>,
        Some(&serde_json::json!({ "until": until, "reason": reason })),
    )
    .await?;
    Ok(
        Reply::success(format!("Snoozed {what} until {until}")).paragraph(format!(
            "No pings about it through {until}; they resume the day after."
        )),
    )
}

/// Sets one of the program's schedules (a digest subscription when `kind` is digest).
pub(super) async fn set_schedule(
    s: &mut Session<'_>,
    program: Option<&str>,
    kind: ScheduleKind,
    spec: ScheduleSpec,
    audience: Option<crate::domain::Audience>,
    channel: Option<String>,
    webhook: Option<String>,
) -> Result<Reply> {
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Editor, "set schedules").await?;
    let destination = destination_from(s, channel, webhook)?;
    let audience = match kind {
        ScheduleKind::Digest => Some(audience.unwrap_or(crate::domain::Audience::Engineering)),
        _ => None,
    };
    let destination_json = destination
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(anyhow::Error::from)?;
    let actor = s.actor_id().await?;
    let now = s.ctx.now;
    let (id, replaced) = store::set_schedule(
        s.conn(),
        &scope,
        NewSchedule {
            kind,
            spec: &spec,
            audience,
            destination: destination_json,
            created_at: now,
            created_by: Some(actor),
        },
    )
    .await?;
    s.event(
        Some(&scope),
        "schedule.set",
        format!("schedule:{id}"),
        None::<&()>,
        Some(&serde_json::json!({
            "kind": kind.as_str(), "spec": spec.to_string(),
            "audience": audience.map(|a| a.as_str()),
            "destination": destination.as_ref().map(|d| d.masked()),
        })),
    )
    .await?;
    let next = spec.upcoming(p.timezone.tz(), now, SHOW_NEXT);
    let what = match (kind, audience) {
        (ScheduleKind::Digest, Some(a)) => format!("{} digest", a.as_str()),
        (k, _) => format!("{}s", k.as_str()),
    };
    let mut reply = Reply::success(format!(
        "{} {what} of {} {}",
        if replaced { "Changed" } else { "Scheduled" },
        p.key,
        spec.describe()
    ))
    .fields(vec![
        ("Schedule", Text::plain(format!("#{id}: {spec}"))),
        (
            "Timezone",
            Text::plain(if kind == ScheduleKind::Prompt {
                format!("each owner's own, else {}", p.timezone.as_str())
            } else {
                p.timezone.as_str().to_owned()
            }),
        ),
        (
            "Goes to",
            Text::plain(match (&destination, kind) {
                (Some(d), _) => d.masked(),
                (None, ScheduleKind::Digest) => "the program's bound channel".into(),
                (None, ScheduleKind::Nudge) => "owners, up the escalation ladder".into(),
                (None, _) => "each project owner".into(),
            }),
        ),
    ]);
    if !next.is_empty() {
        reply = reply.list(
            next.iter()
                .map(|t| Text::plain(format!("next: {}", local(&p, *t))))
                .collect(),
        );
    }
    Ok(reply)
}
