//! Launch readiness checklists, and the summaries TPMs write to lead a digest.

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};

use super::counters::{take_number, Numbered};
use super::db;
use super::{Conn, Scope};
use crate::domain::{Audience, Check, DigestNote, Program, Rag, Title};

#[derive(sqlx::FromRow, serde::Deserialize)]
struct CheckRow {
    id: i64,
    number: i64,
    milestone_id: Option<i64>,
    title: String,
    owner_id: Option<i64>,
    due: Option<NaiveDate>,
    checked_on: Option<NaiveDate>,
    checked_by_id: Option<i64>,
    created_at: DateTime<Utc>,
}

impl TryFrom<CheckRow> for Check {
    type Error = anyhow::Error;
    fn try_from(r: CheckRow) -> anyhow::Result<Self> {
        Ok(Check {
            id: r.id,
            number: r.number,
            milestone: r.milestone_id,
            title: Title::parse(&r.title)?,
            owner: r.owner_id,
            due: r.due,
            checked_on: r.checked_on,
            checked_by: r.checked_by_id,
            created_at: r.created_at,
        })
    }
}

/// The program's readiness checklist, by number.
pub async fn checks(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<Check>> {
    const COLS: &str =
        "id, number, milestone_id, title, owner_id, due, checked_on, checked_by_id, created_at";
    let rows: Vec<CheckRow> = super::json_rows(
        conn,
        COLS,
        &format!("SELECT {COLS} FROM readiness_items WHERE program_id = $1"),
        "number",
        scope.program_id,
    )
    .await
    .context("listing the readiness checklist")?;
    rows.into_iter().map(Check::try_from).collect()
}

/// Inserts a checklist item; `c.number` of 0 takes the program's next number.
pub async fn insert_check(conn: &mut Conn, scope: &Scope, c: &Check) -> anyhow::Result<i64> {
    let number = take_number(conn, scope.program_id, Numbered::Readiness, c.number).await?;
    let (number,): (i64,) = db::query_as(
        "INSERT INTO readiness_items (program_id, number, milestone_id, title, owner_id, due,
           checked_on, checked_by_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         RETURNING number",
    )
    .bind(scope.program_id)
    .bind(number)
    .bind(c.milestone)
    .bind(c.title.as_str())
    .bind(c.owner)
    .bind(c.due)
    .bind(c.checked_on)
    .bind(c.checked_by)
    .bind(c.created_at)
    .fetch_one(&mut *conn)
    .await
    .context("adding to the readiness checklist")?;
    Ok(number)
}

/// Records whether a checklist item is checked, and by whom.
pub async fn update_check(conn: &mut Conn, scope: &Scope, c: &Check) -> anyhow::Result<()> {
    db::query(
        "UPDATE readiness_items SET checked_on = $1, checked_by_id = $2
         WHERE id = $3 AND program_id = $4",
    )
    .bind(c.checked_on)
    .bind(c.checked_by)
    .bind(c.id)
    .bind(scope.program_id)
    .execute(&mut *conn)
    .await
    .context("checking a readiness item")?;
    Ok(())
}

/// Saves the summary that leads the next digest of `note.audience`.
pub async fn insert_digest_note(
    conn: &mut Conn,
    scope: &Scope,
    note: &DigestNote,
) -> anyhow::Result<()> {
    db::query(
        "INSERT INTO digest_notes (program_id, audience, body, author_id, written_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(scope.program_id)
    .bind(note.audience.as_str())
    .bind(&note.body)
    .bind(note.author)
    .bind(note.written_at)
    .execute(&mut *conn)
    .await
    .context("saving a digest note")?;
    Ok(())
}

/// The latest summary for `audience` written after `after`: the one the next digest leads
/// with (a note is for one period; an older one is not repeated).
pub async fn digest_note(
    conn: &mut Conn,
    scope: &Scope,
    audience: Audience,
    after: DateTime<Utc>,
) -> anyhow::Result<Option<DigestNote>> {
    #[derive(serde::Deserialize)]
    struct Row {
        body: String,
        author_id: Option<i64>,
        written_at: DateTime<Utc>,
    }
    // As a JSON read, so that a digest reads it with the program in one statement.
    let rows: Vec<Row> = super::json_rows_with(
        conn,
        "body, author_id, written_at",
        "SELECT body, author_id, written_at FROM digest_notes
         WHERE program_id = $1 AND audience = $2 AND written_at > $3
         ORDER BY written_at DESC, id DESC LIMIT 1",
        "written_at",
        vec![
            scope.program_id.into(),
            audience.as_str().into(),
            after.into(),
        ],
    )
    .await
    .context("reading the digest note")?;
    Ok(rows.into_iter().next().map(|r| DigestNote {
        audience,
        body: r.body,
        author: r.author_id,
        written_at: r.written_at,
    }))
}

/// Records the program's health on `day` (the last word of the day stands).
pub async fn mark_health(
    conn: &mut Conn,
    scope: &Scope,
    day: NaiveDate,
    rag: Rag,
) -> anyhow::Result<()> {
    db::query(
        "INSERT INTO health_marks (program_id, day, rag) VALUES ($1, $2, $3)
         ON CONFLICT (program_id, day) DO UPDATE SET rag = excluded.rag",
    )
    .bind(scope.program_id)
    .bind(day)
    .bind(rag.as_str())
    .execute(&mut *conn)
    .await
    .context("recording the program's health")?;
    Ok(())
}

/// The program's health as last recorded on or before `day` (a period starts the day the
/// digest before it went out).
pub async fn health_before(
    conn: &mut Conn,
    scope: &Scope,
    day: NaiveDate,
) -> anyhow::Result<Option<Rag>> {
    #[derive(serde::Deserialize)]
    struct Row {
        rag: String,
    }
    // As a JSON read, so that a digest reads it with the program in one statement.
    let rows: Vec<Row> = super::json_rows_with(
        conn,
        "rag",
        "SELECT rag FROM health_marks WHERE program_id = $1 AND day <= $2
         ORDER BY day DESC LIMIT 1",
        "rag",
        vec![scope.program_id.into(), day.into()],
    )
    .await
    .context("reading the program's earlier health")?;
    rows.into_iter()
        .next()
        .map(|r| Rag::parse(&r.rag).map_err(anyhow::Error::from))
        .transpose()
}

/// What a digest carries besides the analysis: the TPM's note for the period and, for
/// executives, the health the last digest before the period found.
pub async fn digest_context(
    conn: &mut Conn,
    scope: &Scope,
    p: &Program,
    audience: Audience,
    since: DateTime<Utc>,
) -> anyhow::Result<(Option<String>, Option<Rag>)> {
    let note = digest_note(conn, scope, audience, since)
        .await?
        .map(|n| n.body);
    let was = if audience == Audience::Executive {
        let first_day = since.with_timezone(&p.timezone.tz()).date_naive();
        health_before(conn, scope, first_day).await?
    } else {
        None
    };
    Ok((note, was))
}

/// Every digest note of the program, oldest first (for the program document).
pub async fn digest_notes(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<DigestNote>> {
    let rows: Vec<(String, String, Option<i64>, DateTime<Utc>)> = db::query_as(
        "SELECT audience, body, author_id, written_at FROM digest_notes
         WHERE program_id = $1 ORDER BY written_at, id",
    )
    .bind(scope.program_id)
    .fetch_all(&mut *conn)
    .await
    .context("listing digest notes")?;
    rows.into_iter()
        .map(|(audience, body, author, written_at)| {
            Ok(DigestNote {
                audience: Audience::parse(&audience)?,
                body,
                author,
                written_at,
            })
        })
        .collect()
}
