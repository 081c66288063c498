//! `program …` and `charter …`.

use serde_json::json;

use super::common::{counted_table, find_live_project, Access, Listing};
use super::{days_from, parse_key, records, refuse, Session};
use crate::command::grammar::{CharterCmd, ForPerson, ProgramArg, ProgramCmd};
use crate::command::Result;
use crate::domain::{
    Charter, DateSpec, Days, Key, PersonRef, Prose, Role, Timezone, Title, WorkDays,
};
use crate::reply::{Reply, Text};
use crate::store::{self, NewProgram};

const DEFAULT_STALENESS_DAYS: u32 = 8;

pub(super) async fn program(s: &mut Session<'_>, cmd: ProgramCmd) -> Result<Reply> {
    match cmd {
        ProgramCmd::Create {
            key,
            name,
            tz,
            owner,
            staleness,
        } => create(s, key, name, tz, owner, staleness).await,
        ProgramCmd::List { archived } => list(s, archived).await,
        ProgramCmd::Show(ProgramArg { program }) => show(s, program.as_deref()).await,
        ProgramCmd::Set {
            program: ProgramArg { program },
            name,
            tz,
            owner,
            work_days,
            holiday,
            no_holiday,
            staleness,
            end,
            no_end,
        } => {
            let changes = Settings {
                name,
                tz,
                owner,
                work_days,
                holiday,
                no_holiday,
                staleness,
                end: match (end, no_end) {
                    (Some(k), _) => Some(Some(k)),
                    (None, true) => Some(None),
                    (None, false) => None,
                },
            };
            set(s, program.as_deref(), changes).await
        }
        ProgramCmd::Bind(ProgramArg { program }) => bind(s, program.as_deref()).await,
        ProgramCmd::Archive {
            program: ProgramArg { program },
            undo,
        } => archive(s, program.as_deref(), undo).await,
        ProgramCmd::Grant { target, role } => grant(s, &target, role).await,
        ProgramCmd::Revoke(target) => revoke(s, &target).await,
        ProgramCmd::Route {
            program: ProgramArg { program },
            project,
            slack_webhook,
            channel,
            clear,
        } => {
            route(
                s,
                program.as_deref(),
                project,
                slack_webhook,
                channel,
                clear,
            )
            .await
        }
        ProgramCmd::Share {
            program: ProgramArg { program },
            days,
            list,
            revoke,
            revoke_all,
        } => {
            let what = match (list, revoke, revoke_all) {
                (true, _, _) => super::share::What::List,
                (_, Some(id), _) => super::share::What::Revoke(id),
                (_, _, true) => super::share::What::RevokeAll,
                _ => super::share::What::Make { days },
            };
            super::share::program(s, program.as_deref(), what).await
        }
        ProgramCmd::IcalToken {
            program: ProgramArg { program },
            rotate,
        } => ical_token(s, program.as_deref(), rotate).await,
    }
}

async fn create(
    s: &mut Session<'_>,
    key: Key,
    name: Option<Title>,
    tz: Option<Timezone>,
    owner: Option<PersonRef>,
    staleness: Option<Days>,
) -> Result<Reply> {
    if !s.ctx.actor.is_admin {
        return refuse("only a tenant admin can create programs (Discord: Manage Server or the configured admin role; Slack and console: the configured admins)");
    }
    let tenant = s.ctx.tenant.clone();
    if store::find_program(s.conn(), &tenant, &key)
        .await?
        .is_some()
    {
        return refuse(format!(
            "a program `{key}` already exists: choose another key, or `program show {key}`"
        ));
    }
    let owner = s.person_or_actor(owner.as_ref()).await?;
    let name = name.unwrap_or_else(|| Title::from(&key));
    let timezone = tz.unwrap_or_default();
    let staleness_days = staleness.map_or(DEFAULT_STALENESS_DAYS, |d| d.get());
    if !(1..=365).contains(&staleness_days) {
        return refuse("the staleness window is 1 to 365 days");
    }
    let created_at = s.ctx.now;
    let (scope, program) = store::insert_program(
        s.conn(),
        &tenant,
        NewProgram {
            key: &key,
            name: &name,
            owner: owner.id,
            timezone,
            staleness_days,
            created_at,
        },
    )
    .await?;
    s.event(
        Some(&scope),
        "program.created",
        format!("program:{key}"),
        None::<&()>,
        Some(&program),
    )
    .await?;
    Ok(Reply::success(format!("Created program {key}"))
        .fields(vec![
            ("Name", Text::plain(program.name.as_str())),
            ("Owner", Text::new().person(&owner)),
            ("Timezone", Text::plain(timezone.as_str())),
        ])
        .paragraph(
            Text::plain("Next: ").code(format!("project add {key} KEY --name \"…\" --owner @lead")),
        ))
}

async fn list(s: &mut Session<'_>, archived: bool) -> Result<Reply> {
    let tenant = s.ctx.tenant.clone();
    let programs = store::list_programs(s.conn(), &tenant).await?;
    let people = s.people().await?.clone();
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for p in programs.iter().filter(|p| archived || !p.archived) {
        data.push(records::program(&people, p));
        let owner = s.mention(p.owner).await?;
        let mut key = Text::plain(p.key.as_str());
        if p.archived {
            key = key.text(" (archived)");
        }
        rows.push(vec![
            key,
            Text::plain(p.name.as_str()),
            Text::new().person(owner),
            Text::plain(p.timezone.as_str()),
        ]);
    }
    let empty = Reply::new("No programs yet").paragraph(
        Text::plain("Create one with ").code("program create KEY --name \"…\" --tz Europe/Berlin"),
    );
    Ok(counted_table(
        empty,
        "Programs",
        &["Key", "Name", "Owner", "Timezone"],
        rows,
    )
    .data(json!({ "programs": data })))
}

async fn show(s: &mut Session<'_>, program: Option<&str>) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let owner = s.mention(p.owner).await?;
    let roles = store::roles(s.conn(), &scope).await?;
    let mut editors = Text::new();
    let mut viewers = Text::new();
    for g in &roles {
        let m = s.mention(g.person).await?;
        let t = if g.role == Role::Editor {
            &mut editors
        } else {
            &mut viewers
        };
        if !t.is_empty() {
            t.0.push(crate::reply::Span::Text(", ".into()));
        }
        t.0.push(crate::reply::Span::Person(m));
    }
    let projects = store::projects(s.conn(), &scope).await?;
    let channels = store::bound_channels(s.conn(), &scope).await?;
    let today = s.today(&p);
    let holidays: Vec<String> = p
        .holidays
        .iter()
        .filter(|d| **d >= today)
        .map(|d| d.to_string())
        .collect();
    let project_keys: Vec<&str> = projects
        .iter()
        .filter(|p| !p.removed)
        .map(|p| p.key.as_str())
        .collect();
    let people = s.people().await?.clone();
    let mut data = records::program(&people, &p);
    data["projects"] = json!(project_keys);
    data["bound_channels"] = json!(channels);
    data["roles"] = json!(roles
        .iter()
        .map(
            |g| json!({ "person": records::who(&people, Some(g.person)), "role": g.role.as_str() })
        )
        .collect::<Vec<_>>());
    Ok(Reply::new(format!("{} ({})", p.name, p.key))
        .fields(vec![
            ("Owner", Text::new().person(owner)),
            ("Editors", editors),
            ("Viewers", viewers),
            ("Timezone", Text::plain(p.timezone.as_str())),
            ("Work days", Text::plain(p.work_days.as_string())),
            ("Upcoming holidays", Text::plain(holidays.join(", "))),
            (
                "Stale after",
                Text::plain(format!("{} days", p.staleness_days)),
            ),
            ("Projects", Text::plain(project_keys.join(", "))),
            ("Bound channels", Text::plain(channels.join(", "))),
            (
                "State",
                Text::plain(if p.archived { "archived" } else { "active" }),
            ),
            (
                "End",
                Text::plain(match &p.end_key {
                    Some(k) => k.as_str().to_owned(),
                    None => "the last milestone to finish".to_owned(),
                }),
            ),
            (
                "Created",
                Text::plain(format!(
                    "{} ({})",
                    p.today(p.created_at),
                    days_from(today, p.today(p.created_at))
                )),
            ),
        ])
        .data(data))
}

/// What `program set` was given.
struct Settings {
    name: Option<Title>,
    tz: Option<Timezone>,
    owner: Option<PersonRef>,
    work_days: Option<WorkDays>,
    holiday: Vec<DateSpec>,
    no_holiday: Vec<DateSpec>,
    staleness: Option<Days>,
    /// `Some(None)` clears the end.
    end: Option<Option<Key>>,
}

async fn set(s: &mut Session<'_>, program: Option<&str>, changes: Settings) -> Result<Reply> {
    let Settings {
        name,
        tz,
        owner,
        work_days,
        holiday,
        no_holiday,
        staleness,
        end,
    } = changes;
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Owner, "change the program's settings")
        .await?;
    let before = p.clone();
    let mut after = p.clone();
    if let Some(n) = name {
        after.name = n;
    }
    if let Some(tz) = tz {
        after.timezone = tz;
    }
    if let Some(o) = &owner {
        after.owner = s.person(o).await?.id;
    }
    if let Some(w) = work_days {
        after.work_days = w;
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
            return refuse(format!("{d} is not a holiday of `{}`", p.key));
        }
        after.holidays.retain(|x| *x != d);
    }
    after.holidays.sort();
    if let Some(st) = staleness {
        if !(1..=365).contains(&st.get()) {
            return refuse("the staleness window is 1 to 365 days");
        }
        after.staleness_days = st.get();
    }
    match end {
        Some(Some(k)) => {
            let milestones = store::milestones(s.conn(), &scope).await?;
            match milestones.iter().find(|m| m.key == k) {
                None => {
                    return refuse(format!("--end: there is no milestone `{k}` in `{}`", p.key))
                }
                Some(m) if m.state == crate::domain::MilestoneState::Cancelled => {
                    return refuse(format!("--end: milestone `{k}` is cancelled"))
                }
                Some(_) => after.end_key = Some(k),
            }
        }
        Some(None) => after.end_key = None,
        None => {}
    }
    store::update_program(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "program.updated",
        format!("program:{}", p.key),
        Some(&before),
        Some(&after),
    )
    .await?;
    let owner = s.mention(after.owner).await?;
    Ok(
        Reply::success(format!("Updated program {}", p.key)).fields(vec![
            ("Name", Text::plain(after.name.as_str())),
            ("Owner", Text::new().person(owner)),
            ("Timezone", Text::plain(after.timezone.as_str())),
            ("Work days", Text::plain(after.work_days.as_string())),
            (
                "Holidays",
                Text::plain(
                    after
                        .holidays
                        .iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ),
            (
                "Stale after",
                Text::plain(format!("{} days", after.staleness_days)),
            ),
            (
                "End",
                Text::plain(match &after.end_key {
                    Some(k) => k.as_str().to_owned(),
                    None => "the last milestone to finish".to_owned(),
                }),
            ),
        ]),
    )
}

async fn bind(s: &mut Session<'_>, program: Option<&str>) -> Result<Reply> {
    let Some(channel) = s.ctx.channel.clone() else {
        return refuse("this place has no channel to bind");
    };
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Editor, "bind channels").await?;
    store::bind_channel(s.conn(), &scope, &channel).await?;
    s.event(
        Some(&scope),
        "program.bound",
        format!("program:{}", p.key),
        None::<&()>,
        Some(&json!({ "channel": channel })),
    )
    .await?;
    Ok(
        Reply::success(format!("This channel is now bound to {}", p.key)).paragraph(
            Text::plain("Commands here may leave out the program key, e.g. ")
                .code("milestone list"),
        ),
    )
}

async fn archive(s: &mut Session<'_>, program: Option<&str>, undo: bool) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    s.require(&scope, &p, Role::Owner, "archive the program")
        .await?;
    if p.archived != undo {
        let state = if undo { "active" } else { "archived" };
        return refuse(format!("program `{}` is already {state}", p.key));
    }
    let mut after = p.clone();
    after.archived = !undo;
    store::update_program(s.conn(), &scope, &after).await?;
    let kind = if undo {
        "program.restored"
    } else {
        "program.archived"
    };
    s.event(
        Some(&scope),
        kind,
        format!("program:{}", p.key),
        Some(&p),
        Some(&after),
    )
    .await?;
    Ok(Reply::success(if undo {
        format!("Restored program {}", p.key)
    } else {
        format!("Archived program {}", p.key)
    }))
}

async fn grant(s: &mut Session<'_>, target: &ForPerson, role: Role) -> Result<Reply> {
    let (program, who) = target.split()?;
    let who = crate::domain::PersonRef::parse(who)?;
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Owner, "grant roles").await?;
    if role == Role::Owner {
        return refuse(format!(
            "a program has one owner: use `program set {} --owner @name` to hand it over",
            p.key
        ));
    }
    let person = s.person(&who).await?;
    if person.id == p.owner {
        return refuse(format!("{} already owns `{}`", person.display_name, p.key));
    }
    let before = store::granted_role(s.conn(), &scope, person.id).await?;
    store::grant_role(s.conn(), &scope, person.id, role).await?;
    s.event(
        Some(&scope),
        "program.role_granted",
        format!("program:{}", p.key),
        Some(&json!({ "person": person.handle, "role": before.map(|r| r.as_str()) })),
        Some(&json!({ "person": person.handle, "role": role.as_str() })),
    )
    .await?;
    Ok(
        Reply::success(format!("Granted {} on {}", role.as_str(), p.key)).paragraph(
            Text::new()
                .person(&person)
                .text(format!(" is now a {} of {}", role.as_str(), p.key)),
        ),
    )
}

async fn revoke(s: &mut Session<'_>, target: &ForPerson) -> Result<Reply> {
    let (program, who) = target.split()?;
    let who = crate::domain::PersonRef::parse(who)?;
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Owner, "revoke roles").await?;
    let person = s.person(&who).await?;
    let before = store::granted_role(s.conn(), &scope, person.id).await?;
    if !store::revoke_role(s.conn(), &scope, person.id).await? {
        return refuse(format!(
            "{} has no role on `{}` to revoke",
            person.display_name, p.key
        ));
    }
    s.event(
        Some(&scope),
        "program.role_revoked",
        format!("program:{}", p.key),
        Some(&json!({ "person": person.handle, "role": before.map(|r| r.as_str()) })),
        None::<&()>,
    )
    .await?;
    Ok(Reply::success(format!(
        "Revoked {}'s role on {}",
        person.display_name, p.key
    )))
}

/// `program ical-token`: the calendar feed's address, with its token made on first use or
/// replaced with `--rotate`. The token is a secret: the reply is shown to the one who asked
/// only, and the event log says that it changed, not what it is.
async fn ical_token(s: &mut Session<'_>, program: Option<&str>, rotate: bool) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    s.require(&scope, &p, Role::Editor, "see or change the calendar feed")
        .await?;
    let key = p.key.as_str().to_owned();
    let existing = store::ical_token(s.conn(), &scope).await?;
    let (token, made) = match existing {
        Some(t) if !rotate => (t, false),
        _ => {
            let token = hex::encode(rand::random::<[u8; 32]>());
            let actor = s.actor_id().await?;
            let now = s.ctx.now;
            store::set_ical_token(s.conn(), &scope, &token, actor, now).await?;
            s.event(
                Some(&scope),
                "program.ical_token",
                format!("program:{key}"),
                None::<&()>,
                Some(&json!({ "rotated": rotate })),
            )
            .await?;
            (token, true)
        }
    };
    let path = format!("/ical/{key}.ics?token={token}");
    let title = if made && rotate {
        format!("New calendar feed address for {key}")
    } else {
        format!("Calendar feed of {key}")
    };
    let mut reply = Reply::new(title).ephemeral();
    reply = match &s.ctx.public_url {
        Some(base) => reply.paragraph(Text::new().code(format!("{}{path}", base.trim_end_matches('/')))),
        None => reply
            .paragraph(Text::new().code(path))
            .paragraph(Text::plain(
                "That is the path on Drumbeat's HTTP server; set `http.public_url` to see the full address here.",
            )),
    };
    Ok(reply.paragraph(Text::plain(format!(
        "Subscribe to it in a calendar app: one all-day event per milestone on its target date (slips and their reasons in the description), and one per dependency need-by date. Anyone with the address can read it; `program ical-token {key} --rotate` replaces it{}.",
        if rotate { ", as just happened: the old address no longer works" } else { "" }
    ))))
}

/// `program route`: shows the routes, or sets or clears one.
async fn route(
    s: &mut Session<'_>,
    program: Option<&str>,
    project: Option<String>,
    webhook: Option<String>,
    channel: Option<String>,
    clear: bool,
) -> Result<Reply> {
    let change = clear || webhook.is_some() || channel.is_some();
    let access = if change { Access::Change } else { Access::Read };
    let (scope, p) = s.open(program, access).await?;
    let key = p.key.as_str().to_owned();
    let project = match project {
        Some(k) => {
            let k = parse_key(&k, "project")?;
            Some(find_live_project(s, &scope, &p, &k, Some(Listing::PROJECTS)).await?)
        }
        None => None,
    };
    if !change {
        let routes = store::routes(s.conn(), &scope).await?;
        let projects = store::projects(s.conn(), &scope).await?;
        let mut rows = vec![vec![
            Text::plain("the program"),
            Text::plain(
                routes
                    .program
                    .as_ref()
                    .map_or("each person directly".into(), |d| d.masked()),
            ),
        ]];
        for pr in projects.iter().filter(|pr| {
            project.as_ref().is_none_or(|only| only.id == pr.id)
                && routes.projects.contains_key(&pr.id)
        }) {
            rows.push(vec![
                Text::plain(format!("project {}", pr.key)),
                Text::plain(routes.projects[&pr.id].masked()),
            ]);
        }
        return Ok(
            Reply::new(format!("Where {key}'s prompts, reminders and pings go"))
                .table(&["For", "Goes to"], rows)
                .paragraph(Text::plain("Change it with ").code(format!(
                    "program route {key} --slack-webhook URL [--project KEY]"
                ))),
        );
    }
    s.require(&scope, &p, Role::Editor, "route messages")
        .await?;
    let destination = if clear {
        None
    } else {
        super::schedule::destination_from(s, channel, webhook)?
    };
    let actor = s.actor_id().await?;
    let now = s.ctx.now;
    let had = store::set_route(
        s.conn(),
        &scope,
        project.as_ref().map(|pr| pr.id),
        destination.as_ref(),
        now,
        actor,
    )
    .await?;
    if clear && !had {
        return refuse(match &project {
            Some(pr) => format!("project `{}` of `{key}` has no route to clear", pr.key),
            None => format!("`{key}` has no route to clear"),
        });
    }
    let what = match &project {
        Some(pr) => format!("project {} of {key}", pr.key),
        None => key.clone(),
    };
    s.event(
        Some(&scope),
        "program.routed",
        match &project {
            Some(pr) => format!("project:{}", pr.key),
            None => format!("program:{key}"),
        },
        None::<&()>,
        Some(&json!({ "destination": destination.as_ref().map(|d| d.masked()) })),
    )
    .await?;
    Ok(match destination {
        Some(d) => Reply::success(format!("Prompts, reminders and pings for {what} now go to {}", d.masked()))
            .paragraph(Text::plain(
                "Each message names its person with a mention. Digests keep their own destinations (`digest subscribe`).",
            )),
        None => Reply::success(format!("Cleared the route of {what}")).paragraph(Text::plain(
            match &project {
                Some(_) => "Its messages follow the program's route again, or go to each person directly.",
                None => "Messages go to each person directly again, except for projects with their own route.",
            },
        )),
    })
}

pub(super) async fn charter(s: &mut Session<'_>, cmd: CharterCmd) -> Result<Reply> {
    match cmd {
        CharterCmd::Show(ProgramArg { program }) => show_charter(s, program.as_deref()).await,
        CharterCmd::Set {
            program: ProgramArg { program },
            goal,
            scope_in,
            scope_out,
            metrics,
            stakeholders,
        } => {
            set_charter(
                s,
                program.as_deref(),
                goal,
                scope_in,
                scope_out,
                metrics,
                stakeholders,
            )
            .await
        }
    }
}

async fn show_charter(s: &mut Session<'_>, program: Option<&str>) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let c = store::charter(s.conn(), &scope).await?;
    Ok(charter_reply(&p.name, &p.key.to_string(), &c).data(json!({
        "program": p.key.as_str(),
        "goal": c.goal,
        "scope_in": c.scope_in,
        "scope_out": c.scope_out,
        "success_metrics": c.success_metrics,
        "stakeholders": c.stakeholders,
    })))
}

async fn set_charter(
    s: &mut Session<'_>,
    program: Option<&str>,
    goal: Option<Prose>,
    scope_in: Option<Prose>,
    scope_out: Option<Prose>,
    metrics: Option<Prose>,
    stakeholders: Option<Prose>,
) -> Result<Reply> {
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Editor, "change the charter")
        .await?;
    if [&goal, &scope_in, &scope_out, &metrics, &stakeholders]
        .iter()
        .all(|x| x.is_none())
    {
        return refuse("nothing to set: give at least one of --goal, --scope-in, --scope-out, --metrics, --stakeholders");
    }
    let before = store::charter(s.conn(), &scope).await?;
    let mut after = before.clone();
    let set = |field: &mut String, v: Option<Prose>| {
        if let Some(v) = v {
            *field = v.as_str().to_owned();
        }
    };
    set(&mut after.goal, goal);
    set(&mut after.scope_in, scope_in);
    set(&mut after.scope_out, scope_out);
    set(&mut after.success_metrics, metrics);
    set(&mut after.stakeholders, stakeholders);
    store::set_charter(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "charter.updated",
        format!("program:{}", p.key),
        Some(&before),
        Some(&after),
    )
    .await?;
    Ok(charter_reply(&p.name, &p.key.to_string(), &after).tone(crate::reply::Tone::Success))
}

fn charter_reply(name: &Title, key: &str, c: &Charter) -> Reply {
    let or_unset = |v: &str| Text::plain(if v.is_empty() { "(not set)" } else { v });
    Reply::new(format!("Charter: {name} ({key})")).fields(vec![
        ("Goal", or_unset(&c.goal)),
        ("In scope", or_unset(&c.scope_in)),
        ("Out of scope", or_unset(&c.scope_out)),
        ("Success metrics", or_unset(&c.success_metrics)),
        ("Stakeholders", or_unset(&c.stakeholders)),
    ])
}
