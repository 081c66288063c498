//! Dependency agreements in messages: the request a providing team's owner answers with
//! *Accept*, *Propose a date* or *Decline*, the reminder of a request left unanswered, and
//! the answer the consuming team's owner is told. The wording is in pure functions here;
//! [`tell`] queues one through the outbox, in the caller's transaction.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Destination, NewMessage};
use crate::domain::{n_days, ActionId, Agreement, Key, Person, Program};
use crate::reply::{Reply, Text, Tone};
use crate::store::{self, Scope, Tx};

/// A dependency as the agreement messages name it.
pub struct Asked<'a> {
    pub program: &'a str,
    pub number: i64,
    pub what: &'a str,
    /// Who needs it and who provides it, by name.
    pub needs: &'a str,
    pub from: &'a str,
    pub need_by: NaiveDate,
}

/// The request to the provider's owner `to`, from `asker` (when someone else asked).
pub fn request(to: &Person, asker: Option<&Person>, d: &Asked<'_>) -> Reply {
    let mut body = Text::new()
        .person(to)
        .text(format!(", {} asks {} for ", d.needs, d.from))
        .strong(d.what)
        .text(" by ")
        .date(d.need_by)
        .text(format!(" (dependency #{} of {})", d.number, d.program));
    if let Some(a) = asker.filter(|a| a.id != to.id) {
        // Named, not mentioned: only the one asked is pinged.
        body = body.text(format!(", recorded by {}", a.display_name));
    }
    body = body.text(". Can your team deliver it by then?");
    with_answers(
        Reply::new(format!("Dependency request: #{} {}", d.number, d.what))
            .tone(Tone::Info)
            .paragraph(body),
        d,
    )
}

/// Why the provider's owner got the request, and the commands that answer it.
pub fn request_reason(program: &str, number: i64) -> String {
    let (key, n) = (program, number);
    format!(
        "You own what provides it. Answer: `dep accept {key} {n}` (add `--by DATE` to commit to a date), `dep propose {key} {n} --by DATE --reason \"…\"`, or `dep decline {key} {n} --reason \"…\"`."
    )
}

/// A request still unanswered after `days` working days, to the rung `to` of the ladder.
pub fn reminder(to: &Person, d: &Asked<'_>, days: i64) -> Reply {
    let body = Text::new()
        .person(to)
        .text(format!(
            ", dependency #{} of {}: {} asked {} for ",
            d.number, d.program, d.needs, d.from
        ))
        .strong(d.what)
        .text(" by ")
        .date(d.need_by)
        .text(format!(
            " and has had no answer for {}.",
            match days {
                1 => "1 working day".to_owned(),
                n => format!("{n} working days"),
            }
        ));
    with_answers(
        Reply::new(format!("Unanswered request: #{} {}", d.number, d.what))
            .tone(Tone::Warning)
            .paragraph(body),
        d,
    )
}

/// Why this rung heard of the unanswered request.
pub fn reminder_reason(program: &str, number: i64, why: &str, rung: usize) -> String {
    format!(
        "Pinged because {why} (rung {rung} of 4). {}",
        request_reason(program, number).replacen("You own what provides it. ", "", 1)
    )
}

/// The provider's answer, told to the consumer's owner `to`. `by` is who answered.
pub fn answer(
    to: &Person,
    by: &Person,
    d: &Asked<'_>,
    agreement: Agreement,
    on: Option<NaiveDate>,
    note: Option<&str>,
) -> Reply {
    let gap = on.map(|on| (on - d.need_by).num_days()).filter(|g| *g > 0);
    let (title, tone) = match agreement {
        Agreement::Accepted if gap.is_none() => ("accepted", Tone::Success),
        Agreement::Accepted => ("accepted, late", Tone::Warning),
        Agreement::Proposed => ("another date proposed", Tone::Warning),
        Agreement::Declined => ("declined", Tone::Warning),
        Agreement::Requested => ("requested", Tone::Info),
    };
    let mut body = Text::new()
        .person(to)
        .text(format!(", {} ", d.from))
        .text(match agreement {
            Agreement::Accepted => "accepted ",
            Agreement::Proposed => "cannot deliver ",
            Agreement::Declined => "declined ",
            Agreement::Requested => "was asked for ",
        })
        .strong(d.what)
        .text(format!(" (dependency #{}) ", d.number))
        .text(if agreement == Agreement::Proposed {
            "by "
        } else {
            "needed by "
        })
        .date(d.need_by);
    match (agreement, on) {
        (Agreement::Accepted, Some(on)) => body = body.text(", committing to ").date(on),
        (Agreement::Proposed, Some(on)) => {
            body = body.text(" and proposes ").date(on).text(" instead")
        }
        _ => {}
    }
    if let Some(g) = gap {
        body = body.text(format!(", {} after you need it", n_days(g)));
    }
    if let Some(note) = note.filter(|n| !n.is_empty()) {
        body = body.text(format!(": {note}"));
    }
    body = body.text(format!(". Answered by {}.", by.display_name));
    Reply::new(format!("Dependency #{} {title}: {}", d.number, d.what))
        .tone(tone)
        .paragraph(body)
}

/// Why the consumer's owner was told, and what they can do next.
pub fn answer_reason(program: &str, number: i64, agreement: Agreement) -> String {
    let (key, n) = (program, number);
    match agreement {
        Agreement::Proposed => format!(
            "You own what needs it. Agree to the date with `dep set {key} {n} --by DATE`, or talk to the providing team; `dep show {key} {n}` shows where it stands."
        ),
        Agreement::Declined => format!(
            "You own what needs it. Find another provider with `dep set {key} {n} --from KEY`, or drop it with `dep cancel {key} {n} --reason \"…\"`."
        ),
        _ => format!(
            "You own what needs it. `dep show {key} {n}` shows where it stands."
        ),
    }
}

/// The three answers as buttons, each also a command for where buttons cannot be.
fn with_answers(reply: Reply, d: &Asked<'_>) -> Reply {
    let Ok(program) = Key::parse(d.program) else {
        return reply;
    };
    let number = d.number;
    [
        (
            ActionId::DepAccept {
                program: program.clone(),
                number,
            },
            "Accept",
        ),
        (
            ActionId::DepPropose {
                program: program.clone(),
                number,
            },
            "Propose a date",
        ),
        (ActionId::DepDecline { program, number }, "Decline"),
    ]
    .into_iter()
    .fold(reply, |reply, (id, label)| {
        let line = id.command_line();
        reply.action(id, label, line)
    })
}

/// Queues `reply` to `to` about `project` (its route, else the program's, else their
/// direct messages); whether it was queued (`false` when `dedup_key` was used already).
#[expect(
    clippy::too_many_arguments,
    reason = "the message, its addressee, and the outbox row's own fields"
)]
pub async fn tell(
    tx: &mut Tx,
    scope: &Scope,
    program: &Program,
    to: &Person,
    project: Option<i64>,
    reply: Reply,
    reason: String,
    dedup_key: String,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let routes = store::routes(tx, scope).await?;
    let destination = match routes.for_project(project) {
        Some(d) => d.clone(),
        None => Destination::for_person(scope.tenant(), &to.handle),
    };
    Ok(store::enqueue(
        tx,
        &NewMessage {
            tenant: scope.tenant().clone(),
            program_id: Some(program.id),
            destination,
            reply,
            reason,
            dedup_key: Some(dedup_key),
            not_before: now,
        },
    )
    .await?
    .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: i64, handle: &str) -> Person {
        Person {
            id,
            handle: handle.to_owned(),
            display_name: handle.to_owned(),
            timezone: None,
            away_until: None,
            delegate: None,
            email: None,
        }
    }

    fn asked() -> Asked<'static> {
        Asked {
            program: "atlas",
            number: 3,
            what: "Auth endpoints",
            needs: "web-beta",
            from: "api",
            need_by: NaiveDate::from_ymd_opt(2027, 1, 12).unwrap(),
        }
    }

    #[test]
    fn a_request_carries_the_three_answers() {
        let r = request(&person(1, "dana"), Some(&person(2, "tina")), &asked());
        let ids: Vec<&str> = r.actions.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "dep:atlas:3:accept",
                "dep:atlas:3:propose",
                "dep:atlas:3:decline"
            ]
        );
        insta::assert_snapshot!(crate::reply::text::render(&r));
        // Nobody is told they recorded their own request.
        let own = request(&person(1, "dana"), Some(&person(1, "dana")), &asked());
        assert!(!crate::reply::text::render(&own).contains("recorded by"));
    }

    #[test]
    fn an_answer_says_how_late_it_would_be() {
        let on = NaiveDate::from_ymd_opt(2027, 1, 19).unwrap();
        let r = answer(
            &person(2, "lee"),
            &person(1, "dana"),
            &asked(),
            Agreement::Proposed,
            Some(on),
            Some("load tests first"),
        );
        let text = crate::reply::text::render(&r);
        assert!(
            text.contains(
                "proposes 2027-01-19 instead, 7 days after you need it: load tests first"
            ),
            "{text}"
        );
        insta::assert_snapshot!(text);
        let ok = answer(
            &person(2, "lee"),
            &person(1, "dana"),
            &asked(),
            Agreement::Accepted,
            None,
            None,
        );
        assert_eq!(ok.title, "Dependency #3 accepted: Auth endpoints");
    }
}
