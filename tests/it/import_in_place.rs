//! Importing over an existing program replaces it in place: what the document carries is
//! replaced, what it does not (the program's rhythm, routes, snoozes, calendar feed and
//! queued messages) is kept, and nothing is written when the document may not be taken.

use std::collections::HashMap;

use drumbeat::command::{ChannelCheck, ChannelVerdict};
use drumbeat::document::{self, ImportFailure, ImportOptions};
use drumbeat::domain::Tenant;
use futures_util::future::BoxFuture;

use crate::helpers::*;

/// The rows of these tables, from a dump.
fn rows(dump: &[String], tables: &[&str]) -> Vec<String> {
    dump.iter()
        .filter(|l| tables.iter().any(|t| l.starts_with(&format!("{t}: "))))
        .cloned()
        .collect()
}

async fn program_id(db: &TestDb, key: &str) -> i64 {
    let (id,): (i64,) = drumbeat::store::db::query_as("SELECT id FROM programs WHERE key = $1")
        .bind(key)
        .fetch_one(&mut db.store.conn().await.unwrap())
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn import_keeps_the_program_its_rhythm_routes_feed_and_queue() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    for line in [
        "program bind atlas",
        r#"schedule set atlas prompt "weekly mon 10:00""#,
        "digest subscribe atlas --audience executive --channel leadership",
        "program route atlas --project api --channel api-team",
        r#"dep snooze atlas 1 --until 2026-12-10 --reason "vendor holidays""#,
        "program ical-token atlas",
    ] {
        db.ok("tpm", line).await;
    }
    let out = db.bin(&["export", "--program", "atlas"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let exported = stdout(&out);
    let file = db.path.with_file_name("atlas.json");
    std::fs::write(&file, &exported).unwrap();

    // After the export: a move that queues a ping, and a project with its own route that the
    // document does not have.
    let moved = db
        .ok(
            "dana",
            r#"milestone move atlas api-beta --target 2027-01-30 --reason "load test""#,
        )
        .await;
    assert!(moved.contains("1 owner will be told"), "{moved}");
    db.ok(
        "tpm",
        r#"project add atlas docs --name "Docs" --owner @sam"#,
    )
    .await;
    db.ok(
        "tpm",
        "program route atlas --project docs --channel docs-team",
    )
    .await;
    let id = program_id(&db, "atlas").await;
    let before = db.dump().await;

    // Undelivered messages: refused without --force, and nothing changes.
    let out = db.bin(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 message not delivered yet") && stderr(&out).contains("--force"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        before,
        db.dump().await,
        "a refused import changed something"
    );

    let out = db.bin(&["import", "--force", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    for want in [
        "Replaced program atlas in place: 3 projects, 3 milestones, 2 dependencies, 1 risk, 1 decision, 0 status updates,",
        "where it had 4 projects, 3 milestones, 2 dependencies,",
        "Kept, as the document does not carry them: 1 schedule, 1 digest subscription, 1 route, 1 snooze, 1 undelivered message, its calendar feed.",
        "Removed with projects the document does not have: 1 route.",
    ] {
        assert!(said.contains(want), "expected «{want}» in «{said}»");
    }

    // The same program row, and everything beside the document's records as it was.
    assert_eq!(program_id(&db, "atlas").await, id);
    let after = db.dump().await;
    let kept = ["schedules", "snoozes", "ical_feeds", "outbox", "job_runs"];
    assert_eq!(rows(&before, &kept), rows(&after, &kept));
    let api_route: Vec<String> = rows(&before, &["routes"])
        .into_iter()
        .filter(|r| r.contains("api-team"))
        .collect();
    assert_eq!(api_route.len(), 1);
    assert_eq!(
        rows(&after, &["routes"]),
        api_route,
        "the api route is kept as it was"
    );

    // The records are the document's again: the move and the new project are gone.
    let again = stdout(&db.bin(&["export", "--program", "atlas"]));
    assert_eq!(exported, again);
    let shown = db.ok("tpm", "program show atlas").await;
    assert!(!shown.contains("docs"), "{shown}");
}

/// Says what a platform would say of each channel.
#[derive(Debug)]
struct FakeChannels(HashMap<&'static str, ChannelVerdict>);

impl ChannelCheck for FakeChannels {
    fn check<'a>(&'a self, _tenant: &'a Tenant, channel: &'a str) -> BoxFuture<'a, ChannelVerdict> {
        let verdict = self
            .0
            .get(channel)
            .cloned()
            .unwrap_or(ChannelVerdict::Belongs);
        Box::pin(std::future::ready(verdict))
    }
}

#[tokio::test]
async fn channels_in_a_document_are_the_tenants_and_no_other_programs() {
    let a = TestDb::new().await;
    seed_atlas(&a).await;
    a.ok("tpm", "program bind atlas").await;
    let json = stdout(&a.bin(&["export", "--program", "atlas"]));
    let doc = document::parse(&json).unwrap();
    assert_eq!(doc.channels, vec!["console".to_owned()]);

    let b = TestDb::new().await;
    let before = b.dump().await;
    let tenant = Tenant::local();
    for (verdict, want) in [
        (
            ChannelVerdict::Foreign,
            "channels[0]: channel `console` is not one of",
        ),
        (
            ChannelVerdict::Unchecked("no token for this platform".into()),
            "channels[0]: channel `console` could not be checked: no token for this platform",
        ),
    ] {
        let check = FakeChannels(HashMap::from([("console", verdict)]));
        match document::import(&b.store, &tenant, &doc, &check, ImportOptions::default()).await {
            Err(ImportFailure::Refused(e)) => {
                assert!(e.to_string().contains(want), "expected «{want}» in «{e}»")
            }
            other => panic!("should be refused, got {other:?}"),
        }
        assert_eq!(before, b.dump().await, "a refused import changed something");
    }

    // The binary asks this process's platform check: a Discord tenant's channels cannot be
    // confirmed without its token, so the import is refused with exit 2.
    let file = b.path.with_file_name("atlas.json");
    std::fs::write(&file, &json).unwrap();
    let out = b.bin(&["import", "--tenant", "discord:123", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("could not be checked"),
        "{}",
        stderr(&out)
    );
    assert_eq!(before, b.dump().await);

    // A channel bound to another program of the tenant is not taken from it.
    b.ok("tpm", r#"program create other --name "Other" --tz UTC"#)
        .await;
    b.ok("tpm", "program bind other").await;
    let before = b.dump().await;
    let out = b.bin(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("channels[0]: channel `console` is bound to program `other`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(before, b.dump().await);
}

#[tokio::test]
async fn a_document_followed_by_more_text_is_refused() {
    let a = TestDb::new().await;
    seed_atlas(&a).await;
    let json = stdout(&a.bin(&["export", "--program", "atlas"]));
    assert!(document::parse(&format!("{json}\n\n")).is_ok());
    let b = TestDb::new().await;
    let before = b.dump().await;
    for (i, tail) in ["{}", "x", "[1]", "\"more\""].into_iter().enumerate() {
        let e = document::parse(&format!("{json}{tail}")).unwrap_err();
        assert!(e.to_string().contains("goes on after the document"), "{e}");
        let file = b.path.with_file_name(format!("tail{i}.json"));
        std::fs::write(&file, format!("{json}\n{tail}")).unwrap();
        let out = b.bin(&["import", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("goes on after"), "{}", stderr(&out));
    }
    assert_eq!(before, b.dump().await);
}

/// Record numbers come from a counter per program and kind: after an import that keeps
/// numbers with gaps, the next record takes one more than the highest, of its own kind,
/// and a program's counters are its own.
#[tokio::test]
async fn record_numbers_follow_the_highest_taken_per_kind_and_program() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok("tpm", r#"program create beta --name "Beta" --tz UTC"#)
        .await;
    let added = db
        .ok(
            "tpm",
            r#"risk add beta "First of beta" --likelihood 1 --impact 1"#,
        )
        .await;
    assert!(added.contains("#1"), "{added}");
    // Atlas has risk 1 and dependencies 1 and 2: renumber risk 1 as 7 and re-import.
    let json = stdout(&db.bin(&["export", "--program", "atlas"]));
    let mut doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    doc["risks"][0]["number"] = 7.into();
    let file = db.path.with_extension("atlas.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = db.bin(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let next = db
        .ok(
            "tpm",
            r#"risk add atlas "After the gap" --likelihood 2 --impact 2"#,
        )
        .await;
    assert!(next.contains("#8"), "{next}");
    let dep = db
        .ok(
            "tpm",
            r#"dep add atlas --needs frontend --from api --what "Rate limits" --by 2026-12-20 --accepted"#,
        )
        .await;
    assert!(dep.contains("#3"), "{dep}");
    let beta = db
        .ok(
            "tpm",
            r#"risk add beta "Second of beta" --likelihood 1 --impact 1"#,
        )
        .await;
    assert!(beta.contains("#2"), "{beta}");
}
