//! Crash safety: the real binary (`drumbeat run`) delivers a queue of 240 messages to a fake
//! webhook on 127.0.0.1 while it is SIGKILLed again and again. Nothing may be lost, and
//! duplicates are allowed only for messages in flight at a kill.

use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use drumbeat::domain::{Key, Tenant};
use drumbeat::outbox::{Destination, NewMessage};
use drumbeat::reply::Reply;
use drumbeat::store;

use crate::fake_webhook::FakeWebhook;
use crate::helpers::TestDb;

const MESSAGES: usize = 240;
const KILLS: usize = 12;

fn start(db: &TestDb) -> Child {
    db.command()
        .arg("run")
        .env_remove("RUST_LOG")
        .env(
            "DRUMBEAT_CONFIG",
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .env("DRUMBEAT_DELIVERY__ALLOW_LOOPBACK_HTTP", "true")
        .env("DRUMBEAT_DELIVERY__WEBHOOK_MIN_INTERVAL_MS", "0")
        .env("DRUMBEAT_DELIVERY__POLL_INTERVAL_MS", "20")
        .env("DRUMBEAT_DELIVERY__STALE_CLAIM_SECS", "1")
        .env("DRUMBEAT_DELIVERY__BATCH", "5")
        .env("DRUMBEAT_LOG__FILTER", "error")
        .env("DRUMBEAT_HTTP__ADDR", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start drumbeat run")
}

async fn waiting(db: &TestDb) -> i64 {
    let mut tx = db.store.read().await.unwrap();
    let d = store::outbox_depth(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    d.pending
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_nothing_and_duplicates_only_what_was_in_flight() {
    let hook = FakeWebhook::start().await;
    let url = hook.hook("crash", vec![]);
    let db = TestDb::new().await;
    db.ok("tpm", r#"program create atlas --name "Atlas" --tz UTC"#)
        .await;
    {
        let mut tx = db.store.write().await.unwrap();
        let (_, program) =
            store::find_program(&mut tx, &Tenant::local(), &Key::parse("atlas").unwrap())
                .await
                .unwrap()
                .unwrap();
        for n in 0..MESSAGES {
            store::enqueue(
                &mut tx,
                &NewMessage {
                    tenant: Tenant::local(),
                    program_id: Some(program.id),
                    destination: Destination::SlackWebhook {
                        url: drumbeat::domain::WebhookUrl::stored(url.clone()),
                    },
                    reply: Reply::new(format!("message {n:03}")).paragraph("crash test"),
                    reason: "a test".into(),
                    dedup_key: Some(format!("crash:{n}")),
                    not_before: crate::helpers::now() - chrono::Duration::minutes(1),
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    // Kill it at pseudo-random moments (a fixed seed: reproducible), restarting each time.
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut kills = 0;
    for _ in 0..KILLS {
        let mut child = start(&db);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let ms = 150 + seed % 450;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        kills += 1;
    }
    // The last run is left to finish.
    let mut child = start(&db);
    let deadline = Instant::now() + Duration::from_secs(90);
    while waiting(&db).await > 0 {
        assert!(
            Instant::now() < deadline,
            "the queue did not drain: {} left",
            waiting(&db).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().ok();
    child.wait().ok();

    let mut received: HashMap<String, usize> = HashMap::new();
    for h in hook.hits_of("crash") {
        *received.entry(h.message.text.clone()).or_default() += 1;
    }
    let lost: Vec<usize> = (0..MESSAGES)
        .filter(|n| {
            !received
                .keys()
                .any(|t| t.contains(&format!("message {n:03}")))
        })
        .collect();
    assert!(lost.is_empty(), "lost messages: {lost:?}");
    let total: usize = received.values().sum();
    let duplicates = total - MESSAGES;
    eprintln!("{kills} kills, {total} deliveries, {duplicates} duplicates");
    assert!(
        duplicates <= kills,
        "{duplicates} duplicates after {kills} kills"
    );
    hook.assert_nothing_unexpected();
}
