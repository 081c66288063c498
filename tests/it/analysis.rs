//! Analysis through the commands: health reasons rule by rule, the critical path, what-if,
//! `milestone move` naming downstream owners, reports, and digest snapshots.

use chrono::Duration;
use drumbeat::command::CommandError;
use drumbeat::demo;
use drumbeat::reply::{text, Reply};
use serde_json::Value;

use crate::helpers::{stdout, TestDb};

pub(crate) async fn json(db: &TestDb, line: &str) -> Value {
    let reply: Reply = match db.run("tpm", line).await {
        Ok(r) => r,
        Err(e) => panic!("`{line}` failed: {e:?}"),
    };
    reply.data.unwrap_or_else(|| panic!("`{line}` has no data"))
}

/// The health of one project in the engineering digest: (rag, [(rule, rag, text)]).
pub(crate) async fn health(db: &TestDb, project: &str) -> (String, Vec<(String, String, String)>) {
    let d = json(db, "digest show atlas").await;
    let p = d["health"]["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == project)
        .unwrap_or_else(|| panic!("no project {project} in {d:#}"))
        .clone();
    let reasons = p["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap().to_owned(),
                r["rag"].as_str().unwrap().to_owned(),
                r["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (p["rag"].as_str().unwrap().to_owned(), reasons)
}

pub(crate) fn has(
    reasons: &[(String, String, String)],
    rule: &str,
    rag: &str,
    words: &str,
) -> bool {
    reasons
        .iter()
        .any(|(r, g, t)| r == rule && g == rag && t.contains(words))
}

/// A program with one project `api` owned by dana, and nothing else.
pub(crate) async fn small(db: &TestDb) {
    for line in [
        r#"program create atlas --name "Atlas" --tz Europe/Berlin"#,
        r#"project add atlas api --name "Public API" --owner @dana"#,
        r#"project add atlas identity --name "Identity" --owner @ira"#,
    ] {
        db.ok("tpm", line).await;
    }
}

#[tokio::test]
async fn health_starts_from_the_latest_update_and_is_amber_without_one() {
    let db = TestDb::new().await;
    small(&db).await;
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "amber");
    assert!(has(&reasons, "no_update", "amber", "no status update yet"));

    db.ok(
        "dana",
        r#"status post atlas api --rag green --summary "All good""#,
    )
    .await;
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "green");
    assert!(has(
        &reasons,
        "reported",
        "green",
        "reported green by @dana on 2026-11-27: All good"
    ));

    db.ok(
        "dana",
        r#"status post atlas api --rag red --summary "On fire" --blockers "Outage""#,
    )
    .await;
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "red", "the latest update wins: {reasons:?}");
}

#[tokio::test]
async fn an_update_older_than_the_window_is_stale() {
    let db = TestDb::new().await;
    small(&db).await;
    db.ok(
        "dana",
        r#"status post atlas api --rag green --summary "Fine""#,
    )
    .await;
    db.clock.advance(Duration::days(8));
    let (rag, _) = health(&db, "api").await;
    assert_eq!(rag, "green", "8 days is inside the default window of 8");
    db.clock.advance(Duration::days(1));
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "amber");
    assert!(
        has(
            &reasons,
            "stale",
            "amber",
            "9 days old (the window is 8 days)"
        ),
        "{reasons:?}"
    );
    let d = json(&db, "digest show atlas").await;
    let api = &d["health"]["projects"][0];
    assert_eq!(api["stale"], true);
    assert_eq!(api["reported"], "green");
}

#[tokio::test]
async fn an_overdue_milestone_makes_it_red() {
    let db = TestDb::new().await;
    small(&db).await;
    db.ok(
        "dana",
        r#"status post atlas api --rag green --summary "Fine""#,
    )
    .await;
    db.ok(
        "tpm",
        r#"milestone add atlas beta --title "Beta" --target 2026-11-30 --project api"#,
    )
    .await;
    assert_eq!(health(&db, "api").await.0, "green");
    db.clock.advance(Duration::days(5)); // 2 December
    db.ok(
        "dana",
        r#"status post atlas api --rag green --summary "Still fine""#,
    )
    .await;
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(
        rag, "red",
        "computed signals worsen a green report: {reasons:?}"
    );
    assert!(has(
        &reasons,
        "milestone_overdue",
        "red",
        "`beta` is 2 days past its target 2026-11-30 and not done"
    ));
    db.ok("dana", "milestone done atlas beta").await;
    assert_eq!(health(&db, "api").await.0, "green");
}

#[tokio::test]
async fn a_blocked_or_late_dependency_makes_its_consumer_red() {
    let db = TestDb::new().await;
    small(&db).await;
    db.ok(
        "dana",
        r#"status post atlas api --rag green --summary "Fine""#,
    )
    .await;
    db.ok(
        "ira",
        r#"status post atlas identity --rag green --summary "Fine""#,
    )
    .await;
    db.ok("tpm", r#"dep add atlas --needs api --from identity --what "Auth API" --by 2026-11-20 --owner @ira"#).await;
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "red");
    assert!(
        has(
            &reasons,
            "dependency_late",
            "red",
            "needs `Auth API` from Identity, due 2026-11-20, 7 days late"
        ),
        "{reasons:?}"
    );
    // The provider is not the one waiting: its health is unchanged.
    assert_eq!(health(&db, "identity").await.0, "green");

    db.ok("tpm", r#"dep set atlas 1 --by 2026-12-20"#).await;
    assert_eq!(health(&db, "api").await.0, "green");
    db.ok("tpm", r#"dep block atlas 1 --reason "security review""#)
        .await;
    db.clock.advance(Duration::days(6));
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "red");
    assert!(
        has(
            &reasons,
            "dependency_blocked",
            "red",
            "needs `Auth API` from Identity, due 2026-12-20, blocked for 6 days (security review)"
        ),
        "{reasons:?}"
    );
    db.ok("tpm", "dep unblock atlas 1").await;
    db.ok("tpm", "dep set atlas 1 --state at-risk").await;
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "amber");
    assert!(has(&reasons, "dependency_at_risk", "amber", "at risk"));
}

#[tokio::test]
async fn a_late_forecast_is_red_on_the_critical_path_and_amber_off_it() {
    let db = TestDb::new().await;
    small(&db).await;
    db.ok(
        "dana",
        r#"status post atlas api --rag green --summary "Fine""#,
    )
    .await;
    db.ok(
        "ira",
        r#"status post atlas identity --rag green --summary "Fine""#,
    )
    .await;
    for line in [
        r#"milestone add atlas auth --title "Auth" --target 2026-12-10 --project identity"#,
        // 10 working days after auth (Thursday 12-10): forecast 12-24 against a target of
        // 12-15, on the chain to launch.
        r#"milestone add atlas beta --title "Beta" --target 2026-12-15 --project api --after auth --duration 10"#,
        // Off the chain: 3 working days after auth is 12-15 against 12-12.
        r#"milestone add atlas docs --title "Docs" --target 2026-12-12 --project identity --after auth --duration 3"#,
        r#"milestone add atlas launch --title "Launch" --target 2027-02-01 --project api --after beta,docs"#,
    ] {
        db.ok("tpm", line).await;
    }
    let path = json(&db, "path show atlas").await;
    let names: Vec<&str> = path["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["auth", "beta", "launch"],
        "launch's own target holds it, and the chain behind it still shows"
    );
    db.ok(
        "tpm",
        r#"milestone move atlas launch --target 2026-12-20 --reason "pull in""#,
    )
    .await;
    let path = json(&db, "path show atlas").await;
    let names: Vec<&str> = path["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["auth", "beta", "launch"]);
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "red");
    assert!(has(&reasons, "critical_path_late", "red", "`beta` is forecast 2026-12-24, 9 days after its target 2026-12-15, on the critical path"), "{reasons:?}");
    let (rag, reasons) = health(&db, "identity").await;
    assert_eq!(rag, "amber");
    assert!(
        has(
            &reasons,
            "forecast_late",
            "amber",
            "`docs` is forecast 2026-12-15, 3 days after its target 2026-12-12"
        ),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn an_open_critical_risk_makes_it_red_and_the_program_is_the_worst() {
    let db = TestDb::new().await;
    small(&db).await;
    db.ok(
        "dana",
        r#"status post atlas api --rag green --summary "Fine""#,
    )
    .await;
    db.ok(
        "ira",
        r#"status post atlas identity --rag amber --summary "Slow" --next "hire""#,
    )
    .await;
    db.ok(
        "tpm",
        r#"risk add atlas "Vendor late" --likelihood 3 --impact 4 --project api"#,
    )
    .await;
    assert_eq!(health(&db, "api").await.0, "green", "high is not critical");
    db.ok("tpm", r#"risk set atlas 1 --likelihood 4 --impact 4"#)
        .await;
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "red");
    assert!(has(
        &reasons,
        "critical_risk",
        "red",
        "critical risk #1 `Vendor late` (score 16) is open"
    ));
    let d = json(&db, "digest show atlas --audience executive").await;
    assert_eq!(d["health"]["rag"], "red");
    let why: Vec<&str> = d["health"]["why"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(
        why,
        ["Public API: critical risk #1 `Vendor late` (score 16) is open"]
    );
    db.ok("tpm", r#"risk close atlas 1 --reason "vendor delivered""#)
        .await;
    let d = json(&db, "digest show atlas --audience executive").await;
    assert_eq!(
        d["health"]["rag"], "amber",
        "now the worst is identity's amber"
    );
    assert_eq!(
        d["health"]["why"][0],
        "Identity: reported amber by @ira on 2026-11-27: Slow"
    );
}

#[tokio::test]
async fn what_if_lists_every_moved_milestone_with_its_owner_and_changes_nothing() {
    let db = TestDb::new().await;
    crate::helpers::seed_atlas(&db).await;
    let before = db.dump().await;
    let reply = db
        .run("tpm", "path whatif atlas auth-ready --slip 5")
        .await
        .unwrap();
    assert_eq!(db.dump().await, before, "a what-if writes nothing");
    let lines = reply.data.clone().unwrap();
    let moved: Vec<(&str, i64, &str)> = lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["milestone"].as_str().unwrap(),
                l["days"].as_i64().unwrap(),
                l["owner"]["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // auth-ready (Saturday 12-05) slips 5 working days to Friday 12-11 (+6 days); api-beta,
    // 10 working days after it, 12-18 → 12-25 (+7); fe-launch has float.
    assert_eq!(moved, [("auth-ready", 6, "dana"), ("api-beta", 7, "dana")]);
    assert!(reply.mentions().is_empty(), "a what-if pings nobody");
    let shown = text::render(&reply);
    assert!(
        shown.contains("1 other milestone moves; it would be past its target"),
        "{shown}"
    );

    let err = db.refused("tpm", "path whatif atlas nope --slip 5").await;
    assert_eq!(
        err,
        "there is no milestone `nope` in `atlas`: `milestone list atlas` shows them"
    );
    let err = db
        .refused("tpm", "path whatif atlas auth-ready --slip 0")
        .await;
    assert_eq!(err, "--slip must be at least 1 day");
}

#[tokio::test]
async fn a_real_move_names_every_downstream_owner() {
    let db = TestDb::new().await;
    crate::helpers::seed_atlas(&db).await;
    db.ok(
        "tpm",
        r#"milestone move atlas fe-launch --target 2026-12-18 --reason "pull in""#,
    )
    .await;
    // The signed DPA is in: fe-launch waits only on api-beta.
    db.ok("tpm", "dep deliver atlas 2").await;
    let reply = db
        .run(
            "dana",
            r#"milestone move atlas auth-ready --target 2026-12-12 --reason "token format review""#,
        )
        .await
        .unwrap();
    let shown = text::render(&reply);
    assert!(shown.contains("Downstream forecasts moved (2)"), "{shown}");
    // api-beta runs 10 working days after auth-ready: 12-12 (a Saturday) + 10 = 12-25.
    assert!(shown.contains("`api-beta` forecast 2026-12-18 → 2026-12-25 (+7 days), 10 days past its target 2026-12-15; owner @dana"), "{shown}");
    assert!(shown.contains("`fe-launch` forecast 2026-12-18 → 2026-12-25 (+7 days), 7 days past its target 2026-12-18; owner @li"), "{shown}");
    let pinged: Vec<&str> = reply.mentions().iter().map(|m| m.handle.as_str()).collect();
    assert_eq!(pinged, ["dana", "li"]);
}

#[tokio::test]
async fn postmortem_shows_both_slips_and_the_blocker_with_its_duration() {
    let db = TestDb::new().await;
    crate::helpers::seed_atlas(&db).await;
    db.ok("tpm", r#"dep add atlas --needs api-beta --from legal --what "Token format sign-off" --by 2026-12-01 --owner @sam"#).await;
    db.ok(
        "tpm",
        r#"dep block atlas 3 --reason "legal waiting on the DPA""#,
    )
    .await;
    db.clock.advance(Duration::days(4));
    db.ok(
        "dana",
        r#"milestone move atlas api-beta --target 2026-12-22 --reason "load test failed""#,
    )
    .await;
    db.clock.advance(Duration::days(5));
    db.ok("tpm", "dep deliver atlas 3").await;
    db.clock.advance(Duration::days(3));
    db.ok(
        "dana",
        r#"milestone move atlas api-beta --target 2027-01-05 --reason "waited on legal sign-off""#,
    )
    .await;
    db.ok("tpm", r#"risk realize atlas 1 --note "SDK shipped late""#)
        .await;

    let reply = db
        .run("tpm", "report postmortem atlas --milestone api-beta")
        .await
        .unwrap();
    let shown = text::render(&reply);
    assert!(
        shown.contains(
            "2026-12-01: `api-beta` moved 2026-12-15 → 2026-12-22 (+7 days): load test failed"
        ),
        "{shown}"
    );
    assert!(shown.contains("2026-12-09: `api-beta` moved 2026-12-22 → 2027-01-05 (+14 days): waited on legal sign-off"), "{shown}");
    assert!(shown.contains("Dependency #3 Token format sign-off from Legal for api-beta (Public API): blocked 9 days, from 2026-11-27 until 2026-12-06 (delivered) (legal waiting on the DPA); owner @sam"), "{shown}");
    assert!(
        shown.contains("Totals: 21 days of slip, 9 days blocked"),
        "{shown}"
    );
    // Late by 5 days: needed 2026-12-01, delivered 2026-12-06.
    assert!(
        shown.contains("delivered 2026-12-06, 5 days after it was needed (2026-12-01)"),
        "{shown}"
    );
    // The risk that happened carries its note; baseline against actual per milestone.
    assert!(shown.contains("what happened: SDK shipped late"), "{shown}");
    assert!(shown.contains("Baseline against actual"), "{shown}");
    // Only decisions linked to the chain: "Ship without SSO" names none of it.
    assert!(!shown.contains("Ship without SSO"), "{shown}");
    assert!(shown.contains("None linked to it."), "{shown}");
    assert!(shown.contains("What went well"), "{shown}");
    assert!(shown.contains("Action items"), "{shown}");
    // The Markdown document says the same.
    let out = db.path.with_file_name("pm.md");
    let o = db.bin(&[
        "exec",
        "--now",
        "2026-12-10T09:00:00Z",
        "report",
        "postmortem",
        "atlas",
        "--milestone",
        "api-beta",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", crate::helpers::stderr(&o));
    assert!(stdout(&o).starts_with("Wrote "), "{}", stdout(&o));
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(
        md.starts_with("# Atlas cloud launch: post-mortem of"),
        "{md}"
    );
    assert!(
        md.contains("load test failed") && md.contains("blocked 9 days"),
        "{md}"
    );
    assert!(
        md.contains("| Team | Slip days | Blocker-days caused |"),
        "{md}"
    );
}

#[tokio::test]
async fn agenda_lists_what_the_sync_must_cover_with_owners() {
    let db = TestDb::new().await;
    crate::helpers::seed_atlas(&db).await;
    db.ok(
        "tpm",
        r#"decision add atlas "EU-only launch?" --options "EU only; EU and US" --decider @li --decide-by 2026-12-04"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"dep add atlas --needs legal --from api --what "Data map" --by 2026-12-10 --accepted"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"action add atlas "Draft the EU plan" --owner @sam --due 2026-11-30 --for decision:2"#,
    )
    .await;
    db.ok("tpm", r#"risk set atlas 1 --review-by 2026-11-30"#)
        .await;
    db.ok("tpm", r#"dep block atlas 1 --reason "security review""#)
        .await;
    db.ok(
        "dana",
        r#"status post atlas api --rag red --summary "Auth blocked" --blockers "security review""#,
    )
    .await;
    db.ok(
        "tpm",
        r#"dep add atlas --needs frontend --from api --what "Rate limits" --by 2026-12-20"#,
    )
    .await;
    db.clock.advance(Duration::days(3)); // 30 November
    db.ok(
        "tpm",
        r#"milestone move atlas fe-launch --target 2027-01-27 --reason "holiday freeze""#,
    )
    .await;
    db.clock.advance(Duration::days(2)); // 2 December
    let shown = text::render(&db.run("tpm", "report agenda atlas").await.unwrap());
    for want in [
        "1. Decisions needed (1)",
        "#2 EU-only launch? needs a decision from @li by 2026-12-04",
        "2. Blockers and conflicts (blocked, past need-by, or arriving late)",
        "#1 Auth endpoints from Public API for Web frontend: due 2026-12-01, 1 day late, blocked for 5 days; owner @dana",
        "3. Dependencies due in the next two weeks (1)",
        "#3 Data map from Public API for Legal: due 2026-12-10 (in 8 days), open; owner @dana",
        // The API team was asked on 27 November and has not answered.
        "4. Requests not yet accepted (1)",
        "#4 Rate limits from Public API for Web frontend, needed by 2026-12-20: asked 3 working days ago, not answered; provider @dana",
        "5. Milestones at risk in the next two weeks",
        // api-beta, 10 working days after it, is due 12-15: auth-ready has 4 working days
        // too few of float.
        "`auth-ready` Auth ready: target 2026-12-05, forecast 2026-12-05, which leaves what follows it 4 working days late; owner @dana",
        "6. Slips and completions since the last sync (1)",
        "fe-launch moved 2027-01-20 → 2027-01-27 (+7 days): holiday freeze",
        "7. Action items, overdue first (1)",
        "#1 Draft the EU plan: overdue since 2026-11-30; owner @sam (for decision #2)",
        "8. Risks due for review (1)",
        "#1 Vendor SDK late (critical, score 20): review overdue since 2026-11-30; owner @li",
        "9. Projects with missing or red updates",
        "Public API: reported red: Auth blocked; owner @dana",
        "Legal: no update yet; owner @sam",
        "People to invite",
        "@li, @dana, @sam",
    ] {
        assert!(shown.contains(want), "missing `{want}` in:\n{shown}");
    }
    let executive = db.ok("tpm", "digest show atlas --audience executive").await;
    assert!(
        executive.contains("needs a decision from @li by 2026-12-04"),
        "{executive}"
    );
    // Deciding takes it off the agenda; a decision is decided once.
    db.ok(
        "dana",
        "status post atlas api --rag amber --summary Better --next deploy",
    )
    .await;
    let refused = db
        .refused("dana", r#"decision decide atlas 2 --outcome "EU only""#)
        .await;
    assert!(
        refused.starts_with(
            "only an editor or the owner of `atlas` can record decisions (you are a viewer)"
        ),
        "{refused}"
    );
    db.ok(
        "tpm",
        r#"decision decide atlas 2 --outcome "EU only" --by @li"#,
    )
    .await;
    let shown = text::render(&db.run("tpm", "report agenda atlas").await.unwrap());
    assert!(shown.contains("1. Decisions needed (0)"), "{shown}");
    let d = json(&db, "digest show atlas").await;
    let changes = d["changes"].to_string();
    assert!(changes.contains("EU only"), "{changes}");
    let again = db
        .refused("tpm", r#"decision decide atlas 2 --outcome "EU and US""#)
        .await;
    assert_eq!(again, "decision #2 was decided on 2026-12-02: log a new decision to change it, so the history keeps both");
    let missing = db
        .refused("tpm", r#"decision decide atlas 9 --outcome "x""#)
        .await;
    assert_eq!(
        missing,
        "there is no decision #9 in `atlas`: `decision list atlas` shows them"
    );
}

#[tokio::test]
async fn charter_and_status_reports_render() {
    let db = TestDb::new().await;
    for (who, line) in demo::SETUP {
        db.ok(who, line).await;
    }
    let charter = text::render(&db.run("tpm", "report charter atlas").await.unwrap());
    assert!(
        charter.contains("Launch the Atlas managed service to GA"),
        "{charter}"
    );
    assert!(charter.contains("100 paying tenants in Q1"), "{charter}");
    let status = text::render(&db.run("tpm", "report status atlas").await.unwrap());
    assert!(
        status.contains("Public API (AMBER)") || status.contains("Public API (RED)"),
        "{status}"
    );
    assert!(status.contains("`api-beta` moved"), "{status}");
    let err = db
        .refused("tpm", "report postmortem atlas --milestone nope")
        .await;
    assert_eq!(
        err,
        "there is no milestone `nope` in `atlas`: `milestone list atlas` shows them"
    );
}

#[tokio::test]
async fn digest_formats_through_exec() {
    let db = TestDb::new().await;
    for (who, line) in demo::SETUP {
        db.ok(who, line).await;
    }
    let now = ["--now", "2026-11-30T09:00:00Z"];
    let run = |args: &[&str]| {
        let mut all = vec!["exec"];
        all.extend_from_slice(&now);
        all.extend_from_slice(args);
        let o = db.bin(&all);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            crate::helpers::stderr(&o)
        );
        stdout(&o)
    };
    let d: Value =
        serde_json::from_str(&run(&["digest", "show", "atlas", "--format", "json"])).unwrap();
    assert_eq!(d["audience"], "engineering");
    assert_eq!(d["program"]["key"], "atlas");
    let same: Value = serde_json::from_str(&{
        let o = db.bin(&[
            "exec",
            "--json",
            "--now",
            "2026-11-30T09:00:00Z",
            "digest",
            "show",
            "atlas",
        ]);
        assert!(o.status.success(), "{}", crate::helpers::stderr(&o));
        stdout(&o)
    })
    .unwrap();
    assert_eq!(d, same, "--json prints the digest value");
    let discord: Value = serde_json::from_str(&run(&[
        "digest",
        "show",
        "atlas",
        "--audience",
        "executive",
        "--format",
        "discord",
    ]))
    .unwrap();
    assert_eq!(
        discord.as_array().unwrap().len(),
        1,
        "the executive digest is one message"
    );
    assert_eq!(
        discord[0]["allowed_mentions"]["parse"],
        serde_json::json!([])
    );
    let slack: Value =
        serde_json::from_str(&run(&["digest", "show", "atlas", "--format", "slack"])).unwrap();
    assert!(slack[0]["blocks"].as_array().unwrap().len() <= 50);
    let md = run(&[
        "digest",
        "show",
        "atlas",
        "--audience",
        "product",
        "--format",
        "markdown",
    ]);
    assert!(
        md.starts_with("# Atlas cloud launch: product digest"),
        "{md}"
    );
    let o = db.bin(&["exec", "digest", "show", "atlas", "--format", "pdf"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        crate::helpers::stderr(&o)
            .contains("`pdf` is not a format: use one of text, markdown, discord, slack, json"),
        "{}",
        crate::helpers::stderr(&o)
    );
}

#[tokio::test]
async fn out_is_refused_off_the_console() {
    let db = TestDb::new().await;
    crate::helpers::seed_atlas(&db).await;
    let e = db
        .run_on(
            drumbeat::domain::Platform::Discord,
            "tpm",
            "report charter atlas --out /tmp/x.md",
        )
        .await;
    match e {
        Err(CommandError::User(msg)) => assert!(
            msg.starts_with("--out writes a file where Drumbeat runs"),
            "{msg}"
        ),
        other => panic!("{other:?}"),
    }
}

/// Each audience in each format, on the sample program three days after it was built.
#[tokio::test]
async fn digest_snapshots() {
    let db = TestDb::new().await;
    for (who, line) in demo::SETUP {
        db.ok(who, line).await;
    }
    db.clock.advance(Duration::days(3));
    db.ok("omar", r#"status post atlas billing --rag amber --summary "Contract still unsigned" --blockers "Legal review""#).await;
    for audience in ["engineering", "executive", "product"] {
        for format in ["text", "markdown", "discord", "slack", "json"] {
            let reply = db
                .run(
                    "tpm",
                    &format!("digest show atlas --audience {audience} --format {format}"),
                )
                .await
                .unwrap();
            let shown = match reply.attachment().and_then(|a| a.body.as_text()) {
                Some(body) => body.to_owned(),
                None => text::render(&reply),
            };
            insta::assert_snapshot!(format!("digest_{audience}_{format}"), shown);
        }
    }
    // The documents of the sample program, as Markdown.
    for (name, line) in [
        ("agenda", "report agenda atlas"),
        (
            "postmortem_api_beta",
            "report postmortem atlas --milestone api-beta",
        ),
        ("readiness_api_beta", "report readiness atlas api-beta"),
    ] {
        let reply = db.run("tpm", line).await.unwrap();
        insta::assert_snapshot!(
            format!("report_{name}"),
            drumbeat::reply::markdown::render(&reply)
        );
    }
}
