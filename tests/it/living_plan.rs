//! The plan as a living thing: editing milestones, dependencies and decisions; cancelled
//! dependencies leaving the analysis; health that does not cry wolf (a critical risk's
//! state decides; `yellow`; reasons by impact, every colour counted).

use drumbeat::clock::Clock as _;
use drumbeat::command::CommandError;

use crate::analysis::{has, health, small};
use crate::helpers::{seed_atlas, TestDb};

async fn changes(db: &TestDb) -> String {
    db.ok("tpm", "digest show atlas --audience engineering")
        .await
}

#[tokio::test]
async fn milestone_set_changes_each_field_and_records_it() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let said = db
        .ok(
            "tpm",
            r#"milestone set atlas fe-launch --title "Frontend GA" --owner @sam --project legal --duration 4 --key"#,
        )
        .await;
    assert!(said.contains("Changed milestone fe-launch"), "{said}");
    for word in [
        "title",
        "owner",
        "project → legal",
        "duration 4 working days",
        "now a key milestone",
    ] {
        assert!(said.contains(word), "{word} in {said}");
    }
    let shown = db.ok("tpm", "milestone show atlas fe-launch").await;
    assert!(shown.contains("Frontend GA"), "{shown}");
    assert!(shown.contains("legal"), "{shown}");
    assert!(shown.contains("@sam"), "{shown}");
    // Predecessors: replace, add, drop, clear.
    db.ok("tpm", "milestone set atlas fe-launch --after auth-ready")
        .await;
    let shown = db.ok("tpm", "milestone show atlas fe-launch").await;
    assert!(
        shown.contains("After") && shown.contains("auth-ready") && !shown.contains("api-beta,"),
        "{shown}"
    );
    db.ok("tpm", "milestone set atlas fe-launch --after-add api-beta")
        .await;
    let shown = db.ok("tpm", "milestone show atlas fe-launch").await;
    assert!(shown.contains("api-beta"), "{shown}");
    db.ok(
        "tpm",
        "milestone set atlas fe-launch --after-drop auth-ready",
    )
    .await;
    db.ok("tpm", "milestone set atlas fe-launch --after none")
        .await;
    db.ok("tpm", "milestone set atlas fe-launch --no-key").await;
    let digest = changes(&db).await;
    assert!(
        digest.contains("`fe-launch` changed: title, owner, project → legal"),
        "{digest}"
    );
    assert!(digest.contains("after + auth-ready"), "{digest}");
    assert!(digest.contains("no longer a key milestone"), "{digest}");
    // Nothing to do, or nothing that would change, is refused.
    let msg = db.refused("tpm", "milestone set atlas fe-launch").await;
    assert!(msg.starts_with("nothing to set"), "{msg}");
    let msg = db
        .refused("tpm", "milestone set atlas fe-launch --no-key")
        .await;
    assert!(msg.contains("nothing changed"), "{msg}");
    let msg = db
        .refused("tpm", "milestone set atlas fe-launch --after-drop api-beta")
        .await;
    assert!(msg.contains("does not come after `api-beta`"), "{msg}");
    let msg = db
        .refused("tpm", "milestone set atlas fe-launch --after-add nowhere")
        .await;
    assert!(msg.contains("no milestone `nowhere`"), "{msg}");
    let msg = db
        .refused("tpm", "milestone set atlas fe-launch --after-add fe-launch")
        .await;
    assert!(msg.contains("cannot come after itself"), "{msg}");
}

#[tokio::test]
async fn a_predecessor_that_closes_a_cycle_is_refused_naming_it() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let before = db.dump().await;
    // auth-ready → api-beta → fe-launch already; fe-launch before auth-ready closes it.
    let msg = db
        .refused(
            "tpm",
            "milestone set atlas auth-ready --after-add fe-launch",
        )
        .await;
    assert!(msg.contains("would close a cycle"), "{msg}");
    for key in ["auth-ready", "api-beta", "fe-launch"] {
        assert!(msg.contains(key), "{key} in {msg}");
    }
    assert_eq!(db.dump().await, before, "a refused edit changes nothing");
}

#[tokio::test]
async fn dependencies_change_ends_and_cancelled_ones_leave_the_analysis() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    // #1: frontend needs auth endpoints from api; blocked, it makes frontend red.
    db.ok(
        "tpm",
        r#"dep block atlas 1 --reason "Token format undecided""#,
    )
    .await;
    let (_, reasons) = health(&db, "frontend").await;
    assert!(
        has(&reasons, "dependency_blocked", "red", "Auth endpoints"),
        "{reasons:?}"
    );
    db.ok(
        "tpm",
        r#"dep set atlas 1 --needs fe-launch --external "Identity vendor""#,
    )
    .await;
    let shown = db.ok("tpm", "dep show atlas 1").await;
    assert!(
        shown.contains("Identity vendor") && shown.contains("fe-launch"),
        "{shown}"
    );
    let msg = db
        .refused("tpm", "dep set atlas 1 --needs fe-launch --from fe-launch")
        .await;
    assert!(msg.contains("cannot need what it provides"), "{msg}");
    let msg = db.refused("tpm", "dep cancel atlas 1 --reason \"\"").await;
    assert!(msg.contains("needs a --reason"), "{msg}");
    let said = db
        .ok(
            "tpm",
            r#"dep cancel atlas 1 --reason "Identity ships it in the SDK""#,
        )
        .await;
    assert!(said.contains("Dependency #1 is cancelled"), "{said}");
    let (_, reasons) = health(&db, "frontend").await;
    assert!(
        !reasons.iter().any(|r| r.2.contains("Auth endpoints")),
        "{reasons:?}"
    );
    let listed = db.ok("tpm", "dep list atlas").await;
    assert!(listed.contains("cancelled"), "kept in history: {listed}");
    let msg = db.refused("tpm", "dep cancel atlas 1 --reason again").await;
    assert!(msg.contains("already cancelled"), "{msg}");
    let msg = db.refused("tpm", "dep set atlas 1 --what Other").await;
    assert!(msg.contains("is cancelled"), "{msg}");
    let digest = changes(&db).await;
    assert!(
        digest.contains("dependency #1 cancelled: Auth endpoints"),
        "{digest}"
    );
}

#[tokio::test]
async fn decision_set_changes_wording_but_never_the_outcome() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok(
        "tpm",
        r#"decision set atlas 1 --title "Ship v1 without SSO" --context "Vendor slipped twice""#,
    )
    .await;
    let listed = db.ok("tpm", "decision list atlas").await;
    assert!(listed.contains("Ship v1 without SSO"), "{listed}");
    let digest = changes(&db).await;
    assert!(
        digest.contains("decision #1 changed: title, context"),
        "{digest}"
    );
    let msg = db.refused("tpm", "decision set atlas 1").await;
    assert!(msg.starts_with("nothing to set"), "{msg}");
    match db.run("tpm", r#"decision set atlas 1 --outcome "x""#).await {
        Err(CommandError::User(m)) => assert!(m.contains("outcome"), "{m}"),
        other => panic!("--outcome is not a field of decision set: {other:?}"),
    }
}

#[tokio::test]
async fn a_critical_risks_state_decides_and_accepted_needs_a_reason() {
    let db = TestDb::new().await;
    small(&db).await;
    db.ok(
        "dana",
        r#"status post atlas api --rag yellow --summary "Slow but fine" --next "Tune the cache""#,
    )
    .await;
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "amber", "yellow is amber");
    assert!(
        has(&reasons, "reported", "amber", "reported amber"),
        "{reasons:?}"
    );
    db.ok(
        "dana",
        r#"status post atlas api --rag green --summary "Fine""#,
    )
    .await;
    db.ok(
        "tpm",
        r#"risk add atlas "Vendor late" --likelihood 4 --impact 4 --project api"#,
    )
    .await;
    assert_eq!(health(&db, "api").await.0, "red", "open");
    db.ok("tpm", "risk set atlas 1 --state mitigating").await;
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "amber", "mitigating");
    assert!(
        has(&reasons, "critical_risk", "amber", "is mitigating"),
        "{reasons:?}"
    );
    let msg = db.refused("tpm", "risk set atlas 1 --state accepted").await;
    assert!(msg.contains("needs its reason"), "{msg}");
    let msg = db
        .refused("tpm", r#"risk set atlas 1 --reason "why""#)
        .await;
    assert!(msg.contains("--reason goes with --state accepted"), "{msg}");
    db.ok(
        "tpm",
        r#"risk set atlas 1 --state accepted --reason "Fallback vendor signed""#,
    )
    .await;
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "green", "accepted: on the register, out of health");
    assert!(
        !reasons.iter().any(|r| r.0 == "critical_risk"),
        "{reasons:?}"
    );
    let listed = db.ok("tpm", "risk list atlas").await;
    assert!(listed.contains("accepted"), "{listed}");
}

/// Reasons come worst colour first and, within one, by impact; the digest's "(and N
/// more)" counts every other reason, of every colour.
#[tokio::test]
async fn reasons_are_ordered_by_impact_and_counted_across_colours() {
    let db = TestDb::new().await;
    small(&db).await;
    db.ok(
        "tpm",
        r#"milestone add atlas beta --title "Beta" --target 2026-11-20 --project api"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"dep add atlas --needs api --external "Vendor" --what "SDK" --by 2026-11-25"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"risk add atlas "Vendor late" --likelihood 4 --impact 4 --project api"#,
    )
    .await;
    let (rag, reasons) = health(&db, "api").await;
    assert_eq!(rag, "red");
    let rules: Vec<&str> = reasons.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        rules,
        [
            "dependency_late",
            "milestone_overdue",
            "critical_risk",
            "no_update"
        ],
        "{reasons:?}"
    );
    let digest = changes(&db).await;
    assert!(
        digest.contains("needs `SDK` from Vendor, due 2026-11-25, 2 days late (and 3 more)"),
        "{digest}"
    );
}

/// A plan file: one transaction, forward references resolved, every line's reply listed.
#[tokio::test]
async fn a_plan_file_with_forward_references_applies_whole() {
    let db = TestDb::new().await;
    let plan = db.path.with_file_name("plan.txt");
    std::fs::write(
        &plan,
        "# forward references: the end first\n\
         program create atlas --name \"Atlas\" --tz UTC\n\
         milestone add atlas ga --target 2027-03-01 --after beta --key\n\
         \n\
         project add atlas api --name \"API\" --owner @dana\n\
         milestone add atlas beta --target 2027-02-01 --project api\n\
         dep add atlas --needs ga --from beta --what \"Beta sign-off\" --by 2027-02-10\n",
    )
    .unwrap();
    let out = db.bin(&["exec", "--file", plan.to_str().unwrap()]);
    assert!(out.status.success(), "{}", crate::helpers::stderr(&out));
    let said = crate::helpers::stdout(&out);
    assert!(said.contains("Applied 5 commands"), "{said}");
    assert!(
        said.contains("   3  "),
        "replies are listed by line: {said}"
    );
    let shown = db.ok("tpm", "milestone show atlas ga").await;
    assert!(shown.contains("beta"), "{shown}");
}

/// The same file with one bad line changes nothing, and the error names the line.
#[tokio::test]
async fn a_plan_file_with_a_bad_line_changes_nothing_and_names_it() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let before = db.dump().await;
    let plan = db.path.with_file_name("plan.txt");
    std::fs::write(
        &plan,
        "milestone add atlas m1 --target 2027-03-01 --project api\n\
         milestone add atlas m2 --target 2027-03-05 --after m1\n\
         # the next line names a milestone no line makes\n\
         milestone add atlas m3 --target 2027-03-09 --after nowhere\n\
         dep add atlas --needs m2 --from m1 --what \"Handover\" --by 2027-03-02\n",
    )
    .unwrap();
    let out = db.bin(&["exec", "--file", plan.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        crate::helpers::stdout(&out)
    );
    let err = crate::helpers::stderr(&out);
    assert!(err.contains("line 4:"), "{err}");
    assert!(err.contains("nowhere"), "{err}");
    assert!(err.contains("Nothing was changed"), "{err}");
    assert_eq!(db.dump().await, before, "nothing of the plan was kept");
    // A line the grammar refuses is named before anything runs.
    std::fs::write(
        &plan,
        "milestone add atlas m1 --target 2027-03-01\nmilestone fly atlas m1\n",
    )
    .unwrap();
    let out = db.bin(&["exec", "--file", plan.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::helpers::stderr(&out).contains("line 2:"),
        "{}",
        crate::helpers::stderr(&out)
    );
    assert_eq!(db.dump().await, before);
}

/// The demo's program ships as a plan file, and it applies on an empty database.
#[tokio::test]
async fn the_example_plan_applies() {
    let db = TestDb::new().await;
    let plan = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/atlas.plan");
    let out = db.bin(&["exec", "--file", plan.to_str().unwrap()]);
    assert!(out.status.success(), "{}", crate::helpers::stderr(&out));
    let listed = db.ok("tpm", "milestone list atlas").await;
    for key in [
        "auth-ready",
        "api-beta",
        "console-beta",
        "payments-live",
        "ga",
    ] {
        assert!(listed.contains(key), "{key} in {listed}");
    }
    let path = db.ok("tpm", "path show atlas").await;
    assert!(path.contains("ga"), "{path}");
}

/// The scenario the conflicts are for: the provider's milestone moves past a dependency's
/// need-by date. The dependency shows the conflict, the consumer turns amber with the
/// reason, its owner gets one message, and the agenda and engineering digest list it.
#[tokio::test]
async fn a_provider_moved_past_need_by_is_a_conflict_everywhere() {
    let db = TestDb::new().await;
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        r#"project add atlas payments --name "Payments" --owner @pat"#,
        r#"project add atlas mobile --name "Mobile" --owner @ana"#,
        r#"milestone add atlas sandbox --title "Sandbox ready" --target 2027-01-08 --project payments"#,
        r#"milestone add atlas app-beta --title "App beta" --target 2027-02-01 --project mobile"#,
        r#"dep add atlas --needs mobile --from sandbox --what "Sandbox credentials" --by 2027-01-12"#,
    ] {
        db.ok("tpm", line).await;
    }
    db.ok(
        "ana",
        r#"status post atlas mobile --rag green --summary "On track""#,
    )
    .await;
    let (rag, _) = health(&db, "mobile").await;
    assert_eq!(rag, "green", "no conflict yet");
    let moved = db
        .ok(
            "pat",
            r#"milestone move atlas sandbox --target 2027-01-15 --reason "vendor API late""#,
        )
        .await;
    assert!(
        moved.contains("Dependencies now arriving after they are needed (1)"),
        "{moved}"
    );
    assert!(moved.contains("1 owner will be told"), "{moved}");

    let shown = db.ok("tpm", "dep show atlas 1").await;
    assert!(
        shown.contains("2027-01-15 (3 days after it is needed)"),
        "{shown}"
    );
    let listed = db.ok("tpm", "dep list atlas").await;
    assert!(
        listed.contains("Arrives") && listed.contains("3 days after it is needed"),
        "{listed}"
    );

    let (rag, reasons) = health(&db, "mobile").await;
    assert_eq!(rag, "amber", "{reasons:?}");
    let conflict: Vec<&str> = reasons
        .iter()
        .filter(|r| r.0 == "dependency_conflict" && r.1 == "amber")
        .map(|r| r.2.as_str())
        .collect();
    assert_eq!(conflict.len(), 1, "{reasons:?}");
    assert_eq!(
        conflict[0],
        "`Sandbox credentials` from sandbox (Payments) arrives 2027-01-15, 3 days after Mobile needs it"
    );

    // One message, to the consumer's owner.
    let mut conn = db.store.conn().await.unwrap();
    let rows: Vec<(drumbeat::store::Json,)> = drumbeat::store::db::query_as(
        "SELECT destination FROM outbox WHERE dedup_key LIKE 'shift:%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    drop(conn);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].0.as_str().contains("ana"), "{}", rows[0].0.as_str());

    let agenda = db.ok("tpm", "report agenda atlas").await;
    assert!(agenda.contains("#1 Sandbox credentials"), "{agenda}");
    assert!(
        agenda.contains("arrives 2027-01-15, 3 days after it is needed"),
        "{agenda}"
    );
    let digest = db
        .ok("tpm", "digest show atlas --audience engineering")
        .await;
    assert!(
        digest.contains("arrives 2027-01-15, 3 days after it is needed"),
        "{digest}"
    );
    // A dependency added in conflict says so at once.
    let added = db
        .ok(
            "tpm",
            r#"dep add atlas --needs app-beta --from sandbox --what "Test cards" --by 2027-01-10"#,
        )
        .await;
    assert!(
        added.contains("Conflict: it arrives 2027-01-15, 5 days after it is needed"),
        "{added}"
    );
}

/// `path show`: the chain of least float behind the end, even when the end's own target
/// holds it; the near-critical milestones after it; every milestone's earliest and latest
/// finish and float in its data.
#[tokio::test]
async fn path_show_lists_the_chain_the_near_critical_and_every_float() {
    let db = TestDb::new().await;
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        r#"project add atlas api --name "API" --owner @dana"#,
        // Monday 2027-01-04 … the end, Friday 01-22, after both branches.
        r#"milestone add atlas design --target 2027-01-04 --project api"#,
        r#"milestone add atlas build --target 2027-01-15 --project api --after design --duration 9"#,
        r#"milestone add atlas docs --target 2027-01-12 --project api --after design --duration 3"#,
        r#"milestone add atlas launch --target 2027-01-22 --project api --after build,docs --duration 5"#,
    ] {
        db.ok("tpm", line).await;
    }
    let reply = db.run("tpm", "path show atlas --near 5").await.unwrap();
    let data = reply.data.clone().unwrap();
    let chain: Vec<&str> = data["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(chain, ["design", "build", "launch"]);
    let timing = |key: &str| {
        data["milestones"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["milestone"] == key)
            .unwrap_or_else(|| panic!("{key} in {data:#}"))
            .clone()
    };
    // build: 9 working days after Monday 01-04 is Friday 01-15; launch needs it 5 working
    // days before 01-22, i.e. 01-15: no room.
    let build = timing("build");
    assert_eq!(build["earliest"], "2027-01-15");
    assert_eq!(build["latest"], "2027-01-15");
    assert_eq!(build["float_days"], 0);
    // docs: 3 working days after 01-04 is 01-07; its own target 01-12 leaves 3 working
    // days of float.
    let docs = timing("docs");
    assert_eq!(docs["earliest"], "2027-01-07");
    assert_eq!(docs["forecast"], "2027-01-12");
    assert_eq!(docs["latest"], "2027-01-12");
    assert_eq!(docs["float_days"], 3);
    let shown = drumbeat::reply::text::render(&reply);
    assert!(
        shown.contains("Near-critical (float ≤ 5 working days, 1)"),
        "{shown}"
    );
    assert!(shown.contains("docs"), "{shown}");
    let none =
        drumbeat::reply::text::render(&db.run("tpm", "path show atlas --near 2").await.unwrap());
    assert!(!none.contains("Near-critical"), "{none}");
}

/// A conflict shows on the dependency map and in the calendar feed too.
#[tokio::test]
async fn a_conflict_shows_on_the_map_and_in_the_calendar() {
    let db = TestDb::new().await;
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        r#"project add atlas payments --name "Payments" --owner @pat"#,
        r#"project add atlas mobile --name "Mobile" --owner @ana"#,
        r#"milestone add atlas sandbox --title "Sandbox ready" --target 2027-01-15 --project payments"#,
        r#"dep add atlas --needs mobile --from sandbox --what "Sandbox credentials" --by 2027-01-12"#,
    ] {
        db.ok("tpm", line).await;
    }
    let reply = db.run("tpm", "path map atlas").await.unwrap();
    let map = reply
        .attachment()
        .and_then(|a| a.body.as_text())
        .unwrap_or_default()
        .to_owned();
    assert!(
        map.contains("Sandbox credentials (open, arrives 2027-01-15)"),
        "{map}"
    );
    let mut conn = db.store.conn().await.unwrap();
    let (scope, program) = drumbeat::store::find_program(
        &mut conn,
        &drumbeat::domain::Tenant::local(),
        &drumbeat::domain::Key::parse("atlas").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let snap = drumbeat::store::load_snapshot(&mut conn, &scope, program, db.clock.now(), None)
        .await
        .unwrap();
    drop(conn);
    let feed = drumbeat::ical::feed(&snap);
    assert!(
        feed.contains("Conflict: Sandbox credentials arrives 2027-01-15"),
        "{feed}"
    );
}

/// Messages queued so far whose dedup key starts with `prefix`: (destination, title).
async fn queued(db: &TestDb, prefix: &str) -> Vec<(String, String)> {
    let mut tx = db.store.read().await.unwrap();
    let rows = drumbeat::store::tenant_outbox::<drumbeat::reply::Reply>(
        &mut tx,
        &drumbeat::domain::Tenant::local(),
    )
    .await
    .unwrap();
    rows.into_iter()
        .filter(|r| {
            r.dedup_key
                .as_deref()
                .is_some_and(|k| k.starts_with(prefix))
        })
        .map(|r| (format!("{:?}", r.destination), r.reply.title.clone()))
        .collect()
}

/// A dependency between two teams is a request until the provider answers; only the
/// provider's owner, their delegate or an editor may answer; the consumer is told each
/// answer; a proposal the consumer's date meets is agreed; a declined one turns the consumer
/// amber.
#[tokio::test]
async fn a_dependency_between_teams_is_requested_and_answered_by_commands() {
    let db = TestDb::new().await;
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        r#"project add atlas api --name "Public API" --owner @dana"#,
        r#"project add atlas web --name "Web" --owner @lee"#,
        r#"milestone add atlas web-beta --title "Web beta" --target 2027-02-01 --project web"#,
    ] {
        db.ok("tpm", line).await;
    }
    let added = db
        .ok(
            "tpm",
            r#"dep add atlas --needs web-beta --from api --what "Auth endpoints" --by 2027-01-12"#,
        )
        .await;
    assert!(added.contains("Requested: @dana is asked"), "{added}");
    let asked = queued(&db, "dep-request:").await;
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(asked[0].0.contains("dana"), "{asked:?}");
    assert_eq!(asked[0].1, "Dependency request: #1 Auth endpoints");
    let shown = db.ok("tpm", "dep show atlas 1").await;
    assert!(shown.contains("requested"), "{shown}");

    // Recorded as agreed, by the provider itself, or with an outside provider: no request.
    db.ok(
        "tpm",
        r#"dep add atlas --needs web --from api --what "Keys" --by 2027-01-12 --accepted"#,
    )
    .await;
    db.ok(
        "dana",
        r#"dep add atlas --needs web --from api --what "Docs" --by 2027-01-12"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"dep add atlas --needs web --external "Vendor" --what "SDK" --by 2027-01-12"#,
    )
    .await;
    assert_eq!(queued(&db, "dep-request:").await.len(), 1);
    for n in 2..=4 {
        let shown = db.ok("tpm", &format!("dep show atlas {n}")).await;
        assert!(shown.contains("accepted"), "#{n}: {shown}");
    }

    // The consumer cannot answer for the provider.
    let msg = db.refused("lee", "dep accept atlas 1").await;
    assert!(
        msg.contains("only the providing team's owner, their delegate"),
        "{msg}"
    );
    // A proposal must be later than the need-by date, with a reason.
    let msg = db
        .refused(
            "dana",
            r#"dep propose atlas 1 --by 2027-01-10 --reason "x""#,
        )
        .await;
    assert!(msg.contains("accept it instead"), "{msg}");
    let proposed = db
        .ok(
            "dana",
            r#"dep propose atlas 1 --by 2027-01-19 --reason "load tests first""#,
        )
        .await;
    assert!(proposed.contains("@lee will be told"), "{proposed}");
    let told = queued(&db, "dep-answer:").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].0.contains("lee"), "{told:?}");
    assert_eq!(
        told[0].1,
        "Dependency #1 another date proposed: Auth endpoints"
    );
    // Until agreed, it arrives on the proposed date: a conflict.
    let shown = db.ok("tpm", "dep show atlas 1").await;
    assert!(
        shown.contains("2027-01-19 (7 days after it is needed)") && shown.contains("proposed"),
        "{shown}"
    );
    let (rag, reasons) = health(&db, "web").await;
    // web-beta is the program's end: late on the critical chain is red.
    assert_eq!(rag, "red", "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.0 == "dependency_conflict"
            && r.2
                .contains("arrives 2027-01-19, 7 days after web-beta (Web) needs it")),
        "{reasons:?}"
    );
    // The consumer agrees by moving its date to the proposal.
    let set = db.ok("lee", "dep set atlas 1 --by 2027-01-19").await;
    assert!(
        set.contains("it is accepted, committed for 2027-01-19"),
        "{set}"
    );
    let shown = db.ok("tpm", "dep show atlas 1").await;
    assert!(shown.contains("accepted"), "{shown}");
    let msg = db.refused("dana", "dep accept atlas 1").await;
    assert!(msg.contains("already accepted"), "{msg}");

    // A delegate answers for the provider's owner; a refusal turns the consumer amber.
    db.ok(
        "tpm",
        r#"dep add atlas --needs web-beta --from api --what "Rate limits" --by 2027-01-20"#,
    )
    .await;
    db.ok("dana", "person set @dana --delegate @ira").await;
    let declined = db
        .ok(
            "ira",
            r#"dep decline atlas 5 --reason "not on our roadmap""#,
        )
        .await;
    assert!(declined.contains("is declined"), "{declined}");
    let (rag, reasons) = health(&db, "web").await;
    assert_eq!(rag, "amber", "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.0 == "dependency_declined"
            && r.2
                .contains("declined by its provider (not on our roadmap)")),
        "{reasons:?}"
    );
    let digest = changes(&db).await;
    assert!(
        digest.contains("dependency #5 declined: Rate limits: not on our roadmap"),
        "{digest}"
    );
    assert!(
        digest.contains("dependency #1: Auth endpoints, its provider proposes 2027-01-19"),
        "{digest}"
    );
    // Delivered or cancelled ones take no answer.
    db.ok("tpm", "dep deliver atlas 2").await;
    let msg = db
        .refused("dana", "dep accept atlas 2 --by 2027-01-30")
        .await;
    assert!(
        msg.contains("is delivered: there is nothing to accept"),
        "{msg}"
    );
    // An outside provider is accepted later with a committed date by whoever records it.
    let committed = db.ok("tpm", "dep accept atlas 4 --by 2027-01-15").await;
    assert!(
        committed.contains("Conflict: it arrives 2027-01-15"),
        "{committed}"
    );
}

/// `program set --end` names the end the chain leads to; `project set --holiday` adds a
/// team's own day off, which its milestones' working-day durations skip and nobody else's.
#[tokio::test]
async fn the_program_names_its_end_and_a_team_keeps_its_own_holidays() {
    let db = TestDb::new().await;
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        r#"project add atlas api --name "API" --owner @dana"#,
        r#"project add atlas web --name "Web" --owner @lee"#,
        // Monday 2027-01-04; five working days later is Monday 01-11.
        r#"milestone add atlas design --target 2027-01-04 --project api"#,
        r#"milestone add atlas build --target 2027-01-11 --project api --after design --duration 5"#,
        r#"milestone add atlas site --target 2027-01-11 --project web --after design --duration 5"#,
        r#"milestone add atlas docs --target 2027-03-01 --project web --after site"#,
    ] {
        db.ok("tpm", line).await;
    }
    let timing = |data: &serde_json::Value, key: &str| {
        data["milestones"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["milestone"] == key)
            .unwrap_or_else(|| panic!("{key} in {data:#}"))
            .clone()
    };
    let chain = |data: &serde_json::Value| -> Vec<String> {
        data["chain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let data = db
        .run("tpm", "path show atlas")
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(chain(&data), ["design", "site", "docs"], "{data:#}");
    assert_eq!(timing(&data, "build")["forecast"], "2027-01-11");

    // Only the program owner names the end; it must be a milestone of the program.
    let msg = db.refused("dana", "program set atlas --end build").await;
    assert!(msg.contains("only the owner"), "{msg}");
    let msg = db.refused("tpm", "program set atlas --end nowhere").await;
    assert!(msg.contains("no milestone `nowhere`"), "{msg}");
    let set = db.ok("tpm", "program set atlas --end build").await;
    assert!(set.contains("End") && set.contains("build"), "{set}");
    let data = db
        .run("tpm", "path show atlas")
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(chain(&data), ["design", "build"], "{data:#}");

    // The API team is off on Wednesday 01-06: build takes a day longer, site does not.
    let msg = db
        .refused("lee", "project set atlas api --holiday 2027-01-06")
        .await;
    assert!(msg.contains("only the project's owner"), "{msg}");
    let set = db
        .ok("dana", "project set atlas api --holiday 2027-01-06")
        .await;
    assert!(set.contains("2027-01-06"), "{set}");
    let data = db
        .run("tpm", "path show atlas")
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(timing(&data, "build")["forecast"], "2027-01-12");
    assert_eq!(timing(&data, "site")["forecast"], "2027-01-11");
    let msg = db
        .refused("dana", "project set atlas api --no-holiday 2027-01-07")
        .await;
    assert!(msg.contains("is not a holiday of project `api`"), "{msg}");
    db.ok("dana", "project set atlas api --no-holiday 2027-01-06")
        .await;
    // Back to the last milestone to finish; and both survive an export and an import.
    db.ok("tpm", "project set atlas web --holiday 2027-01-05")
        .await;
    db.ok("tpm", "program set atlas --no-end").await;
    let data = db
        .run("tpm", "path show atlas")
        .await
        .unwrap()
        .data
        .unwrap();
    assert_eq!(chain(&data), ["design", "site", "docs"], "{data:#}");
    assert_eq!(timing(&data, "site")["forecast"], "2027-01-12");
    db.ok("tpm", "program set atlas --end build").await;
    let out = db.bin(&["export", "--program", "atlas"]);
    assert!(out.status.success(), "{}", crate::helpers::stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["program"]["end"], "build");
    let web = doc["projects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == "web")
        .unwrap();
    assert_eq!(web["holidays"], serde_json::json!(["2027-01-05"]));
}

/// The executive digest lists the key milestones and any milestone late on or near the
/// critical chain; not the others.
#[tokio::test]
async fn the_executive_digest_tracks_key_milestones_and_late_ones_near_the_chain() {
    let db = TestDb::new().await;
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        r#"project add atlas api --name "API" --owner @dana"#,
        // Today is 2026-11-27. build is due before it can be: late, on the chain to ga.
        r#"milestone add atlas design --title "Design signed off" --target 2026-12-04 --project api"#,
        r#"milestone add atlas build --title "Build complete" --target 2026-12-07 --project api --after design --duration 10"#,
        r#"milestone add atlas ga --title "General availability" --target 2027-03-01 --project api --after build --key"#,
        r#"milestone add atlas docs --title "Docs site refresh" --target 2027-02-01 --project api"#,
    ] {
        db.ok("tpm", line).await;
    }
    let digest = db.ok("tpm", "digest show atlas --audience executive").await;
    let section = digest
        .split("Key milestones")
        .nth(1)
        .unwrap_or_else(|| panic!("no key milestones in {digest}"));
    let section = section.split("Top risks").next().unwrap();
    assert!(section.contains("General availability"), "{digest}");
    assert!(
        section.contains("Build complete"),
        "late near the chain: {digest}"
    );
    assert!(!section.contains("Docs site refresh"), "{digest}");
    assert!(!section.contains("Design signed off"), "{digest}");
    // Unmarked, it leaves the list; build stays while it is late.
    db.ok("tpm", "milestone set atlas ga --no-key").await;
    db.ok("tpm", "milestone set atlas docs --key").await;
    let digest = db.ok("tpm", "digest show atlas --audience executive").await;
    let section = digest.split("Key milestones").nth(1).unwrap();
    let section = section.split("Top risks").next().unwrap();
    assert!(section.contains("Docs site refresh"), "{digest}");
    assert!(section.contains("Build complete"), "{digest}");
    assert!(!section.contains("General availability"), "{digest}");
}
