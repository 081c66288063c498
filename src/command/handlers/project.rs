//! `project …`.

use super::common::{counted_table, find_project, Listing};
use super::{parse_key, records, refuse, Session};
use crate::analysis::Forecasts;
use crate::command::grammar::{ProgramArg, ProjectCmd, Target};
use crate::command::Result;
use crate::domain::{DateSpec, Endpoint, MilestoneState, PersonRef, Role, Title};
use crate::reply::{Reply, Text, Tone};
use crate::store;

pub(super) async fn run(s: &mut Session<'_>, cmd: ProjectCmd) -> Result<Reply> {
    match cmd {
        ProjectCmd::Add {
            target,
            name,
            owner,
            external_id,
        } => {
            s.external_id = external_id;
            add(s, &target, name, owner).await
        }
        ProjectCmd::List {
            program: ProgramArg { program },
            all,
        } => list(s, program.as_deref(), all).await,
        ProjectCmd::Show(target) => show(s, &target).await,
        ProjectCmd::Set {
            target,
            name,
            owner,
            holiday,
            no_holiday,
        } => set(s, &target, name, owner, (holiday, no_holiday)).await,
        ProjectCmd::Remove(target) => remove(s, &target).await,
    }
}

async fn add(
    s: &mut Session<'_>,
    target: &Target,
    name: Option<Title>,
    owner: Option<PersonRef>,
) -> Result<Reply> {
    let (program, key) = target.split()?;
    let key = parse_key(key, "project")?;
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Editor, "add projects").await?;
    if let Some(kind) = store::key_in_use(s.conn(), &scope, &key).await? {
        return refuse(format!(
            "`{key}` is already a {kind} in `{}`: project and milestone keys share one namespace",
            p.key
        ));
    }
    let owner = s.person_or_actor(owner.as_ref()).await?;
    let name = name.unwrap_or_else(|| Title::from(&key));
    let project = store::insert_project(s.conn(), &scope, &key, &name, owner.id).await?;
    s.keep_external_id(&scope, store::Tracked::Project(&key))
        .await?;
    s.event(
        Some(&scope),
        "project.added",
        format!("project:{key}"),
        None::<&()>,
        Some(&project),
    )
    .await?;
    Ok(
        Reply::success(format!("Added project {key} to {}", p.key)).fields(vec![
            ("Name", Text::plain(name.as_str())),
            ("Owner", Text::new().person(&owner)),
        ]),
    )
}

async fn list(s: &mut Session<'_>, program: Option<&str>, all: bool) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let now = s.ctx.now;
    let g = store::load_schedule(s.conn(), &scope, p.clone(), now).await?;
    let people = s.people().await?.clone();
    let projects = &g.projects;
    let latest = store::latest_status_updates(s.conn(), &scope).await?;
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for pr in projects.iter().filter(|pr| all || !pr.removed) {
        let mut record = records::project(&g, &people, pr);
        record["latest_status"] = latest
            .iter()
            .find(|u| u.project == pr.id)
            .map_or(serde_json::Value::Null, |u| {
                records::status(&p, &g.projects, &people, u)
            });
        data.push(record);
        let owner = s.mention(pr.owner).await?;
        let status = match latest.iter().find(|u| u.project == pr.id) {
            Some(u) => Text::new()
                .rag(u.rag)
                .text(format!(" {}", p.today(u.posted_at))),
            None => Text::plain("no update yet"),
        };
        let mut key = Text::plain(pr.key.as_str());
        if pr.removed {
            key = key.text(" (removed)");
        }
        rows.push(vec![
            key,
            Text::plain(pr.name.as_str()),
            Text::new().person(owner),
            status,
        ]);
    }
    let empty = Reply::new(format!("No projects in {} yet", p.key)).paragraph(
        Text::plain("Add one with ").code(format!(
            "project add {} KEY --name \"…\" --owner @lead",
            p.key
        )),
    );
    Ok(counted_table(
        empty,
        format_args!("Projects of {}", p.key),
        &["Key", "Name", "Owner", "Latest status"],
        rows,
    )
    .data(serde_json::json!({ "program": p.key.as_str(), "projects": data })))
}

async fn show(s: &mut Session<'_>, target: &Target) -> Result<Reply> {
    let (program, key) = target.split()?;
    let key = parse_key(key, "project")?;
    let (scope, p) = s.program(program).await?;
    let pr = find_project(s, &scope, &p, &key, Some(Listing::PROJECTS)).await?;
    let owner = s.mention(pr.owner).await?;
    let now = s.ctx.now;
    let g = store::load_schedule(s.conn(), &scope, p.clone(), now).await?;
    let f = Forecasts::of(&g);
    let people = s.people().await?.clone();
    let milestones = &g.milestones;
    let deps = &g.deps;
    let latest = store::status_updates(s.conn(), &scope, Some(pr.id), 1).await?;
    let mine: Vec<Text> = milestones
        .iter()
        .filter(|m| m.project == Some(pr.id) && m.state == MilestoneState::Planned)
        .map(|m| {
            Text::new()
                .code(m.key.as_str())
                .text(format!(" {} — target ", m.title))
                .date(m.target)
        })
        .collect();
    let needs = deps
        .iter()
        .filter(|d| d.is_open() && endpoint_in(&d.needs, pr.id, milestones))
        .count();
    let gives = deps
        .iter()
        .filter(|d| d.is_open() && endpoint_in(&d.from, pr.id, milestones))
        .count();
    let mut reply = Reply::new(format!("{} ({}/{})", pr.name, p.key, pr.key)).fields(vec![
        ("Owner", Text::new().person(owner)),
        (
            "Open dependencies",
            Text::plain(format!("needs {needs}, provides {gives}")),
        ),
        (
            "State",
            Text::plain(if pr.removed { "removed" } else { "active" }),
        ),
        (
            "Own holidays",
            Text::plain(
                pr.holidays
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ),
    ]);
    let mut data = records::project(&g, &people, &pr);
    if let Some(u) = latest.first() {
        reply = reply
            .tone(Tone::Health(u.rag))
            .heading("Latest status")
            .fields(vec![
                ("RAG", Text::new().rag(u.rag)),
                (
                    "Posted",
                    Text::plain(
                        u.posted_at
                            .with_timezone(&p.timezone.tz())
                            .format(&format!("%Y-%m-%d %H:%M {}", p.timezone.as_str()))
                            .to_string(),
                    ),
                ),
                ("Summary", Text::plain(u.summary.as_str())),
                ("Blockers", Text::plain(u.blockers.clone())),
                ("Next steps", Text::plain(u.next_steps.clone())),
            ]);
    }
    if let Some(u) = latest.first() {
        data["latest_status"] = records::status(&p, &g.projects, &people, u);
    }
    if !mine.is_empty() {
        reply = reply.heading("Open milestones").list(mine);
    }
    // What it needs from others and what others need from it, with when each arrives.
    let line = |i: usize, other: String| {
        let d = &g.deps[i];
        let (arrives, gap) = records::arrival(&f, &g, i);
        let mut t = Text::new()
            .strong(format!("#{} {}", d.number, d.what.as_str()))
            .text(format!(" {other}, needed by {}", d.need_by));
        if let Some(a) = arrives {
            t = t.text(format!(", arrives {a}"));
        }
        if gap > 0 {
            t = t.text(format!(
                " ({} after it is needed)",
                crate::domain::n_days(gap)
            ));
        }
        t.text(format!("; {}, {}", d.agreement.as_str(), d.state.as_str()))
    };
    let inward: Vec<Text> = deps
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_open() && endpoint_in(&d.needs, pr.id, milestones))
        .map(|(i, d)| line(i, format!("from {}", g.endpoint_name(&d.from))))
        .collect();
    let outward: Vec<Text> = deps
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_open() && endpoint_in(&d.from, pr.id, milestones))
        .map(|(i, d)| line(i, format!("for {}", g.endpoint_name(&d.needs))))
        .collect();
    if !inward.is_empty() {
        reply = reply.heading("It needs").list(inward);
    }
    if !outward.is_empty() {
        reply = reply.heading("Others need from it").list(outward);
    }
    data["milestones"] = serde_json::json!(g
        .milestones
        .iter()
        .enumerate()
        .filter(|(_, m)| m.project == Some(pr.id))
        .map(|(i, _)| records::milestone(&g, &f, &people, i))
        .collect::<Vec<_>>());
    Ok(reply.data(data))
}

async fn set(
    s: &mut Session<'_>,
    target: &Target,
    name: Option<Title>,
    owner: Option<PersonRef>,
    (holiday, no_holiday): (Vec<DateSpec>, Vec<DateSpec>),
) -> Result<Reply> {
    let (program, key) = target.split()?;
    let key = parse_key(key, "project")?;
    let (scope, p) = s.program_for_change(program).await?;
    let before = find_project(s, &scope, &p, &key, None).await?;
    if name.is_none() && owner.is_none() && holiday.is_empty() && no_holiday.is_empty() {
        return refuse("nothing to set: give --name, --owner, --holiday or --no-holiday");
    }
    if owner.is_some() {
        s.require(&scope, &p, Role::Editor, "change a project's owner")
            .await?;
    } else {
        s.require_editor_or(
            &scope,
            &p,
            &[before.owner],
            "the project's owner",
            "change it",
        )
        .await?;
    }
    let mut after = before.clone();
    if let Some(n) = name {
        after.name = n;
    }
    if let Some(o) = &owner {
        after.owner = s.person(o).await?.id;
    }
    let today = s.today(&p);
    for h in &holiday {
        let d = h.resolve(today);
        if !after.holidays.contains(&d) {
            after.holidays.push(d);
        }
    }
    for h in &no_holiday {
        let d = h.resolve(today);
        if !after.holidays.contains(&d) {
            return refuse(format!("{d} is not a holiday of project `{key}`"));
        }
        after.holidays.retain(|x| *x != d);
    }
    after.holidays.sort();
    store::update_project(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "project.updated",
        format!("project:{key}"),
        Some(&before),
        Some(&after),
    )
    .await?;
    let owner = s.mention(after.owner).await?;
    Ok(
        Reply::success(format!("Updated project {key}")).fields(vec![
            ("Name", Text::plain(after.name.as_str())),
            ("Owner", Text::new().person(owner)),
            (
                "Own holidays",
                Text::plain(
                    after
                        .holidays
                        .iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ),
        ]),
    )
}

async fn remove(s: &mut Session<'_>, target: &Target) -> Result<Reply> {
    let (program, key) = target.split()?;
    let key = parse_key(key, "project")?;
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Editor, "remove projects")
        .await?;
    let before = find_project(s, &scope, &p, &key, None).await?;
    if before.removed {
        return refuse(format!("project `{key}` is already removed"));
    }
    let milestones = store::milestones(s.conn(), &scope).await?;
    let open: Vec<&str> = milestones
        .iter()
        .filter(|m| m.project == Some(before.id) && m.state == MilestoneState::Planned)
        .map(|m| m.key.as_str())
        .collect();
    if !open.is_empty() {
        return refuse(format!(
            "project `{key}` still has open milestones ({}): mark them done or cancel them first",
            open.join(", ")
        ));
    }
    let deps = store::dependencies(s.conn(), &scope).await?;
    let open: Vec<String> = deps
        .iter()
        .filter(|d| {
            d.is_open()
                && (endpoint_in(&d.needs, before.id, &milestones)
                    || endpoint_in(&d.from, before.id, &milestones))
        })
        .map(|d| format!("#{}", d.number))
        .collect();
    if !open.is_empty() {
        return refuse(format!(
            "project `{key}` still has open dependencies ({}): deliver them or move them first",
            open.join(", ")
        ));
    }
    let mut after = before.clone();
    after.removed = true;
    store::update_project(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "project.removed",
        format!("project:{key}"),
        Some(&before),
        Some(&after),
    )
    .await?;
    Ok(
        Reply::success(format!("Removed project {key} from {}", p.key))
            .paragraph("Its history stays in reports and post-mortems."),
    )
}

/// Whether a dependency end is the project or one of its milestones.
pub(super) fn endpoint_in(
    e: &Endpoint,
    project: i64,
    milestones: &[crate::domain::Milestone],
) -> bool {
    match e {
        Endpoint::Project(p) => *p == project,
        Endpoint::Milestone(m) => milestones
            .iter()
            .any(|x| x.id == *m && x.project == Some(project)),
        Endpoint::External(_) => false,
    }
}
