//! `change …`: change requests. A proposal names its reason and the moves it implies and
//! shows what they would move; approving one (the program owner or its named decider)
//! applies the moves as slips with the change as their reason, optionally makes the new
//! dates the baseline of record, and logs the decision; a rejection says why.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::json;

use super::common::{counted_table, person_cell, Access};
use super::{milestone, parse_number, records, refuse, Session};
use crate::analysis::Forecasts;
use crate::command::grammar::{ChangeCmd, MoveSpec, Numbered, ProgramArg, Titled};
use crate::command::Result;
use crate::domain::{
    signed_days, ChangeRequest, ChangeState, Decision, Move, PersonRef, Program, Prose, Role,
    Snapshot, Title,
};
use crate::reply::{Reply, Text, Tone};
use crate::store::{self, Scope};

pub(super) async fn run(s: &mut Session<'_>, cmd: ChangeCmd) -> Result<Reply> {
    match cmd {
        ChangeCmd::Propose {
            target,
            why,
            moves,
            scope_out,
            decider,
        } => propose(s, &target, why, &moves, scope_out, decider).await,
        ChangeCmd::List(ProgramArg { program }) => list(s, program.as_deref()).await,
        ChangeCmd::Show(target) => show(s, &target).await,
        ChangeCmd::Approve { target, rebaseline } => approve(s, &target, rebaseline).await,
        ChangeCmd::Reject { target, reason } => reject(s, &target, reason).await,
    }
}

/// What the moves would do: every milestone whose forecast changes, with its owner's name,
/// as lines, and as data.
fn what_if(g: &Snapshot, moves: &[Move]) -> (Vec<Text>, serde_json::Value) {
    let now = Forecasts::of(g);
    let targets: HashMap<i64, NaiveDate> = moves
        .iter()
        .filter_map(|mv| {
            g.milestones
                .iter()
                .find(|m| m.key == mv.milestone)
                .map(|m| (m.id, mv.to))
        })
        .collect();
    let then = Forecasts::with_targets(g, &targets);
    let mut lines = Vec::new();
    let mut data = Vec::new();
    for (i, m) in g.milestones.iter().enumerate() {
        let (Some(a), Some(b)) = (now.milestone(i), then.milestone(i)) else {
            continue;
        };
        if a.forecast == b.forecast {
            continue;
        }
        let days = (b.forecast - a.forecast).num_days();
        let late = (b.forecast - m.target).num_days();
        let mut t = Text::new().code(m.key.as_str()).text(format!(
            " forecast {} → {} ({})",
            a.forecast,
            b.forecast,
            signed_days(days)
        ));
        if late > 0 && !targets.contains_key(&m.id) {
            t = t.text(format!(", {late} days past its target {}", m.target));
        }
        lines.push(t);
        data.push(json!({
            "milestone": m.key.as_str(),
            "from": a.forecast,
            "to": b.forecast,
            "days": days,
        }));
    }
    (lines, json!(data))
}

async fn propose(
    s: &mut Session<'_>,
    target: &Titled,
    why: Prose,
    moves: &[MoveSpec],
    scope_out: Option<Prose>,
    decider: Option<PersonRef>,
) -> Result<Reply> {
    let (program, title) = target.split()?;
    let title = Title::parse(title)?;
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Editor, "propose changes")
        .await?;
    if why.is_empty() {
        return refuse("a change needs a --why: approvers and the post-mortem read it");
    }
    let scope_out = scope_out.map(|p| p.as_str().to_owned()).unwrap_or_default();
    if moves.is_empty() && scope_out.is_empty() {
        return refuse("a change needs at least one --move MILESTONE:DATE or a --scope-out");
    }
    let now = s.ctx.now;
    let g = store::load_schedule(s.conn(), &scope, p.clone(), now).await?;
    let today = s.today(&p);
    let mut resolved: Vec<Move> = Vec::new();
    for mv in moves {
        let Some(m) = g.milestones.iter().find(|m| m.key == mv.milestone) else {
            return refuse(format!(
                "--move: there is no milestone `{}` in `{}`",
                mv.milestone, p.key
            ));
        };
        if m.state != crate::domain::MilestoneState::Planned {
            return refuse(format!(
                "--move: milestone `{}` is {}; only planned milestones move",
                m.key,
                m.state.as_str()
            ));
        }
        if resolved.iter().any(|r| r.milestone == mv.milestone) {
            return refuse(format!("--move: `{}` is moved twice", mv.milestone));
        }
        let to = mv.to.resolve(today);
        if to == m.target {
            return refuse(format!("--move: `{}` already targets {to}", m.key));
        }
        resolved.push(Move {
            milestone: mv.milestone.clone(),
            to,
        });
    }
    let decider = match &decider {
        Some(r) => Some(s.person(r).await?.id),
        None => None,
    };
    let me = s.actor_id().await?;
    let mut c = ChangeRequest {
        id: 0,
        number: 0,
        title,
        why: why.as_str().to_owned(),
        moves: resolved,
        scope_out,
        state: ChangeState::Proposed,
        decider,
        proposed_by: Some(me),
        rebaseline: false,
        reason: String::new(),
        decision: None,
        created_at: now,
        decided_at: None,
    };
    c.number = store::insert_change(s.conn(), &scope, &c).await?;
    s.event(
        Some(&scope),
        "change.proposed",
        format!("change:{}", c.number),
        None::<&()>,
        Some(&c),
    )
    .await?;
    let (lines, _) = what_if(&g, &c.moves);
    let mut reply = Reply::success(format!("Change #{} proposed in {}", c.number, p.key))
        .paragraph(
            Text::new()
                .strong(c.title.as_str())
                .text(format!(": {}", c.why)),
        );
    reply = with_what_if(reply, &lines);
    let approver = match c.decider {
        Some(d) => Text::new()
            .text("The program owner or ")
            .person(s.mention(d).await?)
            .text(" approves it: "),
        None => Text::plain("The program owner approves it: "),
    };
    Ok(reply.paragraph(approver.code(format!("change approve {} {}", p.key, c.number))))
}

fn with_what_if(reply: Reply, lines: &[Text]) -> Reply {
    if lines.is_empty() {
        reply.paragraph("No forecast moves.")
    } else {
        reply
            .heading(format!("If approved, forecasts move ({})", lines.len()))
            .list(lines.to_vec())
    }
}

async fn list(s: &mut Session<'_>, program: Option<&str>) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let changes = store::change_requests(s.conn(), &scope).await?;
    let people = s.people().await?.clone();
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for c in &changes {
        let by = s.maybe_mention(c.proposed_by).await?;
        rows.push(vec![
            Text::plain(format!("#{}", c.number)),
            Text::plain(c.title.as_str()),
            Text::plain(moves_words(&c.moves)),
            person_cell(by),
            Text::plain(c.state.as_str()),
        ]);
        data.push(records::change(&people, c));
    }
    Ok(counted_table(
        Reply::new(format!("No change requests in {}", p.key)),
        format_args!("Change requests of {}", p.key),
        &["#", "Change", "Moves", "Proposed by", "State"],
        rows,
    )
    .data(json!({ "program": p.key.as_str(), "changes": data })))
}

fn moves_words(moves: &[Move]) -> String {
    moves
        .iter()
        .map(|m| format!("{} → {}", m.milestone, m.to))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn open(
    s: &mut Session<'_>,
    target: &Numbered,
    access: Access,
) -> Result<(Scope, Program, ChangeRequest)> {
    let (program, n) = target.split()?;
    let (scope, p) = s.open(program, access).await?;
    let n = parse_number(n, "change request")?;
    match store::change_requests(s.conn(), &scope)
        .await?
        .into_iter()
        .find(|c| c.number == n)
    {
        Some(c) => Ok((scope, p, c)),
        None => refuse(format!(
            "there is no change request #{n} in `{}`: `change list {}` lists them",
            p.key, p.key
        )),
    }
}

async fn show(s: &mut Session<'_>, target: &Numbered) -> Result<Reply> {
    let (scope, p, c) = open(s, target, Access::Read).await?;
    let people = s.people().await?.clone();
    let by = s.maybe_mention(c.proposed_by).await?;
    let decider = s.maybe_mention(c.decider).await?;
    let mut reply =
        Reply::new(format!("Change #{} of {}: {}", c.number, p.key, c.title)).fields(vec![
            ("Why", Text::plain(c.why.clone())),
            ("Moves", Text::plain(moves_words(&c.moves))),
            ("Out of scope", Text::plain(c.scope_out.clone())),
            ("Proposed by", person_cell(by)),
            ("Decider", person_cell(decider)),
            ("State", Text::plain(c.state.as_str())),
            ("Rejected because", Text::plain(c.reason.clone())),
        ]);
    let mut data = records::change(&people, &c);
    if c.state == ChangeState::Proposed {
        let now = s.ctx.now;
        let g = store::load_schedule(s.conn(), &scope, p.clone(), now).await?;
        let (lines, shifts) = what_if(&g, &c.moves);
        reply = with_what_if(reply, &lines);
        data["what_if"] = shifts;
    }
    Ok(reply.data(data))
}

/// The program owner (or a tenant admin) and the change's named decider decide it.
async fn require_decider(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    c: &ChangeRequest,
    doing: &str,
) -> Result<()> {
    if s.role(scope, p).await? >= Role::Owner {
        return Ok(());
    }
    let me = s.known_actor_id().await?;
    if me.is_some() && me == c.decider {
        return Ok(());
    }
    refuse(format!(
        "only the owner of `{}` or the change's decider can {doing}",
        p.key
    ))
}

async fn approve(s: &mut Session<'_>, target: &Numbered, rebaseline: bool) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    require_decider(s, &scope, &p, &before, "approve it").await?;
    if before.state != ChangeState::Proposed {
        return refuse(format!(
            "change #{} is already {}",
            before.number,
            before.state.as_str()
        ));
    }
    let reason = Prose::parse(&format!(
        "change #{} approved: {} ({})",
        before.number,
        before.title.as_str(),
        before.why
    ))
    .or_else(|_| Prose::parse(&format!("change #{} approved", before.number)))?;
    let mut moved = Vec::new();
    for mv in &before.moves {
        let Some(m) = store::find_milestone(s.conn(), &scope, &mv.milestone).await? else {
            return refuse(format!(
                "milestone `{}` of change #{} is gone; reject it and propose again",
                mv.milestone, before.number
            ));
        };
        let id = m.id;
        let reply = milestone::apply_move(s, &scope, &p, m, mv.to, reason.clone()).await?;
        if rebaseline {
            store::set_baseline(s.conn(), &scope, id, mv.to).await?;
        }
        moved.push(Text::plain(reply.title.clone()));
    }
    // The approval is a decision of record.
    let me = s.actor().await?;
    let today = s.today(&p);
    let mut d = Decision {
        id: 0,
        number: 0,
        title: before.title.clone(),
        context: before.why.clone(),
        options: String::new(),
        outcome: format!(
            "Change #{} approved{}{}",
            before.number,
            if before.moves.is_empty() {
                String::new()
            } else {
                format!(": {}", moves_words(&before.moves))
            },
            if before.scope_out.is_empty() {
                String::new()
            } else {
                format!("; out of scope: {}", before.scope_out)
            }
        ),
        decided_by: Some(me.id),
        decided_on: today,
        decider: None,
        decide_by: None,
    };
    d.number = store::insert_decision(s.conn(), &scope, &d).await?;
    s.event(
        Some(&scope),
        "decision.logged",
        format!("decision:{}", d.number),
        None::<&()>,
        Some(&d),
    )
    .await?;
    let mut after = before.clone();
    after.state = ChangeState::Approved;
    after.rebaseline = rebaseline;
    after.decision = Some(d.number);
    after.decided_at = Some(s.ctx.now);
    store::update_change(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "change.approved",
        format!("change:{}", before.number),
        Some(&json!({ "state": before.state })),
        Some(&json!({
            "state": "approved",
            "title": before.title,
            "moves": before.moves,
            "rebaseline": rebaseline,
            "decision": d.number,
        })),
    )
    .await?;
    let mut reply = Reply::success(format!("Change #{} approved", before.number)).paragraph(
        Text::new().strong(before.title.as_str()).text(format!(
            ": logged as decision #{}{}.",
            d.number,
            if rebaseline {
                "; the new dates are the baseline of record"
            } else {
                ""
            }
        )),
    );
    if !moved.is_empty() {
        reply = reply.heading("Moved").list(moved);
    }
    Ok(reply)
}

async fn reject(s: &mut Session<'_>, target: &Numbered, reason: Prose) -> Result<Reply> {
    let (scope, p, before) = open(s, target, Access::Change).await?;
    require_decider(s, &scope, &p, &before, "reject it").await?;
    if before.state != ChangeState::Proposed {
        return refuse(format!(
            "change #{} is already {}",
            before.number,
            before.state.as_str()
        ));
    }
    if reason.is_empty() {
        return refuse("a rejection needs a --reason: whoever proposed it is told why");
    }
    let mut after = before.clone();
    after.state = ChangeState::Rejected;
    after.reason = reason.as_str().to_owned();
    after.decided_at = Some(s.ctx.now);
    store::update_change(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "change.rejected",
        format!("change:{}", before.number),
        Some(&json!({ "state": before.state })),
        Some(&json!({ "state": "rejected", "title": before.title, "reason": reason.as_str() })),
    )
    .await?;
    Ok(
        Reply::success(format!("Change #{} rejected", before.number))
            .tone(Tone::Warning)
            .paragraph(format!("{} — {}", before.title, reason.as_str())),
    )
}
