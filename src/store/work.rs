//! Projects, milestones (with their predecessor edges and slips) and dependencies.

use super::db;
use std::collections::HashMap;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};

use super::counters::{raise_counter, take_number, Numbered};
use super::{Conn, Dialect, Scope};
use crate::domain::{
    Agreement, Days, DepState, Dependency, DurationUnit, Endpoint, Key, Milestone, MilestoneId,
    MilestoneState, Project, Slip, Title,
};

/// What already uses a key in the program, if anything: projects and milestones share one
/// namespace so that `--needs`, `--from` and `--after` are never ambiguous.
pub async fn key_in_use(
    conn: &mut Conn,
    scope: &Scope,
    key: &Key,
) -> anyhow::Result<Option<&'static str>> {
    let row: Option<(String,)> = db::query_as(
        "SELECT 'project' FROM projects WHERE program_id = $1 AND key = $2
         UNION ALL SELECT 'milestone' FROM milestones WHERE program_id = $1 AND key = $2 LIMIT 1",
    )
    .bind(scope.program_id)
    .bind(key.as_str())
    .fetch_optional(&mut *conn)
    .await
    .context("checking a key")?;
    Ok(row.map(|(kind,)| {
        if kind == "project" {
            "project"
        } else {
            "milestone"
        }
    }))
}

#[derive(sqlx::FromRow)]
struct ProjectRow {
    id: i64,
    key: String,
    name: String,
    owner_id: i64,
    removed: bool,
    holidays: db::Json,
}

impl TryFrom<ProjectRow> for Project {
    type Error = anyhow::Error;
    fn try_from(r: ProjectRow) -> anyhow::Result<Self> {
        Ok(Project {
            id: r.id,
            key: Key::parse(&r.key)?,
            name: Title::parse(&r.name)?,
            owner: r.owner_id,
            removed: r.removed,
            holidays: serde_json::from_str::<Vec<NaiveDate>>(r.holidays.as_str())
                .context("reading a project's holidays")?,
        })
    }
}

pub async fn projects(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<Project>> {
    #[derive(serde::Deserialize)]
    struct Row {
        id: i64,
        key: String,
        name: String,
        owner_id: i64,
        #[serde(deserialize_with = "super::db::flag")]
        removed: bool,
        holidays: Option<Vec<NaiveDate>>,
    }
    let holidays = format!("holidays={}", conn.dialect().embed_json("holidays"));
    let rows: Vec<Row> = super::json_rows(
        conn,
        &format!("id, key, name, owner_id, removed, {holidays}"),
        "SELECT id, key, name, owner_id, removed, holidays FROM projects WHERE program_id = $1",
        "key",
        scope.program_id,
    )
    .await
    .context("listing projects")?;
    rows.into_iter()
        .map(|r| {
            Ok(Project {
                id: r.id,
                key: Key::parse(&r.key)?,
                name: Title::parse(&r.name)?,
                owner: r.owner_id,
                removed: r.removed,
                holidays: r.holidays.unwrap_or_default(),
            })
        })
        .collect()
}

pub async fn find_project(
    conn: &mut Conn,
    scope: &Scope,
    key: &Key,
) -> anyhow::Result<Option<Project>> {
    let row: Option<ProjectRow> = db::query_as(
        "SELECT id, key, name, owner_id, removed, holidays FROM projects WHERE program_id = $1 AND key = $2",
    )
    .bind(scope.program_id)
    .bind(key.as_str())
    .fetch_optional(&mut *conn)
    .await
    .context("looking up a project")?;
    row.map(Project::try_from).transpose()
}

/// The owner of one project of the program.
pub async fn project_owner(
    conn: &mut Conn,
    scope: &Scope,
    project: i64,
) -> anyhow::Result<Option<i64>> {
    let row: Option<(i64,)> =
        db::query_as("SELECT owner_id FROM projects WHERE id = $1 AND program_id = $2")
            .bind(project)
            .bind(scope.program_id)
            .fetch_optional(&mut *conn)
            .await
            .context("looking up a project's owner")?;
    Ok(row.map(|(o,)| o))
}

pub async fn insert_project(
    conn: &mut Conn,
    scope: &Scope,
    key: &Key,
    name: &Title,
    owner: i64,
) -> anyhow::Result<Project> {
    let row: ProjectRow = db::query_as(
        "INSERT INTO projects (program_id, key, name, owner_id) VALUES ($1, $2, $3, $4)
         RETURNING id, key, name, owner_id, removed, holidays",
    )
    .bind(scope.program_id)
    .bind(key.as_str())
    .bind(name.as_str())
    .bind(owner)
    .fetch_one(&mut *conn)
    .await
    .context("adding a project")?;
    row.try_into()
}

pub async fn update_project(conn: &mut Conn, scope: &Scope, p: &Project) -> anyhow::Result<()> {
    db::query(
        "UPDATE projects SET name = $1, owner_id = $2, removed = $3, holidays = $6
         WHERE id = $4 AND program_id = $5",
    )
    .bind(p.name.as_str())
    .bind(p.owner)
    .bind(p.removed)
    .bind(p.id)
    .bind(scope.program_id)
    .bind(db::Json(serde_json::to_string(&p.holidays)?))
    .execute(&mut *conn)
    .await
    .context("updating a project")?;
    Ok(())
}

/// Deletes a project that nothing references any more (import, replacing a program whose
/// document no longer has it); its route goes with it.
pub async fn delete_project(conn: &mut Conn, scope: &Scope, id: i64) -> anyhow::Result<()> {
    db::query("DELETE FROM projects WHERE id = $1 AND program_id = $2")
        .bind(id)
        .bind(scope.program_id)
        .execute(&mut *conn)
        .await
        .context("deleting a project")?;
    Ok(())
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct MilestoneRow {
    id: i64,
    key: String,
    title: String,
    project_id: Option<i64>,
    owner_id: Option<i64>,
    baseline: NaiveDate,
    target: NaiveDate,
    duration_days: Option<i64>,
    state: String,
    completed_on: Option<NaiveDate>,
    #[serde(deserialize_with = "super::db::flag")]
    key_milestone: bool,
    duration_unit: String,
}

impl MilestoneRow {
    fn into_milestone(self, after: Vec<MilestoneId>) -> anyhow::Result<Milestone> {
        Ok(Milestone {
            id: self.id,
            key: Key::parse(&self.key)?,
            title: Title::parse(&self.title)?,
            project: self.project_id,
            owner: self.owner_id,
            baseline: self.baseline,
            target: self.target,
            duration: self.duration_days.map(Days::new).transpose()?,
            duration_unit: DurationUnit::parse(&self.duration_unit)?,
            state: MilestoneState::parse(&self.state)?,
            completed_on: self.completed_on,
            after,
            is_key: self.key_milestone,
        })
    }
}

const MILESTONE_COLS: &str =
    "id, key, title, project_id, owner_id, baseline, target, duration_days, \
     state, completed_on, key_milestone, duration_unit";

/// All milestones of the program with their predecessors, in key order.
pub async fn milestones(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<Milestone>> {
    let rows: Vec<MilestoneRow> = super::json_rows(
        conn,
        MILESTONE_COLS,
        &format!("SELECT {MILESTONE_COLS} FROM milestones WHERE program_id = $1"),
        "key",
        scope.program_id,
    )
    .await
    .context("listing milestones")?;
    #[derive(serde::Deserialize)]
    struct Edge {
        s: i64,
        p: i64,
    }
    let edges: Vec<Edge> = super::json_rows(
        conn,
        "s, p",
        "SELECT e.successor_id AS s, e.predecessor_id AS p FROM milestone_edges e
         JOIN milestones m ON m.id = e.successor_id WHERE m.program_id = $1",
        "s, p",
        scope.program_id,
    )
    .await
    .context("listing milestone edges")?;
    let edges = edges.into_iter().map(|e| (e.s, e.p));
    let mut after: HashMap<i64, Vec<i64>> = HashMap::new();
    for (succ, pred) in edges {
        after.entry(succ).or_default().push(pred);
    }
    rows.into_iter()
        .map(|r| {
            let preds = after.remove(&r.id).unwrap_or_default();
            r.into_milestone(preds)
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct MilestoneWithPredsRow {
    #[sqlx(flatten)]
    milestone: MilestoneRow,
    preds: Option<String>,
}

pub async fn find_milestone(
    conn: &mut Conn,
    scope: &Scope,
    key: &Key,
) -> anyhow::Result<Option<Milestone>> {
    let preds = conn.dialect().joined_ids(
        "predecessor_id",
        "milestone_edges WHERE successor_id = milestones.id",
    );
    let row: Option<MilestoneWithPredsRow> = db::query_as(format!(
        "SELECT {MILESTONE_COLS}, {preds} AS preds
         FROM milestones WHERE program_id = $1 AND key = $2"
    ))
    .bind(scope.program_id)
    .bind(key.as_str())
    .fetch_optional(&mut *conn)
    .await
    .context("looking up a milestone")?;
    let Some(row) = row else { return Ok(None) };
    let preds = match row.preds.as_deref() {
        None | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(str::parse)
            .collect::<Result<Vec<i64>, _>>()
            .context("reading predecessors")?,
    };
    row.milestone.into_milestone(preds).map(Some)
}

pub struct NewMilestone<'a> {
    pub key: &'a Key,
    pub title: &'a Title,
    pub project: Option<i64>,
    pub owner: Option<i64>,
    pub baseline: NaiveDate,
    pub target: NaiveDate,
    pub duration: Option<Days>,
    pub duration_unit: DurationUnit,
    pub state: MilestoneState,
    pub completed_on: Option<NaiveDate>,
    pub is_key: bool,
}

pub async fn insert_milestone(
    conn: &mut Conn,
    scope: &Scope,
    m: NewMilestone<'_>,
) -> anyhow::Result<i64> {
    let (id,): (i64,) = db::query_as(
        "INSERT INTO milestones (program_id, project_id, key, title, owner_id, baseline, target,
         duration_days, state, completed_on, key_milestone, duration_unit)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(scope.program_id)
    .bind(m.project)
    .bind(m.key.as_str())
    .bind(m.title.as_str())
    .bind(m.owner)
    .bind(m.baseline)
    .bind(m.target)
    .bind(m.duration.map(|d| d.get()))
    .bind(m.state.as_str())
    .bind(m.completed_on)
    .bind(m.is_key)
    .bind(m.duration_unit.as_str())
    .fetch_one(&mut *conn)
    .await
    .context("adding a milestone")?;
    Ok(id)
}

pub async fn update_milestone(conn: &mut Conn, scope: &Scope, m: &Milestone) -> anyhow::Result<()> {
    db::query(
        "UPDATE milestones SET title = $1, project_id = $2, owner_id = $3, target = $4, duration_days = $5,
         state = $6, completed_on = $7, key_milestone = $8, duration_unit = $9
         WHERE id = $10 AND program_id = $11",
    )
    .bind(m.title.as_str())
    .bind(m.project)
    .bind(m.owner)
    .bind(m.target)
    .bind(m.duration.map(|d| d.get()))
    .bind(m.state.as_str())
    .bind(m.completed_on)
    .bind(m.is_key)
    .bind(m.duration_unit.as_str())
    .bind(m.id)
    .bind(scope.program_id)
    .execute(&mut *conn)
    .await
    .context("updating a milestone")?;
    Ok(())
}

pub async fn add_milestone_edge(
    conn: &mut Conn,
    scope: &Scope,
    pred: i64,
    succ: i64,
) -> anyhow::Result<()> {
    db::query(
        "INSERT INTO milestone_edges (predecessor_id, successor_id)
         SELECT $1, $2 WHERE (SELECT count(*) FROM milestones WHERE id IN ($1, $2) AND program_id = $3) = 2
         ON CONFLICT DO NOTHING",
    )
    .bind(pred)
    .bind(succ)
    .bind(scope.program_id)
    .execute(&mut *conn)
    .await
    .context("linking milestones")?;
    Ok(())
}

pub async fn remove_milestone_edge(
    conn: &mut Conn,
    scope: &Scope,
    pred: i64,
    succ: i64,
) -> anyhow::Result<()> {
    db::query(
        "DELETE FROM milestone_edges WHERE predecessor_id = $1 AND successor_id = $2
         AND successor_id IN (SELECT id FROM milestones WHERE program_id = $3)",
    )
    .bind(pred)
    .bind(succ)
    .bind(scope.program_id)
    .execute(&mut *conn)
    .await
    .context("unlinking milestones")?;
    Ok(())
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct SlipRow {
    milestone_id: i64,
    from_date: NaiveDate,
    to_date: NaiveDate,
    reason: String,
    actor_id: Option<i64>,
    at: DateTime<Utc>,
}

impl From<SlipRow> for Slip {
    fn from(r: SlipRow) -> Self {
        Slip {
            milestone: r.milestone_id,
            from: r.from_date,
            to: r.to_date,
            reason: r.reason,
            actor: r.actor_id,
            at: r.at,
        }
    }
}

/// Every slip of the program, oldest first.
pub async fn slips(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<Slip>> {
    let rows: Vec<SlipRow> = super::json_rows(
        conn,
        "milestone_id, from_date, to_date, reason, actor_id, at",
        "SELECT s.id, s.milestone_id, s.from_date, s.to_date, s.reason, s.actor_id, s.at
         FROM slips s JOIN milestones m ON m.id = s.milestone_id WHERE m.program_id = $1",
        "id",
        scope.program_id,
    )
    .await
    .context("listing slips")?;
    Ok(rows.into_iter().map(Slip::from).collect())
}

/// The slips of one milestone, oldest first.
pub async fn milestone_slips(
    conn: &mut Conn,
    scope: &Scope,
    milestone: MilestoneId,
) -> anyhow::Result<Vec<Slip>> {
    let rows: Vec<SlipRow> = db::query_as(
        "SELECT s.milestone_id, s.from_date, s.to_date, s.reason, s.actor_id, s.at FROM slips s
         JOIN milestones m ON m.id = s.milestone_id
         WHERE s.milestone_id = $1 AND m.program_id = $2 ORDER BY s.id",
    )
    .bind(milestone)
    .bind(scope.program_id)
    .fetch_all(&mut *conn)
    .await
    .context("listing a milestone's slips")?;
    Ok(rows.into_iter().map(Slip::from).collect())
}

pub async fn insert_slip(conn: &mut Conn, scope: &Scope, s: &Slip) -> anyhow::Result<()> {
    db::query(
        "INSERT INTO slips (milestone_id, from_date, to_date, reason, actor_id, at)
         SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM milestones WHERE id = $7 AND program_id = $8)",
    )
    .bind(s.milestone)
    .bind(s.from)
    .bind(s.to)
    .bind(&s.reason)
    .bind(s.actor)
    .bind(s.at)
    .bind(s.milestone)
    .bind(scope.program_id)
    .execute(&mut *conn)
    .await
    .context("recording a slip")?;
    Ok(())
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct DepRow {
    id: i64,
    number: i64,
    needs_project_id: Option<i64>,
    needs_milestone_id: Option<i64>,
    from_project_id: Option<i64>,
    from_milestone_id: Option<i64>,
    from_external: Option<String>,
    what: String,
    need_by: NaiveDate,
    owner_id: Option<i64>,
    state: String,
    blocked_since: Option<DateTime<Utc>>,
    blocked_reason: Option<String>,
    delivered_on: Option<NaiveDate>,
    cancel_reason: Option<String>,
    agreement: String,
    committed_on: Option<NaiveDate>,
    proposed_on: Option<NaiveDate>,
    agreement_note: Option<String>,
    requested_at: Option<DateTime<Utc>>,
}

fn endpoint(
    project: Option<i64>,
    milestone: Option<i64>,
    external: Option<String>,
) -> anyhow::Result<Endpoint> {
    match (project, milestone, external) {
        (Some(p), None, None) => Ok(Endpoint::Project(p)),
        (None, Some(m), None) => Ok(Endpoint::Milestone(m)),
        (None, None, Some(x)) => Ok(Endpoint::External(x)),
        _ => {
            anyhow::bail!("a dependency end must be exactly one of project, milestone or external")
        }
    }
}

impl TryFrom<DepRow> for Dependency {
    type Error = anyhow::Error;
    fn try_from(r: DepRow) -> anyhow::Result<Self> {
        Ok(Dependency {
            id: r.id,
            number: r.number,
            needs: endpoint(r.needs_project_id, r.needs_milestone_id, None)?,
            from: endpoint(r.from_project_id, r.from_milestone_id, r.from_external)?,
            what: Title::parse(&r.what)?,
            need_by: r.need_by,
            owner: r.owner_id,
            state: DepState::parse(&r.state)?,
            blocked_since: r.blocked_since,
            blocked_reason: r.blocked_reason,
            delivered_on: r.delivered_on,
            cancel_reason: r.cancel_reason,
            agreement: Agreement::parse(&r.agreement)?,
            committed_on: r.committed_on,
            proposed_on: r.proposed_on,
            agreement_note: r.agreement_note,
            requested_at: r.requested_at,
        })
    }
}

const DEP_COLS: &str =
    "id, number, needs_project_id, needs_milestone_id, from_project_id, from_milestone_id,
    from_external, what, need_by, owner_id, state, blocked_since, blocked_reason, delivered_on,
    cancel_reason, agreement, committed_on, proposed_on, agreement_note, requested_at";

pub async fn dependencies(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<Dependency>> {
    let rows: Vec<DepRow> = super::json_rows(
        conn,
        DEP_COLS,
        &format!("SELECT {DEP_COLS} FROM dependencies WHERE program_id = $1"),
        "number",
        scope.program_id,
    )
    .await
    .context("listing dependencies")?;
    rows.into_iter().map(Dependency::try_from).collect()
}

pub async fn find_dependency(
    conn: &mut Conn,
    scope: &Scope,
    number: i64,
) -> anyhow::Result<Option<Dependency>> {
    let row: Option<DepRow> = db::query_as(format!(
        "SELECT {DEP_COLS} FROM dependencies WHERE program_id = $1 AND number = $2"
    ))
    .bind(scope.program_id)
    .bind(number)
    .fetch_optional(&mut *conn)
    .await
    .context("looking up a dependency")?;
    row.map(Dependency::try_from).transpose()
}

fn split(e: &Endpoint) -> (Option<i64>, Option<i64>, Option<&str>) {
    match e {
        Endpoint::Project(p) => (Some(*p), None, None),
        Endpoint::Milestone(m) => (None, Some(*m), None),
        Endpoint::External(x) => (None, None, Some(x.as_str())),
    }
}

/// Inserts a dependency; `d.number` of 0 takes the program's next number.
pub async fn insert_dependency(
    conn: &mut Conn,
    scope: &Scope,
    d: &Dependency,
) -> anyhow::Result<i64> {
    let (np, nm, _) = split(&d.needs);
    let (fp, fm, fx) = split(&d.from);
    let columns = "program_id, number, needs_project_id, needs_milestone_id,
           from_project_id, from_milestone_id, from_external, what, need_by, owner_id, state,
           blocked_since, blocked_reason, delivered_on, cancel_reason, agreement, committed_on,
           proposed_on, agreement_note, requested_at";
    let values =
        "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20";
    let (sql, number) = match conn.dialect() {
        // SQLite runs both statements of one query in turn, with the same numbered
        // arguments: the number is taken and used in one call, not two. (`$21` is the kind.)
        Dialect::Sqlite => (
            format!(
                "{};
                 INSERT INTO dependencies ({columns})
                 VALUES ($1, CASE WHEN $2 > 0 THEN $2 ELSE
                     (SELECT last FROM record_counters WHERE program_id = $1 AND kind = $21) END,
                     {values})
                 RETURNING number",
                raise_counter("$1", "$2", "$21")
            ),
            d.number,
        ),
        Dialect::Postgres => (
            format!(
                "INSERT INTO dependencies ({columns}) VALUES ($1, $2, {values}) RETURNING number"
            ),
            take_number(conn, scope.program_id, Numbered::Dependency, d.number).await?,
        ),
    };
    let rows: Vec<(i64,)> = db::query_as(sql)
        .bind(scope.program_id)
        .bind(number)
        .bind(np)
        .bind(nm)
        .bind(fp)
        .bind(fm)
        .bind(fx)
        .bind(d.what.as_str())
        .bind(d.need_by)
        .bind(d.owner)
        .bind(d.state.as_str())
        .bind(d.blocked_since)
        .bind(&d.blocked_reason)
        .bind(d.delivered_on)
        .bind(&d.cancel_reason)
        .bind(d.agreement.as_str())
        .bind(d.committed_on)
        .bind(d.proposed_on)
        .bind(&d.agreement_note)
        .bind(d.requested_at)
        .bind(Numbered::Dependency.as_str())
        .fetch_all(&mut *conn)
        .await
        .context("adding a dependency")?;
    match rows.last() {
        Some((number,)) => Ok(*number),
        None => anyhow::bail!("adding a dependency returned no number"),
    }
}

pub async fn update_dependency(
    conn: &mut Conn,
    scope: &Scope,
    d: &Dependency,
) -> anyhow::Result<()> {
    let (np, nm, _) = split(&d.needs);
    let (fp, fm, fx) = split(&d.from);
    db::query(
        "UPDATE dependencies SET what = $1, need_by = $2, owner_id = $3, state = $4, blocked_since = $5,
         blocked_reason = $6, delivered_on = $7, cancel_reason = $8, needs_project_id = $9,
         needs_milestone_id = $10, from_project_id = $11, from_milestone_id = $12, from_external = $13,
         agreement = $16, committed_on = $17, proposed_on = $18, agreement_note = $19,
         requested_at = $20
         WHERE id = $14 AND program_id = $15",
    )
    .bind(d.what.as_str())
    .bind(d.need_by)
    .bind(d.owner)
    .bind(d.state.as_str())
    .bind(d.blocked_since)
    .bind(&d.blocked_reason)
    .bind(d.delivered_on)
    .bind(&d.cancel_reason)
    .bind(np)
    .bind(nm)
    .bind(fp)
    .bind(fm)
    .bind(fx)
    .bind(d.id)
    .bind(scope.program_id)
    .bind(d.agreement.as_str())
    .bind(d.committed_on)
    .bind(d.proposed_on)
    .bind(&d.agreement_note)
    .bind(d.requested_at)
    .execute(&mut *conn)
    .await
    .context("updating a dependency")?;
    Ok(())
}

/// Makes `to` a milestone's baseline of record (an approved change with `--rebaseline`).
pub async fn set_baseline(
    conn: &mut Conn,
    scope: &Scope,
    milestone: i64,
    to: NaiveDate,
) -> anyhow::Result<()> {
    db::query("UPDATE milestones SET baseline = $1 WHERE id = $2 AND program_id = $3")
        .bind(to)
        .bind(milestone)
        .bind(scope.program_id)
        .execute(&mut *conn)
        .await
        .context("rebaselining a milestone")?;
    Ok(())
}
