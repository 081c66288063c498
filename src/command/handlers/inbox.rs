//! `inbox [--as @x]`: everything waiting on one person across the tenant's programs, oldest
//! first, each with the command that clears it.

use chrono::NaiveDate;
use serde_json::json;

use super::{refuse, Session};
use crate::command::Result;
use crate::domain::{Agreement, DepState, ItemKind, PersonRef, Role, Snapshot};
use crate::reply::{Reply, Text};
use crate::store;

/// How far ahead an assumption's validate-by date or an action's due date puts it in the
/// inbox.
const AHEAD_DAYS: i64 = 7;

/// One thing waiting on the person.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Waiting {
    /// Since when it waits (or, for what is not due yet, its date).
    pub since: NaiveDate,
    pub program: String,
    /// dependency-request, blocked-dependency, action, decision, assumption, risk-review,
    /// readiness or status.
    pub kind: &'static str,
    pub what: String,
    /// The command that clears it.
    pub clear: String,
}

pub(super) async fn run(s: &mut Session<'_>, as_: Option<PersonRef>) -> Result<Reply> {
    let me = s.known_actor_id().await?;
    let (person, other) = match &as_ {
        Some(r) => {
            let p = s.person(r).await?;
            let other = Some(p.id) != me;
            (p, other)
        }
        None => match s.known_actor().await? {
            Some(p) => (p, false),
            None => {
                return Ok(Reply::new("Nothing is waiting on you")
                    .paragraph("Drumbeat does not know you yet: nothing has been asked of you."))
            }
        },
    };
    let tenant = s.ctx.tenant.clone();
    let programs = store::list_programs(s.conn(), &tenant).await?;
    let mut waiting = Vec::new();
    let mut seen_programs = 0;
    for p in programs.iter().filter(|p| !p.archived) {
        let (scope, program) = s.program(Some(p.key.as_str())).await?;
        // Someone else's inbox: only in the programs the actor edits.
        if other && s.role(&scope, &program).await? < Role::Editor {
            continue;
        }
        seen_programs += 1;
        let snap = {
            let now = s.ctx.now;
            store::load_snapshot(s.conn(), &scope, program, now, Some(now)).await?
        };
        waiting.extend(of(&snap, person.id));
    }
    if other && seen_programs == 0 {
        return refuse(
            "only an editor of a program can see what waits on someone else there, and you edit none; `inbox` shows yours",
        );
    }
    waiting.sort_by(|a, b| {
        a.since
            .cmp(&b.since)
            .then_with(|| a.program.cmp(&b.program))
            .then_with(|| a.kind.cmp(b.kind))
            .then_with(|| a.what.cmp(&b.what))
    });
    let whose = if other {
        format!("@{}", person.display_name)
    } else {
        "you".to_owned()
    };
    if waiting.is_empty() {
        return Ok(Reply::new(format!("Nothing is waiting on {whose}"))
            .ephemeral()
            .data(json!({ "person": person.display_name, "waiting": [] })));
    }
    let rows = waiting
        .iter()
        .map(|w| {
            vec![
                Text::plain(w.since.to_string()),
                Text::plain(&w.program),
                Text::plain(&w.what),
                Text::new().code(&w.clear),
            ]
        })
        .collect();
    Ok(
        Reply::new(format!("Waiting on {whose} ({})", waiting.len()))
            .table(&["Since", "Program", "What", "To clear it"], rows)
            .ephemeral()
            .data(json!({ "person": person.display_name, "waiting": waiting })),
    )
}

/// What in one program waits on `person`.
pub(crate) fn of(s: &Snapshot, person: i64) -> Vec<Waiting> {
    let key = s.program.key.as_str();
    let today = s.today();
    let day =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&s.program.timezone.tz()).date_naive();
    let mut out = Vec::new();
    let mut push = |since: NaiveDate, kind: &'static str, what: String, clear: String| {
        out.push(Waiting {
            since,
            program: key.to_owned(),
            kind,
            what,
            clear,
        })
    };
    for d in s
        .deps
        .iter()
        .filter(|d| d.is_open() && d.owner == Some(person))
    {
        let n = d.number;
        let needs = s.endpoint_name(&d.needs);
        if d.agreement == Agreement::Requested {
            push(
                d.requested_at.map(day).unwrap_or(today),
                "dependency-request",
                format!(
                    "answer dependency #{n}: {} for {needs} by {}",
                    d.what, d.need_by
                ),
                format!("dep accept {key} {n}"),
            );
        }
        if d.state == DepState::Blocked {
            push(
                d.blocked_since.map(day).unwrap_or(today),
                "blocked-dependency",
                format!(
                    "dependency #{n} you provide is blocked: {} for {needs}",
                    d.what
                ),
                format!("dep unblock {key} {n}"),
            );
        }
    }
    for i in s
        .items
        .iter()
        .filter(|i| i.is_open() && i.owner == Some(person))
    {
        let n = i.number;
        let due = i.due.unwrap_or(today);
        match i.kind {
            ItemKind::Action => push(
                due.min(day(i.created_at)),
                "action",
                format!("action #{n}: {} (due {due})", i.title),
                format!("action done {key} {n}"),
            ),
            ItemKind::Assumption if (due - today).num_days() <= AHEAD_DAYS => push(
                due,
                "assumption",
                format!("validate assumption #{n} by {due}: {}", i.title),
                format!("assumption validate {key} {n}"),
            ),
            ItemKind::Issue => push(
                day(i.created_at),
                "issue",
                format!(
                    "issue #{n} ({}): {}",
                    i.severity.map(|s| s.as_str()).unwrap_or("open"),
                    i.title
                ),
                format!("issue resolve {key} {n} --note \"…\""),
            ),
            _ => {}
        }
    }
    for d in s
        .decisions
        .iter()
        .filter(|d| d.outcome.trim().is_empty() && d.decider == Some(person))
    {
        let n = d.number;
        let by = d.decide_by.map(|b| format!(" by {b}")).unwrap_or_default();
        push(
            d.decided_on,
            "decision",
            format!("decide #{n}{by}: {}", d.title),
            format!("decision decide {key} {n} --outcome \"…\""),
        );
    }
    for r in s
        .risks
        .iter()
        .filter(|r| r.is_open() && r.owner == Some(person))
    {
        if let Some(by) = r.review_by.filter(|b| *b <= today) {
            push(
                by,
                "risk-review",
                format!("review risk #{}: {}", r.number, r.title),
                format!("risk set {key} {} --review-by DATE", r.number),
            );
        }
    }
    for c in s
        .checks
        .iter()
        .filter(|c| !c.is_checked() && c.owner == Some(person))
    {
        if let Some(due) = c.due.filter(|d| (*d - today).num_days() <= AHEAD_DAYS) {
            push(
                due,
                "readiness",
                format!("readiness #{}: {} (due {due})", c.number, c.title),
                format!("readiness check {key} {}", c.number),
            );
        }
    }
    for p in s.active_projects().filter(|p| p.owner == person) {
        let latest = s.latest_status(p.id);
        if latest.is_none_or(|u| s.is_stale(u)) {
            let since = latest.map(|u| s.posted_on(u)).unwrap_or(today);
            push(
                since,
                "status",
                match latest {
                    Some(_) => format!("{}: the latest status update is stale", p.name),
                    None => format!("{}: no status update yet", p.name),
                },
                format!("status post {key} {} --rag green --summary \"…\"", p.key),
            );
        }
    }
    out
}
