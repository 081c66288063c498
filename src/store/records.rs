//! Risks, decisions and status updates.

use super::db;
use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};

use super::counters::{take_number, Numbered};
use super::{Conn, Scope};
use crate::domain::{Decision, Level, ProjectId, Prose, Rag, Risk, RiskState, StatusUpdate, Title};

#[derive(sqlx::FromRow, serde::Deserialize)]
struct RiskRow {
    id: i64,
    number: i64,
    project_id: Option<i64>,
    title: String,
    likelihood: i64,
    impact: i64,
    owner_id: Option<i64>,
    mitigation: String,
    customer_impact: String,
    review_by: Option<NaiveDate>,
    state: String,
    accepted_reason: Option<String>,
}

impl TryFrom<RiskRow> for Risk {
    type Error = anyhow::Error;
    fn try_from(r: RiskRow) -> anyhow::Result<Self> {
        Ok(Risk {
            id: r.id,
            number: r.number,
            project: r.project_id,
            title: Title::parse(&r.title)?,
            likelihood: Level::new(r.likelihood)?,
            impact: Level::new(r.impact)?,
            owner: r.owner_id,
            mitigation: r.mitigation,
            customer_impact: r.customer_impact,
            review_by: r.review_by,
            state: RiskState::parse(&r.state)?,
            accepted_reason: r.accepted_reason,
        })
    }
}

const RISK_COLS: &str =
    "id, number, project_id, title, likelihood, impact, owner_id, mitigation, customer_impact, review_by, state, accepted_reason";

pub async fn risks(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<Risk>> {
    let rows: Vec<RiskRow> = super::json_rows(
        conn,
        RISK_COLS,
        &format!("SELECT {RISK_COLS} FROM risks WHERE program_id = $1"),
        "number",
        scope.program_id,
    )
    .await
    .context("listing risks")?;
    rows.into_iter().map(Risk::try_from).collect()
}

pub async fn find_risk(
    conn: &mut Conn,
    scope: &Scope,
    number: i64,
) -> anyhow::Result<Option<Risk>> {
    let row: Option<RiskRow> = db::query_as(format!(
        "SELECT {RISK_COLS} FROM risks WHERE program_id = $1 AND number = $2"
    ))
    .bind(scope.program_id)
    .bind(number)
    .fetch_optional(&mut *conn)
    .await
    .context("looking up a risk")?;
    row.map(Risk::try_from).transpose()
}

/// Inserts a risk; `r.number` of 0 takes the program's next number.
pub async fn insert_risk(conn: &mut Conn, scope: &Scope, r: &Risk) -> anyhow::Result<i64> {
    let number = take_number(conn, scope.program_id, Numbered::Risk, r.number).await?;
    let (number,): (i64,) = db::query_as(
        "INSERT INTO risks (program_id, number, project_id, title, likelihood, impact, owner_id,
           mitigation, customer_impact, review_by, state, accepted_reason)
         VALUES ($1, $2,
                 $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         RETURNING number",
    )
    .bind(scope.program_id)
    .bind(number)
    .bind(r.project)
    .bind(r.title.as_str())
    .bind(r.likelihood.get())
    .bind(r.impact.get())
    .bind(r.owner)
    .bind(&r.mitigation)
    .bind(&r.customer_impact)
    .bind(r.review_by)
    .bind(r.state.as_str())
    .bind(r.accepted_reason.as_deref())
    .fetch_one(&mut *conn)
    .await
    .context("adding a risk")?;
    Ok(number)
}

pub async fn update_risk(conn: &mut Conn, scope: &Scope, r: &Risk) -> anyhow::Result<()> {
    db::query(
        "UPDATE risks SET project_id = $1, title = $2, likelihood = $3, impact = $4, owner_id = $5,
         mitigation = $6, customer_impact = $7, review_by = $8, state = $9, accepted_reason = $10
         WHERE id = $11 AND program_id = $12",
    )
    .bind(r.project)
    .bind(r.title.as_str())
    .bind(r.likelihood.get())
    .bind(r.impact.get())
    .bind(r.owner)
    .bind(&r.mitigation)
    .bind(&r.customer_impact)
    .bind(r.review_by)
    .bind(r.state.as_str())
    .bind(r.accepted_reason.as_deref())
    .bind(r.id)
    .bind(scope.program_id)
    .execute(&mut *conn)
    .await
    .context("updating a risk")?;
    Ok(())
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct DecisionRow {
    id: i64,
    number: i64,
    title: String,
    context: String,
    options: String,
    outcome: String,
    decided_by_id: Option<i64>,
    decided_on: NaiveDate,
    decider_id: Option<i64>,
    decide_by: Option<NaiveDate>,
}

pub async fn decisions(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<Decision>> {
    const COLS: &str = "id, number, title, context, options, outcome, decided_by_id, decided_on,
        decider_id, decide_by";
    let rows: Vec<DecisionRow> = super::json_rows(
        conn,
        COLS,
        &format!("SELECT {COLS} FROM decisions WHERE program_id = $1"),
        "number",
        scope.program_id,
    )
    .await
    .context("listing decisions")?;
    rows.into_iter()
        .map(|r| {
            Ok(Decision {
                id: r.id,
                number: r.number,
                title: Title::parse(&r.title)?,
                context: r.context,
                options: r.options,
                outcome: r.outcome,
                decided_by: r.decided_by_id,
                decided_on: r.decided_on,
                decider: r.decider_id,
                decide_by: r.decide_by,
            })
        })
        .collect()
}

/// Records the outcome of a decision (who decided, and when).
pub async fn update_decision(conn: &mut Conn, scope: &Scope, d: &Decision) -> anyhow::Result<()> {
    db::query(
        "UPDATE decisions SET outcome = $1, decided_by_id = $2, decided_on = $3, title = $6,
         context = $7, options = $8, decider_id = $9, decide_by = $10
         WHERE program_id = $4 AND number = $5",
    )
    .bind(&d.outcome)
    .bind(d.decided_by)
    .bind(d.decided_on)
    .bind(scope.program_id)
    .bind(d.number)
    .bind(d.title.as_str())
    .bind(&d.context)
    .bind(&d.options)
    .bind(d.decider)
    .bind(d.decide_by)
    .execute(&mut *conn)
    .await
    .context("updating a decision")?;
    Ok(())
}

/// Inserts a decision; `d.number` of 0 takes the program's next number.
pub async fn insert_decision(conn: &mut Conn, scope: &Scope, d: &Decision) -> anyhow::Result<i64> {
    let number = take_number(conn, scope.program_id, Numbered::Decision, d.number).await?;
    let (number,): (i64,) = db::query_as(
        "INSERT INTO decisions (program_id, number, title, context, options, outcome, decided_by_id,
           decided_on, decider_id, decide_by)
         VALUES ($1, $2,
                 $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING number",
    )
    .bind(scope.program_id)
    .bind(number)
    .bind(d.title.as_str())
    .bind(&d.context)
    .bind(&d.options)
    .bind(&d.outcome)
    .bind(d.decided_by)
    .bind(d.decided_on)
    .bind(d.decider)
    .bind(d.decide_by)
    .fetch_one(&mut *conn)
    .await
    .context("logging a decision")?;
    Ok(number)
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct StatusRow {
    id: i64,
    project_id: i64,
    rag: String,
    summary: String,
    blockers: String,
    next_steps: String,
    author_id: Option<i64>,
    posted_at: DateTime<Utc>,
}

impl TryFrom<StatusRow> for StatusUpdate {
    type Error = anyhow::Error;
    fn try_from(r: StatusRow) -> anyhow::Result<Self> {
        Ok(StatusUpdate {
            id: r.id,
            project: r.project_id,
            rag: Rag::parse(&r.rag)?,
            summary: Prose::parse(&r.summary)?,
            blockers: r.blockers,
            next_steps: r.next_steps,
            author: r.author_id,
            posted_at: r.posted_at,
        })
    }
}

/// Status updates of the program, newest first, optionally for one project.
pub async fn status_updates(
    conn: &mut Conn,
    scope: &Scope,
    project: Option<ProjectId>,
    limit: i64,
) -> anyhow::Result<Vec<StatusUpdate>> {
    const COLS: &str = "id, project_id, rag, summary, blockers, next_steps, author_id, posted_at";
    // Two shapes, so each can use its index: (project_id, posted_at) for one project.
    let query = match project {
        Some(_) => format!(
            "SELECT {COLS} FROM status_updates WHERE program_id = $1 AND project_id = $2
             ORDER BY posted_at DESC, id DESC LIMIT $3"
        ),
        None => format!(
            "SELECT {COLS} FROM status_updates WHERE program_id = $1 AND $2 IS NULL
             ORDER BY posted_at DESC, id DESC LIMIT $3"
        ),
    };
    let rows: Vec<StatusRow> = db::query_as(&query)
        .bind(scope.program_id)
        .bind(project)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await
        .context("listing status updates")?;
    rows.into_iter().map(StatusUpdate::try_from).collect()
}

/// The updates a history needs from `since` on, oldest first: every update posted after
/// `since`, and before them each project's last update at or before it (the colour it
/// entered the period with).
pub async fn status_history(
    conn: &mut Conn,
    scope: &Scope,
    since: DateTime<Utc>,
) -> anyhow::Result<Vec<StatusUpdate>> {
    let rows: Vec<StatusRow> = db::query_as(
        "SELECT s.id, s.project_id, s.rag, s.summary, s.blockers, s.next_steps, s.author_id, s.posted_at
         FROM projects p
         JOIN status_updates s ON s.id = (
            SELECT s2.id FROM status_updates s2 WHERE s2.project_id = p.id AND s2.posted_at <= $2
            ORDER BY s2.posted_at DESC, s2.id DESC LIMIT 1)
         WHERE p.program_id = $1
         UNION ALL
         SELECT id, project_id, rag, summary, blockers, next_steps, author_id, posted_at
         FROM status_updates WHERE program_id = $1 AND posted_at > $2
         ORDER BY 8, 1",
    )
    .bind(scope.program_id)
    .bind(since)
    .fetch_all(&mut *conn)
    .await
    .context("loading the status history")?;
    rows.into_iter().map(StatusUpdate::try_from).collect()
}

/// The latest update of each project that has one.
pub async fn latest_status_updates(
    conn: &mut Conn,
    scope: &Scope,
) -> anyhow::Result<Vec<StatusUpdate>> {
    let rows: Vec<StatusRow> = super::json_rows(
        conn,
        "id, project_id, rag, summary, blockers, next_steps, author_id, posted_at",
        // One indexed probe per project, not a scan per update.
        "SELECT s.id, s.project_id, s.rag, s.summary, s.blockers, s.next_steps, s.author_id, s.posted_at
         FROM projects p
         JOIN status_updates s ON s.id = (
            SELECT s2.id FROM status_updates s2 WHERE s2.project_id = p.id
            ORDER BY s2.posted_at DESC, s2.id DESC LIMIT 1)
         WHERE p.program_id = $1",
        "project_id",
        scope.program_id,
    )
    .await
    .context("loading the latest status updates")?;
    rows.into_iter().map(StatusUpdate::try_from).collect()
}

pub async fn insert_status_update(
    conn: &mut Conn,
    scope: &Scope,
    s: &StatusUpdate,
) -> anyhow::Result<i64> {
    let (id,): (i64,) = db::query_as(
        "INSERT INTO status_updates (program_id, project_id, rag, summary, blockers, next_steps, author_id, posted_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM projects WHERE id = $2 AND program_id = $1)
         RETURNING id",
    )
    .bind(scope.program_id)
    .bind(s.project)
    .bind(s.rag.as_str())
    .bind(s.summary.as_str())
    .bind(&s.blockers)
    .bind(&s.next_steps)
    .bind(s.author)
    .bind(s.posted_at)
    .fetch_one(&mut *conn)
    .await
    .context("posting a status update")?;
    Ok(id)
}
