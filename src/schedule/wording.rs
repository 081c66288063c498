//! What the scheduler's messages say: pure functions from plain values to a [`Reply`] (or
//! the reason line that says why it was sent and how to stop it). No store, no clock: the
//! jobs gather the values, and the snapshot tests here pin the words.
//!
//! The buttons carry `domain::ActionId`s, which write and read their ids.

use chrono::NaiveDate;

use crate::domain::{n_days, ActionId, Audience, Key, Person, Rag};
use crate::reply::{Mention, Reply, Text, Tone};

/// The command that answers a status prompt, with the colour left to choose.
fn status_command(program: &str, project: &str) -> String {
    format!("status post {program} {project} --rag green|amber|red --summary \"…\"")
}

/// Asks `owner` how one of their projects is doing, with a button per colour.
pub fn prompt(owner: &Person, program: &str, project: &str, project_name: &str) -> Reply {
    let mut reply = Reply::new(format!("Status update for {project_name}?"))
        .tone(Tone::Info)
        .paragraph(
            Text::new()
                .person(owner)
                .text(format!(", how is {project_name} ("))
                .code(project)
                .text(format!(
                    ") doing this week in {program}? Pick a colour, or type "
                )),
        )
        .paragraph(Text::new().code(status_command(program, project)));
    for (rag, label) in [("green", "Green"), ("amber", "Amber"), ("red", "Red")] {
        let id = (|| {
            Some(ActionId::Status {
                program: Key::parse(program).ok()?,
                project: Key::parse(project).ok()?,
                rag: Rag::parse(rag).ok()?,
            })
        })();
        reply = with_button(reply, id, label);
    }
    reply
}

/// A prompt also lists the owner's open action items in the program, each with a *Done*
/// button, at most [`REMIND_BUTTONS`]; `total` counts them all, and the rest are named by
/// the command that lists them. `actions` holds (number, title, due).
pub fn with_actions(
    reply: Reply,
    program: &str,
    actions: &[(i64, String, Option<NaiveDate>)],
    total: usize,
) -> Reply {
    if actions.is_empty() {
        return reply;
    }
    let items = actions
        .iter()
        .take(REMIND_BUTTONS)
        .map(|(n, title, due)| {
            Text::new().strong(format!("#{n} {title}")).text(match due {
                Some(d) => format!(", due {d}"),
                None => String::new(),
            })
        })
        .collect();
    let mut reply = reply
        .heading(format!("Your open action items ({total})"))
        .list(items);
    if total > REMIND_BUTTONS {
        reply = reply.paragraph(
            Text::plain(format!("… and {} more: ", total - REMIND_BUTTONS))
                .code(format!("action list {program} --mine")),
        );
    }
    let Ok(key) = Key::parse(program) else {
        return reply;
    };
    for (n, _, _) in actions.iter().take(REMIND_BUTTONS) {
        let id = ActionId::ActionDone {
            program: key.clone(),
            number: *n,
        };
        let line = id.command_line();
        reply = reply.action(id, format!("Done #{n}"), line);
    }
    reply.action(ActionId::Inbox, "My inbox", "inbox")
}

/// `when` is the schedule as people read it ("on weekdays at 10:00").
pub fn prompt_reason(program: &str, project_name: &str, when: &str, handle: &str) -> String {
    format!(
        "You own {project_name} in {program}; status is asked {when}. Answering stops the reminders. \
         Away? `person set @{handle} --away DATE` pauses prompts."
    )
}

/// Reminds `owner` of a prompt about `project` they were sent on `asked_on` (their
/// program's date) and have not answered.
pub fn reminder(
    owner: &Person,
    program: &str,
    project: &str,
    project_name: &str,
    asked_on: NaiveDate,
) -> Reply {
    Reply::new(format!("Reminder: status for {project_name}"))
        .tone(Tone::Warning)
        .paragraph(
            Text::new()
                .person(owner)
                .text(format!(
                    ", {project_name} has no update since you were asked on {asked_on}. "
                ))
                .code(status_command(program, project)),
        )
        .action(ActionId::Inbox, "My inbox", "inbox")
}

pub fn reminder_reason(project_name: &str) -> String {
    format!(
        "You were asked for {project_name}'s status and have not answered; the next reminder goes to the program owner. Answering stops it."
    )
}

/// Tells the program owner that `owner` has not answered the prompt of `asked_on`, after a
/// reminder or because they are away.
pub fn escalation(
    program_owner: &Person,
    owner: &Person,
    project_name: &str,
    asked_on: NaiveDate,
    owner_away: bool,
) -> Reply {
    Reply::new(format!("No status from {project_name}"))
        .tone(Tone::Warning)
        .paragraph(
            Text::new()
                .person(program_owner)
                .text(format!(", {project_name} (owner "))
                .person(owner)
                .text(format!(
                    ") has not answered the status prompt of {asked_on}{}.",
                    if owner_away {
                        "; they are away"
                    } else {
                        " despite a reminder"
                    }
                )),
        )
}

pub fn escalation_reason(program: &str) -> String {
    format!(
        "You own {program}: unanswered prompts come to you after one reminder. `status missing {program}` lists them."
    )
}

/// Why a digest came, and how to stop it. `when` is the schedule as people read it.
pub fn digest_reason(audience: Audience, program: &str, when: &str, schedule: i64) -> String {
    format!(
        "The {} digest of {program}, sent {when}. `schedule show {program}` lists the schedules; `schedule remove {program} {schedule}` stops this one.",
        audience.as_str(),
    )
}

/// Why a portfolio digest arrives, and how to stop it.
pub fn portfolio_digest_reason(
    audience: Audience,
    portfolio: &str,
    when: &str,
    schedule: i64,
) -> String {
    format!(
        "The {} digest of portfolio {portfolio}, sent {when}. `portfolio show {portfolio}` lists its subscriptions; `portfolio unsubscribe {portfolio} {schedule}` stops this one.",
        audience.as_str(),
    )
}

/// How an open dependency hurts.
#[derive(Debug, Clone, Copy)]
pub enum Hurt<'a> {
    Blocked { reason: Option<&'a str> },
    Late { need_by: NaiveDate, days: i64 },
}

/// A ping about one blocked or late dependency, to one rung of its ladder.
#[derive(Debug, Clone, Copy)]
pub struct Blocker<'a> {
    pub program: &'a str,
    pub number: i64,
    pub what: &'a str,
    /// Who provides it, and what waits on it, by name.
    pub from: &'a str,
    pub needs: &'a str,
    pub hurt: Hurt<'a>,
    /// The milestone waiting on it and those a day's slip would move.
    pub delays: &'a [String],
    /// Who is pinged: `None` for the program's channel.
    pub to: Option<&'a Person>,
    /// Its owner, named when someone else is pinged.
    pub owner: Option<&'a Person>,
}

pub fn blocker(b: &Blocker<'_>) -> Reply {
    let (key, n) = (b.program, b.number);
    let state = match b.hurt {
        Hurt::Blocked { reason } => format!(
            "blocked{}",
            reason
                .filter(|r| !r.is_empty())
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
        Hurt::Late { need_by, days } => {
            format!("{} past its need-by date {need_by}", n_days(days))
        }
    };
    let mut body = Text::new();
    if let Some(p) = b.to {
        body = body.person(p).text(", ");
    }
    body = body
        .text(format!("dependency #{n} "))
        .code(b.what)
        .text(format!(
            " from {} is {state}. {} is waiting on it",
            b.from, b.needs
        ));
    if !b.delays.is_empty() {
        body = body.text(format!("; it delays {}", b.delays.join(", ")));
    }
    body = body.text(".");
    if let (Some(o), Some(w)) = (b.owner, b.to) {
        if o.id != w.id {
            body = body
                .text(" Its owner is ")
                .person(Mention::from(o))
                .text(".");
        }
    }
    let headline = match b.hurt {
        Hurt::Blocked { .. } => "Blocker",
        Hurt::Late { .. } => "Late dependency",
    };
    let program = Key::parse(key).ok();
    let reply = Reply::new(format!("{headline}: dependency #{n} {}", b.what))
        .tone(Tone::Health(Rag::Red))
        .paragraph(body);
    let deliver = program
        .clone()
        .map(|program| ActionId::DepDeliver { program, number: n });
    let snooze = program.map(|program| ActionId::DepSnooze { program, number: n });
    with_button(
        with_button(reply, deliver, "Delivered"),
        snooze,
        "Snooze a week",
    )
}

/// A button for `id`, which also carries the command it stands for (shown where buttons
/// cannot be). A key that does not read as one (never, for a stored program) gets none.
fn with_button(reply: Reply, id: Option<ActionId>, label: &str) -> Reply {
    match id {
        Some(id) => {
            let line = id.command_line();
            reply.action(id, label, line)
        }
        None => reply,
    }
}

/// Why this rung was pinged: `why` in the ladder's words, `rung` from 1 to 4, `age` in
/// working days.
pub fn blocker_reason(program: &str, number: i64, why: &str, rung: usize, age: i64) -> String {
    let (key, n) = (program, number);
    format!(
        "Pinged because {why} (rung {rung} of 4, {}). Stop: `dep deliver {key} {n}`, `dep unblock {key} {n}`, `dep snooze {key} {n} --until DATE`, or hand it over with `dep set {key} {n} --owner @someone`.",
        match age {
            0 => "since today".to_owned(),
            1 => "for 1 working day".to_owned(),
            n => format!("for {n} working days"),
        }
    )
}

/// A risk whose review date `by` has come, to its owner (or their stand-in).
pub struct RiskReview<'a> {
    pub to: &'a Person,
    pub number: i64,
    pub title: &'a str,
    pub band: &'a str,
    pub score: u8,
    pub by: NaiveDate,
    pub mitigation: &'a str,
}

pub fn risk_review(r: &RiskReview<'_>) -> Reply {
    let n = r.number;
    Reply::new(format!("Risk review due: #{n} {}", r.title))
        .tone(Tone::Warning)
        .paragraph(Text::new().person(r.to).text(format!(
            ", risk #{n} ({}, score {}) is due for review since {}. Mitigation so far: {}.",
            r.band,
            r.score,
            r.by,
            if r.mitigation.is_empty() {
                "none"
            } else {
                r.mitigation
            }
        )))
        .action(ActionId::Inbox, "My inbox", "inbox")
}

pub fn risk_review_reason(program: &str, number: i64) -> String {
    let (key, n) = (program, number);
    format!(
        "You own risk #{n} and its review date has come. Stop: set the next review with `risk set {key} {n} --review-by DATE`, `risk close {key} {n}`, or `risk snooze {key} {n} --until DATE`."
    )
}

/// One thing a reminder asks of a person: what it is, in words, and the command that
/// clears it; `done` is the button that clears it at once, for an action item.
pub struct Remind {
    /// "Action #3 Send the EU plan".
    pub what: String,
    /// ", due 2026-12-04 (in 3 days)".
    pub when: String,
    pub command: String,
    pub done: Option<ActionId>,
    /// A risk review, by its number: alone, it keeps its own words ([`risk_review`]).
    pub review: Option<i64>,
}

/// The most buttons one reminder carries; the rest are listed with their command.
pub const REMIND_BUTTONS: usize = 5;

/// Everything due for one person in one program today, in one message. A lone risk review
/// keeps its own words.
pub fn reminders(to: &Person, program: &str, items: &[Remind]) -> Reply {
    let mut reply = if let [one] = items {
        Reply::new(format!("Reminder: {}", one.what))
            .tone(Tone::Warning)
            .paragraph(
                Text::new()
                    .person(to)
                    .text(format!(", {}{}. ", one.what, one.when))
                    .text("Clear it with ")
                    .code(one.command.clone())
                    .text("."),
            )
    } else {
        Reply::new(format!("{} reminders in {program}", items.len()))
            .tone(Tone::Warning)
            .paragraph(Text::new().person(to).text(", these need you:"))
            .list(
                items
                    .iter()
                    .map(|i| {
                        Text::new()
                            .strong(i.what.clone())
                            .text(format!("{}: ", i.when))
                            .code(i.command.clone())
                    })
                    .collect(),
            )
    };
    for id in items
        .iter()
        .filter_map(|i| i.done.clone())
        .take(REMIND_BUTTONS)
    {
        let line = id.command_line();
        let label = match &id {
            ActionId::ActionDone { number, .. } => format!("Done #{number}"),
            _ => "Done".to_owned(),
        };
        reply = reply.action(id, label, line);
    }
    reply.action(ActionId::Inbox, "My inbox", "inbox")
}

pub fn reminders_reason(program: &str) -> String {
    format!(
        "These are yours in {program} and their dates have come. Each goes once per date; `action list {program} --mine` lists your open actions."
    )
}

/// A milestone due within the horizon, to its owner (or their stand-in); `late` is its
/// forecast and days past target, when it is forecast after its target.
pub fn due_soon(
    to: &Person,
    milestone: &str,
    title: &str,
    target: NaiveDate,
    late: Option<(NaiveDate, i64)>,
) -> Reply {
    let mut text = Text::new()
        .person(Mention::from(to))
        .text(", ")
        .code(milestone)
        .text(format!(" ({title}) is due {target}"));
    if let Some((forecast, days)) = late {
        text = text.text(format!(
            "; it is forecast {forecast}, {} late",
            n_days(days)
        ));
    }
    Reply::new(format!("Due soon: {title}"))
        .tone(Tone::Info)
        .paragraph(text.text("."))
        .action(ActionId::Inbox, "My inbox", "inbox")
}

pub fn due_soon_reason(program: &str, milestone: &str, horizon_days: i64) -> String {
    let (key, mk) = (program, milestone);
    format!(
        "You own milestone {mk}, due within {horizon_days} days. Stop: `milestone done {key} {mk}`, or `milestone move {key} {mk} --target DATE --reason \"…\"`."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: i64, handle: &str, name: &str) -> Person {
        Person {
            id,
            handle: handle.into(),
            display_name: name.into(),
            timezone: None,
            away_until: None,
            delegate: None,
            email: None,
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// The reply as the console shows it, its buttons' ids, and its reason.
    fn shown(reply: &Reply, reason: &str) -> String {
        let ids: Vec<&str> = reply.actions.iter().map(|a| a.id.as_str()).collect();
        format!(
            "{}\nButtons: {}\nWhy: {reason}\n",
            crate::reply::text::render(reply),
            ids.join(" ")
        )
    }

    #[test]
    fn a_status_prompt() {
        let dana = person(2, "dana", "Dana");
        let reply = prompt(&dana, "atlas", "api", "Public API");
        let reason = prompt_reason("atlas", "Public API", "on weekdays at 10:00", "dana");
        insta::assert_snapshot!(shown(&reply, &reason));
    }

    #[test]
    fn a_reminder_and_its_escalation() {
        let (li, tpm) = (person(3, "li", "Li"), person(1, "tpm", "TPM"));
        let reminded = reminder(&li, "atlas", "web", "Web console", day("2026-11-30"));
        insta::assert_snapshot!(
            "reminder",
            shown(&reminded, &reminder_reason("Web console"))
        );
        for (away, name) in [(false, "escalation"), (true, "escalation_away")] {
            let reply = escalation(&tpm, &li, "Web console", day("2026-11-30"), away);
            insta::assert_snapshot!(name, shown(&reply, &escalation_reason("atlas")));
        }
    }

    #[test]
    fn a_digest_reason() {
        insta::assert_snapshot!(digest_reason(
            Audience::Executive,
            "atlas",
            "weekly on Friday at 16:00",
            4
        ));
    }

    #[test]
    fn blocker_pings_up_the_ladder() {
        let (dana, li) = (person(2, "dana", "Dana"), person(3, "li", "Li"));
        let delays = ["beta".to_owned(), "ga".to_owned()];
        let blocked = Blocker {
            program: "atlas",
            number: 1,
            what: "Auth endpoints",
            from: "Public API",
            needs: "Web console",
            hurt: Hurt::Blocked {
                reason: Some("security review"),
            },
            delays: &delays,
            to: Some(&li),
            owner: Some(&dana),
        };
        insta::assert_snapshot!(
            "blocker_to_the_lead",
            shown(
                &blocker(&blocked),
                &blocker_reason(
                    "atlas",
                    1,
                    "you lead the team that provides it and it has not moved",
                    2,
                    3
                )
            )
        );
        let late = Blocker {
            hurt: Hurt::Late {
                need_by: day("2026-11-27"),
                days: 3,
            },
            delays: &[],
            to: None,
            ..blocked
        };
        insta::assert_snapshot!(
            "late_dependency_to_the_channel",
            shown(
                &blocker(&late),
                &blocker_reason(
                    "atlas",
                    1,
                    "it is still open after every rung of the ladder",
                    4,
                    1
                )
            )
        );
        let today = Blocker {
            hurt: Hurt::Blocked { reason: None },
            to: Some(&dana),
            ..blocked
        };
        let reason = blocker_reason("atlas", 1, "you own it", 1, 0);
        assert!(reason.contains("(rung 1 of 4, since today)"), "{reason}");
        insta::assert_snapshot!("blocker_to_its_owner", shown(&blocker(&today), &reason));
    }

    #[test]
    fn a_risk_review() {
        let li = person(3, "li", "Li");
        let review = RiskReview {
            to: &li,
            number: 2,
            title: "Vendor late",
            band: "medium",
            score: 9,
            by: day("2026-12-01"),
            mitigation: "",
        };
        insta::assert_snapshot!(shown(
            &risk_review(&review),
            &risk_review_reason("atlas", 2)
        ));
    }

    #[test]
    fn due_soon_on_time_and_late() {
        let dana = person(2, "dana", "Dana");
        let on_time = due_soon(&dana, "beta", "Beta", day("2026-12-03"), None);
        insta::assert_snapshot!(
            "due_soon",
            shown(&on_time, &due_soon_reason("atlas", "beta", 3))
        );
        let late = due_soon(
            &dana,
            "beta",
            "Beta",
            day("2026-12-03"),
            Some((day("2026-12-07"), 4)),
        );
        insta::assert_snapshot!(
            "due_soon_forecast_late",
            shown(&late, &due_soon_reason("atlas", "beta", 3))
        );
    }
}
