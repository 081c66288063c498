//! A large synthetic program, generated straight through the store: the input of the digest
//! benchmark and of the platform-limit tests. Deterministic (a fixed-seed xorshift), so a
//! failure can be reproduced. Its text is long and hostile on purpose: titles near the
//! limits, and strings that would ping everyone if a renderer let them.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::domain::{
    Days, Decision, DepState, Dependency, Endpoint, Key, Level, MilestoneState, Prose, Rag, Risk,
    RiskState, Slip, StatusUpdate, Tenant, Timezone, Title,
};
use crate::store::{self, NewEvent, NewMilestone, NewProgram, Store};

/// How big a program to generate.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub projects: usize,
    pub milestones: usize,
    pub dependencies: usize,
    pub risks: usize,
    /// Weekly status updates per project.
    pub weeks: usize,
    pub events: usize,
}

impl Size {
    /// The benchmark's program: 200 projects, 2,000 milestones, 5,000 dependencies,
    /// 1,000 risks, a year of weekly updates and 20,000 events.
    pub const FULL: Size = Size {
        projects: 200,
        milestones: 2_000,
        dependencies: 5_000,
        risks: 1_000,
        weeks: 52,
        events: 20_000,
    };

    /// One tenth of [`Size::FULL`] (the year of updates stays a year).
    pub const TENTH: Size = Size {
        projects: 20,
        milestones: 200,
        dependencies: 500,
        risks: 100,
        weeks: 52,
        events: 2_000,
    };
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn days(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

const HOSTILE: &str = "@everyone <@&123> <!channel> <!here> @here";

fn text(rng: &mut Rng, what: &str, n: usize, long: usize) -> String {
    // One in ten is long, and one in fifty is hostile.
    let base = format!("{what} {n}");
    match rng.below(50) {
        0 => format!("{base} {HOSTILE}"),
        1..=5 => {
            let mut s = base;
            while s.chars().count() + 12 < long {
                s.push_str(" and further");
            }
            s
        }
        _ => base,
    }
}

fn key(s: &str) -> anyhow::Result<Key> {
    Key::parse(s).map_err(|e| anyhow::anyhow!(e.0))
}

fn title(s: &str) -> anyhow::Result<Title> {
    Title::parse(s).map_err(|e| anyhow::anyhow!(e.0))
}

/// Generates program `program_key` in `tenant`, as seen at `now`, in one transaction.
pub async fn generate(
    store: &Store,
    tenant: &Tenant,
    program_key: &str,
    size: Size,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut tx = store.write().await?;
    let today: NaiveDate = now.date_naive();
    let mut people = Vec::new();
    for i in 0..(size.projects + 20) {
        // Discord-shaped ids, so renderers take them for real users.
        let handle = format!("{}", 100_000_000_000_000_000u64 + i as u64);
        people.push(
            store::ensure_person(&mut tx, tenant, &handle, &format!("Person {i}"))
                .await?
                .id,
        );
    }
    let (scope, _) = store::insert_program(
        &mut tx,
        tenant,
        NewProgram {
            key: &key(program_key)?,
            name: &title(&format!("Large program {program_key}"))?,
            owner: people[0],
            timezone: Timezone::parse("Europe/Berlin").map_err(|e| anyhow::anyhow!(e.0))?,
            staleness_days: 8,
            created_at: now - Duration::days(380),
        },
    )
    .await?;

    let mut projects = Vec::new();
    for p in 0..size.projects {
        let name = text(&mut rng, "Team", p, 190);
        let pr = store::insert_project(
            &mut tx,
            &scope,
            &key(&format!("p{p:03}"))?,
            &title(&name)?,
            people[p % people.len()],
        )
        .await?;
        projects.push(pr);
    }

    // Milestones: a chain per project, with cross-project edges to earlier milestones, so
    // every edge runs from a lower index to a higher one and the graph is a DAG.
    let per_project = (size.milestones / size.projects.max(1)).max(1);
    let mut milestones: Vec<(i64, NaiveDate, String)> = Vec::new();
    for i in 0..size.milestones {
        let p = i / per_project % size.projects.max(1);
        let step = (i % per_project) as i64;
        let baseline = today + Duration::days(-120 + step * 21 + rng.days(0, 20));
        let moved = rng.below(4) == 0;
        let target = if moved {
            baseline + Duration::days(rng.days(1, 30))
        } else {
            baseline
        };
        let state = if target < today - Duration::days(10) && rng.below(5) > 0 {
            MilestoneState::Done
        } else if rng.below(50) == 0 {
            MilestoneState::Cancelled
        } else {
            MilestoneState::Planned
        };
        let k = format!("p{p:03}-m{step:02}-{i}");
        let t = text(&mut rng, "Milestone", i, 200);
        let id = store::insert_milestone(
            &mut tx,
            &scope,
            NewMilestone {
                key: &key(&k)?,
                title: &title(&t)?,
                project: Some(projects[p].id),
                owner: (rng.below(3) == 0).then(|| people[rng.below(people.len())]),
                baseline,
                target,
                duration: Some(Days::new(rng.days(0, 10)).map_err(|e| anyhow::anyhow!(e.0))?),
                duration_unit: crate::domain::DurationUnit::Work,
                state,
                completed_on: (state == MilestoneState::Done).then_some(target),
                is_key: step == 0 && i % 10 == 0,
            },
        )
        .await?;
        if step > 0 {
            store::add_milestone_edge(&mut tx, &scope, milestones[i - 1].0, id).await?;
        }
        if i > per_project && rng.below(3) == 0 {
            let pred = milestones[rng.below(i - per_project)].0;
            store::add_milestone_edge(&mut tx, &scope, pred, id).await?;
        }
        if moved {
            store::insert_slip(
                &mut tx,
                &scope,
                &Slip {
                    milestone: id,
                    from: baseline,
                    to: target,
                    reason: text(&mut rng, "Slipped because of finding", i, 400),
                    actor: Some(people[0]),
                    at: now - Duration::days(rng.days(0, 60)),
                },
            )
            .await?;
        }
        milestones.push((id, target, k));
    }

    for n in 0..size.dependencies {
        let consumer = 1 + rng.below(milestones.len().saturating_sub(1).max(1));
        let consumer = consumer.min(milestones.len() - 1);
        let needs = Endpoint::Milestone(milestones[consumer].0);
        let from = match rng.below(10) {
            0 => Endpoint::External(text(&mut rng, "Vendor", n, 150)),
            1..=2 => Endpoint::Project(projects[rng.below(projects.len())].id),
            _ => Endpoint::Milestone(milestones[rng.below(consumer)].0),
        };
        let state = match rng.below(10) {
            0..=3 => DepState::Delivered,
            4..=5 => DepState::Blocked,
            6 => DepState::AtRisk,
            _ => DepState::Open,
        };
        let need_by = today + Duration::days(rng.days(-40, 60));
        store::insert_dependency(
            &mut tx,
            &scope,
            &Dependency {
                id: 0,
                number: 0,
                needs,
                from,
                what: title(&text(&mut rng, "Deliverable", n, 200))?,
                need_by,
                owner: Some(people[rng.below(people.len())]),
                state,
                blocked_since: (state == DepState::Blocked)
                    .then(|| now - Duration::days(rng.days(0, 30))),
                blocked_reason: (state == DepState::Blocked)
                    .then(|| text(&mut rng, "Waiting on review", n, 300)),
                delivered_on: (state == DepState::Delivered).then_some(need_by),
                cancel_reason: None,
                agreement: crate::domain::Agreement::Accepted,
                committed_on: None,
                proposed_on: None,
                agreement_note: None,
                requested_at: None,
            },
        )
        .await?;
    }

    for n in 0..size.risks {
        let state = match rng.below(10) {
            0..=5 => RiskState::Open,
            6..=7 => RiskState::Mitigating,
            8 => RiskState::Closed,
            _ => RiskState::Realized,
        };
        store::insert_risk(
            &mut tx,
            &scope,
            &Risk {
                id: 0,
                number: 0,
                project: (rng.below(5) > 0).then(|| projects[rng.below(projects.len())].id),
                title: title(&text(&mut rng, "Risk", n, 200))?,
                likelihood: Level::new(1 + rng.below(5) as i64)
                    .map_err(|e| anyhow::anyhow!(e.0))?,
                impact: Level::new(1 + rng.below(5) as i64).map_err(|e| anyhow::anyhow!(e.0))?,
                owner: Some(people[rng.below(people.len())]),
                mitigation: text(&mut rng, "Mitigate by", n, 1000),
                customer_impact: if rng.below(3) == 0 {
                    text(&mut rng, "Customers see", n, 500)
                } else {
                    String::new()
                },
                review_by: Some(today + Duration::days(rng.days(-30, 30))),
                state,
                accepted_reason: None,
            },
        )
        .await?;
    }

    for n in 0..(size.risks / 10).max(1) {
        store::insert_decision(
            &mut tx,
            &scope,
            &Decision {
                id: 0,
                number: 0,
                title: title(&text(&mut rng, "Decision", n, 200))?,
                context: text(&mut rng, "Context", n, 800),
                options: text(&mut rng, "Options", n, 400),
                outcome: if rng.below(4) == 0 {
                    String::new()
                } else {
                    text(&mut rng, "Outcome", n, 600)
                },
                decided_by: Some(people[0]),
                decided_on: today - Duration::days(rng.days(0, 300)),
                decider: Some(people[rng.below(people.len())]),
                decide_by: Some(today + Duration::days(rng.days(-5, 20))),
            },
        )
        .await?;
    }

    // The rest of the RAID log, in proportion to the risks: assumptions, issues (a few
    // high or critical), action items, and a readiness checklist on the key milestones.
    for n in 0..size.risks {
        let kind = match n % 4 {
            0 => crate::domain::ItemKind::Assumption,
            1 => crate::domain::ItemKind::Issue,
            _ => crate::domain::ItemKind::Action,
        };
        let open = rng.below(3) > 0;
        let state = match (open, kind) {
            (true, _) => crate::domain::ItemState::Open,
            (false, crate::domain::ItemKind::Assumption) => crate::domain::ItemState::Validated,
            (false, crate::domain::ItemKind::Issue) => crate::domain::ItemState::Resolved,
            (false, crate::domain::ItemKind::Action) => crate::domain::ItemState::Done,
        };
        let severity = (kind == crate::domain::ItemKind::Issue).then(|| match rng.below(20) {
            0 => crate::domain::Severity::Critical,
            1..=3 => crate::domain::Severity::High,
            4..=10 => crate::domain::Severity::Medium,
            _ => crate::domain::Severity::Low,
        });
        store::insert_item(
            &mut tx,
            &scope,
            &crate::domain::Item {
                id: 0,
                kind,
                number: 0,
                project: Some(projects[rng.below(projects.len())].id),
                title: title(&text(&mut rng, "Item", n, 200))?,
                owner: Some(people[rng.below(people.len())]),
                due: Some(today + Duration::days(rng.days(-20, 40))),
                state,
                severity,
                note: String::new(),
                link: None,
                created_at: now - Duration::days(rng.days(1, 90)),
                closed_on: (!open).then(|| today - Duration::days(rng.days(0, 30))),
            },
        )
        .await?;
    }
    for (n, (id, _, _)) in milestones.iter().enumerate().filter(|(i, _)| i % 10 == 0) {
        for c in 0..3 {
            let done = rng.below(2) == 0;
            store::insert_check(
                &mut tx,
                &scope,
                &crate::domain::Check {
                    id: 0,
                    number: 0,
                    milestone: Some(*id),
                    title: title(&text(&mut rng, "Ready", n * 3 + c, 120))?,
                    owner: Some(people[rng.below(people.len())]),
                    due: Some(today + Duration::days(rng.days(-10, 30))),
                    checked_on: done.then_some(today),
                    checked_by: done.then_some(people[0]),
                    created_at: now - Duration::days(30),
                },
            )
            .await?;
        }
    }

    // A year of weekly updates; most projects answered this week, some went quiet.
    for (pi, p) in projects.iter().enumerate() {
        let quiet = rng.below(8) == 0;
        for w in (0..size.weeks).rev() {
            if quiet && w < 3 {
                continue;
            }
            let rag = match rng.below(10) {
                0 => Rag::Red,
                1..=3 => Rag::Amber,
                _ => Rag::Green,
            };
            store::insert_status_update(
                &mut tx,
                &scope,
                &StatusUpdate {
                    id: 0,
                    project: p.id,
                    rag,
                    summary: Prose::parse(&text(&mut rng, "Progress report", pi * 100 + w, 1500))
                        .map_err(|e| anyhow::anyhow!(e.0))?,
                    blockers: if rag == Rag::Green {
                        String::new()
                    } else {
                        text(&mut rng, "Blocked by", w, 500)
                    },
                    next_steps: text(&mut rng, "Next", w, 300),
                    author: Some(p.owner),
                    posted_at: now
                        - Duration::days(7 * w as i64 + rng.days(0, 2))
                        - Duration::hours(1),
                },
            )
            .await?;
        }
    }

    // Events over the year, denser lately; kinds a digest reads, with their payloads.
    for n in 0..size.events {
        let age = if n % 4 == 0 {
            rng.days(0, 6)
        } else {
            rng.days(0, 365)
        };
        let at = now - Duration::days(age) - Duration::minutes(rng.days(1, 600));
        let m = &milestones[rng.below(milestones.len())];
        let (kind, subject, before, after) = match rng.below(8) {
            0 => (
                "milestone.moved",
                format!("milestone:{}", m.2),
                Some(serde_json::json!({ "target": m.1 - Duration::days(7) })),
                Some(
                    serde_json::json!({ "target": m.1, "reason": text(&mut rng, "Moved because", n, 300) }),
                ),
            ),
            1 => (
                "dep.blocked",
                format!("dep:{}", 1 + rng.below(size.dependencies.max(1))),
                None,
                Some(
                    serde_json::json!({ "state": "blocked", "reason": text(&mut rng, "Blocked on", n, 200), "what": text(&mut rng, "Deliverable", n, 200) }),
                ),
            ),
            2 => (
                "dep.delivered",
                format!("dep:{}", 1 + rng.below(size.dependencies.max(1))),
                None,
                Some(
                    serde_json::json!({ "state": "delivered", "what": text(&mut rng, "Deliverable", n, 200) }),
                ),
            ),
            3 => (
                "risk.opened",
                format!("risk:{}", 1 + rng.below(size.risks.max(1))),
                None,
                Some(
                    serde_json::json!({ "title": text(&mut rng, "Risk", n, 200), "likelihood": 3, "impact": 4 }),
                ),
            ),
            4 => (
                "risk.closed",
                format!("risk:{}", 1 + rng.below(size.risks.max(1))),
                Some(serde_json::json!({ "title": text(&mut rng, "Risk", n, 200) })),
                Some(serde_json::json!({ "state": "closed" })),
            ),
            5 => (
                "decision.logged",
                format!("decision:{}", 1 + rng.below(100)),
                None,
                Some(
                    serde_json::json!({ "title": text(&mut rng, "Decision", n, 200), "outcome": text(&mut rng, "Outcome", n, 300) }),
                ),
            ),
            6 => {
                let p = &projects[rng.below(projects.len())];
                const RAGS: [&str; 3] = ["green", "amber", "red"];
                let (from, to) = (RAGS[rng.below(3)], RAGS[rng.below(3)]);
                (
                    "status.posted",
                    format!("project:{}", p.key),
                    Some(serde_json::json!({ "rag": from })),
                    Some(serde_json::json!({ "rag": to })),
                )
            }
            _ => (
                "milestone.done",
                format!("milestone:{}", m.2),
                None,
                Some(serde_json::json!({ "state": "done" })),
            ),
        };
        store::append_event(
            &mut tx,
            tenant,
            Some(&scope),
            NewEvent {
                actor: Some(people[rng.below(people.len())]),
                at,
                kind,
                subject,
                before,
                after,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
