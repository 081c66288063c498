//! Several `drumbeat run` processes on one PostgreSQL database, as a deployment runs them:
//! messages delivered exactly once and paced per webhook across processes, schedules due at
//! once run once each, the leading process killed mid-run with another taking over, and a
//! slash command answered alike by either process. These need PostgreSQL: without
//! `DRUMBEAT_TEST_POSTGRES_URL` they say they were skipped.

use std::collections::{HashMap, HashSet};
use std::process::Child;
use std::time::{Duration, Instant};

use chrono::Utc;
use drumbeat::domain::{Key, Tenant};
use drumbeat::outbox::{Destination, NewMessage};
use drumbeat::reply::Reply;
use drumbeat::store;

use crate::fake_webhook::FakeWebhook;
use crate::helpers::{start_run, TestDb};

/// A database on PostgreSQL, or `None` (the test is skipped) without one.
async fn postgres_db(test: &str) -> Option<TestDb> {
    if crate::helpers::postgres_url().is_none() {
        eprintln!("skipped {test}: it needs PostgreSQL (set DRUMBEAT_TEST_POSTGRES_URL)");
        return None;
    }
    Some(TestDb::new().await)
}

/// A `drumbeat run` delivering to loopback webhooks, paced `interval_ms` per webhook.
async fn start(db: &TestDb, interval_ms: u64, extra: &[(&str, String)]) -> (Kill, String) {
    let mut envs = vec![
        ("DRUMBEAT_DELIVERY__ALLOW_LOOPBACK_HTTP", "true".to_owned()),
        (
            "DRUMBEAT_DELIVERY__WEBHOOK_MIN_INTERVAL_MS",
            interval_ms.to_string(),
        ),
        ("DRUMBEAT_DELIVERY__POLL_INTERVAL_MS", "20".to_owned()),
        ("DRUMBEAT_DELIVERY__BATCH", "20".to_owned()),
        ("DRUMBEAT_DELIVERY__STALE_CLAIM_SECS", "2".to_owned()),
        ("DRUMBEAT_SCHEDULE__TICK_SECS", "1".to_owned()),
        ("DRUMBEAT_SCHEDULE__LEASE_SECS", "5".to_owned()),
    ];
    envs.extend(extra.iter().cloned());
    let (child, addr) = start_run(db, &envs).await;
    (Kill(child), addr)
}

/// A child killed (SIGKILL) when dropped, so a failed test leaves no process behind.
struct Kill(Child);

impl Kill {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Kill {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn program_id(db: &TestDb) -> i64 {
    let mut tx = db.store.read().await.unwrap();
    let (_, program) =
        store::find_program(&mut tx, &Tenant::local(), &Key::parse("atlas").unwrap())
            .await
            .unwrap()
            .unwrap();
    tx.commit().await.unwrap();
    program.id
}

/// Queues `n` messages, `message {i}`, spread over `hooks` webhooks of `fake`.
async fn queue(db: &TestDb, fake: &FakeWebhook, n: usize, hooks: usize) {
    let program = program_id(db).await;
    let urls: Vec<String> = (0..hooks)
        .map(|h| fake.hook(&format!("h{h:03}"), vec![]))
        .collect();
    let mut tx = db.store.write().await.unwrap();
    for i in 0..n {
        store::enqueue(
            &mut tx,
            &NewMessage {
                tenant: Tenant::local(),
                program_id: Some(program),
                destination: Destination::SlackWebhook {
                    url: drumbeat::domain::WebhookUrl::stored(urls[i % hooks].clone()),
                },
                reply: Reply::new(format!("message {i:04}")).paragraph("race test"),
                reason: "a test".into(),
                dedup_key: Some(format!("race:{i}")),
                not_before: Utc::now() - chrono::Duration::minutes(1),
            },
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn waiting(db: &TestDb) -> i64 {
    let mut tx = db.store.read().await.unwrap();
    let d = store::outbox_depth(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    d.pending
}

async fn drained(db: &TestDb, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let left = waiting(db).await;
        if left == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the queue did not drain: {left} left"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How often each message arrived, by its number.
fn arrivals(fake: &FakeWebhook) -> HashMap<usize, usize> {
    let mut got = HashMap::new();
    for hit in fake.hits() {
        let n = hit
            .message
            .text
            .split("message ")
            .nth(1)
            .and_then(|r| r.get(..4))
            .and_then(|d| d.parse().ok())
            .unwrap_or_else(|| panic!("not a test message: {}", hit.message.text));
        *got.entry(n).or_default() += 1;
    }
    got
}

/// The pid of the process that leads, from `drumbeat doctor`'s own question.
async fn leader_pid(db: &TestDb) -> Option<u32> {
    let mut conn = db.store.conn().await.unwrap();
    let who = store::leader(&mut conn).await.unwrap()?;
    who.split(" pid ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

async fn wait_for_leader(db: &TestDb, pid: u32, within: Duration) -> Duration {
    let started = Instant::now();
    while leader_pid(db).await != Some(pid) {
        assert!(
            started.elapsed() < within,
            "process {pid} did not take the lead within {within:?} (leader: {:?})",
            leader_pid(db).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

/// Item 9: two processes deliver 1,000 queued messages to 100 loopback webhooks, each
/// exactly once, and never post to one webhook faster than its pace between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_deliver_each_message_once_and_paced() {
    let Some(db) = postgres_db("two_processes_deliver_each_message_once_and_paced").await else {
        return;
    };
    db.ok("tpm", r#"program create atlas --name "Atlas" --tz UTC"#)
        .await;
    let fake = FakeWebhook::start().await;
    queue(&db, &fake, 1000, 100).await;
    let (mut a, _) = start(&db, 200, &[]).await;
    let (mut b, _) = start(&db, 200, &[]).await;
    drained(&db, Duration::from_secs(120)).await;
    a.kill();
    b.kill();

    fake.assert_nothing_unexpected();
    let got = arrivals(&fake);
    let missing: Vec<usize> = (0..1000).filter(|n| !got.contains_key(n)).collect();
    let twice: Vec<(&usize, &usize)> = got.iter().filter(|(_, c)| **c > 1).collect();
    assert!(missing.is_empty(), "never arrived: {missing:?}");
    assert!(twice.is_empty(), "arrived more than once: {twice:?}");
    // One webhook's messages never come closer together than half the pace (200 ms): the
    // slot is taken when a message is claimed, so the time from claim to arrival, which
    // differs from one send to the next, may take some of it.
    for h in 0..100 {
        let mut at: Vec<Instant> = fake
            .hits_of(&format!("h{h:03}"))
            .iter()
            .map(|x| x.at)
            .collect();
        at.sort();
        for pair in at.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= Duration::from_millis(50),
                "webhook h{h:03}: two posts {gap:?} apart"
            );
        }
    }
}

/// Item 9: 200 schedules due in the same minute run once each, with two processes up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_due_at_once_run_once_each() {
    let Some(db) = postgres_db("schedules_due_at_once_run_once_each").await else {
        return;
    };
    db.ok("tpm", r#"program create atlas --name "Atlas" --tz UTC"#)
        .await;
    db.ok("tpm", "program bind atlas").await;
    let program = program_id(&db).await;
    let created = Utc::now() - chrono::Duration::seconds(61);
    let first_slot = {
        let ts = created.timestamp();
        chrono::DateTime::from_timestamp(ts - ts % 60 + 60, 0).unwrap()
    };
    {
        let mut tx = db.store.write().await.unwrap();
        for _ in 0..200 {
            store::db::query(
                "INSERT INTO schedules (program_id, kind, spec, audience, destination, created_at)
                 VALUES ($1, 'digest', '* * * * *', 'engineering', NULL, $2)",
            )
            .bind(program)
            .bind(created)
            .execute(&mut tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let (mut a, _) = start(&db, 0, &[]).await;
    let (mut b, _) = start(&db, 0, &[]).await;
    // Each schedule's first slot (a minute boundary inside the last 61 s) runs.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut conn = db.store.conn().await.unwrap();
        let (done,): (i64,) = store::db::query_as(
            "SELECT count(*) FROM job_runs WHERE scheduled_at = $1 AND state = 'done'",
        )
        .bind(first_slot)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if done == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "only {done} of 200 slots ran");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    a.kill();
    b.kill();
    let mut conn = db.store.conn().await.unwrap();
    let (runs,): (i64,) = store::db::query_as("SELECT count(*) FROM job_runs WHERE state = 'done'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let (messages,): (i64,) =
        store::db::query_as("SELECT count(*) FROM outbox WHERE dedup_key LIKE 'digest:%'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(messages, runs, "each run queues its digest once");
}

/// Item 9: the leading process is killed (SIGKILL) mid-delivery; the other takes the lead
/// and the next slot, and finishes the queue. Nothing is lost, and only messages that were
/// `sending` at the kill may arrive twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_leader_loses_nothing() {
    let Some(db) = postgres_db("killing_the_leader_loses_nothing").await else {
        return;
    };
    db.ok("tpm", r#"program create atlas --name "Atlas" --tz UTC"#)
        .await;
    db.ok("tpm", "program bind atlas").await;
    let fake = FakeWebhook::start().await;
    queue(&db, &fake, 400, 20).await;
    // The killed process's claims are released after 5 s.
    let stale = [("DRUMBEAT_DELIVERY__STALE_CLAIM_SECS", "5".to_owned())];
    let (mut first, _) = start(&db, 100, &stale).await;
    let first_pid = first.0.id();
    wait_for_leader(&db, first_pid, Duration::from_secs(30)).await;
    let (mut second, _) = start(&db, 100, &stale).await;
    let second_pid = second.0.id();

    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.hits().len() < 60 {
        assert!(Instant::now() < deadline, "nothing is being delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill();
    let killed = Instant::now();
    let in_flight: HashSet<usize> = {
        let mut conn = db.store.conn().await.unwrap();
        let rows: Vec<(Option<String>,)> =
            store::db::query_as("SELECT dedup_key FROM outbox WHERE state = 'sending'")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        rows.into_iter()
            .filter_map(|(k,)| k?.strip_prefix("race:")?.parse().ok())
            .collect()
    };
    let took_over = wait_for_leader(&db, second_pid, Duration::from_secs(30)).await;
    eprintln!("lead taken over {took_over:?} after the kill");

    // A slot due now is claimed by the new leader.
    let program = program_id(&db).await;
    {
        let mut tx = db.store.write().await.unwrap();
        store::db::query(
            "INSERT INTO schedules (program_id, kind, spec, audience, destination, created_at)
             VALUES ($1, 'digest', '* * * * *', 'executive', NULL, $2)",
        )
        .bind(program)
        .bind(Utc::now() - chrono::Duration::seconds(61))
        .execute(&mut tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut conn = db.store.conn().await.unwrap();
        let (n,): (i64,) =
            store::db::query_as("SELECT count(*) FROM job_runs WHERE state = 'done'")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        if n > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no slot ran after the leader died"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("a slot ran {:?} after the kill", killed.elapsed());

    drained(&db, Duration::from_secs(120)).await;
    second.kill();
    fake.assert_nothing_unexpected();
    let got = arrivals(&fake);
    let missing: Vec<usize> = (0..400).filter(|n| !got.contains_key(n)).collect();
    assert!(missing.is_empty(), "lost: {missing:?}");
    let twice: Vec<usize> = got
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(n, _)| *n)
        .collect();
    for n in &twice {
        assert!(
            in_flight.contains(n),
            "message {n} arrived twice but was not being sent at the kill (in flight: {in_flight:?})"
        );
    }
}

const SECRET: &str = "processes-signing-secret";

/// A signed Slack slash command to one process; the body of its answer.
async fn slash(addr: &str, text: &str, trigger: &str) -> String {
    let body = serde_urlencoded::to_string([
        ("team_id", "T0TEAM"),
        ("user_id", "UADMIN"),
        ("user_name", "admin"),
        ("channel_id", "C0PROGRAM"),
        ("command", "/drumbeat"),
        ("text", text),
        (
            "response_url",
            "https://hooks.slack.com/commands/T0TEAM/1/x",
        ),
        ("trigger_id", trigger),
    ])
    .unwrap();
    let ts = Utc::now().timestamp().to_string();
    let sig = drumbeat::platform::slack::sign(SECRET, &ts, body.as_bytes());
    let res = reqwest::Client::new()
        .post(format!("http://{addr}/slack/commands"))
        .header("X-Slack-Request-Timestamp", ts)
        .header("X-Slack-Signature", sig)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// Item 9: a slash command answered by either process gives the same reply, and
/// dependencies added through both at once get different numbers; one process runs on
/// several threads, the other on one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_process_answers_alike() {
    let Some(db) = postgres_db("either_process_answers_alike").await else {
        return;
    };
    let team = Tenant::parse("slack:T0TEAM").unwrap();
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        r#"project add atlas api --name "API" --owner @UADMIN"#,
        r#"milestone add atlas beta --title "Beta" --target 2027-03-01 --project api"#,
        "program grant atlas @UADMIN --role editor",
    ] {
        db.run_in(&team, "tpm", line).await.unwrap();
    }
    let secret = ("DRUMBEAT_SLACK__SIGNING_SECRET", SECRET.to_owned());
    // One on the multi-threaded runtime, one on the single-threaded one (`run.threads = 1`).
    let (_a, one) = start(
        &db,
        0,
        &[secret.clone(), ("DRUMBEAT_RUN__THREADS", "2".to_owned())],
    )
    .await;
    let (_b, two) = start(&db, 0, &[secret, ("DRUMBEAT_RUN__THREADS", "1".to_owned())]).await;

    let here = slash(&one, "milestone list atlas", "t1").await;
    let there = slash(&two, "milestone list atlas", "t2").await;
    assert!(here.contains("Beta"), "{here}");
    assert_eq!(here, there);

    let mut adds = tokio::task::JoinSet::new();
    for i in 0..10 {
        let addr = if i % 2 == 0 { one.clone() } else { two.clone() };
        adds.spawn(async move {
            slash(
                &addr,
                &format!(r#"dep add atlas --needs beta --external "Vendor {i}" --what "Part {i}" --by 2027-02-01"#),
                &format!("d{i}"),
            )
            .await
        });
    }
    let mut numbers = Vec::new();
    while let Some(body) = adds.join_next().await {
        let body = body.unwrap();
        let n: u32 = body
            .split("dependency #")
            .nth(1)
            .and_then(|r| {
                r.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no number in {body}"));
        numbers.push(n);
    }
    numbers.sort();
    assert_eq!(numbers, (1..=10).collect::<Vec<u32>>());
}
