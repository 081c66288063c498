//! The outbox: messages are queued with the change that causes them, delivered once per row
//! through retries, pacing and a crash, and dead-lettered with one notice to the owner.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use drumbeat::clock::{Clock, SystemClock};
use drumbeat::config::DeliverySettings;
use drumbeat::domain::{Key, Tenant, WebhookUrl};
use drumbeat::outbox::senders::with_reason;
use drumbeat::outbox::{
    ConsoleSink, Destination, NewMessage, OutboxRow, OutboxState, SendOutcome, Sender, Senders,
    Worker,
};
use drumbeat::platform::slack::WebhookSender;
use drumbeat::reply::{slack, Reply};
use drumbeat::store::{self, Scope};
use rand::{Rng, SeedableRng};

use crate::fake_webhook::{Answer, FakeWebhook};
use crate::helpers::TestDb;

fn settings() -> DeliverySettings {
    DeliverySettings {
        poll_interval_ms: 20,
        batch: 32,
        retry_base_ms: 50,
        retry_max_ms: 1000,
        max_attempts: 10,
        connect_timeout_ms: 1000,
        request_timeout_ms: 400,
        allow_loopback_http: true,
        stale_claim_secs: 60,
        webhook_min_interval_ms: 0,
        ..DeliverySettings::default()
    }
}

async fn program(db: &TestDb, tenant: &Tenant, key: &str) -> Scope {
    db.run_in(tenant, "tpm", &format!("program create {key} --tz UTC"))
        .await
        .expect("program create");
    let mut tx = db.store.read().await.unwrap();
    let (scope, _) = store::find_program(&mut tx, tenant, &Key::parse(key).unwrap())
        .await
        .unwrap()
        .expect("program exists");
    tx.commit().await.unwrap();
    scope
}

fn message(
    scope: &Scope,
    destination: Destination,
    title: &str,
    dedup: Option<&str>,
) -> NewMessage {
    NewMessage {
        tenant: scope.tenant().clone(),
        program_id: Some(scope.program_id()),
        destination,
        reply: Reply::new(title).paragraph("Beat."),
        reason: format!("A test sent `{title}`."),
        dedup_key: dedup.map(str::to_owned),
        not_before: Utc::now(),
    }
}

async fn enqueue(db: &TestDb, m: &NewMessage) -> Option<i64> {
    let mut tx = db.store.write().await.unwrap();
    let id = store::enqueue(&mut tx, m).await.unwrap();
    tx.commit().await.unwrap();
    id
}

async fn rows(db: &TestDb, tenant: &Tenant) -> Vec<OutboxRow> {
    let mut tx = db.store.read().await.unwrap();
    let rows = store::tenant_outbox(&mut tx, tenant).await.unwrap();
    tx.commit().await.unwrap();
    rows
}

fn worker(
    db: &TestDb,
    settings: &DeliverySettings,
    clock: Arc<dyn Clock>,
) -> (Worker, Arc<Mutex<Vec<String>>>) {
    let (sink, console) = ConsoleSink::memory();
    let senders = Senders::console(sink).with(
        WebhookSender::KINDS,
        WebhookSender::new(settings).expect("webhook sender"),
    );
    (
        Worker::new(db.store.clone(), senders, clock, settings),
        console,
    )
}

/// Runs the worker on the real clock until nothing is pending; fails after `limit`.
async fn run_until_idle(db: &TestDb, worker: &Worker, limit: Duration) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let w = worker.clone();
    let running = tokio::spawn(async move { w.run(stopped).await });
    let deadline = Instant::now() + limit;
    loop {
        let depth = {
            let mut tx = db.store.read().await.unwrap();
            let d = store::outbox_depth(&mut tx).await.unwrap();
            tx.commit().await.unwrap();
            d
        };
        if depth.pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} messages still pending after {limit:?}",
            depth.pending
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_message_is_queued_only_with_the_change_that_caused_it_and_only_once() {
    let db = TestDb::new().await;
    let atlas = program(&db, &Tenant::local(), "atlas").await;
    let console = Destination::Console {
        channel: "console".into(),
    };

    // Rolled back: nothing was queued.
    let mut tx = db.store.write().await.unwrap();
    let id = store::enqueue(
        &mut tx,
        &message(&atlas, console.clone(), "undone", Some("k1")),
    )
    .await
    .unwrap();
    assert!(id.is_some());
    tx.rollback().await.unwrap();
    assert!(rows(&db, &Tenant::local()).await.is_empty());

    // Committed: queued once; the same dedup key again is not queued again.
    let first = enqueue(&db, &message(&atlas, console.clone(), "done", Some("k1"))).await;
    assert!(first.is_some());
    let again = enqueue(
        &db,
        &message(&atlas, console.clone(), "done twice", Some("k1")),
    )
    .await;
    assert_eq!(again, None);
    // Without a dedup key every message is its own.
    enqueue(&db, &message(&atlas, console.clone(), "free 1", None))
        .await
        .unwrap();
    enqueue(&db, &message(&atlas, console.clone(), "free 2", None))
        .await
        .unwrap();

    let queued = rows(&db, &Tenant::local()).await;
    assert_eq!(queued.len(), 3);
    assert_eq!(queued[0].reply.title, "done");
    assert!(queued.iter().all(|r| r.state == OutboxState::Pending));
    let mut nonces: Vec<&str> = queued.iter().map(|r| r.nonce.as_str()).collect();
    assert!(nonces.iter().all(|n| (1..=25).contains(&n.len())));
    nonces.dedup();
    assert_eq!(nonces.len(), 3);

    // Delivered once by a drain; a second drain has nothing to do.
    let (w, lines) = worker(&db, &settings(), Arc::new(SystemClock));
    let report = w.drain().await.unwrap();
    assert_eq!(
        (report.sent, report.retried, report.dead, report.waiting),
        (3, 0, 0, 0)
    );
    assert_eq!(w.drain().await.unwrap().sent, 0);
    let lines = lines.lock().unwrap().clone();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].starts_with("── to console #console · A test sent `done`.\ndone\n"),
        "{}",
        lines[0]
    );
    assert!(rows(&db, &Tenant::local())
        .await
        .iter()
        .all(|r| r.state == OutboxState::Sent && r.sent_at.is_some()));
}

#[tokio::test]
async fn another_tenants_messages_can_be_neither_read_nor_retried() {
    let db = TestDb::new().await;
    let atlas = program(&db, &Tenant::local(), "atlas").await;
    let other = program(&db, &Tenant::slack("T0THER"), "atlas").await;
    let discord = Destination::DiscordChannel {
        channel_id: "1".into(),
    };
    let id = enqueue(&db, &message(&atlas, discord.clone(), "ours", None))
        .await
        .unwrap();
    // No Discord sender: dead at once, which `outbox_retry` can revive.
    let (w, _) = worker(&db, &settings(), Arc::new(SystemClock));
    assert_eq!(w.drain().await.unwrap().dead, 1);

    // A message may not claim another tenant's program.
    let mut stolen = message(&atlas, discord, "theirs", None);
    stolen.tenant = other.tenant().clone();
    let mut tx = db.store.write().await.unwrap();
    assert!(store::enqueue(&mut tx, &stolen).await.is_err());
    tx.rollback().await.unwrap();

    let mut tx = db.store.write().await.unwrap();
    assert!(store::outbox_list::<Reply>(&mut tx, &other, false, 50)
        .await
        .unwrap()
        .is_empty());
    assert!(!store::outbox_retry(&mut tx, &other, id, Utc::now())
        .await
        .unwrap());
    let ours = store::outbox_list::<Reply>(&mut tx, &atlas, true, 50)
        .await
        .unwrap();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0].id, id);
    assert_eq!(
        ours[0].last_error.as_deref(),
        Some("Discord is not configured")
    );
    assert!(store::outbox_retry(&mut tx, &atlas, id, Utc::now())
        .await
        .unwrap());
    tx.commit().await.unwrap();
    let row = rows(&db, &Tenant::local())
        .await
        .into_iter()
        .find(|r| r.id == id)
        .unwrap();
    assert_eq!((row.state, row.attempts), (OutboxState::Pending, 0));
}

#[tokio::test]
async fn refused_destinations_are_dead_lettered_and_the_owner_told_once() {
    let db = TestDb::new().await;
    let atlas = program(&db, &Tenant::local(), "atlas").await;
    // Not on the allowlist: refused without a request.
    let evil = Destination::SlackWebhook {
        url: WebhookUrl::stored("https://evil.example/services/T1/B2/secret"),
    };
    let id = enqueue(&db, &message(&atlas, evil, "leak", None))
        .await
        .unwrap();
    let (w, console) = worker(&db, &settings(), Arc::new(SystemClock));
    let report = w.drain().await.unwrap();
    assert_eq!((report.sent, report.dead), (1, 1), "{report:?}");

    let all = rows(&db, &Tenant::local()).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].state, OutboxState::Dead);
    let error = all[0].last_error.clone().unwrap();
    assert!(
        error.contains("hooks.slack.com") && !error.contains("secret"),
        "{error}"
    );
    let notice = &all[1];
    assert_eq!(
        notice.dedup_key.as_deref(),
        Some(format!("dead:{id}").as_str())
    );
    assert_eq!(notice.state, OutboxState::Sent);
    assert_eq!(
        notice.destination,
        Destination::Console {
            channel: "@tpm".into()
        }
    );
    let console = console.lock().unwrap().clone();
    assert_eq!(console.len(), 1);
    assert!(
        console[0].contains("a message could not be delivered"),
        "{}",
        console[0]
    );
    assert!(
        console[0].contains("leak") && !console[0].contains("secret"),
        "{}",
        console[0]
    );

    // On Discord, with no Discord sender, the notice dies too, and nobody is told about it.
    let guild = Tenant::discord(77);
    let apollo = program(&db, &guild, "apollo").await;
    let to_channel = Destination::DiscordChannel {
        channel_id: "5".into(),
    };
    enqueue(&db, &message(&apollo, to_channel, "ping", None))
        .await
        .unwrap();
    // Bounded: a notice about a notice would go on forever.
    let report = tokio::time::timeout(Duration::from_secs(10), w.drain())
        .await
        .expect("the notices stop")
        .unwrap();
    assert_eq!(
        (report.sent, report.dead, report.waiting),
        (0, 2, 0),
        "{report:?}"
    );
    let theirs = rows(&db, &guild).await;
    assert_eq!(theirs.len(), 2);
    assert!(theirs.iter().all(|r| r.state == OutboxState::Dead));
    assert!(matches!(
        theirs[1].destination,
        Destination::DiscordUser { .. }
    ));
}

/// One logical message of the fault test: its hook's script.
fn fault_script(rng: &mut impl Rng, i: usize, stalls: &mut usize) -> Vec<Answer> {
    if i % 50 == 7 {
        // Refused for good, sometimes after a passing failure.
        return if i % 100 == 7 {
            vec![Answer::ServerError, Answer::Refuse(400, "invalid_blocks")]
        } else {
            vec![Answer::Refuse(400, "invalid_blocks")]
        };
    }
    let mut script = Vec::new();
    while script.len() < 4 {
        let roll: f64 = rng.random();
        if roll < 0.30 {
            script.push(Answer::ServerError);
        } else if roll < 0.40 {
            script.push(Answer::TooMany(1));
        } else if roll < 0.42 && *stalls < 6 {
            *stalls += 1;
            script.push(Answer::Stall(Duration::from_millis(1500)));
        } else {
            break;
        }
    }
    script
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_gets_through_faults_once_and_refusals_are_dead_lettered() {
    let db = TestDb::new().await;
    let atlas = program(&db, &Tenant::local(), "atlas").await;
    let fake = FakeWebhook::start().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261127);
    let mut stalls = 0;
    let mut scripts = HashMap::new();
    for i in 0..220 {
        let hook = format!("m{i}");
        let script = fault_script(&mut rng, i, &mut stalls);
        let url = fake.hook(&hook, script.clone());
        scripts.insert(hook.clone(), script);
        let dedup = format!("fault:{i}");
        let m = message(
            &atlas,
            Destination::SlackWebhook {
                url: WebhookUrl::stored(url),
            },
            &hook,
            Some(&dedup),
        );
        assert!(enqueue(&db, &m).await.is_some());
        // A job that ran twice queues nothing more.
        if i % 10 == 0 {
            assert_eq!(enqueue(&db, &m).await, None);
        }
    }
    let faults = |f: fn(&Answer) -> bool| scripts.values().flatten().filter(|a| f(a)).count();
    assert!(faults(|a| *a == Answer::ServerError) >= 60, "too few 500s");
    assert!(
        faults(|a| matches!(a, Answer::TooMany(_))) >= 15,
        "too few 429s"
    );
    assert!(stalls >= 2, "too few timeouts");

    let (w, console) = worker(&db, &settings(), Arc::new(SystemClock));
    run_until_idle(&db, &w, Duration::from_secs(60)).await;

    fake.assert_nothing_unexpected();
    let all = rows(&db, &Tenant::local()).await;
    let by_title: HashMap<&str, &OutboxRow> =
        all.iter().map(|r| (r.reply.title.as_str(), r)).collect();
    let mut dead = Vec::new();
    for (hook, script) in &scripts {
        let hits = fake.hits_of(hook);
        assert!(!hits.is_empty(), "{hook} never arrived");
        let row = by_title[hook.as_str()];
        if script.contains(&Answer::Refuse(400, "invalid_blocks")) {
            assert_eq!(row.state, OutboxState::Dead, "{hook}");
            assert!(row
                .last_error
                .as_deref()
                .unwrap()
                .contains("invalid_blocks"));
            assert_eq!(
                hits.len(),
                script.len(),
                "{hook} was retried after a refusal"
            );
            dead.push(row.id);
        } else {
            assert_eq!(row.state, OutboxState::Sent, "{hook}: {:?}", row.last_error);
            // Accepted exactly once: after an `ok` the row is never sent again.
            let accepted = hits.iter().filter(|h| h.answer == Answer::Ok).count();
            assert_eq!(accepted, 1, "{hook}: {hits:?}");
            assert_eq!(hits.last().unwrap().answer, Answer::Ok);
        }
        // Nothing came back sooner than a 429 asked.
        for pair in hits.windows(2) {
            if let Answer::TooMany(secs) = pair[0].answer {
                let waited = pair[1].at - pair[0].at;
                assert!(
                    waited >= Duration::from_secs(secs),
                    "{hook}: retried {waited:?} after a 429 with Retry-After: {secs}"
                );
            }
        }
    }
    assert!(dead.len() >= 4);

    // One notice per dead message, delivered to the owner, and no notice about a notice.
    let notices: Vec<&OutboxRow> = all
        .iter()
        .filter(|r| {
            r.dedup_key
                .as_deref()
                .is_some_and(|k| k.starts_with("dead:"))
        })
        .collect();
    assert_eq!(notices.len(), dead.len());
    for id in &dead {
        let key = format!("dead:{id}");
        let n = notices
            .iter()
            .filter(|r| r.dedup_key.as_deref() == Some(key.as_str()))
            .count();
        assert_eq!(n, 1, "{key}");
    }
    assert!(notices.iter().all(|n| n.state == OutboxState::Sent));
    assert_eq!(all.len(), 220 + dead.len());
    let console = console.lock().unwrap().clone();
    assert_eq!(console.len(), dead.len());
    assert!(console
        .iter()
        .all(|c| c.starts_with("── to console @tpm · ")));
}

#[tokio::test]
async fn a_message_that_stops_every_process_sending_it_is_dead_lettered_not_retried_forever() {
    let db = TestDb::new().await;
    let atlas = program(&db, &Tenant::local(), "atlas").await;
    let fake = FakeWebhook::start().await;
    let url = fake.hook("poison", vec![]);
    enqueue(
        &db,
        &message(
            &atlas,
            Destination::SlackWebhook {
                url: WebhookUrl::stored(url),
            },
            "poison",
            None,
        ),
    )
    .await;
    let settings = DeliverySettings {
        max_attempts: 3,
        ..settings()
    };
    let clock = db.clock.clone();
    clock.set(Utc::now());
    let (w, console) = worker(&db, &settings, Arc::new(clock.clone()));
    // Each time, a process claims it and dies before recording anything.
    for attempt in 1..=3 {
        let mut tx = db.store.write().await.unwrap();
        let claimed = store::claim_due::<Reply>(&mut tx, clock.now(), 8)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt}");
        assert_eq!(claimed[0].attempts, attempt);
        clock.advance(chrono::Duration::seconds(61));
        let requeued = w.recover().await.unwrap();
        assert_eq!(requeued, u64::from(attempt < 3), "attempt {attempt}");
    }
    let all = rows(&db, &Tenant::local()).await;
    let poison = all.iter().find(|r| r.reply.title == "poison").unwrap();
    assert_eq!(poison.state, OutboxState::Dead);
    assert!(
        poison
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("gave up after 3 attempts")),
        "{:?}",
        poison.last_error
    );
    // Nothing claims it again, and its owner is told once.
    assert_eq!(w.recover().await.unwrap(), 0);
    let report = w.drain().await.unwrap();
    assert_eq!(report.sent, 1, "the notice to the owner");
    assert_eq!(console.lock().unwrap().len(), 1);
    assert!(fake.hits_of("poison").is_empty());
    fake.assert_nothing_unexpected();
}

#[tokio::test]
async fn a_claim_left_by_a_crash_is_sent_again_and_is_the_only_duplicate() {
    let db = TestDb::new().await;
    let atlas = program(&db, &Tenant::local(), "atlas").await;
    let fake = FakeWebhook::start().await;
    for name in ["a", "b", "c"] {
        let url = fake.hook(name, vec![]);
        enqueue(
            &db,
            &message(
                &atlas,
                Destination::SlackWebhook {
                    url: WebhookUrl::stored(url),
                },
                name,
                None,
            ),
        )
        .await;
    }
    let settings = settings();
    let clock = db.clock.clone();
    clock.set(Utc::now());

    // A worker claims `a`, delivers it, and dies before recording that.
    let mut tx = db.store.write().await.unwrap();
    let claimed = store::claim_due::<Reply>(&mut tx, clock.now(), 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].reply.title, "a");
    let crashed = WebhookSender::new(&settings).unwrap();
    assert_eq!(crashed.send(&claimed[0]).await, SendOutcome::Sent);

    // The next worker sends the rest; `a` is still claimed, so it waits.
    let (w, _) = worker(&db, &settings, Arc::new(clock.clone()));
    assert_eq!(w.recover().await.unwrap(), 0);
    let report = w.drain().await.unwrap();
    assert_eq!((report.sent, report.waiting), (2, 1));

    // Once the claim is stale it goes back to the queue and is sent again.
    clock.advance(chrono::Duration::seconds(61));
    assert_eq!(w.recover().await.unwrap(), 1);
    assert_eq!(w.drain().await.unwrap().sent, 1);
    let counts: Vec<usize> = ["a", "b", "c"]
        .iter()
        .map(|h| fake.hits_of(h).len())
        .collect();
    assert_eq!(counts, [2, 1, 1]);
    assert!(rows(&db, &Tenant::local())
        .await
        .iter()
        .all(|r| r.state == OutboxState::Sent));
    fake.assert_nothing_unexpected();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_webhook_is_paced_without_holding_up_the_others() {
    let db = TestDb::new().await;
    let atlas = program(&db, &Tenant::local(), "atlas").await;
    let fake = FakeWebhook::start().await;
    let paced = fake.hook("paced", vec![]);
    for i in 0..5 {
        let to = Destination::SlackWebhook {
            url: WebhookUrl::stored(paced.clone()),
        };
        enqueue(&db, &message(&atlas, to, &format!("beat {i}"), None)).await;
    }
    // Due while the paced ones are still waiting their turn.
    let other = fake.hook("other", vec![]);
    let mut m = message(
        &atlas,
        Destination::SlackWebhook {
            url: WebhookUrl::stored(other),
        },
        "other",
        None,
    );
    m.not_before = Utc::now() + chrono::Duration::milliseconds(100);
    enqueue(&db, &m).await;

    let settings = DeliverySettings {
        webhook_min_interval_ms: 200,
        ..settings()
    };
    let (w, _) = worker(&db, &settings, Arc::new(SystemClock));
    run_until_idle(&db, &w, Duration::from_secs(20)).await;

    let hits = fake.hits_of("paced");
    assert_eq!(hits.len(), 5);
    for pair in hits.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(200),
            "{gap:?} between two posts to one webhook"
        );
    }
    // In order of queueing.
    let titles: Vec<String> = hits.iter().map(|h| h.message.text.clone()).collect();
    for (i, t) in titles.iter().enumerate() {
        assert!(t.starts_with(&format!("beat {i}")), "{titles:?}");
    }
    let other = fake.hits_of("other");
    assert_eq!(other.len(), 1);
    assert!(
        other[0].at < hits[2].at,
        "the other webhook waited for the paced one"
    );
    fake.assert_nothing_unexpected();
}

#[tokio::test]
async fn a_long_reply_resumes_after_the_parts_already_delivered() {
    let db = TestDb::new().await;
    let atlas = program(&db, &Tenant::local(), "atlas").await;
    let fake = FakeWebhook::start().await;
    let url = fake.hook("long", vec![Answer::Ok, Answer::ServerError]);
    let mut reply = Reply::new("Long digest");
    for i in 0..70 {
        reply = reply.heading(format!("Section {i}"));
    }
    let mut m = message(
        &atlas,
        Destination::SlackWebhook {
            url: WebhookUrl::stored(url),
        },
        "x",
        None,
    );
    m.reply = reply;
    let parts = slack::render(&with_reason(&m.reply, &m.reason));
    assert!(parts.len() >= 2, "the reply should need two messages");
    enqueue(&db, &m).await;

    let clock = db.clock.clone();
    clock.set(Utc::now());
    let (w, _) = worker(&db, &settings(), Arc::new(clock.clone()));
    let first = w.drain().await.unwrap();
    assert_eq!((first.sent, first.retried), (0, 1));
    clock.advance(chrono::Duration::seconds(5));
    let second = w.drain().await.unwrap();
    assert_eq!((second.sent, second.retried), (1, 0));

    let hits = fake.hits_of("long");
    let got: Vec<&slack::Message> = hits.iter().map(|h| &h.message).collect();
    // Part 1 once, part 2 failed and then delivered, then the rest; nothing twice that
    // was accepted.
    assert_eq!(got.len(), parts.len() + 1);
    assert_eq!(got[0], &parts[0]);
    assert_eq!(got[1], &parts[1]);
    assert_eq!(got[2], &parts[1]);
    fake.assert_nothing_unexpected();
}
