//! Programs, their charter, roles, channel bindings, and the event log.

use super::db;
use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};

use super::{Conn, Scope};
use crate::domain::{
    Charter, Event, Key, PersonId, Program, Role, RoleGrant, Tenant, Timezone, Title, WorkDays,
};

#[derive(sqlx::FromRow)]
pub(super) struct ProgramRow {
    id: i64,
    key: String,
    name: String,
    owner_id: i64,
    timezone: String,
    work_days: String,
    holidays: db::Json,
    staleness_days: i64,
    archived: bool,
    created_at: DateTime<Utc>,
    end_key: Option<String>,
}

impl TryFrom<ProgramRow> for Program {
    type Error = anyhow::Error;
    fn try_from(r: ProgramRow) -> anyhow::Result<Self> {
        Ok(Program {
            id: r.id,
            key: Key::parse(&r.key)?,
            name: Title::parse(&r.name)?,
            owner: r.owner_id,
            timezone: Timezone::parse(&r.timezone)?,
            work_days: WorkDays::parse(&r.work_days)?,
            holidays: serde_json::from_str::<Vec<NaiveDate>>(r.holidays.as_str())
                .context("reading a program's holidays")?,
            staleness_days: r.staleness_days.try_into()?,
            archived: r.archived,
            created_at: r.created_at,
            end_key: r.end_key.as_deref().map(Key::parse).transpose()?,
        })
    }
}

const PROGRAM_COLS: &str =
    "id, key, name, owner_id, timezone, work_days, holidays, staleness_days, archived, created_at,
    end_key";

/// [`PROGRAM_COLS`] of a table aliased `p`.
pub(super) const PROGRAM_COLS_P: &str = "p.id, p.key, p.name, p.owner_id, p.timezone, p.work_days,
    p.holidays, p.staleness_days, p.archived, p.created_at, p.end_key";

/// Looks a program up by key within the tenant; the returned scope is the only way in.
pub async fn find_program(
    conn: &mut Conn,
    tenant: &Tenant,
    key: &Key,
) -> anyhow::Result<Option<(Scope, Program)>> {
    // No handle is empty, so this asks for the program alone.
    let found = find_program_for(conn, tenant, key, "").await?;
    Ok(found.map(|f| (f.scope, f.program)))
}

/// What a command needs first, in one round trip: the program, and who the actor is on it.
pub struct ProgramForActor {
    pub scope: Scope,
    pub program: Program,
    /// The actor's person id, if they are known in the tenant.
    pub actor: Option<PersonId>,
    /// The actor's granted role (editor or viewer), if any.
    pub role: Option<Role>,
}

#[derive(sqlx::FromRow)]
struct ProgramForActorRow {
    #[sqlx(flatten)]
    program: ProgramRow,
    actor_id: Option<i64>,
    actor_role: Option<String>,
}

/// How a write command holds its program's row until it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramLock {
    /// Commands writing to one program take turns (`FOR NO KEY UPDATE`).
    Exclusive,
    /// Commands that only add a row under one of its projects (a status update) hold it
    /// together (`FOR SHARE`): they never wait on each other, while every exclusive holder
    /// (removing the project, changing who may post) waits for them, and they for it.
    Shared,
}

/// Locks a program's row until the transaction ends (see [`ProgramLock`]), so what a
/// command reads (states, cycles, permissions) still holds when it writes, while jobs that
/// only add rows pointing at it (messages, events, runs) never wait on them. Nothing on
/// SQLite, whose write transactions already take turns.
pub async fn lock_program(
    conn: &mut Conn,
    tenant: &Tenant,
    key: &Key,
    how: ProgramLock,
) -> anyhow::Result<()> {
    let lock = match how {
        ProgramLock::Exclusive => conn.dialect().for_no_key_update(),
        ProgramLock::Shared => conn.dialect().for_share(),
    };
    if lock.is_empty() {
        return Ok(());
    }
    db::query(format!(
        "SELECT id FROM programs WHERE tenant = $1 AND key = $2{lock}"
    ))
    .bind(tenant.to_string())
    .bind(key.as_str())
    .execute(&mut *conn)
    .await
    .context("locking a program")?;
    Ok(())
}

pub async fn find_program_for(
    conn: &mut Conn,
    tenant: &Tenant,
    key: &Key,
    actor_handle: &str,
) -> anyhow::Result<Option<ProgramForActor>> {
    let row: Option<ProgramForActorRow> = db::query_as(
        "SELECT p.id, p.key, p.name, p.owner_id, p.timezone, p.work_days, p.holidays, p.staleness_days,
                p.archived, p.created_at, p.end_key, a.id AS actor_id, r.role AS actor_role
         FROM programs p
         LEFT JOIN people a ON a.tenant = p.tenant AND a.handle = $3
         LEFT JOIN program_roles r ON r.program_id = p.id AND r.person_id = a.id
         WHERE p.tenant = $1 AND p.key = $2",
    )
    .bind(tenant.to_string())
    .bind(key.as_str())
    .bind(actor_handle)
    .fetch_optional(&mut *conn)
    .await
    .context("looking up a program")?;
    let Some(row) = row else { return Ok(None) };
    let program = Program::try_from(row.program)?;
    Ok(Some(ProgramForActor {
        scope: Scope {
            tenant: tenant.clone(),
            program_id: program.id,
        },
        program,
        actor: row.actor_id,
        role: row.actor_role.as_deref().map(Role::parse).transpose()?,
    }))
}

pub async fn list_programs(conn: &mut Conn, tenant: &Tenant) -> anyhow::Result<Vec<Program>> {
    let rows: Vec<ProgramRow> = db::query_as(format!(
        "SELECT {PROGRAM_COLS} FROM programs WHERE tenant = $1 ORDER BY archived, key"
    ))
    .bind(tenant.to_string())
    .fetch_all(&mut *conn)
    .await
    .context("listing programs")?;
    rows.into_iter().map(Program::try_from).collect()
}

pub struct NewProgram<'a> {
    pub key: &'a Key,
    pub name: &'a Title,
    pub owner: PersonId,
    pub timezone: Timezone,
    pub staleness_days: u32,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_program(
    conn: &mut Conn,
    tenant: &Tenant,
    p: NewProgram<'_>,
) -> anyhow::Result<(Scope, Program)> {
    let row: ProgramRow = db::query_as(format!(
        "INSERT INTO programs (tenant, key, name, owner_id, timezone, staleness_days, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {PROGRAM_COLS}"
    ))
    .bind(tenant.to_string())
    .bind(p.key.as_str())
    .bind(p.name.as_str())
    .bind(p.owner)
    .bind(p.timezone.as_str())
    .bind(p.staleness_days)
    .bind(p.created_at)
    .fetch_one(&mut *conn)
    .await
    .context("creating a program")?;
    let program = Program::try_from(row)?;
    Ok((
        Scope {
            tenant: tenant.clone(),
            program_id: program.id,
        },
        program,
    ))
}

pub async fn update_program(conn: &mut Conn, scope: &Scope, p: &Program) -> anyhow::Result<()> {
    db::query(
        "UPDATE programs SET name = $1, owner_id = $2, timezone = $3, work_days = $4, holidays = $5,
         staleness_days = $6, archived = $7, end_key = $10 WHERE id = $8 AND tenant = $9",
    )
    .bind(p.name.as_str())
    .bind(p.owner)
    .bind(p.timezone.as_str())
    .bind(p.work_days.as_string())
    .bind(db::Json(serde_json::to_string(&p.holidays)?))
    .bind(p.staleness_days)
    .bind(p.archived)
    .bind(scope.program_id)
    .bind(scope.tenant.to_string())
    .bind(p.end_key.as_ref().map(Key::as_str))
    .execute(&mut *conn)
    .await
    .context("updating a program")?;
    Ok(())
}

/// Removes a program and everything in it; only import uses this, to replace a program whole.
pub async fn delete_program(conn: &mut Conn, scope: &Scope) -> anyhow::Result<()> {
    let id = scope.program_id;
    // Children that reference each other go first, so no foreign key is left dangling.
    for sql in [
        "DELETE FROM events WHERE program_id = $1",
        "DELETE FROM status_updates WHERE program_id = $1",
        "DELETE FROM record_counters WHERE program_id = $1",
        "DELETE FROM raid_items WHERE program_id = $1",
        "DELETE FROM readiness_items WHERE program_id = $1",
        "DELETE FROM digest_notes WHERE program_id = $1",
        "DELETE FROM share_links WHERE subject_kind = 'program' AND subject_id = $1",
        "DELETE FROM health_marks WHERE program_id = $1",
        "DELETE FROM change_requests WHERE program_id = $1",
        "DELETE FROM decisions WHERE program_id = $1",
        "DELETE FROM risks WHERE program_id = $1",
        "DELETE FROM dependencies WHERE program_id = $1",
        "DELETE FROM milestones WHERE program_id = $1",
        "DELETE FROM projects WHERE program_id = $1",
        "DELETE FROM program_roles WHERE program_id = $1",
        "DELETE FROM channel_bindings WHERE program_id = $1",
        "DELETE FROM portfolio_programs WHERE program_id = $1",
    ] {
        db::query(sql)
            .bind(id)
            .execute(&mut *conn)
            .await
            .context("clearing a program")?;
    }
    db::query("DELETE FROM programs WHERE id = $1 AND tenant = $2")
        .bind(id)
        .bind(scope.tenant.to_string())
        .execute(&mut *conn)
        .await
        .context("deleting a program")?;
    Ok(())
}

/// What a program holds, counted: the records a program document carries, and what lives
/// beside them in the database (its rhythm, routes, feed and queued messages), which a
/// document does not carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct ProgramContents {
    pub projects: i64,
    pub milestones: i64,
    pub dependencies: i64,
    pub risks: i64,
    pub decisions: i64,
    pub status_updates: i64,
    pub events: i64,
    /// Prompt, reminder and nudge schedules.
    pub schedules: i64,
    /// Digest schedules (subscriptions).
    pub digests: i64,
    pub routes: i64,
    pub snoozes: i64,
    pub calendar_feed: bool,
    /// Messages queued and not yet delivered (pending, or being sent).
    pub undelivered: i64,
}

pub async fn program_contents(conn: &mut Conn, scope: &Scope) -> anyhow::Result<ProgramContents> {
    db::query_as(
        "SELECT
            (SELECT count(*) FROM projects WHERE program_id = $1) AS projects,
            (SELECT count(*) FROM milestones WHERE program_id = $1) AS milestones,
            (SELECT count(*) FROM dependencies WHERE program_id = $1) AS dependencies,
            (SELECT count(*) FROM risks WHERE program_id = $1) AS risks,
            (SELECT count(*) FROM decisions WHERE program_id = $1) AS decisions,
            (SELECT count(*) FROM status_updates WHERE program_id = $1) AS status_updates,
            (SELECT count(*) FROM events WHERE program_id = $1 AND tenant = $2) AS events,
            (SELECT count(*) FROM schedules WHERE program_id = $1 AND kind <> 'digest') AS schedules,
            (SELECT count(*) FROM schedules WHERE program_id = $1 AND kind = 'digest') AS digests,
            (SELECT count(*) FROM routes WHERE program_id = $1) AS routes,
            (SELECT count(*) FROM snoozes WHERE program_id = $1) AS snoozes,
            EXISTS (SELECT 1 FROM ical_feeds WHERE program_id = $1) AS calendar_feed,
            (SELECT count(*) FROM outbox WHERE program_id = $1 AND tenant = $2
                AND state IN ('pending', 'sending')) AS undelivered",
    )
    .bind(scope.program_id)
    .bind(scope.tenant.to_string())
    .fetch_one(&mut *conn)
    .await
    .context("counting what a program holds")
}

/// Clears the records a program document carries, except projects (whose ids routes hang
/// on), so an import can write the document's in their place. The program row, its
/// schedules, routes, snoozes, calendar feed and queued messages stay.
pub async fn clear_program_records(conn: &mut Conn, scope: &Scope) -> anyhow::Result<()> {
    // Children that reference each other go first; slips and edges go with their milestones.
    for (sql, with_tenant) in [
        (
            "DELETE FROM events WHERE program_id = $1 AND tenant = $2",
            true,
        ),
        ("DELETE FROM status_updates WHERE program_id = $1", false),
        ("DELETE FROM record_counters WHERE program_id = $1", false),
        ("DELETE FROM raid_items WHERE program_id = $1", false),
        ("DELETE FROM readiness_items WHERE program_id = $1", false),
        ("DELETE FROM digest_notes WHERE program_id = $1", false),
        ("DELETE FROM change_requests WHERE program_id = $1", false),
        ("DELETE FROM decisions WHERE program_id = $1", false),
        ("DELETE FROM risks WHERE program_id = $1", false),
        ("DELETE FROM dependencies WHERE program_id = $1", false),
        ("DELETE FROM milestones WHERE program_id = $1", false),
        ("DELETE FROM program_roles WHERE program_id = $1", false),
        (
            "DELETE FROM channel_bindings WHERE program_id = $1 AND tenant = $2",
            true,
        ),
    ] {
        let mut q = db::query(sql).bind(scope.program_id);
        if with_tenant {
            q = q.bind(scope.tenant.to_string());
        }
        q.execute(&mut *conn)
            .await
            .context("clearing a program's records")?;
    }
    Ok(())
}

/// Sets when the program was created: only import, which carries the original time.
pub async fn set_program_created_at(
    conn: &mut Conn,
    scope: &Scope,
    created_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    db::query("UPDATE programs SET created_at = $1 WHERE id = $2 AND tenant = $3")
        .bind(created_at)
        .bind(scope.program_id)
        .bind(scope.tenant.to_string())
        .execute(&mut *conn)
        .await
        .context("setting a program's creation time")?;
    Ok(())
}

pub async fn charter(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Charter> {
    #[derive(serde::Deserialize)]
    struct Row {
        goal: String,
        scope_in: String,
        scope_out: String,
        success_metrics: String,
        stakeholders: String,
    }
    // As a JSON read, so that a snapshot reads it with everything else in one statement.
    let rows: Vec<Row> = super::json_rows(
        conn,
        "goal, scope_in, scope_out, success_metrics, stakeholders",
        "SELECT goal, scope_in, scope_out, success_metrics, stakeholders FROM programs WHERE id = $1",
        "goal",
        scope.program_id,
    )
    .await
    .context("loading the charter")?;
    // None while reads are being recorded (see [`super::in_one_statement`]).
    Ok(rows
        .into_iter()
        .next()
        .map(|r| Charter {
            goal: r.goal,
            scope_in: r.scope_in,
            scope_out: r.scope_out,
            success_metrics: r.success_metrics,
            stakeholders: r.stakeholders,
        })
        .unwrap_or_default())
}

pub async fn set_charter(conn: &mut Conn, scope: &Scope, c: &Charter) -> anyhow::Result<()> {
    db::query(
        "UPDATE programs SET goal = $1, scope_in = $2, scope_out = $3, success_metrics = $4, stakeholders = $5
         WHERE id = $6",
    )
    .bind(&c.goal)
    .bind(&c.scope_in)
    .bind(&c.scope_out)
    .bind(&c.success_metrics)
    .bind(&c.stakeholders)
    .bind(scope.program_id)
    .execute(&mut *conn)
    .await
    .context("saving the charter")?;
    Ok(())
}

/// The person's explicit role on the program (the owner is on the program row).
pub async fn granted_role(
    conn: &mut Conn,
    scope: &Scope,
    person: PersonId,
) -> anyhow::Result<Option<Role>> {
    let role: Option<(String,)> =
        db::query_as("SELECT role FROM program_roles WHERE program_id = $1 AND person_id = $2")
            .bind(scope.program_id)
            .bind(person)
            .fetch_optional(&mut *conn)
            .await
            .context("looking up a role")?;
    role.map(|(r,)| Role::parse(&r).map_err(Into::into))
        .transpose()
}

pub async fn roles(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<RoleGrant>> {
    let rows: Vec<(i64, String)> = db::query_as(
        "SELECT person_id, role FROM program_roles WHERE program_id = $1 ORDER BY role, person_id",
    )
    .bind(scope.program_id)
    .fetch_all(&mut *conn)
    .await
    .context("listing roles")?;
    rows.into_iter()
        .map(|(person, r)| {
            Ok(RoleGrant {
                person,
                role: Role::parse(&r)?,
            })
        })
        .collect()
}

pub async fn grant_role(
    conn: &mut Conn,
    scope: &Scope,
    person: PersonId,
    role: Role,
) -> anyhow::Result<()> {
    db::query(
        "INSERT INTO program_roles (program_id, person_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (program_id, person_id) DO UPDATE SET role = excluded.role",
    )
    .bind(scope.program_id)
    .bind(person)
    .bind(role.as_str())
    .execute(&mut *conn)
    .await
    .context("granting a role")?;
    Ok(())
}

pub async fn revoke_role(conn: &mut Conn, scope: &Scope, person: PersonId) -> anyhow::Result<bool> {
    let done = db::query("DELETE FROM program_roles WHERE program_id = $1 AND person_id = $2")
        .bind(scope.program_id)
        .bind(person)
        .execute(&mut *conn)
        .await
        .context("revoking a role")?;
    Ok(done.rows_affected() > 0)
}

pub async fn bind_channel(conn: &mut Conn, scope: &Scope, channel: &str) -> anyhow::Result<()> {
    db::query(
        "INSERT INTO channel_bindings (tenant, channel, program_id) VALUES ($1, $2, $3)
         ON CONFLICT (tenant, channel) DO UPDATE SET program_id = excluded.program_id",
    )
    .bind(scope.tenant.to_string())
    .bind(channel)
    .bind(scope.program_id)
    .execute(&mut *conn)
    .await
    .context("binding a channel")?;
    Ok(())
}

pub async fn bound_channels(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<String>> {
    let rows: Vec<(String,)> =
        db::query_as("SELECT channel FROM channel_bindings WHERE program_id = $1 ORDER BY channel")
            .bind(scope.program_id)
            .fetch_all(&mut *conn)
            .await
            .context("listing bound channels")?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

/// The key of the program a channel is bound to.
pub async fn bound_program(
    conn: &mut Conn,
    tenant: &Tenant,
    channel: &str,
) -> anyhow::Result<Option<Key>> {
    let row: Option<(String,)> = db::query_as(
        "SELECT p.key FROM channel_bindings b JOIN programs p ON p.id = b.program_id
         WHERE b.tenant = $1 AND b.channel = $2 AND p.tenant = b.tenant",
    )
    .bind(tenant.to_string())
    .bind(channel)
    .fetch_optional(&mut *conn)
    .await
    .context("looking up a channel binding")?;
    row.map(|(k,)| Key::parse(&k).map_err(Into::into))
        .transpose()
}

/// One change, as it goes into the append-only log.
pub struct NewEvent<'a> {
    pub actor: Option<PersonId>,
    pub at: DateTime<Utc>,
    pub kind: &'a str,
    pub subject: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub async fn append_event(
    conn: &mut Conn,
    tenant: &Tenant,
    scope: Option<&Scope>,
    e: NewEvent<'_>,
) -> anyhow::Result<()> {
    if let Some(s) = scope {
        anyhow::ensure!(&s.tenant == tenant, "event scope is from another tenant");
    }
    db::query(
        "INSERT INTO events (tenant, program_id, actor_id, at, kind, subject, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant.to_string())
    .bind(scope.map(|s| s.program_id))
    .bind(e.actor)
    .bind(e.at)
    .bind(e.kind)
    .bind(&e.subject)
    .bind(e.before.map(|v| db::Json(v.to_string())))
    .bind(e.after.map(|v| db::Json(v.to_string())))
    .execute(&mut *conn)
    .await
    .context("recording an event")?;
    Ok(())
}

/// Appends many events in order, a few hundred to a statement (a batch plan's events,
/// kept until its lines have run). Each entry is its program (or none) and the event.
pub async fn append_events(
    conn: &mut Conn,
    tenant: &Tenant,
    events: &[(Option<i64>, NewEvent<'_>)],
) -> anyhow::Result<()> {
    // Eight arguments a row, 50 rows a statement: SQLite looks each numbered argument up by
    // name in a list, so binding grows with the square of a statement's arguments.
    for chunk in events.chunks(50) {
        let mut sql = String::from(
            "INSERT INTO events (tenant, program_id, actor_id, at, kind, subject, before, after) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 8;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8
            ));
        }
        let mut q = db::query(sql);
        for (program_id, e) in chunk {
            q = q
                .bind(tenant.to_string())
                .bind(*program_id)
                .bind(e.actor)
                .bind(e.at)
                .bind(e.kind)
                .bind(&e.subject)
                .bind(e.before.as_ref().map(|v| db::Json(v.to_string())))
                .bind(e.after.as_ref().map(|v| db::Json(v.to_string())));
        }
        q.execute(&mut *conn).await.context("recording events")?;
    }
    Ok(())
}

pub async fn events(conn: &mut Conn, scope: &Scope) -> anyhow::Result<Vec<Event>> {
    events_since(conn, scope, None).await
}

/// The program's events after `since` (all of them for `None`), oldest first. Read as one
/// JSON array, like [`super::json_rows`], with the stored payloads embedded as JSON.
pub async fn events_since(
    conn: &mut Conn,
    scope: &Scope,
    since: Option<DateTime<Utc>>,
) -> anyhow::Result<Vec<Event>> {
    #[derive(serde::Deserialize)]
    struct Row {
        id: i64,
        at: DateTime<Utc>,
        actor_id: Option<i64>,
        kind: String,
        subject: String,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    }
    // Two shapes, so a window uses the (program_id, at) index as a range.
    let window = if since.is_some() {
        "AND at > $3"
    } else {
        "AND $3 IS NULL"
    };
    // A payload that is not valid JSON reads as missing rather than failing the load.
    let dialect = conn.dialect();
    let sql = dialect.json_array(
        &format!(
            "'id', id, 'at', at, 'actor_id', actor_id, 'kind', kind, 'subject', subject,
             'before', {}, 'after', {}",
            dialect.embed_json("before"),
            dialect.embed_json("after")
        ),
        &format!(
            "SELECT id, at, actor_id, kind, subject, before, after
             FROM events WHERE program_id = $1 AND tenant = $2 {window}"
        ),
        "id",
    );
    let json = db::json_text(
        conn,
        sql,
        vec![
            scope.program_id.into(),
            scope.tenant.to_string().into(),
            since.into(),
        ],
    )
    .await
    .context("loading events")?;
    let rows: Vec<Row> = serde_json::from_str(&json).context("decoding events")?;
    Ok(rows
        .into_iter()
        .map(|r| Event {
            id: r.id,
            at: r.at,
            actor: r.actor_id,
            kind: r.kind,
            subject: r.subject,
            before: r.before,
            after: r.after,
        })
        .collect())
}

pub async fn event_count(conn: &mut Conn, tenant: &Tenant) -> anyhow::Result<i64> {
    let (n,): (i64,) = db::query_as("SELECT count(*) FROM events WHERE tenant = $1")
        .bind(tenant.to_string())
        .fetch_one(&mut *conn)
        .await?;
    Ok(n)
}
