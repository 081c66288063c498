//! Routes: where a program's (or one project's) prompts, reminders and pings go instead of
//! each person's direct messages.

use super::db;
use std::collections::HashMap;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::{Conn, Scope};
use crate::domain::{Destination, PersonId};

/// A program's routes, loaded once per scheduled run.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    pub program: Option<Destination>,
    /// Project id → its own route.
    pub projects: HashMap<i64, Destination>,
}

impl Routes {
    /// Where messages about `project` (or the program as a whole, for `None`) go, if they
    /// are routed: the project's own route, else the program's.
    pub fn for_project(&self, project: Option<i64>) -> Option<&Destination> {
        project
            .and_then(|p| self.projects.get(&p))
            .or(self.program.as_ref())
    }

    pub fn is_empty(&self) -> bool {
        self.program.is_none() && self.projects.is_empty()
    }
}

pub async fn routes(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Routes> {
    #[derive(serde::Deserialize)]
    struct Row {
        project_id: Option<i64>,
        destination: String,
    }
    // As a JSON read, so that a digest reads it with the program in one statement.
    let rows: Vec<Row> = super::json_rows(
        conn,
        "project_id, destination=CAST(destination AS TEXT)",
        "SELECT project_id, destination, id FROM routes WHERE program_id = $1",
        "id",
        scope.program_id,
    )
    .await
    .context("loading routes")?;
    let mut routes = Routes::default();
    for Row {
        project_id: project,
        destination,
    } in rows
    {
        let d: Destination =
            serde_json::from_str(&destination).context("reading a stored route")?;
        match project {
            Some(p) => {
                routes.projects.insert(p, d);
            }
            None => routes.program = Some(d),
        }
    }
    Ok(routes)
}

/// Sets (or with `None` clears) the route of the program or of one of its projects.
/// Returns whether a route was there before.
pub async fn set_route(
    conn: &mut Conn,
    scope: &Scope,
    project: Option<i64>,
    destination: Option<&Destination>,
    at: DateTime<Utc>,
    by: PersonId,
) -> anyhow::Result<bool> {
    let removed = db::query(
        "DELETE FROM routes WHERE program_id = $1 AND COALESCE(project_id, 0) = COALESCE($2, 0)",
    )
    .bind(scope.program_id)
    .bind(project)
    .execute(&mut *conn)
    .await
    .context("clearing a route")?
    .rows_affected();
    if let Some(d) = destination {
        db::query(
            "INSERT INTO routes (program_id, project_id, destination, set_at, set_by)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(scope.program_id)
        .bind(project)
        .bind(db::Json(serde_json::to_string(d)?))
        .bind(at)
        .bind(by)
        .execute(&mut *conn)
        .await
        .context("setting a route")?;
    }
    Ok(removed > 0)
}
