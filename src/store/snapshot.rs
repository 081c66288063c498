//! Loading a whole program for analysis, in one read transaction so every part agrees.

use chrono::{DateTime, Utc};

use super::{Conn, Scope};
use crate::analysis::{Parts, Snapshot};
use crate::domain::Program;

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
    anyhow::ensure!(
        program.id == scope.program_id(),
        "snapshot scope is for another program"
    );
    let charter = super::charter(conn, scope).await?;
    let people = super::people(conn, scope.tenant()).await?;
    let projects = super::projects(conn, scope).await?;
    let milestones = super::milestones(conn, scope).await?;
    let slips = super::slips(conn, scope).await?;
    let deps = super::dependencies(conn, scope).await?;
    let risks = super::risks(conn, scope).await?;
    let decisions = super::decisions(conn, scope).await?;
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
        latest_status,
        events,
        events_since,
        now,
    }))
}

/// Only what forecasts need (people, projects, milestones, dependencies): for a command that
/// must know what a change moves before it makes it.
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
        people: super::people(conn, scope.tenant()).await?,
        projects: super::projects(conn, scope).await?,
        milestones: super::milestones(conn, scope).await?,
        slips: vec![],
        deps: super::dependencies(conn, scope).await?,
        risks: vec![],
        decisions: vec![],
        latest_status: vec![],
        events: vec![],
        events_since: Some(now),
        now,
    }))
}
