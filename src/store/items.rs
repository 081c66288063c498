//! Assumptions, issues and action items: one table, numbered per program and kind.

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};

use super::counters::{take_number, Numbered};
use super::db;
use super::{Conn, Scope};
use crate::domain::{
    ChangeRequest, ChangeState, Item, ItemKind, ItemState, Link, LinkKind, Move, Severity, Title,
};

#[derive(sqlx::FromRow, serde::Deserialize)]
struct ItemRow {
    id: i64,
    kind: String,
    number: i64,
    project_id: Option<i64>,
    title: String,
    owner_id: Option<i64>,
    due: Option<NaiveDate>,
    state: String,
    severity: Option<String>,
    note: String,
    link_kind: Option<String>,
    link_number: Option<i64>,
    created_at: DateTime<Utc>,
    closed_on: Option<NaiveDate>,
}

impl TryFrom<ItemRow> for Item {
    type Error = anyhow::Error;
    fn try_from(r: ItemRow) -> anyhow::Result<Self> {
        Ok(Item {
            id: r.id,
            kind: ItemKind::parse(&r.kind)?,
            number: r.number,
            project: r.project_id,
            title: Title::parse(&r.title)?,
            owner: r.owner_id,
            due: r.due,
            state: ItemState::parse(&r.state)?,
            severity: r.severity.as_deref().map(Severity::parse).transpose()?,
            note: r.note,
            link: match (r.link_kind, r.link_number) {
                (Some(k), Some(n)) => Some(Link {
                    kind: LinkKind::parse(&k)?,
                    number: n,
                }),
                _ => None,
            },
            created_at: r.created_at,
            closed_on: r.closed_on,
        })
    }
}

const ITEM_COLS: &str = "id, kind, number, project_id, title, owner_id, due, state, severity,
    note, link_kind, link_number, created_at, closed_on";

fn counter(kind: ItemKind) -> Numbered {
    match kind {
        ItemKind::Assumption => Numbered::Assumption,
        ItemKind::Issue => Numbered::Issue,
        ItemKind::Action => Numbered::Action,
    }
}

/// Every assumption, issue and action of the program, by kind and number.
pub async fn items(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<Item>> {
    let rows: Vec<ItemRow> = super::json_rows(
        conn,
        ITEM_COLS,
        &format!("SELECT {ITEM_COLS} FROM raid_items WHERE program_id = $1"),
        "kind, number",
        scope.program_id,
    )
    .await
    .context("listing the RAID log")?;
    rows.into_iter().map(Item::try_from).collect()
}

pub async fn find_item(
    conn: &mut Conn,
    scope: &Scope,
    kind: ItemKind,
    number: i64,
) -> anyhow::Result<Option<Item>> {
    let row: Option<ItemRow> = db::query_as(format!(
        "SELECT {ITEM_COLS} FROM raid_items WHERE program_id = $1 AND kind = $2 AND number = $3"
    ))
    .bind(scope.program_id)
    .bind(kind.as_str())
    .bind(number)
    .fetch_optional(&mut *conn)
    .await
    .context("looking up an entry of the RAID log")?;
    row.map(Item::try_from).transpose()
}

/// Inserts an item; `i.number` of 0 takes the program's next number of its kind.
pub async fn insert_item(conn: &mut Conn, scope: &Scope, i: &Item) -> anyhow::Result<i64> {
    let number = take_number(conn, scope.program_id, counter(i.kind), i.number).await?;
    let (number,): (i64,) = db::query_as(
        "INSERT INTO raid_items (program_id, kind, number, project_id, title, owner_id, due, state,
           severity, note, link_kind, link_number, created_at, closed_on)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         RETURNING number",
    )
    .bind(scope.program_id)
    .bind(i.kind.as_str())
    .bind(number)
    .bind(i.project)
    .bind(i.title.as_str())
    .bind(i.owner)
    .bind(i.due)
    .bind(i.state.as_str())
    .bind(i.severity.map(|s| s.as_str()))
    .bind(&i.note)
    .bind(i.link.map(|l| l.kind.as_str()))
    .bind(i.link.map(|l| l.number))
    .bind(i.created_at)
    .bind(i.closed_on)
    .fetch_one(&mut *conn)
    .await
    .context("adding to the RAID log")?;
    Ok(number)
}

pub async fn update_item(conn: &mut Conn, scope: &Scope, i: &Item) -> anyhow::Result<()> {
    db::query(
        "UPDATE raid_items SET project_id = $1, title = $2, owner_id = $3, due = $4, state = $5,
         severity = $6, note = $7, link_kind = $8, link_number = $9, closed_on = $10
         WHERE id = $11 AND program_id = $12",
    )
    .bind(i.project)
    .bind(i.title.as_str())
    .bind(i.owner)
    .bind(i.due)
    .bind(i.state.as_str())
    .bind(i.severity.map(|s| s.as_str()))
    .bind(&i.note)
    .bind(i.link.map(|l| l.kind.as_str()))
    .bind(i.link.map(|l| l.number))
    .bind(i.closed_on)
    .bind(i.id)
    .bind(scope.program_id)
    .execute(&mut *conn)
    .await
    .context("updating an entry of the RAID log")?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    id: i64,
    number: i64,
    title: String,
    why: String,
    moves: db::Json,
    scope_out: String,
    state: String,
    decider_id: Option<i64>,
    proposed_by_id: Option<i64>,
    rebaseline: bool,
    reason: String,
    decision_number: Option<i64>,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

impl TryFrom<ChangeRow> for ChangeRequest {
    type Error = anyhow::Error;
    fn try_from(r: ChangeRow) -> anyhow::Result<Self> {
        Ok(ChangeRequest {
            id: r.id,
            number: r.number,
            title: Title::parse(&r.title)?,
            why: r.why,
            moves: serde_json::from_str::<Vec<Move>>(r.moves.as_str())
                .context("reading a change request's moves")?,
            scope_out: r.scope_out,
            state: ChangeState::parse(&r.state)?,
            decider: r.decider_id,
            proposed_by: r.proposed_by_id,
            rebaseline: r.rebaseline,
            reason: r.reason,
            decision: r.decision_number,
            created_at: r.created_at,
            decided_at: r.decided_at,
        })
    }
}

const CHANGE_COLS: &str = "id, number, title, why, moves, scope_out, state, decider_id,
    proposed_by_id, rebaseline, reason, decision_number, created_at, decided_at";

/// Every change request of the program, by number.
pub async fn change_requests(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<ChangeRequest>> {
    let rows: Vec<ChangeRow> = db::query_as(format!(
        "SELECT {CHANGE_COLS} FROM change_requests WHERE program_id = $1 ORDER BY number"
    ))
    .bind(scope.program_id)
    .fetch_all(&mut *conn)
    .await
    .context("listing change requests")?;
    rows.into_iter().map(ChangeRequest::try_from).collect()
}

/// Inserts a change request; `c.number` of 0 takes the program's next number.
pub async fn insert_change(
    conn: &mut Conn,
    scope: &Scope,
    c: &ChangeRequest,
) -> anyhow::Result<i64> {
    let number = take_number(conn, scope.program_id, Numbered::Change, c.number).await?;
    let (number,): (i64,) = db::query_as(
        "INSERT INTO change_requests (program_id, number, title, why, moves, scope_out, state,
           decider_id, proposed_by_id, rebaseline, reason, decision_number, created_at, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         RETURNING number",
    )
    .bind(scope.program_id)
    .bind(number)
    .bind(c.title.as_str())
    .bind(&c.why)
    .bind(db::Json(serde_json::to_string(&c.moves)?))
    .bind(&c.scope_out)
    .bind(c.state.as_str())
    .bind(c.decider)
    .bind(c.proposed_by)
    .bind(c.rebaseline)
    .bind(&c.reason)
    .bind(c.decision)
    .bind(c.created_at)
    .bind(c.decided_at)
    .fetch_one(&mut *conn)
    .await
    .context("proposing a change")?;
    Ok(number)
}

/// Records a change request's decision: its state, rebaseline, reason, decision and when.
pub async fn update_change(
    conn: &mut Conn,
    scope: &Scope,
    c: &ChangeRequest,
) -> anyhow::Result<()> {
    db::query(
        "UPDATE change_requests SET state = $1, rebaseline = $2, reason = $3, decision_number = $4,
         decided_at = $5 WHERE id = $6 AND program_id = $7",
    )
    .bind(c.state.as_str())
    .bind(c.rebaseline)
    .bind(&c.reason)
    .bind(c.decision)
    .bind(c.decided_at)
    .bind(c.id)
    .bind(scope.program_id)
    .execute(&mut *conn)
    .await
    .context("deciding a change request")?;
    Ok(())
}
