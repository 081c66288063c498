//! `dep …`: cross-team dependencies.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::json;

use super::common::{
    counted_table, date_from_today, milestone_key, not_found, on_or_before, person_cell,
    project_key, Access, Listing,
};
use super::{parse_number, records, refuse, Session};
use crate::analysis::{graph, Forecasts};
use crate::command::grammar::{DepCmd, Numbered, ProgramArg};
use crate::command::Result;
use crate::domain::{
    n_days, Agreement, DateSpec, DepState, Dependency, Endpoint, Key, Milestone, PersonRef,
    Program, Project, Prose, Title,
};
use crate::outbox::agreements::{self, Asked};
use crate::reply::{Reply, Text};
use crate::store::{self, Scope};

/// A node of the schedule graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Node {
    Project(i64),
    Milestone(i64),
}

pub(super) async fn run(s: &mut Session<'_>, cmd: DepCmd) -> Result<Reply> {
    match cmd {
        DepCmd::Add {
            program: ProgramArg { program },
            needs,
            from,
            external,
            what,
            by,
            owner,
            accepted,
            external_id,
        } => {
            s.external_id = external_id;
            let new = NewDep {
                needs,
                from,
                external,
                what,
                by,
                owner,
                accepted,
            };
            add(s, program.as_deref(), new).await
        }
        DepCmd::List {
            program: ProgramArg { program },
            open,
        } => list(s, program.as_deref(), open).await,
        DepCmd::Show(target) => show(s, &target).await,
        DepCmd::Set {
            target,
            what,
            by,
            owner,
            state,
            needs,
            from,
            external,
        } => {
            let ends = Ends {
                needs,
                from,
                external,
            };
            set(s, &target, what, by, owner, state, ends).await
        }
        DepCmd::Cancel { target, reason } => cancel(s, &target, reason).await,
        DepCmd::Block { target, reason } => block(s, &target, reason).await,
        DepCmd::Unblock(target) => unblock(s, &target).await,
        DepCmd::Snooze {
            target,
            until,
            reason,
        } => snooze(s, &target, until, reason).await,
        DepCmd::Deliver { target, on } => deliver(s, &target, on).await,
        DepCmd::Accept { target, by } => accept(s, &target, by).await,
        DepCmd::Propose { target, by, reason } => propose(s, &target, by, reason).await,
        DepCmd::Decline { target, reason } => decline(s, &target, reason).await,
    }
}

/// What `dep add` was given.
struct NewDep {
    needs: Key,
    from: Option<Key>,
    external: Option<Title>,
    what: Title,
    by: DateSpec,
    owner: Option<PersonRef>,
    accepted: bool,
}

async fn add(s: &mut Session<'_>, program: Option<&str>, new: NewDep) -> Result<Reply> {
    let NewDep {
        needs,
        from,
        external,
        what,
        by,
        owner,
        accepted,
    } = new;
    let (scope, p) = s.program_for_change(program).await?;
    // A batch of `dep add` lines reads the schedule once and keeps it up to date.
    let mut memo = s.plan_memo(&scope).await?;
    let super::PlanMemo {
        projects,
        milestones,
        deps,
        ..
    } = &memo;
    let needs_end = endpoint(&p, projects, milestones, &needs, "--needs")?;
    let from_end = match (&from, &external) {
        (Some(k), None) => endpoint(&p, projects, milestones, k, "--from")?,
        (None, Some(x)) => Endpoint::External(x.as_str().to_owned()),
        _ => return refuse("give exactly one provider: --from KEY or --external \"Name\""),
    };
    if needs_end == from_end {
        return refuse(format!("`{needs}` cannot depend on itself"));
    }
    // Only the teams on either end (or editors) may record it.
    let mut leads = Vec::new();
    for e in [&needs_end, &from_end] {
        if let Some(pr) = project_of(e, projects, milestones) {
            leads.push(pr.owner);
        }
    }
    s.require_editor_or(
        &scope,
        &p,
        &leads,
        "the owner of either project",
        "add this dependency",
    )
    .await?;
    let cycle = match &memo.next {
        Some(next) => cycle_if_added_in(next, &from_end, &needs_end),
        None => cycle_if_added(milestones, deps, &from_end, &needs_end),
    };
    if let Some(cycle) = cycle {
        let names: Vec<String> = cycle
            .iter()
            .map(|n| node_name(*n, projects, milestones))
            .collect();
        return refuse(format!(
            "this dependency would close a cycle: {}",
            names.join(" → ")
        ));
    }
    let owner = match (&owner, &from_end) {
        (Some(r), _) => s.person(r).await?.id,
        (None, Endpoint::External(_)) => p.owner,
        (None, e) => end_owner(e, projects, milestones).unwrap_or(p.owner),
    };
    let today = s.today(&p);
    let need_by = by.resolve(today);
    // Between two teams, the providing team is asked first, unless it already agreed or
    // is the one recording it.
    let teams = (
        project_of(&needs_end, projects, milestones).map(|pr| pr.id),
        project_of(&from_end, projects, milestones).map(|pr| pr.id),
    );
    let me = s.actor_id().await?;
    let requested = matches!(teams, (Some(a), Some(b)) if a != b) && !accepted && owner != me;
    let agreement = if requested {
        Agreement::Requested
    } else {
        Agreement::Accepted
    };
    let mut dep = Dependency {
        id: 0,
        number: 0,
        needs: needs_end,
        from: from_end,
        what,
        need_by,
        owner: Some(owner),
        state: DepState::Open,
        blocked_since: None,
        blocked_reason: None,
        delivered_on: None,
        cancel_reason: None,
        agreement,
        committed_on: None,
        proposed_on: None,
        agreement_note: None,
        requested_at: requested.then_some(s.ctx.now),
    };
    dep.number = store::insert_dependency(s.conn(), &scope, &dep).await?;
    s.keep_external_id(&scope, store::Tracked::Dependency(dep.number))
        .await?;
    s.event(
        Some(&scope),
        "dep.added",
        format!("dep:{}", dep.number),
        None::<&()>,
        Some(&dep),
    )
    .await?;
    let owner_id = owner;
    let owner = s.mention(owner).await?;
    // Only the reply's conflict warning needs the forecast; a batch shows no replies.
    let arrival = match s.memo_kept {
        true => None,
        false => arrivals(s, &scope, &p).await?.get(&dep.number).copied(),
    };
    let mut reply = Reply::success(format!("Added dependency #{} to {}", dep.number, p.key))
        .paragraph(
            Text::new()
                .code(end_name(&dep.needs, projects, milestones))
                .text(" needs ")
                .strong(dep.what.as_str())
                .text(" from ")
                .code(end_name(&dep.from, projects, milestones))
                .text(" by ")
                .date(need_by)
                .text(". Owner: ")
                .person(owner.clone()),
        );
    if requested {
        let to = store::person(s.conn(), scope.tenant(), owner_id).await?;
        let asker = s.actor().await?;
        let about = project_of(&dep.from, projects, milestones).map(|pr| pr.id);
        let (needs, from) = (
            end_name(&dep.needs, projects, milestones),
            end_name(&dep.from, projects, milestones),
        );
        let asked = asked(&p, &dep, &needs, &from);
        let message = agreements::request(&to, Some(&asker), &asked);
        agreements::tell(
            &mut s.tx,
            &scope,
            &p,
            &to,
            about,
            message,
            agreements::request_reason(p.key.as_str(), dep.number),
            format!("dep-request:{}:{}", p.id, dep.number),
            s.ctx.now,
        )
        .await?;
        reply = reply.paragraph(
            Text::new()
                .text("Requested: ")
                .person(owner)
                .text(" is asked to accept it, propose another date or decline. Already agreed? Record it with `--accepted`."),
        );
    }
    if let Some(a) = arrival.filter(|a| *a > dep.need_by) {
        reply = reply
            .tone(crate::reply::Tone::Warning)
            .paragraph(Text::plain(format!(
                "Conflict: it arrives {a}, {} after it is needed: its provider is forecast later. Move the need-by date, or the provider's milestone.",
                n_days((a - dep.need_by).num_days())
            )));
    }
    if s.memo_kept {
        if let (Some(next), Some(a), Some(b)) = (&mut memo.next, node(&dep.from), node(&dep.needs))
        {
            next.entry(a).or_default().push(b);
        }
        memo.deps.push(dep);
        s.memo = Some(memo);
    }
    Ok(reply)
}

/// When each open dependency of the program arrives, by its number.
async fn arrivals(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
) -> Result<HashMap<i64, NaiveDate>> {
    let now = s.ctx.now;
    // Forecasts need the schedule only: projects, milestones, dependencies.
    let snap = store::load_schedule(s.conn(), scope, p.clone(), now).await?;
    let f = Forecasts::of(&snap);
    Ok(snap
        .deps
        .iter()
        .enumerate()
        .filter_map(|(i, d)| f.arrival(i).map(|a| (d.number, a)))
        .collect())
}

/// "01-15 (3 days late)" for a dependency that arrives after its need-by date.
fn arrival_words(d: &Dependency, arrival: Option<NaiveDate>) -> String {
    match arrival {
        None => String::new(),
        Some(a) if a > d.need_by => {
            format!(
                "{a} ({} after it is needed)",
                n_days((a - d.need_by).num_days())
            )
        }
        Some(a) => a.to_string(),
    }
}

async fn list(s: &mut Session<'_>, program: Option<&str>, open: bool) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let now = s.ctx.now;
    let g = store::load_schedule(s.conn(), &scope, p.clone(), now).await?;
    let f = Forecasts::of(&g);
    let people = s.people().await?.clone();
    let (projects, milestones) = (&g.projects, &g.milestones);
    let today = s.today(&p);
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for (i, d) in g
        .deps
        .iter()
        .enumerate()
        .filter(|(_, d)| !open || d.is_open())
    {
        let owner = s.maybe_mention(d.owner).await?;
        let (arrives, _) = records::arrival(&f, &g, i);
        rows.push(vec![
            Text::plain(format!("#{}", d.number)),
            Text::plain(end_name(&d.needs, projects, milestones)),
            Text::plain(end_name(&d.from, projects, milestones)),
            Text::plain(d.what.as_str()),
            Text::new().date(d.need_by),
            Text::plain(arrival_words(d, arrives)),
            Text::plain(agreement_words(d)),
            person_cell(owner),
            Text::plain(state_words(d, now, today)),
        ]);
        data.push(records::dependency(&g, &f, &people, i));
    }
    Ok(counted_table(
        Reply::new(format!("No dependencies in {}", p.key)),
        format_args!("Dependencies of {}", p.key),
        &[
            "#",
            "Needs",
            "From",
            "What",
            "By",
            "Arrives",
            "Agreement",
            "Owner",
            "State",
        ],
        rows,
    )
    .data(json!({ "program": p.key.as_str(), "dependencies": data })))
}

/// "accepted", "accepted for 01-15", "proposed 01-19", "requested", "declined".
fn agreement_words(d: &Dependency) -> String {
    match (d.agreement, d.committed_on, d.proposed_on) {
        (Agreement::Accepted, Some(c), _) => format!("accepted for {c}"),
        (Agreement::Proposed, _, Some(p)) => format!("proposed {p}"),
        (a, _, _) => a.as_str().to_owned(),
    }
}

async fn show(s: &mut Session<'_>, target: &Numbered) -> Result<Reply> {
    let (scope, p, d) = open(s, target, Access::Read).await?;
    let now = s.ctx.now;
    let g = store::load_schedule(s.conn(), &scope, p.clone(), now).await?;
    let f = Forecasts::of(&g);
    let people = s.people().await?.clone();
    let (projects, milestones) = (&g.projects, &g.milestones);
    let owner = s.maybe_mention(d.owner).await?;
    let today = s.today(&p);
    let i =
        g.deps.iter().position(|x| x.id == d.id).ok_or_else(|| {
            anyhow::anyhow!("dependency #{} is missing from its schedule", d.number)
        })?;
    let (arrival, _) = records::arrival(&f, &g, i);
    let data = records::dependency(&g, &f, &people, i);
    Ok(Reply::new(format!("Dependency #{} of {}", d.number, p.key))
        .fields(vec![
            ("What", Text::plain(d.what.as_str())),
            (
                "Needs",
                Text::plain(end_name(&d.needs, projects, milestones)),
            ),
            ("From", Text::plain(end_name(&d.from, projects, milestones))),
            ("Need by", date_from_today(today, d.need_by)),
            ("Arrives", Text::plain(arrival_words(&d, arrival))),
            ("Agreement", Text::plain(agreement_words(&d))),
            (
                "Provider's words",
                Text::plain(d.agreement_note.clone().unwrap_or_default()),
            ),
            ("Owner", person_cell(owner)),
            ("State", Text::plain(state_words(&d, s.ctx.now, today))),
            (
                "Blocked because",
                Text::plain(d.blocked_reason.clone().unwrap_or_default()),
            ),
        ])
        .data(data))
}

/// New ends for `dep set`.
struct Ends {
    needs: Option<Key>,
    from: Option<Key>,
    external: Option<Title>,
}

async fn set(
    s: &mut Session<'_>,
    target: &Numbered,
    what: Option<Title>,
    by: Option<DateSpec>,
    owner: Option<PersonRef>,
    state: Option<DepState>,
    ends: Ends,
) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    require_dep_edit(s, &scope, &p, &before, "change it").await?;
    let no_ends = ends.needs.is_none() && ends.from.is_none() && ends.external.is_none();
    if what.is_none() && by.is_none() && owner.is_none() && state.is_none() && no_ends {
        return refuse(
            "nothing to set: give --what, --by, --owner, --state, --needs, --from or --external",
        );
    }
    if before.state == DepState::Cancelled {
        return refuse(format!(
            "dependency #{} is cancelled; add a new one if it is needed again",
            before.number
        ));
    }
    let mut after = before.clone();
    if !no_ends {
        let projects = store::projects(s.conn(), &scope).await?;
        let milestones = store::milestones(s.conn(), &scope).await?;
        if let Some(k) = &ends.needs {
            after.needs = endpoint(&p, &projects, &milestones, k, "--needs")?;
        }
        match (&ends.from, &ends.external) {
            (Some(k), _) => after.from = endpoint(&p, &projects, &milestones, k, "--from")?,
            (None, Some(x)) => after.from = Endpoint::External(x.as_str().to_owned()),
            (None, None) => {}
        }
        if after.needs == after.from {
            return refuse("a dependency cannot need what it provides itself");
        }
        let others: Vec<Dependency> = store::dependencies(s.conn(), &scope)
            .await?
            .into_iter()
            .filter(|d| d.id != before.id && d.state != DepState::Cancelled)
            .collect();
        if let Some(cycle) = cycle_if_added(&milestones, &others, &after.from, &after.needs) {
            let names: Vec<String> = cycle
                .iter()
                .map(|n| node_name(*n, &projects, &milestones))
                .collect();
            return refuse(format!(
                "with these ends the dependency would close a cycle: {}",
                names.join(" → ")
            ));
        }
    }
    if let Some(w) = what {
        after.what = w;
    }
    let mut agreed = None;
    if let Some(b) = by {
        after.need_by = b.resolve(s.today(&p));
        // Moving the need-by date to a pending proposal agrees to it.
        if let (Agreement::Proposed, Some(on)) = (before.agreement, before.proposed_on) {
            if after.need_by >= on {
                after.agreement = Agreement::Accepted;
                after.committed_on = Some(on);
                after.proposed_on = None;
                agreed = Some(on);
            }
        }
    }
    if let Some(o) = &owner {
        after.owner = Some(s.person(o).await?.id);
    }
    match state {
        None => {}
        Some(st @ (DepState::Open | DepState::AtRisk)) => {
            if before.state == DepState::Delivered {
                return refuse(format!(
                    "dependency #{} is delivered; it cannot be reopened",
                    before.number
                ));
            }
            if before.state == DepState::Blocked {
                return refuse(format!(
                    "dependency #{} is blocked: use `dep unblock {} {}` first",
                    before.number, p.key, before.number
                ));
            }
            after.state = st;
        }
        Some(DepState::Blocked) => {
            return refuse(format!(
                "use `dep block {} {} --reason \"…\"` to block it",
                p.key, before.number
            ))
        }
        Some(DepState::Delivered) => {
            return refuse(format!(
                "use `dep deliver {} {}` to mark it delivered",
                p.key, before.number
            ))
        }
        Some(DepState::Cancelled) => {
            return refuse(format!(
                "use `dep cancel {} {} --reason \"…\"` to cancel it",
                p.key, before.number
            ))
        }
    }
    store::update_dependency(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "dep.updated",
        format!("dep:{}", before.number),
        Some(&before),
        Some(&after),
    )
    .await?;
    let reply = Reply::success(format!("Updated dependency #{}", before.number));
    Ok(match agreed {
        Some(on) => reply.paragraph(format!(
            "Its need-by date now meets the provider's proposal: it is accepted, committed for {on}."
        )),
        None => reply,
    })
}

/// The dependency as the agreement messages name it.
fn asked<'a>(p: &'a Program, d: &'a Dependency, needs: &'a str, from: &'a str) -> Asked<'a> {
    Asked {
        program: p.key.as_str(),
        number: d.number,
        what: d.what.as_str(),
        needs,
        from,
        need_by: d.need_by,
    }
}

/// Editors, and whoever answers for the provider: the dependency's owner, the providing
/// project's lead, and their delegates.
async fn require_answer(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    d: &Dependency,
    projects: &[Project],
    milestones: &[Milestone],
    doing: &str,
) -> Result<()> {
    if s.is_editor(scope, p).await? {
        return Ok(());
    }
    let mut answer: Vec<i64> = d.owner.into_iter().collect();
    answer.extend(end_owner(&d.from, projects, milestones));
    let mut delegates = Vec::new();
    for id in &answer {
        if let Some(del) = s.people().await?.get(id).and_then(|p| p.delegate) {
            delegates.push(del);
        }
    }
    answer.extend(delegates);
    s.require_editor_or(
        scope,
        p,
        &answer,
        "the providing team's owner, their delegate",
        doing,
    )
    .await
}

/// An answer can be given while the dependency is still to be delivered.
fn require_open(d: &Dependency, doing: &str) -> Result<()> {
    if d.is_open() {
        return Ok(());
    }
    refuse(format!(
        "dependency #{} is {}: there is nothing to {doing}",
        d.number,
        d.state.as_str()
    ))
}

/// Records the provider's answer, logs it, and tells the consumer's owner (unless they
/// answered themselves). Returns the reply's last paragraph about who was told.
async fn answered(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    before: &Dependency,
    after: &Dependency,
    kind: &str,
    on: Option<NaiveDate>,
) -> Result<Option<Text>> {
    let projects = store::projects(s.conn(), scope).await?;
    let milestones = store::milestones(s.conn(), scope).await?;
    store::update_dependency(s.conn(), scope, after).await?;
    let shown = |d: &Dependency| {
        json!({
            "agreement": d.agreement,
            "committed_on": d.committed_on,
            "proposed_on": d.proposed_on,
            "note": d.agreement_note,
            "what": d.what,
        })
    };
    s.event(
        Some(scope),
        kind,
        format!("dep:{}", before.number),
        Some(&shown(before)),
        Some(&shown(after)),
    )
    .await?;
    let me = s.actor().await?;
    let Some(consumer) = end_owner(&after.needs, &projects, &milestones) else {
        return Ok(None);
    };
    if consumer == me.id {
        return Ok(None);
    }
    let to = store::person(s.conn(), scope.tenant(), consumer).await?;
    let (needs, from) = (
        end_name(&after.needs, &projects, &milestones),
        end_name(&after.from, &projects, &milestones),
    );
    let message = agreements::answer(
        &to,
        &me,
        &asked(p, after, &needs, &from),
        after.agreement,
        on,
        after.agreement_note.as_deref(),
    );
    let about = project_of(&after.needs, &projects, &milestones).map(|pr| pr.id);
    let queued = agreements::tell(
        &mut s.tx,
        scope,
        p,
        &to,
        about,
        message,
        agreements::answer_reason(p.key.as_str(), after.number, after.agreement),
        format!(
            "dep-answer:{}:{}:{}:{}:{}",
            p.id,
            after.number,
            after.agreement.as_str(),
            on.map(|d| d.to_string()).unwrap_or_default(),
            s.ctx.now.timestamp_micros()
        ),
        s.ctx.now,
    )
    .await?;
    Ok(queued.then(|| Text::new().person(&to).text(" will be told.")))
}

async fn accept(s: &mut Session<'_>, target: &Numbered, by: Option<DateSpec>) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    let projects = store::projects(s.conn(), &scope).await?;
    let milestones = store::milestones(s.conn(), &scope).await?;
    require_answer(s, &scope, &p, &before, &projects, &milestones, "accept it").await?;
    require_open(&before, "accept")?;
    let today = s.today(&p);
    let by = by.map(|b| b.resolve(today));
    if let Some(b) = by.filter(|b| *b < today) {
        return refuse(format!(
            "--by {b} is in the past: commit to today or a later date"
        ));
    }
    if before.agreement == Agreement::Accepted && by.is_none_or(|b| before.committed_on == Some(b))
    {
        return refuse(format!(
            "dependency #{} is already accepted{}",
            before.number,
            before
                .committed_on
                .map(|c| format!(", committed for {c}"))
                .unwrap_or_default()
        ));
    }
    let mut after = before.clone();
    after.agreement = Agreement::Accepted;
    after.committed_on = by.or(before.committed_on);
    after.proposed_on = None;
    after.agreement_note = None;
    after.requested_at = None;
    let told = answered(
        s,
        &scope,
        &p,
        &before,
        &after,
        "dep.accepted",
        after.committed_on,
    )
    .await?;
    let mut reply =
        Reply::success(format!("Dependency #{} is accepted", before.number)).paragraph(match after
            .committed_on
        {
            Some(c) => format!(
                "{}: committed for {c}, needed by {}.",
                after.what, after.need_by
            ),
            None => format!("{}: needed by {}.", after.what, after.need_by),
        });
    // Will it really arrive in time? The provider's forecast may say otherwise.
    let arrival = arrivals(s, &scope, &p).await?.get(&after.number).copied();
    if let Some(a) = arrival.filter(|a| *a > after.need_by) {
        reply = reply.tone(crate::reply::Tone::Warning).paragraph(format!(
            "Conflict: it arrives {a}, {} after it is needed. Move the need-by date, or the provider's milestone.",
            n_days((a - after.need_by).num_days())
        ));
    }
    Ok(match told {
        Some(t) => reply.paragraph(t),
        None => reply,
    })
}

async fn propose(
    s: &mut Session<'_>,
    target: &Numbered,
    by: DateSpec,
    reason: Prose,
) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    let projects = store::projects(s.conn(), &scope).await?;
    let milestones = store::milestones(s.conn(), &scope).await?;
    require_answer(
        s,
        &scope,
        &p,
        &before,
        &projects,
        &milestones,
        "propose a date",
    )
    .await?;
    require_open(&before, "propose a date for")?;
    if reason.is_empty() {
        return refuse("a proposal needs a --reason: the consuming team reads it");
    }
    let today = s.today(&p);
    let on = by.resolve(today);
    if on < today {
        return refuse(format!(
            "--by {on} is in the past: propose today or a later date"
        ));
    }
    if on <= before.need_by {
        return refuse(format!(
            "{on} is not after the need-by date {}: accept it instead with `dep accept {} {} --by {on}`",
            before.need_by, p.key, before.number
        ));
    }
    let mut after = before.clone();
    after.agreement = Agreement::Proposed;
    after.proposed_on = Some(on);
    after.agreement_note = Some(reason.as_str().to_owned());
    after.requested_at = None;
    let told = answered(s, &scope, &p, &before, &after, "dep.proposed", Some(on)).await?;
    let reply = Reply::success(format!("Proposed {on} for dependency #{}", before.number))
        .tone(crate::reply::Tone::Warning)
        .paragraph(format!(
            "{}: needed by {}, proposed {on} ({} later) — {}. Until its consumer agrees, it arrives {on}.",
            after.what,
            after.need_by,
            n_days((on - after.need_by).num_days()),
            reason.as_str()
        ));
    Ok(match told {
        Some(t) => reply.paragraph(t),
        None => reply,
    })
}

async fn decline(s: &mut Session<'_>, target: &Numbered, reason: Prose) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    let projects = store::projects(s.conn(), &scope).await?;
    let milestones = store::milestones(s.conn(), &scope).await?;
    require_answer(s, &scope, &p, &before, &projects, &milestones, "decline it").await?;
    require_open(&before, "decline")?;
    if before.agreement == Agreement::Declined {
        return refuse(format!("dependency #{} is already declined", before.number));
    }
    if reason.is_empty() {
        return refuse("a refusal needs a --reason: the consuming team reads it");
    }
    let mut after = before.clone();
    after.agreement = Agreement::Declined;
    after.proposed_on = None;
    after.committed_on = None;
    after.agreement_note = Some(reason.as_str().to_owned());
    after.requested_at = None;
    let told = answered(s, &scope, &p, &before, &after, "dep.declined", None).await?;
    let reply = Reply::success(format!("Dependency #{} is declined", before.number))
        .tone(crate::reply::Tone::Warning)
        .paragraph(format!("{} — {}.", after.what, reason.as_str()));
    Ok(match told {
        Some(t) => reply.paragraph(t),
        None => reply,
    })
}

async fn cancel(s: &mut Session<'_>, target: &Numbered, reason: Prose) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    require_dep_edit(s, &scope, &p, &before, "cancel it").await?;
    if !before.is_open() {
        return refuse(format!(
            "dependency #{} is already {}",
            before.number,
            before.state.as_str()
        ));
    }
    if reason.is_empty() {
        return refuse("a cancellation needs a --reason: it stays in the history");
    }
    let mut after = before.clone();
    after.state = DepState::Cancelled;
    after.cancel_reason = Some(reason.as_str().to_owned());
    store::update_dependency(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "dep.cancelled",
        format!("dep:{}", before.number),
        Some(&json!({ "state": before.state })),
        Some(&json!({ "state": "cancelled", "reason": reason.as_str(), "what": before.what })),
    )
    .await?;
    Ok(
        Reply::success(format!("Dependency #{} is cancelled", before.number)).paragraph(
            Text::plain(format!(
                "{} — {}. It stays in the history and leaves the analysis.",
                before.what,
                reason.as_str()
            )),
        ),
    )
}

async fn block(s: &mut Session<'_>, target: &Numbered, reason: Prose) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    require_dep_edit(s, &scope, &p, &before, "block it").await?;
    if before.state == DepState::Delivered {
        return refuse(format!(
            "dependency #{} is already delivered",
            before.number
        ));
    }
    if reason.is_empty() {
        return refuse("a block needs a --reason: the owner is told why");
    }
    let mut after = before.clone();
    after.state = DepState::Blocked;
    after.blocked_since = before.blocked_since.or(Some(s.ctx.now));
    after.blocked_reason = Some(reason.as_str().to_owned());
    store::update_dependency(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "dep.blocked",
        format!("dep:{}", before.number),
        Some(&json!({ "state": before.state, "reason": before.blocked_reason })),
        Some(&json!({ "state": "blocked", "reason": reason.as_str(), "what": before.what })),
    )
    .await?;
    let owner = s.maybe_mention(before.owner).await?;
    Ok(
        Reply::success(format!("Dependency #{} is blocked", before.number))
            .tone(crate::reply::Tone::Warning)
            .paragraph(
                Text::plain(format!("{} — {}. Owner: ", before.what, reason.as_str()))
                    .maybe_person(owner),
            ),
    )
}

async fn unblock(s: &mut Session<'_>, target: &Numbered) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    require_dep_edit(s, &scope, &p, &before, "unblock it").await?;
    if before.state != DepState::Blocked {
        return refuse(format!(
            "dependency #{} is not blocked (it is {})",
            before.number,
            before.state.as_str()
        ));
    }
    let blocked_days = before
        .blocked_since
        .map(|t| (s.ctx.now - t).num_days())
        .unwrap_or(0);
    let mut after = before.clone();
    after.state = DepState::Open;
    after.blocked_since = None;
    after.blocked_reason = None;
    store::update_dependency(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "dep.unblocked",
        format!("dep:{}", before.number),
        Some(&json!({ "state": "blocked", "since": before.blocked_since, "reason": before.blocked_reason })),
        Some(&json!({ "state": "open", "blocked_days": blocked_days, "what": before.what })),
    )
    .await?;
    Ok(
        Reply::success(format!("Dependency #{} is unblocked", before.number))
            .paragraph(format!("It was blocked for {blocked_days} days.")),
    )
}

async fn snooze(
    s: &mut Session<'_>,
    target: &Numbered,
    until: DateSpec,
    reason: Option<Prose>,
) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    require_dep_edit(s, &scope, &p, &before, "snooze it").await?;
    if !before.is_open() {
        return refuse(format!(
            "dependency #{} is delivered: there is nothing to snooze",
            before.number
        ));
    }
    let subject = format!("dep:{}", before.number);
    let what = format!("dependency #{} ({})", before.number, before.what.as_str());
    super::schedule::snooze(s, &scope, &p, &subject, &what, until, reason).await
}

async fn deliver(s: &mut Session<'_>, target: &Numbered, on: Option<DateSpec>) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    require_dep_edit(s, &scope, &p, &before, "mark it delivered").await?;
    if before.state == DepState::Delivered {
        return refuse(format!(
            "dependency #{} is already delivered",
            before.number
        ));
    }
    let today = s.today(&p);
    let on = on_or_before(today, on, "a dependency is delivered on or before today")?;
    let mut after = before.clone();
    after.state = DepState::Delivered;
    after.delivered_on = Some(on);
    after.blocked_since = None;
    after.blocked_reason = None;
    store::update_dependency(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "dep.delivered",
        format!("dep:{}", before.number),
        Some(&json!({ "state": before.state, "blocked_since": before.blocked_since })),
        Some(&json!({ "state": "delivered", "on": on, "what": before.what })),
    )
    .await?;
    let late = (on - before.need_by).num_days();
    let note = if late > 0 {
        format!("{late} days after it was needed")
    } else {
        "in time".to_owned()
    };
    Ok(
        Reply::success(format!("Dependency #{} is delivered", before.number))
            .paragraph(format!("{} delivered {on}, {note}.", before.what)),
    )
}

/// The dependency a command names, with its program opened as `access` says.
async fn open(
    s: &mut Session<'_>,
    target: &Numbered,
    access: Access,
) -> Result<(Scope, Program, Dependency)> {
    let (program, n) = target.split()?;
    let (scope, p) = s.open(program, access).await?;
    let d = load(s, &scope, &p, n).await?;
    Ok((scope, p, d))
}

async fn load(s: &mut Session<'_>, scope: &Scope, p: &Program, raw: &str) -> Result<Dependency> {
    let n = parse_number(raw, "dependency")?;
    match store::find_dependency(s.conn(), scope, n).await? {
        Some(d) => Ok(d),
        None => not_found(
            format_args!("dependency #{n}"),
            p,
            Some(Listing::DEPENDENCIES),
        ),
    }
}

/// Editors, the dependency's owner, and the leads of the projects on either end.
async fn require_dep_edit(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    d: &Dependency,
    doing: &str,
) -> Result<()> {
    if s.is_editor(scope, p).await? {
        return Ok(());
    }
    let projects = store::projects(s.conn(), scope).await?;
    let milestones = store::milestones(s.conn(), scope).await?;
    let mut owners: Vec<i64> = d.owner.into_iter().collect();
    for e in [&d.needs, &d.from] {
        if let Some(pr) = project_of(e, &projects, &milestones) {
            owners.push(pr.owner);
        }
    }
    s.require_editor_or(
        scope,
        p,
        &owners,
        "the dependency's owner, a lead of either project",
        doing,
    )
    .await
}

fn endpoint(
    p: &Program,
    projects: &[Project],
    milestones: &[Milestone],
    key: &Key,
    flag: &str,
) -> Result<Endpoint> {
    if let Some(m) = milestones.iter().find(|m| &m.key == key) {
        return Ok(Endpoint::Milestone(m.id));
    }
    match projects.iter().find(|pr| &pr.key == key) {
        Some(pr) if pr.removed => refuse(format!(
            "{flag}: project `{key}` was removed from `{}`",
            p.key
        )),
        Some(pr) => Ok(Endpoint::Project(pr.id)),
        None => refuse(format!(
            "{flag}: there is no project or milestone `{key}` in `{}`",
            p.key
        )),
    }
}

fn project_of<'a>(
    e: &Endpoint,
    projects: &'a [Project],
    milestones: &[Milestone],
) -> Option<&'a Project> {
    let id = match e {
        Endpoint::Project(id) => Some(*id),
        Endpoint::Milestone(m) => milestones
            .iter()
            .find(|x| x.id == *m)
            .and_then(|x| x.project),
        Endpoint::External(_) => None,
    }?;
    projects.iter().find(|pr| pr.id == id)
}

/// Who answers for an end: its milestone's owner, else its project's lead.
fn end_owner(e: &Endpoint, projects: &[Project], milestones: &[Milestone]) -> Option<i64> {
    if let Endpoint::Milestone(m) = e {
        if let Some(owner) = milestones.iter().find(|x| x.id == *m).and_then(|x| x.owner) {
            return Some(owner);
        }
    }
    project_of(e, projects, milestones).map(|pr| pr.owner)
}

pub(super) fn end_name(e: &Endpoint, projects: &[Project], milestones: &[Milestone]) -> String {
    match e {
        Endpoint::Project(id) => project_key(projects, *id),
        Endpoint::Milestone(id) => milestone_key(milestones, *id),
        Endpoint::External(x) => format!("{x} (external)"),
    }
}

fn node(e: &Endpoint) -> Option<Node> {
    match e {
        Endpoint::Project(p) => Some(Node::Project(*p)),
        Endpoint::Milestone(m) => Some(Node::Milestone(*m)),
        Endpoint::External(_) => None,
    }
}

pub(super) fn node_name(n: Node, projects: &[Project], milestones: &[Milestone]) -> String {
    match n {
        Node::Project(id) => end_name(&Endpoint::Project(id), projects, milestones),
        Node::Milestone(id) => end_name(&Endpoint::Milestone(id), projects, milestones),
    }
}

/// The cycle that a dependency `from → needs` would close in the schedule graph.
pub(super) fn cycle_if_added(
    milestones: &[Milestone],
    deps: &[Dependency],
    from: &Endpoint,
    needs: &Endpoint,
) -> Option<Vec<Node>> {
    let (from, needs) = (node(from)?, node(needs)?);
    graph::cycle_if_added(&schedule_edges(milestones, deps), from, needs)
}

/// The schedule graph's successors, for a batch that asks [`cycle_if_added`] many times.
pub(super) fn schedule_successors(
    milestones: &[Milestone],
    deps: &[Dependency],
) -> std::collections::HashMap<Node, Vec<Node>> {
    graph::successors(&schedule_edges(milestones, deps))
}

/// [`cycle_if_added`] on a graph given by its successors.
fn cycle_if_added_in(
    next: &std::collections::HashMap<Node, Vec<Node>>,
    from: &Endpoint,
    needs: &Endpoint,
) -> Option<Vec<Node>> {
    let (from, needs) = (node(from)?, node(needs)?);
    graph::cycle_if_added_in(next, from, needs)
}

/// Every edge of the schedule graph: predecessors to milestones, providers to consumers.
fn schedule_edges(milestones: &[Milestone], deps: &[Dependency]) -> Vec<(Node, Node)> {
    let mut edges: Vec<(Node, Node)> = Vec::new();
    for m in milestones {
        edges.extend(
            m.after
                .iter()
                .map(|p| (Node::Milestone(*p), Node::Milestone(m.id))),
        );
    }
    for d in deps {
        if let (Some(a), Some(b)) = (node(&d.from), node(&d.needs)) {
            edges.push((a, b));
        }
    }
    edges
}

fn state_words(
    d: &Dependency,
    now: chrono::DateTime<chrono::Utc>,
    today: chrono::NaiveDate,
) -> String {
    match d.state {
        DepState::Blocked => {
            let days = d.blocked_since.map(|t| (now - t).num_days()).unwrap_or(0);
            format!("blocked {days}d")
        }
        DepState::Delivered => format!(
            "delivered {}",
            d.delivered_on.map(|x| x.to_string()).unwrap_or_default()
        ),
        st if d.need_by < today => format!(
            "{}, {} days late",
            st.as_str(),
            (today - d.need_by).num_days()
        ),
        st => st.as_str().to_owned(),
    }
}
