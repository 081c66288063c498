//! `risk …` and `decision …`.

use serde_json::json;

use super::{parse_number, refuse, Session};
use crate::command::grammar::{DecisionCmd, ProgramArg, RiskCmd};
use crate::command::Result;
use crate::domain::{Decision, Program, Risk, RiskState, Role, Title};
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
        } => {
            let (program, title) = target.split()?;
            let title = Title::parse(title)?;
            let (scope, p) = s.program_for_change(program).await?;
            let project = match &project {
                Some(k) => match store::find_project(s.conn(), &scope, k).await? {
                    Some(pr) => Some(pr),
                    None => return refuse(format!("there is no project `{k}` in `{}`", p.key)),
                },
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
                mitigation: mitigation
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default(),
                customer_impact: customer_impact
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default(),
                review_by: review_by.map(|d| d.resolve(today)),
                state: RiskState::Open,
            };
            r.number = store::insert_risk(s.conn(), &scope, &r).await?;
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
        RiskCmd::List {
            program: ProgramArg { program },
            all,
        } => {
            let (scope, p) = s.program(program.as_deref()).await?;
            let mut risks: Vec<Risk> = store::risks(s.conn(), &scope)
                .await?
                .into_iter()
                .filter(|r| all || r.is_open())
                .collect();
            risks.sort_by(|a, b| b.score().cmp(&a.score()).then(a.number.cmp(&b.number)));
            let today = s.today(&p);
            let mut rows = Vec::new();
            for r in &risks {
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
                    owner.map_or(Text::new(), |o| Text::new().person(o)),
                    Text::plain(review),
                    Text::plain(r.state.as_str()),
                ]);
            }
            if rows.is_empty() {
                return Ok(Reply::new(format!("No open risks in {}", p.key)));
            }
            Ok(
                Reply::new(format!("Risks of {} ({})", p.key, rows.len())).table(
                    &["#", "Title", "Score", "Band", "Owner", "Review by", "State"],
                    rows,
                ),
            )
        }
        RiskCmd::Show(target) => {
            let (program, n) = target.split()?;
            let (scope, p) = s.program(program).await?;
            let r = load(s, &scope, &p, n).await?;
            let reply = Reply::new(format!("Risk #{} of {}: {}", r.number, p.key, r.title));
            risk_fields(s, reply, &r).await
        }
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
        } => {
            let (program, n) = target.split()?;
            let (scope, p) = s.program_for_change(program).await?;
            let before = load(s, &scope, &p, n).await?;
            let owners: Vec<i64> = before.owner.into_iter().collect();
            s.require_editor_or(&scope, &p, &owners, "the risk's owner", "change it")
                .await?;
            let nothing = title.is_none()
                && likelihood.is_none()
                && impact.is_none()
                && owner.is_none()
                && mitigation.is_none()
                && customer_impact.is_none()
                && review_by.is_none()
                && state.is_none();
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
                Some(st @ (RiskState::Open | RiskState::Mitigating)) => after.state = st,
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
        RiskCmd::Close { target, reason } => end_risk(s, target, RiskState::Closed, reason).await,
        RiskCmd::Realize { target, note } => end_risk(s, target, RiskState::Realized, note).await,
        RiskCmd::Snooze {
            target,
            until,
            reason,
        } => {
            let (program, n) = target.split()?;
            let (scope, p) = s.program_for_change(program).await?;
            let before = load(s, &scope, &p, n).await?;
            let owners: Vec<i64> = before.owner.into_iter().collect();
            s.require_editor_or(&scope, &p, &owners, "the risk's owner", "snooze it")
                .await?;
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
    }
}

async fn end_risk(
    s: &mut Session<'_>,
    target: crate::command::grammar::Numbered,
    to: RiskState,
    note: Option<crate::domain::Prose>,
) -> Result<Reply> {
    let (program, n) = target.split()?;
    let (scope, p) = s.program_for_change(program).await?;
    let before = load(s, &scope, &p, n).await?;
    let owners: Vec<i64> = before.owner.into_iter().collect();
    let doing = if to == RiskState::Closed {
        "close it"
    } else {
        "mark it realized"
    };
    s.require_editor_or(&scope, &p, &owners, "the risk's owner", doing)
        .await?;
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
        reply = reply.tone(Tone::Warning);
    }
    if !note.is_empty() {
        reply = reply.paragraph(note);
    }
    Ok(reply)
}

async fn load(s: &mut Session<'_>, scope: &Scope, p: &Program, raw: &str) -> Result<Risk> {
    let n = parse_number(raw, "risk")?;
    match store::find_risk(s.conn(), scope, n).await? {
        Some(r) => Ok(r),
        None => refuse(format!(
            "there is no risk #{n} in `{}`: `risk list {} --all` shows them",
            p.key, p.key
        )),
    }
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
        (
            "Owner",
            owner.map_or(Text::new(), |o| Text::new().person(o)),
        ),
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
        } => {
            let (program, title) = target.split()?;
            let title = Title::parse(title)?;
            let (scope, p) = s.program_for_change(program).await?;
            s.require(&scope, &p, Role::Editor, "log decisions").await?;
            let by = match &by {
                Some(r) => s.person(r).await?,
                None => s.actor().await?,
            };
            let today = s.today(&p);
            let decided_on = on.map_or(today, |d| d.resolve(today));
            if decided_on > today {
                return refuse(format!(
                    "{decided_on} is in the future: log a decision once it is taken"
                ));
            }
            let text = |x: Option<crate::domain::Prose>| {
                x.map(|v| v.as_str().to_owned()).unwrap_or_default()
            };
            let mut d = Decision {
                id: 0,
                number: 0,
                title,
                context: text(context),
                options: text(options),
                outcome: text(outcome),
                decided_by: Some(by.id),
                decided_on,
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
        DecisionCmd::Decide {
            target,
            outcome,
            by,
            on,
        } => {
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
                return refuse(format!(
                    "there is no decision #{n} in `{}`: `decision list {}` shows them",
                    p.key, p.key
                ));
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
            let by = match &by {
                Some(r) => s.person(r).await?,
                None => s.actor().await?,
            };
            let today = s.today(&p);
            let decided_on = on.map_or(today, |d| d.resolve(today));
            if decided_on > today {
                return refuse(format!(
                    "{decided_on} is in the future: record a decision once it is taken"
                ));
            }
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
        DecisionCmd::List(ProgramArg { program }) => {
            let (scope, p) = s.program(program.as_deref()).await?;
            let decisions = store::decisions(s.conn(), &scope).await?;
            if decisions.is_empty() {
                return Ok(Reply::new(format!("No decisions logged in {}", p.key)));
            }
            let mut rows = Vec::new();
            for d in &decisions {
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
                    by.map_or(Text::new(), |b| Text::new().person(b)),
                ]);
            }
            Ok(
                Reply::new(format!("Decisions of {} ({})", p.key, rows.len()))
                    .table(&["#", "On", "Decision", "Outcome", "By"], rows),
            )
        }
    }
}
