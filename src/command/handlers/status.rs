//! `status …`: project status updates.

use chrono::Duration;

use super::common::{
    counted_table, find_live_project, find_project, person_cell, project_key, Listing,
};
use super::{parse_key, refuse, Session};
use crate::command::grammar::{ForProject, ProgramArg, StatusCmd};
use crate::command::Result;
use crate::domain::{Prose, Rag, StatusUpdate};
use crate::reply::{Reply, Text, Tone};
use crate::store;

pub(super) async fn run(s: &mut Session<'_>, cmd: StatusCmd) -> Result<Reply> {
    match cmd {
        StatusCmd::Post {
            target,
            rag,
            summary,
            blockers,
            next_steps,
        } => post(s, &target, rag, summary, blockers, next_steps).await,
        StatusCmd::List { target, limit } => list(s, &target, limit).await,
        StatusCmd::Missing(ProgramArg { program }) => missing(s, program.as_deref()).await,
    }
}

async fn post(
    s: &mut Session<'_>,
    target: &ForProject,
    rag: Rag,
    summary: Prose,
    blockers: Option<Prose>,
    next_steps: Option<Prose>,
) -> Result<Reply> {
    let (program, key) = target.split()?;
    let key = parse_key(key, "project")?;
    let (scope, p) = s.program_for_change(program).await?;
    let project = find_live_project(s, &scope, &p, &key, Some(Listing::PROJECTS)).await?;
    s.require_editor_or(
        &scope,
        &p,
        &[project.owner],
        "the project's owner",
        "post its status",
    )
    .await?;
    crate::domain::check_status_fields(
        rag,
        !summary.is_empty(),
        blockers.as_ref().is_some_and(|b| !b.is_empty()),
        next_steps.as_ref().is_some_and(|n| !n.is_empty()),
    )
    .or_else(|(_, msg)| refuse(msg))?;
    let author = s.actor_id().await?;
    // The colour the author saw before this update, so "what changed" can say amber → red.
    // Posts hold their program shared (see `Command::shares_program`): two posts to one
    // project in the same instant both name the one they replaced, and the later stands.
    let previous = store::status_updates(s.conn(), &scope, Some(project.id), 1)
        .await?
        .first()
        .map(|u| u.rag);
    let mut u = StatusUpdate {
        id: 0,
        project: project.id,
        rag,
        summary,
        blockers: blockers.map(|b| b.as_str().to_owned()).unwrap_or_default(),
        next_steps: next_steps
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default(),
        author: Some(author),
        posted_at: s.ctx.now,
    };
    u.id = store::insert_status_update(s.conn(), &scope, &u).await?;
    s.event(
        Some(&scope),
        "status.posted",
        format!("project:{key}"),
        previous
            .map(|rag| serde_json::json!({ "rag": rag }))
            .as_ref(),
        Some(&u),
    )
    .await?;
    Ok(
        Reply::success(format!("Posted {} status for {key}", rag.as_str()))
            .tone(Tone::Health(rag))
            .fields(vec![
                ("Summary", Text::plain(u.summary.as_str())),
                ("Blockers", Text::plain(u.blockers.clone())),
                ("Next steps", Text::plain(u.next_steps.clone())),
                ("Author", Text::new().person(s.actor_mention())),
            ]),
    )
}

async fn list(s: &mut Session<'_>, target: &ForProject, limit: u16) -> Result<Reply> {
    // `status list atlas` names a program; `status list api` in a bound channel, a project.
    let (first, second) = (target.first.as_deref(), target.second.as_deref());
    let (program, project) = match (first, second) {
        (Some(p), Some(pr)) => (Some(p), Some(pr)),
        (Some(one), None) => {
            let key = parse_key(one, "program or project")?;
            let tenant = s.ctx.tenant.clone();
            if store::find_program(s.conn(), &tenant, &key)
                .await?
                .is_some()
            {
                (Some(one), None)
            } else {
                (None, Some(one))
            }
        }
        _ => (None, None),
    };
    let (scope, p) = s.program(program).await?;
    let project = match project {
        Some(k) => {
            let k = parse_key(k, "project")?;
            Some(find_project(s, &scope, &p, &k, None).await?)
        }
        None => None,
    };
    if limit == 0 || limit > 500 {
        return refuse("--limit is 1 to 500");
    }
    let updates = store::status_updates(
        s.conn(),
        &scope,
        project.as_ref().map(|pr| pr.id),
        limit.into(),
    )
    .await?;
    let projects = store::projects(s.conn(), &scope).await?;
    let people = s.people().await?.clone();
    let mut rows = Vec::new();
    let mut data = Vec::new();
    let tz = p.timezone.tz();
    for u in &updates {
        data.push(super::records::status(&p, &projects, &people, u));
        let author = s.maybe_mention(u.author).await?;
        let key = project_key(&projects, u.project);
        rows.push(vec![
            Text::plain(
                u.posted_at
                    .with_timezone(&tz)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
            ),
            Text::plain(key),
            Text::new().rag(u.rag),
            Text::plain(u.summary.as_str()),
            Text::plain(u.blockers.clone()),
            person_cell(author),
        ]);
    }
    Ok(counted_table(
        Reply::new(format!("No status updates in {} yet", p.key)),
        format_args!("Status updates of {}", p.key),
        &[
            &format!("Posted ({})", p.timezone.as_str()),
            "Project",
            "RAG",
            "Summary",
            "Blockers",
            "By",
        ],
        rows,
    )
    .data(serde_json::json!({ "program": p.key.as_str(), "status_updates": data })))
}

/// `status missing`: projects with no update yet, or only a stale one.
async fn missing(s: &mut Session<'_>, program: Option<&str>) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let projects = store::projects(s.conn(), &scope).await?;
    let latest = store::latest_status_updates(s.conn(), &scope).await?;
    let cutoff = s.ctx.now - Duration::days(p.staleness_days.into());
    let mut items = Vec::new();
    for pr in projects.iter().filter(|pr| !pr.removed) {
        let owner = s.mention(pr.owner).await?;
        match latest.iter().find(|u| u.project == pr.id) {
            None => items.push(
                Text::new()
                    .code(pr.key.as_str())
                    .text(": no update yet — ")
                    .person(owner),
            ),
            Some(u) if u.posted_at < cutoff => items.push(
                Text::new()
                    .code(pr.key.as_str())
                    .text(format!(
                        ": last update {} days ago — ",
                        (s.ctx.now - u.posted_at).num_days()
                    ))
                    .person(owner),
            ),
            Some(_) => {}
        }
    }
    if items.is_empty() {
        return Ok(Reply::success(format!(
            "Every project in {} has a current update",
            p.key
        )));
    }
    Ok(Reply::new(format!(
        "Missing or stale updates in {} ({})",
        p.key,
        items.len()
    ))
    .tone(Tone::Warning)
    .paragraph(format!(
        "Updates older than {} days are stale.",
        p.staleness_days
    ))
    .list(items))
}
