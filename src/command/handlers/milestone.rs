//! `milestone …`.

use std::collections::HashMap;

use serde_json::json;

use super::{days_from, parse_key, refuse, Session};
use crate::analysis::{Forecasts, Shift};
use crate::command::grammar::{MilestoneCmd, ProgramArg};
use crate::command::Result;
use crate::domain::{n_days, signed_days, Milestone, MilestoneState, Program, Role, Slip, Title};
use crate::reply::{Reply, Text};
use crate::store::{self, NewMilestone, Scope};

pub(super) async fn run(s: &mut Session<'_>, cmd: MilestoneCmd) -> Result<Reply> {
    match cmd {
        MilestoneCmd::Add {
            target,
            title,
            date,
            project,
            after,
            duration,
            owner,
        } => {
            let (program, key) = target.split()?;
            let key = parse_key(key, "milestone")?;
            let (scope, p) = s.program_for_change(program).await?;
            if let Some(kind) = store::key_in_use(s.conn(), &scope, &key).await? {
                return refuse(format!("`{key}` is already a {kind} in `{}`: project and milestone keys share one namespace", p.key));
            }
            let project = match &project {
                Some(k) => match store::find_project(s.conn(), &scope, k).await? {
                    Some(pr) if !pr.removed => Some(pr),
                    Some(_) => {
                        return refuse(format!("project `{k}` was removed from `{}`", p.key))
                    }
                    None => {
                        return refuse(format!(
                            "there is no project `{k}` in `{}`: `project list {}` shows them",
                            p.key, p.key
                        ))
                    }
                },
                None => None,
            };
            let project_owner: Vec<i64> = project.iter().map(|pr| pr.owner).collect();
            s.require_editor_or(
                &scope,
                &p,
                &project_owner,
                "the project's owner",
                "add milestones to it",
            )
            .await?;
            let mut preds = Vec::new();
            for k in &after {
                match store::find_milestone(s.conn(), &scope, k).await? {
                    Some(m) => {
                        if !preds.iter().any(|x: &Milestone| x.id == m.id) {
                            preds.push(m)
                        }
                    }
                    None => {
                        let hint = match store::key_in_use(s.conn(), &scope, k).await? {
                            Some("project") => {
                                format!("`{k}` is a project; --after takes milestone keys")
                            }
                            _ => format!("there is no milestone `{k}` in `{}`", p.key),
                        };
                        return refuse(hint);
                    }
                }
            }
            let owner = match (&owner, &project) {
                (Some(r), _) => Some(s.person(r).await?.id),
                (None, Some(pr)) => Some(pr.owner),
                (None, None) => Some(s.actor_id().await?),
            };
            let today = s.today(&p);
            let target_date = date.resolve(today);
            let title = title.unwrap_or_else(|| Title::from(&key));
            let mut m = Milestone {
                id: 0,
                key: key.clone(),
                title,
                project: project.as_ref().map(|pr| pr.id),
                owner,
                baseline: target_date,
                target: target_date,
                duration,
                state: MilestoneState::Planned,
                completed_on: None,
                after: preds.iter().map(|pred| pred.id).collect(),
            };
            m.id = store::insert_milestone(
                s.conn(),
                &scope,
                NewMilestone {
                    key: &m.key,
                    title: &m.title,
                    project: m.project,
                    owner: m.owner,
                    baseline: m.baseline,
                    target: m.target,
                    duration: m.duration,
                    state: m.state,
                    completed_on: m.completed_on,
                },
            )
            .await?;
            for pred in &m.after {
                store::add_milestone_edge(s.conn(), &scope, *pred, m.id).await?;
            }
            s.event(
                Some(&scope),
                "milestone.added",
                format!("milestone:{key}"),
                None::<&()>,
                Some(&m),
            )
            .await?;
            let mut reply = Reply::success(format!("Added milestone {key} to {}", p.key));
            reply = reply.fields(vec![
                ("Title", Text::plain(m.title.as_str())),
                (
                    "Target",
                    Text::new()
                        .date(m.target)
                        .text(format!(" ({})", days_from(today, m.target))),
                ),
                (
                    "Project",
                    Text::plain(
                        project
                            .as_ref()
                            .map(|pr| pr.key.to_string())
                            .unwrap_or_default(),
                    ),
                ),
                (
                    "After",
                    Text::plain(
                        preds
                            .iter()
                            .map(|m| m.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                ),
                (
                    "Duration",
                    Text::plain(
                        duration
                            .map(|d| format!("{} days", d.get()))
                            .unwrap_or_default(),
                    ),
                ),
                (
                    "Owner",
                    match s.maybe_mention(owner).await? {
                        Some(m) => Text::new().person(m),
                        None => Text::new(),
                    },
                ),
            ]);
            if target_date < today {
                reply =
                    reply.paragraph(Text::plain("Note: the target date is already in the past."));
            }
            Ok(reply)
        }
        MilestoneCmd::List {
            program: ProgramArg { program },
            project,
        } => {
            let (scope, p) = s.program(program.as_deref()).await?;
            let project_id = match &project {
                Some(k) => match store::find_project(s.conn(), &scope, k).await? {
                    Some(pr) => Some(pr.id),
                    None => return refuse(format!("there is no project `{k}` in `{}`", p.key)),
                },
                None => None,
            };
            let projects = store::projects(s.conn(), &scope).await?;
            let milestones = store::milestones(s.conn(), &scope).await?;
            let mut rows = Vec::new();
            let mut sorted: Vec<&Milestone> = milestones
                .iter()
                .filter(|m| project_id.is_none() || m.project == project_id)
                .collect();
            sorted.sort_by(|a, b| (a.target, &a.key).cmp(&(b.target, &b.key)));
            for m in sorted {
                let proj = m
                    .project
                    .and_then(|id| projects.iter().find(|pr| pr.id == id))
                    .map(|pr| pr.key.to_string())
                    .unwrap_or_default();
                let owner = s.maybe_mention(m.owner).await?;
                let slip = match m.slip_days() {
                    0 => String::new(),
                    n => format!("{n:+}d"),
                };
                rows.push(vec![
                    Text::plain(m.key.as_str()),
                    Text::plain(m.title.as_str()),
                    Text::plain(proj),
                    owner.map_or(Text::new(), |o| Text::new().person(o)),
                    Text::new().date(m.target),
                    Text::plain(slip),
                    Text::plain(m.state.as_str()),
                ]);
            }
            if rows.is_empty() {
                return Ok(Reply::new(format!("No milestones in {} yet", p.key)));
            }
            Ok(
                Reply::new(format!("Milestones of {} ({})", p.key, rows.len())).table(
                    &[
                        "Key", "Title", "Project", "Owner", "Target", "Slip", "State",
                    ],
                    rows,
                ),
            )
        }
        MilestoneCmd::Show(target) => {
            let (program, key) = target.split()?;
            let (scope, p) = s.program(program).await?;
            let m = load(s, &scope, &p, key).await?;
            let all = store::milestones(s.conn(), &scope).await?;
            let key_of = |id: i64| {
                all.iter()
                    .find(|x| x.id == id)
                    .map(|x| x.key.to_string())
                    .unwrap_or_default()
            };
            let preds: Vec<String> = m.after.iter().map(|id| key_of(*id)).collect();
            let succs: Vec<String> = all
                .iter()
                .filter(|x| x.after.contains(&m.id))
                .map(|x| x.key.to_string())
                .collect();
            let slips = store::milestone_slips(s.conn(), &scope, m.id).await?;
            let today = s.today(&p);
            let owner = s.maybe_mention(m.owner).await?;
            let projects = store::projects(s.conn(), &scope).await?;
            let proj = m
                .project
                .and_then(|id| projects.iter().find(|pr| pr.id == id))
                .map(|pr| pr.key.to_string())
                .unwrap_or_default();
            let mut reply = Reply::new(format!("{} ({}/{})", m.title, p.key, m.key)).fields(vec![
                (
                    "State",
                    Text::plain(match m.completed_on {
                        Some(d) if m.state == MilestoneState::Done => format!("done on {d}"),
                        _ => m.state.as_str().to_owned(),
                    }),
                ),
                (
                    "Target",
                    Text::new()
                        .date(m.target)
                        .text(format!(" ({})", days_from(today, m.target))),
                ),
                (
                    "Baseline",
                    Text::new().date(m.baseline).text(match m.slip_days() {
                        0 => String::new(),
                        n => format!(" (slipped {n:+} days)"),
                    }),
                ),
                ("Project", Text::plain(proj)),
                (
                    "Owner",
                    owner.map_or(Text::new(), |o| Text::new().person(o)),
                ),
                (
                    "Duration",
                    Text::plain(
                        m.duration
                            .map(|d| format!("{} days", d.get()))
                            .unwrap_or_default(),
                    ),
                ),
                ("After", Text::plain(preds.join(", "))),
                ("Before", Text::plain(succs.join(", "))),
            ]);
            if !slips.is_empty() {
                let mut items = Vec::new();
                for sl in &slips {
                    let by = s.maybe_mention(sl.actor).await?;
                    items.push(
                        Text::new()
                            .date(sl.from)
                            .text(" → ")
                            .date(sl.to)
                            .text(format!(
                                " ({:+} days) on {}: {} — ",
                                (sl.to - sl.from).num_days(),
                                sl.at.date_naive(),
                                sl.reason
                            ))
                            .maybe_person(by),
                    );
                }
                reply = reply.heading("Slips").list(items);
            }
            Ok(reply)
        }
        MilestoneCmd::Move {
            target,
            date,
            reason,
        } => {
            let (program, key) = target.split()?;
            let (scope, p) = s.program_for_change(program).await?;
            let before = load(s, &scope, &p, key).await?;
            require_milestone_edit(s, &scope, &p, &before, "move it").await?;
            if before.state != MilestoneState::Planned {
                return refuse(format!(
                    "milestone `{}` is {}; only planned milestones move",
                    before.key,
                    before.state.as_str()
                ));
            }
            if reason.is_empty() {
                return refuse(
                    "a move needs a --reason: it goes into the slip history and the post-mortem",
                );
            }
            let today = s.today(&p);
            let to = date.resolve(today);
            if to == before.target {
                return refuse(format!("milestone `{}` already targets {to}", before.key));
            }
            // Forecasts before and after, so the reply can name every downstream owner whose
            // date moves. Most milestones have nothing downstream: then there is nothing to load.
            let now = s.ctx.now;
            let (graph, shifts) = if store::has_downstream(s.conn(), &scope, before.id).await? {
                let graph = store::load_schedule(s.conn(), &scope, p.clone(), now).await?;
                let forecasts = Forecasts::of(&graph);
                let moved_to = Forecasts::with_targets(&graph, &HashMap::from([(before.id, to)]));
                let shifts: Vec<Shift> = forecasts
                    .shifted_in(&moved_to)
                    .into_iter()
                    .filter(|sh| graph.milestones[sh.milestone].id != before.id)
                    .collect();
                (Some(graph), shifts)
            } else {
                (None, vec![])
            };
            // Where its own predecessors leave it, whatever the new target says.
            let own_forecast = if before.after.is_empty() {
                None
            } else {
                let graph = match &graph {
                    Some(g) => g.clone(),
                    None => store::load_schedule(s.conn(), &scope, p.clone(), now).await?,
                };
                let moved = Forecasts::with_targets(&graph, &HashMap::from([(before.id, to)]));
                graph
                    .milestone_index(before.id)
                    .and_then(|i| moved.milestone(i))
                    .map(|f| f.forecast)
            };
            let actor = s.actor().await?;
            let slip = Slip {
                milestone: before.id,
                from: before.target,
                to,
                reason: reason.as_str().to_owned(),
                actor: Some(actor.id),
                at: s.ctx.now,
            };
            store::insert_slip(s.conn(), &scope, &slip).await?;
            let mut after = before.clone();
            after.target = to;
            store::update_milestone(s.conn(), &scope, &after).await?;
            s.event(
                Some(&scope),
                "milestone.moved",
                format!("milestone:{}", before.key),
                Some(&json!({ "target": before.target })),
                Some(&json!({ "target": to, "reason": reason.as_str(), "days": (to - before.target).num_days() })),
            )
            .await?;
            let days = (to - before.target).num_days();
            let verb = if days > 0 { "slipped" } else { "pulled in" };
            let against = match after.slip_days() {
                0 => "back on its baseline".to_owned(),
                n => format!("now {n:+} days against its baseline {}", after.baseline),
            };
            let mut reply = Reply::success(format!("Moved {} to {to}", before.key)).paragraph(
                Text::new()
                    .code(before.key.as_str())
                    .text(format!(" {verb} {}, from ", n_days(days.abs())))
                    .date(before.target)
                    .text(" to ")
                    .date(to)
                    .text(format!(" ({against}). Reason: {}", reason.as_str())),
            );
            if to < today {
                reply = reply.paragraph(format!(
                    "The new target is in the past: `{}` is overdue from today.",
                    before.key
                ));
            }
            if let Some(fc) = own_forecast.filter(|f| *f > to) {
                reply = reply.paragraph(format!(
                    "Its predecessors still put its forecast at {fc}, {} after the new target.",
                    n_days((fc - to).num_days())
                ));
            }
            if let (Some(graph), false) = (&graph, shifts.is_empty()) {
                let mut items = Vec::new();
                let mut pings = Vec::new();
                // Nobody is pinged about their own move.
                let me = s.actor_id().await?;
                for sh in &shifts {
                    let m = &graph.milestones[sh.milestone];
                    let late = (m.target - sh.to).num_days();
                    let mut t = Text::new().code(m.key.as_str()).text(format!(
                        " forecast {} → {} ({})",
                        sh.from,
                        sh.to,
                        signed_days(sh.days())
                    ));
                    if late < 0 {
                        t = t.text(format!(", {} past its target {}", n_days(-late), m.target));
                    }
                    let owner = m
                        .owner
                        .or_else(|| m.project.and_then(|p| graph.project(p)).map(|p| p.owner));
                    if let Some(o) = owner.filter(|o| *o != me) {
                        let mut words = format!(
                            "is now forecast {} instead of {} ({})",
                            sh.to,
                            sh.from,
                            signed_days(sh.days())
                        );
                        if late < 0 {
                            words.push_str(&format!(
                                ", {} past its target {}",
                                n_days(-late),
                                m.target
                            ));
                        }
                        pings.push((m.key.as_str().to_owned(), o, words));
                    }
                    items.push(
                        t.text("; owner ")
                            .maybe_person(s.maybe_mention(owner).await?),
                    );
                }
                // The owners hear about it through the outbox, in this same transaction.
                let queued = crate::outbox::shifts::notify_shifts(
                    &mut s.tx,
                    &scope,
                    &p,
                    before.key.as_str(),
                    &pings,
                    now,
                    &format!("{}:{}:{to}", before.key, now.timestamp_micros()),
                )
                .await?;
                reply = reply
                    .heading(format!("Downstream forecasts moved ({})", shifts.len()))
                    .list(items)
                    .paragraph(format!(
                        "{queued} owner{} will be told.",
                        if queued == 1 { "" } else { "s" }
                    ));
            } else {
                reply = reply.paragraph("No other milestone's forecast moves.");
            }
            Ok(reply)
        }
        MilestoneCmd::Done { target, on } => {
            let (program, key) = target.split()?;
            let (scope, p) = s.program_for_change(program).await?;
            let before = load(s, &scope, &p, key).await?;
            require_milestone_edit(s, &scope, &p, &before, "mark it done").await?;
            if before.state != MilestoneState::Planned {
                return refuse(format!(
                    "milestone `{}` is already {}",
                    before.key,
                    before.state.as_str()
                ));
            }
            let today = s.today(&p);
            let on = on.map_or(today, |d| d.resolve(today));
            if on > today {
                return refuse(format!(
                    "{on} is in the future: a milestone is done on or before today"
                ));
            }
            let mut after = before.clone();
            after.state = MilestoneState::Done;
            after.completed_on = Some(on);
            store::update_milestone(s.conn(), &scope, &after).await?;
            s.event(
                Some(&scope),
                "milestone.done",
                format!("milestone:{}", before.key),
                Some(&before),
                Some(&after),
            )
            .await?;
            let late = (on - before.target).num_days();
            let note = match late {
                0 => "on its target date".to_owned(),
                n if n > 0 => format!("{n} days after its target"),
                n => format!("{} days early", -n),
            };
            Ok(Reply::success(format!("{} is done", before.key))
                .paragraph(format!("Completed {on}, {note}.")))
        }
        MilestoneCmd::Cancel { target, reason } => {
            let (program, key) = target.split()?;
            let (scope, p) = s.program_for_change(program).await?;
            let before = load(s, &scope, &p, key).await?;
            require_milestone_edit(s, &scope, &p, &before, "cancel it").await?;
            if before.state != MilestoneState::Planned {
                return refuse(format!(
                    "milestone `{}` is already {}",
                    before.key,
                    before.state.as_str()
                ));
            }
            if reason.is_empty() {
                return refuse("a cancellation needs a --reason");
            }
            let mut after = before.clone();
            after.state = MilestoneState::Cancelled;
            store::update_milestone(s.conn(), &scope, &after).await?;
            s.event(
                Some(&scope),
                "milestone.cancelled",
                format!("milestone:{}", before.key),
                Some(&before),
                Some(&json!({ "state": "cancelled", "reason": reason.as_str() })),
            )
            .await?;
            Ok(Reply::success(format!("Cancelled {}", before.key))
                .paragraph(format!("Reason: {}", reason.as_str())))
        }
    }
}

async fn load(s: &mut Session<'_>, scope: &Scope, p: &Program, raw_key: &str) -> Result<Milestone> {
    let key = parse_key(raw_key, "milestone")?;
    match store::find_milestone(s.conn(), scope, &key).await? {
        Some(m) => Ok(m),
        None => {
            let hint = match store::key_in_use(s.conn(), scope, &key).await? {
                Some("project") => format!("`{key}` is a project, not a milestone"),
                _ => format!(
                    "there is no milestone `{key}` in `{}`: `milestone list {}` shows them",
                    p.key, p.key
                ),
            };
            refuse(hint)
        }
    }
}

/// Editors, the milestone's owner, and the owner of its project may change a milestone.
async fn require_milestone_edit(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    m: &Milestone,
    doing: &str,
) -> Result<()> {
    if s.is_editor(scope, p).await? {
        return Ok(());
    }
    let mut owners: Vec<i64> = m.owner.into_iter().collect();
    if let Some(pid) = m.project {
        if let Some(owner) = store::project_owner(s.conn(), scope, pid).await? {
            owners.push(owner);
        }
    }
    if owners.is_empty() {
        return s.require(scope, p, Role::Editor, doing).await;
    }
    s.require_editor_or(
        scope,
        p,
        &owners,
        "the milestone's or its project's owner",
        doing,
    )
    .await
}
