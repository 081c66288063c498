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
    fake.refuse("666666666666666666", 403, 50001, "Missing Access");
    let (sink, _) = ConsoleSink::memory();
    let settings = DeliverySettings::default();
    let senders = Senders::from_settings(&settings, sink)
        .unwrap()
        .with_discord(DiscordSender::new(
            &SecretString::from("test-token".to_owned()),
            Some(&fake.url()),
        ));
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
        store::tenant_outbox(&mut tx, &tenant).await.unwrap()
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
