//! Record numbers: one counter per program and kind of record.

use super::db;
use anyhow::Context as _;

use super::Conn;

/// The kinds of numbered records.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Numbered {
    Dependency,
    Risk,
    Decision,
    Assumption,
    Issue,
    Action,
    Change,
    Readiness,
}

impl Numbered {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Dependency => "dependency",
            Self::Risk => "risk",
            Self::Decision => "decision",
            Self::Assumption => "assumption",
            Self::Issue => "issue",
            Self::Action => "action",
            Self::Change => "change",
            Self::Readiness => "readiness",
        }
    }
}

/// The statement that raises the counter of the program, kind and wanted number given as
/// placeholders (`$1`, …): to `wanted` when it is above 0 and higher, else by one. Shared by
/// [`take_number`] and SQLite's numbered inserts, which run it in the same call.
pub(crate) fn raise_counter(program: &str, wanted: &str, kind: &str) -> String {
    format!(
        "INSERT INTO record_counters (program_id, kind, last)
         VALUES ({program}, {kind}, CASE WHEN {wanted} > 0 THEN {wanted} ELSE 1 END)
         ON CONFLICT (program_id, kind) DO UPDATE SET last = CASE
             WHEN {wanted} > 0 THEN CASE WHEN record_counters.last > {wanted} THEN record_counters.last ELSE {wanted} END
             ELSE record_counters.last + 1 END"
    )
}

/// The number a new record of `kind` takes in the program: one more than the last one
/// taken, or `wanted` when it is given (an import keeps its numbers), which the counter then
/// never falls below. Read and raised in one statement, so no two writers take one number.
pub(crate) async fn take_number(
    conn: &mut Conn,
    program_id: i64,
    kind: Numbered,
    wanted: i64,
) -> anyhow::Result<i64> {
    let (last,): (i64,) = db::query_as(format!(
        "{} RETURNING last",
        raise_counter("$1", "$2", "$3")
    ))
    .bind(program_id)
    .bind(wanted)
    .bind(kind.as_str())
    .fetch_one(&mut *conn)
    .await
    .context("taking a record number")?;
    Ok(if wanted > 0 { wanted } else { last })
}
