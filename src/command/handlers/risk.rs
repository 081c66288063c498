//! `risk …` and `decision …`.

use serde_json::json;

use super::common::{
    counted_table, find_project, not_found, on_or_before, person_cell, Access, Listing,
};
use super::{parse_number, records, refuse, Session};
use crate::command::grammar::{DecisionCmd, Numbered, ProgramArg, RiskCmd, Titled};
use crate::command::Result;
use crate::domain::{
    DateSpec, Decision, Key, Level, PersonRef, Program, Prose, Risk, RiskState, Role, Title,
};
use crate::reply::{Reply, Text, Tone};
use crate::store::{self, Scope};

pub(super) async fn risk(s: &mut Session<'_>, cmd: RiskCmd) -> Result<Reply> {
    match cmd {
        RiskCmd::Add {
            target,
            likelihood,
            impact,
            owner,
            mitigation,
            customer_impact,
            project,
            review_by,
            external_id,
        } => {
            s.external_id = external_id;
            add_risk(
                s,
                &target,
                likelihood,
                impact,
                owner,
                mitigation,
                customer_impact,
                project,
                review_by,
            )
            .await
        }
        RiskCmd::List {
            program: ProgramArg { program },
            all,
        } => list_risks(s, program.as_deref(), all).await,
        RiskCmd::Show(target) => show_risk(s, &target).await,
        RiskCmd::Set {
            target,
            title,
            likelihood,
            impact,
            owner,
            mitigation,
            customer_impact,
            review_by,
            state,
            reason,
        } => {
            set_risk(
                s,
                &target,
                title,
                likelihood,
                impact,
                owner,
                mitigation,
                customer_impact,
                review_by,
                state,
                reason,
            )
            .await
        }
        RiskCmd::Close { target, reason } => end_risk(s, &target, RiskState::Closed, reason).await,
        RiskCmd::Realize { target, note } => end_risk(s, &target, RiskState::Realized, note).await,
        RiskCmd::Snooze {
            target,
            until,
            reason,
        } => snooze_risk(s, &target, until, reason).await,
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one parameter per field of `risk add`"
)]
async fn add_risk(
    s: &mut Session<'_>,
    target: &Titled,
    likelihood: Level,
    impact: Level,
    owner: Option<PersonRef>,
    mitigation: Option<Prose>,
    customer_impact: Option<Prose>,
    project: Option<Key>,
    review_by: Option<DateSpec>,
) -> Result<Reply> {
    let (program, title) = target.split()?;
    let title = Title::parse(title)?;
    let (scope, p) = s.program_for_change(program).await?;
    let project = match &project {
        Some(k) => Some(find_project(s, &scope, &p, k, None).await?),
        None => None,
    };
    let leads: Vec<i64> = project.iter().map(|pr| pr.owner).collect();
    s.require_editor_or(&scope, &p, &leads, "the project's owner", "add risks")
        .await?;
    let owner = match &owner {
        Some(r) => s.person(r).await?.id,
        None => s.actor_id().await?,
    };
    let today = s.today(&p);
    let mut r = Risk {
        id: 0,
        number: 0,
        project: project.map(|pr| pr.id),
        title,
        likelihood,
        impact,
        owner: Some(owner),
        mitigation: prose(mitigation),
        customer_impact: prose(customer_impact),
        review_by: review_by.map(|d| d.resolve(today)),
        state: RiskState::Open,
        accepted_reason: None,
    };
    r.number = store::insert_risk(s.conn(), &scope, &r).await?;
    s.keep_external_id(&scope, store::Tracked::Risk(r.number))
        .await?;
    s.event(
        Some(&scope),
        "risk.opened",
        format!("risk:{}", r.number),
        None::<&()>,
        Some(&r),
    )
    .await?;
    let reply = Reply::success(format!("Added risk #{} to {}", r.number, p.key));
    risk_fields(s, reply, &r).await
}

async fn list_risks(s: &mut Session<'_>, program: Option<&str>, all: bool) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let mut risks: Vec<Risk> = store::risks(s.conn(), &scope)
        .await?
        .into_iter()
        .filter(|r| all || r.is_open())
        .collect();
    risks.sort_by(|a, b| b.score().cmp(&a.score()).then(a.number.cmp(&b.number)));
    let today = s.today(&p);
    let projects = store::projects(s.conn(), &scope).await?;
    let people = s.people().await?.clone();
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for r in &risks {
        data.push(records::risk(&projects, &people, r));
        let owner = s.maybe_mention(r.owner).await?;
        let review = match r.review_by {
            Some(d) if d < today && r.is_open() => format!("{d} (overdue)"),
            Some(d) => d.to_string(),
            None => String::new(),
        };
        rows.push(vec![
            Text::plain(format!("#{}", r.number)),
            Text::plain(r.title.as_str()),
            Text::plain(format!("{} ({}×{})", r.score(), r.likelihood, r.impact)),
            Text::plain(r.band().as_str()),
            person_cell(owner),
            Text::plain(review),
            Text::plain(r.state.as_str()),
        ]);
    }
    Ok(counted_table(
        Reply::new(format!("No open risks in {}", p.key)),
        format_args!("Risks of {}", p.key),
        &["#", "Title", "Score", "Band", "Owner", "Review by", "State"],
        rows,
    )
    .data(serde_json::json!({ "program": p.key.as_str(), "risks": data })))
}

async fn show_risk(s: &mut Session<'_>, target: &Numbered) -> Result<Reply> {
    let (scope, p, r) = open_risk(s, target, Access::Read).await?;
    let projects = store::projects(s.conn(), &scope).await?;
    let people = s.people().await?.clone();
    let data = records::risk(&projects, &people, &r);
    let reply = Reply::new(format!("Risk #{} of {}: {}", r.number, p.key, r.title));
    Ok(risk_fields(s, reply, &r).await?.data(data))
}

#[expect(
    clippy::too_many_arguments,
    reason = "one parameter per field of `risk set`"
)]
async fn set_risk(
    s: &mut Session<'_>,
    target: &Numbered,
    title: Option<Title>,
    likelihood: Option<Level>,
    impact: Option<Level>,
    owner: Option<PersonRef>,
    mitigation: Option<Prose>,
    customer_impact: Option<Prose>,
    review_by: Option<DateSpec>,
    state: Option<RiskState>,
    reason: Option<Prose>,
) -> Result<Reply> {
    let (scope, p, before) = open_risk(s, target, Access::Change).await?;
    require_risk_edit(s, &scope, &p, &before, "change it").await?;
    let nothing = title.is_none()
        && likelihood.is_none()
        && impact.is_none()
        && owner.is_none()
        && mitigation.is_none()
        && customer_impact.is_none()
        && review_by.is_none()
        && state.is_none();
    if reason.is_some() && state != Some(RiskState::Accepted) {
        return refuse("--reason goes with --state accepted: it says why the risk is accepted");
    }
    if nothing {
        return refuse("nothing to set: give --title, --likelihood, --impact, --owner, --mitigation, --customer-impact, --review-by or --state");
    }
    if !before.is_open() {
        return refuse(format!(
            "risk #{} is {}; closed and realized risks do not change",
            before.number,
            before.state.as_str()
        ));
    }
    let mut after = before.clone();
    if let Some(t) = title {
        after.title = t;
    }
    if let Some(l) = likelihood {
        after.likelihood = l;
    }
    if let Some(i) = impact {
        after.impact = i;
    }
    if let Some(o) = &owner {
        after.owner = Some(s.person(o).await?.id);
    }
    if let Some(m) = mitigation {
        after.mitigation = m.as_str().to_owned();
    }
    if let Some(c) = customer_impact {
        after.customer_impact = c.as_str().to_owned();
    }
    if let Some(d) = review_by {
        after.review_by = Some(d.resolve(s.today(&p)));
    }
    match state {
        None => {}
        Some(st @ (RiskState::Open | RiskState::Mitigating)) => {
            after.state = st;
            after.accepted_reason = None;
        }
        Some(RiskState::Accepted) => match reason {
            Some(why) => {
                after.state = RiskState::Accepted;
                after.accepted_reason = Some(why.as_str().to_owned());
            }
            None => {
                return refuse(format!(
                    "an accepted risk needs its reason: `risk set {} {} --state accepted --reason \"…\"`",
                    p.key, before.number
                ))
            }
        },
        Some(RiskState::Closed) => {
            return refuse(format!(
                "use `risk close {} {}` to close it",
                p.key, before.number
            ))
        }
        Some(RiskState::Realized) => {
            return refuse(format!(
                "use `risk realize {} {}` to record that it happened",
                p.key, before.number
            ))
        }
    }
    store::update_risk(s.conn(), &scope, &after).await?;
    let kind = if after.score() != before.score() {
        "risk.rescored"
    } else {
        "risk.updated"
    };
    s.event(
        Some(&scope),
        kind,
        format!("risk:{}", before.number),
        Some(&before),
        Some(&after),
    )
    .await?;
    let reply = Reply::success(format!("Updated risk #{}", before.number));
    risk_fields(s, reply, &after).await
}

async fn snooze_risk(
    s: &mut Session<'_>,
    target: &Numbered,
    until: DateSpec,
    reason: Option<Prose>,
) -> Result<Reply> {
    let (scope, p, before) = open_risk(s, target, Access::Change).await?;
    require_risk_edit(s, &scope, &p, &before, "snooze it").await?;
    if !before.is_open() {
        return refuse(format!(
            "risk #{} is {}: there is nothing to snooze",
            before.number,
            before.state.as_str()
        ));
    }
    let subject = format!("risk:{}", before.number);
    let what = format!("risk #{} ({})", before.number, before.title.as_str());
    super::schedule::snooze(s, &scope, &p, &subject, &what, until, reason).await
}

/// `risk close` and `risk realize`: the two ways a risk stops being open.
async fn end_risk(
    s: &mut Session<'_>,
    target: &Numbered,
    to: RiskState,
    note: Option<Prose>,
) -> Result<Reply> {
    let (scope, p, before) = open_risk(s, target, Access::Change).await?;
    let doing = if to == RiskState::Closed {
        "close it"
    } else {
        "mark it realized"
    };
    require_risk_edit(s, &scope, &p, &before, doing).await?;
    if !before.is_open() {
        return refuse(format!(
            "risk #{} is already {}",
            before.number,
            before.state.as_str()
        ));
    }
    let mut after = before.clone();
    after.state = to;
    store::update_risk(s.conn(), &scope, &after).await?;
    let note = note.map(|n| n.as_str().to_owned()).unwrap_or_default();
    let kind = if to == RiskState::Closed {
        "risk.closed"
    } else {
        "risk.realized"
    };
    s.event(
        Some(&scope),
        kind,
        format!("risk:{}", before.number),
        Some(&before),
        Some(&json!({ "state": to, "note": note, "title": before.title, "score": before.score() })),
    )
    .await?;
    let title = if to == RiskState::Closed {
        format!("Closed risk #{}", before.number)
    } else {
        format!("Risk #{} happened", before.number)
    };
    let mut reply = Reply::success(title).paragraph(before.title.as_str());
    if to == RiskState::Realized {
        // It is happening now: an issue, linked to the risk and carrying the note.
        let issue = super::raid::issue_from_risk(s, &scope, &before, &note).await?;
        reply = reply.tone(Tone::Warning).paragraph(
            Text::plain(format!("Opened issue #{issue} for it: "))
                .code(format!("issue show {} {issue}", p.key)),
        );
    }
    if !note.is_empty() {
        reply = reply.paragraph(note);
    }
    Ok(reply)
}

/// The risk a command names, with its program opened as `access` says.
async fn open_risk(
    s: &mut Session<'_>,
    target: &Numbered,
    access: Access,
) -> Result<(Scope, Program, Risk)> {
    let (program, n) = target.split()?;
    let (scope, p) = s.open(program, access).await?;
    let n = parse_number(n, "risk")?;
    match store::find_risk(s.conn(), &scope, n).await? {
        Some(r) => Ok((scope, p, r)),
        None => not_found(format_args!("risk #{n}"), &p, Some(Listing::RISKS)),
    }
}

/// Editors and the risk's owner may change a risk.
async fn require_risk_edit(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    r: &Risk,
    doing: &str,
) -> Result<()> {
    let owners: Vec<i64> = r.owner.into_iter().collect();
    s.require_editor_or(scope, p, &owners, "the risk's owner", doing)
        .await
}

/// Optional prose as stored: blank when left out.
fn prose(p: Option<Prose>) -> String {
    p.map(|v| v.as_str().to_owned()).unwrap_or_default()
}

async fn risk_fields(s: &mut Session<'_>, reply: Reply, r: &Risk) -> Result<Reply> {
    let owner = s.maybe_mention(r.owner).await?;
    Ok(reply.fields(vec![
        ("Title", Text::plain(r.title.as_str())),
        (
            "Score",
            Text::plain(format!(
                "{} = likelihood {} × impact {} ({})",
                r.score(),
                r.likelihood,
                r.impact,
                r.band().as_str()
            )),
        ),
        ("Owner", person_cell(owner)),
        ("Mitigation", Text::plain(r.mitigation.clone())),
        ("Customer impact", Text::plain(r.customer_impact.clone())),
        (
            "Review by",
            Text::plain(r.review_by.map(|d| d.to_string()).unwrap_or_default()),
        ),
        ("State", Text::plain(r.state.as_str())),
    ]))
}

pub(super) async fn decision(s: &mut Session<'_>, cmd: DecisionCmd) -> Result<Reply> {
    match cmd {
        DecisionCmd::Add {
            target,
            context,
            options,
            outcome,
            by,
            on,
            decider,
            decide_by,
        } => {
            let pending = (decider, decide_by);
            add_decision(s, &target, context, options, outcome, by, on, pending).await
        }
        DecisionCmd::Decide {
            target,
            outcome,
            by,
            on,
        } => decide(s, &target, outcome, by, on).await,
        DecisionCmd::Set {
            target,
            title,
            context,
            options,
        } => set_decision(s, &target, title, context, options).await,
        DecisionCmd::List(ProgramArg { program }) => list_decisions(s, program.as_deref()).await,
        DecisionCmd::Show(target) => show_decision(s, &target).await,
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one parameter per field of `decision add`"
)]
async fn add_decision(
    s: &mut Session<'_>,
    target: &Titled,
    context: Option<Prose>,
    options: Option<Prose>,
    outcome: Option<Prose>,
    by: Option<PersonRef>,
    on: Option<DateSpec>,
    (decider, decide_by): (Option<PersonRef>, Option<DateSpec>),
) -> Result<Reply> {
    let (program, title) = target.split()?;
    let title = Title::parse(title)?;
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Editor, "log decisions").await?;
    let by = s.person_or_actor(by.as_ref()).await?;
    let today = s.today(&p);
    let decided_on = on_or_before(today, on, "log a decision once it is taken")?;
    let decider = match &decider {
        Some(r) => Some(s.person(r).await?.id),
        None => None,
    };
    let decide_by = decide_by.map(|d| d.resolve(today));
    if let Some(b) = decide_by.filter(|b| *b < today) {
        return refuse(format!("--decide-by {b} is in the past"));
    }
    let mut d = Decision {
        id: 0,
        number: 0,
        title,
        context: prose(context),
        options: prose(options),
        outcome: prose(outcome),
        decided_by: Some(by.id),
        decided_on,
        decider,
        decide_by,
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
    let pending = d.outcome.is_empty();
    let mut reply = Reply::success(if pending {
        format!("Decision #{} needed in {}", d.number, p.key)
    } else {
        format!("Logged decision #{} in {}", d.number, p.key)
    })
    .fields(vec![
        ("Decision", Text::plain(d.title.as_str())),
        ("Context", Text::plain(d.context.clone())),
        ("Options", Text::plain(d.options.clone())),
        ("Outcome", Text::plain(d.outcome.clone())),
        (
            if pending { "Raised by" } else { "Decided by" },
            Text::new().person(&by).text(format!(" on {decided_on}")),
        ),
    ]);
    if pending {
        reply = reply.paragraph(
            Text::plain("Pending: the weekly sync agenda lists it until ")
                .code(format!(
                    "decision decide {} {} --outcome \"…\"",
                    p.key, d.number
                ))
                .text(" records the outcome."),
        );
    }
    Ok(reply)
}

async fn show_decision(s: &mut Session<'_>, target: &Numbered) -> Result<Reply> {
    let (program, n) = target.split()?;
    let n = parse_number(n, "decision")?;
    let (scope, p) = s.program(program).await?;
    let Some(d) = store::decisions(s.conn(), &scope)
        .await?
        .into_iter()
        .find(|d| d.number == n)
    else {
        return not_found(format_args!("decision #{n}"), &p, Some(Listing::DECISIONS));
    };
    let people = s.people().await?.clone();
    let by = s.maybe_mention(d.decided_by).await?;
    let pending = d.outcome.trim().is_empty();
    Ok(
        Reply::new(format!("Decision #{} of {}: {}", d.number, p.key, d.title))
            .fields(vec![
                ("Context", Text::plain(d.context.clone())),
                ("Options", Text::plain(d.options.clone())),
                (
                    "Outcome",
                    Text::plain(if pending {
                        "(pending)".to_owned()
                    } else {
                        d.outcome.clone()
                    }),
                ),
                (
                    if pending { "Raised by" } else { "Decided by" },
                    person_cell(by),
                ),
                (
                    if pending { "Raised on" } else { "Decided on" },
                    Text::new().date(d.decided_on),
                ),
            ])
            .data(records::decision(&people, &d)),
    )
}

async fn decide(
    s: &mut Session<'_>,
    target: &Numbered,
    outcome: Prose,
    by: Option<PersonRef>,
    on: Option<DateSpec>,
) -> Result<Reply> {
    let (program, n) = target.split()?;
    let n = parse_number(n, "decision")?;
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Editor, "record decisions")
        .await?;
    let Some(before) = store::decisions(s.conn(), &scope)
        .await?
        .into_iter()
        .find(|d| d.number == n)
    else {
        return not_found(format_args!("decision #{n}"), &p, Some(Listing::DECISIONS));
    };
    if !before.outcome.is_empty() {
        return refuse(format!(
            "decision #{n} was decided on {}: log a new decision to change it, so the history keeps both",
            before.decided_on
        ));
    }
    if outcome.is_empty() {
        return refuse("a decision needs an --outcome");
    }
    let by = s.person_or_actor(by.as_ref()).await?;
    let today = s.today(&p);
    let decided_on = on_or_before(today, on, "record a decision once it is taken")?;
    let mut after = before.clone();
    after.outcome = outcome.as_str().to_owned();
    after.decided_by = Some(by.id);
    after.decided_on = decided_on;
    store::update_decision(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "decision.decided",
        format!("decision:{n}"),
        Some(&before),
        Some(&after),
    )
    .await?;
    Ok(
        Reply::success(format!("Decided #{n} in {}", p.key)).fields(vec![
            ("Decision", Text::plain(after.title.as_str())),
            ("Outcome", Text::plain(after.outcome.clone())),
            (
                "Decided by",
                Text::new().person(&by).text(format!(" on {decided_on}")),
            ),
        ]),
    )
}

async fn set_decision(
    s: &mut Session<'_>,
    target: &Numbered,
    title: Option<Title>,
    context: Option<Prose>,
    options: Option<Prose>,
) -> Result<Reply> {
    let (program, n) = target.split()?;
    let n = parse_number(n, "decision")?;
    let (scope, p) = s.program_for_change(program).await?;
    s.require(&scope, &p, Role::Editor, "change decisions")
        .await?;
    if title.is_none() && context.is_none() && options.is_none() {
        return refuse("nothing to set: give --title, --context or --options");
    }
    let Some(before) = store::decisions(s.conn(), &scope)
        .await?
        .into_iter()
        .find(|d| d.number == n)
    else {
        return not_found(format_args!("decision #{n}"), &p, Some(Listing::DECISIONS));
    };
    let mut after = before.clone();
    let mut changed: Vec<String> = Vec::new();
    if let Some(t) = title {
        if t != before.title {
            after.title = t;
            changed.push("title".into());
        }
    }
    if let Some(c) = context {
        if c.as_str() != before.context {
            after.context = c.as_str().to_owned();
            changed.push("context".into());
        }
    }
    if let Some(o) = options {
        if o.as_str() != before.options {
            after.options = o.as_str().to_owned();
            changed.push("options".into());
        }
    }
    if changed.is_empty() {
        return refuse(format!("decision #{n} already says that: nothing changed"));
    }
    store::update_decision(s.conn(), &scope, &after).await?;
    s.event(
        Some(&scope),
        "decision.edited",
        format!("decision:{n}"),
        Some(&before),
        Some(&json!({ "title": after.title, "context": after.context, "options": after.options, "changed": changed })),
    )
    .await?;
    Ok(
        Reply::success(format!("Changed decision #{n} of {}", p.key))
            .paragraph(Text::plain(format!("Changed: {}.", changed.join(", ")))),
    )
}

async fn list_decisions(s: &mut Session<'_>, program: Option<&str>) -> Result<Reply> {
    let (scope, p) = s.program(program).await?;
    let decisions = store::decisions(s.conn(), &scope).await?;
    let people = s.people().await?.clone();
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for d in &decisions {
        data.push(records::decision(&people, d));
        let by = s.maybe_mention(d.decided_by).await?;
        rows.push(vec![
            Text::plain(format!("#{}", d.number)),
            Text::new().date(d.decided_on),
            Text::plain(d.title.as_str()),
            Text::plain(if d.outcome.is_empty() {
                "(pending)".to_owned()
            } else {
                d.outcome.clone()
            }),
            person_cell(by),
        ]);
    }
    Ok(counted_table(
        Reply::new(format!("No decisions logged in {}", p.key)),
        format_args!("Decisions of {}", p.key),
        &["#", "On", "Decision", "Outcome", "By"],
        rows,
    )
    .data(serde_json::json!({ "program": p.key.as_str(), "decisions": data })))
}
