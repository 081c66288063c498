//! Importing sheets and trackers' exports: `import-csv`, `import-jira`, `import-linear`,
//! `import-github` and `export --csv`, on fixture files written here.

use drumbeat::clock::Clock as _;
use drumbeat::command::{Actor, CommandError, Ctx};
use drumbeat::domain::{Platform, Tenant};
use drumbeat::import::{self, CsvOptions, Kind, Outcome, Report, Sheet};

use crate::helpers::*;

fn ctx(db: &TestDb, who: &str) -> Ctx {
    Ctx {
        tenant: Tenant::local(),
        platform: Platform::Console,
        actor: Actor {
            handle: who.into(),
            display_name: who.into(),
            is_admin: who == "tpm",
        },
        channel: Some("console".into()),
        now: db.clock.now(),
        webhooks: db.webhooks.clone(),
        public_url: None,
        channels: std::sync::Arc::new(drumbeat::command::NoPlatform),
    }
}

fn csv(kind: Kind, label: &str, text: &str) -> Vec<Sheet> {
    vec![import::read_csv(kind, label, text, &CsvOptions::default()).expect("the sheet reads")]
}

async fn apply(db: &TestDb, sheets: &[Sheet], label: &str) -> Result<Report, CommandError> {
    import::apply(&db.store, &ctx(db, "tpm"), "atlas", sheets, label, false).await
}

async fn applied(db: &TestDb, sheets: &[Sheet], label: &str) -> Report {
    match apply(db, sheets, label).await {
        Ok(r) => r,
        Err(e) => panic!("the import of {label} failed: {e:?}"),
    }
}

/// An import that must be refused without changing anything; returns the message.
async fn refused(db: &TestDb, sheets: &[Sheet], label: &str) -> String {
    let before = db.dump().await;
    let msg = match apply(db, sheets, label).await {
        Err(CommandError::User(msg)) => msg,
        other => panic!("the import of {label} should be refused, got {other:?}"),
    };
    assert_eq!(
        before,
        db.dump().await,
        "a refused import changed something"
    );
    assert!(msg.ends_with("Nothing was changed"), "{msg}");
    msg
}

fn outcome<'a>(r: &'a Report, place: &str) -> &'a Outcome {
    &r.rows
        .iter()
        .find(|(p, _)| p == place)
        .unwrap_or_else(|| panic!("no row {place} in {:?}", r.rows))
        .1
}

/// People the trackers' files name, known by display name and email.
async fn people(db: &TestDb) {
    db.ok(
        "tpm",
        r#"person set @dana --name "Dana Scully" --email dana@example.com"#,
    )
    .await;
    db.ok("tpm", "person set @li --email li@example.com").await;
}

const MILESTONES: &str = "\
ID,Summary,Team,Due date,Assignee,Depends on,Colour
auth-ready,Auth ready,api,2026-12-05,,,red
api-ga,API GA,Public API,15/01/2027,dana@example.com,api-beta,blue
docs,Docs site,frontend,\"Jan 10, 2027\",Nobody Known,,green
";

#[tokio::test]
async fn a_milestone_sheet_adds_what_is_new_and_reports_the_rest() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    people(&db).await;
    let sheets = csv(Kind::Milestones, "plan.csv", MILESTONES);
    let mapping = import::mapping_report(&sheets);
    for line in [
        "ID                       -> key",
        "Summary                  -> title",
        "Team                     -> project",
        "Due date                 -> due",
        "Assignee                 -> owner",
        "Depends on               -> after",
        "ignored: `Colour`",
    ] {
        assert!(mapping.contains(line), "{line} missing from\n{mapping}");
    }
    let r = applied(&db, &sheets, "plan.csv").await;
    assert_eq!(
        (r.added(), r.changed(), r.unchanged(), r.skipped()),
        (2, 0, 1, 0),
        "{}",
        r.text()
    );
    assert_eq!(
        outcome(&r, "plan.csv row 2"),
        &Outcome::Unchanged("milestone `auth-ready`".into())
    );
    assert_eq!(
        outcome(&r, "plan.csv row 3"),
        &Outcome::Added("milestone `api-ga`".into())
    );
    // The project named by its name, the owner by email, the predecessor by key.
    let shown = db.ok("tpm", "milestone show atlas api-ga").await;
    for want in ["2027-01-15", "api", "@Dana Scully", "api-beta"] {
        assert!(shown.contains(want), "{want} missing from\n{shown}");
    }
    // Nobody is called "Nobody Known": the importing person owns it, and the report says so.
    assert!(
        r.unmatched.contains_key("Nobody Known"),
        "{:?}",
        r.unmatched
    );
    assert!(
        r.text().contains("plan.csv row 4, column `Assignee`"),
        "{}",
        r.text()
    );
    let docs = db.ok("tpm", "milestone show atlas docs").await;
    assert!(
        docs.contains("@tpm") && docs.contains("2027-01-10"),
        "{docs}"
    );
}

#[tokio::test]
async fn importing_again_records_a_new_date_as_a_slip_and_adds_new_rows() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    people(&db).await;
    applied(
        &db,
        &csv(Kind::Milestones, "plan.csv", MILESTONES),
        "plan.csv",
    )
    .await;
    let again = MILESTONES.replace("15/01/2027", "29/01/2027")
        + "perf,Load test,api,2027-01-08,,auth-ready,\n";
    let r = applied(&db, &csv(Kind::Milestones, "plan.csv", &again), "plan.csv").await;
    assert_eq!(
        (r.added(), r.changed(), r.unchanged()),
        (1, 1, 2),
        "{}",
        r.text()
    );
    match outcome(&r, "plan.csv row 3") {
        Outcome::Changed(what, changes) => {
            assert_eq!(what, "milestone `api-ga`");
            assert!(
                changes[0].contains("2027-01-15 -> 2027-01-29"),
                "{changes:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let shown = db.ok("tpm", "milestone show atlas api-ga").await;
    assert!(shown.contains("imported from plan.csv"), "{shown}");
    assert!(shown.contains("2027-01-29"), "{shown}");
    let perf = db.ok("tpm", "milestone show atlas perf").await;
    assert!(perf.contains("auth-ready"), "{perf}");

    // A third time, nothing differs: every row unchanged, and nothing written.
    let before = db.dump().await;
    let r = applied(&db, &csv(Kind::Milestones, "plan.csv", &again), "plan.csv").await;
    assert_eq!(
        (r.added(), r.changed(), r.unchanged()),
        (0, 0, 4),
        "{}",
        r.text()
    );
    assert_eq!(before, db.dump().await);
}

#[tokio::test]
async fn a_partly_mapped_sheet_reads_what_map_names_and_ignores_the_rest() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let text = "\
Ref,Milestone name,When (dd/mm),Workstream,Notes
m-1,Security review,03/02/2027,legal,ask early
";
    let options = CsvOptions {
        maps: vec![
            "Ref=key".into(),
            "When (dd/mm)=target".into(),
            "Notes=ignore".into(),
        ],
        date_format: Some("%d/%m/%Y".into()),
    };
    let sheets = vec![import::read_csv(Kind::Milestones, "m.csv", text, &options).unwrap()];
    let mapping = import::mapping_report(&sheets);
    assert!(
        mapping.contains("Ref                      -> key"),
        "{mapping}"
    );
    assert!(mapping.contains("ignored: `Notes`"), "{mapping}");
    applied(&db, &sheets, "m.csv").await;
    let shown = db.ok("tpm", "milestone show atlas m-1").await;
    assert!(
        shown.contains("2027-02-03") && shown.contains("legal"),
        "{shown}"
    );

    // --map must name a column of the file and a field of the kind.
    let bad = |maps: Vec<String>| {
        let o = CsvOptions {
            maps,
            date_format: None,
        };
        import::read_csv(Kind::Milestones, "m.csv", text, &o).unwrap_err()
    };
    assert!(bad(vec!["Nope=key".into()]).contains("no column `Nope`"));
    assert!(bad(vec!["Ref=likelihood".into()]).contains("not a field of milestones"));
}

#[tokio::test]
async fn broken_sheets_name_their_row_and_column_and_change_nothing() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    // A bad date is found while reading, before anything runs.
    let e = import::read_csv(
        Kind::Milestones,
        "m.csv",
        "key,title,due\nok-1,Fine,2027-01-02\nbad-1,Bad,2027-02-31\n",
        &CsvOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.starts_with("m.csv row 3, column `due`: `2027-02-31` is not a date"),
        "{e}"
    );
    // A missing required column says which and how to map one.
    let e = import::read_csv(
        Kind::Dependencies,
        "d.csv",
        "what,needs,from\nx,api,frontend\n",
        &CsvOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.contains("no column for `due`") && e.contains("--map"),
        "{e}"
    );

    // An unknown project: the earlier good row is not written either.
    let msg = refused(
        &db,
        &csv(
            Kind::Milestones,
            "m.csv",
            "key,title,project,due\nfine,Fine,api,2027-01-02\nlost,Lost,nowhere,2027-01-03\n",
        ),
        "m.csv",
    )
    .await;
    assert!(msg.starts_with("m.csv row 3, column `project`: "), "{msg}");
    assert!(msg.contains("nowhere"), "{msg}");

    // A cycle: auth-ready after api-beta, which is after auth-ready.
    let msg = refused(
        &db,
        &csv(
            Kind::Milestones,
            "m.csv",
            "key,due,after\nauth-ready,2026-12-05,api-beta\n",
        ),
        "m.csv",
    )
    .await;
    assert!(msg.starts_with("m.csv row 2, column `after`: "), "{msg}");
    assert!(msg.contains("cycle"), "{msg}");

    // A value a command refuses, mapped back to the column that fed the option.
    let msg = refused(
        &db,
        &csv(
            Kind::Risks,
            "r.csv",
            "title,likelihood,impact\nFine,2,3\nToo likely,9,3\n",
        ),
        "r.csv",
    )
    .await;
    assert!(
        msg.starts_with("r.csv row 3, column `likelihood`: "),
        "{msg}"
    );
}

#[tokio::test]
async fn dependency_risk_and_raid_sheets_add_and_update() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    people(&db).await;
    let deps = "\
What,Provider,Consumer,Need by,Owner
Auth endpoints,api,frontend,2026-12-10,dana
Signed contract,legal,fe-launch,2027-01-05,Nobody Known
Pen test,,api-beta,2026-12-12,
";
    let mut sheets = csv(Kind::Dependencies, "deps.csv", deps);
    // The third row has no provider column value: it is skipped, not guessed.
    let r = applied(&db, &sheets, "deps.csv").await;
    assert_eq!(
        (r.added(), r.changed(), r.skipped()),
        (1, 1, 1),
        "{}",
        r.text()
    );
    match outcome(&r, "deps.csv row 2") {
        Outcome::Changed(what, c) => {
            assert_eq!(what, "dependency 1");
            assert!(
                c.iter()
                    .any(|c| c.contains("need-by 2026-12-01 -> 2026-12-10")),
                "{c:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let shown = db.ok("tpm", "dep show atlas 3").await;
    assert!(
        shown.contains("Signed contract") && shown.contains("legal"),
        "{shown}"
    );
    // Importing the same sheet again changes nothing.
    sheets = csv(Kind::Dependencies, "deps.csv", deps);
    let r = applied(&db, &sheets, "deps.csv").await;
    assert_eq!(
        (r.added(), r.changed(), r.unchanged()),
        (0, 0, 2),
        "{}",
        r.text()
    );

    let risks = "Risk,Probability,Impact,Owner,Mitigation,Review date\n\
                 Vendor SDK late,4,4,li@example.com,fallback to REST,2026-12-20\n\
                 EU region late,3,4,Dana Scully,ask early,\n";
    let r = applied(&db, &csv(Kind::Risks, "risks.csv", risks), "risks.csv").await;
    assert_eq!((r.added(), r.changed()), (1, 1), "{}", r.text());
    let shown = db.ok("tpm", "risk show atlas 1").await;
    assert!(shown.contains("2026-12-20"), "{shown}");

    for (kind, file, text, show) in [
        (
            Kind::Assumptions,
            "a.csv",
            "Assumption,Owner,Validate by\nEU DC ready,dana,2027-01-15\n",
            "assumption show atlas 1",
        ),
        (
            Kind::Issues,
            "i.csv",
            "Issue,Owner,Severity,Due\nStaging down,li,high,2026-12-02\n",
            "issue show atlas 1",
        ),
        (
            Kind::Actions,
            "x.csv",
            "Task,Assignee,Due date,Project\nSend the EU plan,dana,2026-12-04,api\n",
            "action show atlas 1",
        ),
    ] {
        let r = applied(&db, &csv(kind, file, text), file).await;
        assert_eq!(r.added(), 1, "{}", r.text());
        let shown = db.ok("tpm", show).await;
        assert!(
            shown.contains("@Dana Scully") || shown.contains("@li"),
            "{shown}"
        );
    }
    // An action's new due date is a change; an issue's new severity too.
    let r = applied(
        &db,
        &csv(
            Kind::Actions,
            "x.csv",
            "Task,Assignee,Due date\nSend the EU plan,dana,2026-12-09\n",
        ),
        "x.csv",
    )
    .await;
    assert_eq!(r.changed(), 1, "{}", r.text());
    assert!(db
        .ok("tpm", "action show atlas 1")
        .await
        .contains("2026-12-09"));
}

#[tokio::test]
async fn a_dry_run_reports_and_writes_nothing() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let before = db.dump().await;
    let file = db.path.with_file_name("plan.csv");
    std::fs::write(&file, MILESTONES).unwrap();
    let out = db.bin(&[
        "import-csv",
        "--program",
        "atlas",
        "--kind",
        "milestones",
        "--dry-run",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("plan.csv (milestones): 3 rows"), "{text}");
    assert!(
        text.contains("Dry run: 2 added, 0 changed, 1 unchanged"),
        "{text}"
    );
    assert_eq!(before, db.dump().await);

    // A refused import exits 2 with the row and column, and writes nothing.
    std::fs::write(&file, "key,due,project\nx-1,2027-01-01,nowhere\n").unwrap();
    let out = db.bin(&[
        "import-csv",
        "--program",
        "atlas",
        "--kind",
        "milestones",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("plan.csv row 2, column `project`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(before, db.dump().await);
}

#[tokio::test]
async fn export_csv_reads_back_unchanged_and_rebuilds_a_program() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok(
        "tpm",
        "assumption add atlas \"EU DC ready\" --owner @dana --validate-by 2027-01-15",
    )
    .await;
    db.ok(
        "tpm",
        "issue add atlas \"Staging down\" --owner @li --severity high --due 2026-12-02",
    )
    .await;
    db.ok(
        "tpm",
        "action add atlas \"Send the plan\" --owner @dana --due 2026-12-04 --project api",
    )
    .await;
    let dir = db.path.with_file_name("sheets");
    let out = db.bin(&[
        "export",
        "--program",
        "atlas",
        "--csv",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let read = |kind: Kind| {
        let name = format!("{}.csv", kind.as_str());
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        (name, text)
    };
    // Every sheet reads back into the program it came from as unchanged, every column used.
    let before = db.dump().await;
    for kind in Kind::SHEETS {
        let (name, text) = read(*kind);
        let sheets = csv(*kind, &name, &text);
        let mapping = import::mapping_report(&sheets);
        assert!(!mapping.contains("ignored"), "{mapping}");
        let r = applied(&db, &sheets, &name).await;
        assert_eq!(r.unchanged(), sheets[0].rows.len(), "{name}: {}", r.text());
        assert_eq!(r.added() + r.changed(), 0, "{name}: {}", r.text());
    }
    assert_eq!(before, db.dump().await);

    // Into a new program with the same projects, the milestones and dependencies come out
    // the same.
    for line in [
        r#"program create beta --name "Beta""#,
        r#"project add beta api --owner @dana"#,
        r#"project add beta frontend --owner @li"#,
        r#"project add beta legal --owner @sam"#,
    ] {
        db.ok("tpm", line).await;
    }
    for kind in [Kind::Milestones, Kind::Dependencies] {
        let (name, text) = read(kind);
        import::apply(
            &db.store,
            &ctx(&db, "tpm"),
            "beta",
            &csv(kind, &name, &text),
            &name,
            false,
        )
        .await
        .unwrap();
    }
    let dir_b = db.path.with_file_name("sheets-b");
    let out = db.bin(&[
        "export",
        "--program",
        "beta",
        "--csv",
        dir_b.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in ["milestones.csv", "dependencies.csv"] {
        assert_eq!(
            std::fs::read_to_string(dir.join(name)).unwrap(),
            std::fs::read_to_string(dir_b.join(name)).unwrap(),
            "{name}"
        );
    }
}

const JIRA: &str = "\
Summary,Issue key,Issue id,Issue Type,Status,Project key,Project name,Assignee,Due date,Custom field (Epic Link),Outward issue link (Blocks),Outward issue link (Blocks),Inward issue link (Blocks),Sprint
Checkout,PAY-1,10001,Epic,In Progress,PAY,Payments,Dana Scully,20/Jan/27 12:00 AM,,,,,
Card API,PAY-2,10002,Story,Done,PAY,Payments,dana@example.com,10/Dec/26 12:00 AM,PAY-1,PAY-3,PAY-4,,S1
Checkout UI,PAY-3,10003,Story,To Do,PAY,Payments,Nobody Known,05/Jan/27 12:00 AM,PAY-1,,,PAY-2,S1
Receipts,PAY-4,10004,Task,To Do,PAY,Payments,,,,,,,S2
";

#[tokio::test]
async fn a_jira_export_becomes_projects_milestones_and_dependencies() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    people(&db).await;
    let sheets = import::read_jira("jira.csv", JIRA).unwrap();
    let mapping = import::mapping_report(&sheets);
    assert!(
        mapping.contains("ignored: `Issue id`, `Sprint`"),
        "{mapping}"
    );
    let r = applied(&db, &sheets, "jira.csv").await;
    // Projects PAY and the epic; milestones for the epic and two issues; two links.
    assert_eq!(r.added(), 7, "{}", r.text());
    assert!(r.text().contains("PAY-4 has no due date"), "{}", r.text());
    let epic = db.ok("tpm", "project show atlas pay-1").await;
    assert!(epic.contains("Checkout"), "{epic}");
    let card = db.ok("tpm", "milestone show atlas pay-2").await;
    assert!(card.contains("done") && card.contains("pay-1"), "{card}");
    assert!(card.contains("@Dana Scully"), "{card}");
    let end = db.ok("tpm", "milestone show atlas pay-1-end").await;
    assert!(
        end.contains("2027-01-20") && end.contains("@Dana Scully"),
        "{end}"
    );
    assert!(
        r.unmatched.contains_key("Nobody Known"),
        "{:?}",
        r.unmatched
    );
    let deps = db.ok("tpm", "dep list atlas").await;
    assert!(deps.contains("pay-3") && deps.contains("pay-2"), "{deps}");

    // Again with PAY-3 a week later: one slip, the rest unchanged, found by their Jira keys.
    let later = JIRA.replace("05/Jan/27", "12/Jan/27");
    let r = applied(
        &db,
        &import::read_jira("jira.csv", &later).unwrap(),
        "jira.csv",
    )
    .await;
    assert_eq!((r.added(), r.changed()), (0, 2), "{}", r.text());
    let ui = db.ok("tpm", "milestone show atlas pay-3").await;
    assert!(ui.contains("imported from jira.csv"), "{ui}");
}

#[tokio::test]
async fn broken_jira_exports_name_their_row_and_change_nothing() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let e = import::read_jira("jira.csv", &JIRA.replace("20/Jan/27", "31/Foo/27")).unwrap_err();
    assert!(e.starts_with("jira.csv row 2, column `Due date`"), "{e}");
    let e = import::read_jira("jira.csv", "Summary,Due date\nx,2027-01-01\n").unwrap_err();
    assert!(e.contains("`Issue key`"), "{e}");
    // Each blocks the other: the second link would close a cycle.
    let cycle = "\
Issue key,Summary,Due date,Outward issue link (Blocks),Project key
OPS-1,One,2027-01-01,OPS-2,OPS
OPS-2,Two,2027-01-02,OPS-1,OPS
";
    let msg = refused(
        &db,
        &import::read_jira("jira.csv", cycle).unwrap(),
        "jira.csv",
    )
    .await;
    assert!(msg.contains("cycle"), "{msg}");
    assert!(
        msg.starts_with("jira.csv row 3, column `Outward issue link (Blocks)`"),
        "{msg}"
    );
}

const LINEAR: &str = "\
ID,Team,Title,Status,Project,Project Milestone,Assignee,Due Date,Blocked by,Blocks,Priority
ENG-1,Eng,Auth service,Done,Identity,Beta,dana@example.com,2026-12-10,,ENG-2,High
ENG-2,Eng,Login page,In Progress,Identity,Beta,Li,2026-12-20,ENG-1,,Medium
ENG-3,Eng,Docs,Backlog,Identity,,,,,,Low
ENG-4,Eng,Old idea,Canceled,Identity,,,2026-12-30,,,Low
";

#[tokio::test]
async fn a_linear_export_becomes_projects_milestones_and_dependencies() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    people(&db).await;
    let sheets = import::read_linear("linear.csv", LINEAR).unwrap();
    assert!(
        import::mapping_report(&sheets).contains("ignored: `Team`, `Priority`"),
        "{}",
        import::mapping_report(&sheets)
    );
    let r = applied(&db, &sheets, "linear.csv").await;
    // Project, two issues, the project milestone, one dependency.
    assert_eq!(r.added(), 5, "{}", r.text());
    assert_eq!(r.skipped(), 2, "{}", r.text());
    let beta = db.ok("tpm", "milestone show atlas identity-beta").await;
    assert!(
        beta.contains("2026-12-20") && beta.contains("eng-1") && beta.contains("eng-2"),
        "{beta}"
    );
    assert!(db
        .ok("tpm", "milestone show atlas eng-1")
        .await
        .contains("done"));
    assert!(db
        .ok("tpm", "milestone show atlas eng-2")
        .await
        .contains("@li"));
    assert!(db.ok("tpm", "dep show atlas 3").await.contains("eng-1"));

    let r = applied(
        &db,
        &import::read_linear("linear.csv", LINEAR).unwrap(),
        "linear.csv",
    )
    .await;
    assert_eq!((r.added(), r.changed()), (0, 0), "{}", r.text());
}

#[tokio::test]
async fn broken_linear_exports_name_their_row_and_change_nothing() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let e =
        import::read_linear("linear.csv", &LINEAR.replace("2026-12-20", "someday")).unwrap_err();
    assert!(e.starts_with("linear.csv row 3, column `Due Date`"), "{e}");
    let e = import::read_linear("linear.csv", "Title,Status\nx,Done\n").unwrap_err();
    assert!(e.contains("`ID`"), "{e}");
    let cycle = "\
ID,Title,Due Date,Blocks
ENG-7,One,2027-01-01,ENG-8
ENG-8,Two,2027-01-02,ENG-7
";
    let msg = refused(
        &db,
        &import::read_linear("linear.csv", cycle).unwrap(),
        "linear.csv",
    )
    .await;
    assert!(
        msg.contains("cycle") && msg.contains("column `Blocks`"),
        "{msg}"
    );
}

const GITHUB: &str = r#"[
 {"url": "https://api.github.com/repos/acme/widget/milestones/1",
  "html_url": "https://github.com/acme/widget/milestone/1", "number": 1, "title": "v1.0",
  "description": "First", "state": "closed", "due_on": "2026-12-01T08:00:00Z",
  "creator": {"login": "dana"}},
 {"html_url": "https://github.com/acme/widget/milestone/2", "number": 2, "title": "v1.1",
  "state": "open", "due_on": "2027-02-01T08:00:00Z", "creator": {"login": "octocat"}},
 {"html_url": "https://github.com/acme/widget/milestone/3", "number": 3, "title": "Someday",
  "state": "open", "due_on": null}
]"#;

#[tokio::test]
async fn github_milestones_become_a_project_and_its_milestones() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let sheets = import::read_github("milestones.json", GITHUB).unwrap();
    let mapping = import::mapping_report(&sheets);
    assert!(
        mapping.contains("ignored: `description`, `url`"),
        "{mapping}"
    );
    let r = applied(&db, &sheets, "milestones.json").await;
    assert_eq!((r.added(), r.skipped()), (3, 1), "{}", r.text());
    let v1 = db.ok("tpm", "milestone show atlas widget-1").await;
    assert!(v1.contains("done") && v1.contains("@dana"), "{v1}");
    assert!(db
        .ok("tpm", "project show atlas widget")
        .await
        .contains("acme/widget"));
    assert!(r.unmatched.contains_key("octocat"), "{:?}", r.unmatched);

    let moved = GITHUB.replace("2027-02-01", "2027-02-15");
    let r = applied(
        &db,
        &import::read_github("milestones.json", &moved).unwrap(),
        "milestones.json",
    )
    .await;
    assert_eq!(
        (r.added(), r.changed(), r.unchanged()),
        (0, 1, 2),
        "{}",
        r.text()
    );
    assert!(db
        .ok("tpm", "milestone show atlas widget-2")
        .await
        .contains("imported from milestones.json"));
}

#[tokio::test]
async fn broken_github_files_name_their_entry_and_change_nothing() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let e = import::read_github("m.json", &GITHUB.replace("2027-02-01T08", "2027-13-01T08"))
        .unwrap_err();
    assert!(e.starts_with("m.json entry 2, field `due_on`"), "{e}");
    let e = import::read_github("m.json", r#"{"message": "Not Found"}"#).unwrap_err();
    assert!(e.contains("not a list of milestones"), "{e}");
    let e = import::read_github("m.json", r#"[{"number": 1, "title": "x"}]"#).unwrap_err();
    assert!(e.starts_with("m.json entry 1, field `html_url`"), "{e}");
    // A key another record holds already: the milestone's own key is a project's.
    db.ok("tpm", "project add atlas widget-2 --owner @dana")
        .await;
    let msg = refused(
        &db,
        &import::read_github("m.json", GITHUB).unwrap(),
        "m.json",
    )
    .await;
    assert!(msg.starts_with("m.json entry 2, field `number`"), "{msg}");
}

#[tokio::test]
async fn tracker_commands_run_from_the_binary() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    for (mode, name, text) in [
        ("import-jira", "jira.csv", JIRA),
        ("import-linear", "linear.csv", LINEAR),
        ("import-github", "milestones.json", GITHUB),
    ] {
        let file = db.path.with_file_name(name);
        std::fs::write(&file, text).unwrap();
        let before = db.dump().await;
        let out = db.bin(&[
            mode,
            "--program",
            "atlas",
            "--dry-run",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{mode}: {}", stderr(&out));
        assert!(stdout(&out).contains("Dry run:"), "{}", stdout(&out));
        assert_eq!(before, db.dump().await, "{mode} --dry-run wrote something");
        let out = db.bin(&[mode, "--program", "atlas", file.to_str().unwrap()]);
        assert!(out.status.success(), "{mode}: {}", stderr(&out));
        assert!(stdout(&out).contains("Imported:"), "{}", stdout(&out));
    }
}

#[tokio::test]
async fn emails_are_checked_unique_and_shown() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let e = db
        .refused("tpm", "person set @dana --email not-an-address")
        .await;
    assert!(e.contains("not an email address"), "{e}");
    db.ok("tpm", "person set @dana --email Dana@Example.com")
        .await;
    let e = db
        .refused("tpm", "person set @li --email dana@example.COM")
        .await;
    assert!(e.contains("already"), "{e}");
    assert!(db
        .ok("tpm", "person show @dana")
        .await
        .contains("Dana@Example.com"));
    db.ok("tpm", "person set @dana --no-email").await;
    assert!(!db.ok("tpm", "person show @dana").await.contains("Example"));
    // A tracker id names one record.
    db.ok(
        "tpm",
        "milestone add atlas m-1 --target 2027-01-01 --external-id JIRA-1",
    )
    .await;
    let e = db
        .refused(
            "tpm",
            "milestone add atlas m-2 --target 2027-01-01 --external-id JIRA-1",
        )
        .await;
    assert!(e.contains("milestone `m-1`"), "{e}");
}

/// The events of atlas, oldest first: (kind, subject).
async fn atlas_events(db: &TestDb) -> Vec<(String, String)> {
    let mut tx = db.store.read().await.expect("read");
    let key = drumbeat::domain::Key::parse("atlas").expect("key");
    let (scope, _) = drumbeat::store::find_program(&mut tx, &Tenant::local(), &key)
        .await
        .expect("lookup")
        .expect("atlas");
    drumbeat::store::events(&mut tx, &scope)
        .await
        .expect("events")
        .into_iter()
        .map(|e| (e.kind, e.subject))
        .collect()
}

#[tokio::test]
async fn an_import_records_each_row_once_in_order_whichever_way_it_runs() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let before = atlas_events(&db).await.len();
    // In order: every row is accepted as it comes.
    let sheets = csv(
        Kind::Milestones,
        "m.csv",
        "key,project,due,after\nm-1,api,2027-02-01,\nm-2,api,2027-02-08,m-1\n",
    );
    applied(&db, &sheets, "m.csv").await;
    // Out of order: row 2 comes after row 3, which the first pass has not added yet.
    let sheets = csv(
        Kind::Milestones,
        "n.csv",
        "key,project,due,after\nn-2,frontend,2027-03-08,n-1\nn-1,frontend,2027-03-01,m-2\n",
    );
    let r = applied(&db, &sheets, "n.csv").await;
    assert_eq!(r.added(), 2, "{}", r.text());
    let shown = db.ok("tpm", "milestone show atlas n-2").await;
    assert!(shown.contains("n-1"), "{shown}");
    let deps = csv(
        Kind::Dependencies,
        "d.csv",
        "what,from,needs,need by\nKeys,m-1,n-1,2027-02-20\nDocs,m-2,n-2,2027-03-01\n",
    );
    applied(&db, &deps, "d.csv").await;
    let events = atlas_events(&db).await;
    let added: Vec<(&str, &str)> = events[before..]
        .iter()
        .map(|(k, s)| (k.as_str(), s.as_str()))
        .collect();
    // Each row once, none from the refused first attempt, in the order they were added;
    // the seed's two dependencies are #1 and #2, so the import's are #3 and #4.
    assert_eq!(
        added,
        vec![
            ("milestone.added", "milestone:m-1"),
            ("milestone.added", "milestone:m-2"),
            ("milestone.added", "milestone:n-1"),
            ("milestone.added", "milestone:n-2"),
            ("dep.added", "dep:3"),
            ("dep.added", "dep:4"),
        ]
    );
    let listed = db.ok("tpm", "dep list atlas").await;
    assert!(
        listed.contains("Keys") && listed.contains("Docs"),
        "{listed}"
    );
    // A dependency added by hand afterwards takes the next number.
    let reply = db
        .ok(
            "tpm",
            "dep add atlas --needs n-2 --from m-1 --what Manual --by 2027-03-01",
        )
        .await;
    assert!(reply.contains("#5"), "{reply}");
}
