//! The tracker's id kept on imported records (a Jira issue key, a Linear id, a GitHub
//! milestone's address), by which importing the same export again finds what it made.

use std::collections::HashMap;

use anyhow::Context as _;

use super::db;
use super::{Conn, Scope};
use crate::domain::{ExternalId, ItemKind, Key};

/// A record that can carry a tracker id: projects and milestones by key, the rest by their
/// number in the program (and kind, for the RAID log).
#[derive(Debug, Clone, Copy)]
pub enum Tracked<'a> {
    Project(&'a Key),
    Milestone(&'a Key),
    Dependency(i64),
    Risk(i64),
    Item(ItemKind, i64),
}

impl Tracked<'_> {
    fn table(&self) -> &'static str {
        match self {
            Tracked::Project(_) => "projects",
            Tracked::Milestone(_) => "milestones",
            Tracked::Dependency(_) => "dependencies",
            Tracked::Risk(_) => "risks",
            Tracked::Item(..) => "raid_items",
        }
    }

    /// What people call it, for refusals.
    pub fn describe(&self) -> String {
        match self {
            Tracked::Project(k) => format!("project `{k}`"),
            Tracked::Milestone(k) => format!("milestone `{k}`"),
            Tracked::Dependency(n) => format!("dependency {n}"),
            Tracked::Risk(n) => format!("risk {n}"),
            Tracked::Item(kind, n) => format!("{} {n}", kind.as_str()),
        }
    }
}

/// Every tracker id kept in one program, by kind of record.
#[derive(Debug, Clone, Default)]
pub struct ExternalIds {
    pub projects: HashMap<String, Key>,
    pub milestones: HashMap<String, Key>,
    pub dependencies: HashMap<String, i64>,
    pub risks: HashMap<String, i64>,
    pub items: HashMap<(ItemKind, String), i64>,
}

impl ExternalIds {
    /// Which record of this kind already carries `id`, if any: projects and milestones
    /// answer with their key, the others with their number.
    pub fn holder(&self, kind: &Tracked<'_>, id: &str) -> Option<String> {
        match kind {
            Tracked::Project(_) => self.projects.get(id).map(Key::to_string),
            Tracked::Milestone(_) => self.milestones.get(id).map(Key::to_string),
            Tracked::Dependency(_) => self.dependencies.get(id).map(i64::to_string),
            Tracked::Risk(_) => self.risks.get(id).map(i64::to_string),
            Tracked::Item(k, _) => self.items.get(&(*k, id.to_owned())).map(i64::to_string),
        }
    }
}

/// Keeps `id` on `record`. The caller has checked that no other record of its kind holds it
/// (the unique index would refuse it as an internal error).
pub async fn set_external_id(
    conn: &mut Conn,
    scope: &Scope,
    record: Tracked<'_>,
    id: &ExternalId,
) -> anyhow::Result<()> {
    let table = record.table();
    let q = match record {
        Tracked::Project(k) | Tracked::Milestone(k) => db::query(format!(
            "UPDATE {table} SET external_id = $1 WHERE program_id = $2 AND key = $3"
        ))
        .bind(id.as_str())
        .bind(scope.program_id())
        .bind(k.as_str()),
        Tracked::Dependency(n) | Tracked::Risk(n) => db::query(format!(
            "UPDATE {table} SET external_id = $1 WHERE program_id = $2 AND number = $3"
        ))
        .bind(id.as_str())
        .bind(scope.program_id())
        .bind(n),
        Tracked::Item(kind, n) => db::query(
            "UPDATE raid_items SET external_id = $1 WHERE program_id = $2 AND number = $3 AND kind = $4",
        )
        .bind(id.as_str())
        .bind(scope.program_id())
        .bind(n)
        .bind(kind.as_str()),
    };
    q.execute(&mut *conn)
        .await
        .with_context(|| format!("keeping the tracker id of {}", record.describe()))?;
    Ok(())
}

/// Which other record of `record`'s kind already carries `id`, described for a refusal.
pub async fn external_id_holder(
    conn: &mut Conn,
    scope: &Scope,
    record: Tracked<'_>,
    id: &ExternalId,
) -> anyhow::Result<Option<String>> {
    let table = record.table();
    let found: Option<(Option<String>, Option<i64>)> = match record {
        Tracked::Project(_) | Tracked::Milestone(_) => db::query_as(format!(
            "SELECT key, CAST(NULL AS BIGINT) FROM {table} WHERE program_id = $1 AND external_id = $2"
        ))
        .bind(scope.program_id())
        .bind(id.as_str()),
        Tracked::Dependency(_) | Tracked::Risk(_) => db::query_as(format!(
            "SELECT CAST(NULL AS TEXT), number FROM {table} WHERE program_id = $1 AND external_id = $2"
        ))
        .bind(scope.program_id())
        .bind(id.as_str()),
        Tracked::Item(kind, _) => db::query_as(
            "SELECT CAST(NULL AS TEXT), number FROM raid_items WHERE program_id = $1 AND external_id = $2 AND kind = $3",
        )
        .bind(scope.program_id())
        .bind(id.as_str())
        .bind(kind.as_str()),
    }
    .fetch_optional(&mut *conn)
    .await
    .context("looking up a tracker id")?;
    Ok(found.map(|(key, number)| match record {
        Tracked::Project(_) => format!("project `{}`", key.unwrap_or_default()),
        Tracked::Milestone(_) => format!("milestone `{}`", key.unwrap_or_default()),
        Tracked::Dependency(_) => format!("dependency {}", number.unwrap_or_default()),
        Tracked::Risk(_) => format!("risk {}", number.unwrap_or_default()),
        Tracked::Item(k, _) => format!("{} {}", k.as_str(), number.unwrap_or_default()),
    }))
}

/// Every tracker id of the program.
pub async fn external_ids(conn: &mut Conn, scope: &Scope) -> anyhow::Result<ExternalIds> {
    let mut out = ExternalIds::default();
    let pid = scope.program_id();
    for table in ["projects", "milestones"] {
        let rows: Vec<(String, String)> = db::query_as(format!(
            "SELECT external_id, key FROM {table} WHERE program_id = $1 AND external_id IS NOT NULL"
        ))
        .bind(pid)
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("loading the tracker ids of {table}"))?;
        let map = if table == "projects" {
            &mut out.projects
        } else {
            &mut out.milestones
        };
        for (ext, key) in rows {
            map.insert(ext, Key::parse(&key).map_err(|e| anyhow::anyhow!(e.0))?);
        }
    }
    for table in ["dependencies", "risks"] {
        let rows: Vec<(String, i64)> = db::query_as(format!(
            "SELECT external_id, number FROM {table} WHERE program_id = $1 AND external_id IS NOT NULL"
        ))
        .bind(pid)
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("loading the tracker ids of {table}"))?;
        let map = if table == "dependencies" {
            &mut out.dependencies
        } else {
            &mut out.risks
        };
        map.extend(rows);
    }
    let rows: Vec<(String, String, i64)> = db::query_as(
        "SELECT external_id, kind, number FROM raid_items WHERE program_id = $1 AND external_id IS NOT NULL",
    )
    .bind(pid)
    .fetch_all(&mut *conn)
    .await
    .context("loading the tracker ids of the RAID log")?;
    for (ext, kind, number) in rows {
        let kind = ItemKind::parse(&kind).map_err(|e| anyhow::anyhow!(e.0))?;
        out.items.insert((kind, ext), number);
    }
    Ok(out)
}
