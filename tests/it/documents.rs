//! Export and import of the program document.

use crate::helpers::*;

async fn full_program(db: &TestDb) {
    seed_atlas(db).await;
    for (who, line) in [
        ("tpm", r#"dep block atlas 1 --reason "security review""#),
        (
            "dana",
            r#"status post atlas api --rag amber --summary "perf risk" --blockers "load tests""#,
        ),
        (
            "dana",
            r#"milestone move atlas api-beta --target 2026-12-22 --reason "load test failed""#,
        ),
        ("dana", "milestone done atlas auth-ready"),
        (
            "tpm",
            r#"charter set atlas --goal "Launch" --stakeholders "CTO, VP Product""#,
        ),
        ("tpm", "program grant atlas @zoe --role viewer"),
        (
            "tpm",
            "program set atlas --holiday 2026-12-24 --work-days mon-fri",
        ),
        ("tpm", "program bind atlas"),
        (
            "tpm",
            "person set @dana --tz America/New_York --delegate @li --email dana@example.com",
        ),
        ("tpm", "risk realize atlas 1 --note \"SDK slipped\""),
    ] {
        db.ok(who, line).await;
    }
}

#[tokio::test]
async fn export_import_export_is_identical() {
    let a = TestDb::new().await;
    full_program(&a).await;
    let out = a.bin(&["export", "--program", "atlas"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let first = stdout(&out);

    let b = TestDb::new().await;
    let file = b.path.with_file_name("atlas.json");
    std::fs::write(&file, &first).unwrap();
    let out = b.bin(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let second = stdout(&b.bin(&["export", "--program", "atlas"]));
    assert_eq!(first, second);

    // The import is usable, not just stored: history and state read back.
    let shown = b.ok("tpm", "milestone show atlas api-beta").await;
    assert!(shown.contains("load test failed"), "{shown}");

    // Re-importing the same file changes nothing.
    let before = b.dump().await;
    let out = b.bin(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("Replaced"), "{}", stdout(&out));
    let after = b.dump().await;
    assert_eq!(before.len(), after.len());
    assert_eq!(second, stdout(&b.bin(&["export", "--program", "atlas"])));
}

#[tokio::test]
async fn one_bad_record_rejects_the_whole_file_with_its_path() {
    let a = TestDb::new().await;
    full_program(&a).await;
    let doc: serde_json::Value =
        serde_json::from_str(&stdout(&a.bin(&["export", "--program", "atlas"]))).unwrap();
    let b = TestDb::new().await;
    type Breakage = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(Breakage, &str)> = vec![
        (
            Box::new(|d| d["milestones"][1]["target"] = "2026-13-01".into()),
            "milestones[1].target",
        ),
        (
            Box::new(|d| d["risks"][0]["likelihood"] = 7.into()),
            "risks[0].likelihood",
        ),
        (
            Box::new(|d| d["projects"][0]["owner"] = "ghost".into()),
            "projects[0].owner: `ghost` is not in `people`",
        ),
        (
            Box::new(|d| d["milestones"][0]["after"] = serde_json::json!(["nope"])),
            "milestones[0].after[0]",
        ),
        (
            Box::new(|d| d["program"]["timezone"] = "Mars/Base".into()),
            "program.timezone",
        ),
        (
            Box::new(|d| d["milestones"][1]["after"] = serde_json::json!(["fe-launch"])),
            "cycle",
        ),
        (
            Box::new(|d| d["dependencies"][0]["needs"] = serde_json::json!({"project": "api"})),
            "dependencies[0].from",
        ),
        (
            Box::new(|d| d["status_updates"][0]["rag"] = "blue".into()),
            "status_updates[0].rag",
        ),
        (Box::new(|d| d["version"] = 9.into()), "version"),
        (
            Box::new(|d| d["milestones"][0]["target"] = "+262142-12-25".into()),
            "milestones[0].target: +262142-12-25 is outside the years 1900 to 9999",
        ),
        (
            Box::new(|d| d["projects"][1]["colour"] = "red".into()),
            "projects[1]",
        ),
        // Every text field is held to what the commands accept.
        (
            Box::new(|d| {
                d["milestones"][0]["slips"] = serde_json::json!([{
                    "from": "2026-12-01", "to": "2026-12-02",
                    "reason": "bell\u{7}", "at": "2026-11-27T09:00:00Z"
                }])
            }),
            "milestones[0].slips[0].reason: text must not contain control characters",
        ),
        (
            Box::new(|d| d["dependencies"][0]["blocked_reason"] = "x".repeat(4001).into()),
            "dependencies[0].blocked_reason: a text field is at most 4000 characters",
        ),
        (
            Box::new(|d| d["events"][0]["subject"] = "program:atlas\nforged line".into()),
            "events[0].subject: a name or title must be one line",
        ),
        (
            Box::new(|d| d["events"][0]["kind"] = "program created".into()),
            "events[0].kind",
        ),
        (
            Box::new(|d| d["people"][0]["handle"] = "da\u{0}na".into()),
            "people[0].handle",
        ),
        (
            Box::new(|d| d["people"][0]["display_name"] = "x".repeat(201).into()),
            "people[0].display_name: a name or title is at most 200 characters",
        ),
        (
            Box::new(|d| d["channels"] = serde_json::json!(["two words"])),
            "channels[0]",
        ),
        // Record numbers are bounded, so the next one can always be counted.
        (
            Box::new(|d| d["dependencies"][0]["number"] = 1_000_001.into()),
            "dependencies[0].number: a number is 1 to 1000000",
        ),
        (
            Box::new(|d| d["risks"][0]["number"] = i64::MAX.into()),
            "risks[0].number: a number is 1 to 1000000",
        ),
        (
            Box::new(|d| d["decisions"][0]["number"] = 0.into()),
            "decisions[0].number",
        ),
        (
            Box::new(|d| d["dependencies"][1]["number"] = 1.into()),
            "dependencies[1].number: number 1 is used twice",
        ),
    ];
    for (i, (break_it, want)) in cases.into_iter().enumerate() {
        let mut bad = doc.clone();
        break_it(&mut bad);
        let file = b.path.with_file_name(format!("bad{i}.json"));
        std::fs::write(&file, serde_json::to_string(&bad).unwrap()).unwrap();
        let before = b.dump().await;
        let out = b.bin(&["import", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "case {i}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(want),
            "case {i}: expected «{want}» in «{}»",
            stderr(&out)
        );
        assert_eq!(before, b.dump().await, "case {i} changed the database");
    }
}

/// Commands take the same years as import (1900 to 9999), so no typo can make a program
/// that cannot be exported and read back.
#[tokio::test]
async fn commands_refuse_dates_that_import_would_refuse() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let before = db.dump().await;
    for line in [
        r#"milestone add atlas old --title "Old" --target 1899-12-31"#,
        r#"milestone add atlas far --title "Far" --target +10000-01-01"#,
        r#"milestone move atlas api-beta --target 0000-01-01 --reason typo"#,
        r#"dep add atlas --needs frontend --from api --what "Docs" --by 1066-10-14"#,
        "program set atlas --holiday 1899-12-25",
        "risk set atlas 1 --review-by 0201-01-01",
        "person away @dana --until 1850-01-01",
    ] {
        let msg = db.refused("tpm", line).await;
        assert!(
            msg.contains("outside the years 1900 to 9999"),
            "`{line}`: {msg}"
        );
    }
    assert!(db
        .run(
            "tpm",
            r#"milestone add atlas y10k --title "Far" --target 10000-01-01"#
        )
        .await
        .is_err());
    assert_eq!(before, db.dump().await, "a refused date changed something");

    // The edges of the range are taken, and the program still exports and imports.
    db.ok(
        "tpm",
        r#"milestone add atlas early --title "Early" --target 1900-01-01"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"milestone add atlas late --title "Late" --target 9999-12-31"#,
    )
    .await;
    let out = db.bin(&["export", "--program", "atlas"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let other = TestDb::new().await;
    let file = other.path.with_file_name("edges.json");
    std::fs::write(&file, stdout(&out)).unwrap();
    let out = other.bin(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `tenant export` writes every program of one tenant, each exactly as `export` writes it,
/// and nothing of another tenant; a tenant id that is not one is refused with exit 2.
#[tokio::test]
async fn a_tenant_takes_every_program_it_has_and_nothing_else() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok("tpm", r#"program create beta --name "Beta" --tz UTC"#)
        .await;
    db.ok("tpm", "program archive beta").await;
    // A program of another tenant, brought in by import.
    let atlas = stdout(&db.bin(&["export", "--program", "atlas"]));
    let file = db.path.with_extension("other.json");
    std::fs::write(&file, &atlas).unwrap();
    let imported = db.bin(&["import", "--tenant", "discord:42", file.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));

    let out = db.bin(&["tenant", "export", "local"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["format"], "drumbeat.tenant");
    assert_eq!(doc["tenant"], "local");
    let keys: Vec<&str> = doc["programs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["program"]["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["atlas", "beta"]);
    let alone: serde_json::Value = serde_json::from_str(&atlas).unwrap();
    assert_eq!(doc["programs"][0], alone);

    let other = db.bin(&["tenant", "export", "discord:42"]);
    let other: serde_json::Value = serde_json::from_str(&stdout(&other)).unwrap();
    assert_eq!(other["programs"].as_array().unwrap().len(), 1);
    let nobody = db.bin(&["tenant", "export", "slack:T0NONE"]);
    let nobody: serde_json::Value = serde_json::from_str(&stdout(&nobody)).unwrap();
    assert_eq!(nobody["programs"], serde_json::json!([]));

    let refused = db.bin(&["tenant", "export", "acme"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("not a tenant id"),
        "{}",
        stderr(&refused)
    );
}
