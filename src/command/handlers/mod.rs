//! One file per command area, each a short dispatch to one function per verb that takes the
//! verb's fields. [`Session`] holds the command's one transaction and the helpers every
//! handler needs: resolving programs and people, permission checks, and the event log;
//! `common` holds what the areas share in listing and showing records.

mod analysis;
mod change;
mod chart;
mod common;
mod dep;
mod inbox;
mod milestone;
mod person;
mod portfolio;
mod program;
mod project;
mod raid;
mod readiness;
mod records;
mod risk;
mod schedule;
mod share;
mod status;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::grammar::Command;
use super::{ChannelVerdict, CommandError, Ctx, Result};
use crate::domain::{ExternalId, Key, Person, PersonId, PersonRef, Platform, Program, Role};
use crate::reply::{Mention, Reply};
use crate::store::{self, Scope, Store, Tx};
use crate::telemetry::metrics;

/// Runs one command in one transaction: committed if it succeeds, rolled back otherwise.
pub async fn run(store: &Store, ctx: &Ctx, command: Command) -> Result<Reply> {
    let started = std::time::Instant::now();
    let name = command.name();
    let outcome = match check_channel(ctx, &command).await {
        Ok(()) => run_in_transaction(store, ctx, command, &name).await,
        Err(e) => Err(e),
    };
    let ended = match &outcome {
        Ok(_) => "ok",
        Err(CommandError::User(_)) => "refused",
        Err(CommandError::Internal(_)) => "error",
    };
    metrics::command_done(&name, ended, started.elapsed().as_secs_f64());
    outcome
}

/// A channel named as a destination must be the tenant's; asked of the platform before any
/// transaction opens, so a slow platform never holds the write lock.
async fn check_channel(ctx: &Ctx, command: &Command) -> Result<()> {
    let Some(raw) = command.channel_named() else {
        return Ok(());
    };
    let channel = crate::domain::channel_id(raw)?;
    match ctx.channels.check(&ctx.tenant, &channel).await {
        ChannelVerdict::Belongs => Ok(()),
        ChannelVerdict::Foreign => refuse(format!(
            "--channel: `{}` is not a channel of this {}; pick one of its own channels",
            crate::domain::truncate_for_error(&channel),
            match ctx.tenant.platform() {
                Platform::Slack => "workspace",
                Platform::Discord => "server",
                Platform::Console => "console",
            }
        )),
        ChannelVerdict::Unchecked(why) => refuse(format!(
            "--channel: `{}` could not be checked: {why}. Nothing was changed; try again, or use `--slack-webhook`",
            crate::domain::truncate_for_error(&channel)
        )),
    }
}

/// Slow commands (digests, reports, paths, charts) read and analyse a whole program, each
/// holding a database connection and a core while it does. At most half the cores' worth
/// run at once (one to two), so however many are asked for, quick commands still find a
/// connection (the pool has 4 by default) and a core.
fn slow_turns() -> &'static tokio::sync::Semaphore {
    static SLOW: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOW.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        tokio::sync::Semaphore::new((cores / 2).clamp(1, 2))
    })
}

/// One line of a plan file: its number in the file, and the command on it.
#[derive(Debug, Clone)]
pub struct PlanLine {
    pub number: usize,
    pub text: String,
}

/// The command lines of a plan file, numbered from 1; blank lines and `#` comments are
/// left out.
pub fn plan_lines(text: &str) -> Vec<PlanLine> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .map(|(i, l)| PlanLine {
            number: i + 1,
            text: l.trim().to_owned(),
        })
        .collect()
}

/// Runs a plan: every line in one transaction, all or nothing. A line may name what a
/// later line makes (a milestone `--after` one further down): a line refused on the way
/// is tried again once the others have run, and again while that makes progress; only
/// what is still refused then fails the plan, which changes nothing and names the line.
/// Each attempt runs under a savepoint, so a refused attempt leaves no trace.
pub async fn run_plan(
    store: &Store,
    ctx: &Ctx,
    lines: &[PlanLine],
) -> std::result::Result<Vec<(usize, Reply)>, (usize, CommandError)> {
    run_plan_in(store, ctx, lines, true, false).await
}

/// [`run_plan`] for a batch whose replies are not shown (an import), committing only when
/// `commit` is set: without it every line is checked and run, and then all of it is rolled
/// back (a dry run). Consecutive `dep add` lines share one reading of the schedule
/// ([`PlanMemo`]); every line is still checked as when typed.
pub async fn run_plan_then(
    store: &Store,
    ctx: &Ctx,
    lines: &[PlanLine],
    commit: bool,
) -> std::result::Result<Vec<(usize, Reply)>, (usize, CommandError)> {
    run_plan_in(store, ctx, lines, commit, true).await
}

async fn run_plan_in(
    store: &Store,
    ctx: &Ctx,
    lines: &[PlanLine],
    commit: bool,
    batch: bool,
) -> std::result::Result<Vec<(usize, Reply)>, (usize, CommandError)> {
    let parse = |line: &PlanLine| -> std::result::Result<Command, (usize, CommandError)> {
        match super::parse(&line.text) {
            Ok(super::Parsed::Run(c)) => Ok(c),
            Ok(super::Parsed::Help(_)) => Err((
                line.number,
                CommandError::user("help changes nothing: leave it out of a plan"),
            )),
            Err(e) => Err((line.number, CommandError::from(e))),
        }
    };
    for line in lines {
        let command = parse(line)?;
        check_channel(ctx, &command)
            .await
            .map_err(|e| (line.number, e))?;
    }
    let started = std::time::Instant::now();
    // A batch first runs every line without savepoints: an import whose rows are all
    // accepted in order (the usual case) needs none. At the first refusal it starts again
    // from nothing, the way any plan runs: a savepoint per attempt, refused lines retried.
    let mut savepoints = !batch;
    let (tx, replies) = loop {
        let mut tx = Some(store.write().await.map_err(|e| (0, e.into()))?);
        let outcome = run_plan_lines(&mut tx, ctx, lines, &parse, batch, savepoints).await;
        let Some(tx) = tx else {
            return Err((0, anyhow::anyhow!("a plan's transaction was lost").into()));
        };
        match outcome {
            Ok(Some(replies)) => break (tx, replies),
            Ok(None) => {
                let _ = tx.rollback().await;
                savepoints = true;
            }
            Err(e) => {
                let _ = tx.rollback().await;
                return Err(e);
            }
        }
    };
    if commit {
        tx.commit()
            .await
            .map_err(|e| (0, CommandError::from(anyhow::Error::from(e))))?;
    } else {
        tx.rollback()
            .await
            .map_err(|e| (0, CommandError::from(anyhow::Error::from(e))))?;
    }
    metrics::command_done("plan", "ok", started.elapsed().as_secs_f64());
    Ok(lines
        .iter()
        .zip(replies)
        .filter_map(|(l, r)| r.map(|r| (l.number, r)))
        .collect())
}

/// Runs a plan's lines in `tx`, retrying refused ones while that makes progress. `None`
/// when a line was refused and `savepoints` is off: the caller starts again with them.
/// `slot` holds the transaction between lines (each line's session owns it while it runs).
async fn run_plan_lines(
    slot: &mut Option<Tx>,
    ctx: &Ctx,
    lines: &[PlanLine],
    parse: &impl Fn(&PlanLine) -> std::result::Result<Command, (usize, CommandError)>,
    batch: bool,
    savepoints: bool,
) -> std::result::Result<Option<Vec<Option<Reply>>>, (usize, CommandError)> {
    let mut replies: Vec<Option<Reply>> = vec![None; lines.len()];
    let mut pending: Vec<usize> = (0..lines.len()).collect();
    let mut memo: Option<PlanMemo> = None;
    let mut carried = Carried::default();
    let mut events: Vec<BufferedEvent> = Vec::new();
    loop {
        let mut refused: Vec<(usize, CommandError)> = Vec::new();
        for &i in &pending {
            let line = &lines[i];
            let command = parse(line)?;
            let fail = |e: anyhow::Error| (line.number, CommandError::from(e));
            let Some(mut tx) = slot.take() else {
                return Err(fail(anyhow::anyhow!("a plan's transaction was lost")));
            };
            if !command.keeps_memo() {
                memo = None;
            }
            // What a batch carries from line to line holds only across lines that add or
            // change records; any other line (a person's name, a grant) starts afresh, and
            // the events kept so far are written before it runs.
            let keep = batch && command.keeps_batch();
            if !keep {
                carried = Carried::default();
                if let Err(e) = flush_events(&mut tx, ctx, &mut events).await {
                    *slot = Some(tx);
                    return Err(fail(e));
                }
            }
            let savepoint = |sql: &'static str| crate::store::db::query(sql);
            if savepoints {
                if let Err(e) = savepoint("SAVEPOINT plan_line").execute(&mut tx).await {
                    *slot = Some(tx);
                    return Err(fail(e.into()));
                }
            }
            let kept_events = events.len();
            // A session of its own per line: what an earlier, rolled-back attempt looked up
            // (the actor it added, say) is not remembered.
            let mut s = Session {
                tx,
                write: true,
                // A batch keeps its program from line to line, whatever the line.
                lock: store::ProgramLock::Exclusive,
                ctx,
                actor: carried.actor.take(),
                actor_id: carried.actor_id.take(),
                role_on: carried.role_on.take(),
                people: carried.people.take(),
                external_id: None,
                memo: memo.take(),
                memo_kept: batch,
                batch: keep.then(|| Batch {
                    program: carried.program.take(),
                    found: std::mem::take(&mut carried.found),
                    events: std::mem::take(&mut events),
                }),
            };
            let outcome = dispatch(&mut s, command).await;
            memo = if outcome.is_ok() { s.memo.take() } else { None };
            if let Some(b) = s.batch.take() {
                events = b.events;
                if outcome.is_ok() {
                    carried.program = b.program;
                    carried.found = b.found;
                }
            }
            if keep && outcome.is_ok() {
                carried.actor = s.actor.take();
                carried.actor_id = s.actor_id.take();
                carried.role_on = s.role_on.take();
                carried.people = s.people.take();
            } else {
                // A refused line's lookups may name what its rollback removed.
                carried = Carried::default();
            }
            let tx = slot.insert(s.tx);
            match outcome {
                Ok(reply) => {
                    if savepoints {
                        savepoint("RELEASE SAVEPOINT plan_line")
                            .execute(tx)
                            .await
                            .map_err(|e| fail(e.into()))?;
                    }
                    replies[i] = Some(reply);
                }
                Err(CommandError::User(msg)) => {
                    if !savepoints {
                        return Ok(None);
                    }
                    events.truncate(kept_events);
                    savepoint("ROLLBACK TO SAVEPOINT plan_line")
                        .execute(tx)
                        .await
                        .map_err(|e| fail(e.into()))?;
                    savepoint("RELEASE SAVEPOINT plan_line")
                        .execute(tx)
                        .await
                        .map_err(|e| fail(e.into()))?;
                    refused.push((i, CommandError::User(msg)));
                }
                Err(e) => return Err((line.number, e)),
            }
        }
        if refused.is_empty() {
            break;
        }
        if refused.len() == pending.len() {
            let (i, e) = refused.swap_remove(0);
            return Err((lines[i].number, e));
        }
        pending = refused.into_iter().map(|(i, _)| i).collect();
    }
    if let Some(tx) = slot.as_mut() {
        flush_events(tx, ctx, &mut events)
            .await
            .map_err(|e| (0, CommandError::from(e)))?;
    }
    Ok(Some(replies))
}

/// What consecutive lines of a batch share: who the actor is, their role, the people, the
/// program, and the people found by name. Dropped at a refusal and at any line that is not
/// an `add`, `set`, `move` or `done` of records (see [`Command::keeps_batch`]).
#[derive(Default)]
struct Carried {
    actor: Option<Person>,
    actor_id: Option<PersonId>,
    role_on: Option<(i64, Option<Role>)>,
    people: Option<HashMap<PersonId, Person>>,
    program: Option<(Key, Scope, Program)>,
    found: HashMap<String, Person>,
}

/// A batch line's share of what the batch carries (see [`Carried`]), and the events its
/// lines recorded, written together when the batch ends.
pub(crate) struct Batch {
    program: Option<(Key, Scope, Program)>,
    found: HashMap<String, Person>,
    events: Vec<BufferedEvent>,
}

/// How a batch remembers a person found as written: a mention names a handle, a name a
/// handle or a display name, so the two are kept apart.
fn found_key(r: &PersonRef) -> Option<String> {
    match r {
        PersonRef::Me => None,
        PersonRef::Mention(id) => Some(format!("@{id}")),
        PersonRef::Name(name) => Some(format!("={name}")),
    }
}

/// An event a batch line recorded, not yet written.
struct BufferedEvent {
    program_id: Option<i64>,
    actor: Option<PersonId>,
    at: DateTime<Utc>,
    kind: String,
    subject: String,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
}

async fn flush_events(
    tx: &mut Tx,
    ctx: &Ctx,
    events: &mut Vec<BufferedEvent>,
) -> anyhow::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let rows: Vec<(Option<i64>, store::NewEvent<'_>)> = events
        .iter()
        .map(|e| {
            (
                e.program_id,
                store::NewEvent {
                    actor: e.actor,
                    at: e.at,
                    kind: &e.kind,
                    subject: e.subject.clone(),
                    before: e.before.clone(),
                    after: e.after.clone(),
                },
            )
        })
        .collect();
    store::append_events(tx, &ctx.tenant, &rows).await?;
    events.clear();
    Ok(())
}

async fn run_in_transaction(
    store: &Store,
    ctx: &Ctx,
    command: Command,
    name: &str,
) -> Result<Reply> {
    let _slow_turn = match command.is_slow() {
        true => Some(slow_turns().acquire().await.map_err(anyhow::Error::from)?),
        false => None,
    };
    let write = command.is_write();
    let lock = match command.shares_program() {
        true => store::ProgramLock::Shared,
        false => store::ProgramLock::Exclusive,
    };
    let tx = if write {
        store.write().await?
    } else {
        store.read().await?
    };
    let mut s = Session {
        tx,
        write,
        lock,
        ctx,
        actor: None,
        actor_id: None,
        role_on: None,
        people: None,
        external_id: None,
        memo: None,
        memo_kept: false,
        batch: None,
    };
    let outcome = dispatch(&mut s, command).await;
    match outcome {
        Ok(reply) => {
            s.tx.commit().await.map_err(anyhow::Error::from)?;
            tracing::debug!(command = name, "command done");
            Ok(reply)
        }
        Err(e) => {
            s.tx.rollback().await.map_err(anyhow::Error::from)?;
            let e = match e {
                CommandError::Internal(err) if is_contention(&err) => {
                    tracing::warn!(command = name, error = %err, "command met a concurrent change");
                    CommandError::user(
                        "another change to this program was being made at the same moment; nothing was changed. Try again",
                    )
                }
                e => e,
            };
            if let CommandError::User(msg) = &e {
                tracing::debug!(command = name, error = %msg, "command refused");
            }
            Err(e)
        }
    }
}

/// PostgreSQL gave up on the transaction because of another one (a deadlock, a lock not
/// granted within `lock_timeout`, a serialization failure): the command can simply be
/// tried again.
fn is_contention(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .and_then(|s| s.as_database_error())
            .and_then(|d| d.code())
            .is_some_and(|code| matches!(code.as_ref(), "40P01" | "55P03" | "40001"))
    })
}

async fn dispatch(s: &mut Session<'_>, command: Command) -> Result<Reply> {
    match command {
        Command::Program(c) => program::program(s, c).await,
        Command::Portfolio(c) => portfolio::portfolio(s, c).await,
        Command::Charter(c) => program::charter(s, c).await,
        Command::Project(c) => project::run(s, c).await,
        Command::Person(c) => person::run(s, c).await,
        Command::Milestone(c) => milestone::run(s, c).await,
        Command::Dep(c) => dep::run(s, c).await,
        Command::Risk(c) => risk::risk(s, c).await,
        Command::Decision(c) => risk::decision(s, c).await,
        Command::Assumption(c) => raid::assumption(s, c).await,
        Command::Issue(c) => raid::issue(s, c).await,
        Command::Action(c) => raid::action(s, c).await,
        Command::Change(c) => change::run(s, c).await,
        Command::Readiness(c) => readiness::run(s, c).await,
        Command::Inbox { as_ } => inbox::run(s, as_).await,
        Command::Status(c) => status::run(s, c).await,
        Command::Digest(c) => analysis::digest(s, c).await,
        Command::Path(c) => analysis::path(s, c).await,
        Command::Report(c) => analysis::report(s, c).await,
        Command::Chart(c) => chart::chart(s, c).await,
        Command::Schedule(c) => schedule::schedule(s, c).await,
        Command::Outbox(c) => schedule::outbox(s, c).await,
        Command::Help { topic } => {
            let help = super::grammar::help(&topic)?;
            Ok(Reply::new("Help").preformatted(help).ephemeral())
        }
    }
}

pub(crate) struct Session<'a> {
    pub tx: Tx,
    /// A write command: the programs it resolves are locked until it ends.
    write: bool,
    /// How they are locked (see [`Command::shares_program`]).
    lock: store::ProgramLock,
    pub ctx: &'a Ctx,
    actor: Option<Person>,
    /// The actor's id once known, from the program lookup or from `actor()`.
    actor_id: Option<PersonId>,
    /// The actor's granted role on the program looked up last: (program id, role).
    role_on: Option<(i64, Option<Role>)>,
    people: Option<HashMap<PersonId, Person>>,
    /// The tracker id an `add` was given (`--external-id`), kept on the record it adds.
    pub external_id: Option<ExternalId>,
    /// In a batch plan (an import), what consecutive `dep add` lines share.
    memo: Option<PlanMemo>,
    /// A batch plan: the memo is kept between lines, and work only a shown reply needs
    /// (a new dependency's forecast conflict warning) is left out.
    memo_kept: bool,
    /// A batch line that adds or changes records: the program and the people found by
    /// earlier lines, and the events recorded so far (written when the batch ends).
    batch: Option<Batch>,
}

/// The schedule as consecutive `dep add` and `milestone add` lines of a batch plan see it:
/// read once, and each added dependency or milestone appended, so 5,000 of them do not read
/// the program 5,000 times. Only those lines keep it (they change no project, and no
/// milestone or dependency other than the one they add); any other line, or a refused one,
/// drops it, and the next line reads the store again.
pub(crate) struct PlanMemo {
    program_id: i64,
    projects: Vec<crate::domain::Project>,
    milestones: Vec<crate::domain::Milestone>,
    deps: Vec<crate::domain::Dependency>,
    /// In a batch, the schedule graph's successors, kept up to date as well, so each
    /// cycle check walks only what the new consumer reaches.
    next: Option<HashMap<dep::Node, Vec<dep::Node>>>,
}

impl PlanMemo {
    /// Whether `key` names a project or a milestone, as [`store::key_in_use`] says.
    fn key_kind(&self, key: &Key) -> Option<&'static str> {
        if self.projects.iter().any(|p| p.key == *key) {
            Some("project")
        } else if self.milestones.iter().any(|m| m.key == *key) {
            Some("milestone")
        } else {
            None
        }
    }

    /// Keeps a milestone this batch added, with its edges in the successors map.
    fn added_milestone(&mut self, m: crate::domain::Milestone) {
        if let Some(next) = self.next.as_mut() {
            for p in &m.after {
                next.entry(dep::Node::Milestone(*p))
                    .or_default()
                    .push(dep::Node::Milestone(m.id));
            }
        }
        self.milestones.push(m);
    }

    async fn load(conn: &mut store::Conn, scope: &Scope, batch: bool) -> Result<Self> {
        let milestones = store::milestones(conn, scope).await?;
        let deps = store::dependencies(conn, scope).await?;
        let next = batch.then(|| dep::schedule_successors(&milestones, &deps));
        Ok(PlanMemo {
            program_id: scope.program_id(),
            projects: store::projects(conn, scope).await?,
            milestones,
            deps,
            next,
        })
    }
}

/// A user error from a message.
pub(crate) fn refuse<T>(msg: impl Into<String>) -> Result<T> {
    Err(CommandError::user(msg))
}

pub(crate) fn parse_key(raw: &str, what: &str) -> Result<Key> {
    Key::parse(raw).map_err(|e| CommandError::user(format!("{what}: {}", e.0)))
}

pub(crate) fn parse_number(raw: &str, what: &str) -> Result<i64> {
    raw.trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            CommandError::user(format!(
                "`{}` is not a {what} number: use the number shown by `list`, e.g. 3",
                crate::domain::truncate_for_error(raw)
            ))
        })
}

impl Session<'_> {
    pub fn conn(&mut self) -> &mut store::Conn {
        &mut self.tx
    }

    /// The actor as a person, added to the tenant on first use.
    pub async fn actor(&mut self) -> Result<Person> {
        if let Some(p) = &self.actor {
            return Ok(p.clone());
        }
        let a = &self.ctx.actor;
        let p = store::ensure_person(&mut self.tx, &self.ctx.tenant, &a.handle, &a.display_name)
            .await?;
        self.actor = Some(p.clone());
        self.actor_id = Some(p.id);
        Ok(p)
    }

    /// The actor's id, added to the tenant on first use; no query when already known.
    pub async fn actor_id(&mut self) -> Result<PersonId> {
        match self.actor_id {
            Some(id) => Ok(id),
            None => Ok(self.actor().await?.id),
        }
    }

    /// The actor's id if they are already known, without adding them.
    pub async fn known_actor_id(&mut self) -> Result<Option<PersonId>> {
        if self.actor_id.is_some() {
            return Ok(self.actor_id);
        }
        Ok(self.known_actor().await?.map(|p| p.id))
    }

    /// The actor if they are already known, without adding them (for read-only commands).
    pub async fn known_actor(&mut self) -> Result<Option<Person>> {
        if let Some(p) = &self.actor {
            return Ok(Some(p.clone()));
        }
        let p =
            store::person_by_handle(&mut self.tx, &self.ctx.tenant, &self.ctx.actor.handle).await?;
        self.actor.clone_from(&p);
        if let Some(p) = &p {
            self.actor_id = Some(p.id);
        }
        Ok(p)
    }

    /// Resolves a program key, or the channel's bound program when the key is left out.
    pub async fn program(&mut self, key: Option<&str>) -> Result<(Scope, Program)> {
        let key = match key {
            Some(raw) => parse_key(raw, "program")?,
            None => {
                let bound = match &self.ctx.channel {
                    Some(ch) => store::bound_program(&mut self.tx, &self.ctx.tenant, ch).await?,
                    None => None,
                };
                match bound {
                    Some(k) => k,
                    None => {
                        return refuse(
                            "which program? Give its key (e.g. `milestone list atlas`), or run `program bind KEY` in this channel",
                        )
                    }
                }
            }
        };
        if let Some((k, scope, program)) = self.batch.as_ref().and_then(|b| b.program.as_ref()) {
            // Found (and locked) by an earlier line of this batch's transaction.
            if *k == key {
                return Ok((scope.clone(), program.clone()));
            }
        }
        let tenant = self.ctx.tenant.clone();
        if self.write {
            // Concurrent writers to one program queue here, so what this command reads
            // (states, cycles, permissions) still holds when it writes.
            store::lock_program(&mut self.tx, &tenant, &key, self.lock).await?;
        }
        match store::find_program_for(&mut self.tx, &tenant, &key, &self.ctx.actor.handle).await? {
            Some(found) => {
                if found.actor.is_some() {
                    self.actor_id = found.actor;
                }
                self.role_on = Some((found.program.id, found.role));
                if let Some(b) = self.batch.as_mut() {
                    b.program = Some((key, found.scope.clone(), found.program.clone()));
                }
                Ok((found.scope, found.program))
            }
            None => refuse(format!(
                "there is no program `{key}`: `program list` shows the programs here"
            )),
        }
    }

    /// Like [`Session::program`], refusing archived programs: they are read-only.
    pub async fn program_for_change(&mut self, key: Option<&str>) -> Result<(Scope, Program)> {
        let (scope, program) = self.program(key).await?;
        if program.archived {
            return refuse(format!(
                "program `{}` is archived and read-only; its owner can restore it with `program archive {} --undo`",
                program.key, program.key
            ));
        }
        Ok((scope, program))
    }

    /// Resolves a person as written. On the console a new name adds the person; on a
    /// platform people must be mentioned so the platform vouches for the id.
    pub async fn person(&mut self, r: &PersonRef) -> Result<Person> {
        if let Some(p) = self.find_person(r).await? {
            return Ok(p);
        }
        let p = self.add_person(r).await?;
        // Everyone as loaded before does not hold them.
        self.people = None;
        if let (Some(b), Some(k)) = (&mut self.batch, found_key(r)) {
            b.found.insert(k, p.clone());
        }
        Ok(p)
    }

    async fn add_person(&mut self, r: &PersonRef) -> Result<Person> {
        let tenant = self.ctx.tenant.clone();
        match (r, self.ctx.platform) {
            (PersonRef::Me, _) => self.actor().await,
            (PersonRef::Mention(id), _) => {
                Ok(store::ensure_person(&mut self.tx, &tenant, id, id).await?)
            }
            (PersonRef::Name(name), Platform::Console) => {
                Ok(store::ensure_person(&mut self.tx, &tenant, name, name).await?)
            }
            (PersonRef::Name(name), _) => refuse(format!(
                "nobody called @{name} is known here yet: mention them with the platform's @ picker"
            )),
        }
    }

    /// Finds a person as written, by handle and then by display name, adding nobody.
    pub async fn find_person(&mut self, r: &PersonRef) -> Result<Option<Person>> {
        let key = found_key(r);
        if let (Some(b), Some(k)) = (&self.batch, &key) {
            if let Some(p) = b.found.get(k) {
                return Ok(Some(p.clone()));
            }
        }
        let found = self.look_up_person(r).await?;
        if let (Some(b), Some(p), Some(k)) = (&mut self.batch, &found, key) {
            b.found.insert(k, p.clone());
        }
        Ok(found)
    }

    async fn look_up_person(&mut self, r: &PersonRef) -> Result<Option<Person>> {
        let tenant = self.ctx.tenant.clone();
        let handle = match r {
            PersonRef::Me => return self.known_actor().await,
            PersonRef::Mention(id) => {
                return Ok(store::person_by_handle(&mut self.tx, &tenant, id).await?)
            }
            PersonRef::Name(name) => name,
        };
        if let Some(p) = store::person_by_handle(&mut self.tx, &tenant, handle).await? {
            return Ok(Some(p));
        }
        let mut by_name = store::people_by_display_name(&mut self.tx, &tenant, handle).await?;
        match by_name.len() {
            0 | 1 => Ok(by_name.pop()),
            n => refuse(format!(
                "{n} people are called @{handle}: mention the one you mean with the platform's @ picker"
            )),
        }
    }

    /// The actor's effective role: tenant admins and the program owner are owners; anyone
    /// else in the tenant is at least a viewer.
    pub async fn role(&mut self, scope: &Scope, program: &Program) -> Result<Role> {
        if self.ctx.actor.is_admin {
            return Ok(Role::Owner);
        }
        let Some(me) = self.known_actor_id().await? else {
            return Ok(Role::Viewer);
        };
        if me == program.owner {
            return Ok(Role::Owner);
        }
        if let Some((pid, role)) = self.role_on {
            if pid == program.id {
                return Ok(role.unwrap_or(Role::Viewer));
            }
        }
        Ok(store::granted_role(&mut self.tx, scope, me)
            .await?
            .unwrap_or(Role::Viewer))
    }

    /// Refuses unless the actor has at least `need` on the program. `doing` completes
    /// "only … can {doing}".
    pub async fn require(
        &mut self,
        scope: &Scope,
        program: &Program,
        need: Role,
        doing: &str,
    ) -> Result<()> {
        let have = self.role(scope, program).await?;
        if have >= need {
            return Ok(());
        }
        let who = match need {
            Role::Owner => format!("the owner of `{}`", program.key),
            Role::Editor => format!("an editor or the owner of `{}`", program.key),
            Role::Viewer => format!("a viewer of `{}`", program.key),
        };
        refuse(format!(
            "only {who} can {doing} (you are a {}). The program owner can grant it with `program grant {} @you --role {}`",
            have.as_str(),
            program.key,
            need.as_str()
        ))
    }

    /// Editors and owners may always; otherwise the actor must be one of `owners` (the
    /// project's lead, the milestone's or dependency's owner).
    pub async fn require_editor_or(
        &mut self,
        scope: &Scope,
        program: &Program,
        owners: &[PersonId],
        owner_label: &str,
        doing: &str,
    ) -> Result<()> {
        if self.role(scope, program).await? >= Role::Editor {
            return Ok(());
        }
        if let Some(me) = self.known_actor_id().await? {
            if owners.contains(&me) {
                return Ok(());
            }
        }
        refuse(format!(
            "only {owner_label}, an editor or the owner of `{}` can {doing}",
            program.key
        ))
    }

    /// Appends one event to the log, inside the command's transaction.
    pub async fn event<B: Serialize, A: Serialize>(
        &mut self,
        scope: Option<&Scope>,
        kind: &str,
        subject: String,
        before: Option<&B>,
        after: Option<&A>,
    ) -> Result<()> {
        let actor = self.actor_id().await?;
        let e = store::NewEvent {
            actor: Some(actor),
            at: self.ctx.now,
            kind,
            subject,
            before: before
                .map(serde_json::to_value)
                .transpose()
                .map_err(anyhow::Error::from)?,
            after: after
                .map(serde_json::to_value)
                .transpose()
                .map_err(anyhow::Error::from)?,
        };
        if let Some(b) = self.batch.as_mut() {
            if scope.is_some_and(|s| s.tenant() != &self.ctx.tenant) {
                return Err(anyhow::anyhow!("event scope is from another tenant").into());
            }
            b.events.push(BufferedEvent {
                program_id: scope.map(Scope::program_id),
                actor: e.actor,
                at: e.at,
                kind: e.kind.to_owned(),
                subject: e.subject,
                before: e.before,
                after: e.after,
            });
            return Ok(());
        }
        let tenant = self.ctx.tenant.clone();
        store::append_event(&mut self.tx, &tenant, scope, e).await?;
        Ok(())
    }

    /// Keeps the tracker id given to this `add` (`--external-id`, remembered by the verb's
    /// dispatch) on the record it just added, refusing one that another record of its kind
    /// already holds.
    pub async fn keep_external_id(
        &mut self,
        scope: &Scope,
        record: store::Tracked<'_>,
    ) -> Result<()> {
        if let Some(id) = self.external_id.take() {
            if let Some(holder) =
                store::external_id_holder(&mut self.tx, scope, record, &id).await?
            {
                return refuse(format!(
                    "--external-id: `{id}` is already the tracker id of {holder}; one id names one record"
                ));
            }
            store::set_external_id(&mut self.tx, scope, record, &id).await?;
        }
        Ok(())
    }

    /// The batch's reading of the schedule: the one kept from the line before when it is of
    /// this program, else read now.
    pub(crate) async fn plan_memo(&mut self, scope: &Scope) -> Result<PlanMemo> {
        match self.memo.take() {
            Some(m) if m.program_id == scope.program_id() => Ok(m),
            _ => {
                let batch = self.memo_kept;
                PlanMemo::load(self.conn(), scope, batch).await
            }
        }
    }

    /// The actor as a mention, without a query.
    pub fn actor_mention(&self) -> Mention {
        match &self.actor {
            Some(p) => Mention::from(p),
            None => Mention {
                handle: self.ctx.actor.handle.clone(),
                name: self.ctx.actor.display_name.clone(),
            },
        }
    }

    /// Whether the actor is at least an editor (or owner, or tenant admin) of the program.
    pub async fn is_editor(&mut self, scope: &Scope, program: &Program) -> Result<bool> {
        Ok(self.role(scope, program).await? >= Role::Editor)
    }

    pub fn today(&self, program: &Program) -> NaiveDate {
        program.today(self.ctx.now)
    }

    /// Everyone in the tenant, loaded once per command, for naming people in replies.
    pub async fn people(&mut self) -> Result<&HashMap<PersonId, Person>> {
        if self.people.is_none() {
            let tenant = self.ctx.tenant.clone();
            self.people = Some(store::people(&mut self.tx, &tenant).await?);
        }
        Ok(self.people.as_ref().expect("loaded above"))
    }

    pub async fn mention(&mut self, id: PersonId) -> Result<Mention> {
        if let Some(p) = self.actor.as_ref().filter(|a| a.id == id) {
            return Ok(Mention::from(p));
        }
        if let Some(p) = self.people().await?.get(&id) {
            return Ok(Mention::from(p));
        }
        // Someone added in this command after the cache was filled.
        let tenant = self.ctx.tenant.clone();
        let p = store::person(&mut self.tx, &tenant, id).await?;
        Ok(Mention::from(&p))
    }

    pub async fn maybe_mention(&mut self, id: Option<PersonId>) -> Result<Option<Mention>> {
        match id {
            Some(id) => Ok(Some(self.mention(id).await?)),
            None => Ok(None),
        }
    }
}

/// "in 5 days", "3 days ago", "today".
pub(crate) fn days_from(today: NaiveDate, day: NaiveDate) -> String {
    let n = (day - today).num_days();
    match n {
        0 => "today".into(),
        1 => "tomorrow".into(),
        -1 => "yesterday".into(),
        n if n > 0 => format!("in {n} days"),
        n => format!("{} days ago", -n),
    }
}
