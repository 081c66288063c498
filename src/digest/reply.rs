//! A digest as a platform-neutral reply. Digests name owners but ping no one: names are plain
//! text here, and pings come from nudges and reminders. Long sections stop at a cap with a
//! "… and N more" line that names the command showing the rest, so nothing is dropped
//! without saying where it is.

use super::*;
use crate::domain::n_days;
use crate::reply::{Reply, Text, Tone};

/// Items per section before "… and N more".
const ENGINEERING_CAP: usize = 25;
const PRODUCT_CAP: usize = 40;
const EXEC_MILESTONES: usize = 5;
const EXEC_REASONS: usize = 3;
const EXEC_HELP: usize = 5;

fn name(m: &Option<Mention>) -> String {
    Mention::plain(m.as_ref())
}

fn more(n: usize, cmd: String) -> Text {
    Text::plain(format!("… and {n} more: ")).code(cmd)
}

/// Caps a list, adding the "… and N more" line when it cut.
fn capped(mut items: Vec<Text>, cap: usize, cmd: impl FnOnce() -> String) -> Vec<Text> {
    if items.len() > cap {
        let rest = items.len() - cap;
        items.truncate(cap);
        items.push(more(rest, cmd()));
    }
    items
}

fn float(days: Option<i64>) -> String {
    match days {
        Some(0) => "0".into(),
        Some(d) => format!("{d:+}"),
        None => "".into(),
    }
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn milestone_rows(ms: &[MilestoneLine], cap: usize, program: &str) -> Vec<Vec<Text>> {
    let mut rows: Vec<Vec<Text>> = ms
        .iter()
        .take(cap)
        .map(|m| {
            let key = if m.critical {
                Text::new().code(&m.key).text(" ◆")
            } else {
                Text::new().code(&m.key)
            };
            vec![
                key,
                Text::plain(&m.title),
                Text::plain(name(&m.owner)),
                Text::new().date(m.target),
                Text::plain(date(m.forecast)),
                Text::plain(float(m.float_days)),
            ]
        })
        .collect();
    if ms.len() > cap {
        rows.push(vec![
            more(ms.len() - cap, format!("milestone list {program}")),
            Text::new(),
            Text::new(),
            Text::new(),
            Text::new(),
            Text::new(),
        ]);
    }
    rows
}

const MILESTONE_COLUMNS: [&str; 6] = ["Milestone", "Title", "Owner", "Target", "Forecast", "Float"];

fn risk_item(r: &RiskLine) -> Text {
    let mut t = Text::new()
        .strong(format!("#{} {}", r.number, r.title))
        .text(format!(
            " ({}, score {}) owner {}",
            r.band.as_str(),
            r.score,
            name(&r.owner)
        ));
    if !r.mitigation.trim().is_empty() {
        t = t.text(format!("; mitigation: {}", r.mitigation.trim()));
    }
    if let Some(by) = r.review_by {
        t = t.text(if r.review_overdue {
            format!("; review overdue since {by}")
        } else {
            format!("; review by {by}")
        });
    }
    t
}

fn dep_item(d: &DepLine) -> Text {
    let state = match (d.state, d.blocked_days) {
        (DepState::Blocked, Some(0)) => "blocked since today".to_owned(),
        (DepState::Blocked, Some(n)) => format!("blocked for {}", n_days(n)),
        (s, _) => s.as_str().to_owned(),
    };
    let mut t = Text::new()
        .strong(format!("#{} {}", d.number, d.what))
        .text(format!(
            " from {} for {}, due {}: {state}",
            d.from, d.needed_by, d.need_by
        ));
    if d.days_late > 0 {
        t = t.text(format!(", {} late", n_days(d.days_late)));
    }
    if let Some(a) = d.arrives_late {
        t = t.text(format!(
            ", arrives {a}, {} after it is needed",
            n_days((a - d.need_by).num_days())
        ));
    }
    if let Some(r) = &d.blocked_reason {
        t = t.text(format!(" ({r})"));
    }
    t = t.text(format!("; owner {}", name(&d.owner)));
    if !d.delays.is_empty() {
        t = t.text("; delays ");
        for (i, k) in d.delays.iter().enumerate() {
            if i > 0 {
                t = t.text(", ");
            }
            t = t.code(k);
        }
    }
    t
}

fn path_item(p: &PathStep) -> Text {
    Text::new().code(&p.name).text(format!(
        " {}: forecast {} (target {}, float {}) owner {}",
        p.title,
        p.forecast,
        date(p.target),
        float(p.float_days),
        name(&p.owner)
    ))
}

fn rag_badge(r: Rag) -> Tone {
    Tone::Health(r)
}

/// The period in words: "2026-11-20 to 2026-11-27".
fn period(d: &Digest) -> String {
    format!("{} to {}", d.period.first_day, d.today)
}

pub fn to_reply(d: &Digest) -> Reply {
    let key = d.program.key.as_str();
    let title = format!(
        "{}: {} digest, {}",
        d.program.name,
        d.audience.as_str(),
        period(d)
    );
    if d.audience == Audience::Executive {
        return executive(d, title);
    }
    let mut r = Reply::new(title).tone(rag_badge(d.health.rag));
    if let Some(note) = &d.note {
        r = r.paragraph(Text::plain(note));
    }
    let cap = match d.audience {
        Audience::Engineering => ENGINEERING_CAP,
        Audience::Executive => EXEC_REASONS,
        Audience::Product => PRODUCT_CAP,
    };

    // Health and why: every audience.
    let mut head = Text::new().text("Overall ").rag(d.health.rag);
    if d.health.why.is_empty() {
        head = head.text(": nothing is off track.");
    }
    r = r.paragraph(head);
    if !d.health.why.is_empty() {
        let why = d.health.why.iter().map(|w| Text::marked(w)).collect();
        r = r.list(capped(why, cap, || {
            format!("digest show {key} --audience engineering")
        }));
    }

    match d.audience {
        Audience::Engineering => {
            let rows = d
                .health
                .projects
                .iter()
                .map(|p| {
                    // The first reason (its colour's weightiest), and how many more of
                    // every colour: the JSON and the status report have them all.
                    let why = match p.reasons.len() {
                        0 => String::new(),
                        1 => p.reasons[0].text.clone(),
                        n => format!("{} (and {} more)", p.reasons[0].text, n - 1),
                    };
                    vec![
                        Text::plain(&p.name),
                        Text::new().rag(p.rag),
                        Text::plain(name(&p.owner)),
                        Text::marked(&why),
                    ]
                })
                .collect::<Vec<_>>();
            if !rows.is_empty() {
                r = r
                    .heading("Projects")
                    .table(&["Project", "Health", "Owner", "Why"], rows);
            }
            if let Some(changes) = &d.changes {
                r = r.heading(format!("Changes since {}", d.period.first_day));
                r = if changes.is_empty() {
                    r.paragraph("No changes in this period.")
                } else {
                    let items = changes
                        .iter()
                        .map(|c| Text::marked(&c.change.describe()))
                        .collect();
                    r.list(capped(items, cap, || format!("report status {key}")))
                };
            }
            if let Some(ms) = &d.milestones {
                for (label, list) in [
                    ("Upcoming milestones (next two weeks)", &ms.upcoming),
                    ("Slipped this period", &ms.slipped),
                    ("Completed this period", &ms.completed),
                ] {
                    if !list.is_empty() {
                        r = r
                            .heading(label)
                            .table(&MILESTONE_COLUMNS, milestone_rows(list, cap, key));
                    }
                }
            }
            if let Some(path) = &d.critical_path {
                if !path.is_empty() {
                    let items = path.iter().map(path_item).collect();
                    r = r
                        .heading("Critical path")
                        .list(capped(items, cap, || format!("path show {key}")));
                }
            }
            if let Some(deps) = &d.dependencies {
                r = r.heading("Blocked and overdue dependencies");
                r = if deps.is_empty() {
                    r.paragraph("None.")
                } else {
                    let items = deps.iter().map(dep_item).collect();
                    r.list(capped(items, cap, || format!("dep list {key}")))
                };
            }
            r = r.heading("Top risks");
            r = if d.risks.is_empty() {
                r.paragraph("No open risks.")
            } else {
                let items = d.risks.iter().map(risk_item).collect();
                r.list(capped(items, 10, || format!("risk list {key}")))
            };
            if let Some(reviews) = d.overdue_reviews.as_ref().filter(|v| !v.is_empty()) {
                let items = reviews.iter().map(risk_item).collect();
                r = r
                    .heading("Risk reviews overdue")
                    .list(capped(items, cap, || format!("risk list {key}")));
            }
            if let Some(calls) = &d.roll_call {
                let missing = calls
                    .iter()
                    .filter(|c| matches!(c.answer, Answer::Missing | Answer::Stale))
                    .count();
                let rows: Vec<Vec<Text>> = calls
                    .iter()
                    .map(|c| {
                        vec![
                            Text::plain(&c.project),
                            Text::plain(name(&c.owner)),
                            Text::plain(match c.answer {
                                Answer::Posted => "posted",
                                Answer::Earlier => "earlier",
                                Answer::Stale => "stale",
                                Answer::Missing => "missing",
                            }),
                            match c.rag {
                                Some(rag) => Text::new().rag(rag),
                                None => Text::new(),
                            },
                            Text::plain(date(c.posted_on)),
                        ]
                    })
                    .collect();
                if !rows.is_empty() {
                    r = r
                        .heading(format!(
                            "Status roll call ({missing} missing or stale of {})",
                            calls.len()
                        ))
                        .table(&["Project", "Owner", "Update", "RAG", "Posted"], rows);
                }
            }
            if let Some(ds) = d.decisions_needed.as_ref().filter(|v| !v.is_empty()) {
                let items = ds
                    .iter()
                    .map(|x| {
                        Text::new()
                            .strong(format!("#{} {}", x.number, x.title))
                            .text(format!(
                                " raised by {} on {}",
                                name(&x.decided_by),
                                x.decided_on
                            ))
                    })
                    .collect();
                r = r
                    .heading("Decisions needed")
                    .list(capped(items, cap, || format!("decision list {key}")));
            }
            if let Some(teams) = d.scorecard.as_ref().filter(|v| !v.is_empty()) {
                let rows = teams
                    .iter()
                    .map(|t| {
                        vec![
                            Text::plain(&t.team),
                            Text::plain(match t.say_do() {
                                Some(x) => format!(
                                    "{:.0}% ({}/{})",
                                    x * 100.0,
                                    t.done_on_time,
                                    t.committed
                                ),
                                None => "–".into(),
                            }),
                            Text::plain(
                                t.mean_slip_days
                                    .map(|v| format!("{v:.1}"))
                                    .unwrap_or_else(|| "–".into()),
                            ),
                            Text::plain(t.blocker_days_caused.to_string()),
                            Text::plain(t.blocker_days_suffered.to_string()),
                        ]
                    })
                    .collect();
                r = r
                    .heading(format!(
                        "Delivery this month (last {SCORECARD_WEEKS} weeks)"
                    ))
                    .table(
                        &[
                            "Team",
                            "Say/do",
                            "Mean slip (days)",
                            "Blocker-days caused",
                            "Blocker-days suffered",
                        ],
                        rows,
                    )
                    .paragraph(
                        Text::plain("Time to unblock and updates: ")
                            .code(format!("report scorecard {key}")),
                    );
            }
            if let Some(ds) = d.decisions.as_ref().filter(|v| !v.is_empty()) {
                let items = ds
                    .iter()
                    .map(|x| {
                        Text::new()
                            .strong(format!("#{} {}", x.number, x.title))
                            .text(format!(
                                ": {} ({}, {})",
                                x.outcome,
                                name(&x.decided_by),
                                x.decided_on
                            ))
                    })
                    .collect();
                r = r
                    .heading("Decisions")
                    .list(capped(items, cap, || format!("decision list {key}")));
            }
        }
        // Written apart: see [`executive`].
        Audience::Executive => {}
        Audience::Product => {
            if let Some(ready) = &d.readiness {
                let mut t = Text::plain(format!(
                    "{} of {} milestones done.",
                    ready.milestones_done, ready.milestones_total
                ));
                if let Some(l) = &ready.launch {
                    t = t.text(" Launch ").code(&l.key).text(format!(
                        " ({}): target {}, forecast {}, float {}.",
                        l.title,
                        l.target,
                        date(l.forecast),
                        float(l.float_days)
                    ));
                }
                r = r.heading("Launch readiness").paragraph(t);
                if let Some(g) = &ready.gate {
                    let done = ready
                        .checklist
                        .iter()
                        .filter(|c| c.checked_on.is_some())
                        .count();
                    let mut head = Text::plain("Checklist for ").code(&g.key).text(format!(
                        " ({}): {done} of {} done.",
                        g.title,
                        ready.checklist.len()
                    ));
                    if ready.checklist.is_empty() {
                        head = Text::plain("No checklist for ")
                            .code(&g.key)
                            .text(format!(" ({}) yet: ", g.title));
                        head = head.code(format!(
                            "readiness add {key} \"…\" --owner @someone --milestone {}",
                            g.key
                        ));
                    }
                    r = r.paragraph(head);
                    let items: Vec<Text> = ready
                        .checklist
                        .iter()
                        .map(|c| {
                            let mut t = Text::plain(format!(
                                "{} #{} {}",
                                if c.checked_on.is_some() { "✓" } else { "☐" },
                                c.number,
                                c.title
                            ));
                            t = match (c.checked_on, &c.owner) {
                                (Some(on), _) => t.text(format!(", done {on}")),
                                (None, Some(o)) => t.text(format!(", {}", name(&Some(o.clone())))),
                                (None, None) => t,
                            };
                            if let (None, Some(due)) = (c.checked_on, c.due) {
                                t = t.text(format!(", due {due}"));
                            }
                            t
                        })
                        .collect();
                    if !items.is_empty() {
                        r = r.list(capped(items, PRODUCT_CAP, || {
                            format!("readiness show {key}")
                        }));
                    }
                }
            }
            if let Some(dates) = d.dates.as_ref().filter(|v| !v.is_empty()) {
                let mut rows: Vec<Vec<Text>> = dates
                    .iter()
                    .take(PRODUCT_CAP)
                    .map(|m| {
                        vec![
                            Text::new().code(&m.key),
                            Text::plain(&m.title),
                            Text::new().date(m.baseline),
                            Text::new().date(m.target),
                            Text::plain(date(m.forecast)),
                            Text::plain(if m.slipped_days == 0 {
                                String::new()
                            } else {
                                crate::domain::signed_days(m.slipped_days)
                            }),
                        ]
                    })
                    .collect();
                if dates.len() > PRODUCT_CAP {
                    rows.push(vec![
                        more(dates.len() - PRODUCT_CAP, format!("milestone list {key}")),
                        Text::new(),
                        Text::new(),
                        Text::new(),
                        Text::new(),
                        Text::new(),
                    ]);
                }
                r = r.heading("Dates").table(
                    &[
                        "Milestone",
                        "Title",
                        "Baseline",
                        "Target",
                        "Forecast",
                        "Moved",
                    ],
                    rows,
                );
            }
            if let Some(changes) = d.changes.as_ref().filter(|v| !v.is_empty()) {
                let items = changes
                    .iter()
                    .map(|c| Text::marked(&c.change.describe()))
                    .collect();
                r = r
                    .heading("Date changes")
                    .list(capped(items, cap, || format!("report status {key}")));
            }
            r = r.heading("Risks to customers");
            r = if d.risks.is_empty() {
                r.paragraph("None open.")
            } else {
                let items = d
                    .risks
                    .iter()
                    .map(|x| {
                        let impact = if x.customer_impact.trim().is_empty() {
                            "impact not described".to_owned()
                        } else {
                            x.customer_impact.trim().to_owned()
                        };
                        Text::new()
                            .strong(format!("#{} {}", x.number, x.title))
                            .text(format!(" ({}): {impact}", x.band.as_str()))
                    })
                    .collect();
                r.list(capped(items, cap, || format!("risk list {key}")))
            };
        }
    }
    r
}

/// The executive digest: one screen for a VP. The TPM's note leads; then the headline (health
/// against last period, the end date against its target, what changed), why, the key
/// milestones, the asks with who and by when, and the top three risks. Plain words only: no
/// command, no code formatting, names without pings.
fn executive(d: &Digest, title: String) -> Reply {
    let mut r = Reply::new(title).tone(rag_badge(d.health.rag));
    if let Some(note) = &d.note {
        r = r.paragraph(Text::plain(bare(note)));
    }
    let mut head = Text::new().text("Overall ").rag(d.health.rag);
    head = match d.was {
        Some(was) if was == d.health.rag => head.text(", as last period."),
        Some(was) => head.text(", was ").rag(was).text("."),
        None => head.text("."),
    };
    if let Some(end) = &d.end {
        let when = match end.forecast {
            Some(f) if end.days_late > 0 => format!(
                " {} is forecast for {f}, {} after its target of {}.",
                end.title,
                n_days(end.days_late),
                end.target
            ),
            Some(f) if end.days_late < 0 => format!(
                " {} is forecast for {f}, {} ahead of its target of {}.",
                end.title,
                n_days(-end.days_late),
                end.target
            ),
            Some(f) => format!(" {} is forecast for {f}, on its target.", end.title),
            None => format!(" {} is due {}.", end.title, end.target),
        };
        head = head.text(when);
        if end.target != end.baseline {
            head = head.text(format!(" (The first commitment was {}.)", end.baseline));
        }
    }
    r = r.paragraph(head);
    if let Some(changed) = &d.what_changed {
        r = r.paragraph(if changed.is_empty() {
            "This period: no dates moved and nothing new was raised.".to_owned()
        } else {
            format!("This period: {}.", changed.join("; "))
        });
    }
    if !d.health.why.is_empty() {
        let mut why: Vec<Text> = d
            .health
            .why
            .iter()
            .take(EXEC_REASONS)
            .map(|w| Text::plain(bare(w)))
            .collect();
        if d.health.why.len() > EXEC_REASONS {
            let n = d.health.why.len() - EXEC_REASONS;
            why.push(Text::plain(format!(
                "and {n} more {} in the engineering digest",
                if n == 1 { "reason" } else { "reasons" }
            )));
        }
        r = r.list(why);
    }
    if let Some(ms) = d.key_milestones.as_ref().filter(|v| !v.is_empty()) {
        let rows = ms
            .iter()
            .take(EXEC_MILESTONES)
            .map(|m| {
                let late = m.forecast.map(|f| (f - m.target).num_days()).unwrap_or(0);
                vec![
                    Text::plain(bare(&m.title)),
                    Text::new().date(m.target),
                    Text::plain(date(m.forecast)),
                    Text::plain(if late > 0 {
                        format!("{} late", n_days(late))
                    } else if m.critical {
                        "on track, no slack".to_owned()
                    } else {
                        "on track".to_owned()
                    }),
                ]
            })
            .collect();
        r = r
            .heading("Key milestones")
            .table(&["Milestone", "Target", "Forecast", "Status"], rows);
        if ms.len() > EXEC_MILESTONES {
            let n = ms.len() - EXEC_MILESTONES;
            r = r.paragraph(format!(
                "and {n} more {} in the engineering digest",
                if n == 1 { "milestone" } else { "milestones" }
            ));
        }
    }
    if let Some(asks) = &d.asks {
        r = r.heading("Asks");
        r = if asks.is_empty() {
            r.paragraph("Nothing is needed from leadership this period.")
        } else {
            let mut items: Vec<Text> = asks.iter().take(EXEC_HELP).map(ask_text).collect();
            if asks.len() > EXEC_HELP {
                let n = asks.len() - EXEC_HELP;
                items.push(Text::plain(format!(
                    "and {n} more {} in the engineering digest",
                    if n == 1 { "ask" } else { "asks" }
                )));
            }
            r.list(items)
        };
    }
    r = r.heading("Top risks");
    r = if d.risks.is_empty() {
        r.paragraph("No open risks.")
    } else {
        let mut items: Vec<Text> = d
            .risks
            .iter()
            .map(|x| {
                let mut t = Text::plain(format!(
                    "{} ({}, score {})",
                    bare(&x.title),
                    x.band.as_str(),
                    x.score
                ));
                if x.owner.is_some() {
                    t = t.text(format!(", owner {}", name(&x.owner)));
                }
                if !x.mitigation.trim().is_empty() {
                    t = t.text(format!("; mitigation: {}", bare(x.mitigation.trim())));
                }
                t
            })
            .collect();
        if d.open_risks > d.risks.len() {
            let n = d.open_risks - d.risks.len();
            items.push(Text::plain(format!(
                "and {n} more open {}",
                if n == 1 { "risk" } else { "risks" }
            )));
        }
        r.list(items)
    };
    r
}

/// One ask in plain words: "… needs a decision from Dana by DATE", or "… — Dana, by DATE".
pub(super) fn ask_text(x: &Ask) -> Text {
    let mut t = Text::plain(&x.what);
    if x.decision {
        t = t.text(": needs a decision");
        if let Some(w) = &x.who {
            t = t.text(format!(" from {}", Mention::plain(Some(w))));
        }
        if let Some(by) = x.by {
            t = t.text(format!(" by {by}"));
        }
        return t;
    }
    match (&x.who, x.by) {
        (Some(w), Some(by)) => t.text(format!(" — {}, by {by}", Mention::plain(Some(w)))),
        (Some(w), None) => t.text(format!(" — {}", Mention::plain(Some(w)))),
        (None, Some(by)) => t.text(format!(" — by {by}")),
        (None, None) => t,
    }
}
