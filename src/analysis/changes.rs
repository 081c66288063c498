//! "What changed since": the event log after an instant, read as the changes a reader cares
//! about. Names come from the payloads recorded with each event, so a renamed or removed item
//! still reads as it was.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use super::Snapshot;
use crate::domain::{Event, Rag};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Change {
    MilestoneAdded {
        key: String,
        target: Option<NaiveDate>,
    },
    MilestoneMoved {
        key: String,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        reason: String,
    },
    MilestoneDone {
        key: String,
    },
    MilestoneCancelled {
        key: String,
        reason: String,
    },
    DependencyCancelled {
        number: String,
        what: String,
        reason: String,
    },
    /// The provider answered a dependency request: `accepted` (with the committed date, if
    /// any), `proposed` (with the date) or `declined`, with their words.
    DependencyAnswered {
        number: String,
        what: String,
        agreement: String,
        on: Option<NaiveDate>,
        note: String,
    },
    /// An assumption, issue or action item was recorded.
    ItemAdded {
        record: String,
        number: String,
        title: String,
    },
    /// One was validated, invalidated, resolved or done, with its note.
    ItemClosed {
        record: String,
        number: String,
        title: String,
        state: String,
        note: String,
    },
    /// A decision's wording changed: which fields.
    DecisionEdited {
        number: String,
        what: Vec<String>,
    },
    /// Edited: what changed, in words ("title", "predecessors", "duration 5 → 3 days").
    MilestoneEdited {
        key: String,
        what: Vec<String>,
    },
    RiskOpened {
        number: String,
        title: String,
        score: Option<i64>,
    },
    RiskRescored {
        number: String,
        title: String,
        from: Option<i64>,
        to: Option<i64>,
    },
    RiskClosed {
        number: String,
        title: String,
    },
    RiskRealized {
        number: String,
        title: String,
    },
    DependencyAdded {
        number: String,
        what: String,
        need_by: Option<NaiveDate>,
    },
    DependencyChanged {
        number: String,
        what: String,
        from_state: String,
        to_state: String,
        from_need_by: Option<NaiveDate>,
        to_need_by: Option<NaiveDate>,
    },
    RiskChanged {
        number: String,
        title: String,
        from_state: String,
        to_state: String,
    },
    DependencyBlocked {
        number: String,
        what: String,
        reason: String,
    },
    DependencyUnblocked {
        number: String,
        what: String,
        blocked_days: Option<i64>,
    },
    DependencyDelivered {
        number: String,
        what: String,
    },
    HealthChanged {
        project: String,
        from: Option<Rag>,
        to: Rag,
    },
    DecisionLogged {
        number: String,
        title: String,
        outcome: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dated {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub change: Change,
}

impl Change {
    /// One line for a reader.
    pub fn describe(&self) -> String {
        fn date(d: &Option<NaiveDate>) -> String {
            d.map(|d| d.to_string()).unwrap_or_else(|| "?".into())
        }
        fn because(r: &str) -> String {
            if r.is_empty() {
                String::new()
            } else {
                format!(": {r}")
            }
        }
        match self {
            Change::MilestoneAdded { key, target } => {
                format!("milestone `{key}` added, target {}", date(target))
            }
            Change::MilestoneMoved {
                key,
                from,
                to,
                reason,
            } => {
                let days = match (from, to) {
                    (Some(a), Some(b)) => {
                        format!(" ({})", crate::domain::signed_days((*b - *a).num_days()))
                    }
                    _ => String::new(),
                };
                format!(
                    "`{key}` moved {} → {}{days}{}",
                    date(from),
                    date(to),
                    because(reason)
                )
            }
            Change::MilestoneDone { key } => format!("`{key}` done"),
            Change::MilestoneCancelled { key, reason } => {
                format!("`{key}` cancelled{}", because(reason))
            }
            Change::DependencyCancelled {
                number,
                what,
                reason,
            } => format!("dependency #{number} cancelled: {what}{}", because(reason)),
            Change::DependencyAnswered {
                number,
                what,
                agreement,
                on,
                note,
            } => {
                let on = on.map(|d| d.to_string()).unwrap_or_default();
                let head = match (agreement.as_str(), on.is_empty()) {
                    ("accepted", true) => format!("dependency #{number} accepted: {what}"),
                    ("accepted", false) => {
                        format!("dependency #{number} accepted: {what}, committed for {on}")
                    }
                    ("proposed", _) => {
                        format!("dependency #{number}: {what}, its provider proposes {on}")
                    }
                    (other, _) => format!("dependency #{number} {other}: {what}"),
                };
                format!("{head}{}", because(note))
            }
            Change::ItemAdded {
                record: kind,
                number,
                title,
            } if kind == "change" => format!("change #{number} proposed: {title}"),
            Change::ItemAdded {
                record: kind,
                number,
                title,
            } => format!("{kind} #{number} added: {title}"),
            Change::ItemClosed {
                record: kind,
                number,
                title,
                state,
                note,
            } => format!("{kind} #{number} {state}: {title}{}", because(note)),
            Change::DecisionEdited { number, what } => {
                format!("decision #{number} changed: {}", what.join(", "))
            }
            Change::MilestoneEdited { key, what } => {
                format!("`{key}` changed: {}", what.join(", "))
            }
            Change::RiskOpened {
                number,
                title,
                score,
            } => match score {
                Some(s) => format!("risk #{number} opened: {title} (score {s})"),
                None => format!("risk #{number} opened: {title}"),
            },
            Change::RiskRescored {
                number,
                title,
                from,
                to,
            } => format!(
                "risk #{number} rescored {} → {}: {title}",
                from.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
                to.map(|s| s.to_string()).unwrap_or_else(|| "?".into())
            ),
            Change::RiskClosed { number, title } => format!("risk #{number} closed: {title}"),
            Change::RiskRealized { number, title } => {
                format!("risk #{number} happened: {title}")
            }
            Change::DependencyAdded {
                number,
                what,
                need_by,
            } => format!(
                "dependency #{number} `{what}` added, needed by {}",
                date(need_by)
            ),
            Change::DependencyChanged {
                number,
                what,
                from_state,
                to_state,
                from_need_by,
                to_need_by,
            } => {
                let mut parts = Vec::new();
                if from_need_by != to_need_by {
                    parts.push(format!(
                        "need-by {} → {}",
                        date(from_need_by),
                        date(to_need_by)
                    ));
                }
                if from_state != to_state {
                    parts.push(format!("now {to_state}"));
                }
                if parts.is_empty() {
                    format!("dependency #{number} `{what}` updated")
                } else {
                    format!("dependency #{number} `{what}`: {}", parts.join(", "))
                }
            }
            Change::RiskChanged {
                number,
                title,
                from_state,
                to_state,
            } => {
                if from_state != to_state {
                    format!("risk #{number} is now {to_state}: {title}")
                } else {
                    format!("risk #{number} updated: {title}")
                }
            }
            Change::DependencyBlocked {
                number,
                what,
                reason,
            } => format!("dependency #{number} `{what}` blocked{}", because(reason)),
            Change::DependencyUnblocked {
                number,
                what,
                blocked_days,
            } => match blocked_days {
                Some(d) => format!(
                    "dependency #{number} `{what}` unblocked after {}",
                    crate::domain::n_days(*d)
                ),
                None => format!("dependency #{number} `{what}` unblocked"),
            },
            Change::DependencyDelivered { number, what } => {
                format!("dependency #{number} `{what}` delivered")
            }
            Change::HealthChanged { project, from, to } => match from {
                Some(f) => format!("{project} went {} → {}", f.as_str(), to.as_str()),
                // Whether there was an earlier report is not known here (an import, or
                // history before the period): say only what was reported.
                None => format!("{project} reported {}", to.as_str()),
            },
            Change::DecisionLogged {
                number,
                title,
                outcome,
            } if outcome.is_empty() => format!("decision #{number} needed: {title}"),
            Change::DecisionLogged {
                number,
                title,
                outcome,
            } => format!("decision #{number}: {title}{}", because(outcome)),
        }
    }
}

fn s(v: Option<&Value>, key: &str) -> String {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn date(v: Option<&Value>, key: &str) -> Option<NaiveDate> {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .and_then(|d| d.parse().ok())
}

fn int(v: Option<&Value>, key: &str) -> Option<i64> {
    v.and_then(|v| v.get(key)).and_then(Value::as_i64)
}

fn score(v: Option<&Value>) -> Option<i64> {
    Some(int(v, "likelihood")? * int(v, "impact")?).or_else(|| int(v, "score"))
}

/// The part of a subject after its kind: `milestone:api-beta` → `api-beta`.
fn id(subject: &str) -> String {
    subject
        .split_once(':')
        .map(|(_, k)| k)
        .unwrap_or(subject)
        .to_owned()
}

/// The changes in `events` (oldest first), in order. Several status updates to one project
/// collapse to one health change from the first colour to the last, and none when they agree.
/// Only events after `after` count. Names missing from older payloads come from the snapshot.
pub fn since(events: &[Event], after: DateTime<Utc>, snap: &Snapshot) -> Vec<Dated> {
    // Indexed once, so older payloads without names cost a lookup, not a scan.
    let what_by_number: HashMap<String, &str> = snap
        .deps
        .iter()
        .map(|d| (d.number.to_string(), d.what.as_str()))
        .collect();
    let name_by_key: HashMap<&str, &str> = snap
        .projects
        .iter()
        .map(|p| (p.key.as_str(), p.name.as_str()))
        .collect();
    let dep_what = |number: &str| -> String {
        what_by_number
            .get(number)
            .map(|w| (*w).to_owned())
            .unwrap_or_default()
    };
    let or = |given: String, fallback: &dyn Fn() -> String| {
        if given.is_empty() {
            fallback()
        } else {
            given
        }
    };
    let mut out = Vec::new();
    // project key → (index in `out`, the colour before the window)
    let mut health: HashMap<String, (usize, Option<Rag>)> = HashMap::new();
    for e in events.iter().filter(|e| e.at > after) {
        let (b, a) = (e.before.as_ref(), e.after.as_ref());
        let subject = id(&e.subject);
        let change = match e.kind.as_str() {
            "milestone.added" => Change::MilestoneAdded {
                key: subject,
                target: date(a, "target"),
            },
            "milestone.moved" => Change::MilestoneMoved {
                key: subject,
                from: date(b, "target"),
                to: date(a, "target"),
                reason: s(a, "reason"),
            },
            "milestone.done" => Change::MilestoneDone { key: subject },
            "milestone.edited" => Change::MilestoneEdited {
                key: subject,
                what: a
                    .and_then(|a| a.get("changed"))
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            "milestone.cancelled" => Change::MilestoneCancelled {
                key: subject,
                reason: s(a, "reason"),
            },
            "risk.opened" => Change::RiskOpened {
                number: subject,
                title: s(a, "title"),
                score: score(a),
            },
            "risk.rescored" => Change::RiskRescored {
                number: subject,
                title: s(a, "title"),
                from: score(b),
                to: score(a),
            },
            "risk.closed" => Change::RiskClosed {
                number: subject,
                title: s(b, "title"),
            },
            "risk.realized" => Change::RiskRealized {
                number: subject,
                title: s(b, "title"),
            },
            "dep.added" => Change::DependencyAdded {
                what: s(a, "what"),
                need_by: date(a, "need_by"),
                number: subject,
            },
            "dep.updated" => Change::DependencyChanged {
                what: s(a, "what"),
                from_state: s(b, "state"),
                to_state: s(a, "state"),
                from_need_by: date(b, "need_by"),
                to_need_by: date(a, "need_by"),
                number: subject,
            },
            "risk.updated" => Change::RiskChanged {
                title: s(a, "title"),
                from_state: s(b, "state"),
                to_state: s(a, "state"),
                number: subject,
            },
            "dep.blocked" => Change::DependencyBlocked {
                what: or(s(a, "what"), &|| dep_what(&subject)),
                number: subject,
                reason: s(a, "reason"),
            },
            "dep.unblocked" => Change::DependencyUnblocked {
                what: or(s(a, "what"), &|| dep_what(&subject)),
                number: subject,
                blocked_days: int(a, "blocked_days"),
            },
            "dep.cancelled" => Change::DependencyCancelled {
                what: or(s(a, "what"), &|| dep_what(&subject)),
                number: subject,
                reason: s(a, "reason"),
            },
            "dep.accepted" | "dep.proposed" | "dep.declined" => Change::DependencyAnswered {
                what: or(s(a, "what"), &|| dep_what(&subject)),
                number: subject,
                agreement: s(a, "agreement"),
                on: date(a, "proposed_on").or(date(a, "committed_on")),
                note: s(a, "note"),
            },
            "assumption.added" | "issue.added" | "action.added" | "change.proposed"
            | "readiness.added" => Change::ItemAdded {
                record: e.kind.split('.').next().unwrap_or_default().to_owned(),
                number: subject,
                title: s(a, "title"),
            },
            "assumption.validated"
            | "assumption.invalidated"
            | "issue.resolved"
            | "action.done"
            | "change.approved"
            | "change.rejected"
            | "readiness.checked"
            | "readiness.unchecked" => {
                let (kind, state) = e.kind.split_once('.').unwrap_or_default();
                Change::ItemClosed {
                    record: kind.to_owned(),
                    number: subject,
                    title: s(a, "title"),
                    state: state.to_owned(),
                    note: or(s(a, "note"), &|| s(a, "reason")),
                }
            }
            "decision.edited" => Change::DecisionEdited {
                number: subject,
                what: a
                    .and_then(|a| a.get("changed"))
                    .and_then(Value::as_array)
                    .map(|l| {
                        l.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            "dep.delivered" => Change::DependencyDelivered {
                what: or(s(a, "what"), &|| dep_what(&subject)),
                number: subject,
            },
            "decision.logged" | "decision.decided" => Change::DecisionLogged {
                number: subject,
                title: s(a, "title"),
                outcome: s(a, "outcome"),
            },
            "status.posted" => {
                let Some(to) = a
                    .and_then(|a| a.get("rag"))
                    .and_then(Value::as_str)
                    .and_then(|r| Rag::parse(r).ok())
                else {
                    continue;
                };
                let name = name_by_key
                    .get(subject.as_str())
                    .map(|n| (*n).to_owned())
                    .unwrap_or_else(|| subject.clone());
                match health.get(&subject) {
                    Some(&(i, from)) => {
                        out[i] = Dated {
                            at: e.at,
                            change: Change::HealthChanged {
                                project: name,
                                from,
                                to,
                            },
                        };
                    }
                    None => {
                        let from = b
                            .and_then(|b| b.get("rag"))
                            .and_then(Value::as_str)
                            .and_then(|r| Rag::parse(r).ok());
                        health.insert(subject, (out.len(), from));
                        out.push(Dated {
                            at: e.at,
                            change: Change::HealthChanged {
                                project: name,
                                from,
                                to,
                            },
                        });
                    }
                }
                continue;
            }
            _ => continue,
        };
        out.push(Dated { at: e.at, change });
    }
    out.retain(|d| !matches!(d.change, Change::HealthChanged { from, to, .. } if from == Some(to)));
    out
}
