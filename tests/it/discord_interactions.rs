//! Discord's HTTP interactions endpoint through the real server on 127.0.0.1, with the fake
//! Discord signing what it sends: a PING gets a PONG; a request that Discord did not sign,
//! or did not sign now, is refused before its body is read; commands, autocomplete, buttons
//! and the status form are answered in the response's body with the gateway's words; slow
//! commands (and answers that are late) are deferred there and edited in by REST; and the
//! binary registers the commands, and serves without a gateway.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use drumbeat::clock::Clock;
use drumbeat::config::{Settings, DEFAULTS};
use drumbeat::domain::{Key, Tenant};
use drumbeat::http::{self, HttpApp};
use drumbeat::platform::discord::{interactions, verify, DiscordInteractions};
use drumbeat::store;
use drumbeat::telemetry::metrics;
use figment::providers::{Format, Toml};
use ring::signature::Ed25519KeyPair;
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::discord_bot::{
    self, is_ephemeral, latest_status, text_of, tpm, CHANNEL, DANA, GUILD, LEADS, LEE, VIEWER,
};
use crate::fake_discord::{
    autocomplete, click, dm_channel_of, member, options, slash, submit, Exchange, FakeDiscord, APP,
};
use crate::helpers::TestDb;

/// A fake Discord, a database, and the endpoint serving them.
struct Harness {
    fake: FakeDiscord,
    db: TestDb,
    /// `http://127.0.0.1:PORT/discord/interactions`.
    url: String,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _stop: tokio::sync::watch::Sender<bool>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn settings(fake: &FakeDiscord) -> Settings {
    let mut s: Settings = figment::Figment::from(Toml::string(DEFAULTS))
        .extract()
        .expect("defaults");
    s.discord.token = Some(SecretString::from("test-token".to_owned()));
    s.discord.proxy_url = Some(fake.url());
    s.discord.admin_role = Some(LEADS.into());
    s.discord.public_key = Some(fake.public_key());
    s
}

async fn harness() -> Harness {
    harness_with(|app| app).await
}

/// The endpoint, as `tune` leaves it, merged into the HTTP server's routes as `run` does.
async fn harness_with(tune: impl FnOnce(DiscordInteractions) -> DiscordInteractions) -> Harness {
    let fake = FakeDiscord::start().await;
    fake.set_channel(CHANNEL, GUILD);
    let db = TestDb::new().await;
    let clock: Arc<dyn Clock> = Arc::new(db.clock.clone());
    let app = DiscordInteractions::from_settings(&settings(&fake), db.store.clone(), clock.clone())
        .expect("the endpoint builds")
        .expect("a public key is set");
    let own = HttpApp::new(
        db.store.clone(),
        clock,
        metrics::recorder().handle(),
        None,
        Duration::from_secs(600),
        None,
    );
    let router = http::router(own, None).merge(interactions::router(tune(app)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}{}",
        listener.local_addr().unwrap(),
        interactions::PATH
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(http::serve(listener, router, stopped));
    Harness {
        fake,
        db,
        url,
        task,
        _stop: stop,
    }
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn user(id: &str) -> Value {
    Value::String(format!("user:{id}"))
}

impl Harness {
    /// Sends an interaction over HTTP, signed now, and returns the answer in the response.
    async fn send(&self, d: Value) -> Exchange {
        self.fake
            .post_interaction(&self.url, d, self.db.clock.now())
            .await
    }

    /// Runs a slash command in the guild's channel over HTTP.
    async fn slash(&self, who: Value, path: &[&str], opts: &[(&str, Value)]) -> Exchange {
        self.send(slash(GUILD, CHANNEL, who, path, options(opts)))
            .await
    }

    /// Posts `body` with the signature headers given (none when `None`): status and text.
    async fn raw(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
    ) -> (u16, String) {
        let mut request = reqwest::Client::new()
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(sig) = signature {
            request = request.header(verify::SIGNATURE_HEADER, sig);
        }
        if let Some(ts) = timestamp {
            request = request.header(verify::TIMESTAMP_HEADER, ts);
        }
        let response = request.send().await.expect("the endpoint answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// The TPM sets up atlas over HTTP: projects for dana and lee, a milestone, and a
    /// dependency of web on api that dana owns.
    async fn set_up(&self) {
        type Step<'a> = (Vec<&'a str>, Vec<(&'a str, Value)>);
        let steps: Vec<Step> = vec![
            (
                vec!["program", "create"],
                vec![
                    ("key", s("atlas")),
                    ("name", s("Atlas launch")),
                    ("tz", s("UTC")),
                ],
            ),
            (
                vec!["project", "add"],
                vec![
                    ("program", s("atlas")),
                    ("key", s("api")),
                    ("name", s("Public API")),
                    ("owner", user(DANA)),
                ],
            ),
            (
                vec!["project", "add"],
                vec![
                    ("program", s("atlas")),
                    ("key", s("web")),
                    ("name", s("Web app")),
                    ("owner", user(LEE)),
                ],
            ),
            (
                vec!["milestone", "add"],
                vec![
                    ("program", s("atlas")),
                    ("key", s("api-beta")),
                    ("title", s("API beta")),
                    ("target", s("2026-12-15")),
                    ("project", s("api")),
                ],
            ),
            (
                vec!["dep", "add"],
                vec![
                    ("program", s("atlas")),
                    ("needs", s("web")),
                    ("from", s("api")),
                    ("what", s("Auth endpoints")),
                    ("by", s("2026-12-04")),
                    ("owner", user(DANA)),
                ],
            ),
        ];
        for (path, opts) in steps {
            let e = self.slash(tpm(), &path, &opts).await;
            assert_eq!(e.callback["type"], 4, "{path:?}: {}", e.callback);
            assert!(
                !is_ephemeral(&e.callback["data"]),
                "{path:?} was refused: {}",
                e.callback
            );
        }
    }

    async fn program_exists(&self, key: &str) -> bool {
        let tenant = Tenant::discord(GUILD.parse().unwrap());
        let mut tx = self.db.store.read().await.unwrap();
        store::find_program(&mut tx, &tenant, &Key::parse(key).unwrap())
            .await
            .unwrap()
            .is_some()
    }
}

#[tokio::test]
async fn a_ping_gets_a_pong_and_a_request_discord_did_not_sign_now_is_refused_unread() {
    let h = harness().await;
    let now = h.db.clock.now().timestamp();
    let ts = now.to_string();

    // PING → PONG, as Discord checks the endpoint when it is saved.
    let ping = json!({
        "type": 1, "id": "800000000000000000", "application_id": APP,
        "token": "ping-token", "version": 1,
    })
    .to_string();
    let (status, body) = h
        .raw(
            Some(&h.fake.sign(&ts, ping.as_bytes())),
            Some(&ts),
            ping.as_bytes(),
        )
        .await;
    assert_eq!((status, body.as_str()), (200, r#"{"type":1}"#));

    // A command that would work, and a body that is not JSON at all.
    let (command, _) = h.fake.dispatch(slash(
        GUILD,
        CHANNEL,
        tpm(),
        &["program", "create"],
        options(&[("key", s("atlas"))]),
    ));
    let good = command.to_string().into_bytes();
    let garbage = b"this is not JSON {".to_vec();
    let before = h.db.dump().await;
    let another_key = Ed25519KeyPair::from_seed_unchecked(&[7; 32]).unwrap();
    let sign_other = |ts: &str, body: &[u8]| {
        let mut message = ts.as_bytes().to_vec();
        message.extend_from_slice(body);
        hex::encode(another_key.sign(&message).as_ref())
    };
    let stale = (now - 301).to_string();
    let ahead = (now + 301).to_string();
    for body in [&good, &garbage] {
        let tampered = String::from_utf8_lossy(body)
            .replacen("atlas", "atlax", 1)
            .replacen("this", "This", 1)
            .into_bytes();
        assert_ne!(&tampered, body);
        // (what, X-Signature-Ed25519, X-Signature-Timestamp, body sent, what the refusal says)
        type Case<'a> = (&'a str, Option<String>, Option<String>, Vec<u8>, &'a str);
        let cases: Vec<Case> = vec![
            (
                "no headers",
                None,
                None,
                body.clone(),
                "X-Signature-Ed25519 header is missing",
            ),
            (
                "no timestamp",
                Some(h.fake.sign(&ts, body)),
                None,
                body.clone(),
                "X-Signature-Timestamp header is missing",
            ),
            (
                "a malformed signature",
                Some("zz".repeat(64)),
                Some(ts.clone()),
                body.clone(),
                "not 128 hex digits",
            ),
            (
                "the signature of another body",
                Some(h.fake.sign(&ts, b"{}")),
                Some(ts.clone()),
                body.clone(),
                "invalid request signature",
            ),
            (
                "a signature by another key",
                Some(sign_other(&ts, body)),
                Some(ts.clone()),
                body.clone(),
                "invalid request signature",
            ),
            (
                "a body changed after signing",
                Some(h.fake.sign(&ts, body)),
                Some(ts.clone()),
                tampered.clone(),
                "invalid request signature",
            ),
            (
                "a timestamp 301 s old",
                Some(h.fake.sign(&stale, body)),
                Some(stale.clone()),
                body.clone(),
                "stale timestamp",
            ),
            (
                "a timestamp 301 s ahead",
                Some(h.fake.sign(&ahead, body)),
                Some(ahead.clone()),
                body.clone(),
                "stale timestamp",
            ),
            (
                "a timestamp that is not a number",
                Some(h.fake.sign("soon", body)),
                Some("soon".into()),
                body.clone(),
                "not a Unix time",
            ),
        ];
        for (what, sig, ts, sent, says) in cases {
            let (status, text) = h.raw(sig.as_deref(), ts.as_deref(), &sent).await;
            // A body that is not JSON gets 401, never 400: it was not read as JSON.
            assert_eq!(status, 401, "{what}: {text}");
            assert!(text.contains(says), "{what}: {text}");
        }
    }
    // Too large to be an interaction: refused by its declared length, unread.
    let big = vec![b'{'; verify::BODY_MAX + 1];
    let (status, text) = h.raw(Some(&h.fake.sign(&ts, &big)), Some(&ts), &big).await;
    assert_eq!(status, 413, "{text}");
    assert_eq!(h.db.dump().await, before, "nothing changed");
    assert!(!h.program_exists("atlas").await);

    // Only a verified body is parsed: signed garbage is a 400 that says why.
    let (status, text) = h
        .raw(Some(&h.fake.sign(&ts, &garbage)), Some(&ts), &garbage)
        .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("not JSON"), "{text}");

    // The same command, signed by Discord now, runs.
    let (status, text) = h
        .raw(Some(&h.fake.sign(&ts, &good)), Some(&ts), &good)
        .await;
    assert_eq!(status, 200, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["type"], 4, "{answer}");
    assert!(!is_ephemeral(&answer["data"]), "{answer}");
    assert!(h.program_exists("atlas").await);
    h.fake.assert_nothing_unexpected();
}

/// Both ways in answer alike: the same command, typed by the same person in the same
/// channel, gets the same body whether it came over the gateway or over HTTP.
#[tokio::test]
async fn commands_over_http_are_answered_in_the_response_with_the_gateways_words() {
    let h = harness().await;
    let bot = discord_bot::start(&h.fake, &h.db);
    h.fake.wait_ready(1).await;

    // Made over HTTP: the program is the guild's, and the TPM (Manage Server) may make it.
    h.set_up().await;
    assert!(h.program_exists("atlas").await);

    let viewer = member(VIEWER, "viewer", 0, &[]);
    let lead = member(LEE, "lee", 0, &[LEADS]);
    type Case<'a> = (&'a str, Value, Vec<&'a str>, Vec<(&'a str, Value)>);
    let cases: Vec<Case> = vec![
        (
            "a program shown",
            tpm(),
            vec!["program", "show"],
            vec![("program", s("atlas"))],
        ),
        (
            "the programs listed",
            tpm(),
            vec!["program", "list"],
            vec![],
        ),
        (
            "milestones listed",
            tpm(),
            vec!["milestone", "list"],
            vec![("program", s("atlas"))],
        ),
        (
            "a viewer refused, privately, naming the role",
            viewer.clone(),
            vec!["program", "create"],
            vec![("key", s("beta"))],
        ),
        (
            "a bad date refused word for word",
            tpm(),
            vec!["milestone", "add"],
            vec![
                ("key", s("m")),
                ("target", s("2026-13-01")),
                ("program", s("atlas")),
            ],
        ),
        (
            "a member by the admin role",
            lead,
            vec!["program", "list"],
            vec![],
        ),
    ];
    for (what, who, path, opts) in cases {
        let gateway = discord_bot::run(&h.fake, who.clone(), &path, &opts).await;
        let over_http = h.slash(who, &path, &opts).await;
        assert_eq!(
            over_http.callback, gateway.callback,
            "{what}: over HTTP (left) and over the gateway (right) differ"
        );
        assert_eq!(over_http.callback["type"], 4, "{what}");
    }
    let refused = discord_bot::run(
        &h.fake,
        viewer,
        &["program", "create"],
        &[("key", s("beta"))],
    )
    .await;
    assert!(is_ephemeral(&refused.callback["data"]));
    assert!(text_of(&refused.callback).contains("tenant admin"));
    assert!(!h.program_exists("beta").await);

    // Autocomplete answers alike too, from the guild's programs.
    let typing = || {
        autocomplete(
            GUILD,
            CHANNEL,
            tpm(),
            &["program", "show"],
            options(&[("program", s("at"))]),
            "program",
        )
    };
    let over_http = h.send(typing()).await;
    let gateway = h.fake.interact(typing()).await;
    assert_eq!(over_http.callback, gateway.callback);
    assert_eq!(over_http.callback["type"], 8);
    assert_eq!(over_http.callback["data"]["choices"][0]["value"], "atlas");

    h.fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_slow_command_is_deferred_in_the_response_and_edited_in_by_rest() {
    let h = harness().await;
    let bot = discord_bot::start(&h.fake, &h.db);
    h.fake.wait_ready(1).await;
    h.set_up().await;

    // `/digest show`: deferred in the response, then the deferred answer is edited.
    let digest = h
        .slash(tpm(), &["digest", "show"], &[("program", s("atlas"))])
        .await;
    assert_eq!(digest.callback, json!({ "type": 5 }), "deferred first");
    let parts = h.fake.wait_webhooks(&digest.token, 1).await;
    assert_eq!(parts[0].0, "PATCH", "{parts:?}");
    assert!(text_of(&parts[0].1).contains("Atlas launch"), "{parts:?}");
    // The gateway's edit for the same command is the same.
    let over_gateway = discord_bot::run(
        &h.fake,
        tpm(),
        &["digest", "show"],
        &[("program", s("atlas"))],
    )
    .await;
    assert_eq!(over_gateway.callback["type"], 5);
    let edited = h.fake.wait_webhooks(&over_gateway.token, 1).await;
    assert_eq!(edited[0], parts[0]);

    // A slow command that fails: the public placeholder goes, a private error comes.
    let failed = h
        .slash(tpm(), &["digest", "show"], &[("program", s("nope"))])
        .await;
    assert_eq!(failed.callback["type"], 5);
    let parts = h.fake.wait_webhooks(&failed.token, 2).await;
    assert_eq!(parts[0].0, "DELETE", "{parts:?}");
    assert_eq!(parts[1].0, "POST", "{parts:?}");
    assert!(is_ephemeral(&parts[1].1), "{parts:?}");
    assert!(
        text_of(&parts[1].1).contains("there is no program"),
        "{parts:?}"
    );

    // A chart: its picture cannot go in a response body; it is uploaded with the edit.
    let timeline = drumbeat::domain::ChartKind::ALL
        .iter()
        .position(|k| k.as_str() == "timeline")
        .unwrap();
    let chart = h
        .slash(
            tpm(),
            &["chart", "show"],
            &[("program", s("atlas")), ("kind", json!(timeline))],
        )
        .await;
    assert_eq!(chart.callback["type"], 5, "{}", chart.callback);
    let parts = h.fake.wait_webhooks(&chart.token, 1).await;
    assert_eq!(parts[0].0, "PATCH", "{parts:?}");
    assert_eq!(
        parts[0].1["attachments"],
        json!([{ "id": 0, "filename": "atlas-timeline.png" }])
    );
    let uploads: Vec<_> = h
        .fake
        .uploads()
        .into_iter()
        .filter(|(at, _)| *at == chart.token)
        .collect();
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    crate::charts::assert_drawn(&uploads[0].1.bytes, 1400, 100);

    h.fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}

/// An answer that is not ready in time (here: the database is busy with another writer) is
/// deferred by the endpoint in the bot's place, and edited in once it is.
#[tokio::test]
async fn a_late_answer_is_deferred_then_edited_in() {
    let h = harness_with(|app| app.with_answer_within(Duration::from_millis(300))).await;
    let mut busy = h.db.store.write().await.unwrap();
    if h.db.url.is_some() {
        // PostgreSQL has many writers: make this one hold what the command must write.
        drumbeat::store::db::query("LOCK TABLE programs, people IN EXCLUSIVE MODE")
            .execute(&mut busy)
            .await
            .unwrap();
    }
    let made = h
        .slash(
            tpm(),
            &["program", "create"],
            &[("key", s("atlas")), ("name", s("Atlas launch"))],
        )
        .await;
    assert_eq!(made.callback, json!({ "type": 5 }));
    assert!(
        made.latency < Duration::from_millis(2500),
        "{:?}",
        made.latency
    );
    drop(busy);
    let parts = h.fake.wait_webhooks(&made.token, 1).await;
    assert_eq!(parts[0].0, "PATCH", "{parts:?}");
    assert!(!is_ephemeral(&parts[0].1), "{parts:?}");
    assert!(text_of(&parts[0].1).contains("Atlas launch"), "{parts:?}");
    assert!(h.program_exists("atlas").await);

    // A late refusal replaces the public placeholder with a private answer. (On
    // PostgreSQL a busy writer does not hold up a refusal that writes nothing: it comes at
    // once, privately.)
    let mut busy = h.db.store.write().await.unwrap();
    if h.db.url.is_some() {
        drumbeat::store::db::query("LOCK TABLE programs, people IN EXCLUSIVE MODE")
            .execute(&mut busy)
            .await
            .unwrap();
        let refused = h
            .slash(
                member(VIEWER, "viewer", 0, &[]),
                &["program", "create"],
                &[("key", s("beta"))],
            )
            .await;
        drop(busy);
        assert_eq!(refused.callback["type"], 4, "{}", refused.callback);
        assert!(
            is_ephemeral(&refused.callback["data"]),
            "{}",
            refused.callback
        );
        assert!(text_of(&refused.callback["data"]).contains("tenant admin"));
        h.fake.assert_nothing_unexpected();
        return;
    }
    let refused = h
        .slash(
            member(VIEWER, "viewer", 0, &[]),
            &["program", "create"],
            &[("key", s("beta"))],
        )
        .await;
    assert_eq!(refused.callback, json!({ "type": 5 }));
    drop(busy);
    let parts = h.fake.wait_webhooks(&refused.token, 2).await;
    assert_eq!(parts[0].0, "DELETE", "{parts:?}");
    assert!(is_ephemeral(&parts[1].1), "{parts:?}");
    assert!(text_of(&parts[1].1).contains("tenant admin"), "{parts:?}");
    h.fake.assert_nothing_unexpected();
}

#[tokio::test]
async fn a_status_button_opens_the_form_whose_submission_posts_the_update_and_delivered_delivers() {
    let h = harness().await;
    let bot = discord_bot::start(&h.fake, &h.db);
    h.fake.wait_ready(1).await;
    h.set_up().await;
    let dm = dm_channel_of(DANA);
    let prompt = json!({ "components": [] });

    // The prompt's Amber button, clicked in dana's DM: the form opens, as on the gateway.
    let amber = format!("{GUILD}:status:atlas:api:amber");
    let opened = h
        .send(click(None, &dm, (DANA, "dana"), &prompt, &amber))
        .await;
    assert_eq!(opened.callback["type"], 9, "a modal: {}", opened.callback);
    let modal_id = opened.callback["data"]["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(modal_id, amber, "the form's id carries the guild");
    let over_gateway = h
        .fake
        .interact(click(None, &dm, (DANA, "dana"), &prompt, &amber))
        .await;
    assert_eq!(opened.callback, over_gateway.callback);

    // Someone else's answer is refused, privately, and nothing is stored.
    let refused = h
        .send(submit(
            None,
            &dm,
            (LEE, "lee"),
            &modal_id,
            &[("summary", "all red")],
        ))
        .await;
    assert!(
        is_ephemeral(&refused.callback["data"]),
        "{}",
        refused.callback
    );
    assert!(
        text_of(&refused.callback).contains("owner"),
        "{}",
        refused.callback
    );
    assert_eq!(latest_status(&h.db, GUILD).await, None);

    // dana's answer posts the update.
    let done = h
        .send(submit(
            None,
            &dm,
            (DANA, "dana"),
            &modal_id,
            &[
                ("summary", "Beta on track, perf risk"),
                ("blockers", "load test env"),
                ("next", "rerun on Thursday"),
            ],
        ))
        .await;
    assert_eq!(done.callback["type"], 4, "{}", done.callback);
    assert!(
        !text_of(&done.callback).contains("Not done"),
        "{}",
        done.callback
    );
    assert_eq!(
        latest_status(&h.db, GUILD).await,
        Some(("amber".into(), "Beta on track, perf risk".into()))
    );

    // A button of this guild does nothing in another one.
    let foreign = h
        .send(click(
            Some("100000000000000002"),
            "300000000000000009",
            (DANA, "dana"),
            &prompt,
            &format!("{GUILD}:dep:atlas:1:deliver"),
        ))
        .await;
    assert!(is_ephemeral(&foreign.callback["data"]));
    assert!(
        text_of(&foreign.callback).contains("another server"),
        "{}",
        foreign.callback
    );

    // The blocker ping's Delivered button, clicked by dana, delivers the dependency.
    let delivered = h
        .send(click(
            Some(GUILD),
            CHANNEL,
            (DANA, "dana"),
            &prompt,
            &format!("{GUILD}:dep:atlas:1:deliver"),
        ))
        .await;
    assert_eq!(delivered.callback["type"], 4, "{}", delivered.callback);
    assert!(
        is_ephemeral(&delivered.callback["data"]),
        "{}",
        delivered.callback
    );
    assert!(
        !text_of(&delivered.callback).contains("Not done"),
        "{}",
        delivered.callback
    );
    let tenant = Tenant::discord(GUILD.parse().unwrap());
    let mut tx = h.db.store.read().await.unwrap();
    let (scope, _) = store::find_program(&mut tx, &tenant, &Key::parse("atlas").unwrap())
        .await
        .unwrap()
        .unwrap();
    let deps = store::dependencies(&mut tx, &scope).await.unwrap();
    assert_eq!(deps[0].state.as_str(), "delivered");
    drop(tx);

    h.fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}

/// The binary with the settings a test gives it, on the database of `db`.
fn drumbeat(db: &TestDb, fake: &FakeDiscord, args: &[&str]) -> Command {
    let mut command = db.command();
    command
        .args(args)
        .env_remove("RUST_LOG")
        .env(
            "DRUMBEAT_CONFIG",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .env_remove("DISCORD_TOKEN_FILE")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("SLACK_SIGNING_SECRET")
        .env_remove("SLACK_BOT_TOKEN")
        .env("DISCORD_TOKEN", "test-token")
        .env("DRUMBEAT_DISCORD__PROXY_URL", fake.url())
        .env("DRUMBEAT_LOG__FILTER", "error");
    command
}

#[tokio::test]
async fn drumbeat_discord_register_registers_the_command_list_and_exits() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    let mut command = drumbeat(&db, &fake, &["discord", "register"]);
    command.env("DRUMBEAT_DISCORD__DEV_GUILD_ID", GUILD);
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let registrations = fake.registrations();
    assert_eq!(registrations.len(), 1, "{registrations:?}");
    assert_eq!(registrations[0].0.as_deref(), Some(GUILD));
    let names: Vec<&str> = registrations[0]
        .1
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let tree = drumbeat::command::grammar::command_tree();
    let expected: Vec<&str> = tree.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(names, expected);
    // It says what it registered, and where.
    assert!(
        stdout.starts_with(&format!("Registered {} slash commands", tree.len())),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("in guild {GUILD}")), "{stdout}");
    for (area, verbs) in &tree {
        let line = format!("  /{area} {}\n", verbs.join(", "));
        assert!(stdout.contains(&line), "{line:?} in {stdout}");
    }
    assert!(fake.identified().is_empty(), "no gateway session");

    // Without a token there is nothing to register with.
    let mut command = drumbeat(&db, &fake, &["discord", "register"]);
    command.env_remove("DISCORD_TOKEN");
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Discord bot token"));
    assert_eq!(fake.registrations().len(), 1);
    fake.assert_nothing_unexpected();
}

/// `drumbeat run` with `discord.gateway = false` and a public key: no gateway session, the
/// endpoint answers, and SIGTERM stops it cleanly. A public key without a token stops it
/// before it starts.
#[tokio::test]
async fn run_without_the_gateway_answers_over_http() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    let mut command = drumbeat(&db, &fake, &["run"]);
    command
        .env("DRUMBEAT_DISCORD__GATEWAY", "false")
        .env("DRUMBEAT_DISCORD__PUBLIC_KEY", fake.public_key())
        .env("DRUMBEAT_HTTP__ADDR", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start drumbeat run");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(err.read_line(&mut line).unwrap() > 0, "no address printed");
            if line.starts_with("HTTP on http://") {
                std::thread::spawn(move || {
                    let mut sink = Vec::new();
                    let _ = err.read_to_end(&mut sink);
                });
                return line;
            }
        }
    })
    .await
    .unwrap();
    assert!(line.contains("/discord/interactions"), "{line}");
    let base = line["HTTP on ".len()..]
        .split(':')
        .take(3)
        .collect::<Vec<_>>()
        .join(":");
    let url = format!("{base}{}", interactions::PATH);

    let made = fake
        .post_interaction(
            &url,
            slash(
                GUILD,
                CHANNEL,
                tpm(),
                &["program", "create"],
                options(&[("key", s("atlas")), ("name", s("Atlas"))]),
            ),
            chrono::Utc::now(),
        )
        .await;
    assert_eq!(made.callback["type"], 4, "{}", made.callback);
    assert!(!is_ephemeral(&made.callback["data"]), "{}", made.callback);
    let health: Value = reqwest::get(format!("{base}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(health.get("discord").is_none(), "no gateway: {health}");
    assert!(
        fake.identified().is_empty(),
        "no gateway session was opened"
    );
    assert!(fake.registrations().is_empty());

    let term = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(term.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "still running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    let mut tx = db.store.read().await.unwrap();
    let found = store::find_program(
        &mut tx,
        &Tenant::discord(GUILD.parse().unwrap()),
        &Key::parse("atlas").unwrap(),
    )
    .await
    .unwrap();
    assert!(found.is_some());
    drop(tx);

    // A public key and no token: refused at start, saying what to set.
    let mut command = drumbeat(&db, &fake, &["run"]);
    command
        .env_remove("DISCORD_TOKEN")
        .env("DRUMBEAT_DISCORD__PUBLIC_KEY", fake.public_key())
        .env("DRUMBEAT_HTTP__ADDR", "127.0.0.1:0");
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("no Discord bot token"), "{said}");
    fake.assert_nothing_unexpected();
}
