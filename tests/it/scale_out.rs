//! Moving up and out: the table catalog against both schemas, `migrate-db` (copy and
//! check), `tenant purge`, and concurrent writers to one program. Each runs on the suite's
//! backend; the copy into PostgreSQL runs when `DRUMBEAT_TEST_POSTGRES_URL` is set.

use drumbeat::domain::Tenant;
use drumbeat::store::{self, tables};
use std::time::Duration;

use crate::helpers::{self, seed_atlas, stderr, stdout, TestDb};

/// Every table and column the migrations make is in the catalog `migrate-db` copies and
/// checksums, in the same order, and nothing else is.
#[tokio::test]
async fn the_table_catalog_is_the_schema() {
    let db = TestDb::new().await;
    let mut conn = db.store.conn().await.unwrap();
    let mut live = tables::live_columns(&mut conn).await.unwrap();
    live.sort();
    let mut catalog: Vec<(String, Vec<String>)> = tables::TABLES
        .iter()
        .map(|t| {
            (
                t.name.to_owned(),
                t.columns.iter().map(|(c, _)| (*c).to_owned()).collect(),
            )
        })
        .collect();
    catalog.sort();
    assert_eq!(live, catalog, "store::tables::TABLES must list the schema");
}

/// The demo's database copied into another gives the same digest, and `--check` finds a
/// row changed afterwards, naming its table and id.
async fn copy_and_check(target_url: &str, change: impl AsyncFnOnce()) {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("demo.db");
    let source_arg = source.display().to_string();
    let demo = helpers::bin(&source, &["demo"]);
    assert!(demo.status.success(), "demo: {}", stderr(&demo));

    let copy = helpers::bin(&source, &["migrate-db", "--to", target_url]);
    assert!(copy.status.success(), "migrate-db: {}", stderr(&copy));
    let said = stdout(&copy);
    assert!(said.contains("every table checked"), "{said}");
    assert!(said.contains("events"), "{said}");
    assert!(!said.contains("drumbeat_test_password"), "{said}");

    // A second copy into the now filled database is refused and writes nothing.
    let again = helpers::bin(&source, &["migrate-db", "--to", target_url]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("is not empty"),
        "{}",
        stderr(&again)
    );

    let check = helpers::bin(&source, &["migrate-db", "--check", "--to", target_url]);
    assert!(
        check.status.success(),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    assert!(
        stdout(&check).contains("hold the same"),
        "{}",
        stdout(&check)
    );

    // The same digest from both, at the same instant.
    let when = "2027-06-01T09:00:00Z";
    let digest = |db: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_drumbeat"));
        match db {
            Some(url) => cmd.env("DRUMBEAT_DATABASE__URL", url),
            None => cmd
                .env_remove("DRUMBEAT_DATABASE__URL")
                .args(["--db", &source_arg]),
        };
        let out = cmd
            .env_remove("RUST_LOG")
            .env(
                "DRUMBEAT_CONFIG",
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
            )
            .args([
                "exec",
                "--now",
                when,
                "digest show atlas --audience executive",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let here = digest(None);
    assert!(here.contains("Atlas"), "{here}");
    assert_eq!(here, digest(Some(target_url)));

    change().await;
    let check = helpers::bin(&source, &["migrate-db", "--check", "--to", target_url]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    let said = stdout(&check);
    assert!(said.contains("milestones         DIFFERENT"), "{said}");
    assert!(said.contains("id 1"), "{said}");
    assert!(said.contains("1 of "), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_db_copies_a_sqlite_database_whole() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("copy.db");
    let url = format!("sqlite://{}", target.display());
    copy_and_check(&url, async || {
        let store = store::Store::open(&store::Options::new(&target))
            .await
            .unwrap();
        let mut conn = store.conn().await.unwrap();
        store::db::query("UPDATE milestones SET title = 'Changed' WHERE id = 1")
            .execute(&mut conn)
            .await
            .unwrap();
        drop(conn);
        store.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_db_moves_the_demo_onto_postgresql() {
    let Some(base) = helpers::postgres_url() else {
        eprintln!("skipped: DRUMBEAT_TEST_POSTGRES_URL is not set (copying into PostgreSQL)");
        return;
    };
    let schema = helpers::new_schema(&base).await;
    let url = helpers::in_schema(&base, &schema);
    let changed = url.clone();
    copy_and_check(&url, async move || {
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(&changed).await.unwrap();
        // The copy was analysed for the planner: a table never analysed counts -1 rows.
        let (counted,): (f32,) =
            sqlx::query_as("SELECT reltuples FROM pg_class WHERE oid = 'milestones'::regclass")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert!(counted > 0.0, "milestones were not analysed: {counted}");
        sqlx::query("UPDATE milestones SET title = 'Changed' WHERE id = 1")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.ok();
    })
    .await;
    helpers::drop_schema(base, schema);
}

#[tokio::test]
async fn migrate_db_refuses_what_it_cannot_use() {
    let db = TestDb::new().await;
    let bad = db.bin(&["migrate-db", "--to", "mysql://somewhere/db"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("not a database URL Drumbeat knows"),
        "{}",
        stderr(&bad)
    );
    let missing = db.bin(&["migrate-db", "--check", "--to", "/nonexistent/x.db"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("there is no database"),
        "{}",
        stderr(&missing)
    );
}

/// A tenant's purge removes every row of it, its event log included, leaves another
/// tenant's exactly as it was, and is itself recorded; a wrong confirmation removes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_purge_removes_one_tenant_whole() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let other = Tenant::parse("slack:T0OTHER").unwrap();
    for line in [
        r#"program create atlas --name "Other Atlas" --tz UTC"#,
        r#"project add atlas web --name "Web" --owner @kim"#,
        r#"milestone add atlas ship --title "Ship" --target 2026-12-20 --project web"#,
        r#"dep add atlas --needs ship --external "Vendor" --what "Keys" --by 2026-12-10"#,
    ] {
        db.run_in(&other, "tpm", line).await.unwrap();
    }
    let other_before = drumbeat::document::export_tenant(&db.store, &other)
        .await
        .unwrap();
    let before = db.dump().await;

    let wrong = db.bin(&["tenant", "purge", "local", "--confirm", "slack:T0OTHER"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stderr(&wrong).contains("nothing was removed"),
        "{}",
        stderr(&wrong)
    );
    assert_eq!(db.dump().await, before);

    let purge = db.bin(&["tenant", "purge", "local", "--confirm", "local"]);
    assert!(purge.status.success(), "{}", stderr(&purge));
    let said = stdout(&purge);
    assert!(said.contains("Purged tenant local"), "{said}");
    assert!(said.contains("events"), "{said}");

    let mut conn = db.store.conn().await.unwrap();
    for table in ["people", "programs", "events", "outbox", "channel_bindings"] {
        let (n,): (i64,) = store::db::query_as(format!(
            "SELECT count(*) FROM {table} WHERE tenant = 'local'"
        ))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(n, 0, "{table} still holds rows of the purged tenant");
    }
    let purges = store::tenant_purges(&mut conn).await.unwrap();
    assert_eq!(purges.len(), 1);
    assert_eq!(purges[0].0, "local");
    let removed: serde_json::Value = serde_json::from_str(&purges[0].2).unwrap();
    assert_eq!(removed["milestones"], 3, "{removed}");
    assert_eq!(removed["programs"], 1, "{removed}");
    drop(conn);
    // What is left is the other tenant's, unchanged.
    let other_after = drumbeat::document::export_tenant(&db.store, &other)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&other_before).unwrap(),
        serde_json::to_value(&other_after).unwrap()
    );
    let after = db.dump().await;
    assert!(after.iter().any(|l| l.starts_with("milestones: ")));
    assert!(
        after
            .iter()
            .filter(|l| l.starts_with("milestones: "))
            .count()
            == 1,
        "only the other tenant's milestone is left"
    );
}

/// Writers to one program at once each get their own record number, and every write lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_dependency_adds_get_different_numbers() {
    let db = std::sync::Arc::new(TestDb::new().await);
    seed_atlas(&db).await;
    let mut running = tokio::task::JoinSet::new();
    for i in 0..12 {
        let db = db.clone();
        running.spawn(async move {
            let line = format!(
                r#"dep add atlas --needs fe-launch --external "Vendor {i}" --what "Part {i}" --by 2027-01-05"#
            );
            db.ok("tpm", &line).await
        });
    }
    let mut numbers = Vec::new();
    while let Some(done) = running.join_next().await {
        let said = done.unwrap();
        let n: i64 = said
            .split('#')
            .nth(1)
            .and_then(|rest| {
                rest.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no number in {said}"));
        numbers.push(n);
    }
    numbers.sort();
    // seed_atlas made #1 and #2.
    assert_eq!(numbers, (3..=14).collect::<Vec<i64>>());
}

/// Two dependencies that would close a cycle between them, added at the same moment:
/// each write command locks its program first, so the second sees the first and is
/// refused. Ten pairs, each raced.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_dependencies_never_close_a_cycle() {
    let db = std::sync::Arc::new(TestDb::new().await);
    seed_atlas(&db).await;
    for i in 0..10 {
        db.ok(
            "tpm",
            &format!(
                r#"milestone add atlas a{i} --title "A {i}" --target 2027-02-01 --project api"#
            ),
        )
        .await;
        db.ok(
            "tpm",
            &format!(
                r#"milestone add atlas b{i} --title "B {i}" --target 2027-02-01 --project frontend"#
            ),
        )
        .await;
    }
    for i in 0..10 {
        let one = {
            let db = db.clone();
            tokio::spawn(async move {
                db.run(
                    "tpm",
                    &format!(
                        r#"dep add atlas --needs a{i} --from b{i} --what "X" --by 2027-01-20"#
                    ),
                )
                .await
            })
        };
        let two = {
            let db = db.clone();
            tokio::spawn(async move {
                db.run(
                    "tpm",
                    &format!(
                        r#"dep add atlas --needs b{i} --from a{i} --what "Y" --by 2027-01-20"#
                    ),
                )
                .await
            })
        };
        let outcomes = [one.await.unwrap(), two.await.unwrap()];
        let added = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(added, 1, "pair {i}: {outcomes:?}");
        let refusal = outcomes.iter().find_map(|o| match o {
            Err(drumbeat::command::CommandError::User(m)) => Some(m.clone()),
            _ => None,
        });
        assert!(
            refusal.as_deref().is_some_and(|m| m.contains("cycle")),
            "pair {i}: {outcomes:?}"
        );
    }
}

/// A snapshot reads every table in one statement; what it holds must be what each table's
/// own read gives, table by table, on either database.
#[tokio::test]
async fn a_snapshot_read_in_one_statement_matches_each_tables_own_read() {
    use drumbeat::domain::Key;
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    for line in [
        r#"status post atlas api --rag amber --summary "Auth behind" --blockers "SDK""#,
        "milestone move atlas api-beta --target 2026-12-22 --reason vendor",
        r#"assumption add atlas "Vendor ships in Q1" --owner @li --validate-by 2027-01-10"#,
        r#"readiness add atlas "Runbook written" --owner @dana --milestone api-beta"#,
    ] {
        db.ok("tpm", line).await;
    }
    let tenant = Tenant::local();
    let mut tx = db.store.read().await.expect("read");
    let (scope, program) = store::find_program(&mut tx, &tenant, &Key::parse("atlas").unwrap())
        .await
        .expect("lookup")
        .expect("atlas");
    let snap = store::load_snapshot(&mut tx, &scope, program, helpers::now(), None)
        .await
        .expect("snapshot");
    let apart = |v: &dyn std::fmt::Debug| format!("{v:?}");
    let mut people: Vec<_> = store::people(&mut tx, &tenant)
        .await
        .expect("people")
        .into_values()
        .map(|p| format!("{p:?}"))
        .collect();
    let mut in_snap: Vec<_> = snap.people.values().map(|p| format!("{p:?}")).collect();
    people.sort();
    in_snap.sort();
    assert_eq!(people, in_snap);
    assert_eq!(
        apart(&snap.projects),
        apart(&store::projects(&mut tx, &scope).await.unwrap())
    );
    assert_eq!(
        apart(&snap.milestones),
        apart(&store::milestones(&mut tx, &scope).await.unwrap())
    );
    assert_eq!(
        apart(&snap.slips),
        apart(&store::slips(&mut tx, &scope).await.unwrap())
    );
    assert_eq!(
        apart(&snap.deps),
        apart(&store::dependencies(&mut tx, &scope).await.unwrap())
    );
    assert_eq!(
        apart(&snap.risks),
        apart(&store::risks(&mut tx, &scope).await.unwrap())
    );
    assert_eq!(
        apart(&snap.decisions),
        apart(&store::decisions(&mut tx, &scope).await.unwrap())
    );
    assert_eq!(
        apart(&snap.items),
        apart(&store::items(&mut tx, &scope).await.unwrap())
    );
    assert_eq!(
        apart(&snap.checks),
        apart(&store::checks(&mut tx, &scope).await.unwrap())
    );
    assert_eq!(
        apart(&snap.latest_status),
        apart(&store::latest_status_updates(&mut tx, &scope).await.unwrap())
    );
    assert_eq!(
        apart(&snap.events),
        apart(&store::events(&mut tx, &scope).await.unwrap())
    );
    // Something of each kind was read, so the comparison compared something.
    assert!(snap.slips.len() == 1 && snap.items.len() == 1 && snap.checks.len() == 1);
    assert!(snap.latest_status.len() == 1 && snap.deps.len() == 2 && !snap.events.is_empty());
}

/// Owners posting at once hold their program together (on PostgreSQL its row is locked
/// shared): every post lands, and each one's "before" is a post made before it (on SQLite,
/// whose writers take turns, the one right before it). A project removed meanwhile waits
/// for the posts in flight, and no post lands after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_posts_at_once_each_see_the_one_before() {
    use drumbeat::domain::Key;
    let db = std::sync::Arc::new(TestDb::new().await);
    seed_atlas(&db).await;
    let rags = ["green", "amber", "red"];
    let mut running = tokio::task::JoinSet::new();
    for i in 0..12 {
        let d = db.clone();
        running.spawn(async move {
            let line = format!(
                r#"status post atlas api --rag {} --summary "Check {i}" --blockers "none""#,
                rags[i % 3]
            );
            d.run("tpm", &line).await.map(|_| ())
        });
        let d = db.clone();
        running.spawn(async move {
            let line = format!(
                r#"status post atlas legal --rag {} --summary "Check {i}" --blockers "none""#,
                rags[i % 3]
            );
            d.run("tpm", &line).await.map(|_| ())
        });
        if i == 6 {
            let d = db.clone();
            running
                .spawn(async move { d.run("tpm", "project remove atlas legal").await.map(|_| ()) });
        }
    }
    let mut refused = Vec::new();
    while let Some(done) = running.join_next().await {
        if let Err(e) = done.unwrap() {
            refused.push(format!("{e:?}"));
        }
    }
    let tenant = Tenant::local();
    let mut tx = db.store.read().await.expect("read");
    let (scope, _) = store::find_program(&mut tx, &tenant, &Key::parse("atlas").unwrap())
        .await
        .expect("lookup")
        .expect("atlas");
    let events = store::events(&mut tx, &scope).await.expect("events");
    tx.commit().await.expect("commit");
    let rag = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .and_then(|v| v.get("rag"))
            .and_then(|r| r.as_str())
            .map(str::to_owned)
    };
    let posts_to = |project: &str| -> Vec<&drumbeat::domain::Event> {
        let subject = format!("project:{project}");
        events
            .iter()
            .filter(|e| e.kind == "status.posted" && e.subject == subject)
            .collect()
    };
    // Each post's before is the colour of a post made before it, or none for the first
    // (and for those made in the same instant as the first).
    let chained = |posts: &[&drumbeat::domain::Event]| {
        for (i, post) in posts.iter().enumerate() {
            let before = rag(&post.before);
            if i == 0 {
                assert_eq!(before, None, "the first post replaced nothing");
                continue;
            }
            assert!(
                before.is_none() || posts[..i].iter().any(|p| rag(&p.after) == before),
                "post {i}'s before {before:?} is no earlier post's colour"
            );
            if db.store.dialect() == store::Dialect::Sqlite {
                assert_eq!(before, rag(&posts[i - 1].after));
            }
        }
    };
    let api = posts_to("api");
    assert_eq!(api.len(), 12, "every post to api lands");
    chained(&api);
    let removed = events
        .iter()
        .find(|e| e.kind == "project.removed" && e.subject == "project:legal")
        .expect("legal removed");
    let legal = posts_to("legal");
    assert!(
        legal.iter().all(|e| e.id < removed.id),
        "no post lands after its project is removed"
    );
    assert_eq!(
        legal.len() + refused.len(),
        12,
        "each post to legal lands or is refused: {refused:?}"
    );
    assert!(refused.iter().all(|r| r.contains("removed")), "{refused:?}");
    chained(&legal);
}

/// Signed requests recorded together: each is first once, also when it comes twice in one
/// batch or was recorded in an earlier one.
#[tokio::test]
async fn replayed_signatures_are_told_apart_in_one_batch() {
    let db = TestDb::new().await;
    let now = helpers::now();
    let at = now.timestamp();
    let mut tx = db.store.write().await.expect("write");
    let first = store::first_sightings(&mut tx, &[("a", at), ("b", at), ("a", at)], now, 360)
        .await
        .expect("record");
    assert_eq!(first, [true, true, false]);
    let again = store::first_sightings(&mut tx, &[("c", at), ("b", at)], now, 360)
        .await
        .expect("record");
    assert_eq!(again, [true, false]);
    assert_eq!(store::slack_signatures_kept(&mut tx).await.unwrap(), 3);
    tx.commit().await.expect("commit");
}

/// The record of signed requests has a connection of its own on PostgreSQL: requests are
/// still told apart while every connection of the commands' pool is held, and what it
/// wrote stands without a commit.
#[tokio::test]
async fn replays_are_recorded_while_the_pool_is_busy() {
    let db = TestDb::new().await;
    let Some(url) = db.url.clone() else {
        eprintln!("skipped: PostgreSQL only (SQLite records replays as one of its writers)");
        return;
    };
    let mut options = store::Options::at(store::Location::Postgres(url.into()));
    options.max_connections = 1;
    let small = store::Store::open(&options).await.expect("open");
    let held = small.write().await.expect("the pool's one connection");
    let now = helpers::now();
    let at = now.timestamp();
    let recorded = tokio::time::timeout(Duration::from_secs(5), async {
        let mut side = small
            .autocommit_lazily()
            .await
            .expect("the side connection");
        let first = store::first_sightings(&mut side, &[("x", at), ("x", at)], now, 360)
            .await
            .expect("record");
        let again = store::first_sightings(&mut side, &[("y", at - 400), ("x", at)], now, 360)
            .await
            .expect("record");
        side.rollback().await.expect("nothing to undo");
        (first, again)
    })
    .await
    .expect("recorded without a connection from the pool");
    assert_eq!(recorded, (vec![true, false], vec![true, false]));
    held.rollback().await.expect("rollback");
    // Written as it ran: the rollback above undid nothing, and a signature older than the
    // window was pruned in a later batch.
    let mut tx = db.store.write().await.expect("write");
    let later = store::first_sightings(&mut tx, &[("z", at)], now, 360)
        .await
        .expect("record");
    assert_eq!(later, [true]);
    assert_eq!(store::slack_signatures_kept(&mut tx).await.unwrap(), 2);
    tx.commit().await.expect("commit");
}

/// A message is queued only for a program of its own tenant: a foreign one is refused,
/// and nothing is queued.
#[tokio::test]
async fn a_message_for_another_tenants_program_is_refused() {
    use drumbeat::outbox::Destination;
    use drumbeat::store::NewMessage;
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let mut tx = db.store.write().await.expect("write");
    let program = store::find_program(
        &mut tx,
        &Tenant::local(),
        &drumbeat::domain::Key::parse("atlas").unwrap(),
    )
    .await
    .expect("lookup")
    .expect("atlas")
    .0
    .program_id();
    let message = |tenant: Tenant, dedup: &str| NewMessage {
        tenant,
        program_id: Some(program),
        destination: Destination::Console {
            channel: "digests".into(),
        },
        reply: drumbeat::reply::Reply::success("hello"),
        reason: "a test".into(),
        dedup_key: Some(dedup.into()),
        not_before: helpers::now(),
    };
    let foreign = Tenant::parse("slack:T0OTHER").expect("tenant");
    let refused = store::enqueue(&mut tx, &message(foreign, "x")).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("is not in tenant")),
        "{refused:?}"
    );
    let queued = store::enqueue(&mut tx, &message(Tenant::local(), "x"))
        .await
        .expect("queued");
    assert!(queued.is_some());
    // The same dedup key again is no error: it is simply not queued twice.
    let twice = store::enqueue(&mut tx, &message(Tenant::local(), "x"))
        .await
        .expect("not an error");
    assert_eq!(twice, None);
    tx.commit().await.expect("commit");
}

/// A read runs reads only: a write through it is refused before it is sent, and changes
/// nothing, on either database (on PostgreSQL a read has no transaction to undo it).
#[tokio::test]
async fn a_read_refuses_a_write() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let before = helpers::dump(&db.store).await;
    let mut tx = db.store.read().await.expect("read");
    let names: Vec<(String,)> = store::db::query_as("SELECT name FROM programs")
        .fetch_all(&mut tx)
        .await
        .expect("a select runs");
    assert_eq!(names.len(), 1);
    for write in [
        "UPDATE programs SET name = 'changed'",
        "  insert into people (tenant, handle, display_name) values ('local', 'x', 'x')",
        "WITH gone AS (DELETE FROM risks RETURNING id) SELECT count(*) FROM gone",
    ] {
        let refused = store::db::query(write).execute(&mut tx).await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("not a read")),
            "{write}: {refused:?}"
        );
    }
    tx.rollback().await.expect("rollback");
    assert_eq!(helpers::dump(&db.store).await, before, "nothing changed");
}
