//! `readiness …`: the launch readiness checklist. An item gates one milestone, or the
//! program's launch (the end of its critical chain) when it names none. `report readiness`
//! turns the checklist of one milestone into a go/no-go page.

use serde_json::json;

use super::common::{person_cell, Access};
use super::{parse_key, parse_number, records, refuse, Session};
use crate::analysis::Analysed;
use crate::command::grammar::{Numbered, ReadinessCmd, Titled};
use crate::command::Result;
use crate::domain::{Check, DateSpec, Key, Milestone, PersonRef, Program, Title};
use crate::reply::{Reply, Text};
use crate::store::{self, Scope};

pub(super) async fn run(s: &mut Session<'_>, cmd: ReadinessCmd) -> Result<Reply> {
    match cmd {
        ReadinessCmd::Add {
            target,
            owner,
            milestone,
            due,
        } => add(s, &target, &owner, milestone.as_ref(), due).await,
        ReadinessCmd::Check(target) => mark(s, &target, true).await,
        ReadinessCmd::Uncheck(target) => mark(s, &target, false).await,
        ReadinessCmd::Show { first, second } => show(s, first.as_deref(), second.as_deref()).await,
    }
}

async fn find_milestone(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    key: &Key,
) -> Result<Milestone> {
    match store::find_milestone(s.conn(), scope, key).await? {
        Some(m) => Ok(m),
        None => refuse(format!(
            "there is no milestone `{key}` in `{}`: `milestone list {}` shows them",
            p.key, p.key
        )),
    }
}

async fn add(
    s: &mut Session<'_>,
    target: &Titled,
    owner: &PersonRef,
    milestone: Option<&Key>,
    due: Option<DateSpec>,
) -> Result<Reply> {
    let (program, title) = target.split()?;
    let title = Title::parse(title)?;
    let (scope, p) = s.program_for_change(program).await?;
    let milestone = match milestone {
        Some(k) => Some(find_milestone(s, &scope, &p, k).await?),
        None => None,
    };
    // Editors add to any checklist; a project's lead to the checklist of its milestones.
    let mut leads = Vec::new();
    if let Some(pr) = milestone.as_ref().and_then(|m| m.project) {
        if let Some(pr) = store::projects(s.conn(), &scope)
            .await?
            .into_iter()
            .find(|x| x.id == pr)
        {
            leads.push(pr.owner);
        }
    }
    s.require_editor_or(
        &scope,
        &p,
        &leads,
        "the lead of its milestone's project",
        "add to the readiness checklist",
    )
    .await?;
    let today = s.today(&p);
    let due = due.map(|d| d.resolve(today));
    if let Some(d) = due.filter(|d| *d < today) {
        return refuse(format!(
            "--due {d} is in the past: give today or a later date"
        ));
    }
    let owner = s.person(owner).await?;
    let mut check = Check {
        id: 0,
        number: 0,
        milestone: milestone.as_ref().map(|m| m.id),
        title,
        owner: Some(owner.id),
        due,
        checked_on: None,
        checked_by: None,
        created_at: s.ctx.now,
    };
    check.number = store::insert_check(s.conn(), &scope, &check).await?;
    s.event(
        Some(&scope),
        "readiness.added",
        format!("readiness:{}", check.number),
        None::<&()>,
        Some(&json!({
            "title": check.title,
            "milestone": milestone.as_ref().map(|m| m.key.as_str()),
            "owner": owner.id,
            "due": due,
        })),
    )
    .await?;
    let line = Text::new()
        .strong(check.title.as_str())
        .text(", to be done before ");
    let line = match &milestone {
        Some(m) => line.code(m.key.as_str()),
        None => line.text("the launch"),
    };
    Ok(Reply::success(format!(
        "Readiness item #{} added to {}",
        check.number, p.key
    ))
    .paragraph(line.text(". Owner: ").person(&owner).text(match due {
        Some(d) => format!(", due {d}."),
        None => ".".to_owned(),
    })))
}

async fn mark(s: &mut Session<'_>, target: &Numbered, checked: bool) -> Result<Reply> {
    let (program, n) = target.split()?;
    let (scope, p) = s.open(program, Access::Change).await?;
    let n = parse_number(n, "readiness item")?;
    let Some(before) = store::checks(s.conn(), &scope)
        .await?
        .into_iter()
        .find(|c| c.number == n)
    else {
        return refuse(format!(
            "there is no readiness item #{n} in `{}`: `readiness show {}` lists them",
            p.key, p.key
        ));
    };
    let owners: Vec<i64> = before.owner.into_iter().collect();
    s.require_editor_or(
        &scope,
        &p,
        &owners,
        "its owner",
        if checked { "check it" } else { "uncheck it" },
    )
    .await?;
    if before.is_checked() == checked {
        return refuse(format!(
            "readiness item #{n} is already {}",
            if checked { "checked" } else { "unchecked" }
        ));
    }
    let mut after = before.clone();
    if checked {
        after.checked_on = Some(s.today(&p));
        after.checked_by = Some(s.actor_id().await?);
    } else {
        after.checked_on = None;
        after.checked_by = None;
    }
    store::update_check(s.conn(), &scope, &after).await?;
    let kind = if checked {
        "readiness.checked"
    } else {
        "readiness.unchecked"
    };
    s.event(
        Some(&scope),
        kind,
        format!("readiness:{n}"),
        Some(&json!({ "checked_on": before.checked_on })),
        Some(&json!({ "title": after.title, "checked_on": after.checked_on })),
    )
    .await?;
    Ok(Reply::success(format!(
        "Readiness item #{n} is {}",
        if checked { "checked" } else { "unchecked" }
    ))
    .paragraph(after.title.as_str()))
}

/// `readiness show [PROGRAM] [MILESTONE]`: with one word, a milestone of the channel's
/// program if it has one by that key, else a program.
async fn show(s: &mut Session<'_>, first: Option<&str>, second: Option<&str>) -> Result<Reply> {
    let (program, milestone) = match (first, second) {
        (Some(p), Some(m)) => (Some(p), Some(m)),
        (Some(one), None) => {
            let (tenant, channel) = (s.ctx.tenant.clone(), s.ctx.channel.clone());
            let bound = match &channel {
                Some(ch) => store::bound_program(s.conn(), &tenant, ch).await?,
                None => None,
            };
            match bound {
                Some(_) => {
                    let (scope, _) = s.program(None).await?;
                    let key = parse_key(one, "milestone")?;
                    if store::find_milestone(s.conn(), &scope, &key)
                        .await?
                        .is_some()
                    {
                        (None, Some(one))
                    } else {
                        (Some(one), None)
                    }
                }
                None => (Some(one), None),
            }
        }
        _ => (None, None),
    };
    let (scope, p) = s.program(program).await?;
    let only = match milestone {
        Some(raw) => {
            let key = parse_key(raw, "milestone")?;
            Some(find_milestone(s, &scope, &p, &key).await?)
        }
        None => None,
    };
    let snap = {
        let now = s.ctx.now;
        store::load_snapshot(s.conn(), &scope, p.clone(), now, Some(now)).await?
    };
    let a = Analysed::of(&snap);
    let launch = a.launch().map(|i| snap.milestones[i].id);
    let people = s.people().await?.clone();
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for c in &snap.checks {
        if let Some(m) = &only {
            if !c.gates(m.id, launch == Some(m.id)) {
                continue;
            }
        }
        let owner = s.maybe_mention(c.owner).await?;
        let by = s.maybe_mention(c.checked_by).await?;
        let gate = match c.milestone.and_then(|id| snap.milestone(id)) {
            Some(m) => Text::new().code(m.key.as_str()),
            None => Text::plain("launch"),
        };
        rows.push(vec![
            Text::plain(format!("#{}", c.number)),
            Text::plain(if c.is_checked() { "✓" } else { "☐" }),
            Text::plain(c.title.as_str()),
            gate,
            person_cell(owner),
            Text::plain(c.due.map(|d| d.to_string()).unwrap_or_default()),
            match (c.checked_on, by) {
                (Some(d), Some(b)) => Text::plain(format!("{d} by ")).person(b),
                (Some(d), None) => Text::plain(d.to_string()),
                _ => Text::new(),
            },
        ]);
        data.push(records::check(&snap.milestones, &people, c));
    }
    let done = data
        .iter()
        .filter(|d| d["checked"].as_bool() == Some(true))
        .count();
    let total = data.len();
    let title = match &only {
        Some(m) => format!(
            "Readiness of {} in {}: {done} of {total} done",
            m.key, p.key
        ),
        None => format!("Readiness of {}: {done} of {total} done", p.key),
    };
    let empty = Reply::new(match &only {
        Some(m) => format!("No readiness items for {} in {}", m.key, p.key),
        None => format!("No readiness items in {}", p.key),
    })
    .paragraph(Text::plain("Add one with ").code(format!(
        "readiness add {} \"Runbook reviewed\" --owner @someone",
        p.key
    )));
    let reply = if rows.is_empty() {
        empty
    } else {
        Reply::new(title).table(
            &["#", "Done", "Item", "Before", "Owner", "Due", "Checked"],
            rows,
        )
    };
    Ok(reply.data(json!({
        "program": p.key.as_str(),
        "milestone": only.as_ref().map(|m| m.key.as_str()),
        "readiness": data,
    })))
}
