//! A whole program through the text grammar, then a second process sees it all.

use crate::helpers::*;

#[tokio::test]
async fn a_program_from_create_to_status_and_a_second_process_sees_it() {
    let db = TestDb::new().await;
    // Arrange / act: the TPM sets the program up, the leads answer.
    seed_atlas(&db).await;
    db.ok(
        "tpm",
        r#"dep block atlas 1 --reason "waiting on security review""#,
    )
    .await;
    db.ok(
        "tpm",
        r#"risk add atlas "Load test capacity" --likelihood 2 --impact 3 --project api"#,
    )
    .await;
    db.ok("dana", r#"status post atlas api --rag amber --summary "Beta on track, perf risk" --blockers "none""#).await;
    db.ok(
        "li",
        r#"status post atlas frontend --rag green --summary "Design done""#,
    )
    .await;
    db.ok(
        "dana",
        r#"milestone move atlas api-beta --target 2026-12-22 --reason "load test failed""#,
    )
    .await;
    db.ok("dana", "milestone done atlas auth-ready").await;
    db.ok(
        "tpm",
        r#"charter set atlas --goal "Launch Atlas GA" --scope-out "On-prem""#,
    )
    .await;

    // Assert, in-process.
    let shown = db.ok("tpm", "milestone show atlas api-beta").await;
    assert!(shown.contains("2026-12-15 → 2026-12-22"), "{shown}");
    assert!(shown.contains("load test failed"), "{shown}");
    let missing = db.ok("tpm", "status missing atlas").await;
    assert!(
        missing.contains("legal") && !missing.contains("`api`"),
        "{missing}"
    );

    // Assert, from another process: everything the first wrote is there.
    let p = |args: &[&str]| {
        let out = db.bin(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let milestones = p(&["exec", "milestone list atlas"]);
    for want in ["auth-ready", "api-beta", "fe-launch", "+7d", "done"] {
        assert!(milestones.contains(want), "missing {want} in {milestones}");
    }
    let deps = p(&["exec", "dep", "list", "atlas"]);
    assert!(
        deps.contains("Auth endpoints") && deps.contains("blocked"),
        "{deps}"
    );
    assert!(deps.contains("Vendor security review (external)"), "{deps}");
    let risks = p(&["exec", "--json", "risk list atlas"]);
    let json: serde_json::Value = serde_json::from_str(&risks).expect("json reply");
    assert_eq!(json["risks"].as_array().map(Vec::len), Some(2), "{risks}");
    assert!(
        risks.find("Vendor SDK late") < risks.find("Load test capacity"),
        "worst first: {risks}"
    );
    let decisions = p(&["exec", "decision list atlas"]);
    assert!(decisions.contains("Ship without SSO"), "{decisions}");
    let status = p(&["exec", "status list atlas"]);
    assert!(
        status.contains("AMBER") && status.contains("GREEN"),
        "{status}"
    );
    let charter = p(&["exec", "charter show atlas"]);
    assert!(
        charter.contains("Launch Atlas GA") && charter.contains("On-prem"),
        "{charter}"
    );
    let show = p(&["exec", "program show atlas"]);
    assert!(show.contains("api, frontend, legal"), "{show}");
}

#[tokio::test]
async fn every_change_writes_an_event_in_the_same_transaction() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let mut conn = db.store.conn().await.unwrap();
    let before = drumbeat::store::event_count(&mut conn, &drumbeat::domain::Tenant::local())
        .await
        .unwrap();
    drop(conn);
    db.ok("tpm", r#"dep block atlas 1 --reason "security review""#)
        .await;
    db.ok("tpm", "dep unblock atlas 1").await;
    db.ok("tpm", "program list").await; // reads write nothing
    let mut conn = db.store.conn().await.unwrap();
    let after = drumbeat::store::event_count(&mut conn, &drumbeat::domain::Tenant::local())
        .await
        .unwrap();
    assert_eq!(after, before + 2);
    // The log is append-only.
    let err = drumbeat::store::db::query("UPDATE events SET kind = 'x'")
        .execute(&mut *conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[tokio::test]
async fn a_bound_channel_may_leave_the_program_out() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let refused = db.refused("tpm", "milestone list").await;
    assert!(refused.contains("program bind"), "{refused}");
    db.ok("tpm", "program bind atlas").await;
    let list = db.ok("tpm", "milestone list").await;
    assert!(list.contains("api-beta"), "{list}");
    db.ok("dana", r#"status post api --rag green --summary "fine""#)
        .await;
    let status = db.ok("tpm", "status list api").await;
    assert!(status.contains("fine"), "{status}");
}

#[tokio::test]
async fn relative_dates_are_read_in_the_programs_timezone() {
    let db = TestDb::new().await;
    db.ok("tpm", "program create tokyo --tz Asia/Tokyo").await;
    db.ok("tpm", "program create hawaii --tz Pacific/Honolulu")
        .await;
    // 09:00 UTC on Friday 27 Nov is 18:00 Friday in Tokyo and 23:00 Thursday in Honolulu.
    db.ok("tpm", "milestone add tokyo m --target tomorrow")
        .await;
    db.ok("tpm", "milestone add hawaii m --target tomorrow")
        .await;
    assert!(db
        .ok("tpm", "milestone show tokyo m")
        .await
        .contains("2026-11-28"));
    assert!(db
        .ok("tpm", "milestone show hawaii m")
        .await
        .contains("2026-11-27"));
}

#[tokio::test]
async fn permissions_follow_roles_and_project_ownership() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    // A viewer cannot add risks; the refusal names the role needed.
    let msg = db
        .refused("zoe", r#"risk add atlas "x" --likelihood 1 --impact 1"#)
        .await;
    assert!(msg.contains("editor"), "{msg}");
    // Creating programs needs tenant admin.
    assert!(db
        .refused("dana", "program create other")
        .await
        .contains("tenant admin"));
    // A project owner may move their own milestone but not another team's.
    db.ok(
        "dana",
        r#"milestone move atlas auth-ready --target +2w --reason "scope""#,
    )
    .await;
    let msg = db
        .refused(
            "dana",
            r#"milestone move atlas fe-launch --target +9w --reason "x""#,
        )
        .await;
    assert!(msg.contains("owner"), "{msg}");
    // Granting editor lets zoe in.
    db.ok("tpm", "program grant atlas @zoe --role editor").await;
    db.ok("zoe", r#"risk add atlas "x" --likelihood 1 --impact 1"#)
        .await;
    // Archived programs are read-only.
    db.ok("tpm", "program archive atlas").await;
    assert!(db
        .refused("tpm", "risk close atlas 1")
        .await
        .contains("archived"));
    db.ok("tpm", "risk list atlas").await;
}

#[tokio::test]
async fn the_demo_script_runs_without_a_refusal_and_twice_is_safe() {
    let db = TestDb::new().await;
    let reports = tempfile::tempdir().unwrap();
    let out = db.bin(&["demo", "--reports", reports.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let transcript = stdout(&out);
    assert!(!transcript.contains("error:"), "{transcript}");
    assert!(
        transcript.contains("Load test failed at 70% of target"),
        "{transcript}"
    );
    // The post-mortem of api-beta follows its chain to the dependency that held it.
    let pm = std::fs::read_to_string(reports.path().join("postmortem-api-beta.md")).unwrap();
    assert!(
        pm.contains("**Dependency #1 Token format sign-off** from Security team for auth-ready (Public API): blocked 7 days"),
        "{pm}"
    );
    assert!(!pm.contains("Nothing upstream of it was blocked"), "{pm}");
    // The readiness page and the scorecard are written too.
    let ready = std::fs::read_to_string(reports.path().join("readiness-api-beta.md")).unwrap();
    assert!(ready.contains("Runbook reviewed by on-call"), "{ready}");
    assert!(ready.contains("1 of 2 done"), "{ready}");
    let card = std::fs::read_to_string(reports.path().join("scorecard.md")).unwrap();
    assert!(card.contains("| Public API |"), "{card}");
    let again = db.bin(&["demo"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).contains("already in this database"));
    assert!(!stdout(&again).contains("error:"), "{}", stdout(&again));
}

#[tokio::test]
async fn ending_work_keeps_history_and_refuses_what_no_longer_applies() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    // A project with open milestones or dependencies cannot be removed.
    let msg = db.refused("tpm", "project remove atlas api").await;
    assert!(
        msg.contains("auth-ready") && msg.contains("api-beta"),
        "{msg}"
    );
    db.ok(
        "tpm",
        r#"milestone cancel atlas fe-launch --reason "folded into GA""#,
    )
    .await;
    assert!(db
        .refused("tpm", "milestone done atlas fe-launch")
        .await
        .contains("already cancelled"));
    db.ok("tpm", "dep deliver atlas 1 --on 2026-11-26").await;
    assert!(db
        .refused("tpm", "dep block atlas 1 --reason x")
        .await
        .contains("already delivered"));
    db.ok("tpm", "milestone done atlas auth-ready").await;
    db.ok("tpm", "milestone done atlas api-beta").await;
    db.ok("tpm", "project remove atlas api").await;
    let list = db.ok("tpm", "project list atlas").await;
    assert!(!list.contains("Public API"), "{list}");
    assert!(db
        .ok("tpm", "project list atlas --all")
        .await
        .contains("(removed)"));
    assert!(db
        .refused("dana", r#"status post atlas api --rag green --summary x"#)
        .await
        .contains("removed"));
    // The milestone history is still there.
    assert!(db
        .ok("tpm", "milestone show atlas auth-ready")
        .await
        .contains("done on 2026-11-27"));
    let deps = db.ok("tpm", "dep list atlas").await;
    assert!(deps.contains("delivered 2026-11-26"), "{deps}");
}

#[tokio::test]
async fn calendars_and_time_away() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok(
        "tpm",
        "program set atlas --holiday 2026-12-24 --holiday 2026-12-25",
    )
    .await;
    assert!(db
        .ok("tpm", "program show atlas")
        .await
        .contains("2026-12-24, 2026-12-25"));
    db.ok("tpm", "program set atlas --no-holiday 2026-12-24")
        .await;
    let shown = db.ok("tpm", "program show atlas").await;
    assert!(
        shown.contains("2026-12-25") && !shown.contains("2026-12-24"),
        "{shown}"
    );
    assert!(db
        .refused("tpm", "program set atlas --no-holiday 2026-12-31")
        .await
        .contains("not a holiday"));
    // People set their own time away; others may not, unless they own a program.
    db.ok("dana", "person set @me --away +1w --delegate @li")
        .await;
    assert!(db.ok("dana", "person show").await.contains("2026-12-04"));
    assert!(db
        .refused("li", "person set @dana --back")
        .await
        .contains("only your own"));
    db.ok("tpm", "person set @dana --back").await;
    assert!(db
        .ok("tpm", "person show @dana")
        .await
        .contains("(not away)"));
    assert!(db
        .refused("dana", "person set @me --away 2026-11-01")
        .await
        .contains("in the past"));
}

#[tokio::test]
async fn people_are_found_by_handle_or_unique_display_name() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok("tpm", r#"person set @dana --name "Dana""#).await;
    // A display name matches ignoring case, and finds the existing person.
    let before = db
        .dump()
        .await
        .iter()
        .filter(|r| r.starts_with("people:"))
        .count();
    db.ok(
        "tpm",
        "risk add atlas r --likelihood 1 --impact 1 --owner @DANA",
    )
    .await;
    let after = db
        .dump()
        .await
        .iter()
        .filter(|r| r.starts_with("people:"))
        .count();
    assert_eq!(
        before, after,
        "@DANA added a new person instead of finding dana"
    );
    let risk = db.run("tpm", "risk show atlas 2").await.unwrap();
    assert_eq!(risk.mentions()[0].handle, "dana");
    // A handle wins over someone else's display name.
    db.ok("tpm", r#"person set @sam --name "li""#).await;
    let shown = db.run("tpm", "person show @li").await.unwrap();
    assert_eq!(shown.mentions()[0].handle, "li");
    // Two people with one display name: refused, never a guess.
    db.ok("tpm", r#"person set @dana --name "twin""#).await;
    db.ok("tpm", r#"person set @sam --name "twin""#).await;
    assert!(db
        .refused("tpm", "person show @twin")
        .await
        .contains("2 people are called @twin"));
    assert!(db
        .refused("tpm", "project set atlas api --owner @twin")
        .await
        .contains("2 people"));
}

/// A move down a long chain tells each owner once, listing their milestones (the first
/// ten, then a count), and the reply counts the people told, not the milestones.
#[tokio::test]
async fn a_move_down_a_long_chain_sends_one_message_per_owner() {
    let db = TestDb::new().await;
    db.ok("tpm", r#"program create chain --name "Chain" --tz UTC"#)
        .await;
    for i in 0..100 {
        let owner = format!("o{}", i % 5 + 1);
        let after = if i == 0 {
            String::new()
        } else {
            format!("--after m{:03} --duration 1", i - 1)
        };
        db.ok(
            "tpm",
            &format!(
                r#"milestone add chain m{i:03} --title "Step {i}" --target 2026-12-01 --owner @{owner} {after}"#
            ),
        )
        .await;
    }
    let moved = db
        .ok(
            "tpm",
            r#"milestone move chain m000 --target 2026-12-08 --reason "vendor late""#,
        )
        .await;
    assert!(moved.contains("Downstream forecasts moved (99)"), "{moved}");
    assert!(moved.contains("5 owners will be told."), "{moved}");

    let rows: Vec<(drumbeat::store::Json, drumbeat::store::Json)> = drumbeat::store::db::query_as(
        "SELECT destination, reply FROM outbox WHERE dedup_key LIKE 'shift:%' ORDER BY id",
    )
    .fetch_all(&mut db.store.conn().await.unwrap())
    .await
    .unwrap();
    assert_eq!(rows.len(), 5, "one message per owner");
    let mut seen = std::collections::BTreeSet::new();
    for (destination, reply) in &rows {
        let destination: serde_json::Value = serde_json::from_str(destination.as_str()).unwrap();
        let who = destination["channel"]
            .as_str()
            .unwrap()
            .trim_start_matches('@');
        assert!(seen.insert(who.to_owned()), "{who} was told twice");
        let n: usize = who[1..].parse().unwrap();
        // Owner oN owns m(i) for i % 5 == N - 1; m000 moved itself.
        let theirs: Vec<String> = (1..100)
            .filter(|i| i % 5 + 1 == n)
            .map(|i| format!("m{i:03}"))
            .collect();
        let reply: drumbeat::reply::Reply = serde_json::from_str(reply.as_str()).unwrap();
        let text = drumbeat::reply::text::render(&reply);
        assert!(
            text.contains(&format!(
                "m000 moved: so do {} of your milestones",
                theirs.len()
            )),
            "{text}"
        );
        for m in &theirs[..10] {
            assert!(text.contains(m.as_str()), "{who} should read {m}: {text}");
        }
        for m in &theirs[10..] {
            assert!(
                !text.contains(m.as_str()),
                "{who} should not read {m}: {text}"
            );
        }
        assert!(
            text.contains(&format!("… and {} more", theirs.len() - 10)),
            "{text}"
        );
    }
    assert_eq!(seen.len(), 5);
}

/// Shift pings are grouped per person and destination: one owner whose milestones sit in a
/// routed project and an unrouted one gets one message at each, and counts once.
#[tokio::test]
async fn shift_pings_follow_project_routes_and_count_people() {
    let db = TestDb::new().await;
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        r#"project add atlas api --name "API" --owner @dana"#,
        r#"project add atlas web --name "Web" --owner @li"#,
        "program route atlas --project api --channel api-team",
        r#"milestone add atlas root --title "Root" --target 2026-12-01"#,
        r#"milestone add atlas a1 --title "A1" --target 2026-12-02 --project api --owner @sam --after root"#,
        r#"milestone add atlas a2 --title "A2" --target 2026-12-02 --project api --owner @sam --after root"#,
        r#"milestone add atlas w1 --title "W1" --target 2026-12-02 --project web --owner @sam --after root"#,
    ] {
        db.ok("tpm", line).await;
    }
    let moved = db
        .ok(
            "tpm",
            r#"milestone move atlas root --target 2026-12-10 --reason "late""#,
        )
        .await;
    assert!(moved.contains("1 owner will be told."), "{moved}");
    let rows: Vec<(drumbeat::store::Json, drumbeat::store::Json)> = drumbeat::store::db::query_as(
        "SELECT destination, reply FROM outbox WHERE dedup_key LIKE 'shift:%' ORDER BY id",
    )
    .fetch_all(&mut db.store.conn().await.unwrap())
    .await
    .unwrap();
    let read: Vec<(String, String)> = rows
        .iter()
        .map(|(d, r)| {
            let d: serde_json::Value = serde_json::from_str(d.as_str()).unwrap();
            let r: drumbeat::reply::Reply = serde_json::from_str(r.as_str()).unwrap();
            (
                d["channel"].as_str().unwrap().to_owned(),
                drumbeat::reply::text::render(&r),
            )
        })
        .collect();
    assert_eq!(read.len(), 2, "{read:#?}");
    assert_eq!(read[0].0, "api-team");
    assert!(
        read[0].1.contains("root moved: so do 2 of your milestones"),
        "{}",
        read[0].1
    );
    assert!(
        read[0].1.contains("a1") && read[0].1.contains("a2"),
        "{}",
        read[0].1
    );
    assert!(!read[0].1.contains("more"), "{}", read[0].1);
    assert_eq!(read[1].0, "@sam");
    assert!(
        read[1].1.contains("root moved: so does w1"),
        "{}",
        read[1].1
    );
}
