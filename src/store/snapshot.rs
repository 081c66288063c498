//! Loading a whole program for analysis, in one read transaction so every part agrees.

use super::db;
use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::{Conn, Scope};
use std::collections::HashMap;

use crate::domain::{Parts, Person, PersonId, Program, Snapshot};

/// Everything about `program` that analysis reads, with the events after `events_since`
/// (all of them for `None`).
#[tracing::instrument(skip_all, fields(program = %program.key))]
pub async fn load_snapshot(
    conn: &mut Conn,
    scope: &Scope,
    program: Program,
    now: DateTime<Utc>,
    events_since: Option<DateTime<Utc>>,
) -> anyhow::Result<Snapshot> {
    load(conn, scope, program, now, events_since, None).await
}

/// [`load_snapshot`] with the tenant's people already loaded (a portfolio loads them once
/// for all its programs).
pub async fn load_snapshot_with(
    conn: &mut Conn,
    scope: &Scope,
    program: Program,
    now: DateTime<Utc>,
    events_since: Option<DateTime<Utc>>,
    people: HashMap<PersonId, Person>,
) -> anyhow::Result<Snapshot> {
    load(conn, scope, program, now, events_since, Some(people)).await
}

/// The charter and every table's rows in one statement on PostgreSQL (see
/// [`super::in_one_statement`]): one round trip, not fifteen.
async fn load(
    conn: &mut Conn,
    scope: &Scope,
    program: Program,
    now: DateTime<Utc>,
    events_since: Option<DateTime<Utc>>,
    people: Option<HashMap<PersonId, Person>>,
) -> anyhow::Result<Snapshot> {
    anyhow::ensure!(
        program.id == scope.program_id(),
        "snapshot scope is for another program"
    );
    // On SQLite a round trip is a hand-over to a thread, cheaper than joining the tables'
    // texts into one: each is read on its own there.
    let with_people = people.is_none();
    let (charter, rows) = super::in_one_statement!(conn, |c| async {
        let charter = super::charter(c, scope).await?;
        let rows = read_rows(c, scope, events_since, with_people).await?;
        anyhow::Ok((charter, rows))
    }
    .await)?;
    Ok(Snapshot::new(Parts {
        program,
        charter,
        people: match people {
            Some(p) => p,
            None => rows.people,
        },
        projects: rows.projects,
        milestones: rows.milestones,
        slips: rows.slips,
        deps: rows.deps,
        risks: rows.risks,
        decisions: rows.decisions,
        items: rows.items,
        checks: rows.checks,
        latest_status: rows.latest_status,
        events: rows.events,
        events_since,
        now,
    }))
}

/// A snapshot's rows, table by table.
struct Rows {
    people: HashMap<PersonId, Person>,
    projects: Vec<crate::domain::Project>,
    milestones: Vec<crate::domain::Milestone>,
    slips: Vec<crate::domain::Slip>,
    deps: Vec<crate::domain::Dependency>,
    risks: Vec<crate::domain::Risk>,
    decisions: Vec<crate::domain::Decision>,
    items: Vec<crate::domain::Item>,
    checks: Vec<crate::domain::Check>,
    latest_status: Vec<crate::domain::StatusUpdate>,
    events: Vec<crate::domain::Event>,
}

async fn read_rows(
    conn: &mut Conn,
    scope: &Scope,
    events_since: Option<DateTime<Utc>>,
    with_people: bool,
) -> anyhow::Result<Rows> {
    Ok(Rows {
        people: match with_people {
            true => super::people(conn, scope.tenant()).await?,
            false => HashMap::new(),
        },
        projects: super::projects(conn, scope).await?,
        milestones: super::milestones(conn, scope).await?,
        slips: super::slips(conn, scope).await?,
        deps: super::dependencies(conn, scope).await?,
        risks: super::risks(conn, scope).await?,
        decisions: super::decisions(conn, scope).await?,
        items: super::items(conn, scope).await?,
        checks: super::checks(conn, scope).await?,
        latest_status: super::latest_status_updates(conn, scope).await?,
        events: super::events_since(conn, scope, events_since).await?,
    })
}

/// Only what forecasts need (projects, milestones, dependencies; no people): for a command
/// that must know what a change moves before it makes it.
pub async fn load_schedule(
    conn: &mut Conn,
    scope: &Scope,
    program: Program,
    now: DateTime<Utc>,
) -> anyhow::Result<Snapshot> {
    anyhow::ensure!(
        program.id == scope.program_id(),
        "snapshot scope is for another program"
    );
    Ok(Snapshot::new(Parts {
        program,
        charter: Default::default(),
        people: Default::default(),
        projects: super::projects(conn, scope).await?,
        milestones: super::milestones(conn, scope).await?,
        slips: vec![],
        deps: super::dependencies(conn, scope).await?,
        risks: vec![],
        decisions: vec![],
        items: vec![],
        checks: vec![],
        latest_status: vec![],
        events: vec![],
        events_since: Some(now),
        now,
    }))
}

/// Whether anything waits on the milestone: a successor, or a dependency it delivers to a
/// milestone.
pub async fn has_downstream(
    conn: &mut Conn,
    scope: &Scope,
    milestone: i64,
) -> anyhow::Result<bool> {
    let (yes,): (bool,) = db::query_as(
        "SELECT EXISTS(SELECT 1 FROM milestone_edges e JOIN milestones m ON m.id = e.successor_id
                       WHERE e.predecessor_id = $1 AND m.program_id = $2)
             OR EXISTS(SELECT 1 FROM dependencies
                       WHERE from_milestone_id = $1 AND program_id = $2)",
    )
    .bind(milestone)
    .bind(scope.program_id())
    .fetch_one(&mut *conn)
    .await
    .context("looking for what waits on a milestone")?;
    Ok(yes)
}
