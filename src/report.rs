//! Long-form documents: the charter, the status report, the weekly sync agenda and the
//! post-mortem. Each is a [`Reply`], so it renders as a chat reply and as Markdown alike.
//! Like digests, documents name people without pinging them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::analysis::changes;
use crate::analysis::Analysed;
use crate::digest::{Answer, MilestoneLine};
use crate::domain::{
    n_days, ActionId, Agreement, Audience, DepState, Endpoint, ItemKind, MilestoneId,
    MilestoneState, Rag,
};
use crate::reply::{Mention, Reply, Text, Tone};

mod postmortem;
mod readiness;
mod scorecard;
pub use postmortem::{postmortem, postmortem_actions, Proposed, ACTION_DAYS};
pub use readiness::{readiness, Verdict};
pub use scorecard::{scorecard, COLUMNS as SCORECARD_COLUMNS};

fn name(m: Option<&Mention>) -> String {
    Mention::plain(m)
}

fn who(a: &Analysed<'_>, id: Option<i64>) -> String {
    name(a.who(id).as_ref())
}

fn or_none(s: &str) -> Text {
    if s.trim().is_empty() {
        Text::plain("(not written yet)")
    } else {
        Text::plain(s.trim())
    }
}

/// The charter: goal, scope, success metrics, stakeholders, teams and the key dates.
pub fn charter(a: &Analysed<'_>) -> Reply {
    let s = a.snap;
    let c = &s.charter;
    let mut r = Reply::new(format!("{}: charter", s.program.name.as_str()))
        .fields(vec![
            ("Program", Text::new().code(s.program.key.as_str())),
            ("Owner", Text::plain(who(a, Some(s.program.owner)))),
            ("Timezone", Text::plain(s.program.timezone.as_str())),
        ])
        .heading("Goal")
        .paragraph(or_none(&c.goal))
        .heading("In scope")
        .paragraph(or_none(&c.scope_in))
        .heading("Out of scope")
        .paragraph(or_none(&c.scope_out))
        .heading("Success metrics")
        .paragraph(or_none(&c.success_metrics))
        .heading("Stakeholders")
        .paragraph(or_none(&c.stakeholders));
    let teams: Vec<Vec<Text>> = s
        .active_projects()
        .map(|p| {
            vec![
                Text::new().code(p.key.as_str()),
                Text::plain(p.name.as_str()),
                Text::plain(name(s.person(p.owner).map(Mention::from).as_ref())),
            ]
        })
        .collect();
    if !teams.is_empty() {
        r = r
            .heading("Projects")
            .table(&["Key", "Project", "Owner"], teams);
    }
    let key_dates: Vec<Vec<Text>> = (0..s.milestones.len())
        .filter(|&i| a.forecasts.is_terminal(i))
        .map(|i| a.milestone_line(i))
        .map(|m| {
            vec![
                Text::new().code(&m.key),
                Text::plain(&m.title),
                Text::new().date(m.baseline),
                Text::new().date(m.target),
            ]
        })
        .collect();
    if !key_dates.is_empty() {
        r = r
            .heading("Key dates")
            .table(&["Milestone", "Title", "Committed", "Target"], key_dates);
    }
    r
}

/// The long-form status report: the program's health, then each project in full.
pub fn status(a: &Analysed<'_>, since: DateTime<Utc>) -> Reply {
    let s = a.snap;
    let today = s.today();
    let mut r = Reply::new(format!(
        "{}: status report, {today}",
        s.program.name.as_str()
    ))
    .tone(Tone::Health(a.health.rag));
    let mut head = Text::new().text("Overall ").rag(a.health.rag);
    if a.health.rag == Rag::Green {
        head = head.text(": nothing is off track.");
    }
    r = r.paragraph(head);
    let why: Vec<Text> = a
        .health
        .reasons
        .iter()
        .filter(|x| x.rag == a.health.rag && x.rag != Rag::Green)
        .map(|x| Text::marked(&x.text))
        .collect();
    if !why.is_empty() {
        r = r.list(why);
    }

    let path = a.critical_path();
    if !path.is_empty() {
        r = r.heading("Critical path").list(
            path.iter()
                .map(|p| {
                    Text::new().code(&p.name).text(format!(
                        " {}: forecast {}, float {}",
                        p.title,
                        p.forecast,
                        p.float_days.map(|d| format!("{d:+}")).unwrap_or_default()
                    ))
                })
                .collect(),
        );
    }

    let mut by_project: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, m) in s.milestones.iter().enumerate() {
        if let (Some(p), true) = (m.project, m.state != MilestoneState::Cancelled) {
            by_project.entry(p).or_default().push(i);
        }
    }
    for ph in &a.health.projects {
        r = r.heading(format!(
            "{} ({})",
            ph.name,
            ph.health.rag.as_str().to_uppercase()
        ));
        let mut fields = vec![(
            "Owner",
            Text::plain(name(
                s.project_owner(ph.project).map(Mention::from).as_ref(),
            )),
        )];
        match s.latest_status(ph.project) {
            Some(u) => {
                let posted = u
                    .posted_at
                    .with_timezone(&s.program.timezone.tz())
                    .date_naive();
                fields.push((
                    "Latest update",
                    Text::new()
                        .rag(u.rag)
                        .text(format!(" on {posted} by {}", who(a, u.author))),
                ));
                fields.push(("Summary", Text::plain(u.summary.as_str())));
                fields.push(("Blockers", Text::plain(u.blockers.clone())));
                fields.push(("Next steps", Text::plain(u.next_steps.clone())));
            }
            None => fields.push(("Latest update", Text::plain("none yet"))),
        }
        r = r.fields(fields);
        let reasons: Vec<Text> = ph
            .health
            .reasons
            .iter()
            .filter(|x| x.rule != crate::analysis::Rule::Reported)
            .map(|x| {
                let mut t = Text::new().rag(x.rag).text(": ");
                t.0.extend(Text::marked(&x.text).0);
                t
            })
            .collect();
        if !reasons.is_empty() {
            r = r.list(reasons);
        }
        let ms: Vec<MilestoneLine> = by_project
            .get(&ph.project)
            .into_iter()
            .flatten()
            .map(|&i| a.milestone_line(i))
            .collect();
        if !ms.is_empty() {
            r = r.table(
                &["Milestone", "State", "Target", "Forecast", "Float", "Moved"],
                ms.iter()
                    .map(|m| {
                        vec![
                            Text::new().code(&m.key),
                            Text::plain(m.state.as_str()),
                            Text::new().date(m.target),
                            Text::plain(m.forecast.map(|d| d.to_string()).unwrap_or_default()),
                            Text::plain(m.float_days.map(|d| format!("{d:+}")).unwrap_or_default()),
                            Text::plain(if m.slipped_days == 0 {
                                String::new()
                            } else {
                                crate::domain::signed_days(m.slipped_days)
                            }),
                        ]
                    })
                    .collect(),
            );
        }
    }

    let changes = changes::since(&s.events, since, s);
    r = r.heading(format!(
        "Changes since {}",
        since.with_timezone(&s.program.timezone.tz()).date_naive()
    ));
    r = if changes.is_empty() {
        r.paragraph("No changes in this period.")
    } else {
        r.list(
            changes
                .iter()
                .map(|c| Text::marked(&c.change.describe()))
                .collect(),
        )
    };

    let risks: Vec<Text> = a
        .open_risks()
        .into_iter()
        .map(|x| {
            Text::new()
                .strong(format!("#{} {}", x.number, x.title.as_str()))
                .text(format!(
                    " ({}, score {}) owner {}; mitigation: {}",
                    x.band().as_str(),
                    x.score(),
                    who(a, x.owner),
                    if x.mitigation.is_empty() {
                        "none yet"
                    } else {
                        x.mitigation.as_str()
                    }
                ))
        })
        .collect();
    r = r.heading("Open risks");
    r = if risks.is_empty() {
        r.paragraph("None.")
    } else {
        r.list(risks)
    };
    let decisions: Vec<Text> = s
        .decisions
        .iter()
        .map(|d| {
            Text::new()
                .strong(format!("#{} {}", d.number, d.title.as_str()))
                .text(if d.outcome.trim().is_empty() {
                    " (pending)".to_owned()
                } else {
                    format!(
                        ": {} ({}, {})",
                        d.outcome,
                        who(a, d.decided_by),
                        d.decided_on
                    )
                })
        })
        .collect();
    if !decisions.is_empty() {
        r = r.heading("Decisions").list(decisions);
    }
    r
}

/// "today", "tomorrow", "in 5 days".
fn in_days(today: NaiveDate, day: NaiveDate) -> String {
    match (day - today).num_days() {
        0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        n => format!("in {n} days"),
    }
}

/// Adds a person named on the agenda to the invitation list, once.
fn named(invite: &mut Vec<String>, m: Option<&Mention>) {
    if let Some(m) = m {
        let n = format!("@{}", m.name);
        if !invite.contains(&n) {
            invite.push(n);
        }
    }
}

/// How far ahead the weekly sync looks.
const AGENDA_DAYS: i64 = 14;

/// How far back "since the last sync" looks: a week.
pub const SYNC_DAYS: i64 = 7;

/// The agenda of the weekly program sync: each item with its owner.
pub fn agenda(a: &Analysed<'_>) -> Reply {
    let s = a.snap;
    let today = s.today();
    let horizon = today + Duration::days(AGENDA_DAYS);
    let key = s.program.key.as_str();
    let mut r = Reply::new(format!(
        "{}: weekly sync agenda, {today}",
        s.program.name.as_str()
    ))
    .tone(Tone::Health(a.health.rag));

    let section = |r: Reply, title: &str, items: Vec<Text>, empty: &str| {
        let r = r.heading(format!("{title} ({})", items.len()));
        if items.is_empty() {
            r.paragraph(empty.to_owned())
        } else {
            r.list(items)
        }
    };

    // Who is named, for the invitation list at the end.
    let mut invite: Vec<String> = Vec::new();
    let mut no = 0;
    let mut title = |t: &str| {
        no += 1;
        format!("{no}. {t}")
    };
    let mut decisions_due: Vec<(Option<NaiveDate>, Text)> = Vec::new();
    for d in &s.decisions {
        if !d.outcome.trim().is_empty() {
            continue;
        }
        let decider = d.decider.and_then(|p| s.person(p)).map(Mention::from);
        let raiser = d.decided_by.and_then(|p| s.person(p)).map(Mention::from);
        let text = match (&decider, d.decide_by) {
            (Some(who), Some(by)) => {
                let late = if by < today {
                    format!(", {} overdue", n_days((today - by).num_days()))
                } else {
                    String::new()
                };
                format!(" needs a decision from {} by {by}{late}", name(Some(who)))
            }
            (Some(who), None) => format!(" needs a decision from {}", name(Some(who))),
            (None, Some(by)) => format!(
                " needs a decision by {by}; raised by {}",
                name(raiser.as_ref())
            ),
            (None, None) => format!(" raised by {}, no decider named", name(raiser.as_ref())),
        };
        named(&mut invite, decider.as_ref().or(raiser.as_ref()));
        decisions_due.push((
            d.decide_by,
            Text::new()
                .strong(format!("#{} {}", d.number, d.title.as_str()))
                .text(text),
        ));
    }
    decisions_due.sort_by_key(|(by, _)| by.unwrap_or(NaiveDate::MAX));
    r = section(
        r,
        &title("Decisions needed"),
        decisions_due.into_iter().map(|(_, t)| t).collect(),
        "None pending.",
    );

    // Blocked ones whatever their need-by date: a block is the sync's business now; and
    // every one in conflict (arriving after it is needed).
    let blockers = a
        .troubled_dependencies()
        .into_iter()
        .filter(|d| d.days_late > 0 || d.state == DepState::Blocked || d.arrives_late.is_some())
        .map(|d| {
            named(&mut invite, d.owner.as_ref());
            let mut words = vec![format!("due {}", d.need_by)];
            if d.days_late > 0 {
                words.push(format!("{} late", n_days(d.days_late)));
            }
            if let Some(a) = d.arrives_late {
                words.push(format!(
                    "arrives {a}, {} after it is needed",
                    n_days((a - d.need_by).num_days())
                ));
            }
            match d.blocked_days {
                Some(0) => words.push("blocked since today".into()),
                Some(n) => words.push(format!("blocked for {}", n_days(n))),
                None => words.push(d.state.as_str().to_owned()),
            }
            Text::new()
                .strong(format!("#{} {}", d.number, d.what))
                .text(format!(
                    " from {} for {}: {}; owner {}",
                    d.from,
                    d.needed_by,
                    words.join(", "),
                    name(d.owner.as_ref())
                ))
        })
        .collect();
    r = section(
        r,
        &title("Blockers and conflicts (blocked, past need-by, or arriving late)"),
        blockers,
        "None.",
    );

    // The rest that fall due in the next two weeks, on track so far.
    let mut coming: Vec<(NaiveDate, Text)> = Vec::new();
    for (i, d) in s.deps.iter().enumerate() {
        let in_conflict = a.forecasts.arrival(i).is_some_and(|x| x > d.need_by);
        if !d.is_open()
            || d.state == DepState::Blocked
            || in_conflict
            || d.need_by < today
            || d.need_by > horizon
        {
            continue;
        }
        let owner = d.owner.and_then(|o| s.person(o)).map(Mention::from);
        named(&mut invite, owner.as_ref());
        coming.push((
            d.need_by,
            Text::new()
                .strong(format!("#{} {}", d.number, d.what.as_str()))
                .text(format!(
                    " from {} for {}: due {} ({}), {}; owner {}",
                    s.endpoint_name(&d.from),
                    s.endpoint_name(&d.needs),
                    d.need_by,
                    in_days(today, d.need_by),
                    d.state.as_str(),
                    name(owner.as_ref())
                )),
        ));
    }
    coming.sort_by_key(|(d, _)| *d);
    r = section(
        r,
        &title("Dependencies due in the next two weeks"),
        coming.into_iter().map(|(_, t)| t).collect(),
        "None.",
    );

    // Dependencies the providing team has not agreed to: asked and unanswered, answered
    // with another date, or declined.
    let requests = s
        .deps
        .iter()
        .filter(|d| d.is_open() && d.agreement != Agreement::Accepted)
        .map(|d| {
            let state = match d.agreement {
                Agreement::Proposed => format!(
                    "its provider proposes {}{}",
                    d.proposed_on.map(|p| p.to_string()).unwrap_or_default(),
                    d.proposed_on
                        .filter(|p| *p > d.need_by)
                        .map(|p| format!(
                            ", {} after it is needed",
                            n_days((p - d.need_by).num_days())
                        ))
                        .unwrap_or_default()
                ),
                Agreement::Declined => "declined by its provider".to_owned(),
                _ => match d.requested_at {
                    Some(at) => {
                        let asked = at.with_timezone(&s.program.timezone.tz()).date_naive();
                        match s.program.calendar().work_days_between(asked, today) {
                            0 => "asked today, not answered yet".to_owned(),
                            1 => "asked 1 working day ago, not answered".to_owned(),
                            n => format!("asked {n} working days ago, not answered"),
                        }
                    }
                    None => "not answered".to_owned(),
                },
            };
            let note = d
                .agreement_note
                .as_deref()
                .filter(|n| !n.is_empty())
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            let owner = d.owner.and_then(|o| s.person(o)).map(Mention::from);
            named(&mut invite, owner.as_ref());
            Text::new()
                .strong(format!("#{} {}", d.number, d.what.as_str()))
                .text(format!(
                    " from {} for {}, needed by {}: {state}{note}; provider {}",
                    s.endpoint_name(&d.from),
                    s.endpoint_name(&d.needs),
                    d.need_by,
                    name(owner.as_ref())
                ))
        })
        .collect();
    r = section(r, &title("Requests not yet accepted"), requests, "None.");

    // A milestone of a troubled project is at risk for its project's own first reason.
    let project_reason: HashMap<i64, (Rag, String)> = a
        .health
        .projects
        .iter()
        .filter_map(|p| {
            p.health
                .reasons
                .iter()
                .find(|r| r.rag != Rag::Green)
                .map(|r| (p.project, (p.health.rag, r.text.replace('`', ""))))
        })
        .collect();
    let mut at_risk: Vec<(NaiveDate, Text)> = Vec::new();
    for (i, m) in s.milestones.iter().enumerate() {
        if m.state != MilestoneState::Planned || m.target > horizon {
            continue;
        }
        let Some(fc) = a.forecasts.milestone(i) else {
            continue;
        };
        let project_reason = m.project.and_then(|p| project_reason.get(&p));
        let why = if m.target < today {
            format!("{} overdue", n_days((today - m.target).num_days()))
        } else if fc.margin_days < 0 {
            format!("forecast {}, {} late", fc.forecast, n_days(-fc.margin_days))
        } else if fc.float_days < 0 {
            format!(
                "forecast {}, which leaves what follows it {} late",
                fc.forecast,
                if fc.float_days == -1 {
                    "1 working day".to_owned()
                } else {
                    format!("{} working days", -fc.float_days)
                }
            )
        } else if let Some((_, why)) = project_reason {
            why.clone()
        } else {
            continue;
        };
        named(
            &mut invite,
            s.milestone_owner(m).map(Mention::from).as_ref(),
        );
        at_risk.push((
            m.target,
            Text::new().code(m.key.as_str()).text(format!(
                " {}: target {}, {why}; owner {}",
                m.title.as_str(),
                m.target,
                name(s.milestone_owner(m).map(Mention::from).as_ref())
            )),
        ));
    }
    at_risk.sort_by_key(|(d, _)| *d);
    r = section(
        r,
        &title("Milestones at risk in the next two weeks"),
        at_risk.into_iter().map(|(_, t)| t).collect(),
        "None.",
    );

    // What moved and what finished since the last sync (the past week).
    let week_ago = s.now - Duration::days(SYNC_DAYS);
    let moved: Vec<Text> = changes::since(&s.events, week_ago, s)
        .into_iter()
        .filter(|c| {
            matches!(
                c.change,
                changes::Change::MilestoneMoved { .. } | changes::Change::MilestoneDone { .. }
            )
        })
        .map(|c| Text::plain(c.change.describe().replace('`', "")))
        .collect();
    r = section(
        r,
        &title("Slips and completions since the last sync"),
        moved,
        "None this week.",
    );

    // Every open action item, overdue first.
    let mut actions: Vec<(NaiveDate, Text)> = Vec::new();
    for i in s
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Action && i.is_open())
    {
        let owner = i.owner.and_then(|o| s.person(o)).map(Mention::from);
        named(&mut invite, owner.as_ref());
        let due = i.due.unwrap_or(NaiveDate::MAX);
        let when = match i.due {
            Some(d) if d < today => format!("overdue since {d}"),
            Some(d) => format!("due {d}"),
            None => "no due date".to_owned(),
        };
        let mut t = Text::new()
            .strong(format!("#{} {}", i.number, i.title.as_str()))
            .text(format!(": {when}; owner {}", name(owner.as_ref())));
        if let Some(l) = i.link {
            t = t.text(format!(" (for {l})"));
        }
        actions.push((due, t));
    }
    actions.sort_by_key(|(d, _)| *d);
    r = section(
        r,
        &title("Action items, overdue first"),
        actions.into_iter().map(|(_, t)| t).collect(),
        "None open.",
    );

    let week = today + Duration::days(7);
    let reviews = a
        .open_risks()
        .into_iter()
        .filter(|x| x.review_by.is_some_and(|d| d <= week))
        .map(|x| {
            let by = x.review_by.expect("filtered on review_by");
            named(
                &mut invite,
                x.owner
                    .and_then(|o| s.person(o))
                    .map(Mention::from)
                    .as_ref(),
            );
            let when = if by < today {
                format!("overdue since {by}")
            } else {
                format!("due {by}")
            };
            Text::new()
                .strong(format!("#{} {}", x.number, x.title.as_str()))
                .text(format!(
                    " ({}, score {}): review {when}; owner {}",
                    x.band().as_str(),
                    x.score(),
                    who(a, x.owner)
                ))
        })
        .collect();
    r = section(
        r,
        &title("Risks due for review"),
        reviews,
        "None this week.",
    );

    let since = s.now - Duration::days(i64::from(s.program.staleness_days));
    let calls = a
        .roll_call(since)
        .into_iter()
        .filter(|c| c.rag == Some(Rag::Red) || matches!(c.answer, Answer::Missing | Answer::Stale))
        .map(|c| {
            named(&mut invite, c.owner.as_ref());
            let what = match (c.answer, c.rag) {
                (Answer::Missing, _) => "no update yet".to_owned(),
                (Answer::Stale, Some(rag)) => format!(
                    "last update {} ({}) is stale",
                    c.posted_on.map(|d| d.to_string()).unwrap_or_default(),
                    rag.as_str()
                ),
                (_, Some(rag)) => format!("reported {}: {}", rag.as_str(), c.summary),
                (_, None) => "no update".to_owned(),
            };
            Text::new()
                .strong(c.project.clone())
                .text(format!(": {what}; owner {}", name(c.owner.as_ref())))
        })
        .collect();
    r = section(
        r,
        &title("Projects with missing or red updates"),
        calls,
        "None.",
    );
    r = r
        .heading("People to invite")
        .paragraph(if invite.is_empty() {
            "Nobody is named above.".to_owned()
        } else {
            invite.join(", ")
        });
    // The id carries the audience the button opens; the command shown is the short one.
    let full = ActionId::Digest {
        program: s.program.key.clone(),
        audience: Audience::Engineering,
    };
    r.action(full, "Full digest", format!("digest show {key}"))
}

/// A milestone and everything it waits on: predecessors and milestones that deliver its
/// dependencies, transitively.
fn upstream(a: &Analysed<'_>, id: MilestoneId) -> HashSet<MilestoneId> {
    let s = a.snap;
    let mut into: HashMap<MilestoneId, Vec<MilestoneId>> = HashMap::new();
    for m in &s.milestones {
        into.entry(m.id)
            .or_default()
            .extend(m.after.iter().copied());
    }
    for d in &s.deps {
        if let (Endpoint::Milestone(c), Endpoint::Milestone(p)) = (&d.needs, &d.from) {
            into.entry(*c).or_default().push(*p);
        }
    }
    let mut seen = HashSet::from([id]);
    let mut stack = vec![id];
    while let Some(m) = stack.pop() {
        for &p in into.get(&m).into_iter().flatten() {
            if seen.insert(p) {
                stack.push(p);
            }
        }
    }
    seen
}
