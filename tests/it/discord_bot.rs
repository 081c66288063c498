//! The Discord bot end to end, through the fake Discord on loopback: it boots over the
//! gateway, registers exactly the command list, runs slash commands, sends a status prompt
//! whose buttons open a modal that posts the update (also after a restart), pings a blocked
//! dependency's owner and nobody else, defers digests, refuses without the role, and keeps
//! two guilds apart.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use drumbeat::clock::Clock;
use drumbeat::config::{DeliverySettings, DiscordSettings};
use drumbeat::domain::{Key, Tenant};
use drumbeat::outbox::{ConsoleSink, Senders, Worker};
use drumbeat::platform::discord::{Bot, BotHandle, DiscordSender};
use drumbeat::schedule::{Scheduler, SchedulerSettings};
use drumbeat::store;
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::fake_discord::{
    autocomplete, click, dm_channel_of, member, options, slash, submit, Exchange, FakeDiscord,
    MANAGE_GUILD,
};
use crate::helpers::TestDb;

pub(crate) const GUILD: &str = "100000000000000001";
const OTHER_GUILD: &str = "100000000000000002";
pub(crate) const CHANNEL: &str = "300000000000000001";
pub(crate) const TPM: &str = "111111111111111111";
pub(crate) const DANA: &str = "222222222222222222";
pub(crate) const LEE: &str = "333333333333333333";
pub(crate) const VIEWER: &str = "444444444444444444";

fn token() -> SecretString {
    SecretString::from("test-token".to_owned())
}

/// The id of the role `discord.admin_role` names.
pub(crate) const LEADS: &str = "555000000000000001";

fn settings(fake: &FakeDiscord) -> DiscordSettings {
    DiscordSettings {
        proxy_url: Some(fake.url()),
        admin_role: Some(LEADS.into()),
        ..DiscordSettings::default()
    }
}

pub(crate) fn start(fake: &FakeDiscord, db: &TestDb) -> BotHandle {
    fake.set_channel(CHANNEL, GUILD);
    let clock: Arc<dyn Clock> = Arc::new(db.clock.clone());
    Bot::spawn(
        settings(fake),
        token(),
        Arc::default(),
        db.store.clone(),
        clock,
    )
}

pub(crate) fn tpm() -> Value {
    member(TPM, "tpm", MANAGE_GUILD, &[])
}

/// Runs a slash command in the guild's channel and returns the exchange.
pub(crate) async fn run(
    fake: &FakeDiscord,
    who: Value,
    path: &[&str],
    opts: &[(&str, Value)],
) -> Exchange {
    fake.interact(slash(GUILD, CHANNEL, who, path, options(opts)))
        .await
}

pub(crate) fn text_of(body: &Value) -> String {
    body.to_string()
}

/// The custom id of the button labelled `label` in a message's first row.
fn button_id(message: &Value, label: &str) -> String {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| row["components"].as_array())
        .flatten()
        .find(|b| b["label"] == label)
        .and_then(|b| b["custom_id"].as_str())
        .unwrap_or_else(|| panic!("no {label} button in {message}"))
        .to_owned()
}

pub(crate) fn is_ephemeral(data: &Value) -> bool {
    data["flags"].as_u64().is_some_and(|f| f & 64 != 0)
}

/// A scheduler and a worker that delivers to the fake Discord.
fn rhythm(fake: &FakeDiscord, db: &TestDb) -> (Scheduler, Worker) {
    rhythm_with(fake, db, SchedulerSettings::default())
}

fn rhythm_with(
    fake: &FakeDiscord,
    db: &TestDb,
    settings: SchedulerSettings,
) -> (Scheduler, Worker) {
    let clock: Arc<dyn Clock> = Arc::new(db.clock.clone());
    let delivery = DeliverySettings::default();
    let (sink, _) = ConsoleSink::memory();
    let senders = Senders::console(sink)
        .with(
            drumbeat::platform::slack::WebhookSender::KINDS,
            drumbeat::platform::slack::WebhookSender::new(&delivery).unwrap(),
        )
        .with(
            DiscordSender::KINDS,
            DiscordSender::new(&token(), Some(&fake.url())),
        );
    (
        Scheduler::new(db.store.clone(), clock.clone(), settings),
        Worker::new(db.store.clone(), senders, clock, &delivery),
    )
}

fn at(h: u32, m: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 30, h, m, 0).unwrap() // a Monday
}

/// The TPM sets up atlas with slash commands: projects for dana and lee, a milestone, a
/// dependency owned by dana, and the prompt and nudge schedules.
async fn set_up(fake: &FakeDiscord) -> Vec<Exchange> {
    let s = |v: &str| Value::String(v.to_owned());
    let user = |id: &str| Value::String(format!("user:{id}"));
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
                ("accepted", json!(true)),
            ],
        ),
        (
            vec!["schedule", "set"],
            vec![
                ("program", s("atlas")),
                ("kind", json!(0)),
                ("spec", s("weekdays 10:00")),
            ],
        ),
        (
            vec!["schedule", "set"],
            vec![
                ("program", s("atlas")),
                ("kind", json!(3)),
                ("spec", s("weekdays 09:30")),
            ],
        ),
    ];
    let mut out = Vec::new();
    for (path, opts) in steps {
        let e = run(fake, tpm(), &path, &opts).await;
        assert_eq!(e.callback["type"], 4, "{path:?}: {}", e.callback);
        assert!(
            !is_ephemeral(&e.callback["data"]),
            "{path:?} was refused: {}",
            e.callback
        );
        out.push(e);
    }
    out
}

/// The prompt DM'd to dana, and the custom id of its Amber button.
fn prompt_to_dana(fake: &FakeDiscord) -> (Value, String) {
    let dm = dm_channel_of(DANA);
    let prompt = fake
        .messages()
        .into_iter()
        .filter(|(c, _)| *c == dm)
        .map(|(_, b)| b)
        .find(|b| text_of(b).contains("Status update for Public API"))
        .expect("a prompt to dana");
    let amber = button_id(&prompt, "Amber");
    (prompt, amber)
}

/// Clicks Amber in the DM and submits the modal; returns the final exchange.
async fn answer_prompt(fake: &FakeDiscord, prompt: &Value, amber: &str) -> Exchange {
    let dm = dm_channel_of(DANA);
    let opened = fake
        .interact(click(None, &dm, (DANA, "dana"), prompt, amber))
        .await;
    assert_eq!(opened.callback["type"], 9, "a modal: {}", opened.callback);
    let modal_id = opened.callback["data"]["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let labels = text_of(&opened.callback["data"]["components"]);
    for label in ["Summary", "Blockers", "Next steps"] {
        assert!(labels.contains(label), "{labels}");
    }
    fake.interact(submit(
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
    .await
}

pub(crate) async fn latest_status(db: &TestDb, guild: &str) -> Option<(String, String)> {
    let tenant = Tenant::discord(guild.parse().unwrap());
    let mut tx = db.store.read().await.unwrap();
    let (scope, _) = store::find_program(&mut tx, &tenant, &Key::parse("atlas").unwrap())
        .await
        .unwrap()?;
    let updates = store::latest_status_updates(&mut tx, &scope).await.unwrap();
    updates
        .into_iter()
        .next()
        .map(|u| (u.rag.as_str().to_owned(), u.summary.as_str().to_owned()))
}

#[tokio::test]
async fn a_tpm_runs_the_week_through_discord() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    db.clock.set(at(8, 0));
    let bot = start(&fake, &db);

    // Boot: GUILDS intent only, and exactly the command list, registered globally.
    let registered = fake.wait_ready(1).await;
    let names: Vec<&str> = registered
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let tree = drumbeat::command::grammar::command_tree();
    let expected: Vec<&str> = tree.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(names, expected);
    for (area, verbs) in &tree {
        let c = registered
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == area.as_str())
            .unwrap();
        let subs: Vec<&str> = c["options"]
            .as_array()
            .map(|o| {
                o.iter()
                    .filter(|o| o["type"] == 1)
                    .map(|o| o["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(subs, verbs.iter().map(String::as_str).collect::<Vec<_>>());
    }
    assert_eq!(fake.identified()[0]["intents"], 1, "GUILDS only");
    assert_eq!(fake.registrations()[0].0, None, "global registration");

    let crud = set_up(&fake).await;
    let slowest = crud.iter().map(|e| e.latency).max().unwrap();
    eprintln!(
        "{} CRUD commands: slowest INTERACTION_CREATE → callback {:.1} ms (see `cargo bench --bench discord` for p50/p99)",
        crud.len(),
        slowest.as_secs_f64() * 1000.0
    );

    // Keys autocomplete from the guild's programs, and from the program being typed.
    let s = |v: &str| Value::String(v.to_owned());
    let complete =
        |path: &'static [&'static str], opts: Vec<(&'static str, Value)>, focused: &'static str| {
            fake.interact(autocomplete(
                GUILD,
                CHANNEL,
                tpm(),
                path,
                options(&opts),
                focused,
            ))
        };
    let programs = complete(&["program", "show"], vec![("program", s("at"))], "program").await;
    assert_eq!(programs.callback["type"], 8, "{}", programs.callback);
    assert_eq!(programs.callback["data"]["choices"][0]["value"], "atlas");
    let projects = complete(
        &["status", "post"],
        vec![("program", s("atlas")), ("project", s("we"))],
        "project",
    )
    .await;
    assert_eq!(
        projects.callback["data"]["choices"],
        json!([{ "name": "web · Web app", "value": "web" }])
    );
    let deps = complete(
        &["dep", "block"],
        vec![("program", s("atlas")), ("number", s(""))],
        "number",
    )
    .await;
    assert_eq!(
        deps.callback["data"]["choices"][0]["name"],
        "1 · Auth endpoints"
    );

    // The prompt goes out at 10:00 by DM, with Green / Amber / Red buttons.
    let (scheduler, worker) = rhythm(&fake, &db);
    db.clock.set(at(10, 0));
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    let (prompt, amber) = prompt_to_dana(&fake);
    assert_eq!(amber, format!("{GUILD}:status:atlas:api:amber"));

    // dana clicks Amber, fills the modal, and the update is stored.
    let done = answer_prompt(&fake, &prompt, &amber).await;
    assert_eq!(done.callback["type"], 4);
    assert!(
        !text_of(&done.callback).contains("Not done"),
        "{}",
        done.callback
    );
    assert_eq!(
        latest_status(&db, GUILD).await,
        Some(("amber".into(), "Beta on track, perf risk".into()))
    );

    // A blocked dependency pings its owner, and only her.
    let blocked = run(
        &fake,
        tpm(),
        &["dep", "block"],
        &[
            ("program", s("atlas")),
            ("number", s("1")),
            ("reason", s("waiting on @everyone <@&1>")),
        ],
    )
    .await;
    assert!(
        !is_ephemeral(&blocked.callback["data"]),
        "{}",
        blocked.callback
    );
    db.clock.set(at(9, 30) + chrono::Duration::days(1));
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    let ping = fake
        .messages()
        .into_iter()
        .map(|(_, b)| b)
        .find(|b| text_of(b).contains("Blocker: dependency #1"))
        .expect("a blocker ping");
    assert_eq!(ping["allowed_mentions"]["users"], json!([DANA]));
    assert_eq!(ping["allowed_mentions"]["parse"], json!([]));
    assert_eq!(ping["allowed_mentions"]["roles"], json!([]));
    assert!(ping["content"]
        .as_str()
        .unwrap()
        .contains(&format!("<@{DANA}>")));

    // The ping's Delivered button, clicked by dana in her DM, delivers the dependency.
    let delivered_id = button_id(&ping, "Delivered");
    assert_eq!(delivered_id, format!("{GUILD}:dep:atlas:1:deliver"));
    let clicked = fake
        .interact(click(
            None,
            &dm_channel_of(DANA),
            (DANA, "dana"),
            &ping,
            &delivered_id,
        ))
        .await;
    assert!(
        is_ephemeral(&clicked.callback["data"]),
        "{}",
        clicked.callback
    );
    assert!(
        !text_of(&clicked.callback).contains("Not done"),
        "{}",
        clicked.callback
    );
    let tenant = Tenant::discord(GUILD.parse().unwrap());
    {
        let mut tx = db.store.read().await.unwrap();
        let (scope, _) = store::find_program(&mut tx, &tenant, &Key::parse("atlas").unwrap())
            .await
            .unwrap()
            .unwrap();
        let deps = store::dependencies(&mut tx, &scope).await.unwrap();
        assert_eq!(deps[0].state.as_str(), "delivered");
    }

    // A deferred command that fails: the public placeholder goes, a private error comes.
    let failed = run(&fake, tpm(), &["digest", "show"], &[("program", s("nope"))]).await;
    assert_eq!(failed.callback["type"], 5);
    let token = fake.last_token();
    let parts = fake.wait_webhooks(&token, 2).await;
    assert_eq!(parts[0].0, "DELETE", "{parts:?}");
    assert_eq!(parts[1].0, "POST", "{parts:?}");
    assert!(is_ephemeral(&parts[1].1), "{parts:?}");
    assert!(
        text_of(&parts[1].1).contains("there is no program"),
        "{parts:?}"
    );

    // `/digest show` is deferred, then delivered by editing the deferred answer.
    let digest = run(
        &fake,
        tpm(),
        &["digest", "show"],
        &[("program", s("atlas"))],
    )
    .await;
    assert_eq!(digest.callback["type"], 5, "deferred first");
    let token = fake.last_token();
    let parts = fake.wait_webhooks(&token, 1).await;
    assert_eq!(parts[0].0, "PATCH", "{parts:?}");
    assert!(text_of(&parts[0].1).contains("Atlas launch"), "{parts:?}");

    // Autocomplete is Discord's business; the bot answered every interaction in time.
    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn a_click_after_a_restart_still_posts_the_update() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    db.clock.set(at(8, 0));
    let bot = start(&fake, &db);
    fake.wait_ready(1).await;
    set_up(&fake).await;
    let (scheduler, worker) = rhythm(&fake, &db);
    db.clock.set(at(10, 0));
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    let (prompt, amber) = prompt_to_dana(&fake);

    // The bot stops between the prompt and the click, and a new one starts.
    bot.stop().await.unwrap();
    fake.wait_for("the gateway session to end", |f| {
        f.gateway_closed().then_some(())
    })
    .await;
    let bot = start(&fake, &db);
    fake.wait_ready(2).await;

    let done = answer_prompt(&fake, &prompt, &amber).await;
    assert!(!is_ephemeral(&done.callback["data"]) || !text_of(&done.callback).contains("Not done"));
    assert_eq!(
        latest_status(&db, GUILD).await,
        Some(("amber".into(), "Beta on track, perf risk".into()))
    );
    // Someone else clicking dana's prompt cannot post her status.
    let dm = dm_channel_of(DANA);
    let opened = fake
        .interact(click(None, &dm, (LEE, "lee"), &prompt, &amber))
        .await;
    let modal_id = opened.callback["data"]["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = fake
        .interact(submit(
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
    assert_eq!(latest_status(&db, GUILD).await.unwrap().0, "amber");
    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn refusals_are_private_and_name_the_role_and_guilds_stay_apart() {
    let fake = FakeDiscord::start().await;
    // Two roles of one name: only the one whose id is configured counts.
    const COPYCAT: &str = "555000000000000002";
    fake.set_roles(GUILD, &[(LEADS, "pm-leads"), (COPYCAT, "pm-leads")]);
    let db = TestDb::new().await;
    let bot = start(&fake, &db);
    fake.wait_ready(1).await;
    let s = |v: &str| Value::String(v.to_owned());

    // Without Manage Server or the admin role, creating a program is refused, privately.
    let nobody = member(VIEWER, "viewer", 0, &[]);
    let refused = run(
        &fake,
        nobody.clone(),
        &["program", "create"],
        &[("key", s("atlas"))],
    )
    .await;
    assert!(
        is_ephemeral(&refused.callback["data"]),
        "{}",
        refused.callback
    );
    assert!(
        text_of(&refused.callback).contains("tenant admin"),
        "{}",
        refused.callback
    );
    assert!(text_of(&refused.callback).contains("Manage Server"));

    // A role that only has the admin role's name makes nobody an admin.
    let copycat = member(LEE, "lee", 0, &[COPYCAT]);
    let refused = run(
        &fake,
        copycat,
        &["program", "create"],
        &[("key", s("atlas"))],
    )
    .await;
    assert!(
        text_of(&refused.callback).contains("tenant admin"),
        "{}",
        refused.callback
    );

    // The configured role (by id) makes a member a tenant admin.
    let lead = member(TPM, "tpm", 0, &[LEADS]);
    let made = run(
        &fake,
        lead.clone(),
        &["program", "create"],
        &[("key", s("atlas"))],
    )
    .await;
    assert!(!is_ephemeral(&made.callback["data"]), "{}", made.callback);

    // A viewer may read, not write; the refusal names the role needed.
    let user = |id: &str| Value::String(format!("user:{id}"));
    let granted = run(
        &fake,
        lead.clone(),
        &["program", "grant"],
        &[
            ("program", s("atlas")),
            ("person", s(&format!("<@{VIEWER}>"))),
            ("role", json!(0)),
        ],
    )
    .await;
    assert!(
        !is_ephemeral(&granted.callback["data"]),
        "{}",
        granted.callback
    );
    let shown = run(
        &fake,
        nobody.clone(),
        &["program", "show"],
        &[("program", s("atlas"))],
    )
    .await;
    assert!(!is_ephemeral(&shown.callback["data"]), "{}", shown.callback);
    let write = run(
        &fake,
        nobody.clone(),
        &["project", "add"],
        &[
            ("program", s("atlas")),
            ("key", s("api")),
            ("owner", user(DANA)),
        ],
    )
    .await;
    assert!(is_ephemeral(&write.callback["data"]), "{}", write.callback);
    assert!(
        text_of(&write.callback).contains("editor"),
        "{}",
        write.callback
    );

    // Another guild sees nothing of this one, and has its own atlas.
    let elsewhere = |path: &[&str], opts: &[(&str, Value)]| {
        fake.interact(slash(
            OTHER_GUILD,
            "300000000000000009",
            member(TPM, "tpm", MANAGE_GUILD, &[]),
            path,
            options(opts),
        ))
    };
    let missing = elsewhere(&["program", "show"], &[("program", s("atlas"))]).await;
    assert!(
        text_of(&missing.callback).contains("there is no program"),
        "{}",
        missing.callback
    );
    let own = elsewhere(
        &["program", "create"],
        &[("key", s("atlas")), ("name", s("Other atlas"))],
    )
    .await;
    assert!(!is_ephemeral(&own.callback["data"]), "{}", own.callback);
    let listed = elsewhere(&["program", "list"], &[]).await;
    assert!(text_of(&listed.callback).contains("Other atlas"));
    let here = run(&fake, lead.clone(), &["program", "list"], &[]).await;
    assert!(
        !text_of(&here.callback).contains("Other atlas"),
        "{}",
        here.callback
    );

    // A button from this guild's prompt does nothing in the other guild.
    let foreign = fake
        .interact(click(
            Some(OTHER_GUILD),
            "300000000000000009",
            (TPM, "tpm"),
            &json!({"components": []}),
            &format!("{GUILD}:dep:atlas:1:deliver"),
        ))
        .await;
    assert!(is_ephemeral(&foreign.callback["data"]));
    assert!(
        text_of(&foreign.callback).contains("another server"),
        "{}",
        foreign.callback
    );

    // An internal error never leaks; a user error is shown word for word.
    let bad = run(
        &fake,
        lead,
        &["milestone", "add"],
        &[
            ("key", s("m")),
            ("target", s("2026-13-01")),
            ("program", s("atlas")),
        ],
    )
    .await;
    assert!(is_ephemeral(&bad.callback["data"]));
    assert!(
        text_of(&bad.callback).contains("not a date"),
        "{}",
        bad.callback
    );

    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// `drumbeat run` with a token connects through the proxy's gateway, answers, and on
/// SIGTERM stops taking interactions and exits cleanly.
#[tokio::test]
async fn the_binary_serves_discord_and_stops_on_sigterm() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    let mut child = db
        .command()
        .arg("run")
        .env_remove("RUST_LOG")
        .env(
            "DRUMBEAT_CONFIG",
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .env("DISCORD_TOKEN", "test-token")
        .env("DRUMBEAT_DISCORD__PROXY_URL", fake.url())
        .env("DRUMBEAT_DISCORD__DEV_GUILD_ID", GUILD)
        .env("DRUMBEAT_LOG__FILTER", "error")
        .env("DRUMBEAT_HTTP__ADDR", "127.0.0.1:0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start drumbeat run");
    fake.wait_ready(1).await;
    assert_eq!(
        fake.registrations()[0].0.as_deref(),
        Some(GUILD),
        "dev_guild_id registers in that guild"
    );
    let s = |v: &str| Value::String(v.to_owned());
    let made = run(
        &fake,
        tpm(),
        &["program", "create"],
        &[("key", s("atlas")), ("name", s("Atlas"))],
    )
    .await;
    assert!(!is_ephemeral(&made.callback["data"]), "{}", made.callback);

    let term = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 30 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    // The gateway session ended with it, and the program it created is there.
    fake.wait_for("the gateway session to end", |f| {
        f.gateway_closed().then_some(())
    })
    .await;
    let mut tx = db.store.read().await.unwrap();
    let found = store::find_program(
        &mut tx,
        &Tenant::discord(GUILD.parse().unwrap()),
        &Key::parse("atlas").unwrap(),
    )
    .await
    .unwrap();
    assert!(found.is_some());
    fake.assert_nothing_unexpected();
}

/// With `schedule.prompts = "channel"`, the prompt goes to the program's channel with the
/// owner mentioned; only the owner's answer is taken, and it still counts as an answer.
#[tokio::test]
async fn prompts_in_the_channel_mention_the_owner_and_take_only_their_answer() {
    let fake = FakeDiscord::start().await;
    fake.set_roles(GUILD, &[("555000000000000001", "pm-leads")]);
    let db = TestDb::new().await;
    db.clock.set(at(8, 0));
    let bot = start(&fake, &db);
    fake.wait_ready(1).await;
    set_up(&fake).await;
    let s = |v: &str| Value::String(v.to_owned());
    let bound = run(
        &fake,
        tpm(),
        &["program", "bind"],
        &[("program", s("atlas"))],
    )
    .await;
    assert!(!is_ephemeral(&bound.callback["data"]), "{}", bound.callback);
    let (scheduler, worker) = rhythm_with(
        &fake,
        &db,
        SchedulerSettings {
            prompts: drumbeat::schedule::PromptRoute::Channel,
            ..SchedulerSettings::default()
        },
    );
    db.clock.set(at(10, 0));
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    let prompt = fake
        .messages()
        .into_iter()
        .find(|(c, b)| c == CHANNEL && text_of(b).contains("Status update for Public API"))
        .map(|(_, b)| b)
        .unwrap_or_else(|| {
            panic!(
                "no prompt in the channel: {:#?} {:?}",
                fake.messages()
                    .iter()
                    .map(|(c, b)| (c.clone(), b["embeds"][0]["title"].clone()))
                    .collect::<Vec<_>>(),
                fake.dms()
            )
        });
    assert!(fake.dms().is_empty(), "no DMs: {:?}", fake.dms());
    assert_eq!(prompt["allowed_mentions"]["users"], json!([DANA]));
    assert!(prompt["content"]
        .as_str()
        .unwrap()
        .contains(&format!("<@{DANA}>")));
    let red = format!("{GUILD}:status:atlas:api:red");
    // lee clicks dana's prompt: the form opens, the answer is refused.
    let opened = fake
        .interact(click(Some(GUILD), CHANNEL, (LEE, "lee"), &prompt, &red))
        .await;
    assert_eq!(opened.callback["type"], 9);
    let refused = fake
        .interact(submit(
            Some(GUILD),
            CHANNEL,
            (LEE, "lee"),
            &red,
            &[("summary", "no")],
        ))
        .await;
    assert!(
        is_ephemeral(&refused.callback["data"]),
        "{}",
        refused.callback
    );
    assert_eq!(latest_status(&db, GUILD).await, None);
    // dana answers Red with a blocker.
    let done = fake
        .interact(submit(
            Some(GUILD),
            CHANNEL,
            (DANA, "dana"),
            &red,
            &[("summary", "Auth is late"), ("blockers", "security review")],
        ))
        .await;
    assert!(
        !text_of(&done.callback).contains("Not done"),
        "{}",
        done.callback
    );
    assert_eq!(latest_status(&db, GUILD).await.unwrap().0, "red");
    // lee, who never answered, is reminded in the afternoon; dana is not.
    let sent_before = fake.messages().len();
    let _ = run(
        &fake,
        tpm(),
        &["schedule", "set"],
        &[
            ("program", s("atlas")),
            ("kind", json!(1)),
            ("spec", s("weekdays 15:00")),
        ],
    )
    .await;
    db.clock.set(at(15, 0));
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    let later: Vec<String> = fake.messages()[sent_before..]
        .iter()
        .map(|(_, b)| text_of(b))
        .collect();
    assert!(
        later
            .iter()
            .any(|t| t.contains(LEE) && t.contains("Web app")),
        "{later:#?}"
    );
    assert!(
        !later.iter().any(|t| t.contains("Public API")),
        "{later:#?}"
    );
    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}

#[tokio::test]
async fn charts_and_digests_upload_their_pictures() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    db.clock.set(at(8, 0));
    let bot = start(&fake, &db);
    fake.wait_ready(1).await;
    set_up(&fake).await;
    let s = |v: &str| Value::String(v.to_owned());

    // `/chart show` is deferred, then the deferred answer is edited with the PNG uploaded.
    let kinds = drumbeat::domain::ChartKind::ALL;
    let timeline = kinds.iter().position(|k| k.as_str() == "timeline").unwrap();
    let shown = run(
        &fake,
        tpm(),
        &["chart", "show"],
        &[("program", s("atlas")), ("kind", json!(timeline))],
    )
    .await;
    assert_eq!(
        shown.callback["type"], 5,
        "deferred first: {}",
        shown.callback
    );
    let token = fake.last_token();
    let parts = fake.wait_webhooks(&token, 1).await;
    assert_eq!(parts[0].0, "PATCH", "{parts:?}");
    assert_eq!(
        parts[0].1["attachments"],
        json!([{ "id": 0, "filename": "atlas-timeline.png" }])
    );
    let uploads: Vec<_> = fake
        .uploads()
        .into_iter()
        .filter(|(at, _)| *at == token)
        .collect();
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    assert_eq!(uploads[0].1.filename, "atlas-timeline.png");
    crate::charts::assert_drawn(&uploads[0].1.bytes, 1400, 100);

    // A bad kind never reaches the grammar: Discord sends an index; an unknown one is refused.
    let odd = run(
        &fake,
        tpm(),
        &["chart", "show"],
        &[("program", s("atlas")), ("kind", json!(9))],
    )
    .await;
    assert!(is_ephemeral(&odd.callback["data"]), "{}", odd.callback);

    // The dependency map as a picture, through `/path map`.
    let formats = drumbeat::domain::MapFormat::ALL;
    let png = formats.iter().position(|f| f.as_str() == "png").unwrap();
    run(
        &fake,
        tpm(),
        &["path", "map"],
        &[("program", s("atlas")), ("format", json!(png))],
    )
    .await;
    let token = fake.last_token();
    fake.wait_webhooks(&token, 1).await;
    let map: Vec<_> = fake
        .uploads()
        .into_iter()
        .filter(|(at, _)| *at == token)
        .collect();
    assert_eq!(map.len(), 1);
    assert_eq!(map[0].1.filename, "atlas-deps.png");

    // Engineering digests on Discord carry the timeline; executive ones do not.
    for audience in ["engineering", "executive"] {
        let index = drumbeat::domain::Audience::ALL
            .iter()
            .position(|a| a.as_str() == audience)
            .unwrap();
        let subscribed = run(
            &fake,
            tpm(),
            &["digest", "subscribe"],
            &[
                ("program", s("atlas")),
                ("audience", json!(index)),
                ("channel", s(&format!("channel:{CHANNEL}"))),
                ("at", s("daily 09:00")),
            ],
        )
        .await;
        assert!(
            !is_ephemeral(&subscribed.callback["data"]),
            "{}",
            subscribed.callback
        );
    }
    let (scheduler, worker) = rhythm(&fake, &db);
    db.clock.set(at(9, 0));
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    let digests: Vec<Value> = fake
        .messages()
        .into_iter()
        .filter(|(c, b)| c == CHANNEL && text_of(b).contains("digest"))
        .map(|(_, b)| b)
        .collect();
    assert!(digests.len() >= 2, "{digests:#?}");
    let in_channel: Vec<_> = fake
        .uploads()
        .into_iter()
        .filter(|(at, _)| at == CHANNEL)
        .collect();
    assert_eq!(in_channel.len(), 1, "one timeline, for engineering");
    assert_eq!(in_channel[0].1.filename, "atlas-timeline.png");
    crate::charts::assert_drawn(&in_channel[0].1.bytes, 1400, 100);
    let with_file: Vec<&Value> = digests
        .iter()
        .filter(|b| b.get("attachments").is_some())
        .collect();
    assert_eq!(with_file.len(), 1);
    assert!(
        text_of(with_file[0]).contains("engineering"),
        "{}",
        with_file[0]
    );

    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}

/// A text channel of the other guild, one Discord no longer has, and one whose lookup fails.
const FOREIGN: &str = "300000000000000009";
const GONE: &str = "300000000000000008";
const BROKEN: &str = "300000000000000007";
/// A channel Drumbeat's role may not view (403).
const HIDDEN: &str = "300000000000000006";

/// The `channel` option of a registered `/area verb`.
fn registered_channel_option(registered: &Value, area: &str, verb: &str) -> Value {
    let find = |list: &Value, name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no `{name}` in {list}"))
    };
    let verb = find(&find(registered, area)["options"], verb);
    find(&verb["options"], "channel")
}

/// The three commands that name a channel, each with `channel` as given.
type Typed = (Vec<&'static str>, Vec<(&'static str, Value)>);

fn channel_commands(channel: &str) -> Vec<Typed> {
    let s = |v: &str| Value::String(v.to_owned());
    let picked = s(&format!("channel:{channel}"));
    let digest = drumbeat::domain::ScheduleKind::ALL
        .iter()
        .position(|k| k.as_str() == "digest")
        .unwrap();
    vec![
        (
            vec!["program", "route"],
            vec![("program", s("atlas")), ("channel", picked.clone())],
        ),
        (
            vec!["digest", "subscribe"],
            vec![
                ("program", s("atlas")),
                ("channel", picked.clone()),
                ("at", s("daily 09:00")),
            ],
        ),
        (
            vec!["schedule", "set"],
            vec![
                ("kind", json!(digest)),
                ("spec", s("weekly fri 16:00")),
                ("program", s("atlas")),
                ("channel", picked),
            ],
        ),
    ]
}

/// An editor of one server cannot send its program's messages into another server's
/// channel: the channel option is Discord's channel picker, and whatever id arrives is
/// checked with `GET /channels/{id}` before anything is stored.
#[tokio::test]
async fn a_channel_of_another_server_is_refused_and_nothing_is_stored() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    db.clock.set(at(8, 0));
    let bot = start(&fake, &db);
    let registered = fake.wait_ready(1).await;
    for (area, verb) in [
        ("program", "route"),
        ("digest", "subscribe"),
        ("schedule", "set"),
    ] {
        let option = registered_channel_option(&registered, area, verb);
        assert_eq!(option["type"], 7, "/{area} {verb}: {option}");
        assert_eq!(
            option["channel_types"],
            json!([0, 5]),
            "text and announcement channels: {option}"
        );
    }
    set_up(&fake).await;
    fake.set_channel(FOREIGN, OTHER_GUILD);
    fake.delete_channel(GONE);
    fake.refuse(BROKEN, 502, 0, "Bad Gateway");
    fake.refuse(HIDDEN, 403, 50001, "Missing Access");
    let before = db.dump().await;

    for (channel, says) in [
        (FOREIGN, "is not a channel of this server"),
        (GONE, "is not a channel of this server"),
        (BROKEN, "could not be checked"),
        (HIDDEN, "give Drumbeat's role View Channel there"),
    ] {
        for (path, opts) in channel_commands(channel) {
            let refused = run(&fake, tpm(), &path, &opts).await;
            assert!(
                is_ephemeral(&refused.callback["data"]),
                "{path:?} {channel}: {}",
                refused.callback
            );
            let text = text_of(&refused.callback);
            assert!(text.contains(says), "{path:?} {channel}: {text}");
            assert!(text.contains(channel), "{text}");
        }
    }
    assert_eq!(db.dump().await, before, "a refused channel stores nothing");

    // The server's own channel is taken, and its guild is asked once, then remembered.
    for (path, opts) in channel_commands(CHANNEL) {
        let taken = run(&fake, tpm(), &path, &opts).await;
        assert!(
            !is_ephemeral(&taken.callback["data"]),
            "{path:?}: {}",
            taken.callback
        );
    }
    let asked = fake
        .channel_lookups()
        .iter()
        .filter(|c| *c == CHANNEL)
        .count();
    assert_eq!(asked, 1, "{:?}", fake.channel_lookups());
    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}

/// A route into another server's channel, stored by a version that did not check channels,
/// is dead-lettered when a message would go there; nothing reaches that channel.
#[tokio::test]
async fn a_stored_route_into_another_servers_channel_is_dead_lettered_never_sent() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    db.clock.set(at(8, 0));
    let bot = start(&fake, &db);
    fake.wait_ready(1).await;
    set_up(&fake).await;
    fake.set_channel(FOREIGN, OTHER_GUILD);
    let tenant = Tenant::discord(GUILD.parse().unwrap());
    {
        let mut tx = db.store.write().await.unwrap();
        let (scope, program) = store::find_program(&mut tx, &tenant, &Key::parse("atlas").unwrap())
            .await
            .unwrap()
            .unwrap();
        let foreign = drumbeat::outbox::Destination::DiscordChannel {
            channel_id: FOREIGN.into(),
        };
        store::set_route(
            &mut tx,
            &scope,
            None,
            Some(&foreign),
            db.clock.now(),
            program.owner,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let (scheduler, worker) = rhythm(&fake, &db);
    db.clock.set(at(10, 0));
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();

    let sent = fake.messages();
    assert!(
        !sent.iter().any(|(c, _)| c == FOREIGN),
        "nothing goes to another server: {sent:#?}"
    );
    let rows = {
        let mut tx = db.store.read().await.unwrap();
        store::tenant_outbox::<drumbeat::reply::Reply>(&mut tx, &tenant)
            .await
            .unwrap()
    };
    let to_foreign: Vec<_> = rows
        .iter()
        .filter(|r| r.destination.to_string().contains(FOREIGN))
        .collect();
    assert!(!to_foreign.is_empty(), "the prompts were routed: {rows:#?}");
    for r in &to_foreign {
        assert_eq!(r.state, store::OutboxState::Dead, "{r:#?}");
        let error = r.last_error.as_deref().unwrap_or_default();
        assert!(error.contains("another Discord server"), "{error}");
    }
    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}

/// `discord.admin_role` is a role id. A role name is not taken (anyone who may create roles
/// could make a role of that name): with a name configured, only Manage Server makes a
/// tenant admin.
#[tokio::test]
async fn an_admin_role_given_by_name_makes_nobody_an_admin() {
    let fake = FakeDiscord::start().await;
    fake.set_roles(GUILD, &[(LEADS, "pm-leads")]);
    fake.set_channel(CHANNEL, GUILD);
    let db = TestDb::new().await;
    let clock: Arc<dyn Clock> = Arc::new(db.clock.clone());
    let by_name = DiscordSettings {
        admin_role: Some("pm-leads".into()),
        ..settings(&fake)
    };
    let bot = Bot::spawn(by_name, token(), Arc::default(), db.store.clone(), clock);
    fake.wait_ready(1).await;
    let s = |v: &str| Value::String(v.to_owned());
    let refused = run(
        &fake,
        member(TPM, "tpm", 0, &[LEADS]),
        &["program", "create"],
        &[("key", s("atlas"))],
    )
    .await;
    assert!(
        is_ephemeral(&refused.callback["data"])
            && text_of(&refused.callback).contains("tenant admin"),
        "{}",
        refused.callback
    );
    let made = run(&fake, tpm(), &["program", "create"], &[("key", s("atlas"))]).await;
    assert!(!is_ephemeral(&made.callback["data"]), "{}", made.callback);
    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}

/// The agenda's "Full digest" button opens the engineering digest for the one who clicked:
/// deferred first (a digest may take longer than 3 s), then answered privately.
#[tokio::test]
async fn a_reports_full_digest_button_answers_with_the_digest() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    db.clock.set(at(8, 0));
    let bot = start(&fake, &db);
    fake.wait_ready(1).await;
    set_up(&fake).await;
    let s = |v: &str| Value::String(v.to_owned());
    let agenda = run(
        &fake,
        tpm(),
        &["report", "agenda"],
        &[("program", s("atlas"))],
    )
    .await;
    assert_eq!(agenda.callback["type"], 5, "deferred first");
    // More sections than one message's ten embeds: two parts, the button on the last.
    let parts = fake.wait_webhooks(&fake.last_token(), 2).await;
    let message = parts
        .iter()
        .map(|(_, body)| body)
        .find(|b| text_of(&b["components"]).contains("Full digest"))
        .unwrap_or_else(|| panic!("a Full digest button: {parts:?}"))
        .clone();
    let id = button_id(&message, "Full digest");
    assert_eq!(id, format!("{GUILD}:digest:atlas:engineering"));

    let clicked = fake
        .interact(click(Some(GUILD), CHANNEL, (TPM, "tpm"), &message, &id))
        .await;
    assert_eq!(
        clicked.callback["type"], 5,
        "deferred: {}",
        clicked.callback
    );
    let answer = fake.wait_webhooks(&fake.last_token(), 2).await;
    assert_eq!(answer[0].0, "DELETE", "{answer:?}");
    assert!(is_ephemeral(&answer[1].1), "{answer:?}");
    let shown = text_of(&answer[1].1);
    assert!(
        shown.contains("Atlas launch") && !shown.contains("Not done"),
        "{shown}"
    );
    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}

/// The dependency (by number) of atlas in `GUILD`: (agreement, proposed date, note).
async fn agreement_of(db: &TestDb, number: i64) -> (String, Option<String>, Option<String>) {
    let tenant = Tenant::discord(GUILD.parse().unwrap());
    let mut tx = db.store.read().await.unwrap();
    let (scope, _) = store::find_program(&mut tx, &tenant, &Key::parse("atlas").unwrap())
        .await
        .unwrap()
        .unwrap();
    let d = store::find_dependency(&mut tx, &scope, number)
        .await
        .unwrap()
        .unwrap();
    (
        d.agreement.as_str().to_owned(),
        d.proposed_on.map(|p| p.to_string()),
        d.agreement_note,
    )
}

/// A dependency request reaches the provider's owner with Accept, Propose a date and
/// Decline; Propose and Decline open a form whose answer is recorded; the consumer's owner
/// is told; someone who does not answer for the provider is refused.
#[tokio::test]
async fn a_dependency_request_is_answered_with_its_buttons() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    db.clock.set(at(8, 0));
    let bot = start(&fake, &db);
    fake.wait_ready(1).await;
    set_up(&fake).await;
    let (_, worker) = rhythm(&fake, &db);
    let s = |v: &str| Value::String(v.to_owned());
    for what in ["Rate limits", "Webhooks"] {
        let added = run(
            &fake,
            tpm(),
            &["dep", "add"],
            &[
                ("program", s("atlas")),
                ("needs", s("web")),
                ("from", s("api")),
                ("what", s(what)),
                ("by", s("2026-12-20")),
            ],
        )
        .await;
        assert!(
            text_of(&added.callback).contains("Requested"),
            "{}",
            added.callback
        );
    }
    worker.drain().await.unwrap();
    let dana_dm = dm_channel_of(DANA);
    let request = |n: i64| {
        fake.messages()
            .into_iter()
            .find(|(c, b)| {
                *c == dana_dm && text_of(b).contains(&format!("Dependency request: #{n}"))
            })
            .map(|(_, b)| b)
            .unwrap_or_else(|| panic!("no request #{n} for dana: {:#?}", fake.messages()))
    };
    let first = request(2);
    assert_eq!(first["allowed_mentions"]["users"], json!([DANA]));
    let labels: Vec<&str> = first["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["label"].as_str())
        .collect();
    assert_eq!(labels, ["Accept", "Propose a date", "Decline"]);

    // lee needs it and cannot answer for the team that provides it.
    let accept = button_id(&first, "Accept");
    assert_eq!(accept, format!("{GUILD}:dep:atlas:2:accept"));
    let refused = fake
        .interact(click(Some(GUILD), CHANNEL, (LEE, "lee"), &first, &accept))
        .await;
    assert!(
        is_ephemeral(&refused.callback["data"]),
        "{}",
        refused.callback
    );
    assert!(
        text_of(&refused.callback).contains("only the providing team"),
        "{}",
        refused.callback
    );
    assert_eq!(agreement_of(&db, 2).await.0, "requested");

    // Propose a date: a form with the date and the reason.
    let propose = button_id(&first, "Propose a date");
    let opened = fake
        .interact(click(None, &dana_dm, (DANA, "dana"), &first, &propose))
        .await;
    assert_eq!(opened.callback["type"], 9, "a modal: {}", opened.callback);
    let form = &opened.callback["data"];
    assert_eq!(form["custom_id"], json!(propose));
    let fields: Vec<(&str, u64)> = form["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let f = &row["components"][0];
            (
                f["custom_id"].as_str().unwrap(),
                f["style"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(fields, [("by", 1), ("reason", 2)]);
    // A date that does not read is refused and changes nothing.
    let bad = fake
        .interact(submit(
            None,
            &dana_dm,
            (DANA, "dana"),
            &propose,
            &[("by", "someday"), ("reason", "perf work first")],
        ))
        .await;
    assert!(
        text_of(&bad.callback).contains("Not done"),
        "{}",
        bad.callback
    );
    assert_eq!(agreement_of(&db, 2).await.0, "requested");
    let sent = fake
        .interact(submit(
            None,
            &dana_dm,
            (DANA, "dana"),
            &propose,
            &[("by", "2026-12-24"), ("reason", "perf work first")],
        ))
        .await;
    assert_eq!(sent.callback["type"], 4, "{}", sent.callback);
    assert!(
        !text_of(&sent.callback).contains("Not done"),
        "{}",
        sent.callback
    );
    assert_eq!(
        agreement_of(&db, 2).await,
        (
            "proposed".to_owned(),
            Some("2026-12-24".to_owned()),
            Some("perf work first".to_owned())
        )
    );

    // Accept, on the second request.
    let second = request(3);
    let accepted = fake
        .interact(click(
            None,
            &dana_dm,
            (DANA, "dana"),
            &second,
            &button_id(&second, "Accept"),
        ))
        .await;
    assert!(
        !text_of(&accepted.callback).contains("Not done"),
        "{}",
        accepted.callback
    );
    assert_eq!(agreement_of(&db, 3).await.0, "accepted");

    // Decline, on the first: a form with the reason only.
    let decline = button_id(&first, "Decline");
    let opened = fake
        .interact(click(None, &dana_dm, (DANA, "dana"), &first, &decline))
        .await;
    assert_eq!(opened.callback["type"], 9, "{}", opened.callback);
    assert_eq!(
        opened.callback["data"]["components"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    fake.interact(submit(
        None,
        &dana_dm,
        (DANA, "dana"),
        &decline,
        &[("reason", "not this quarter")],
    ))
    .await;
    assert_eq!(agreement_of(&db, 2).await.0, "declined");

    // lee heard each answer, in his direct messages.
    worker.drain().await.unwrap();
    let lee_dm = dm_channel_of(LEE);
    let told: Vec<String> = fake
        .messages()
        .into_iter()
        .filter(|(c, _)| *c == lee_dm)
        .map(|(_, b)| {
            b["embeds"][0]["title"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    for title in [
        "Dependency #2 another date proposed: Rate limits",
        "Dependency #3 accepted: Webhooks",
        "Dependency #2 declined: Rate limits",
    ] {
        assert!(told.iter().any(|t| t == title), "{title} in {told:?}");
    }
    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}

/// The status prompt lists the owner's open action items with a *Done* button each; the
/// button marks it done for its owner only.
#[tokio::test]
async fn a_prompts_done_button_closes_an_action_item() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    db.clock.set(at(8, 0));
    let bot = start(&fake, &db);
    fake.wait_ready(1).await;
    set_up(&fake).await;
    let s = |v: &str| Value::String(v.to_owned());
    let added = run(
        &fake,
        tpm(),
        &["action", "add"],
        &[
            ("program", s("atlas")),
            ("title", s("Send the EU plan")),
            ("owner", Value::String(format!("user:{DANA}"))),
            ("due", s("2026-12-04")),
        ],
    )
    .await;
    assert!(!is_ephemeral(&added.callback["data"]), "{}", added.callback);
    let (scheduler, worker) = rhythm(&fake, &db);
    db.clock.set(at(10, 1));
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    let prompt = fake
        .messages()
        .into_iter()
        .map(|(_, b)| b)
        .find(|b| text_of(b).contains("Status update for Public API"))
        .expect("a prompt to dana");
    assert!(
        text_of(&prompt).contains("Your open action items (1)"),
        "{prompt}"
    );
    let done = button_id(&prompt, "Done #1");
    assert_eq!(done, format!("{GUILD}:action:atlas:1:done"));
    let dm = dm_channel_of(DANA);
    // "My inbox" lists what waits on whoever clicks it, with the command that clears each.
    let inbox = button_id(&prompt, "My inbox");
    assert_eq!(inbox, format!("{GUILD}:inbox"));
    let listed = fake
        .interact(click(None, &dm, (DANA, "dana"), &prompt, &inbox))
        .await;
    assert!(
        is_ephemeral(&listed.callback["data"]),
        "{}",
        listed.callback
    );
    let words = listed.callback.to_string();
    assert!(words.contains("Waiting on you"), "{words}");
    assert!(words.contains("action done atlas 1"), "{words}");
    // Someone else's click changes nothing.
    let refused = fake
        .interact(click(None, &dm, (LEE, "lee"), &prompt, &done))
        .await;
    assert!(
        text_of(&refused.callback).contains("only its owner"),
        "{}",
        refused.callback
    );
    let clicked = fake
        .interact(click(None, &dm, (DANA, "dana"), &prompt, &done))
        .await;
    assert!(
        is_ephemeral(&clicked.callback["data"]),
        "{}",
        clicked.callback
    );
    assert!(
        text_of(&clicked.callback).contains("is done"),
        "{}",
        clicked.callback
    );
    let tenant = Tenant::discord(GUILD.parse().unwrap());
    let mut tx = db.store.read().await.unwrap();
    let (scope, _) = store::find_program(&mut tx, &tenant, &Key::parse("atlas").unwrap())
        .await
        .unwrap()
        .unwrap();
    let item = store::find_item(&mut tx, &scope, drumbeat::domain::ItemKind::Action, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(item.state.as_str(), "done");
    drop(tx);
    fake.assert_nothing_unexpected();
    bot.stop().await.unwrap();
}
