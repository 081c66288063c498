//! Charts: every kind of the sample program decodes as a PNG of the expected size with
//! something drawn on it; the dependency map's DOT and Mermaid text are snapshots; reports
//! write their charts beside the Markdown; bad input is refused and changes nothing. The
//! layouts the pictures are drawn from are checked on real programs: the map's routes go
//! around its boxes and carry labels, the trend starts on the day the program was created,
//! and the timeline has a tick each Monday, forecasts against targets and late arrivals
//! marked.

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use drumbeat::analysis::{trend, Analysed, Snapshot};
use drumbeat::chart::{depmap, timeline};
use drumbeat::clock::Clock as _;
use drumbeat::demo;
use drumbeat::domain::{DepState, Key, Platform, Tenant};
use drumbeat::platform::console::present;
use drumbeat::reply::{Body, Reply};
use drumbeat::store;

use crate::helpers::{stderr, stdout, TestDb};

/// Width, height and RGB(A) pixels of a PNG.
pub fn decode(png: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a PNG frame");
    let step = info.color_type.samples();
    assert!(step >= 3, "colour, not {:?}", info.color_type);
    let pixels = buf[..info.buffer_size()]
        .chunks(step)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, pixels)
}

/// The PNG is `width` wide and at least `min_height` tall, and not blank: many colours, and
/// a fair share of pixels that are not the white background.
pub fn assert_drawn(png: &[u8], width: u32, min_height: u32) {
    let (w, h, pixels) = decode(png);
    assert_eq!(w, width, "width");
    assert!(h >= min_height, "height {h} < {min_height}");
    // Flat fills give a handful of colours; text in the bundled font is anti-aliased into
    // many shades, so a count well above the palette says the text was drawn too.
    let colours: HashSet<[u8; 3]> = pixels.iter().copied().collect();
    assert!(colours.len() >= 24, "only {} colours", colours.len());
    let inked = pixels.iter().filter(|p| **p != [255, 255, 255]).count();
    assert!(
        inked * 50 > pixels.len(),
        "{inked} of {} pixels drawn",
        pixels.len()
    );
}

async fn sample() -> TestDb {
    let db = TestDb::new().await;
    for (who, line) in demo::SETUP {
        db.ok(who, line).await;
    }
    db.clock.advance(Duration::days(3));
    db.ok(
        "omar",
        r#"status post atlas billing --rag amber --summary "Contract still unsigned" --blockers "Legal review""#,
    )
    .await;
    db
}

fn png_of(reply: &Reply) -> &[u8] {
    let a = reply.attachment().expect("an attachment");
    assert_eq!(a.media_type, "image/png");
    match &a.body {
        Body::Bytes(b) => b,
        Body::Text(_) => panic!("a chart is bytes"),
    }
}

#[tokio::test]
async fn every_chart_of_the_sample_program_is_a_drawn_png() {
    let db = sample().await;
    for (kind, width, min_height) in [
        ("timeline", 1400, 200),
        ("risks", 1200, 700),
        ("deps", 1400, 200),
        ("trend", 1200, 150),
    ] {
        let reply = db
            .run("tpm", &format!("chart show atlas {kind}"))
            .await
            .unwrap();
        assert_eq!(
            reply.attachment().unwrap().filename,
            format!("atlas-{kind}.png")
        );
        assert_drawn(png_of(&reply), width, min_height);
        // The console says how to write it rather than printing bytes.
        let shown = present(&reply, false).unwrap();
        assert!(
            shown.contains(&format!("chart show atlas {kind} --out atlas-{kind}.png")),
            "{shown}"
        );
        assert!(!shown.contains("PNG"), "{shown}");
    }
    let wide = db
        .run("tpm", "chart show atlas trend --weeks 26")
        .await
        .unwrap();
    assert_drawn(png_of(&wide), 1200, 150);
    let map = db.run("tpm", "path map atlas --format png").await.unwrap();
    assert_drawn(png_of(&map), 1400, 200);
    // A program with nothing in it yet still draws, and says what to do.
    db.ok("tpm", "program create empty").await;
    for kind in ["timeline", "risks", "deps", "trend"] {
        let reply = db
            .run("tpm", &format!("chart show empty {kind}"))
            .await
            .unwrap();
        let (w, h, _) = decode(png_of(&reply));
        assert!(w >= 1000 && h >= 100, "{kind}: {w}x{h}");
    }
}

#[tokio::test]
async fn the_large_program_draws_within_its_row_limits() {
    let db = TestDb::new().await;
    drumbeat::fixture::generate(
        &db.store,
        &drumbeat::domain::Tenant::local(),
        "big",
        drumbeat::fixture::Size::TENTH,
        crate::helpers::now(),
    )
    .await
    .unwrap();
    for kind in ["timeline", "risks", "deps", "trend"] {
        let reply = db
            .run("tpm", &format!("chart show big {kind}"))
            .await
            .unwrap();
        let (w, h, _) = decode(png_of(&reply));
        // 80 rows at most: a chart stays a picture one can read in a chat window.
        assert!(w <= 1400 && h <= 2400, "{kind}: {w}x{h}");
    }
}

#[tokio::test]
async fn the_dependency_map_as_dot_and_mermaid() {
    let db = sample().await;
    for format in ["dot", "mermaid"] {
        let reply = db
            .run("tpm", &format!("path map atlas --format {format}"))
            .await
            .unwrap();
        let a = reply.attachment().unwrap();
        let text = a.body.as_text().expect("text").to_owned();
        insta::assert_snapshot!(format!("depmap_{format}"), text);
        // What the console prints is the text itself, ready to pipe into `dot` or a page.
        assert_eq!(present(&reply, false).unwrap(), text);
    }
    // Mermaid is the default: it renders in Markdown on GitHub, GitLab and many wikis.
    let default = db.run("tpm", "path map atlas").await.unwrap();
    assert_eq!(default.attachment().unwrap().filename, "atlas-deps.mmd");
}

#[tokio::test]
async fn mermaid_labels_cannot_open_a_directive_or_a_comment() {
    let db = TestDb::new().await;
    db.ok("tpm", "program create evil --tz UTC").await;
    db.ok(
        "tpm",
        r#"project add evil api --name "%%{init: {'theme':'dark'}}%% API" --owner @tpm"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"project add evil web --name "Web 100% done" --owner @tpm"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"dep add evil --needs web --from api --what "it's %% ready" --by 2027-01-10"#,
    )
    .await;
    let reply = db
        .run("tpm", "path map evil --format mermaid")
        .await
        .unwrap();
    let text = reply
        .attachment()
        .unwrap()
        .body
        .as_text()
        .unwrap()
        .to_owned();
    assert!(!text.contains('%'), "{text}");
    assert!(!text.contains('\''), "{text}");
    assert!(text.contains("#37;#37;{init: {#39;theme#39;"), "{text}");
    assert!(text.contains("Web 100#37; done"), "{text}");
}

#[tokio::test]
async fn reports_write_their_charts_beside_the_markdown() {
    let db = sample().await;
    let dir = db.path.with_file_name("out");
    std::fs::create_dir_all(&dir).unwrap();
    let md = dir.join("atlas-status.md");
    let o = db.bin(&[
        "exec",
        "--now",
        "2026-11-30T09:00:00Z",
        "report",
        "status",
        "atlas",
        "--out",
        md.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = stdout(&o);
    assert!(std::fs::read_to_string(&md)
        .unwrap()
        .starts_with("# Atlas cloud launch"));
    for (kind, width) in [
        ("timeline", 1400),
        ("risks", 1200),
        ("deps", 1400),
        ("trend", 1200),
    ] {
        let path = dir.join(format!("atlas-{kind}.png"));
        assert!(said.contains(&path.display().to_string()), "{said}");
        assert_drawn(&std::fs::read(&path).unwrap(), width, 100);
    }
    assert_eq!(said.lines().count(), 5, "{said}");
    // Into a directory: the report under its own name, the charts beside it.
    let into = db.path.with_file_name("into");
    std::fs::create_dir_all(&into).unwrap();
    let o = db.bin(&[
        "exec",
        "report",
        "agenda",
        "atlas",
        "--out",
        into.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut names: Vec<String> = std::fs::read_dir(&into)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["atlas-agenda.md", "atlas-risks.png", "atlas-timeline.png"]
    );
    // `chart show --out` writes the one picture.
    let one = db.path.with_file_name("t.png");
    let o = db.bin(&[
        "exec",
        "chart",
        "show",
        "atlas",
        "timeline",
        "--out",
        one.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("Wrote "), "{}", stdout(&o));
    assert_drawn(&std::fs::read(&one).unwrap(), 1400, 100);
}

#[tokio::test]
async fn bad_chart_input_is_refused_and_changes_nothing() {
    let db = sample().await;
    let before = db.dump().await;
    for (line, wanted) in [
        ("chart show atlas pie", "timeline, risks, deps, trend"),
        ("chart show atlas", "timeline, risks, deps, trend"),
        ("chart show atlas trend --weeks 0", "from 1 to 52"),
        ("chart show atlas trend --weeks 53", "from 1 to 52"),
        ("chart show atlas trend --weeks many", "many"),
        ("chart show atlas timeline --weeks 4", "trend chart only"),
        ("chart show nope timeline", "there is no program `nope`"),
        (
            "chart show atlas timeline --out ''",
            "--out needs a file name",
        ),
        ("path map atlas --format svg", "mermaid, dot, png"),
        ("path map nope", "there is no program `nope`"),
    ] {
        let msg = db.refused("tpm", line).await;
        assert!(msg.contains(wanted), "{line}: {msg}");
    }
    // Where Drumbeat cannot write a file for the one who asked, --out is refused.
    for line in [
        "chart show atlas timeline --out x.png",
        "path map atlas --out x.mmd",
    ] {
        let refused = db.run_on(Platform::Discord, "tpm", line).await;
        assert!(
            matches!(&refused, Err(drumbeat::command::CommandError::User(m)) if m.contains("console")),
            "{line}: {refused:?}"
        );
    }
    assert_eq!(db.dump().await, before);
}

#[test]
fn chart_bytes_survive_the_outbox_json() {
    let png = vec![0x89, b'P', b'N', b'G', 0, 255, 10];
    let reply = Reply::new("t").attach(drumbeat::reply::Attachment::png("a.png", png.clone()));
    let json = serde_json::to_string(&reply).unwrap();
    assert!(
        json.contains(r#""body":{"base64":"iVBORwD/Cg=="}"#),
        "{json}"
    );
    let back: Reply = serde_json::from_str(&json).unwrap();
    assert_eq!(back, reply);
    // Text bodies stay plain strings, as rows written before charts have them.
    let text = r##"{"title":"t","tone":{"kind":"info"},"blocks":[],"actions":[],"ephemeral":false,
        "attachments":[{"filename":"a.md","media_type":"text/markdown","body":"# A"}]}"##;
    let old: Reply = serde_json::from_str(text).unwrap();
    assert_eq!(old.attachment().unwrap().body, Body::Text("# A".into()));
}

/// A program as the charts see it now, with the status history the trend reads.
async fn analysed_parts(db: &TestDb, key: &str) -> (Snapshot, Vec<drumbeat::domain::StatusUpdate>) {
    let mut tx = db.store.read().await.unwrap();
    let (scope, program) =
        store::find_program(&mut tx, &Tenant::local(), &Key::parse(key).unwrap())
            .await
            .unwrap()
            .unwrap();
    let snap = store::load_snapshot(&mut tx, &scope, program, db.clock.now(), None)
        .await
        .unwrap();
    let since = trend::window_start(&snap, drumbeat::chart::DEFAULT_WEEKS);
    let history = store::status_history(&mut tx, &scope, since).await.unwrap();
    tx.commit().await.unwrap();
    (snap, history)
}

/// Every route of the map is made of horizontal and vertical runs from its provider's box
/// to its consumer's, runs inside no box, and touches no box but its own two; every edge
/// has a label naming its worst dependency; blocked and late edges come last. With
/// `labels_clear`, no label covers a box either.
fn check_map(map: &depmap::DepMap, l: &depmap::MapLayout, labels_clear: bool) {
    assert_eq!(l.boxes.len(), map.nodes.len());
    assert_eq!(l.routes.len(), map.edges.len());
    for r in &l.routes {
        let e = &map.edges[r.edge];
        let p = &r.points;
        assert!(p.len() >= 2, "{}: {p:?}", r.label);
        assert!(
            l.boxes[e.from].touched_by(p[0], p[0]),
            "{}: starts off its box",
            r.label
        );
        assert!(
            l.boxes[e.to].touched_by(p[p.len() - 1], p[p.len() - 1]),
            "{}: ends off its box",
            r.label
        );
        for w in p.windows(2) {
            assert!(
                w[0].0 == w[1].0 || w[0].1 == w[1].1,
                "{}: diagonal {w:?}",
                r.label
            );
            for (i, b) in l.boxes.iter().enumerate() {
                assert!(
                    !b.entered_by(w[0], w[1]),
                    "{}: {w:?} through box {i}",
                    r.label
                );
                if i != e.from && i != e.to {
                    assert!(
                        !b.touched_by(w[0], w[1]),
                        "{}: {w:?} touches box {i}",
                        r.label
                    );
                }
            }
        }
        let worst = e
            .deps
            .iter()
            .max_by_key(|d| {
                let severity = match (d.state, d.arrives_late) {
                    (DepState::Blocked, _) => 3,
                    (_, Some(_)) => 2,
                    (DepState::AtRisk, None) => 1,
                    _ => 0,
                };
                (severity, std::cmp::Reverse(d.number))
            })
            .unwrap();
        assert!(
            r.label.starts_with(&format!("#{}", worst.number)),
            "{}",
            r.label
        );
        if worst.state == DepState::Blocked {
            assert!(r.label.contains("blocked"), "{}", r.label);
        }
        if labels_clear {
            assert!(
                !l.boxes.iter().any(|b| b.overlaps(&r.label_at)),
                "{}: the label covers a box",
                r.label
            );
        }
    }
    let first_warning = l
        .routes
        .iter()
        .position(|r| r.warning)
        .unwrap_or(l.routes.len());
    assert!(l.routes[first_warning..].iter().all(|r| r.warning));
}

#[tokio::test]
async fn the_dependency_map_routes_around_its_boxes_and_labels_every_edge() {
    let db = sample().await;
    // The API feeds the web console, which feeds billing: the API's own edge to billing
    // skips the console's column.
    for line in [
        r#"dep add atlas --needs frontend --from api --what "Session API" --by +2w"#,
        r#"dep add atlas --needs billing --from frontend --what "Upgrade page" --by +5w"#,
    ] {
        db.ok("tpm", line).await;
    }
    let (snap, _) = analysed_parts(&db, "atlas").await;
    let a = Analysed::of(&snap);
    let (map, _) = depmap::pictured(&a);
    let l = depmap::layout(&map);
    check_map(&map, &l, true);
    // The API's edge to billing passes the web console's column between boxes.
    let api = map.nodes.iter().position(|n| n.id == "api").unwrap();
    let billing = map.nodes.iter().position(|n| n.id == "billing").unwrap();
    let frontend = map.nodes.iter().position(|n| n.id == "frontend").unwrap();
    let (b_api, b_web, b_bill) = (l.boxes[api], l.boxes[frontend], l.boxes[billing]);
    assert!(
        b_api.x1 < b_web.x0 && b_web.x1 < b_bill.x0,
        "{b_api:?} {b_web:?} {b_bill:?}"
    );
    let long = l
        .routes
        .iter()
        .find(|r| map.edges[r.edge].from == api && map.edges[r.edge].to == billing)
        .unwrap();
    let across = long.points.windows(2).find(|w| {
        w[0].1 == w[1].1 && w[0].0.min(w[1].0) <= b_web.x0 && w[0].0.max(w[1].0) >= b_web.x1
    });
    let across = across.unwrap_or_else(|| panic!("{:?}", long.points));
    assert!(
        !(b_web.y0..=b_web.y1).contains(&across[0].1),
        "{across:?} {b_web:?}"
    );
    // The sample's API dependency is blocked: drawn last, labelled so, in red.
    let blocked = l.routes.last().unwrap();
    assert_eq!(blocked.state, DepState::Blocked);
    assert!(blocked.label.contains("#1 blocked"), "{}", blocked.label);
    assert!(blocked.width > l.routes[0].width);

    // The large program: 60 boxes at most, hundreds of edges, still none through a box.
    drumbeat::fixture::generate(
        &db.store,
        &Tenant::local(),
        "big",
        drumbeat::fixture::Size::TENTH,
        crate::helpers::now(),
    )
    .await
    .unwrap();
    let (snap, _) = analysed_parts(&db, "big").await;
    let a = Analysed::of(&snap);
    let (map, total) = depmap::pictured(&a);
    assert!(map.nodes.len() <= depmap::MAX_NODES && total >= map.nodes.len());
    let l = depmap::layout(&map);
    check_map(&map, &l, false);
    assert!(l.height <= 2400, "{}", l.height);
}

#[tokio::test]
async fn the_trend_starts_on_the_day_the_program_was_created() {
    let db = TestDb::new().await;
    // Created Friday 27 November; the first update ten days later; today three Mondays on.
    db.ok("tpm", "program create young --tz UTC").await;
    db.ok("tpm", r#"project add young api --name "API" --owner @dana"#)
        .await;
    db.clock.advance(Duration::days(10));
    db.ok(
        "dana",
        r#"status post young api --rag amber --summary "Load tests slow" --blockers "Test rig""#,
    )
    .await;
    db.clock.advance(Duration::days(14));
    let (snap, history) = analysed_parts(&db, "young").await;
    let a = Analysed::of(&snap);
    let t = trend::weekly(&snap, &a.health, &history, drumbeat::chart::DEFAULT_WEEKS);
    let day = |s: &str| s.parse::<NaiveDate>().unwrap();
    assert_eq!(t.start, day("2026-11-27"));
    assert_eq!(snap.today(), day("2026-12-21"));
    // Four columns, not the eight of a fixed window: none before the program existed.
    let columns: Vec<(NaiveDate, NaiveDate)> = t.columns().collect();
    assert_eq!(
        columns,
        [
            (day("2026-11-27"), day("2026-11-30")),
            (day("2026-12-01"), day("2026-12-07")),
            (day("2026-12-08"), day("2026-12-14")),
            (day("2026-12-15"), day("2026-12-21")),
        ]
    );
    let cells: Vec<_> = t.rows[0].weeks.iter().map(|c| c.reported).collect();
    use drumbeat::domain::Rag;
    assert_eq!(
        cells,
        [None, Some(Rag::Amber), Some(Rag::Amber), Some(Rag::Amber)]
    );
    // The chart of it draws, the same through the command.
    let reply = db.run("tpm", "chart show young trend").await.unwrap();
    assert_drawn(png_of(&reply), 1200, 100);
}

#[tokio::test]
async fn the_timeline_ticks_each_monday_and_marks_forecasts_targets_and_late_arrivals() {
    let db = TestDb::new().await;
    for line in [
        r#"program create plan --name "Plan" --tz UTC"#,
        r#"project add plan payments --name "Payments" --owner @pat"#,
        r#"project add plan mobile --name "Mobile" --owner @ana"#,
        r#"milestone add plan sandbox --title "Sandbox ready" --target 2027-01-15 --project payments"#,
        r#"milestone add plan app --title "App beta" --target 2027-01-29 --project mobile"#,
        r#"milestone add plan launch --title "Launch" --target 2027-01-20 --after sandbox --duration 10 --project payments"#,
        r#"dep add plan --needs app --from sandbox --what "Sandbox credentials" --by 2027-01-12"#,
    ] {
        db.ok("tpm", line).await;
    }
    let (snap, _) = analysed_parts(&db, "plan").await;
    let a = Analysed::of(&snap);
    let plan = timeline::plan(&a);

    // A tick every Monday, a week apart, over the whole axis; dates on some of them.
    assert!(plan.ticks.len() >= 8, "{:?}", plan.ticks);
    for t in &plan.ticks {
        assert_eq!(t.day.weekday(), Weekday::Mon, "{}", t.day);
    }
    for w in plan.ticks.windows(2) {
        assert_eq!(w[1].day - w[0].day, Duration::days(7));
        assert!(w[1].x > w[0].x);
    }
    assert!(plan
        .ticks
        .iter()
        .any(|t| t.label.as_deref() == Some("Jan 4 2027")));

    let row = |key: &str| {
        plan.rows
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| panic!("{key}"))
    };
    // On its own target, but making the app's dependency late: red, with no slip of its own.
    let sandbox = row("sandbox");
    assert_eq!(sandbox.forecast, sandbox.target);
    assert!(sandbox.late && sandbox.slip.is_none() && sandbox.conflicts.is_empty());
    // Ten working days after the sandbox: past its target, so late, the slip drawn.
    let launch = row("launch");
    assert!(launch.late);
    assert!(launch.target < launch.forecast);
    assert_eq!(launch.slip, Some((launch.target, launch.forecast)));
    // The sandbox arrives on the 15th, three days after the app needs it: marked on the
    // app, whose own forecast is still its target.
    let app = row("app");
    assert_eq!(app.forecast, app.target);
    assert!(!app.late && app.slip.is_none());
    assert_eq!(app.conflicts.len(), 1, "{app:?}");
    assert_eq!(app.conflicts[0].label, "#1 +3d");
    assert!(app.conflicts[0].need_by < app.conflicts[0].arrival);
    assert_eq!(app.conflicts[0].arrival, sandbox.forecast);

    let reply = db.run("tpm", "chart show plan timeline").await.unwrap();
    assert_drawn(png_of(&reply), 1400, 100);
}
