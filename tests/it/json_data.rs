//! `--json` on every list and show command prints records as data, with the field names
//! README's "JSON output" documents: keys, dates, forecasts, float, owners by handle.

use serde_json::Value;

use crate::helpers::{seed_atlas, stdout, TestDb};

async fn data(db: &TestDb, line: &str) -> Value {
    db.run("tpm", line)
        .await
        .unwrap_or_else(|e| panic!("`{line}`: {e:?}"))
        .data
        .unwrap_or_else(|| panic!("`{line}` has no data"))
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

fn find<'a>(list: &'a Value, field: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .find(|x| x[field] == value)
        .unwrap_or_else(|| panic!("no {field} = {value} in {list:#}"))
}

const MILESTONE: &[&str] = &[
    "after",
    "baseline",
    "before",
    "completed_on",
    "critical",
    "duration",
    "duration_unit",
    "earliest",
    "float_days",
    "forecast",
    "key",
    "key_milestone",
    "late_days",
    "latest",
    "owner",
    "project",
    "slip_days",
    "state",
    "target",
    "title",
];

const DEPENDENCY: &[&str] = &[
    "agreement",
    "agreement_note",
    "arrives",
    "blocked_reason",
    "blocked_since",
    "cancel_reason",
    "committed_on",
    "conflict",
    "delivered_on",
    "from",
    "gap_days",
    "need_by",
    "needs",
    "number",
    "owner",
    "proposed_on",
    "state",
    "what",
];

#[tokio::test]
async fn every_list_and_show_gives_its_records_as_data() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    for line in [
        r#"status post atlas api --rag amber --summary "Beta slipping" --blockers "perf""#,
        r#"milestone set atlas fe-launch --key"#,
        r#"charter set atlas --goal "Launch Atlas in the EU""#,
        r#"schedule set atlas nudge "weekdays 09:00""#,
    ] {
        db.ok("tpm", line).await;
    }

    // Milestones: the schedule's view of each.
    let list = data(&db, "milestone list atlas").await;
    assert_eq!(list["program"], "atlas");
    let beta = find(&list["milestones"], "key", "api-beta");
    assert_eq!(keys(beta), MILESTONE);
    assert_eq!(beta["project"], "api");
    assert_eq!(beta["owner"], "dana");
    assert_eq!(beta["target"], "2026-12-15");
    assert_eq!(beta["after"], serde_json::json!(["auth-ready"]));
    assert_eq!(beta["before"], serde_json::json!(["fe-launch"]));
    assert!(
        beta["forecast"].is_string() && beta["float_days"].is_i64(),
        "{beta}"
    );
    let launch = find(&list["milestones"], "key", "fe-launch");
    assert_eq!(launch["key_milestone"], true);
    let shown = data(&db, "milestone show atlas fe-launch").await;
    assert_eq!(shown["key"], "fe-launch");
    assert_eq!(shown["slips"], serde_json::json!([]));
    let deps = shown["dependencies"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{shown:#}");
    assert_eq!(deps[0]["what"], "Signed DPA");

    // Dependencies: ends, agreement, arrival and gap.
    let list = data(&db, "dep list atlas").await;
    let auth = find(&list["dependencies"], "what", "Auth endpoints");
    assert_eq!(keys(auth), DEPENDENCY);
    assert_eq!(auth["number"], 1);
    assert_eq!(
        auth["needs"],
        serde_json::json!({ "kind": "project", "key": "frontend" })
    );
    assert_eq!(
        auth["from"],
        serde_json::json!({ "kind": "project", "key": "api" })
    );
    assert_eq!(auth["owner"], "dana");
    assert_eq!(auth["agreement"], "accepted");
    let dpa = data(&db, "dep show atlas 2").await;
    assert_eq!(
        dpa["from"],
        serde_json::json!({ "kind": "external", "name": "Vendor security review" })
    );
    assert_eq!(dpa["needs"]["kind"], "milestone");
    assert_eq!(dpa["arrives"], "2027-01-05");
    assert_eq!(dpa["gap_days"], 0);
    assert_eq!(dpa["conflict"], false);

    // Projects: owner by handle, dependencies in and out, the latest status.
    let list = data(&db, "project list atlas").await;
    let api = find(&list["projects"], "key", "api");
    assert_eq!(api["owner"], "dana");
    assert_eq!(api["dependencies_out"], serde_json::json!([1]));
    assert_eq!(api["latest_status"]["rag"], "amber");
    let front = data(&db, "project show atlas frontend").await;
    // The frontend needs #1 itself and #2 through its milestone fe-launch.
    assert_eq!(front["dependencies_in"], serde_json::json!([1, 2]));
    assert_eq!(front["milestones"][0]["key"], "fe-launch");

    // Risks, decisions, status updates, people, the program and its charter.
    let risks = data(&db, "risk list atlas").await;
    let sdk = find(&risks["risks"], "title", "Vendor SDK late");
    assert_eq!(sdk["score"], 20);
    assert_eq!(sdk["band"], "critical");
    assert_eq!(sdk["owner"], "li");
    assert_eq!(
        data(&db, "risk show atlas 1").await["mitigation"],
        "fallback to REST"
    );
    let decisions = data(&db, "decision list atlas").await;
    assert_eq!(decisions["decisions"][0]["outcome"], "SSO in v2");
    assert_eq!(decisions["decisions"][0]["pending"], false);
    let decision = data(&db, "decision show atlas 1").await;
    assert_eq!(decision["title"], "Ship without SSO");
    assert_eq!(decision["decided_by"], "tpm");
    let statuses = data(&db, "status list atlas").await;
    let first = &statuses["status_updates"][0];
    assert_eq!(first["project"], "api");
    assert_eq!(first["author"], "tpm");
    assert_eq!(first["summary"], "Beta slipping");
    let dana = data(&db, "person show @dana").await;
    assert_eq!(dana["handle"], "dana");
    let programs = data(&db, "program list").await;
    assert_eq!(programs["programs"][0]["key"], "atlas");
    let program = data(&db, "program show atlas").await;
    assert_eq!(program["timezone"], "Europe/Berlin");
    assert_eq!(program["owner"], "tpm");
    assert_eq!(
        program["projects"],
        serde_json::json!(["api", "frontend", "legal"])
    );
    let charter = data(&db, "charter show atlas").await;
    assert_eq!(charter["goal"], "Launch Atlas in the EU");
    let schedules = data(&db, "schedule show atlas").await;
    assert_eq!(schedules["schedules"][0]["kind"], "nudge");
    assert!(schedules["schedules"][0]["next"].is_string());
    let outbox = data(&db, "outbox list atlas").await;
    assert!(outbox["messages"].is_array(), "{outbox}");
}

/// `drumbeat exec --json` prints the data, not the reply's layout.
#[tokio::test]
async fn exec_json_prints_the_records() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let out = db.bin(&["exec", "--json", "milestone list atlas"]);
    assert!(out.status.success(), "{}", crate::helpers::stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["program"], "atlas");
    assert_eq!(v["milestones"].as_array().unwrap().len(), 3);
    assert!(v.get("blocks").is_none(), "{v}");
}
