//! Launch readiness, the executive digest for a VP, digest notes, the post-mortem's action
//! items, the delivery scorecard and the inbox, through the command language.

use chrono::Duration;

use crate::helpers::{seed_atlas, stdout, TestDb};

async fn data(db: &TestDb, line: &str) -> serde_json::Value {
    db.run("tpm", line).await.unwrap().data.unwrap()
}

/// A checklist gates a milestone (or the launch); `report readiness` says go or no-go and
/// why; only the owner or an editor checks an item; the product digest shows the checklist
/// of the next milestone that has one; the document carries it.
#[tokio::test]
async fn a_readiness_checklist_decides_go_or_no_go() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let added = db
        .ok(
            "tpm",
            r#"readiness add atlas "Runbook reviewed" --owner @dana --milestone api-beta --due 2026-12-10"#,
        )
        .await;
    assert!(
        added.contains("Readiness item #1 added to atlas"),
        "{added}"
    );
    db.ok(
        "tpm",
        r#"readiness add atlas "Support macros ready" --owner @li"#,
    )
    .await;
    // Bad input changes nothing.
    let before = db.dump().await;
    for (who, line, says) in [
        (
            "tpm",
            r#"readiness add atlas "x" --owner @dana --milestone nope"#,
            "there is no milestone `nope`",
        ),
        (
            "tpm",
            r#"readiness add atlas "x" --owner @dana --due 2020-01-01"#,
            "--due 2020-01-01 is in the past",
        ),
        (
            "tpm",
            "readiness check atlas 9",
            "there is no readiness item #9",
        ),
        ("li", "readiness check atlas 1", "only its owner"),
        ("tpm", "readiness uncheck atlas 1", "already unchecked"),
        (
            "tpm",
            "report readiness atlas nope",
            "there is no milestone `nope`",
        ),
    ] {
        let msg = db.refused(who, line).await;
        assert!(msg.contains(says), "{line}: {msg}");
    }
    assert_eq!(db.dump().await, before);

    let one = data(&db, "readiness show atlas api-beta").await;
    assert_eq!(one["milestone"], "api-beta");
    assert_eq!(one["readiness"].as_array().unwrap().len(), 1, "{one}");
    let all = data(&db, "readiness show atlas").await;
    assert_eq!(all["readiness"].as_array().unwrap().len(), 2, "{all}");
    assert_eq!(all["readiness"][1]["milestone"], serde_json::Value::Null);

    let page = db.ok("tpm", "report readiness atlas api-beta").await;
    for want in [
        "launch readiness of api-beta",
        "NO-GO",
        "1 checklist item open",
        "1 milestone before it not done",
        "1 high or critical risk open",
        "Runbook reviewed",
        "`auth-ready` Auth ready",
    ] {
        assert!(page.contains(want), "missing `{want}` in:\n{page}");
    }
    // The launch's checklist holds the item that names no milestone.
    let launch = db.ok("tpm", "report readiness atlas fe-launch").await;
    assert!(launch.contains("Support macros ready"), "{launch}");
    assert!(!launch.contains("Runbook reviewed"), "{launch}");

    let checked = db.ok("dana", "readiness check atlas 1").await;
    assert!(
        checked.contains("Readiness item #1 is checked"),
        "{checked}"
    );
    let again = db.refused("dana", "readiness check atlas 1").await;
    assert!(again.contains("already checked"), "{again}");
    db.ok("dana", "milestone done atlas auth-ready").await;
    db.ok(
        "tpm",
        r#"risk set atlas 1 --state accepted --reason "fallback is good enough""#,
    )
    .await;
    let go = db.ok("tpm", "report readiness atlas api-beta").await;
    assert!(go.contains("GO: the checklist is done"), "{go}");

    let product = db.ok("tpm", "digest show atlas --audience product").await;
    assert!(
        product.contains("Checklist for `api-beta` (API beta): 1 of 1 done."),
        "{product}"
    );
    let engineering = db.ok("tpm", "digest show atlas").await;
    assert!(
        engineering.contains("readiness #1 checked: Runbook reviewed"),
        "{engineering}"
    );

    // Unchecking takes it back; the document carries the checklist through an import.
    db.ok("tpm", "readiness uncheck atlas 1").await;
    let (doc, doc2) = crate::helpers::export_and_reimport(&db, "atlas").await;
    let checks = doc["readiness"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{checks:#?}");
    assert_eq!(checks[0]["milestone"], "api-beta");
    assert_eq!(doc2["readiness"], doc["readiness"]);
}

/// Every command word of the language, as "area verb" pairs: what an executive digest must
/// never contain.
fn command_words() -> Vec<String> {
    let mut out = Vec::new();
    for area in [
        "program",
        "charter",
        "project",
        "person",
        "milestone",
        "dep",
        "risk",
        "decision",
        "assumption",
        "issue",
        "action",
        "change",
        "readiness",
        "status",
        "digest",
        "path",
        "report",
        "chart",
        "schedule",
        "outbox",
    ] {
        for verb in [
            "add",
            "list",
            "show",
            "set",
            "move",
            "done",
            "cancel",
            "block",
            "unblock",
            "deliver",
            "accept",
            "propose",
            "decline",
            "snooze",
            "close",
            "realize",
            "decide",
            "validate",
            "invalidate",
            "resolve",
            "approve",
            "reject",
            "check",
            "uncheck",
            "post",
            "subscribe",
            "note",
            "whatif",
            "remove",
            "retry",
            "bind",
            "create",
        ] {
            out.push(format!("{area} {verb}"));
        }
    }
    out.push("inbox".into());
    out
}

fn assert_plain(what: &str, text: &str) {
    assert!(!text.contains('`'), "a backtick in {what}:\n{text}");
    for w in command_words() {
        let found = text
            .match_indices(&w)
            .any(|(i, _)| !text[..i].ends_with(|c: char| c.is_alphanumeric()));
        assert!(!found, "the command `{w}` in {what}:\n{text}");
    }
}

/// The executive digest is one screen of plain words: no backtick and no command in any
/// format, at most 40 lines as text and one Discord message, for every program of the test
/// fixtures (the sample program with its RAID log, and the generated large program).
#[tokio::test]
async fn the_executive_digest_has_no_command_and_fits_one_screen() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    for line in [
        r#"decision add atlas "EU only at GA?" --decider @li --decide-by 2026-12-04"#,
        r#"issue add atlas "Staging `restarts` under load" --owner @dana --severity critical --project api"#,
        r#"dep block atlas 1 --reason "security review""#,
        r#"milestone move atlas api-beta --target 2026-12-22 --reason "load test failed""#,
        r#"action add atlas "Draft the EU plan" --owner @sam --due 2026-12-01 --for decision:2"#,
    ] {
        db.ok("tpm", line).await;
    }
    drumbeat::fixture::generate(
        &db.store,
        &drumbeat::domain::Tenant::local(),
        "big",
        drumbeat::fixture::Size::TENTH,
        crate::helpers::now(),
    )
    .await
    .unwrap();
    for program in ["atlas", "big"] {
        let line = format!("digest show {program} --audience executive");
        let reply = db.run("tpm", &line).await.unwrap();
        let text = drumbeat::reply::text::render(&reply);
        assert_plain(&format!("{program} as text"), &text);
        assert!(
            text.lines().count() <= 40,
            "{program}: {} lines:\n{text}",
            text.lines().count()
        );
        let md = drumbeat::reply::markdown::render(&reply);
        // Markdown headings and bold are fine; code spans are not.
        assert_plain(&format!("{program} as Markdown"), &md);
        let discord = drumbeat::reply::discord::render(&reply);
        assert_eq!(discord.len(), 1, "{program}: one Discord message");
        let slack = serde_json::to_string(&drumbeat::reply::slack::render(&reply)).unwrap();
        assert!(!slack.contains('`'), "{program} on Slack: {slack}");
    }
    let atlas = db.ok("tpm", "digest show atlas --audience executive").await;
    for want in [
        "Overall RED",
        "Frontend launch is forecast for",
        "This period: API beta slipped 7 days; 1 dependency became blocked",
        "EU only at GA?: needs a decision from @li by 2026-12-04",
        "Resolve the critical issue: Staging restarts under load",
        "Unblock Auth endpoints from Public API for Web frontend (blocked since today)",
        "Key milestones",
        "Top risks",
    ] {
        assert!(atlas.contains(want), "missing `{want}` in:\n{atlas}");
    }
}

/// A TPM's note leads the next executive digest of the period, once; only editors write one.
#[tokio::test]
async fn a_digest_note_leads_the_executive_digest() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let msg = db
        .refused("li", r#"digest note atlas --audience executive "All good""#)
        .await;
    assert!(msg.contains("editor"), "{msg}");
    let msg = db
        .refused("tpm", r#"digest note atlas --audience executive "  ""#)
        .await;
    assert!(msg.contains("the note is empty"), "{msg}");
    db.ok(
        "tpm",
        r#"digest note atlas --audience executive "Beta holds if security signs off by Friday.""#,
    )
    .await;
    let exec = db.ok("tpm", "digest show atlas --audience executive").await;
    let lines: Vec<&str> = exec.lines().collect();
    assert!(
        lines[1].contains("Beta holds if security signs off by Friday."),
        "the note leads:\n{exec}"
    );
    // The engineering digest has no note of its own; the next period's digest does not
    // repeat this one.
    let eng = db.ok("tpm", "digest show atlas").await;
    assert!(!eng.contains("Beta holds"), "{eng}");
    // The program document carries the note.
    let out = db.bin(&["export", "--program", "atlas"]);
    assert!(out.status.success(), "{}", crate::helpers::stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["digest_notes"][0]["audience"], "executive", "{doc}");
    assert_eq!(
        doc["digest_notes"][0]["body"],
        "Beta holds if security signs off by Friday."
    );
    db.clock.advance(Duration::days(8));
    let later = db.ok("tpm", "digest show atlas --audience executive").await;
    assert!(!later.contains("Beta holds"), "{later}");
}

/// The post-mortem's action items become real action items with `--actions`, once.
#[tokio::test]
async fn postmortem_actions_become_action_items_once() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok(
        "tpm",
        r#"dep add atlas --needs auth-ready --from legal --what "Token sign-off" --by 2026-12-01 --owner @sam"#,
    )
    .await;
    db.ok("tpm", r#"dep block atlas 3 --reason "legal queue""#)
        .await;
    db.clock.advance(Duration::days(6));
    db.ok("tpm", "dep deliver atlas 3").await;
    db.ok(
        "dana",
        r#"milestone move atlas api-beta --target 2026-12-29 --reason "waited on legal""#,
    )
    .await;
    let msg = db
        .refused(
            "li",
            "report postmortem atlas --milestone api-beta --actions",
        )
        .await;
    assert!(msg.contains("editor"), "{msg}");
    let page = db
        .ok("tpm", "report postmortem atlas --milestone api-beta")
        .await;
    assert!(
        page.contains(
            "Dependency #3 Token sign-off from Legal for auth-ready (Public API): blocked 6 days"
        ),
        "{page}"
    );
    assert!(page.contains("Agree how Legal escalates"), "{page}");
    let made = db
        .ok(
            "tpm",
            "report postmortem atlas --milestone api-beta --actions",
        )
        .await;
    assert!(made.contains("2 action items recorded"), "{made}");
    let actions = data(&db, "action list atlas").await;
    let list = actions["actions"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:#?}");
    assert_eq!(list[0]["owner"], "sam", "{list:#?}");
    assert_eq!(list[0]["link"]["kind"], "dep");
    assert_eq!(list[0]["due"], "2026-12-17");
    let again = db
        .ok(
            "tpm",
            "report postmortem atlas --milestone api-beta --actions",
        )
        .await;
    assert!(again.contains("0 action items recorded"), "{again}");
    assert!(again.contains("2 already open"), "{again}");
}

/// The scorecard measures delivery per team: say/do against the commitment of four weeks
/// before, mean slip, blocker-days caused and suffered, time to unblock, updates.
#[tokio::test]
async fn the_scorecard_measures_delivery_per_team() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    // Api's auth-ready (target 2026-12-05) is done on time; api-beta slips 5 days.
    db.ok(
        "dana",
        r#"status post atlas api --rag green --summary "on track""#,
    )
    .await;
    db.ok("tpm", r#"dep block atlas 1 --reason "review""#).await;
    db.clock.advance(Duration::days(2));
    db.ok("tpm", "dep unblock atlas 1").await;
    db.ok(
        "dana",
        r#"milestone move atlas api-beta --target 2026-12-20 --reason "load tests""#,
    )
    .await;
    db.clock.advance(Duration::days(6));
    db.ok("dana", "milestone done atlas auth-ready --on 2026-12-04")
        .await;
    let msg = db.refused("tpm", "report scorecard atlas --weeks 0").await;
    assert!(msg.contains("--weeks 0"), "{msg}");
    let card = data(&db, "report scorecard atlas --weeks 4").await;
    let teams = card["teams"].as_array().unwrap();
    let api = teams.iter().find(|t| t["team"] == "Public API").unwrap();
    assert_eq!(api["committed"], 1, "{api}");
    assert_eq!(api["done_on_time"], 1, "{api}");
    assert_eq!(api["mean_slip_days"], 5.0, "{api}");
    assert_eq!(api["blocker_days_caused"], 2, "{api}");
    assert_eq!(api["median_unblock_days"], 2.0, "{api}");
    assert_eq!(api["weeks_updated"], 1, "{api}");
    let fe = teams.iter().find(|t| t["team"] == "Web frontend").unwrap();
    assert_eq!(fe["blocker_days_suffered"], 2, "{fe}");
    assert_eq!(fe["committed"], 0, "{fe}");
    let shown = db.ok("tpm", "report scorecard atlas").await;
    assert!(shown.contains("100% (1/1)"), "{shown}");
}

/// The inbox lists what waits on one person across the tenant's programs, oldest first,
/// each with the command that clears it; someone else's only for an editor.
#[tokio::test]
async fn the_inbox_lists_what_waits_on_one_person() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok(
        "tpm",
        r#"program create hermes --name "Hermes" --tz Europe/Berlin"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"action add hermes "Book the launch review" --owner @dana --due 2026-12-02"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"action add atlas "Send the load test plan" --owner @dana --due 2026-11-30"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"decision add atlas "Cache or scale?" --decider @dana --decide-by 2026-12-03"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"readiness add atlas "Runbook reviewed" --owner @dana --milestone api-beta --due 2026-11-29"#,
    )
    .await;
    let inbox = data(&db, "inbox --as @dana").await;
    let waiting = inbox["waiting"].as_array().unwrap();
    let kinds: Vec<&str> = waiting
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    for k in ["action", "decision", "readiness", "status"] {
        assert!(kinds.contains(&k), "{k} in {waiting:#?}");
    }
    let programs: Vec<&str> = waiting
        .iter()
        .map(|w| w["program"].as_str().unwrap())
        .collect();
    assert!(programs.contains(&"hermes") && programs.contains(&"atlas"));
    let since: Vec<&str> = waiting
        .iter()
        .map(|w| w["since"].as_str().unwrap())
        .collect();
    let mut sorted = since.clone();
    sorted.sort();
    assert_eq!(since, sorted, "oldest first");
    let clears: Vec<&str> = waiting
        .iter()
        .map(|w| w["clear"].as_str().unwrap())
        .collect();
    assert!(clears.contains(&"action done hermes 1"), "{clears:?}");
    assert!(clears.contains(&"readiness check atlas 1"), "{clears:?}");
    // Dana sees her own; li, who edits nothing, may not look at dana's.
    let own = db.ok("dana", "inbox").await;
    assert!(own.contains("Waiting on you"), "{own}");
    let msg = db.refused("li", "inbox --as @dana").await;
    assert!(msg.contains("only an editor"), "{msg}");
}

/// A scheduled executive digest records the health it found; the next one says what it
/// was ("RED, was AMBER").
#[tokio::test]
async fn the_executive_digest_compares_health_with_the_last_one() {
    use chrono::TimeZone as _;
    use drumbeat::schedule::{Scheduler, SchedulerSettings};
    let db = TestDb::new().await;
    let utc = |d: u32, h: u32| chrono::Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap();
    db.clock.set(utc(1, 8));
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        "program bind atlas",
        r#"project add atlas api --name "Public API" --owner @dana"#,
        r#"schedule set atlas digest "daily 09:00" --audience executive"#,
    ] {
        db.ok("tpm", line).await;
    }
    db.ok(
        "dana",
        r#"status post atlas api --rag amber --summary "load tests at 70%" --blockers "capacity""#,
    )
    .await;
    let clock: std::sync::Arc<dyn drumbeat::clock::Clock> = std::sync::Arc::new(db.clock.clone());
    let scheduler = Scheduler::new(db.store.clone(), clock, SchedulerSettings::default());
    db.clock.set(utc(1, 9));
    scheduler.tick().await.unwrap();
    db.clock.set(utc(2, 8));
    db.ok(
        "dana",
        r#"status post atlas api --rag red --summary "load tests failed" --blockers "capacity""#,
    )
    .await;
    db.clock.set(utc(2, 9));
    scheduler.tick().await.unwrap();
    let mut tx = db.store.read().await.unwrap();
    let rows = drumbeat::store::tenant_outbox::<drumbeat::reply::Reply>(
        &mut tx,
        &drumbeat::domain::Tenant::local(),
    )
    .await
    .unwrap();
    let digests: Vec<String> = rows
        .iter()
        .filter(|r| {
            r.dedup_key
                .as_deref()
                .is_some_and(|k| k.starts_with("digest:"))
        })
        .map(|r| drumbeat::reply::text::render(&r.reply))
        .collect();
    assert_eq!(digests.len(), 2, "{digests:#?}");
    let first = digests.iter().find(|d| d.contains("AMBER")).unwrap();
    assert!(first.contains("Overall AMBER."), "{first}");
    let second = digests.iter().find(|d| d.contains("Overall RED")).unwrap();
    assert!(second.contains("Overall RED, was AMBER."), "{second}");
}

/// The first engineering digest of a month carries the delivery scorecard; the others and
/// the other audiences do not.
#[tokio::test]
async fn the_first_engineering_digest_of_a_month_carries_the_scorecard() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let november = db.ok("tpm", "digest show atlas").await;
    assert!(!november.contains("Delivery this month"), "{november}");
    db.clock.advance(Duration::days(4));
    let december = db.ok("tpm", "digest show atlas").await;
    assert!(
        december.contains("Delivery this month (last 4 weeks)"),
        "{december}"
    );
    assert!(december.contains("Public API"), "{december}");
    let json = data(&db, "digest show atlas --format json").await;
    assert!(
        json["scorecard"].as_array().is_some_and(|t| t.len() == 3),
        "{json}"
    );
    let exec = db.ok("tpm", "digest show atlas --audience executive").await;
    assert!(!exec.contains("Delivery this month"), "{exec}");
}
