//! People in a tenant.

use super::db;
use std::collections::HashMap;

use anyhow::Context as _;
use chrono::NaiveDate;

use super::Conn;
use crate::domain::{Email, Person, PersonId, Tenant, Timezone};

#[derive(sqlx::FromRow, serde::Deserialize)]
struct PersonRow {
    id: i64,
    handle: String,
    display_name: String,
    timezone: Option<String>,
    away_until: Option<NaiveDate>,
    delegate_id: Option<i64>,
    email: Option<String>,
}

impl TryFrom<PersonRow> for Person {
    type Error = anyhow::Error;
    fn try_from(r: PersonRow) -> anyhow::Result<Self> {
        Ok(Person {
            id: r.id,
            handle: r.handle,
            display_name: r.display_name,
            timezone: r.timezone.as_deref().map(Timezone::parse).transpose()?,
            away_until: r.away_until,
            delegate: r.delegate_id,
            email: r.email.as_deref().map(Email::parse).transpose()?,
        })
    }
}

const PERSON_COLS: &str = "id, handle, display_name, timezone, away_until, delegate_id, email";

pub async fn person_by_handle(
    conn: &mut Conn,
    tenant: &Tenant,
    handle: &str,
) -> anyhow::Result<Option<Person>> {
    let row: Option<PersonRow> = db::query_as(format!(
        "SELECT {PERSON_COLS} FROM people WHERE tenant = $1 AND handle = $2"
    ))
    .bind(tenant.to_string())
    .bind(handle)
    .fetch_optional(&mut *conn)
    .await
    .context("looking up a person")?;
    row.map(Person::try_from).transpose()
}

/// People whose display name matches, ignoring case.
pub async fn people_by_display_name(
    conn: &mut Conn,
    tenant: &Tenant,
    name: &str,
) -> anyhow::Result<Vec<Person>> {
    let rows: Vec<PersonRow> = db::query_as(format!(
        "SELECT {PERSON_COLS} FROM people WHERE tenant = $1 AND lower(display_name) = lower($2)"
    ))
    .bind(tenant.to_string())
    .bind(name)
    .fetch_all(&mut *conn)
    .await
    .context("looking up a person by name")?;
    rows.into_iter().map(Person::try_from).collect()
}

pub async fn person(conn: &mut Conn, tenant: &Tenant, id: PersonId) -> anyhow::Result<Person> {
    let row: PersonRow = db::query_as(format!(
        "SELECT {PERSON_COLS} FROM people WHERE tenant = $1 AND id = $2"
    ))
    .bind(tenant.to_string())
    .bind(id)
    .fetch_one(&mut *conn)
    .await
    .with_context(|| format!("loading person {id}"))?;
    row.try_into()
}

/// The person with this email address, ignoring case.
pub async fn person_by_email(
    conn: &mut Conn,
    tenant: &Tenant,
    email: &str,
) -> anyhow::Result<Option<Person>> {
    let row: Option<PersonRow> = db::query_as(format!(
        "SELECT {PERSON_COLS} FROM people WHERE tenant = $1 AND email IS NOT NULL AND lower(email) = lower($2)"
    ))
    .bind(tenant.to_string())
    .bind(email)
    .fetch_optional(&mut *conn)
    .await
    .context("looking up a person by email")?;
    row.map(Person::try_from).transpose()
}

/// Everyone in the tenant, by id: what renderers need to name people.
pub async fn people(conn: &mut Conn, tenant: &Tenant) -> anyhow::Result<HashMap<PersonId, Person>> {
    // One JSON array rather than a row each: a tenant may have thousands of people.
    let rows: Vec<PersonRow> = super::json_rows(
        conn,
        PERSON_COLS,
        &format!("SELECT {PERSON_COLS} FROM people WHERE tenant = $1"),
        "id",
        tenant.to_string(),
    )
    .await
    .context("loading people")?;
    rows.into_iter()
        .map(|r| Person::try_from(r).map(|p| (p.id, p)))
        .collect()
}

/// Finds the person with this handle, creating them if they are new to the tenant.
pub async fn ensure_person(
    conn: &mut Conn,
    tenant: &Tenant,
    handle: &str,
    display_name: &str,
) -> anyhow::Result<Person> {
    if let Some(mut p) = person_by_handle(conn, tenant, handle).await? {
        // Someone mentioned before they ever acted is known by their id until now.
        if p.display_name == handle && !display_name.trim().is_empty() && display_name != handle {
            name_person(conn, tenant, handle, display_name).await?;
            p.display_name = display_name.trim().to_owned();
        }
        return Ok(p);
    }
    let row: PersonRow = db::query_as(format!(
        "INSERT INTO people (tenant, handle, display_name) VALUES ($1, $2, $3) RETURNING {PERSON_COLS}"
    ))
    .bind(tenant.to_string())
    .bind(handle)
    .bind(display_name)
    .fetch_one(&mut *conn)
    .await
    .context("adding a person")?;
    row.try_into()
}

pub async fn update_person(conn: &mut Conn, tenant: &Tenant, p: &Person) -> anyhow::Result<()> {
    db::query(
        "UPDATE people SET display_name = $1, timezone = $2, away_until = $3, delegate_id = $4,
         email = $7
         WHERE tenant = $5 AND id = $6",
    )
    .bind(&p.display_name)
    .bind(p.timezone.map(|t| t.as_str().to_owned()))
    .bind(p.away_until)
    .bind(p.delegate)
    .bind(tenant.to_string())
    .bind(p.id)
    .bind(p.email.as_ref().map(|e| e.as_str().to_owned()))
    .execute(&mut *conn)
    .await
    .context("updating a person")?;
    Ok(())
}

/// Gives a person first known only by their platform id (mentioned before they ever acted)
/// the name the platform shows; a name already set stays.
pub async fn name_person(
    conn: &mut Conn,
    tenant: &Tenant,
    handle: &str,
    display_name: &str,
) -> anyhow::Result<()> {
    let name = display_name.trim();
    if name.is_empty() || name == handle {
        return Ok(());
    }
    db::query(
        "UPDATE people SET display_name = $1 WHERE tenant = $2 AND handle = $3 AND display_name = handle",
    )
    .bind(name)
    .bind(tenant.to_string())
    .bind(handle)
    .execute(&mut *conn)
    .await
    .context("naming a person")?;
    Ok(())
}
