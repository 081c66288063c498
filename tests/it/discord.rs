//! The outbox's Discord sender against a fake Discord on loopback: DMs and channel posts,
//! pings only for typed mentions, nonces, limits, and 403/404 dead-lettered.

use std::sync::Arc;

use drumbeat::config::DeliverySettings;
use drumbeat::domain::{Key, Tenant};
use drumbeat::outbox::{ConsoleSink, Destination, NewMessage, Senders, Worker};
use drumbeat::platform::discord::DiscordSender;
use drumbeat::reply::{Mention, Reply, Text};
use drumbeat::store::{self, OutboxState};
use secrecy::SecretString;

use crate::fake_discord::{dm_channel_of, FakeDiscord};
use crate::helpers::TestDb;

const GUILD: u64 = 42;
const TPM: &str = "111111111111111111";
const DANA: &str = "222222222222222222";

#[tokio::test]
async fn discord_messages_ping_only_typed_people_and_dead_letter_what_discord_refuses() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    let tenant = Tenant::discord(GUILD);
    // The tenant admin creates the program and hands it to the TPM, a Discord user.
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#.to_owned(),
        format!("program set atlas --owner <@{TPM}>"),
    ] {
        db.run_with(&tenant, drumbeat::domain::Platform::Discord, "tpm", &line)
            .await
            .unwrap();
    }
    let program = {
        let mut tx = db.store.read().await.unwrap();
        let (_, p) = store::find_program(&mut tx, &tenant, &Key::parse("atlas").unwrap())
            .await
            .unwrap()
            .unwrap();
        p
    };
    let ping = Reply::new("Blocker: dependency #1 Auth endpoints").paragraph(
        Text::new()
            .person(Mention {
                handle: DANA.into(),
                name: "dana".into(),
            })
            .text(", @everyone <@&9> is blocked."),
    );
    let digest = {
        // A long digest: several messages, none pinging anyone.
        let mut r = Reply::new("Atlas: engineering digest");
        r = r.list(
            (0..400)
                .map(|i| Text::plain(format!("line {i} {}", "x".repeat(120))))
                .collect(),
        );
        r
    };
    let messages = [
        (
            Destination::DiscordUser {
                user_id: DANA.into(),
            },
            ping,
            "k1",
        ),
        (
            Destination::DiscordChannel {
                channel_id: "555555555555555555".into(),
            },
            digest,
            "k2",
        ),
        (
            Destination::DiscordChannel {
                channel_id: "666666666666666666".into(),
            },
            Reply::new("to a channel we cannot see"),
            "k3",
        ),
    ];
    {
        let mut tx = db.store.write().await.unwrap();
        for (destination, reply, key) in messages {
            store::enqueue(
                &mut tx,
                &NewMessage {
                    tenant: tenant.clone(),
                    program_id: Some(program.id),
                    destination,
                    reply,
                    reason: "a test".into(),
                    dedup_key: Some(key.into()),
                    not_before: crate::helpers::now(),
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    fake.set_channel("555555555555555555", &GUILD.to_string());
    fake.refuse("666666666666666666", 403, 50001, "Missing Access");
    let (sink, _) = ConsoleSink::memory();
    let settings = DeliverySettings::default();
    let senders = Senders::console(sink)
        .with(
            drumbeat::platform::slack::WebhookSender::KINDS,
            drumbeat::platform::slack::WebhookSender::new(&settings).unwrap(),
        )
        .with(
            DiscordSender::KINDS,
            DiscordSender::new(
                &SecretString::from("test-token".to_owned()),
                Some(&fake.url()),
            ),
        );
    let clock: Arc<dyn drumbeat::clock::Clock> = Arc::new(db.clock.clone());
    let worker = Worker::new(db.store.clone(), senders, clock, &settings);
    worker.drain().await.unwrap();
    worker.drain().await.unwrap(); // the dead-letter notice to the owner, by DM

    fake.assert_nothing_unexpected();
    // The ping: a DM to dana, her id in content and in allowed_mentions, nobody else.
    let dm = dm_channel_of(DANA);
    let sent = fake.messages();
    let to_dana: Vec<_> = sent.iter().filter(|(c, _)| *c == dm).collect();
    assert_eq!(to_dana.len(), 1, "{sent:#?}");
    assert!(fake.dms().contains(&DANA.to_owned()));
    let body = &to_dana[0].1;
    assert_eq!(body["allowed_mentions"]["users"], serde_json::json!([DANA]));
    assert_eq!(body["allowed_mentions"]["parse"], serde_json::json!([]));
    assert_eq!(body["allowed_mentions"]["roles"], serde_json::json!([]));
    assert!(
        body["content"]
            .as_str()
            .unwrap()
            .contains(&format!("<@{DANA}>")),
        "{body}"
    );
    let raw = body.to_string();
    assert!(
        !raw.contains("@everyone") && !raw.contains("<@&9>"),
        "user text cannot ping: {raw}"
    );
    // The digest: several messages, within limits (the fake refuses anything else), no pings.
    let digest: Vec<_> = sent
        .iter()
        .filter(|(c, _)| c == "555555555555555555")
        .collect();
    assert!(digest.len() > 1, "a long digest is split");
    assert!(digest
        .iter()
        .all(|(_, b)| b["allowed_mentions"]["users"] == serde_json::json!([])));
    let nonces: std::collections::HashSet<&str> = digest
        .iter()
        .map(|(_, b)| b["nonce"].as_str().unwrap())
        .collect();
    assert_eq!(nonces.len(), digest.len(), "each part has its own nonce");
    // 403: dead, and the program owner is told by DM.
    let rows = {
        let mut tx = db.store.read().await.unwrap();
        store::tenant_outbox::<Reply>(&mut tx, &tenant)
            .await
            .unwrap()
    };
    let dead: Vec<_> = rows
        .iter()
        .filter(|r| r.state == OutboxState::Dead)
        .collect();
    assert_eq!(dead.len(), 1, "{rows:#?}");
    assert!(
        dead[0].last_error.as_deref().unwrap_or("").contains("403"),
        "{:?}",
        dead[0].last_error
    );
    assert!(
        fake.messages()
            .iter()
            .any(|(c, _)| *c == dm_channel_of(TPM)),
        "the owner hears of the dead letter"
    );
}

/// Before a message goes to a channel, the channel's guild is checked against the tenant's:
/// another server's channel and a deleted one are dead-lettered unsent; a lookup that fails
/// is retried later; the own channel's guild is asked once and remembered.
#[tokio::test]
async fn messages_go_only_to_channels_of_the_tenants_own_server() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    let tenant = Tenant::discord(GUILD);
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#.to_owned(),
        format!("program set atlas --owner <@{TPM}>"),
    ] {
        db.run_with(&tenant, drumbeat::domain::Platform::Discord, "tpm", &line)
            .await
            .unwrap();
    }
    let program = {
        let mut tx = db.store.read().await.unwrap();
        let (_, p) = store::find_program(&mut tx, &tenant, &Key::parse("atlas").unwrap())
            .await
            .unwrap()
            .unwrap();
        p
    };
    const OWN: &str = "555555555555555555";
    const OTHER_SERVERS: &str = "777777777777777777";
    const DELETED: &str = "888888888888888888";
    const FLAKY: &str = "999999999999999999";
    fake.set_channel(OWN, &GUILD.to_string());
    fake.set_channel(OTHER_SERVERS, "43");
    fake.delete_channel(DELETED);
    fake.refuse(FLAKY, 503, 0, "Service Unavailable");
    {
        let mut tx = db.store.write().await.unwrap();
        for (i, channel) in [OWN, OWN, OTHER_SERVERS, DELETED, FLAKY]
            .into_iter()
            .enumerate()
        {
            store::enqueue(
                &mut tx,
                &NewMessage {
                    tenant: tenant.clone(),
                    program_id: Some(program.id),
                    destination: Destination::DiscordChannel {
                        channel_id: channel.into(),
                    },
                    reply: Reply::new(format!("message {i}")),
                    reason: "a test".into(),
                    dedup_key: Some(format!("m{i}")),
                    not_before: crate::helpers::now(),
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let (sink, _) = ConsoleSink::memory();
    let settings = DeliverySettings::default();
    let senders = Senders::console(sink)
        .with(
            drumbeat::platform::slack::WebhookSender::KINDS,
            drumbeat::platform::slack::WebhookSender::new(&settings).unwrap(),
        )
        .with(
            DiscordSender::KINDS,
            DiscordSender::new(
                &SecretString::from("test-token".to_owned()),
                Some(&fake.url()),
            ),
        );
    let clock: Arc<dyn drumbeat::clock::Clock> = Arc::new(db.clock.clone());
    let worker = Worker::new(db.store.clone(), senders, clock, &settings);
    worker.drain().await.unwrap();

    let sent: Vec<String> = fake
        .messages()
        .into_iter()
        .map(|(c, _)| c)
        .filter(|c| !c.starts_with('9') || c == FLAKY)
        .collect();
    assert_eq!(
        sent,
        [OWN, OWN],
        "only the own server's channel gets messages"
    );
    // The worker sends in parallel, so both first messages may ask; a later one does not.
    let asked = |fake: &FakeDiscord| fake.channel_lookups().iter().filter(|c| *c == OWN).count();
    let before = asked(&fake);
    {
        let mut tx = db.store.write().await.unwrap();
        store::enqueue(
            &mut tx,
            &NewMessage {
                tenant: tenant.clone(),
                program_id: Some(program.id),
                destination: Destination::DiscordChannel {
                    channel_id: OWN.into(),
                },
                reply: Reply::new("one more"),
                reason: "a test".into(),
                dedup_key: Some("later".into()),
                not_before: crate::helpers::now(),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    worker.drain().await.unwrap();
    assert_eq!(fake.messages().iter().filter(|(c, _)| c == OWN).count(), 3);
    assert_eq!(asked(&fake), before, "the channel's server is remembered");
    let rows = {
        let mut tx = db.store.read().await.unwrap();
        store::tenant_outbox::<Reply>(&mut tx, &tenant)
            .await
            .unwrap()
    };
    let row = |channel: &str| {
        rows.iter()
            .find(|r| r.destination.to_string().contains(channel))
            .unwrap_or_else(|| panic!("no row to {channel}: {rows:#?}"))
    };
    let other = row(OTHER_SERVERS);
    assert_eq!(other.state, OutboxState::Dead);
    let error = other.last_error.as_deref().unwrap_or_default();
    assert!(
        error.contains("belongs to another Discord server (43)"),
        "{error}"
    );
    let deleted = row(DELETED);
    assert_eq!(deleted.state, OutboxState::Dead);
    assert!(
        deleted
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("has no channel"),
        "{:?}",
        deleted.last_error
    );
    let flaky = row(FLAKY);
    assert_eq!(flaky.state, OutboxState::Pending, "{flaky:#?}");
    assert!(
        flaky
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("503"),
        "{:?}",
        flaky.last_error
    );
    fake.assert_nothing_unexpected();
}

/// `drumbeat exec` on a Discord tenant without a Discord token cannot check a channel: the
/// command is refused with the reason, exit 2, and nothing is stored.
#[tokio::test]
async fn without_a_token_a_discord_channel_is_refused_with_exit_2() {
    let db = TestDb::new().await;
    let exec = |line: &str| {
        db.command()
            .args(["exec", "--tenant", "discord:42", line])
            .env_remove("RUST_LOG")
            .env_remove("DISCORD_TOKEN")
            .env_remove("DRUMBEAT_DISCORD__TOKEN")
            .env(
                "DRUMBEAT_CONFIG",
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
            )
            .output()
            .expect("run drumbeat")
    };
    let made = exec(r#"program create atlas --name "Atlas" --tz UTC"#);
    assert!(made.status.success(), "{made:?}");
    let before = db.dump().await;
    for line in [
        "program route atlas --channel 555555555555555555",
        "digest subscribe atlas --channel 555555555555555555",
        r#"schedule set atlas digest "weekly fri 16:00" --channel 555555555555555555"#,
    ] {
        let refused = exec(line);
        assert_eq!(refused.status.code(), Some(2), "{line}: {refused:?}");
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(
            said.contains("could not be checked") && said.contains("token"),
            "{line}: {said}"
        );
    }
    assert_eq!(db.dump().await, before);
}

/// With a token, `drumbeat exec` asks Discord: the server's own channel is taken, another
/// server's is refused with exit 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_exec_asks_discord_whose_channel_it_is() {
    let fake = FakeDiscord::start().await;
    fake.set_channel("555555555555555555", "42");
    fake.set_channel("777777777777777777", "43");
    let db = TestDb::new().await;
    let exec = |line: &str| {
        db.command()
            .args(["exec", "--tenant", "discord:42", line])
            .env_remove("RUST_LOG")
            .env("DISCORD_TOKEN", "test-token")
            .env("DRUMBEAT_DISCORD__PROXY_URL", fake.url())
            .env(
                "DRUMBEAT_CONFIG",
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
            )
            .output()
            .expect("run drumbeat")
    };
    let made = exec(r#"program create atlas --name "Atlas" --tz UTC"#);
    assert!(made.status.success(), "{made:?}");
    let foreign = exec("program route atlas --channel 777777777777777777");
    assert_eq!(foreign.status.code(), Some(2), "{foreign:?}");
    let said = String::from_utf8_lossy(&foreign.stderr);
    assert!(said.contains("not a channel of this server"), "{said}");
    let own = exec("program route atlas --channel <#555555555555555555>");
    assert!(own.status.success(), "{own:?}");
    fake.assert_nothing_unexpected();
}

/// The checker a process builds from its settings asks Discord for a Discord tenant's
/// channels when it has a token, and leaves the console's own channels alone.
#[tokio::test]
async fn the_settings_checker_asks_discord_for_discord_tenants() {
    use drumbeat::command::ChannelVerdict;
    let fake = FakeDiscord::start().await;
    fake.set_channel("555555555555555555", "42");
    fake.set_channel("777777777777777777", "43");
    let mut settings = drumbeat::config::Settings::load(Some(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
    ))
    .unwrap();
    settings.discord.token = Some(SecretString::from("test-token".to_owned()));
    settings.discord.proxy_url = Some(fake.url());
    let check = drumbeat::platform::channel_check(&settings);
    let ours = Tenant::discord(GUILD);
    assert_eq!(
        check.check(&ours, "555555555555555555").await,
        ChannelVerdict::Belongs
    );
    assert_eq!(
        check.check(&ours, "777777777777777777").await,
        ChannelVerdict::Foreign
    );
    assert_eq!(
        check.check(&Tenant::local(), "console").await,
        ChannelVerdict::Belongs
    );
    // A Slack workspace's channels are not Discord's to vouch for.
    let slack = Tenant::slack("T0001");
    assert!(matches!(
        check.check(&slack, "C0001").await,
        ChannelVerdict::Unchecked(_)
    ));
    fake.assert_nothing_unexpected();
}
