//! What each mode of the command line does: the demo, `run`, the console, `exec`, export,
//! import, `doctor`, `backup` and `discord register`.

use std::process::ExitCode;

use anyhow::Context as _;

use chrono::{DateTime, Utc};

use super::cli::{Cli, DiscordMode, Mode, TenantMode, Who};
use crate::clock::{Clock, FakeClock, SystemClock};
use crate::command::CommandError;
use crate::config::Settings;
use crate::domain::{Key, Tenant};
use crate::outbox::WebhookPolicy;
use crate::platform::console::{self, Console};
use crate::store::Store;
use crate::{document, telemetry};

/// Exit codes of `exec`, `import` and friends.
const USER_ERROR: u8 = 2;
const INTERNAL_ERROR: u8 = 1;

/// The threads `drumbeat run` gets: `run.threads`, or one per core this process may use.
fn run_threads(settings: &Settings) -> usize {
    match settings.run.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
}

/// Runs what the command line asks for, and says how it went.
pub fn main(cli: Cli) -> ExitCode {
    quiet_on_closed_pipe(&cli.command);
    let mut settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        // A configuration that does not load is the doctor's first finding.
        Err(e) if matches!(cli.command, Mode::Doctor { .. }) => {
            print!("{}", crate::doctor::Report::unloadable_config(&e).table());
            return ExitCode::from(INTERNAL_ERROR);
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(USER_ERROR);
        }
    };
    if let Some(db) = &cli.db {
        settings.database.path.clone_from(db);
        settings.database.url = None;
    }
    telemetry::init(&settings.log);
    // `run` serves the gateway, Slack and HTTP while charts and digests are drawn: it gets a
    // thread per core, so no one of them waits on another. One thread is plenty for the
    // rest of the CLI and keeps start-up and memory small.
    let runtime = match (&cli.command, run_threads(&settings)) {
        (Mode::Run, threads) if threads > 1 => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(threads);
            b
        }
        // A process given one core runs on the single-threaded runtime: nothing to hand
        // over between threads, nothing to steal.
        _ => tokio::runtime::Builder::new_current_thread(),
    }
    .enable_all()
    .build();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::from(INTERNAL_ERROR);
        }
    };
    let outcome = runtime.block_on(run(cli.command, settings));
    // Blocking work still under way (a chart half drawn) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(250));
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", console::report_internal(&e));
            eprintln!("  cause: {e:#}");
            ExitCode::from(INTERNAL_ERROR)
        }
    }
}

/// `drumbeat export … | head` ends quietly when the reader goes away, as command-line tools
/// do, instead of panicking on the failed write (exit 101). `run` keeps Rust's default: its
/// console deliveries report a closed stdout as a failed delivery and it goes on serving.
fn quiet_on_closed_pipe(mode: &Mode) {
    #[cfg(unix)]
    if !matches!(mode, Mode::Run) {
        // SAFETY: called once at start, before any thread is spawned; restoring the default
        // disposition of SIGPIPE has no other effect on this process.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    #[cfg(not(unix))]
    let _ = mode;
}

fn tenant(raw: Option<&str>) -> Result<Tenant, String> {
    match raw {
        None => Ok(Tenant::local()),
        Some(t) => Tenant::parse(t).map_err(|e| e.0),
    }
}

fn clock(now: Option<DateTime<Utc>>) -> Box<dyn Clock> {
    match now {
        Some(t) => Box::new(FakeClock::at(t)),
        None => Box::new(SystemClock),
    }
}

fn console_for(settings: &Settings, who: &Who) -> Result<Console, String> {
    let mut console = Console::new(
        &settings.console,
        tenant(who.tenant.as_deref())?,
        who.as_person.as_deref(),
    )?;
    if let Some(ch) = &who.channel {
        console.channel.clone_from(ch);
    }
    console.webhooks = std::sync::Arc::new(WebhookPolicy::from_settings(&settings.delivery));
    console.public_url = settings.http.public_url();
    console.channels = crate::platform::channel_check(settings);
    Ok(console)
}

async fn run(mode: Mode, settings: Settings) -> anyhow::Result<ExitCode> {
    match mode {
        Mode::Demo { reports } => {
            let options = super::store_options(&settings.database)?;
            let store = Store::open(&options).await?;
            let exists = {
                let key = Key::parse("atlas").expect("a valid key");
                let mut tx = store.read().await?;
                let found = crate::store::find_program(&mut tx, &Tenant::local(), &key).await?;
                tx.commit().await?;
                found.is_some()
            };
            let mut out = std::io::stdout().lock();
            let channel = settings.console.channel.clone();
            if exists {
                crate::demo::run(&store, &SystemClock, &channel, &mut out).await?;
            } else {
                // Two weeks from next Monday morning, so every run reads the same way.
                let start = crate::demo::next_monday(Utc::now());
                let clock = std::sync::Arc::new(FakeClock::at(start));
                crate::demo::run(&store, clock.as_ref(), &channel, &mut out).await?;
                let beside = match &options.location {
                    crate::store::Location::Sqlite(path) => path.clone(),
                    crate::store::Location::Postgres(_) => settings.database.path.clone().into(),
                };
                let reports = reports.unwrap_or_else(|| {
                    beside
                        .parent()
                        .map(|p| p.join("drumbeat-demo-reports"))
                        .unwrap_or_else(|| std::path::PathBuf::from("drumbeat-demo-reports"))
                });
                let weeks =
                    crate::demo::two_weeks(&store, &settings, clock, &channel, &reports, &mut out)
                        .await?;
                println!(
                    "\nTwo weeks simulated: {} scheduler ticks, {} deliveries. Reports are in {}.",
                    weeks.ticks,
                    weeks.deliveries,
                    reports.display()
                );
            }
            store.close().await;
            match &options.location {
                crate::store::Location::Sqlite(path) => println!(
                    "\nThe sample program is in {}. Explore it with `drumbeat --db {} console`.",
                    path.display(),
                    path.display()
                ),
                crate::store::Location::Postgres(_) => println!(
                    "\nThe sample program is in {}. Explore it with `drumbeat console` (same DRUMBEAT_DATABASE__URL).",
                    options.location.describe()
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Mode::Run => super::run(settings).await,
        Mode::Doctor { online } => {
            let report = crate::doctor::run(&settings, online).await;
            print!("{}", report.table());
            Ok(if report.failed() {
                ExitCode::from(INTERNAL_ERROR)
            } else {
                ExitCode::SUCCESS
            })
        }
        Mode::Backup { out, force } => {
            if super::store_options(&settings.database)?.location.dialect()
                == crate::store::Dialect::Postgres
            {
                return Ok(user_error(
                    "this database is PostgreSQL: back it up with pg_dump (a consistent copy: \
                     pg_dump --format=custom --file=drumbeat.dump DATABASE_URL), or run \
                     PostgreSQL with continuous archiving for point-in-time recovery. \
                     drumbeat backup copies SQLite files only.",
                ));
            }
            if let Err(msg) = backup_target(&out, &settings.database.path) {
                return Ok(user_error(&msg));
            }
            if out.exists() && !force {
                return Ok(user_error(&format!(
                    "{} exists; --force replaces it",
                    out.display()
                )));
            }
            let store = Store::open(&super::store_options(&settings.database)?).await?;
            let started = std::time::Instant::now();
            let bytes = store.backup_into(&out, force).await;
            store.close().await;
            let bytes = bytes?;
            println!(
                "Backed up {} to {}: {} bytes ({:.1} MiB) in {} ms.",
                settings.database.path,
                out.display(),
                bytes,
                bytes as f64 / (1024.0 * 1024.0),
                started.elapsed().as_millis()
            );
            Ok(ExitCode::SUCCESS)
        }
        Mode::Console(who) => {
            let console = match console_for(&settings, &who) {
                Ok(c) => c,
                Err(msg) => return Ok(user_error(&msg)),
            };
            let store = Store::open(&super::store_options(&settings.database)?).await?;
            let history = Some(settings.console.history_file.as_str()).filter(|h| !h.is_empty());
            console::repl(&store, clock(who.now).as_ref(), &console, history).await?;
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Mode::Exec {
            who,
            json,
            file,
            command,
        } => {
            let console = match console_for(&settings, &who) {
                Ok(c) => c,
                Err(msg) => return Ok(user_error(&msg)),
            };
            // One argument is a whole command line; several are words the shell already split.
            let line = if command.len() == 1 {
                command[0].clone()
            } else {
                shlex::try_join(command.iter().map(String::as_str))
                    .context("quoting the command")?
            };
            // A database that cannot be made or opened is the operator's to fix, not a bug.
            let options = match super::store_options(&settings.database) {
                Ok(o) => o,
                Err(e) => return Ok(user_error(&format!("{e:#}"))),
            };
            if let crate::store::Location::Sqlite(db_path) = &options.location {
                if let Some(why) = crate::doctor::database_unusable(db_path) {
                    return Ok(user_error(&format!(
                        "the database {} cannot be created or opened: {why}",
                        db_path.display()
                    )));
                }
            }
            let store = match Store::open(&options).await {
                Ok(s) => s,
                Err(e) => {
                    return Ok(user_error(&format!(
                        "the database {} cannot be opened: {e:#}",
                        options.location.describe()
                    )))
                }
            };
            if let Some(path) = file {
                let outcome = console
                    .run_file(&store, clock(who.now).as_ref(), &path)
                    .await;
                store.close().await;
                return Ok(match outcome {
                    Ok(out) => {
                        print!("{out}");
                        ExitCode::SUCCESS
                    }
                    Err(CommandError::User(msg)) => user_error(&msg),
                    Err(CommandError::Internal(e)) => {
                        eprintln!("error: {}", console::report_internal(&e));
                        ExitCode::FAILURE
                    }
                });
            }
            let outcome = console
                .execute(&store, clock(who.now).as_ref(), &line)
                .await;
            store.close().await;
            match outcome {
                Ok(reply) => match console::present(&reply, json) {
                    Ok(out) => {
                        print!("{out}");
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(msg) => Ok(user_error(&msg)),
                },
                Err(CommandError::User(msg)) => Ok(user_error(&msg)),
                Err(CommandError::Internal(e)) => {
                    eprintln!("error: {}", console::report_internal(&e));
                    Ok(ExitCode::from(INTERNAL_ERROR))
                }
            }
        }
        Mode::Export {
            program,
            tenant: t,
            out,
            csv: Some(dir),
        } => {
            let tenant = match tenant(t.as_deref()) {
                Ok(t) => t,
                Err(msg) => return Ok(user_error(&msg)),
            };
            let key = match Key::parse(&program) {
                Ok(k) => k,
                Err(e) => return Ok(user_error(&format!("--program: {}", e.0))),
            };
            debug_assert!(out.is_none(), "clap keeps --out and --csv apart");
            let store = Store::open(&super::store_options(&settings.database)?).await?;
            let written = crate::import::export_csv(&store, &tenant, &key, &dir).await;
            store.close().await;
            let Some(written) = written? else {
                return Ok(user_error(&format!(
                    "there is no program `{key}` in tenant {tenant}"
                )));
            };
            for path in written {
                println!("Wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Mode::ImportCsv {
            who,
            program,
            kind,
            map,
            date_format,
            dry_run,
            file,
        } => {
            let kind = match crate::import::Kind::parse(&kind) {
                Ok(k) => k,
                Err(msg) => return Ok(user_error(&format!("--kind: {msg}"))),
            };
            let options = crate::import::CsvOptions {
                maps: map,
                date_format,
            };
            let read = move |label: &str, text: &str| {
                crate::import::read_csv(kind, label, text, &options).map(|s| vec![s])
            };
            import_mode(&settings, &who, &program, &file, dry_run, &read).await
        }
        Mode::ImportJira(t) => {
            import_mode(
                &settings,
                &t.who,
                &t.program,
                &t.file,
                t.dry_run,
                &crate::import::read_jira,
            )
            .await
        }
        Mode::ImportLinear(t) => {
            import_mode(
                &settings,
                &t.who,
                &t.program,
                &t.file,
                t.dry_run,
                &crate::import::read_linear,
            )
            .await
        }
        Mode::ImportGithub(t) => {
            import_mode(
                &settings,
                &t.who,
                &t.program,
                &t.file,
                t.dry_run,
                &crate::import::read_github,
            )
            .await
        }
        Mode::Export {
            program,
            tenant: t,
            out,
            csv: None,
        } => {
            let tenant = match tenant(t.as_deref()) {
                Ok(t) => t,
                Err(msg) => return Ok(user_error(&msg)),
            };
            let key = match Key::parse(&program) {
                Ok(k) => k,
                Err(e) => return Ok(user_error(&format!("--program: {}", e.0))),
            };
            let store = Store::open(&super::store_options(&settings.database)?).await?;
            let doc = document::export(&store, &tenant, &key).await?;
            store.close().await;
            let Some(doc) = doc else {
                return Ok(user_error(&format!(
                    "there is no program `{key}` in tenant {tenant}"
                )));
            };
            let json = serde_json::to_string_pretty(&doc)? + "\n";
            match out {
                Some(path) => std::fs::write(&path, json)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{json}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Mode::Discord(DiscordMode::Register) => {
            let Some(token) = settings.discord.token() else {
                return Ok(user_error(
                    "there is no Discord bot token: set DISCORD_TOKEN (or DISCORD_TOKEN_FILE)",
                ));
            };
            // Discord's refusal (a bad token, a guild the bot is not in) is the operator's
            // to read whole, not an internal error's id.
            match crate::platform::discord::register(&settings.discord, &token).await {
                Ok(registered) => {
                    print!("{registered}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: the slash commands were not registered: {e:#}");
                    Ok(ExitCode::from(INTERNAL_ERROR))
                }
            }
        }
        Mode::Tenant(TenantMode::Export { tenant: t, out }) => {
            let tenant = match Tenant::parse(&t) {
                Ok(t) => t,
                Err(e) => return Ok(user_error(&e.0)),
            };
            let store = Store::open(&super::store_options(&settings.database)?).await?;
            let doc = document::export_tenant(&store, &tenant).await;
            store.close().await;
            let json = serde_json::to_string_pretty(&doc?)? + "\n";
            match out {
                Some(path) => std::fs::write(&path, json)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{json}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Mode::Tenant(TenantMode::Purge { tenant: t, confirm }) => {
            let tenant = match Tenant::parse(&t) {
                Ok(t) => t,
                Err(e) => return Ok(user_error(&e.0)),
            };
            if confirm.trim() != t.trim() {
                return Ok(user_error(&format!(
                    "--confirm must repeat the tenant exactly (`{}`); nothing was removed",
                    crate::domain::truncate_for_error(&t)
                )));
            }
            let store = Store::open(&super::store_options(&settings.database)?).await?;
            let purged = async {
                let mut tx = store.write().await?;
                let removed = crate::store::purge_tenant(&mut tx, &tenant, Utc::now()).await?;
                tx.commit().await?;
                anyhow::Ok(removed)
            }
            .await;
            store.close().await;
            let removed = purged?;
            let total: u64 = removed.iter().map(|(_, n)| n).sum();
            tracing::warn!(%tenant, rows = total, "purged a tenant");
            if total == 0 {
                println!("Tenant {tenant} had nothing stored; the purge is recorded.");
            } else {
                println!("Purged tenant {tenant}: {total} rows removed, its event log included.");
                for (table, n) in &removed {
                    println!("  {table:<18} {n}");
                }
                println!(
                    "The purge is recorded in tenant_purges (the tenant, when, these counts)."
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Mode::MigrateDb { to, check } => {
            // The URL can come from the environment, out of `ps` and shell history.
            let Some(to) = to.or_else(|| std::env::var("DRUMBEAT_MIGRATE_TO").ok()) else {
                return Ok(user_error(
                    "which database? Give --to URL, or set DRUMBEAT_MIGRATE_TO",
                ));
            };
            let target = match crate::store::Location::parse(&to) {
                Ok(l) => l,
                Err(msg) => return Ok(user_error(&format!("--to: {msg}"))),
            };
            let source = super::store_options(&settings.database)?;
            if source.location.describe() == target.describe() {
                return Ok(user_error(
                    "--to names the database this one is: give the other database",
                ));
            }
            if let (true, crate::store::Location::Sqlite(path)) = (check, &target) {
                if !path.exists() {
                    return Ok(user_error(&format!(
                        "--to: there is no database at {}",
                        path.display()
                    )));
                }
            }
            let from = Store::open(&source).await?;
            let into = match Store::open(&crate::store::Options::at(target.clone())).await {
                Ok(s) => s,
                Err(e) => {
                    from.close().await;
                    return Err(e.context(format!("opening {}", target.describe())));
                }
            };
            let outcome = if check {
                migrate_check(&from, &into, &source.location, &target).await
            } else {
                migrate_copy(&from, &into, &source.location, &target).await
            };
            from.close().await;
            into.close().await;
            outcome
        }
        Mode::Import {
            file,
            tenant: t,
            force,
        } => {
            let tenant = match tenant(t.as_deref()) {
                Ok(t) => t,
                Err(msg) => return Ok(user_error(&msg)),
            };
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => return Ok(user_error(&format!("cannot read {}: {e}", file.display()))),
            };
            let doc = match document::parse(&text) {
                Ok(d) => d,
                Err(e) => {
                    return Ok(user_error(&format!(
                        "{} was not imported: {e}",
                        file.display()
                    )))
                }
            };
            let store = Store::open(&super::store_options(&settings.database)?).await?;
            let channels = crate::platform::channel_check(&settings);
            let options = document::ImportOptions { force };
            let result = document::import(&store, &tenant, &doc, channels.as_ref(), options).await;
            store.close().await;
            match result {
                Ok(summary) => {
                    println!("{summary}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(document::ImportFailure::Refused(e)) => Ok(user_error(&format!(
                    "{} was not imported: {e}",
                    file.display()
                ))),
                Err(document::ImportFailure::Internal(e)) => Err(e),
            }
        }
    }
}

/// Refuses a backup target that is the live database (or its journal files), a folder, or
/// a place that cannot be written, before anything is touched.
/// The store's options from `[database]`.
fn backup_target(out: &std::path::Path, database: &str) -> Result<(), String> {
    use std::path::Path;
    let shown = out.display();
    let Some(name) = out.file_name() else {
        return Err(format!("--out {shown} is not a file name"));
    };
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let folder = parent.canonicalize().map_err(|e| {
        format!(
            "cannot write {shown}: its folder {} cannot be used ({e})",
            parent.display()
        )
    })?;
    if !folder.is_dir() {
        return Err(format!(
            "cannot write {shown}: {} is not a folder",
            parent.display()
        ));
    }
    if out.is_dir() {
        return Err(format!("--out {shown} is a folder; give a file name"));
    }
    let target = folder.join(name);
    if let Ok(db) = Path::new(database).canonicalize() {
        let journal = |suffix: &str| {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            std::path::PathBuf::from(p)
        };
        let live = [
            db.clone(),
            journal("-wal"),
            journal("-shm"),
            journal("-journal"),
        ];
        let target = target.canonicalize().unwrap_or(target.clone());
        if live.contains(&target) {
            return Err(format!(
                "--out {shown} is the database itself or one of its journal files; choose another file"
            ));
        }
    }
    // Written as FILE.partial first, then renamed: that is the file that must be creatable.
    let mut probe = name.to_owned();
    probe.push(".partial");
    let probe = folder.join(probe);
    let existed = probe.exists();
    match std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&probe)
    {
        Ok(_) => {
            if !existed {
                let _ = std::fs::remove_file(&probe);
            }
            Ok(())
        }
        Err(e) => Err(format!("cannot write {shown}: {e}")),
    }
}

/// `migrate-db --to`: the copy, then what arrived, table by table.
async fn migrate_copy(
    from: &Store,
    into: &Store,
    source: &crate::store::Location,
    target: &crate::store::Location,
) -> anyhow::Result<ExitCode> {
    {
        let mut conn = into.read().await?;
        let filled = crate::store::first_filled(&mut conn).await?;
        conn.commit().await?;
        if let Some((table, n)) = filled {
            return Ok(user_error(&format!(
                "{} is not empty ({table} has {n} rows): migrate-db copies only into a new, empty database; nothing was written",
                target.describe()
            )));
        }
    }
    let started = std::time::Instant::now();
    let copied = crate::store::copy_database(from, into).await?;
    println!(
        "Copied {} into {} in {} ms, in one transaction; every table checked:",
        source.describe(),
        target.describe(),
        started.elapsed().as_millis()
    );
    for s in &copied {
        println!(
            "  {:<18} {:>8} rows  sha256 {}",
            s.table,
            s.rows,
            &s.checksum[..16]
        );
    }
    println!(
        "Point Drumbeat at it with database.url (DRUMBEAT_DATABASE__URL); `drumbeat migrate-db --check --to …` compares the two again."
    );
    Ok(ExitCode::SUCCESS)
}

/// `migrate-db --check`: the two databases, table by table; exit 1 when they differ.
async fn migrate_check(
    from: &Store,
    into: &Store,
    source: &crate::store::Location,
    target: &crate::store::Location,
) -> anyhow::Result<ExitCode> {
    let tables = crate::store::compare_databases(from, into).await?;
    let differ: Vec<_> = tables.iter().filter(|t| !t.same).collect();
    println!(
        "Comparing {} with {}:",
        source.describe(),
        target.describe()
    );
    for t in &tables {
        if !t.compared {
            println!(
                "  {:<18} not compared: working state ({} rows here, {} there)",
                t.table, t.rows.0, t.rows.1
            );
        } else if t.same {
            println!("  {:<18} same ({} rows)", t.table, t.rows.0);
        } else {
            println!(
                "  {:<18} DIFFERENT: {} rows here, {} there",
                t.table, t.rows.0, t.rows.1
            );
            if !t.only_first.is_empty() {
                println!("    only here (or changed): {}", t.only_first.join(", "));
            }
            if !t.only_second.is_empty() {
                println!("    only there (or changed): {}", t.only_second.join(", "));
            }
        }
    }
    if differ.is_empty() {
        println!("The two databases hold the same.");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{} of {} tables differ.", differ.len(), tables.len());
        Ok(ExitCode::FAILURE)
    }
}

/// Reads `file` into sheets with `read`, prints the mapping, then imports them acting as the
/// console user (like `exec`) and prints what changed.
async fn import_mode(
    settings: &Settings,
    who: &Who,
    program: &str,
    file: &std::path::Path,
    dry_run: bool,
    read: crate::import::Reader<'_>,
) -> anyhow::Result<ExitCode> {
    let console = match console_for(settings, who) {
        Ok(c) => c,
        Err(msg) => return Ok(user_error(&msg)),
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => return Ok(user_error(&format!("cannot read {}: {e}", file.display()))),
    };
    let label = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let sheets = match read(&label, &text) {
        Ok(s) => s,
        Err(msg) => return Ok(user_error(&format!("{msg}. Nothing was changed"))),
    };
    print!("{}", crate::import::mapping_report(&sheets));
    let options = match super::store_options(&settings.database) {
        Ok(o) => o,
        Err(e) => return Ok(user_error(&format!("{e:#}"))),
    };
    let store = Store::open(&options).await?;
    let clock = clock(who.now);
    let outcome = crate::import::apply(
        &store,
        &console.ctx(clock.as_ref()),
        program,
        &sheets,
        &label,
        dry_run,
    )
    .await;
    store.close().await;
    match outcome {
        Ok(report) => {
            print!("{}", report.text());
            Ok(ExitCode::SUCCESS)
        }
        Err(CommandError::User(msg)) => Ok(user_error(&msg)),
        Err(CommandError::Internal(e)) => {
            eprintln!("error: {}", console::report_internal(&e));
            Ok(ExitCode::from(INTERNAL_ERROR))
        }
    }
}

fn user_error(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(USER_ERROR)
}
