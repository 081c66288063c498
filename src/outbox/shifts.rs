//! Shift notifications: when a milestone really moves, the owners of the milestones whose
//! forecasts it shifted hear about it through the outbox, in the move's own transaction.
//! The wording is in pure functions here; [`notify_shifts`] groups and queues.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{Destination, NewMessage};
use crate::domain::{Person, PersonId, Program};
use crate::reply::{Reply, Text, Tone};
use crate::store::{self, Scope, Tx};

/// How many milestones one shift ping names; the rest are counted.
pub const SHIFT_PING_LIST: usize = 10;

/// Tells each owner whose milestones' forecasts a real move shifted: one message per person
/// and destination, however many of their milestones moved, naming the first
/// [`SHIFT_PING_LIST`] of them and counting the rest. `owners` holds (milestone key, owner,
/// how its forecast moved). Returns how many people were told.
pub async fn notify_shifts(
    tx: &mut Tx,
    scope: &Scope,
    program: &Program,
    moved_key: &str,
    owners: &[(String, PersonId, String)],
    now: DateTime<Utc>,
    event_dedup: &str,
) -> anyhow::Result<usize> {
    let key = program.key.as_str();
    let routes = store::routes(tx, scope).await?;
    // Which project each moved milestone belongs to, for its route.
    let projects: HashMap<String, i64> = if routes.is_empty() {
        HashMap::new()
    } else {
        store::milestones(tx, scope)
            .await?
            .into_iter()
            .filter_map(|m| Some((m.key.as_str().to_owned(), m.project?)))
            .collect()
    };
    // (person, destination) → their shifted milestones, in the order the move listed them.
    let mut people: HashMap<PersonId, Person> = HashMap::new();
    type Group<'a> = ((PersonId, Destination), Vec<(&'a str, &'a str)>);
    let mut groups: Vec<Group> = Vec::new();
    let mut group_of: HashMap<(PersonId, Destination), usize> = HashMap::new();
    for (milestone, owner, words) in owners {
        if !people.contains_key(owner) {
            let person = store::person(tx, scope.tenant(), *owner).await?;
            people.insert(*owner, person);
        }
        let destination = match routes.for_project(projects.get(milestone).copied()) {
            Some(d) => d.clone(),
            None => Destination::for_person(scope.tenant(), &people[owner].handle),
        };
        let at = *group_of
            .entry((*owner, destination.clone()))
            .or_insert_with(|| {
                groups.push(((*owner, destination), Vec::new()));
                groups.len() - 1
            });
        groups[at].1.push((milestone.as_str(), words.as_str()));
    }
    let mut told: HashSet<PersonId> = HashSet::new();
    // A person's groups are numbered in order, so the same move queues the same keys.
    let mut nth: HashMap<PersonId, usize> = HashMap::new();
    for ((owner, destination), milestones) in groups {
        let person = &people[&owner];
        let n = nth.entry(owner).or_default();
        let dedup_key = format!("shift:{}:{event_dedup}:{owner}:{n}", program.id);
        *n += 1;
        let (reply, reason) = match milestones.as_slice() {
            [(milestone, words)] => (
                one_shifted(person, moved_key, milestone, words),
                one_shifted_reason(key, moved_key, milestone),
            ),
            many => (
                many_shifted(person, key, moved_key, many),
                many_shifted_reason(key, moved_key),
            ),
        };
        if store::enqueue(
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
        .is_some()
        {
            told.insert(owner);
        }
    }
    Ok(told.len())
}

/// One milestone of `owner`'s moved after `moved_key`; `words` say how its forecast moved.
pub fn one_shifted(owner: &Person, moved_key: &str, milestone: &str, words: &str) -> Reply {
    Reply::new(format!("{moved_key} moved: so does {milestone}"))
        .tone(Tone::Warning)
        .paragraph(
            Text::new()
                .person(owner)
                .text(", ")
                .code(milestone)
                .text(format!(" {words}.")),
        )
}

pub fn one_shifted_reason(program: &str, moved_key: &str, milestone: &str) -> String {
    format!(
        "You own milestone {milestone}, which comes after {moved_key}. `path show {program}` shows the critical path; `milestone move {program} {milestone} --target DATE --reason \"…\"` re-plans it."
    )
}

/// Several of `owner`'s milestones moved after `moved_key`: (milestone, how its forecast
/// moved), the first [`SHIFT_PING_LIST`] named and the rest counted.
pub fn many_shifted(
    owner: &Person,
    program: &str,
    moved_key: &str,
    milestones: &[(&str, &str)],
) -> Reply {
    let items = milestones
        .iter()
        .take(SHIFT_PING_LIST)
        .map(|(m, words)| Text::new().code(*m).text(format!(" {words}")))
        .collect();
    let mut reply = Reply::new(format!(
        "{moved_key} moved: so do {} of your milestones",
        milestones.len()
    ))
    .tone(Tone::Warning)
    .paragraph(Text::new().person(owner).text(format!(
        ", {} milestones you own come after {moved_key}, and their forecasts moved:",
        milestones.len()
    )))
    .list(items);
    if milestones.len() > SHIFT_PING_LIST {
        reply = reply.paragraph(format!(
            "… and {} more. `milestone list {program}` shows them all.",
            milestones.len() - SHIFT_PING_LIST
        ));
    }
    reply
}

pub fn many_shifted_reason(program: &str, moved_key: &str) -> String {
    format!(
        "You own milestones that come after {moved_key}. `path show {program}` shows the critical path; `milestone move {program} KEY --target DATE --reason \"…\"` re-plans one."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dana() -> Person {
        Person {
            id: 2,
            handle: "dana".into(),
            display_name: "Dana".into(),
            timezone: None,
            away_until: None,
            delegate: None,
            email: None,
        }
    }

    fn shown(reply: &Reply, reason: &str) -> String {
        format!("{}\nWhy: {reason}\n", crate::reply::text::render(reply))
    }

    #[test]
    fn one_milestone_moved() {
        let reply = one_shifted(
            &dana(),
            "beta",
            "ga",
            "is now forecast 2026-12-10 instead of 2026-12-03 (+7d)",
        );
        insta::assert_snapshot!(shown(&reply, &one_shifted_reason("atlas", "beta", "ga")));
    }

    #[test]
    fn many_milestones_moved_name_the_first_ten() {
        let keys: Vec<String> = (1..=12).map(|i| format!("m{i}")).collect();
        let moved: Vec<(&str, &str)> = keys
            .iter()
            .map(|k| {
                (
                    k.as_str(),
                    "is now forecast 2026-12-10 instead of 2026-12-09 (+1d)",
                )
            })
            .collect();
        let reply = many_shifted(&dana(), "atlas", "beta", &moved);
        let text = shown(&reply, &many_shifted_reason("atlas", "beta"));
        assert!(text.contains("`m10`") && !text.contains("`m11`"), "{text}");
        insta::assert_snapshot!(text);
    }
}
