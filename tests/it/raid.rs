//! The rest of the RAID log: assumptions, issues and action items through the command
//! language; what they do to health, "changes since", `--json` and the program document.

use crate::analysis::health;
use crate::helpers::{seed_atlas, stdout, TestDb};

async fn data(db: &TestDb, line: &str) -> serde_json::Value {
    db.run("tpm", line).await.unwrap().data.unwrap()
}

#[tokio::test]
async fn assumptions_are_recorded_validated_and_invalidated_into_risks_or_issues() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let added = db
        .ok(
            "tpm",
            r#"assumption add atlas "EU data centre ready by March" --owner @ira --validate-by 2026-12-20 --project api"#,
        )
        .await;
    assert!(added.contains("Assumption #1 added to atlas"), "{added}");
    assert!(added.contains("to validate by 2026-12-20"), "{added}");
    db.ok(
        "tpm",
        r#"assumption add atlas "Vendor keeps the SDK API stable" --owner @li --validate-by 2026-12-10"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"assumption add atlas "Legal signs off in a week" --owner @sam --validate-by 2026-12-10"#,
    )
    .await;
    // Bad input changes nothing.
    let before = db.dump().await;
    for (line, says) in [
        (
            r#"assumption add atlas "x" --owner @ira --validate-by 2020-01-01"#,
            "--validate-by 2020-01-01 is in the past",
        ),
        (
            r#"assumption add atlas "x" --owner @ira --validate-by 2027-01-01 --project nowhere"#,
            "nowhere",
        ),
        ("assumption validate atlas 9", "there is no assumption #9"),
        (
            r#"assumption invalidate atlas 1 --note """#,
            "say what was found",
        ),
    ] {
        let msg = db.refused("tpm", line).await;
        assert!(msg.contains(says), "{line}: {msg}");
    }
    assert_eq!(db.dump().await, before);
    // Only editors and the lead of the project record them; only the owner or an editor
    // closes one.
    let msg = db
        .refused(
            "li",
            r#"assumption add atlas "x" --owner @li --validate-by +1w"#,
        )
        .await;
    assert!(msg.contains("only the lead of its --project"), "{msg}");
    let msg = db.refused("li", "assumption validate atlas 1").await;
    assert!(msg.contains("only its owner"), "{msg}");

    db.ok(
        "ira",
        r#"assumption validate atlas 1 --note "confirmed with ops""#,
    )
    .await;
    let risk = db
        .ok(
            "tpm",
            r#"assumption invalidate atlas 2 --note "v3 breaks the auth calls" --raise risk"#,
        )
        .await;
    assert!(risk.contains("Raised as risk #2"), "{risk}");
    let shown = db.ok("tpm", "risk show atlas 2").await;
    assert!(shown.contains("Vendor keeps the SDK API stable"), "{shown}");
    let issue = db
        .ok(
            "tpm",
            r#"assumption invalidate atlas 3 --note "two weeks at least" --raise issue"#,
        )
        .await;
    assert!(issue.contains("Raised as issue #1"), "{issue}");
    let issue = data(&db, "issue show atlas 1").await;
    assert_eq!(issue["link"]["kind"], "assumption");
    assert_eq!(issue["link"]["number"], 3);
    assert_eq!(issue["note"], "two weeks at least");

    let open = data(&db, "assumption list atlas").await;
    assert_eq!(open["assumptions"].as_array().unwrap().len(), 0);
    let all = data(&db, "assumption list atlas --all").await;
    let first = &all["assumptions"][0];
    assert_eq!(first["state"], "validated");
    assert_eq!(first["owner"], "ira");
    assert_eq!(first["project"], "api");
    assert_eq!(first["due"], "2026-12-20");
    assert_eq!(all["assumptions"][1]["link"]["kind"], "risk");
    let msg = db.refused("tpm", "assumption validate atlas 1").await;
    assert!(msg.contains("already validated"), "{msg}");

    let digest = db
        .ok("tpm", "digest show atlas --audience engineering")
        .await;
    for want in [
        "assumption #1 validated: EU data centre ready by March: confirmed with ops",
        "assumption #2 invalidated: Vendor keeps the SDK API stable: v3 breaks the auth calls",
        "issue #1 added: Legal signs off in a week",
    ] {
        assert!(digest.contains(want), "{want} in {digest}");
    }
}

#[tokio::test]
async fn an_open_high_issue_turns_its_project_amber_and_a_critical_one_red() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok(
        "sam",
        r#"status post atlas legal --rag green --summary "On track""#,
    )
    .await;
    let (rag, _) = health(&db, "legal").await;
    assert_eq!(rag, "green");
    db.ok(
        "tpm",
        r#"issue add atlas "Staging cluster down" --owner @sam --severity low --project legal"#,
    )
    .await;
    assert_eq!(health(&db, "legal").await.0, "green", "low issues do not");
    let added = db
        .ok(
            "sam",
            r#"issue add atlas "Load tests failing" --owner @sam --severity high --project legal --due 2026-12-01"#,
        )
        .await;
    assert!(added.contains("at least amber"), "{added}");
    let (rag, reasons) = health(&db, "legal").await;
    assert_eq!(rag, "amber", "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.0 == "open_issue" && r.2 == "high issue #2 `Load tests failing` is open"),
        "{reasons:?}"
    );
    db.ok("sam", "issue set atlas 2 --severity critical").await;
    assert_eq!(health(&db, "legal").await.0, "red");
    let msg = db.refused("sam", "issue resolve atlas 2").await;
    assert!(msg.contains("--note"), "{msg}");
    db.ok("sam", r#"issue resolve atlas 2 --note "env rebuilt""#)
        .await;
    assert_eq!(health(&db, "legal").await.0, "green");
    let msg = db.refused("sam", "issue set atlas 2 --severity low").await;
    assert!(msg.contains("no longer changes"), "{msg}");
    let list = data(&db, "issue list atlas --all").await;
    assert_eq!(list["issues"][1]["state"], "resolved");
    assert_eq!(list["issues"][1]["severity"], "critical");

    // A risk that happens opens an issue, linked to it, with its note.
    let realized = db
        .ok("li", r#"risk realize atlas 1 --note "SDK slipped to Q2""#)
        .await;
    assert!(realized.contains("Opened issue #3"), "{realized}");
    let issue = data(&db, "issue show atlas 3").await;
    assert_eq!(issue["title"], "Vendor SDK late");
    assert_eq!(issue["severity"], "critical");
    assert_eq!(issue["note"], "SDK slipped to Q2");
    assert_eq!(issue["link"]["kind"], "risk");
    assert_eq!(issue["owner"], "li");
}

#[tokio::test]
async fn actions_are_owned_due_listed_and_done() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    // Today is 2026-11-27 (a Friday).
    db.ok(
        "tpm",
        r#"action add atlas "Send the EU plan" --owner @li --due 2026-12-01 --for decision:1"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"action add atlas "Book the load test env" --owner @dana --due 2026-11-30 --for dep:1"#,
    )
    .await;
    for (line, says) in [
        (
            r#"action add atlas "x" --owner @li --due +1w --for risk:9"#,
            "there is no risk #9",
        ),
        (
            r#"action add atlas "x" --owner @li --due +1w --for milestone:3"#,
            "not a record kind",
        ),
        (
            r#"action add atlas "x" --owner @li --due 2026-11-20"#,
            "in the past",
        ),
    ] {
        let msg = db.refused("tpm", line).await;
        assert!(msg.contains(says), "{line}: {msg}");
    }
    let shown = db.ok("tpm", "action show atlas 1").await;
    assert!(shown.contains("decision #1"), "{shown}");
    db.clock.advance(chrono::Duration::days(4)); // Tuesday 1 December
    let overdue = data(&db, "action list atlas --overdue").await;
    let numbers: Vec<i64> = overdue["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2]);
    let mine = db.run("li", "action list atlas --mine").await.unwrap();
    let mine = mine.data.unwrap();
    assert_eq!(mine["actions"].as_array().unwrap().len(), 1);
    assert_eq!(mine["actions"][0]["owner"], "li");
    let msg = db.refused("li", "action done atlas 2").await;
    assert!(msg.contains("only its owner"), "{msg}");
    db.ok("dana", "action done atlas 2").await;
    db.ok("li", "action set atlas 1 --due 2026-12-04").await;
    let open = data(&db, "action list atlas").await;
    assert_eq!(open["actions"].as_array().unwrap().len(), 1);
    assert_eq!(open["actions"][0]["due"], "2026-12-04");

    // The document carries them, and an import brings them back.
    let (doc, doc2) = crate::helpers::export_and_reimport(&db, "atlas").await;
    let items = doc["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{items:#?}");
    assert_eq!(items[0]["link"], "decision:1");
    assert_eq!(doc2["items"], doc["items"]);
}

/// A change request shows what it would move; the owner (or its decider) approves it, which
/// moves the milestones as slips with the change as their reason, optionally rebaselines,
/// and logs a decision; a rejection says why; both are in the document.
#[tokio::test]
async fn a_change_request_is_proposed_approved_as_slips_or_rejected() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    for (line, says) in [
        (
            r#"change propose atlas "Cut SSO" --why "vendor late""#,
            "at least one --move",
        ),
        (
            r#"change propose atlas "Cut SSO" --why "x" --move nowhere:2027-01-30"#,
            "no milestone `nowhere`",
        ),
        (
            r#"change propose atlas "Cut SSO" --why "x" --move api-beta"#,
            "not a move",
        ),
    ] {
        let msg = db.refused("tpm", line).await;
        assert!(msg.contains(says), "{line}: {msg}");
    }
    let proposed = db
        .ok(
            "tpm",
            r#"change propose atlas "Later beta" --why "load tests failed" --move api-beta:2026-12-22 --scope-out "SSO" --decider @li"#,
        )
        .await;
    assert!(
        proposed.contains("Change #1 proposed in atlas"),
        "{proposed}"
    );
    assert!(
        proposed.contains("If approved, forecasts move"),
        "{proposed}"
    );
    assert!(
        proposed.contains("`fe-launch`") || proposed.contains("api-beta"),
        "{proposed}"
    );
    let shown = data(&db, "change show atlas 1").await;
    assert_eq!(shown["state"], "proposed");
    assert_eq!(shown["decider"], "li");
    assert_eq!(shown["moves"][0]["milestone"], "api-beta");
    assert!(
        shown["what_if"].as_array().is_some_and(|w| !w.is_empty()),
        "{shown}"
    );
    let msg = db.refused("dana", "change approve atlas 1").await;
    assert!(msg.contains("or the change's decider"), "{msg}");

    // li, the named decider, approves it with a new baseline.
    let approved = db.ok("li", "change approve atlas 1 --rebaseline").await;
    assert!(approved.contains("Change #1 approved"), "{approved}");
    assert!(approved.contains("decision #2"), "{approved}");
    let m = db.ok("tpm", "milestone show atlas api-beta").await;
    assert!(m.contains("2026-12-22"), "{m}");
    assert!(
        m.contains("change #1 approved: Later beta (load tests failed)"),
        "the slip carries the change: {m}"
    );
    let beta = data(&db, "milestone show atlas api-beta").await;
    assert_eq!(beta["baseline"], "2026-12-22");
    let decision = data(&db, "decision show atlas 2").await;
    assert!(
        decision["outcome"]
            .as_str()
            .unwrap()
            .starts_with("Change #1 approved: api-beta → 2026-12-22; out of scope: SSO"),
        "{decision}"
    );
    let msg = db.refused("tpm", "change approve atlas 1").await;
    assert!(msg.contains("already approved"), "{msg}");

    db.ok(
        "tpm",
        r#"change propose atlas "Earlier launch" --why "marketing" --move fe-launch:2027-01-10"#,
    )
    .await;
    let msg = db.refused("tpm", "change reject atlas 2").await;
    assert!(msg.contains("--reason"), "{msg}");
    db.ok("tpm", r#"change reject atlas 2 --reason "not feasible""#)
        .await;
    let listed = data(&db, "change list atlas").await;
    assert_eq!(listed["changes"][1]["state"], "rejected");
    assert_eq!(listed["changes"][1]["reason"], "not feasible");
    let digest = db
        .ok("tpm", "digest show atlas --audience engineering")
        .await;
    assert!(
        digest.contains("change #1 approved: Later beta"),
        "{digest}"
    );
    assert!(
        digest.contains("change #2 rejected: Earlier launch: not feasible"),
        "{digest}"
    );
    let product = db.ok("tpm", "digest show atlas --audience product").await;
    assert!(
        product.contains("change #1 approved: Later beta"),
        "{product}"
    );
    assert!(!product.contains("change #2 rejected"), "{product}");
    let out = db.bin(&["export", "--program", "atlas"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["changes"].as_array().unwrap().len(), 2);
    assert_eq!(doc["changes"][0]["rebaseline"], true);
}
