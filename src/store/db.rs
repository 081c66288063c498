//! One way to run SQL on either database. A query is its SQL (written once, with `$N`
//! placeholders, which SQLite reads too) and its arguments as plain values ([`Arg`]); each
//! backend binds them with its own types when the query runs. Rows decode through
//! `sqlx::FromRow`, which is generic over the row type, so one row struct serves both.
//! sqlx's `Any` driver is not used: it has no chrono types and rewrites no placeholders.

use std::marker::PhantomData;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgConnection, PgRow, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Arguments as _, Decode, FromRow, Postgres, Sqlite, Transaction, Type};

/// Which database a connection speaks to, for the few statements written twice (see
/// [`Dialect`] methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        }
    }

    /// `SELECT` of one text value: the rows of `inner` as a JSON array of objects, each
    /// entry of `object` a `'name', expr` pair, ordered by `order`.
    pub fn json_array(self, object: &str, inner: &str, order: &str) -> String {
        match self {
            Dialect::Sqlite => format!(
                "SELECT coalesce(json_group_array(json_object({object}) ORDER BY {order}), '[]') FROM ({inner})"
            ),
            Dialect::Postgres => format!(
                "SELECT coalesce(json_agg(json_build_object({object}) ORDER BY {order}), '[]')::text FROM ({inner}) AS rows"
            ),
        }
    }

    /// `column` holding stored JSON, as an expression that embeds it in a JSON object as
    /// JSON rather than as a string (`NULL` when SQLite holds something that is not JSON).
    pub fn embed_json(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("CASE WHEN json_valid({column}) THEN json({column}) END"),
            Dialect::Postgres => column.to_string(),
        }
    }

    /// A subquery: the values of `column` in `from_where` (a table and its condition),
    /// ascending, joined by commas (`NULL` when there are none).
    pub fn joined_ids(self, column: &str, from_where: &str) -> String {
        match self {
            Dialect::Sqlite => format!(
                "(SELECT group_concat({column}) FROM (SELECT {column} FROM {from_where} ORDER BY {column}))"
            ),
            Dialect::Postgres => format!(
                "(SELECT string_agg({column}::text, ',' ORDER BY {column}) FROM {from_where})"
            ),
        }
    }

    /// Locks the rows a `SELECT` reads until the transaction ends: `FOR UPDATE` on
    /// PostgreSQL; nothing on SQLite, whose write transactions already exclude each other.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// Locks the rows a `SELECT` reads against other writers of them, but not against rows
    /// that only point at them (`FOR NO KEY UPDATE`: inserting a row that references a
    /// locked program does not wait). Nothing on SQLite.
    pub fn for_no_key_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR NO KEY UPDATE",
        }
    }

    /// Locks the rows a `SELECT` reads against writers of them, but not against other
    /// holders of this lock (`FOR SHARE`). Nothing on SQLite.
    pub fn for_share(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR SHARE",
        }
    }

    /// Like [`Dialect::for_update`], skipping rows another transaction holds.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// A connection to one of the two databases, borrowed for one statement; or none, while
/// whole-program reads are being gathered (see [`Gather`]), when any other statement is
/// refused.
pub enum Backend<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
    Gathering,
}

/// Whether `sql` only reads: a `SELECT`, or a `WITH` that changes no table.
fn is_read(sql: &str) -> bool {
    let head: String = sql
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
        .chars()
        .take(6)
        .collect::<String>()
        .to_ascii_uppercase();
    if head == "SELECT" {
        return true;
    }
    if !head.starts_with("WITH") {
        return false;
    }
    let words = sql.to_ascii_uppercase();
    !words
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| matches!(w, "INSERT" | "UPDATE" | "DELETE"))
}

/// The backend to run `sql` on, refusing anything but a read where only reads may run.
fn backend_for<'a>(conn: &'a mut Conn, sql: &str) -> Result<Backend<'a>, sqlx::Error> {
    if conn.reads_only() && !is_read(sql) {
        return Err(sqlx::Error::Protocol(format!(
            "a statement that is not a read was run in a read: {}",
            sql.split_whitespace().take(4).collect::<Vec<_>>().join(" ")
        )));
    }
    Ok(conn.backend())
}

fn not_while_gathering() -> sqlx::Error {
    sqlx::Error::Protocol(
        "a statement other than a whole-program read was run while reads were being gathered"
            .into(),
    )
}

/// Anything a statement can run on: a connection, a pooled one, or a transaction.
pub trait Db: Send {
    fn backend(&mut self) -> Backend<'_>;
    fn dialect(&self) -> Dialect;
    /// Only reads may run on it (see [`crate::store::Store::read`]): any other statement is
    /// refused before it is sent.
    fn reads_only(&self) -> bool {
        false
    }
    /// Whole-program reads being gathered into one statement (see [`Gather`]); `None` for a
    /// plain connection, which runs each read as it comes.
    fn gather(&mut self) -> Option<&mut Gathered> {
        None
    }
}

/// The whole-program reads (each one JSON text: see `store::json_rows`) of a run of
/// loaders, gathered so that the database answers all of them in one statement rather than
/// one round trip each. The loaders run twice over a [`Gather`]: first recording the reads
/// they would make (each answered `[]`), then, once the one statement has run, taking its
/// answers in the same order.
pub enum Gathered {
    Record(Vec<(String, Vec<Arg>)>),
    Replay(std::collections::VecDeque<String>),
}

/// Stands for a connection while whole-program reads are gathered (see [`Gathered`]): it
/// records them, or answers them from the one statement that ran them; it runs nothing
/// itself.
pub struct Gather {
    dialect: Dialect,
    state: Gathered,
}

impl Gather {
    /// Records the reads made through it, for a connection to `dialect`.
    pub fn record(dialect: Dialect) -> Self {
        Self {
            dialect,
            state: Gathered::Record(Vec::new()),
        }
    }

    /// Runs the recorded reads on `conn` as one statement; the reads made through it next
    /// are answered, in order, from it.
    pub async fn replay(self, conn: &mut Conn) -> anyhow::Result<Self> {
        let Gathered::Record(reads) = self.state else {
            anyhow::bail!("only recorded reads can be replayed");
        };
        Ok(Self {
            dialect: self.dialect,
            state: Gathered::Replay(run_gathered(conn, reads).await?),
        })
    }
}

impl Db for Gather {
    fn backend(&mut self) -> Backend<'_> {
        Backend::Gathering
    }
    fn dialect(&self) -> Dialect {
        self.dialect
    }
    fn gather(&mut self) -> Option<&mut Gathered> {
        Some(&mut self.state)
    }
}

/// One JSON text from `sql` with `args`: run now, or gathered (see [`Gathered`]).
pub(crate) async fn json_text(
    conn: &mut Conn,
    sql: String,
    args: Vec<Arg>,
) -> anyhow::Result<String> {
    match conn.gather() {
        Some(Gathered::Record(reads)) => {
            reads.push((sql, args));
            return Ok("[]".into());
        }
        Some(Gathered::Replay(answers)) => {
            return answers.pop_front().ok_or_else(|| {
                anyhow::anyhow!("a gathered read was asked for more than it recorded")
            });
        }
        None => {}
    }
    let mut q = query_as::<(String,)>(sql);
    for a in args {
        q = q.bind(a);
    }
    let (json,) = q.fetch_one(conn).await?;
    Ok(json)
}

/// The reads as one statement: their texts joined by the ASCII record separator, which
/// JSON text never holds unescaped; each read's `$N` renumbered after the reads before it.
async fn run_gathered(
    conn: &mut Conn,
    reads: Vec<(String, Vec<Arg>)>,
) -> anyhow::Result<std::collections::VecDeque<String>> {
    if reads.is_empty() {
        return Ok(Default::default());
    }
    let count = reads.len();
    let separator = match conn.dialect() {
        Dialect::Sqlite => " || char(30) || ",
        Dialect::Postgres => " || chr(30) || ",
    };
    let mut sql = String::from("SELECT ");
    let mut args: Vec<Arg> = Vec::new();
    for (i, (read, binds)) in reads.into_iter().enumerate() {
        if i > 0 {
            sql.push_str(separator);
        }
        sql.push('(');
        sql.push_str(&renumber(&read, args.len()));
        sql.push(')');
        args.extend(binds);
    }
    let mut q = query_as::<(String,)>(sql);
    for a in args {
        q = q.bind(a);
    }
    let (text,) = q.fetch_one(conn).await?;
    let answers: std::collections::VecDeque<String> =
        text.split('\u{1e}').map(str::to_owned).collect();
    anyhow::ensure!(
        answers.len() == count,
        "a gathered read gave {} answers for {count} reads",
        answers.len()
    );
    Ok(answers)
}

/// `sql` with every placeholder `$N` written `$(N + by)`.
fn renumber(sql: &str, by: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut digits = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            digits.push(*d);
            chars.next();
        }
        match digits.parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&digits),
        }
    }
    out
}

/// What store functions take: a connection or transaction of either database.
pub type Conn = dyn Db;

impl Db for SqliteConnection {
    fn backend(&mut self) -> Backend<'_> {
        Backend::Sqlite(self)
    }
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

impl Db for PgConnection {
    fn backend(&mut self) -> Backend<'_> {
        Backend::Postgres(self)
    }
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}

impl Db for PoolConnection<Sqlite> {
    fn backend(&mut self) -> Backend<'_> {
        Backend::Sqlite(&mut *self)
    }
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

impl Db for PoolConnection<Postgres> {
    fn backend(&mut self) -> Backend<'_> {
        Backend::Postgres(&mut *self)
    }
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}

impl Db for Transaction<'static, Sqlite> {
    fn backend(&mut self) -> Backend<'_> {
        Backend::Sqlite(&mut *self)
    }
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

impl Db for Transaction<'static, Postgres> {
    fn backend(&mut self) -> Backend<'_> {
        Backend::Postgres(&mut *self)
    }
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}

/// A pooled connection of either database.
pub enum Pooled {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Db for Pooled {
    fn backend(&mut self) -> Backend<'_> {
        match self {
            Pooled::Sqlite(c) => Backend::Sqlite(&mut *c),
            Pooled::Postgres(c) => Backend::Postgres(&mut *c),
        }
    }
    fn dialect(&self) -> Dialect {
        match self {
            Pooled::Sqlite(_) => Dialect::Sqlite,
            Pooled::Postgres(_) => Dialect::Postgres,
        }
    }
}

impl std::ops::Deref for Pooled {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut Conn {
        self
    }
}

/// Stored JSON: `TEXT` on SQLite, `jsonb` on PostgreSQL, text in Rust either way. Bind it
/// with [`Arg::Json`] (or `Json(text)`), read it as a row field of this type.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct Json(pub String);

impl Json {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Type<Sqlite> for Json {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Sqlite> for Json {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(Json(<String as Decode<Sqlite>>::decode(value)?))
    }
}

impl Type<Postgres> for Json {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_name("jsonb")
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <sqlx::types::Json<serde_json::Value> as Type<Postgres>>::compatible(ty)
            || <String as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for Json {
    fn decode(value: PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        use sqlx::ValueRef as _;
        let info = value.type_info();
        if <String as Type<Postgres>>::compatible(&info) {
            return Ok(Json(<String as Decode<Postgres>>::decode(value)?));
        }
        let sqlx::types::Json(v) =
            <sqlx::types::Json<Box<serde_json::value::RawValue>> as Decode<Postgres>>::decode(
                value,
            )?;
        Ok(Json(v.get().to_string()))
    }
}

/// One argument of a query, bound with the type each backend expects.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Date(Option<NaiveDate>),
    Instant(Option<DateTime<Utc>>),
    Json(Option<String>),
    Bytes(Option<Vec<u8>>),
}

macro_rules! arg_from {
    ($variant:ident: $($t:ty => $conv:expr),* $(,)?) => {$(
        impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                #[allow(clippy::redundant_closure_call)]
                Arg::$variant(Some(($conv)(v)))
            }
        }
        impl From<Option<$t>> for Arg {
            fn from(v: Option<$t>) -> Self {
                #[allow(clippy::redundant_closure_call)]
                Arg::$variant(v.map($conv))
            }
        }
    )*};
}

arg_from!(Int: i64 => |v| v, i32 => i64::from, u32 => i64::from, u16 => i64::from, u8 => i64::from);
arg_from!(Real: f64 => |v| v);
arg_from!(Bool: bool => |v| v);
arg_from!(Text: String => |v| v, &str => str::to_string, &String => String::clone);
arg_from!(Date: NaiveDate => |v| v, &NaiveDate => |v: &NaiveDate| *v);
arg_from!(Instant: DateTime<Utc> => |v| v, &DateTime<Utc> => |v: &DateTime<Utc>| *v);
arg_from!(Json: Json => |v: Json| v.0, &Json => |v: &Json| v.0.clone());
arg_from!(Bytes: Vec<u8> => |v| v, &[u8] => <[u8]>::to_vec, &Vec<u8> => Vec::clone);

impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Arg::Text(v.clone())
    }
}

impl From<usize> for Arg {
    fn from(v: usize) -> Self {
        Arg::Int(Some(i64::try_from(v).unwrap_or(i64::MAX)))
    }
}

fn sqlite_args(args: Vec<Arg>) -> Result<SqliteArguments<'static>, sqlx::Error> {
    let mut out = SqliteArguments::default();
    for arg in args {
        match arg {
            Arg::Int(v) => out.add(v),
            Arg::Real(v) => out.add(v),
            Arg::Bool(v) => out.add(v),
            Arg::Text(v) | Arg::Json(v) => out.add(v),
            Arg::Date(v) => out.add(v),
            Arg::Instant(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

fn pg_args(args: Vec<Arg>) -> Result<PgArguments, sqlx::Error> {
    let mut out = PgArguments::default();
    for arg in args {
        match arg {
            Arg::Int(v) => out.add(v),
            Arg::Real(v) => out.add(v),
            Arg::Bool(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::Json(v) => {
                let v = v
                    .map(|s| serde_json::from_str::<serde_json::Value>(&s))
                    .transpose()
                    .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                out.add(v.map(sqlx::types::Json))
            }
            Arg::Date(v) => out.add(v),
            Arg::Instant(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

/// A row type both backends can decode.
pub trait Row: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> {}
impl<T> Row for T where T: Send + Unpin + for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow>
{}

/// A single value both backends can decode.
pub trait Value:
    Send
    + Unpin
    + Type<Sqlite>
    + for<'r> Decode<'r, Sqlite>
    + Type<Postgres>
    + for<'r> Decode<'r, Postgres>
{
}
impl<T> Value for T where
    T: Send
        + Unpin
        + Type<Sqlite>
        + for<'r> Decode<'r, Sqlite>
        + Type<Postgres>
        + for<'r> Decode<'r, Postgres>
{
}

/// What a statement changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

/// A statement and its arguments; `O` is the row type it reads, `()` when it reads none.
#[must_use = "a query does nothing until it is run"]
pub struct Query<O = ()> {
    sql: String,
    args: Vec<Arg>,
    out: PhantomData<fn() -> O>,
}

/// A statement that reads no rows (or whose rows are not wanted).
pub fn query(sql: impl Into<String>) -> Query<()> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
        out: PhantomData,
    }
}

/// A statement whose rows decode as `O`.
pub fn query_as<O: Row>(sql: impl Into<String>) -> Query<O> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
        out: PhantomData,
    }
}

/// A statement whose rows are one value each.
pub fn query_scalar<O: Value>(sql: impl Into<String>) -> Scalar<O> {
    Scalar(Query {
        sql: sql.into(),
        args: Vec::new(),
        out: PhantomData,
    })
}

impl<O> Query<O> {
    pub fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub async fn execute(self, conn: &mut Conn) -> Result<Done, sqlx::Error> {
        let rows_affected = match backend_for(conn, &self.sql)? {
            Backend::Sqlite(c) => sqlx::query_with(&self.sql, sqlite_args(self.args)?)
                .execute(c)
                .await?
                .rows_affected(),
            Backend::Postgres(c) => sqlx::query_with(&self.sql, pg_args(self.args)?)
                .execute(c)
                .await?
                .rows_affected(),
            Backend::Gathering => return Err(not_while_gathering()),
        };
        Ok(Done { rows_affected })
    }
}

impl<O: Row> Query<O> {
    pub async fn fetch_all(self, conn: &mut Conn) -> Result<Vec<O>, sqlx::Error> {
        match backend_for(conn, &self.sql)? {
            Backend::Sqlite(c) => {
                sqlx::query_as_with(&self.sql, sqlite_args(self.args)?)
                    .fetch_all(c)
                    .await
            }
            Backend::Postgres(c) => {
                sqlx::query_as_with(&self.sql, pg_args(self.args)?)
                    .fetch_all(c)
                    .await
            }
            Backend::Gathering => Err(not_while_gathering()),
        }
    }

    pub async fn fetch_optional(self, conn: &mut Conn) -> Result<Option<O>, sqlx::Error> {
        match backend_for(conn, &self.sql)? {
            Backend::Sqlite(c) => {
                sqlx::query_as_with(&self.sql, sqlite_args(self.args)?)
                    .fetch_optional(c)
                    .await
            }
            Backend::Postgres(c) => {
                sqlx::query_as_with(&self.sql, pg_args(self.args)?)
                    .fetch_optional(c)
                    .await
            }
            Backend::Gathering => Err(not_while_gathering()),
        }
    }

    pub async fn fetch_one(self, conn: &mut Conn) -> Result<O, sqlx::Error> {
        self.fetch_optional(conn)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }
}

/// A statement whose rows are one value each: see [`query_scalar`].
#[must_use = "a query does nothing until it is run"]
pub struct Scalar<O>(Query<O>);

impl<O: Value> Scalar<O> {
    pub fn bind(self, value: impl Into<Arg>) -> Self {
        Scalar(self.0.bind(value))
    }

    pub async fn fetch_all(self, conn: &mut Conn) -> Result<Vec<O>, sqlx::Error> {
        let q = self.0;
        match backend_for(conn, &q.sql)? {
            Backend::Sqlite(c) => {
                sqlx::query_scalar_with(&q.sql, sqlite_args(q.args)?)
                    .fetch_all(c)
                    .await
            }
            Backend::Postgres(c) => {
                sqlx::query_scalar_with(&q.sql, pg_args(q.args)?)
                    .fetch_all(c)
                    .await
            }
            Backend::Gathering => Err(not_while_gathering()),
        }
    }

    pub async fn fetch_optional(self, conn: &mut Conn) -> Result<Option<O>, sqlx::Error> {
        let q = self.0;
        match backend_for(conn, &q.sql)? {
            Backend::Sqlite(c) => {
                sqlx::query_scalar_with(&q.sql, sqlite_args(q.args)?)
                    .fetch_optional(c)
                    .await
            }
            Backend::Postgres(c) => {
                sqlx::query_scalar_with(&q.sql, pg_args(q.args)?)
                    .fetch_optional(c)
                    .await
            }
            Backend::Gathering => Err(not_while_gathering()),
        }
    }

    pub async fn fetch_one(self, conn: &mut Conn) -> Result<O, sqlx::Error> {
        self.fetch_optional(conn)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }
}

/// Rows of `sql`, each column decoded as its [`crate::store::tables::Kind`] into an [`Arg`]
/// that can be bound again (to copy rows between databases) or compared.
pub async fn fetch_values(
    conn: &mut Conn,
    sql: &str,
    kinds: &[super::tables::Kind],
) -> Result<Vec<Vec<Arg>>, sqlx::Error> {
    use super::tables::Kind;
    use sqlx::Row as _;
    macro_rules! decode_rows {
        ($rows:expr) => {{
            let mut out = Vec::with_capacity($rows.len());
            for row in &$rows {
                let mut values = Vec::with_capacity(kinds.len());
                for (i, kind) in kinds.iter().enumerate() {
                    values.push(match kind {
                        Kind::Int => Arg::Int(row.try_get(i)?),
                        Kind::Bool => Arg::Bool(row.try_get(i)?),
                        Kind::Text => Arg::Text(row.try_get(i)?),
                        Kind::Date => Arg::Date(row.try_get(i)?),
                        Kind::Instant => Arg::Instant(row.try_get(i)?),
                        Kind::Json => Arg::Json(row.try_get::<Option<Json>, _>(i)?.map(|j| j.0)),
                        Kind::Bytes => Arg::Bytes(row.try_get(i)?),
                    });
                }
                out.push(values);
            }
            out
        }};
    }
    Ok(match backend_for(conn, sql)? {
        Backend::Sqlite(c) => {
            let rows = sqlx::query(sql).fetch_all(c).await?;
            decode_rows!(rows)
        }
        Backend::Postgres(c) => {
            let rows = sqlx::query(sql).fetch_all(c).await?;
            decode_rows!(rows)
        }
        Backend::Gathering => return Err(not_while_gathering()),
    })
}

/// Reads a flag from a row aggregated as JSON: `true`/`false` on PostgreSQL, `1`/`0` on
/// SQLite.
pub fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    Ok(match <Flag as serde::Deserialize>::deserialize(d)? {
        Flag::Bool(b) => b,
        Flag::Int(i) => i != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_told_from_writes() {
        for read in [
            "SELECT 1",
            "  select id FROM programs",
            "(SELECT 1) UNION (SELECT 2)",
            "WITH RECURSIVE up(id) AS (SELECT 1) SELECT id FROM up",
            "SELECT updated_at, inserted FROM t",
        ] {
            assert!(is_read(read), "{read}");
        }
        for write in [
            "UPDATE programs SET name = 'x'",
            "INSERT INTO t VALUES (1)",
            "DELETE FROM t",
            "WITH picked AS (SELECT id FROM t) UPDATE t SET x = 1",
            "with gone as (delete from t returning id) select count(*) from gone",
            "PRAGMA wal_checkpoint",
            "SAVEPOINT a",
            "",
        ] {
            assert!(!is_read(write), "{write}");
        }
    }

    #[test]
    fn options_keep_their_type_when_empty() {
        assert_eq!(Arg::from(None::<String>), Arg::Text(None));
        assert_eq!(Arg::from(None::<NaiveDate>), Arg::Date(None));
        assert_eq!(Arg::from(Some(3_i32)), Arg::Int(Some(3)));
        assert_eq!(Arg::from(Json("[]".into())), Arg::Json(Some("[]".into())));
    }

    #[test]
    fn postgres_refuses_json_that_is_not_json() {
        let err = pg_args(vec![Arg::Json(Some("{not json".into()))]).unwrap_err();
        assert!(matches!(err, sqlx::Error::Encode(_)), "{err:?}");
    }

    #[test]
    fn placeholders_are_renumbered_and_nothing_else() {
        assert_eq!(
            renumber("a = $1 AND b = $12 OR c = $1 AND d = '$'", 3),
            "a = $4 AND b = $15 OR c = $4 AND d = '$'"
        );
        assert_eq!(renumber("no placeholders", 5), "no placeholders");
    }

    #[tokio::test]
    async fn gathering_records_reads_and_runs_nothing_else() {
        let mut g = Gather::record(Dialect::Sqlite);
        let json = json_text(&mut g, "SELECT '[1]'".into(), vec![Arg::from(7_i64)])
            .await
            .expect("recorded");
        assert_eq!(json, "[]");
        match &g.state {
            Gathered::Record(reads) => {
                assert_eq!(reads.len(), 1);
                assert_eq!(reads[0].0, "SELECT '[1]'");
            }
            Gathered::Replay(_) => panic!("still recording"),
        }
        let err = query("DELETE FROM people")
            .execute(&mut g)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("while reads were being gathered"),
            "{err}"
        );
    }
}
