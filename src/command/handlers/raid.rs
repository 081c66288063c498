//! `assumption …`, `issue …` and `action …`: the rest of the RAID log. The three share one
//! record ([`Item`]) and most of their verbs; what differs is their words and what closing
//! one means (validated or invalidated, resolved, done).

use serde_json::json;

use super::common::{counted_table, find_live_project, person_cell, Access};
use super::{parse_number, records, refuse, Session};
use crate::command::grammar::{ActionCmd, AssumptionCmd, IssueCmd, Numbered, ProgramArg, Titled};
use crate::command::Result;
use crate::domain::{
    DateSpec, Item, ItemKind, ItemState, Key, Level, Link, LinkKind, PersonRef, Program, Prose,
    Raise, Risk, RiskState, Severity, Title,
};
use crate::reply::{Reply, Text, Tone};
use crate::store::{self, Scope};

pub(super) async fn assumption(s: &mut Session<'_>, cmd: AssumptionCmd) -> Result<Reply> {
    let kind = ItemKind::Assumption;
    match cmd {
        AssumptionCmd::Add {
            target,
            owner,
            validate_by,
            project,
            external_id,
        } => {
            s.external_id = external_id;
            let new = New {
                owner,
                due: Some(validate_by),
                project,
                severity: None,
                link: None,
            };
            add(s, kind, &target, new).await
        }
        AssumptionCmd::List {
            program: ProgramArg { program },
            all,
        } => {
            list(
                s,
                kind,
                program.as_deref(),
                Filter {
                    all,
                    ..Filter::default()
                },
            )
            .await
        }
        AssumptionCmd::Show(target) => show(s, kind, &target).await,
        AssumptionCmd::Validate { target, note } => {
            close(s, kind, &target, ItemState::Validated, note).await
        }
        AssumptionCmd::Invalidate {
            target,
            note,
            raise,
        } => invalidate(s, &target, note, raise).await,
    }
}

pub(super) async fn issue(s: &mut Session<'_>, cmd: IssueCmd) -> Result<Reply> {
    let kind = ItemKind::Issue;
    match cmd {
        IssueCmd::Add {
            target,
            owner,
            severity,
            project,
            due,
            external_id,
        } => {
            s.external_id = external_id;
            let new = New {
                owner,
                due,
                project,
                severity: Some(severity),
                link: None,
            };
            add(s, kind, &target, new).await
        }
        IssueCmd::List {
            program: ProgramArg { program },
            all,
        } => {
            list(
                s,
                kind,
                program.as_deref(),
                Filter {
                    all,
                    ..Filter::default()
                },
            )
            .await
        }
        IssueCmd::Show(target) => show(s, kind, &target).await,
        IssueCmd::Set {
            target,
            title,
            owner,
            severity,
            project,
            due,
        } => {
            let edit = Edit {
                title,
                owner,
                due,
                severity,
                project,
            };
            set(s, kind, &target, edit).await
        }
        IssueCmd::Resolve { target, note } => {
            close(s, kind, &target, ItemState::Resolved, Some(note)).await
        }
    }
}

pub(super) async fn action(s: &mut Session<'_>, cmd: ActionCmd) -> Result<Reply> {
    let kind = ItemKind::Action;
    match cmd {
        ActionCmd::Add {
            target,
            owner,
            due,
            for_,
            project,
            external_id,
        } => {
            s.external_id = external_id;
            let new = New {
                owner,
                due: Some(due),
                project,
                severity: None,
                link: for_,
            };
            add(s, kind, &target, new).await
        }
        ActionCmd::List {
            program: ProgramArg { program },
            mine,
            overdue,
            all,
        } => {
            let filter = Filter { all, mine, overdue };
            list(s, kind, program.as_deref(), filter).await
        }
        ActionCmd::Show(target) => show(s, kind, &target).await,
        ActionCmd::Done { target, note } => close(s, kind, &target, ItemState::Done, note).await,
        ActionCmd::Set {
            target,
            title,
            owner,
            due,
        } => {
            let edit = Edit {
                title,
                owner,
                due,
                severity: None,
                project: None,
            };
            set(s, kind, &target, edit).await
        }
    }
}

/// What `add` was given.
struct New {
    owner: PersonRef,
    due: Option<DateSpec>,
    project: Option<Key>,
    severity: Option<Severity>,
    link: Option<Link>,
}

/// What `set` was given.
struct Edit {
    title: Option<Title>,
    owner: Option<PersonRef>,
    due: Option<DateSpec>,
    severity: Option<Severity>,
    project: Option<Key>,
}

#[derive(Default, Clone, Copy)]
struct Filter {
    all: bool,
    mine: bool,
    overdue: bool,
}

/// "Assumption", "Issue", "Action".
fn noun(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Assumption => "Assumption",
        ItemKind::Issue => "Issue",
        ItemKind::Action => "Action",
    }
}

/// The words for its date.
fn date_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Assumption => "Validate by",
        ItemKind::Issue | ItemKind::Action => "Due",
    }
}

fn listing(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Assumption => "assumption list",
        ItemKind::Issue => "issue list",
        ItemKind::Action => "action list",
    }
}

/// Whether the record a link names is in the program.
async fn link_exists(s: &mut Session<'_>, scope: &Scope, link: Link) -> Result<bool> {
    let n = link.number;
    Ok(match link.kind {
        LinkKind::Decision => store::decisions(s.conn(), scope)
            .await?
            .iter()
            .any(|d| d.number == n),
        LinkKind::Risk => store::find_risk(s.conn(), scope, n).await?.is_some(),
        LinkKind::Dep => store::find_dependency(s.conn(), scope, n).await?.is_some(),
        LinkKind::Issue => store::find_item(s.conn(), scope, ItemKind::Issue, n)
            .await?
            .is_some(),
        LinkKind::Assumption => store::find_item(s.conn(), scope, ItemKind::Assumption, n)
            .await?
            .is_some(),
    })
}

async fn add(s: &mut Session<'_>, kind: ItemKind, target: &Titled, new: New) -> Result<Reply> {
    let (program, title) = target.split()?;
    let title = Title::parse(title)?;
    let (scope, p) = s.program_for_change(program).await?;
    let project = match &new.project {
        Some(k) => Some(find_live_project(s, &scope, &p, k, None).await?),
        None => None,
    };
    // Editors record anything; a project's lead records what is about their project.
    let leads: Vec<i64> = project.iter().map(|pr| pr.owner).collect();
    s.require_editor_or(
        &scope,
        &p,
        &leads,
        "the lead of its --project",
        &format!("add to the {} log", noun(kind).to_lowercase()),
    )
    .await?;
    let today = s.today(&p);
    let due = new.due.map(|d| d.resolve(today));
    if let Some(d) = due.filter(|d| *d < today) {
        return refuse(format!(
            "--{} {d} is in the past: give today or a later date",
            if kind == ItemKind::Assumption {
                "validate-by"
            } else {
                "due"
            }
        ));
    }
    if let Some(link) = new.link {
        if !link_exists(s, &scope, link).await? {
            return refuse(format!("--for: there is no {link} in `{}`", p.key));
        }
    }
    let owner = s.person(&new.owner).await?;
    let mut item = Item {
        id: 0,
        kind,
        number: 0,
        project: project.map(|pr| pr.id),
        title,
        owner: Some(owner.id),
        due,
        state: ItemState::Open,
        severity: new.severity,
        note: String::new(),
        link: new.link,
        created_at: s.ctx.now,
        closed_on: None,
    };
    item.number = store::insert_item(s.conn(), &scope, &item).await?;
    s.keep_external_id(&scope, store::Tracked::Item(kind, item.number))
        .await?;
    s.event(
        Some(&scope),
        &format!("{}.added", kind.as_str()),
        format!("{}:{}", kind.as_str(), item.number),
        None::<&()>,
        Some(&item),
    )
    .await?;
    let mut reply = Reply::success(format!(
        "{} #{} added to {}",
        noun(kind),
        item.number,
        p.key
    ))
    .paragraph(
        Text::new()
            .strong(item.title.as_str())
            .text(". Owner: ")
            .person(&owner)
            .text(match (kind, due) {
                (ItemKind::Assumption, Some(d)) => format!(", to validate by {d}."),
                (_, Some(d)) => format!(", due {d}."),
                (_, None) => ".".to_owned(),
            }),
    );
    if let Some(sev) = item.severity.filter(|s| *s >= Severity::High) {
        reply = reply.tone(Tone::Warning).paragraph(format!(
            "An open {} issue makes its project {} until it is resolved.",
            sev.as_str(),
            if sev == Severity::Critical {
                "red"
            } else {
                "at least amber"
            }
        ));
    }
    Ok(reply)
}

async fn list(
    s: &mut Session<'_>,
    kind: ItemKind,
    program: Option<&str>,
    filter: Filter,
) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let today = s.today(&p);
    let me = if filter.mine {
        s.known_actor_id().await?
    } else {
        None
    };
    let projects = store::projects(s.conn(), &scope).await?;
    let people = s.people().await?.clone();
    let items: Vec<Item> = store::items(s.conn(), &scope)
        .await?
        .into_iter()
        .filter(|i| i.kind == kind)
        .filter(|i| filter.all || i.is_open())
        .filter(|i| !filter.mine || (me.is_some() && i.owner == me))
        .filter(|i| !filter.overdue || (i.is_open() && i.due.is_some_and(|d| d < today)))
        .collect();
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for i in &items {
        let owner = s.maybe_mention(i.owner).await?;
        let due = match i.due {
            Some(d) if d < today && i.is_open() => {
                format!("{d} ({} days late)", (today - d).num_days())
            }
            Some(d) => d.to_string(),
            None => String::new(),
        };
        let mut row = vec![
            Text::plain(format!("#{}", i.number)),
            Text::plain(i.title.as_str()),
        ];
        if kind == ItemKind::Issue {
            row.push(Text::plain(i.severity.map(|s| s.as_str()).unwrap_or("")));
        }
        row.extend([
            person_cell(owner),
            Text::plain(due),
            Text::plain(i.state.as_str()),
        ]);
        rows.push(row);
        data.push(records::item(&projects, &people, i, today));
    }
    let mut headers = vec!["#", noun(kind)];
    if kind == ItemKind::Issue {
        headers.push("Severity");
    }
    headers.extend(["Owner", date_name(kind), "State"]);
    let what = match kind {
        ItemKind::Assumption => "assumptions",
        ItemKind::Issue => "issues",
        ItemKind::Action => "actions",
    };
    Ok(counted_table(
        Reply::new(format!("No {what} to show in {}", p.key)),
        format_args!("{} of {}", capital(what), p.key),
        &headers,
        rows,
    )
    .data(json!({ "program": p.key.as_str(), what: data })))
}

fn capital(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The item a command names, with its program opened as `access` says.
async fn open(
    s: &mut Session<'_>,
    kind: ItemKind,
    target: &Numbered,
    access: Access,
) -> Result<(Scope, Program, Item)> {
    let (program, n) = target.split()?;
    let (scope, p) = s.open(program, access).await?;
    let n = parse_number(n, kind.as_str())?;
    match store::find_item(s.conn(), &scope, kind, n).await? {
        Some(i) => Ok((scope, p, i)),
        None => refuse(format!(
            "there is no {} #{n} in `{}`: `{} {}` lists them",
            kind.as_str(),
            p.key,
            listing(kind),
            p.key
        )),
    }
}

async fn show(s: &mut Session<'_>, kind: ItemKind, target: &Numbered) -> Result<Reply> {
    let (scope, p, i) = open(s, kind, target, Access::Read).await?;
    let today = s.today(&p);
    let projects = store::projects(s.conn(), &scope).await?;
    let people = s.people().await?.clone();
    let owner = s.maybe_mention(i.owner).await?;
    let mut fields = vec![
        (
            "State",
            Text::plain(match i.closed_on {
                Some(d) => format!("{} on {d}", i.state.as_str()),
                None => i.state.as_str().to_owned(),
            }),
        ),
        ("Owner", person_cell(owner)),
        (
            date_name(kind),
            Text::plain(i.due.map(|d| d.to_string()).unwrap_or_default()),
        ),
        (
            "Project",
            Text::plain(
                i.project
                    .and_then(|id| projects.iter().find(|pr| pr.id == id))
                    .map(|pr| pr.key.as_str().to_owned())
                    .unwrap_or_default(),
            ),
        ),
    ];
    if let Some(sev) = i.severity {
        fields.push(("Severity", Text::plain(sev.as_str())));
    }
    if let Some(l) = i.link {
        fields.push((
            if kind == ItemKind::Action {
                "For"
            } else {
                "From"
            },
            Text::plain(l.to_string()),
        ));
    }
    fields.push(("Note", Text::plain(i.note.clone())));
    Ok(Reply::new(format!(
        "{} #{} of {}: {}",
        noun(kind),
        i.number,
        p.key,
        i.title
    ))
    .fields(fields)
    .data(records::item(&projects, &people, &i, today)))
}

/// Editors and the item's owner may change or close it.
async fn require_edit(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    i: &Item,
    doing: &str,
) -> Result<()> {
    let owners: Vec<i64> = i.owner.into_iter().collect();
    s.require_editor_or(scope, p, &owners, "its owner", doing)
        .await
}

async fn set(s: &mut Session<'_>, kind: ItemKind, target: &Numbered, edit: Edit) -> Result<Reply> {
    let (scope, p, before) = open(s, kind, target, Access::Change).await?;
    require_edit(s, &scope, &p, &before, "change it").await?;
    if edit.title.is_none()
        && edit.owner.is_none()
        && edit.due.is_none()
        && edit.severity.is_none()
        && edit.project.is_none()
    {
        return refuse("nothing to set: give --title, --owner or --due (an issue also --severity or --project)");
    }
    if !before.is_open() {
        return refuse(format!(
            "{} #{} is {}; it no longer changes",
            kind.as_str(),
            before.number,
            before.state.as_str()
        ));
    }
    let mut after = before.clone();
    if let Some(t) = edit.title {
        after.title = t;
    }
    if let Some(o) = &edit.owner {
        after.owner = Some(s.person(o).await?.id);
    }
    if let Some(d) = edit.due {
        let today = s.today(&p);
        let d = d.resolve(today);
        if d < today {
            return refuse(format!(
                "--due {d} is in the past: give today or a later date"
            ));
        }
        after.due = Some(d);
    }
    if let Some(sev) = edit.severity {
        after.severity = Some(sev);
    }
    if let Some(k) = &edit.project {
        after.project = Some(find_live_project(s, &scope, &p, k, None).await?.id);
    }
    store::update_item(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        &format!("{}.updated", kind.as_str()),
        format!("{}:{}", kind.as_str(), before.number),
        Some(&before),
        Some(&after),
    )
    .await?;
    Ok(Reply::success(format!(
        "Updated {} #{}",
        kind.as_str(),
        before.number
    )))
}

/// Validates or invalidates an assumption, resolves an issue, or marks an action done.
async fn close(
    s: &mut Session<'_>,
    kind: ItemKind,
    target: &Numbered,
    to: ItemState,
    note: Option<Prose>,
) -> Result<Reply> {
    let (scope, p, before) = open(s, kind, target, Access::Change).await?;
    let verb = match to {
        ItemState::Validated => "validate it",
        ItemState::Invalidated => "invalidate it",
        ItemState::Resolved => "resolve it",
        _ => "mark it done",
    };
    require_edit(s, &scope, &p, &before, verb).await?;
    if !before.is_open() {
        return refuse(format!(
            "{} #{} is already {}",
            kind.as_str(),
            before.number,
            before.state.as_str()
        ));
    }
    let note = note.map(|n| n.as_str().to_owned()).unwrap_or_default();
    if note.is_empty() && matches!(to, ItemState::Resolved | ItemState::Invalidated) {
        return refuse("say what was found with --note: it stays in the history");
    }
    let mut after = before.clone();
    after.state = to;
    after.note = note.clone();
    after.closed_on = Some(s.today(&p));
    store::update_item(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        &format!("{}.{}", kind.as_str(), to.as_str()),
        format!("{}:{}", kind.as_str(), before.number),
        Some(&json!({ "state": before.state })),
        Some(&json!({ "state": to, "note": note, "title": before.title })),
    )
    .await?;
    let mut reply = Reply::success(format!(
        "{} #{} is {}",
        noun(kind),
        before.number,
        to.as_str()
    ))
    .paragraph(before.title.as_str());
    if !note.is_empty() {
        reply = reply.paragraph(note);
    }
    Ok(reply)
}

/// An assumption that does not hold, and, with `--raise`, the risk or issue it becomes.
async fn invalidate(
    s: &mut Session<'_>,
    target: &Numbered,
    note: Prose,
    raise: Option<Raise>,
) -> Result<Reply> {
    let kind = ItemKind::Assumption;
    let mut reply = close(s, kind, target, ItemState::Invalidated, Some(note.clone())).await?;
    let Some(raise) = raise else {
        return Ok(reply);
    };
    let (scope, p, assumption) = open(s, kind, target, Access::Change).await?;
    let from = Link {
        kind: LinkKind::Assumption,
        number: assumption.number,
    };
    let (what, number) = match raise {
        Raise::Risk => {
            let mut risk = Risk {
                id: 0,
                number: 0,
                project: assumption.project,
                title: assumption.title.clone(),
                likelihood: Level::new(3)?,
                impact: Level::new(3)?,
                owner: assumption.owner,
                mitigation: String::new(),
                customer_impact: String::new(),
                review_by: None,
                state: RiskState::Open,
                accepted_reason: None,
            };
            risk.number = store::insert_risk(s.conn(), &scope, &risk).await?;
            s.event(
                Some(&scope),
                "risk.added",
                format!("risk:{}", risk.number),
                None::<&()>,
                Some(&risk),
            )
            .await?;
            ("risk", risk.number)
        }
        Raise::Issue => {
            let mut issue = Item {
                id: 0,
                kind: ItemKind::Issue,
                number: 0,
                project: assumption.project,
                title: assumption.title.clone(),
                owner: assumption.owner,
                due: None,
                state: ItemState::Open,
                severity: Some(Severity::Medium),
                note: note.as_str().to_owned(),
                link: Some(from),
                created_at: s.ctx.now,
                closed_on: None,
            };
            issue.number = store::insert_item(s.conn(), &scope, &issue).await?;
            s.event(
                Some(&scope),
                "issue.added",
                format!("issue:{}", issue.number),
                None::<&()>,
                Some(&issue),
            )
            .await?;
            ("issue", issue.number)
        }
    };
    let mut after = assumption.clone();
    after.link = Some(Link {
        kind: if what == "risk" {
            LinkKind::Risk
        } else {
            LinkKind::Issue
        },
        number,
    });
    store::update_item(s.conn(), &scope, &after).await?;
    reply = reply.paragraph(
        Text::plain(format!("Raised as {what} #{number}: "))
            .code(format!("{what} set {} {number}", p.key))
            .text(if what == "risk" {
                " to score it (it starts at likelihood 3, impact 3)."
            } else {
                " to set its severity (it starts at medium)."
            }),
    );
    Ok(reply)
}

/// `risk realize N --note`: the risk happened, so an issue opens, linked to it and carrying
/// the note. Returns the issue's number.
pub(super) async fn issue_from_risk(
    s: &mut Session<'_>,
    scope: &Scope,
    r: &Risk,
    note: &str,
) -> Result<i64> {
    let severity = match r.band() {
        crate::domain::RiskBand::Critical => Severity::Critical,
        crate::domain::RiskBand::High => Severity::High,
        crate::domain::RiskBand::Medium => Severity::Medium,
        crate::domain::RiskBand::Low => Severity::Low,
    };
    let mut issue = Item {
        id: 0,
        kind: ItemKind::Issue,
        number: 0,
        project: r.project,
        title: r.title.clone(),
        owner: r.owner,
        due: None,
        state: ItemState::Open,
        severity: Some(severity),
        note: note.to_owned(),
        link: Some(Link {
            kind: LinkKind::Risk,
            number: r.number,
        }),
        created_at: s.ctx.now,
        closed_on: None,
    };
    issue.number = store::insert_item(s.conn(), scope, &issue).await?;
    s.event(
        Some(scope),
        "issue.added",
        format!("issue:{}", issue.number),
        None::<&()>,
        Some(&issue),
    )
    .await?;
    Ok(issue.number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_read_as_kind_and_number() {
        for raw in ["risk:3", "risk#3", "risk 3", " Risk:3 "] {
            let l: Link = raw.parse().unwrap();
            assert_eq!((l.kind, l.number), (LinkKind::Risk, 3), "{raw}");
        }
        for bad in ["risk", "risk:", "risk:x", "risk:0", "milestone:3", "3"] {
            assert!(bad.parse::<Link>().is_err(), "{bad}");
        }
    }
}
