//! `milestone …`.

use std::collections::HashMap;

use chrono::NaiveDate;

use serde_json::json;

use super::common::{
    counted_table, date_from_today, find_live_project, find_project, live_project, milestone_key,
    not_found, on_or_before, person_cell, project_key, Access, Listing,
};
use super::records;
use super::{parse_key, refuse, Session};
use crate::analysis::forecast::MilestoneForecast;
use crate::analysis::{Forecasts, Shift, Snapshot};
use crate::command::grammar::{MilestoneCmd, ProgramArg, Target};
use crate::command::Result;
use crate::domain::{
    n_days, signed_days, DateSpec, Days, DepState, Dependency, DurationUnit, Endpoint, Key,
    Milestone, MilestoneState, PersonRef, Program, Prose, Role, Slip, Title,
};
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
            key,
            external_id,
        } => {
            s.external_id = external_id;
            add(
                s, &target, title, date, project, after, duration, owner, key,
            )
            .await
        }
        MilestoneCmd::Set {
            target,
            title,
            owner,
            project,
            duration,
            after,
            after_add,
            after_drop,
            make_key,
            no_key,
        } => {
            let key = match (make_key, no_key) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let edit = Edit {
                title,
                owner,
                project,
                duration,
                after,
                after_add,
                after_drop,
                key,
            };
            set(s, &target, edit).await
        }
        MilestoneCmd::List {
            program: ProgramArg { program },
            project,
        } => list(s, program.as_deref(), project).await,
        MilestoneCmd::Show(target) => show(s, &target).await,
        MilestoneCmd::Move {
            target,
            date,
            reason,
        } => move_target(s, &target, date, reason).await,
        MilestoneCmd::Done { target, on } => done(s, &target, on).await,
        MilestoneCmd::Cancel { target, reason } => cancel(s, &target, reason).await,
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one parameter per field of `milestone add`"
)]
async fn add(
    s: &mut Session<'_>,
    target: &Target,
    title: Option<Title>,
    date: DateSpec,
    project: Option<Key>,
    after: Vec<Key>,
    duration: Option<Days>,
    owner: Option<PersonRef>,
    is_key: bool,
) -> Result<Reply> {
    let (program, key) = target.split()?;
    let key = parse_key(key, "milestone")?;
    let (scope, p) = s.program_for_change(program).await?;
    // A batch of `milestone add` lines reads the schedule once and keeps it up to date.
    let mut memo = match s.memo_kept {
        true => Some(s.plan_memo(&scope).await?),
        false => None,
    };
    let in_use = match &memo {
        Some(m) => m.key_kind(&key),
        None => store::key_in_use(s.conn(), &scope, &key).await?,
    };
    if let Some(kind) = in_use {
        return refuse(format!(
            "`{key}` is already a {kind} in `{}`: project and milestone keys share one namespace",
            p.key
        ));
    }
    let project = match (&project, &memo) {
        (Some(k), Some(m)) => Some(live_project(
            m.projects.iter().find(|pr| pr.key == *k).cloned(),
            &p,
            k,
            Some(Listing::PROJECTS),
        )?),
        (Some(k), None) => {
            Some(find_live_project(s, &scope, &p, k, Some(Listing::PROJECTS)).await?)
        }
        (None, _) => None,
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
        let found = match &memo {
            Some(m) => m.milestones.iter().find(|m| m.key == *k).cloned(),
            None => store::find_milestone(s.conn(), &scope, k).await?,
        };
        match found {
            Some(m) => {
                if !preds.iter().any(|x: &Milestone| x.id == m.id) {
                    preds.push(m)
                }
            }
            None => {
                let kind = match &memo {
                    Some(m) => m.key_kind(k),
                    None => store::key_in_use(s.conn(), &scope, k).await?,
                };
                return match kind {
                    Some("project") => {
                        refuse(format!("`{k}` is a project; --after takes milestone keys"))
                    }
                    _ => not_found(format_args!("milestone `{k}`"), &p, None),
                };
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
        duration_unit: DurationUnit::Work,
        state: MilestoneState::Planned,
        completed_on: None,
        after: preds.iter().map(|pred| pred.id).collect(),
        is_key,
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
            duration_unit: m.duration_unit,
            state: m.state,
            completed_on: m.completed_on,
            is_key: m.is_key,
        },
    )
    .await?;
    for pred in &m.after {
        store::add_milestone_edge(s.conn(), &scope, *pred, m.id).await?;
    }
    s.keep_external_id(&scope, store::Tracked::Milestone(&key))
        .await?;
    if let Some(mut memo) = memo.take() {
        memo.added_milestone(m.clone());
        s.memo = Some(memo);
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
        ("Target", date_from_today(today, m.target)),
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
        ("Duration", duration_text(duration)),
        ("Owner", person_cell(s.maybe_mention(owner).await?)),
    ]);
    if target_date < today {
        reply = reply.paragraph(Text::plain("Note: the target date is already in the past."));
    }
    Ok(reply)
}

async fn list(s: &mut Session<'_>, program: Option<&str>, project: Option<Key>) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let project_id = match &project {
        Some(k) => Some(find_project(s, &scope, &p, k, None).await?.id),
        None => None,
    };
    let now = s.ctx.now;
    let g = store::load_schedule(s.conn(), &scope, p.clone(), now).await?;
    let f = Forecasts::of(&g);
    let people = s.people().await?.clone();
    let mut rows = Vec::new();
    let mut data = Vec::new();
    let mut sorted: Vec<usize> = (0..g.milestones.len())
        .filter(|&i| project_id.is_none() || g.milestones[i].project == project_id)
        .collect();
    sorted.sort_by(|&a, &b| {
        let (a, b) = (&g.milestones[a], &g.milestones[b]);
        (a.target, &a.key).cmp(&(b.target, &b.key))
    });
    for i in sorted {
        let m = &g.milestones[i];
        let proj = m
            .project
            .map(|id| project_key(&g.projects, id))
            .unwrap_or_default();
        let owner = s.maybe_mention(m.owner).await?;
        let slip = match m.slip_days() {
            0 => String::new(),
            n => format!("{n:+}d"),
        };
        let (forecast, float, late) = schedule_cells(m, f.milestone(i).as_ref());
        rows.push(vec![
            Text::plain(m.key.as_str()),
            Text::plain(m.title.as_str()),
            Text::plain(proj),
            person_cell(owner),
            Text::new().date(m.target),
            Text::plain(slip),
            forecast,
            float,
            late,
            Text::plain(m.state.as_str()),
        ]);
        data.push(records::milestone(&g, &f, &people, i));
    }
    Ok(counted_table(
        Reply::new(format!("No milestones in {} yet", p.key)),
        format_args!("Milestones of {}", p.key),
        &[
            "Key", "Title", "Project", "Owner", "Target", "Slip", "Forecast", "Float", "Late",
            "State",
        ],
        rows,
    )
    .data(json!({ "program": p.key.as_str(), "milestones": data })))
}

/// A milestone's forecast, float (working days) and lateness as cells; empty once it is done
/// or cancelled.
fn schedule_cells(m: &Milestone, fc: Option<&MilestoneForecast>) -> (Text, Text, Text) {
    match fc.filter(|_| m.state == MilestoneState::Planned) {
        Some(fc) => (
            Text::new().date(fc.forecast),
            Text::plain(format!("{:+}", fc.float_days)),
            Text::plain(match -fc.margin_days {
                n if n > 0 => n_days(n),
                _ => String::new(),
            }),
        ),
        None => (Text::new(), Text::new(), Text::new()),
    }
}

async fn show(s: &mut Session<'_>, target: &Target) -> Result<Reply> {
    let (scope, p, m) = open(s, target, Access::Read).await?;
    let now = s.ctx.now;
    let g = store::load_schedule(s.conn(), &scope, p.clone(), now).await?;
    let f = Forecasts::of(&g);
    let people = s.people().await?.clone();
    let index = g
        .milestone_index(m.id)
        .ok_or_else(|| anyhow::anyhow!("milestone {} is missing from its schedule", m.key))?;
    let all = &g.milestones;
    let preds: Vec<String> = m.after.iter().map(|id| milestone_key(all, *id)).collect();
    let succs: Vec<String> = all
        .iter()
        .filter(|x| x.after.contains(&m.id))
        .map(|x| x.key.to_string())
        .collect();
    let slips = store::milestone_slips(s.conn(), &scope, m.id).await?;
    let today = s.today(&p);
    let owner = s.maybe_mention(m.owner).await?;
    let projects = &g.projects;
    let proj = m
        .project
        .map(|id| project_key(projects, id))
        .unwrap_or_default();
    let fc = f.milestone(index);
    let (forecast, float, late) = schedule_cells(&m, fc.as_ref());
    let mut reply = Reply::new(format!("{} ({}/{})", m.title, p.key, m.key)).fields(vec![
        (
            "State",
            Text::plain(match m.completed_on {
                Some(d) if m.state == MilestoneState::Done => format!("done on {d}"),
                _ => m.state.as_str().to_owned(),
            }),
        ),
        ("Target", date_from_today(today, m.target)),
        (
            "Baseline",
            Text::new().date(m.baseline).text(match m.slip_days() {
                0 => String::new(),
                n => format!(" (slipped {n:+} days)"),
            }),
        ),
        ("Project", Text::plain(proj)),
        ("Owner", person_cell(owner)),
        ("Duration", duration_text(m.duration)),
        ("Forecast", forecast),
        ("Float (working days)", float),
        ("Late by", late),
        ("After", Text::plain(preds.join(", "))),
        ("Before", Text::plain(succs.join(", "))),
    ]);
    // The dependencies it waits on and the ones it provides, with when each arrives.
    let mut deps = Vec::new();
    let mut dep_data = Vec::new();
    for (i, d) in g.deps.iter().enumerate().filter(|(_, d)| d.is_open()) {
        let (needs, gives) = (
            d.needs == Endpoint::Milestone(m.id),
            d.from == Endpoint::Milestone(m.id),
        );
        if !needs && !gives {
            continue;
        }
        let (arrives, gap) = records::arrival(&f, &g, i);
        let mut t = Text::new()
            .strong(format!("#{} {}", d.number, d.what.as_str()))
            .text(if needs {
                format!(" from {}", g.endpoint_name(&d.from))
            } else {
                format!(" for {}", g.endpoint_name(&d.needs))
            })
            .text(format!(", needed by {}", d.need_by));
        if let Some(a) = arrives {
            t = t.text(format!(", arrives {a}"));
        }
        if gap > 0 {
            t = t.text(format!(" ({} after it is needed)", n_days(gap)));
        }
        t = t.text(format!("; {}", d.agreement.as_str()));
        deps.push(t);
        dep_data.push(records::dependency(&g, &f, &people, i));
    }
    if !deps.is_empty() {
        reply = reply.heading("Dependencies").list(deps);
    }
    let mut data = records::milestone(&g, &f, &people, index);
    data["dependencies"] = json!(dep_data);
    data["slips"] = json!(slips
        .iter()
        .map(|sl| json!({
            "from": sl.from,
            "to": sl.to,
            "reason": sl.reason,
            "by": records::who(&people, sl.actor),
            "at": sl.at,
        }))
        .collect::<Vec<_>>());
    reply = reply.data(data);
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

/// The fields `milestone set` may change; `None` (or empty) leaves one as it is.
struct Edit {
    title: Option<Title>,
    owner: Option<PersonRef>,
    project: Option<Key>,
    duration: Option<Days>,
    /// Replaces the predecessors; `none` clears them.
    after: Option<Vec<String>>,
    after_add: Vec<Key>,
    after_drop: Vec<Key>,
    key: Option<bool>,
}

async fn set(s: &mut Session<'_>, target: &Target, edit: Edit) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    require_milestone_edit(s, &scope, &p, &before, "change it").await?;
    let nothing = edit.title.is_none()
        && edit.owner.is_none()
        && edit.project.is_none()
        && edit.duration.is_none()
        && edit.after.is_none()
        && edit.after_add.is_empty()
        && edit.after_drop.is_empty()
        && edit.key.is_none();
    if nothing {
        return refuse("nothing to set: give --title, --owner, --project, --duration, --after, --after-add, --after-drop, --key or --no-key");
    }
    let all = store::milestones(s.conn(), &scope).await?;
    let by_key = |k: &Key| all.iter().find(|m| &m.key == k);
    let find = |raw: &Key| -> Result<&Milestone> {
        match by_key(raw) {
            Some(m) if m.id == before.id => refuse(format!("`{raw}` cannot come after itself")),
            Some(m) => Ok(m),
            None => refuse(format!(
                "there is no milestone `{raw}` in `{}`: `milestone list {}` shows them",
                p.key, p.key
            )),
        }
    };
    let mut after = before.clone();
    let mut changed: Vec<String> = Vec::new();
    if let Some(t) = edit.title {
        if t != before.title {
            after.title = t;
            changed.push("title".into());
        }
    }
    if let Some(o) = &edit.owner {
        let id = s.person(o).await?.id;
        if Some(id) != before.owner {
            after.owner = Some(id);
            changed.push("owner".into());
        }
    }
    if let Some(k) = &edit.project {
        let pr = find_live_project(s, &scope, &p, k, Some(Listing::PROJECTS)).await?;
        if Some(pr.id) != before.project {
            after.project = Some(pr.id);
            changed.push(format!("project → {}", pr.key));
        }
    }
    if let Some(d) = edit.duration {
        let new = (d.get() > 0).then_some(d);
        if new != before.duration || before.duration_unit != DurationUnit::Work {
            after.duration = new;
            // An edited duration counts working days, whatever it counted before.
            after.duration_unit = DurationUnit::Work;
            changed.push(match new {
                Some(d) => format!("duration {} working days", d.get()),
                None => "duration cleared".into(),
            });
        }
    }
    let mut preds: Vec<i64> = before.after.clone();
    if let Some(list) = &edit.after {
        preds.clear();
        let none = list.len() == 1 && list[0].trim().eq_ignore_ascii_case("none");
        if !none {
            for raw in list {
                let k = parse_key(raw, "--after")?;
                let m = find(&k)?;
                if !preds.contains(&m.id) {
                    preds.push(m.id);
                }
            }
        }
    }
    for k in &edit.after_add {
        let m = find(k)?;
        if preds.contains(&m.id) {
            return refuse(format!("`{}` already comes after `{k}`", before.key));
        }
        preds.push(m.id);
    }
    for k in &edit.after_drop {
        let m = find(k)?;
        let Some(i) = preds.iter().position(|&id| id == m.id) else {
            return refuse(format!("`{}` does not come after `{k}`", before.key));
        };
        preds.remove(i);
    }
    let added: Vec<i64> = preds
        .iter()
        .copied()
        .filter(|id| !before.after.contains(id))
        .collect();
    let dropped: Vec<i64> = before
        .after
        .iter()
        .copied()
        .filter(|id| !preds.contains(id))
        .collect();
    if !added.is_empty() || !dropped.is_empty() {
        // Each new predecessor is checked against the graph with the others in place.
        let deps = store::dependencies(s.conn(), &scope).await?;
        let projects = store::projects(s.conn(), &scope).await?;
        let mut graph: Vec<Milestone> = all.clone();
        if let Some(me) = graph.iter_mut().find(|m| m.id == before.id) {
            me.after
                .retain(|id| preds.contains(id) && !added.contains(id));
        }
        for &pred in &added {
            let live: Vec<Dependency> = deps
                .iter()
                .filter(|d| d.state != DepState::Cancelled)
                .cloned()
                .collect();
            if let Some(cycle) = super::dep::cycle_if_added(
                &graph,
                &live,
                &Endpoint::Milestone(pred),
                &Endpoint::Milestone(before.id),
            ) {
                let names: Vec<String> = cycle
                    .iter()
                    .map(|n| super::dep::node_name(*n, &projects, &all))
                    .collect();
                return refuse(format!(
                    "`{}` after `{}` would close a cycle: {}",
                    before.key,
                    milestone_key(&all, pred),
                    names.join(" → ")
                ));
            }
            if let Some(me) = graph.iter_mut().find(|m| m.id == before.id) {
                me.after.push(pred);
            }
        }
        let names = |ids: &[i64]| {
            ids.iter()
                .map(|id| milestone_key(&all, *id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !added.is_empty() {
            changed.push(format!("after + {}", names(&added)));
        }
        if !dropped.is_empty() {
            changed.push(format!("after − {}", names(&dropped)));
        }
        after.after = preds.clone();
    }
    if let Some(k) = edit.key {
        if k != before.is_key {
            after.is_key = k;
            changed.push(
                if k {
                    "now a key milestone"
                } else {
                    "no longer a key milestone"
                }
                .into(),
            );
        }
    }
    if changed.is_empty() {
        return refuse(format!(
            "milestone `{}` already is as asked: nothing changed",
            before.key
        ));
    }
    store::update_milestone(s.conn(), &scope, &after).await?;
    for &id in &dropped {
        store::remove_milestone_edge(s.conn(), &scope, id, before.id).await?;
    }
    for &id in &added {
        store::add_milestone_edge(s.conn(), &scope, id, before.id).await?;
    }
    #[derive(serde::Serialize)]
    struct Edited<'a> {
        #[serde(flatten)]
        milestone: &'a Milestone,
        changed: &'a [String],
    }
    s.event(
        Some(&scope),
        "milestone.edited",
        format!("milestone:{}", before.key),
        Some(&before),
        Some(&Edited {
            milestone: &after,
            changed: &changed,
        }),
    )
    .await?;
    let reply = Reply::success(format!("Changed milestone {} of {}", before.key, p.key))
        .paragraph(Text::plain(format!("Changed: {}.", changed.join("; "))));
    Ok(reply)
}

/// What moving a milestone to `to` does to the forecasts: the other milestones whose
/// forecast shifts (with the schedule they were computed on), and where its own
/// predecessors leave it.
struct MoveEffect {
    graph: Option<Snapshot>,
    shifts: Vec<Shift>,
    own_forecast: Option<NaiveDate>,
    /// Dependencies it provides that the move makes arrive late, or later than they
    /// already did: (the consumer's key, its owner, what changed in words).
    conflicts: Vec<(String, Option<i64>, String)>,
}

async fn move_target(
    s: &mut Session<'_>,
    target: &Target,
    date: DateSpec,
    reason: Prose,
) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    require_milestone_edit(s, &scope, &p, &before, "move it").await?;
    let today = s.today(&p);
    apply_move(s, &scope, &p, before, date.resolve(today), reason).await
}

/// Moves a planned milestone's target to `to` as a slip with `reason`, tells the owners of
/// what moves with it, and says so. Who may move it is the caller's to check: a milestone's
/// editors, or the approver of a change request.
pub(super) async fn apply_move(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    before: Milestone,
    to: NaiveDate,
    reason: Prose,
) -> Result<Reply> {
    let (scope, p) = (scope.clone(), p.clone());
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
    if to == before.target {
        return refuse(format!("milestone `{}` already targets {to}", before.key));
    }
    let effect = move_effect(s, &scope, &p, &before, to).await?;
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
    if let Some(fc) = effect.own_forecast.filter(|f| *f > to) {
        reply = reply.paragraph(format!(
            "Its predecessors still put its forecast at {fc}, {} after the new target.",
            n_days((fc - to).num_days())
        ));
    }
    match (
        &effect.graph,
        effect.shifts.is_empty() && effect.conflicts.is_empty(),
    ) {
        (Some(graph), false) => {
            tell_downstream(s, &scope, &p, &before, to, graph, &effect, reply).await
        }
        _ => Ok(reply.paragraph("No other milestone's forecast moves.")),
    }
}

/// Forecasts before and after the move, so the reply can name every downstream owner whose
/// date moves. Most milestones have nothing downstream: then there is nothing to load.
async fn move_effect(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    before: &Milestone,
    to: NaiveDate,
) -> Result<MoveEffect> {
    let now = s.ctx.now;
    let (graph, shifts, conflicts) = if store::has_downstream(s.conn(), scope, before.id).await? {
        let graph = store::load_schedule(s.conn(), scope, p.clone(), now).await?;
        let forecasts = Forecasts::of(&graph);
        let moved_to = Forecasts::with_targets(&graph, &HashMap::from([(before.id, to)]));
        let shifts: Vec<Shift> = forecasts
            .shifted_in(&moved_to)
            .into_iter()
            .filter(|sh| graph.milestones[sh.milestone].id != before.id)
            .collect();
        let mut conflicts = Vec::new();
        for (i, d) in graph.deps.iter().enumerate() {
            if d.from != Endpoint::Milestone(before.id) {
                continue;
            }
            let (Some(was), Some(now_at)) = (forecasts.arrival(i), moved_to.arrival(i)) else {
                continue;
            };
            if now_at <= d.need_by || (was > d.need_by && now_at <= was) {
                continue;
            }
            let (key, owner) = match d.needs {
                Endpoint::Milestone(m) => match graph.milestone(m) {
                    Some(m) => (
                        m.key.as_str().to_owned(),
                        m.owner
                            .or_else(|| m.project.and_then(|p| graph.project(p)).map(|p| p.owner)),
                    ),
                    None => continue,
                },
                Endpoint::Project(pid) => match graph.project(pid) {
                    Some(pr) => (pr.key.as_str().to_owned(), Some(pr.owner)),
                    None => continue,
                },
                Endpoint::External(_) => continue,
            };
            conflicts.push((
                key,
                owner,
                format!(
                    "needs `{}` (#{}) by {}, which now arrives {now_at}, {} late, since `{}` moved",
                    d.what.as_str(),
                    d.number,
                    d.need_by,
                    n_days((now_at - d.need_by).num_days()),
                    before.key
                ),
            ));
        }
        (Some(graph), shifts, conflicts)
    } else {
        (None, vec![], vec![])
    };
    // Where its own predecessors leave it, whatever the new target says.
    let own_forecast = if before.after.is_empty() {
        None
    } else {
        let graph = match &graph {
            Some(g) => g.clone(),
            None => store::load_schedule(s.conn(), scope, p.clone(), now).await?,
        };
        let moved = Forecasts::with_targets(&graph, &HashMap::from([(before.id, to)]));
        graph
            .milestone_index(before.id)
            .and_then(|i| moved.milestone(i))
            .map(|f| f.forecast)
    };
    Ok(MoveEffect {
        graph,
        shifts,
        own_forecast,
        conflicts,
    })
}

/// Lists the downstream forecasts that moved and queues a ping to each of their owners
/// but the actor.
#[expect(
    clippy::too_many_arguments,
    reason = "the moved milestone, where it went, and what moved with it"
)]
async fn tell_downstream(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    before: &Milestone,
    to: NaiveDate,
    graph: &Snapshot,
    effect: &MoveEffect,
    reply: Reply,
) -> Result<Reply> {
    let shifts = &effect.shifts;
    let now = s.ctx.now;
    let mut items = Vec::new();
    let mut pings = Vec::new();
    // Nobody is pinged about their own move.
    let me = s.actor_id().await?;
    for sh in shifts {
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
                words.push_str(&format!(", {} past its target {}", n_days(-late), m.target));
            }
            pings.push((m.key.as_str().to_owned(), o, words));
        }
        items.push(
            t.text("; owner ")
                .maybe_person(s.maybe_mention(owner).await?),
        );
    }
    // The consumers of what it provides hear of a dependency it now makes late, in the
    // same message as the rest.
    let mut conflict_items = Vec::new();
    for (key, owner, words) in &effect.conflicts {
        if let Some(o) = owner.filter(|o| *o != me) {
            pings.push((key.clone(), o, words.clone()));
        }
        conflict_items.push(
            Text::new()
                .code(key.as_str())
                .text(format!(" {words}; owner "))
                .maybe_person(s.maybe_mention(*owner).await?),
        );
    }
    // The owners hear about it through the outbox, in this same transaction.
    let queued = crate::outbox::shifts::notify_shifts(
        &mut s.tx,
        scope,
        p,
        before.key.as_str(),
        &pings,
        now,
        &format!("{}:{}:{to}", before.key, now.timestamp_micros()),
    )
    .await?;
    let mut reply = reply;
    if !items.is_empty() {
        reply = reply
            .heading(format!("Downstream forecasts moved ({})", shifts.len()))
            .list(items);
    }
    if !conflict_items.is_empty() {
        reply = reply
            .heading(format!(
                "Dependencies now arriving after they are needed ({})",
                conflict_items.len()
            ))
            .list(conflict_items);
    }
    Ok(reply.paragraph(format!(
        "{queued} owner{} will be told.",
        if queued == 1 { "" } else { "s" }
    )))
}

async fn done(s: &mut Session<'_>, target: &Target, on: Option<DateSpec>) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    require_milestone_edit(s, &scope, &p, &before, "mark it done").await?;
    if before.state != MilestoneState::Planned {
        return refuse(format!(
            "milestone `{}` is already {}",
            before.key,
            before.state.as_str()
        ));
    }
    let today = s.today(&p);
    let on = on_or_before(today, on, "a milestone is done on or before today")?;
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

async fn cancel(s: &mut Session<'_>, target: &Target, reason: Prose) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
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

/// "12 days", or blank without a duration.
fn duration_text(d: Option<Days>) -> Text {
    Text::plain(d.map(|d| format!("{} days", d.get())).unwrap_or_default())
}

/// The milestone a command names, with its program opened as `access` says.
async fn open(
    s: &mut Session<'_>,
    target: &Target,
    access: Access,
) -> Result<(Scope, Program, Milestone)> {
    let (program, key) = target.split()?;
    let (scope, p) = s.open(program, access).await?;
    let m = load(s, &scope, &p, key).await?;
    Ok((scope, p, m))
}

async fn load(s: &mut Session<'_>, scope: &Scope, p: &Program, raw_key: &str) -> Result<Milestone> {
    let key = parse_key(raw_key, "milestone")?;
    match store::find_milestone(s.conn(), scope, &key).await? {
        Some(m) => Ok(m),
        None => match store::key_in_use(s.conn(), scope, &key).await? {
            Some("project") => refuse(format!("`{key}` is a project, not a milestone")),
            _ => not_found(
                format_args!("milestone `{key}`"),
                p,
                Some(Listing::MILESTONES),
            ),
        },
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
