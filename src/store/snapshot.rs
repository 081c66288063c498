//! Loading a whole program for analysis, in one read transaction so every part agrees.

use super::db;
use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::{Conn, Scope};
use crate::domain::Program;
use crate::domain::{Parts, Snapshot};

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
    let people = super::people(conn, scope.tenant()).await?;
    load_snapshot_with(conn, scope, program, now, events_since, people).await
}

/// [`load_snapshot`] with the tenant's people already loaded (a portfolio loads them once
/// for all its programs).
pub async fn load_snapshot_with(
    conn: &mut Conn,
    scope: &Scope,
    program: Program,
    now: DateTime<Utc>,
    events_since: Option<DateTime<Utc>>,
    people: std::collections::HashMap<crate::domain::PersonId, crate::domain::Person>,
) -> anyhow::Result<Snapshot> {
    anyhow::ensure!(
        program.id == scope.program_id(),
        "snapshot scope is for another program"
    );
    let charter = super::charter(conn, scope).await?;
    let projects = super::projects(conn, scope).await?;
    let milestones = super::milestones(conn, scope).await?;
    let slips = super::slips(conn, scope).await?;
    let deps = super::dependencies(conn, scope).await?;
    let risks = super::risks(conn, scope).await?;
    let decisions = super::decisions(conn, scope).await?;
    let items = super::items(conn, scope).await?;
    let checks = super::checks(conn, scope).await?;
    let latest_status = super::latest_status_updates(conn, scope).await?;
    let events = super::events_since(conn, scope, events_since).await?;
    Ok(Snapshot::new(Parts {
        program,
        charter,
        people,
        projects,
        milestones,
        slips,
        deps,
        risks,
        decisions,
        items,
        checks,
        latest_status,
        events,
        events_since,
        now,
    }))
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
