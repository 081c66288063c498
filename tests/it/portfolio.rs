//! Portfolios: three programs side by side, the portfolio digest for executives and
//! engineering, its subscription on the scheduler, and what a portfolio may not reach.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use drumbeat::config::DeliverySettings;
use drumbeat::domain::Tenant;
use drumbeat::outbox::{ConsoleSink, Senders, Worker};
use drumbeat::schedule::{Scheduler, SchedulerSettings};

use crate::helpers::{seed_atlas, TestDb};

/// Atlas (the sample: a declined-free plan with a high risk and a pending decision), Orion
/// (a blocked dependency: red) and Ledger (on track, reported green).
async fn three_programs(db: &TestDb) {
    seed_atlas(db).await;
    for line in [
        r#"program create orion --name "Orion data platform" --tz UTC"#,
        r#"project add orion ingest --name "Ingest" --owner @kim"#,
        r#"project add orion storage --name "Storage" --owner @raj"#,
        r#"milestone add orion ingest-ga --title "Ingest GA" --target 2027-01-15 --project ingest"#,
        r#"dep add orion --needs ingest-ga --from storage --what "Bucket quotas" --by 2026-12-10 --owner @raj --accepted"#,
        r#"dep block orion 1 --reason "Quota service down""#,
        r#"decision add orion "Pick a region" --decider @vp --decide-by 2026-12-08"#,
        r#"program create ledger --name "Ledger rewrite" --tz UTC"#,
        r#"project add ledger core --name "Core" --owner @ana"#,
        r#"milestone add ledger core-ga --title "Core GA" --target 2027-02-01 --project core"#,
        r#"status post ledger core --rag green --summary "On track""#,
        r#"program create spare --name "Not in the portfolio" --tz UTC"#,
    ] {
        db.ok("tpm", line).await;
    }
}

#[tokio::test]
async fn a_portfolio_shows_its_programs_worst_first_with_their_reasons() {
    let db = TestDb::new().await;
    three_programs(&db).await;
    let made = db
        .ok(
            "director",
            r#"portfolio create payments --name "Payments group" --programs ledger,orion,atlas"#,
        )
        .await;
    assert!(made.contains("Created portfolio payments"), "{made}");
    assert!(made.contains("ledger, orion, atlas"), "{made}");

    let reply = db.run("director", "portfolio show payments").await.unwrap();
    let text = drumbeat::reply::text::render(&reply);
    assert!(text.contains("3 programs:"), "{text}");
    // Worst first: orion's blocked dependency makes it red; ledger (green) comes last.
    let at = |k: &str| text.find(&format!("`{k}`")).unwrap_or(usize::MAX);
    assert!(
        at("orion") < at("ledger") && at("atlas") < at("ledger"),
        "{text}"
    );
    assert!(text.contains("2 red, 0 amber, 1 green"), "{text}");
    assert!(
        text.contains("Quota service down") || text.contains("Bucket quotas"),
        "{text}"
    );
    let data = reply.data.unwrap();
    let programs = data["programs"].as_array().unwrap();
    assert_eq!(programs.len(), 3);
    let keys: Vec<&str> = programs
        .iter()
        .map(|p| p["program"]["key"].as_str().unwrap())
        .collect();
    assert!(!keys.contains(&"spare"), "{keys:?}");
    let orion = programs
        .iter()
        .find(|p| p["program"]["key"] == "orion")
        .unwrap();
    assert_eq!(orion["rag"], "red", "{orion}");
    assert!(
        orion["asks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["what"].as_str().unwrap().contains("Pick a region")),
        "{orion}"
    );
    assert!(orion["end"]["target"] == "2027-01-15", "{orion}");
    let atlas = programs
        .iter()
        .find(|p| p["program"]["key"] == "atlas")
        .unwrap();
    assert_eq!(atlas["top_risk"]["title"], "Vendor SDK late", "{atlas}");
    let ledger = programs
        .iter()
        .find(|p| p["program"]["key"] == "ledger")
        .unwrap();
    assert_eq!(ledger["rag"], "green", "{ledger}");

    // Without a key: every live program of the tenant.
    let every = db.run("viewer", "portfolio show").await.unwrap();
    let n = every.data.unwrap()["programs"].as_array().unwrap().len();
    assert_eq!(n, 4);

    // Changing the list keeps its order; the set replaces it.
    db.ok("director", "portfolio remove payments ledger").await;
    db.ok("director", "portfolio add payments spare ledger")
        .await;
    let listed = db.ok("director", "portfolio list").await;
    assert!(
        listed.contains("payments") && listed.contains('4'),
        "{listed}"
    );
    db.ok(
        "director",
        "portfolio set payments --programs atlas,orion,ledger",
    )
    .await;
    let shown = db.run("director", "portfolio show payments").await.unwrap();
    assert_eq!(shown.data.unwrap()["programs"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn bad_portfolio_commands_are_refused_and_change_nothing() {
    let db = TestDb::new().await;
    three_programs(&db).await;
    db.ok(
        "director",
        "portfolio create payments --programs atlas,orion",
    )
    .await;
    db.ok("tpm", "program archive spare").await;
    let before = db.dump().await;
    for (who, line, says) in [
        (
            "director",
            "portfolio create other --programs atlas,nope",
            "there is no program `nope`",
        ),
        (
            "director",
            "portfolio create other --programs atlas,atlas",
            "program `atlas` is named twice",
        ),
        (
            "director",
            "portfolio create other --programs spare",
            "program `spare` is archived",
        ),
        (
            "director",
            "portfolio create payments --programs ledger",
            "a portfolio `payments` already exists",
        ),
        (
            "someone",
            "portfolio add payments ledger",
            "only the owner of portfolio `payments`",
        ),
        (
            "director",
            "portfolio add payments atlas",
            "program `atlas` is already in portfolio `payments`",
        ),
        (
            "director",
            "portfolio remove payments ledger",
            "program `ledger` is not in portfolio `payments`",
        ),
        (
            "director",
            "portfolio delete payments --confirm paymentz",
            "--confirm must repeat the portfolio's key",
        ),
        (
            "director",
            "portfolio show nope",
            "there is no portfolio `nope`",
        ),
        (
            "director",
            "digest show --portfolio payments --audience product",
            "a portfolio digest is for executives or engineering",
        ),
        (
            "director",
            "digest show atlas --portfolio payments",
            "cannot be used with",
        ),
        (
            "someone",
            "digest subscribe --portfolio payments --audience executive --channel leads",
            "only the owner of portfolio `payments`",
        ),
        (
            "director",
            "portfolio unsubscribe payments 7",
            "portfolio `payments` has no subscription #7",
        ),
        ("director", "portfolio set payments", "nothing to change"),
    ] {
        let got = db.refused(who, line).await;
        assert!(got.contains(says), "`{line}`: {got}");
    }
    assert_eq!(
        db.dump().await,
        before,
        "a refused command changed something"
    );
}

/// A portfolio lives in one tenant: another tenant neither sees it nor reaches its programs
/// through a program of the same key.
#[tokio::test]
async fn a_portfolio_never_reaches_another_tenant() {
    let db = TestDb::new().await;
    three_programs(&db).await;
    db.ok(
        "director",
        "portfolio create payments --programs atlas,orion",
    )
    .await;
    let other = Tenant::parse("slack:T0OTHER").unwrap();
    let run = |line: &'static str| {
        let db = &db;
        let other = other.clone();
        async move { db.run_in(&other, "tpm", line).await }
    };
    run(r#"program create atlas --name "Their atlas""#)
        .await
        .unwrap();
    let err = run("portfolio show payments").await.unwrap_err();
    assert!(
        err.to_string().contains("there is no portfolio `payments`"),
        "{err}"
    );
    // Their own portfolio of `atlas` is their atlas, not ours.
    run("portfolio create mine --programs atlas").await.unwrap();
    let theirs = run("portfolio show mine").await.unwrap();
    let text = drumbeat::reply::text::render(&theirs);
    let data = theirs.data.unwrap();
    assert_eq!(
        data["programs"][0]["program"]["name"], "Their atlas",
        "{text}"
    );
    assert!(!text.contains("Vendor SDK late"), "{text}");
    let err = run("portfolio add mine orion").await.unwrap_err();
    assert!(
        err.to_string().contains("there is no program `orion`"),
        "{err}"
    );
}

#[tokio::test]
async fn the_portfolio_digest_speaks_to_executives_and_to_engineering() {
    let db = TestDb::new().await;
    three_programs(&db).await;
    db.ok(
        "director",
        r#"portfolio create payments --name "Payments `group`" --programs atlas,orion,ledger"#,
    )
    .await;
    let exec = db
        .ok(
            "director",
            "digest show --portfolio payments --audience executive",
        )
        .await;
    assert!(
        exec.contains("Executive digest of Payments group"),
        "{exec}"
    );
    assert!(
        !exec.contains('`'),
        "no code formatting for executives: {exec}"
    );
    for name in [
        "Atlas cloud launch",
        "Orion data platform",
        "Ledger rewrite",
    ] {
        assert!(exec.contains(name), "{name} missing: {exec}");
    }
    assert!(
        exec.contains("Pick a region: needs a decision from @vp by 2026-12-08"),
        "{exec}"
    );
    assert!(exec.contains("2 red, 0 amber, 1 green"), "{exec}");
    let lines = exec.lines().count();
    assert!(lines <= 60, "{lines} lines: {exec}");

    let eng = db
        .ok(
            "director",
            "digest show --portfolio payments --audience engineering",
        )
        .await;
    assert!(
        eng.contains("Engineering digest of Payments `group`"),
        "{eng}"
    );
    assert!(eng.contains("dep #1"), "{eng}");
    assert!(
        eng.contains("Bucket quotas from Storage for ingest-ga (Ingest): blocked"),
        "{eng}"
    );

    let json = db
        .run(
            "director",
            "digest show --portfolio payments --audience executive --format json",
        )
        .await
        .unwrap();
    assert_eq!(json.data.unwrap()["programs"].as_array().unwrap().len(), 3);
}

/// A subscription sends the portfolio's digest at its slot, once, on the scheduler that
/// sends program digests.
#[tokio::test]
async fn a_portfolio_digest_subscription_goes_out_once_per_slot() {
    let db = TestDb::new().await;
    three_programs(&db).await;
    db.ok(
        "director",
        "portfolio create payments --programs atlas,orion,ledger --tz UTC",
    )
    .await;
    let subscribed = db
        .ok(
            "director",
            r#"digest subscribe --portfolio payments --audience executive --at "daily 11:00" --channel leads"#,
        )
        .await;
    assert!(
        subscribed.contains("Scheduled the executive digest of portfolio payments"),
        "{subscribed}"
    );
    let shown = db.ok("director", "portfolio show payments").await;
    assert!(shown.contains("#1: executive digest"), "{shown}");

    let (sink, lines) = ConsoleSink::memory();
    let delivery = DeliverySettings::default();
    let clock: Arc<dyn drumbeat::clock::Clock> = Arc::new(db.clock.clone());
    let scheduler = Scheduler::new(
        db.store.clone(),
        clock.clone(),
        SchedulerSettings::default(),
    );
    let worker = Worker::new(db.store.clone(), Senders::console(sink), clock, &delivery);
    // Before the slot: nothing.
    db.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap());
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    assert!(lines.lock().unwrap().is_empty());
    // At the slot, then again a minute later: one digest.
    let slot = Utc.with_ymd_and_hms(2026, 11, 27, 11, 0, 0).unwrap();
    for t in [slot, slot + Duration::minutes(1)] {
        db.clock.set(t);
        let report = scheduler.tick().await.unwrap();
        assert_eq!(report.failed, 0, "{report:?}");
        worker.drain().await.unwrap();
    }
    let seen = std::mem::take(&mut *lines.lock().unwrap()).join("\n");
    assert_eq!(
        seen.matches("Executive digest of payments").count(),
        1,
        "{seen}"
    );
    assert!(seen.contains("Orion data platform"), "{seen}");
    assert!(seen.contains("portfolio unsubscribe payments 1"), "{seen}");

    db.ok("director", "portfolio unsubscribe payments 1").await;
    db.clock.set(slot + Duration::days(1));
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    assert!(lines.lock().unwrap().is_empty(), "unsubscribed, yet sent");
}
