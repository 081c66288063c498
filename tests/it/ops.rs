//! Operations: the HTTP server's health, readiness and metrics, the calendar feed and its
//! tenancy, `drumbeat doctor` on a broken setup, and `drumbeat backup` while the store is
//! written.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use drumbeat::clock::{Clock, FakeClock};
use drumbeat::config::Settings;
use drumbeat::domain::{Key, Tenant};
use drumbeat::http::{self, HttpApp};
use drumbeat::outbox::{ConsoleSink, Destination, NewMessage, Senders, Worker};
use drumbeat::platform::discord::GatewayState;
use drumbeat::reply::Reply;
use drumbeat::store::{self, Store};
use drumbeat::telemetry::metrics;

use crate::helpers::{seed_atlas, stderr, stdout, TestDb};

/// Serves the router on 127.0.0.1:0; returns its base URL and the way to stop it.
async fn serve(app: HttpApp) -> (String, tokio::sync::watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(http::serve(listener, http::router(app, None), stopped));
    (base, stop)
}

fn app(store: &Store, clock: Arc<dyn Clock>, gateway: Option<GatewayState>) -> HttpApp {
    HttpApp::new(
        store.clone(),
        clock,
        metrics::recorder().handle(),
        gateway,
        Duration::from_secs(600),
        None,
    )
}

/// The token the reply to `program ical-token` shows.
fn token_in(reply: &str) -> String {
    let at = reply.find("token=").expect("a token in the reply") + "token=".len();
    reply[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

async fn get(url: &str) -> (u16, HashMap<String, String>, String) {
    let r = reqwest::get(url).await.expect("GET");
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    (status, headers, r.text().await.unwrap())
}

#[tokio::test]
async fn the_feed_has_one_event_per_milestone_and_need_by_date() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok(
        "tpm",
        r#"milestone move atlas api-beta --target 2026-12-22 --reason "Load test failed; retry, with \"quotes\" and a reason long enough to be folded over several lines""#,
    )
    .await;
    let reply = db.ok("tpm", "program ical-token atlas").await;
    assert!(reply.contains("/ical/atlas.ics?token="), "{reply}");
    assert!(reply.contains("http.public_url"), "{reply}");
    let token = token_in(&reply);
    assert_eq!(token.len(), 64);
    // Asking again shows the same address.
    assert_eq!(
        token_in(&db.ok("tpm", "program ical-token atlas").await),
        token
    );

    let (base, _stop) = serve(app(&db.store, Arc::new(db.clock.clone()), None)).await;
    let (status, headers, body) = get(&format!("{base}/ical/atlas.ics?token={token}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/calendar; charset=utf-8");

    // Every line ends in CRLF and is at most 75 octets; a folded line goes on with a space.
    assert!(body.ends_with("\r\n"));
    for line in body.split_terminator("\r\n") {
        assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    assert!(body.contains("\r\n "), "a long description is folded");

    // An independent parser reads it back.
    let calendars: Vec<_> = ical::IcalParser::new(BufReader::new(body.as_bytes()))
        .collect::<Result<_, _>>()
        .expect("the feed parses");
    assert_eq!(calendars.len(), 1);
    let events = &calendars[0].events;
    let prop = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
        e.properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
            .unwrap_or_default()
    };
    let uids: Vec<String> = events.iter().map(|e| prop(e, "UID")).collect();
    let milestones: Vec<_> = uids
        .iter()
        .filter(|u| u.starts_with("milestone-"))
        .collect();
    let deps: Vec<_> = uids.iter().filter(|u| u.starts_with("dep-")).collect();
    assert_eq!(milestones.len(), 3, "{uids:?}");
    assert_eq!(deps.len(), 2, "{uids:?}");
    let beta = events
        .iter()
        .find(|e| prop(e, "UID").starts_with("milestone-api-beta-"))
        .expect("api-beta");
    assert_eq!(prop(beta, "DTSTART"), "20261222");
    assert_eq!(prop(beta, "DTEND"), "20261223");
    let description = prop(beta, "DESCRIPTION");
    assert!(
        description.contains(r"Load test failed\; retry\, with"),
        "escaped as TEXT: {description}"
    );
    assert!(
        description.contains("2026-12-15 → 2026-12-22"),
        "{description}"
    );
    let dpa = events
        .iter()
        .find(|e| prop(e, "SUMMARY").contains("Signed DPA"))
        .expect("the external dependency");
    assert_eq!(prop(dpa, "DTSTART"), "20270105");

    // UIDs are stable: the same feed later has the same events.
    let (_, _, again) = get(&format!("{base}/ical/atlas.ics?token={token}")).await;
    let again_uids: Vec<&str> = again
        .lines()
        .filter_map(|l| l.strip_prefix("UID:"))
        .map(str::trim)
        .collect();
    assert_eq!(again_uids, uids);
}

#[tokio::test]
async fn a_feed_answers_only_its_own_token_and_says_nothing_otherwise() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let other = Tenant::parse("discord:42").unwrap();
    db.run_in(&other, "tpm", "program create atlas --tz UTC")
        .await
        .unwrap();
    db.run_in(&other, "tpm", "program create zeus --tz UTC")
        .await
        .unwrap();
    let ours = token_in(&db.ok("tpm", "program ical-token atlas").await);
    let theirs = match db.run_in(&other, "tpm", "program ical-token atlas").await {
        Ok(r) => token_in(&drumbeat::reply::text::render(&r)),
        Err(e) => panic!("{e:?}"),
    };
    let zeus = match db.run_in(&other, "tpm", "program ical-token zeus").await {
        Ok(r) => token_in(&drumbeat::reply::text::render(&r)),
        Err(e) => panic!("{e:?}"),
    };
    assert_ne!(ours, theirs);

    // Viewers may not see it.
    let refused = db.refused("li", "program ical-token atlas").await;
    assert!(refused.contains("editor or the owner"), "{refused}");

    let (base, _stop) = serve(app(&db.store, Arc::new(db.clock.clone()), None)).await;
    let (status, _, body) = get(&format!("{base}/ical/atlas.ics?token={ours}")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Auth ready"), "our atlas");
    let (status, _, body) = get(&format!("{base}/ical/atlas.ics?token={theirs}")).await;
    assert_eq!(status, 200);
    assert!(
        !body.contains("Auth ready"),
        "the token picks the other tenant's atlas"
    );

    let flipped = format!(
        "{}{}",
        &ours[..63],
        if ours.ends_with('0') { '1' } else { '0' }
    );
    for bad in [
        format!("/ical/atlas.ics?token={flipped}"),
        format!("/ical/atlas.ics?token={}", &ours[..32]),
        "/ical/atlas.ics".to_owned(),
        "/ical/atlas.ics?token=".to_owned(),
        format!("/ical/atlas.ics?token={ours}&token={ours}"),
        format!("/ical/zeus.ics?token={ours}"),
        format!("/ical/atlas.ics?token={zeus}"),
        format!("/ical/nothing.ics?token={ours}"),
        format!("/ical/atlas.ical?token={ours}"),
        format!("/ical/ATLAS.ics?token={ours}"),
    ] {
        let (status, _, body) = get(&format!("{base}{bad}")).await;
        assert_eq!((status, body.as_str()), (404, ""), "{bad}");
    }

    // Rotating the token retires the old address.
    let rotated = db.ok("tpm", "program ical-token atlas --rotate").await;
    let new = token_in(&rotated);
    assert_ne!(new, ours);
    assert!(rotated.contains("no longer works"), "{rotated}");
    let (status, _, _) = get(&format!("{base}/ical/atlas.ics?token={ours}")).await;
    assert_eq!(status, 404);
    let (status, _, _) = get(&format!("{base}/ical/atlas.ics?token={new}")).await;
    assert_eq!(status, 200);
    // The event log says it changed, not what it is.
    let events: Vec<String> = db
        .dump()
        .await
        .into_iter()
        .filter(|l| l.starts_with("events:"))
        .collect();
    assert!(events.iter().any(|e| e.contains("program.ical_token")));
    assert!(events
        .iter()
        .all(|e| !e.contains(&new) && !e.contains(&ours)));
}

#[tokio::test]
async fn health_and_readiness() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let gateway = GatewayState::default();
    let (base, stop) = serve(app(
        &db.store,
        Arc::new(db.clock.clone()),
        Some(gateway.clone()),
    ))
    .await;
    let json = |body: &str| serde_json::from_str::<serde_json::Value>(body).unwrap();

    // Discord is configured and its gateway is not connected: reported, and still ready,
    // since another process would not serve better.
    let (status, _, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 200, "{body}");
    let health = json(&body);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], "ok");
    assert_eq!(health["discord"], "not connected");
    assert_eq!(health["outbox"]["stuck"], false);
    assert_eq!(health["outbox"]["pending"], 0);
    let (status, _, body) = get(&format!("{base}/readyz")).await;
    assert_eq!(status, 200, "{body}");
    let ready = json(&body);
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["checks"]["database"], "ok");
    assert!(ready["checks"].get("discord").is_none(), "{body}");

    // Without Discord, no gateway in the report.
    let (base, _stop2) = serve(app(&db.store, Arc::new(db.clock.clone()), None)).await;
    let (_, _, body) = get(&format!("{base}/healthz")).await;
    assert!(json(&body).get("discord").is_none(), "{body}");

    // A message due for longer than the limit means nobody delivers: /healthz says so,
    // /readyz stays ready.
    {
        let mut tx = db.store.write().await.unwrap();
        let (scope, _) =
            store::find_program(&mut tx, &Tenant::local(), &Key::parse("atlas").unwrap())
                .await
                .unwrap()
                .unwrap();
        store::enqueue(
            &mut tx,
            &NewMessage {
                tenant: Tenant::local(),
                program_id: Some(scope.program_id()),
                destination: Destination::Console {
                    channel: "console".into(),
                },
                reply: Reply::new("stuck"),
                reason: "a test".into(),
                dedup_key: None,
                not_before: db.clock.now() - chrono::Duration::minutes(11),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let (status, _, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 200, "{body}");
    let health = json(&body);
    assert_eq!(health["outbox"]["stuck"], true, "{body}");
    assert_eq!(health["outbox"]["oldest_due_seconds"], 660, "{body}");
    assert_eq!(health["outbox"]["pending"], 1, "{body}");
    let (status, _, body) = get(&format!("{base}/readyz")).await;
    assert_eq!(status, 200, "{body}");

    // A database that does not answer: not ready; alive, saying why.
    db.store.close().await;
    let (status, _, body) = get(&format!("{base}/readyz")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(json(&body)["checks"]["database"], "not answering");
    let (status, _, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["database"], "not answering");
    let _ = stop.send(true);
}

/// A metric's name, labels and value.
type Sample = (String, Vec<(String, String)>, f64);

/// One sample line of the text exposition format: `name{l="v",…} value`.
fn sample_line(line: &str) -> Option<Sample> {
    let (series, value) = line.rsplit_once(' ')?;
    let value: f64 = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    let (name, labels) = match series.split_once('{') {
        None => (series, Vec::new()),
        Some((name, rest)) => {
            let body = rest.strip_suffix('}')?;
            let mut labels = Vec::new();
            let mut rest = body;
            while !rest.is_empty() {
                let (key, after) = rest.split_once("=\"")?;
                let end = after.find('"')?;
                labels.push((key.to_owned(), after[..end].to_owned()));
                rest = after[end + 1..].trim_start_matches(',');
            }
            (name, labels)
        }
    };
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !n.starts_with(|c: char| c.is_ascii_digit())
    };
    (valid_name(name) && labels.iter().all(|(k, _)| valid_name(k)))
        .then(|| (name.to_owned(), labels, value))
}

/// Checks every line strictly, then returns the samples: (name, labels, value).
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut typed = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(help) = line.strip_prefix("# HELP ") {
            assert!(help.split_once(' ').is_some(), "{line}");
        } else if let Some(t) = line.strip_prefix("# TYPE ") {
            let (name, kind) = t.split_once(' ').expect(line);
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                typed.insert(name.to_owned(), kind.to_owned()).is_none(),
                "{line}"
            );
        } else {
            let sample = sample_line(line).unwrap_or_else(|| panic!("not a sample: {line}"));
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| sample.0.strip_suffix(s).filter(|f| typed.contains_key(*f)))
                .unwrap_or(&sample.0);
            assert!(typed.contains_key(family), "no # TYPE before {line}");
            samples.push(sample);
        }
    }
    // And an independent parser agrees on the number of series.
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .expect("prometheus-parse reads it");
    assert!(!scrape.samples.is_empty());
    samples
}

fn total(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| v)
        .sum()
}

/// The demo's two weeks under a recorder of their own: the counters at `/metrics` match what
/// the store says happened. A local recorder on one thread keeps other tests' commands out.
#[test]
fn metrics_count_what_the_demo_did() {
    let recorder = metrics::recorder();
    let handle = recorder.handle();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    ::metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            metrics::describe();
            let db = TestDb::new().await;
            let settings = Settings::load(Some(
                &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
            ))
            .unwrap();
            let start = drumbeat::demo::next_monday(crate::helpers::now());
            let clock = Arc::new(FakeClock::at(start));
            let reports = tempfile::tempdir().unwrap();
            let mut out = std::io::sink();
            drumbeat::demo::run(&db.store, clock.as_ref(), "console", &mut out)
                .await
                .unwrap();
            drumbeat::demo::two_weeks(
                &db.store,
                &settings,
                clock.clone(),
                "console",
                reports.path(),
                &mut out,
            )
            .await
            .unwrap();
            // And one message that cannot be delivered: a webhook off the allowlist.
            {
                let mut tx = db.store.write().await.unwrap();
                let (scope, _) =
                    store::find_program(&mut tx, &Tenant::local(), &Key::parse("atlas").unwrap())
                        .await
                        .unwrap()
                        .unwrap();
                store::enqueue(
                    &mut tx,
                    &NewMessage {
                        tenant: Tenant::local(),
                        program_id: Some(scope.program_id()),
                        destination: Destination::SlackWebhook {
                            url: drumbeat::domain::WebhookUrl::stored(
                                "https://hooks.example.invalid/services/T1/B1/x",
                            ),
                        },
                        reply: Reply::new("nowhere"),
                        reason: "a test".into(),
                        dedup_key: None,
                        not_before: clock.now(),
                    },
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
            let (sink, _) = ConsoleSink::memory();
            let worker = Worker::new(
                db.store.clone(),
                Senders::console(sink).with(
                    drumbeat::platform::slack::WebhookSender::KINDS,
                    drumbeat::platform::slack::WebhookSender::new(&settings.delivery).unwrap(),
                ),
                clock.clone(),
                &settings.delivery,
            );
            let drained = worker.drain().await.unwrap();
            assert_eq!(drained.dead, 1);

            let app = HttpApp::new(
                db.store.clone(),
                clock.clone(),
                handle.clone(),
                None,
                Duration::from_secs(600),
                None,
            );
            let (base, _stop) = serve(app).await;
            let (status, headers, text) = get(&format!("{base}/metrics")).await;
            assert_eq!(status, 200);
            assert!(headers["content-type"].starts_with("text/plain; version=0.0.4"));
            let samples = parse_exposition(&text);

            let lines = drumbeat::demo::SETUP.len()
                + drumbeat::demo::TOUR.len()
                + 1
                + drumbeat::demo::RHYTHM.len()
                + drumbeat::demo::WEEKS.len()
                + drumbeat::demo::REPORTS.len();
            assert_eq!(
                total(&samples, "drumbeat_commands_total", &[]),
                lines as f64,
                "{text}"
            );
            assert_eq!(
                total(&samples, "drumbeat_commands_total", &[("outcome", "ok")]),
                lines as f64
            );
            assert_eq!(
                total(
                    &samples,
                    "drumbeat_commands_total",
                    &[("command", "status post"), ("outcome", "ok")]
                ),
                6.0
            );
            assert_eq!(
                total(&samples, "drumbeat_command_duration_seconds_count", &[]),
                lines as f64
            );

            let count = |sql: &'static str| {
                let store = db.store.clone();
                async move {
                    drumbeat::store::db::query_scalar::<i64>(sql)
                        .fetch_one(&mut store.conn().await.unwrap())
                        .await
                        .unwrap() as f64
                }
            };
            let sent = count("SELECT count(*) FROM outbox WHERE state = 'sent'").await;
            let dead = count("SELECT count(*) FROM outbox WHERE state = 'dead'").await;
            let ran = count("SELECT count(*) FROM job_runs WHERE state = 'done'").await;
            let skipped = count("SELECT count(*) FROM job_runs WHERE state = 'skipped'").await;
            assert!(sent > 20.0, "the demo delivers: {sent}");
            assert_eq!(
                total(
                    &samples,
                    "drumbeat_deliveries_total",
                    &[("outcome", "sent")]
                ),
                sent
            );
            assert_eq!(
                total(
                    &samples,
                    "drumbeat_deliveries_total",
                    &[("platform", "console"), ("outcome", "sent")]
                ),
                sent
            );
            assert_eq!(dead, 1.0);
            assert_eq!(
                total(
                    &samples,
                    "drumbeat_deliveries_total",
                    &[("platform", "slack"), ("outcome", "dead")]
                ),
                dead
            );
            assert!(ran > 10.0, "{ran}");
            assert_eq!(
                total(&samples, "drumbeat_jobs_total", &[("outcome", "ran")]),
                ran
            );
            assert_eq!(
                total(&samples, "drumbeat_jobs_total", &[("outcome", "skipped")]),
                skipped
            );
            assert_eq!(
                total(&samples, "drumbeat_jobs_total", &[("outcome", "failed")]),
                0.0
            );
            assert_eq!(total(&samples, "drumbeat_outbox_dead", &[]), dead);
            assert_eq!(total(&samples, "drumbeat_outbox_pending", &[]), 0.0);
            assert!(text.contains("# HELP drumbeat_commands_total"), "{text}");
        })
    });
}

/// `drumbeat run` always serves HTTP; on 127.0.0.1:0 it says where on stderr.
#[tokio::test]
async fn the_binary_serves_health_on_the_address_it_prints() {
    let db = TestDb::new().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_drumbeat"))
        .arg("--db")
        .arg(&db.path)
        .arg("run")
        .env_remove("RUST_LOG")
        .env(
            "DRUMBEAT_CONFIG",
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .env_remove("DISCORD_TOKEN")
        .env_remove("SLACK_SIGNING_SECRET")
        .env("DRUMBEAT_HTTP__ADDR", "127.0.0.1:0")
        .env("DRUMBEAT_LOG__FILTER", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start drumbeat run");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let base = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(err.read_line(&mut line).unwrap() > 0, "no address printed");
            if let Some(rest) = line.strip_prefix("HTTP on ") {
                let base = rest.split(':').take(3).collect::<Vec<_>>().join(":");
                // Keep reading so the child never blocks on a full pipe.
                std::thread::spawn(move || {
                    let mut sink = Vec::new();
                    let _ = err.read_to_end(&mut sink);
                });
                return base;
            }
        }
    })
    .await
    .unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let (status, _, body) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    let (status, _, body) = get(&format!("{base}/readyz")).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    parse_exposition(&body);
    let (status, _, _) = get(&format!("{base}/slack/commands")).await;
    assert_eq!(status, 404, "no Slack without a signing secret");

    let term = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(term.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}

fn doctor(config: &std::path::Path, envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drumbeat"));
    cmd.args(["--config"])
        .arg(config)
        .arg("doctor")
        .env_remove("RUST_LOG")
        .env_remove("DISCORD_TOKEN")
        .env_remove("SLACK_SIGNING_SECRET")
        .env_remove("SLACK_BOT_TOKEN");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run drumbeat doctor")
}

#[tokio::test]
async fn doctor_lists_each_problem_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    // An unreadable database, a bad public URL, a log filter that does not parse, a token
    // of the wrong shape.
    let garbage = dir.path().join("not-a-db.db");
    std::fs::write(
        &garbage,
        b"this is not a database, just some bytes ".repeat(200),
    )
    .unwrap();
    let config = dir.path().join("broken.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\npath = {:?}\n[http]\npublic_url = \"not a url\"\n[log]\nfilter = \"drumbeat=loud\"\n",
            garbage.display().to_string()
        ),
    )
    .unwrap();
    let out = doctor(&config, &[("DISCORD_TOKEN", "Bot secret-token-value")]);
    let table = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{table}\n{}", stderr(&out));
    for expected in [
        "database",
        "cannot be read",
        "http.public_url",
        "log.filter",
        "discord token",
        "FAIL",
    ] {
        assert!(table.contains(expected), "{expected} in\n{table}");
    }
    assert!(
        !table.contains("secret-token-value"),
        "secrets are never printed:\n{table}"
    );

    // A readable database with a stored unknown timezone and an http webhook route.
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    {
        let mut tx = db.store.write().await.unwrap();
        drumbeat::store::db::query(
            "UPDATE people SET timezone = 'Mars/Olympus_Mons' WHERE handle = 'li'",
        )
        .execute(&mut tx)
        .await
        .unwrap();
        let hook = serde_json::json!({"kind": "slack_webhook", "url": "http://hooks.slack.com/services/T1/B1/secretpart"});
        drumbeat::store::db::query(
            "INSERT INTO routes (program_id, project_id, destination, set_at) SELECT id, NULL, $1, $2 FROM programs",
        )
        .bind(drumbeat::store::Json(hook.to_string()))
        .bind(crate::helpers::now())
        .execute(&mut tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let config = dir.path().join("ok.toml");
    std::fs::write(&config, db.database_toml()).unwrap();
    let out = doctor(&config, &[]);
    let table = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{table}");
    assert!(table.contains("Mars/Olympus_Mons"), "{table}");
    assert!(table.contains("person li"), "{table}");
    assert!(table.contains("route of atlas"), "{table}");
    assert!(table.contains("https"), "{table}");
    assert!(
        !table.contains("secretpart"),
        "webhook paths are masked:\n{table}"
    );
    assert!(
        table.contains("migrations") && table.contains("current"),
        "{table}"
    );
    assert!(
        table.contains("integrity_check: ok") || table.contains("PostgreSQL checks its own pages"),
        "{table}"
    );

    // Once fixed, it passes.
    {
        let mut tx = db.store.write().await.unwrap();
        drumbeat::store::db::query("UPDATE people SET timezone = 'Asia/Tokyo' WHERE handle = 'li'")
            .execute(&mut tx)
            .await
            .unwrap();
        drumbeat::store::db::query("DELETE FROM routes")
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let out = doctor(&config, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("slack delivery"), "{}", stdout(&out));

    // A Slack workspace's program with neither a route nor a bot token: a warning that
    // names it and what to do; with the token, none.
    db.run_with(
        &Tenant::slack("T0TEAM"),
        drumbeat::domain::Platform::Slack,
        "tpm",
        "program create beacon --tz UTC",
    )
    .await
    .unwrap();
    let out = doctor(&config, &[]);
    let table = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a warning is not a failure: {table}"
    );
    assert!(
        table.contains("slack delivery") && table.contains("beacon (slack:T0TEAM)"),
        "{table}"
    );
    assert!(table.contains("SLACK_BOT_TOKEN"), "{table}");
    let out = doctor(&config, &[("SLACK_BOT_TOKEN", "xoxb-1-2-secret")]);
    let table = stdout(&out);
    assert!(!table.contains("slack delivery"), "{table}");
    assert!(!table.contains("1-2-secret"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_the_store_is_written() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    if db.url.is_some() {
        // PostgreSQL is backed up with its own tools; the store says so and writes nothing.
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("backup.db");
        let err = db.store.backup_into(&out, false).await.unwrap_err();
        assert!(format!("{err:#}").contains("pg_dump"), "{err:#}");
        assert!(!out.exists());
        return;
    }
    // Writers keep going while the backup runs.
    let writing = {
        let store = db.store.clone();
        let clock = db.clock.clone();
        tokio::spawn(async move {
            let ctx = drumbeat::command::Ctx {
                tenant: Tenant::local(),
                platform: drumbeat::domain::Platform::Console,
                actor: drumbeat::command::Actor {
                    handle: "tpm".into(),
                    display_name: "tpm".into(),
                    is_admin: true,
                },
                channel: None,
                now: clock.now(),
                webhooks: Default::default(),
                public_url: None,
                channels: std::sync::Arc::new(drumbeat::command::NoPlatform),
            };
            for i in 0..200 {
                drumbeat::command::execute(
                    &store,
                    &ctx,
                    &format!(r#"risk add atlas "Risk {i}" --likelihood 2 --impact 2"#),
                )
                .await
                .unwrap();
            }
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("backup.db");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let bytes = db.store.backup_into(&out, false).await.unwrap();
    writing.await.unwrap();
    assert!(bytes > 0 && bytes == std::fs::metadata(&out).unwrap().len());
    assert!(!dir.path().join("backup.db.partial").exists());

    let copy = Store::open(&store::Options::new(&out)).await.unwrap();
    let mut conn = copy.conn().await.unwrap();
    assert_eq!(store::integrity_check(&mut conn).await.unwrap(), ["ok"]);
    let risks: i64 = drumbeat::store::db::query_scalar("SELECT count(*) FROM risks")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    // The seed's risk, and however many of the writer's had committed: a consistent cut.
    assert!((1..=201).contains(&risks), "{risks}");
    let found = store::find_program(&mut conn, &Tenant::local(), &Key::parse("atlas").unwrap())
        .await
        .unwrap();
    assert!(found.is_some());
    drop(conn);
    copy.close().await;

    // The binary refuses to overwrite without --force, and says the size it wrote.
    let target = dir.path().join("cli.db");
    let made = db.bin(&["backup", "--out", target.to_str().unwrap()]);
    assert!(made.status.success(), "{}", stderr(&made));
    assert!(stdout(&made).contains("bytes"), "{}", stdout(&made));
    let again = db.bin(&["backup", "--out", target.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    let forced = db.bin(&["backup", "--out", target.to_str().unwrap(), "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));

    // The live database and its journals are never a target, even with --force; nor is a
    // folder, or a place that cannot be written.
    let before = std::fs::read(&db.path).unwrap();
    let wal = format!("{}-wal", db.path.display());
    let shm = format!("{}-shm", db.path.display());
    let live = db.path.to_str().unwrap();
    for out in [live, wal.as_str(), shm.as_str()] {
        for force in [false, true] {
            let mut args = vec!["backup", "--out", out];
            if force {
                args.push("--force");
            }
            let refused = db.bin(&args);
            assert_eq!(
                refused.status.code(),
                Some(2),
                "{out}: {}",
                stderr(&refused)
            );
            assert!(
                stderr(&refused).contains("the database itself"),
                "{}",
                stderr(&refused)
            );
        }
    }
    assert_eq!(
        std::fs::read(&db.path).unwrap(),
        before,
        "the database was touched"
    );
    let folder = db.bin(&["backup", "--out", dir.path().to_str().unwrap()]);
    assert_eq!(folder.status.code(), Some(2), "{}", stderr(&folder));
    let missing = dir.path().join("no/such/folder/b.db");
    let unwritable = [
        (missing.to_str().unwrap(), "cannot write"),
        ("/proc/drumbeat-backup.db", "cannot write"),
    ];
    for (out, said) in unwritable {
        let refused = db.bin(&["backup", "--out", out]);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{out}: {}",
            stderr(&refused)
        );
        assert!(stderr(&refused).contains(said), "{}", stderr(&refused));
        assert!(stderr(&refused).contains(out), "{}", stderr(&refused));
    }
}

#[tokio::test]
async fn inspection_names_the_slack_programs_without_a_route_and_no_others() {
    let db = TestDb::new().await;
    let slack = Tenant::slack("T0TEAM");
    for (tenant, platform, key) in [
        (&slack, drumbeat::domain::Platform::Slack, "beacon"),
        (&slack, drumbeat::domain::Platform::Slack, "anchor"),
        (&slack, drumbeat::domain::Platform::Slack, "routed"),
        (
            &Tenant::discord(42),
            drumbeat::domain::Platform::Discord,
            "harbor",
        ),
        (
            &Tenant::local(),
            drumbeat::domain::Platform::Console,
            "atlas",
        ),
    ] {
        db.run_with(
            tenant,
            platform,
            "tpm",
            &format!("program create {key} --tz UTC"),
        )
        .await
        .unwrap();
    }
    db.run_with(
        &slack,
        drumbeat::domain::Platform::Slack,
        "tpm",
        "program route routed --slack-webhook https://hooks.slack.com/services/T1/B1/x",
    )
    .await
    .unwrap();

    let found = store::inspect(&db.location(), Duration::from_secs(5))
        .await
        .unwrap();

    assert_eq!(
        found.slack_unrouted,
        ["anchor (slack:T0TEAM)", "beacon (slack:T0TEAM)"]
    );
}
