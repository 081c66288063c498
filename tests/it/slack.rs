//! The Slack adapter through its real server on 127.0.0.1: signatures checked before
//! anything is read, slash commands through the grammar, digests answered at `response_url`,
//! the status-prompt buttons and modal, webhook URLs refused, and user text kept inert.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use drumbeat::clock::Clock;
use drumbeat::config::{Settings, DEFAULTS};
use drumbeat::domain::Tenant;
use drumbeat::outbox::{Destination, OutboxRow, OutboxState, SendOutcome, Sender};
use drumbeat::platform::slack::WebhookSender;
use drumbeat::platform::slack::{self, SlackApp, BODY_MAX};
use drumbeat::reply::{self, Reply};
use figment::providers::{Format, Toml};

use crate::fake_slack::{FakeSlack, SlackClient, BOT_TOKEN};
use crate::fake_webhook::{Answer, FakeWebhook};
use crate::helpers::TestDb;

const SECRET: &str = "test-signing-secret";
pub(crate) const TEAM: &str = "T0TEAM";
pub(crate) const ADMIN: &str = "UADMIN";
pub(crate) const DANA: &str = "UDANA";
/// A workspace the bot token is not for, and its admin.
const OTHER_TEAM: &str = "T0OTHER";
const OTHER_ADMIN: &str = "UOTHERADMIN";

pub(crate) struct Server {
    pub(crate) db: TestDb,
    pub(crate) fake: FakeSlack,
    pub(crate) client: SlackClient,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _stop: tokio::sync::watch::Sender<bool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn settings(secret: &str, fake: &FakeSlack, bot_token: bool, ack_after_ms: u64) -> Settings {
    let mut s: Settings = figment::Figment::from(Toml::string(DEFAULTS))
        .extract()
        .expect("defaults");
    s.slack.signing_secret = Some(secret.to_owned().into());
    s.slack.bot_token = bot_token.then(|| BOT_TOKEN.to_owned().into());
    s.slack.api_url = Some(fake.api_url());
    s.slack.admins = [(TEAM, ADMIN), (OTHER_TEAM, OTHER_ADMIN)]
        .iter()
        .map(|(team, user)| drumbeat::config::SlackAdmin::parse(&format!("{team}:{user}")).unwrap())
        .collect();
    s.slack.ack_after_ms = ack_after_ms;
    s.delivery.allow_loopback_http = true;
    s.delivery.request_timeout_ms = 2000;
    s
}

async fn start_with(db: TestDb, secret: &str, bot_token: bool, ack_after_ms: u64) -> Server {
    start_linked(db, secret, bot_token, ack_after_ms, None).await
}

async fn start_linked(
    db: TestDb,
    secret: &str,
    bot_token: bool,
    ack_after_ms: u64,
    links: Option<drumbeat::schedule::ChartLinks>,
) -> Server {
    let fake = FakeSlack::start().await;
    let clock: Arc<dyn Clock> = Arc::new(db.clock.clone());
    let mut settings = settings(secret, &fake, bot_token, ack_after_ms);
    settings.http.public_url = links.as_ref().map(|l| l.public_url.to_string());
    let mut app = SlackApp::from_settings(&settings, db.store.clone(), clock.clone())
        .expect("the app builds")
        .expect("a signing secret is set");
    if let Some(links) = links {
        app = app.with_chart_links(links);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(slack::serve(listener, app, stopped));
    Server {
        client: SlackClient::new(addr, secret, clock),
        db,
        fake,
        task,
        _stop: stop,
    }
}

pub(crate) async fn start(bot_token: bool) -> Server {
    start_with(TestDb::new().await, SECRET, bot_token, 2000).await
}

impl Server {
    pub(crate) async fn as_user(&self, user: &str, text: &str) -> slack_message::Msg {
        let got = self
            .client
            .command(TEAM, user, text, &self.fake.response_url("r"))
            .await;
        assert_eq!(got.status, 200, "{}", got.body);
        assert_eq!(got.json()["response_type"], "ephemeral");
        slack_message::Msg(got.message())
    }

    /// The sample program in the Slack workspace, owned by the admin, `api` led by Dana.
    pub(crate) async fn seed(&self) {
        for line in [
            r#"program create atlas --name "Atlas cloud launch" --tz Europe/Berlin"#,
            "project add atlas api --name \"Public API\" --owner <@UDANA>",
            r#"milestone add atlas api-beta --title "API beta" --target 2026-12-15 --project api"#,
            r#"risk add atlas "Vendor SDK late" --likelihood 4 --impact 5 --mitigation "fallback to REST""#,
        ] {
            let m = self.as_user(ADMIN, line).await;
            assert!(!m.text().contains("Not done"), "{line}: {}", m.text());
        }
    }
}

/// A Slack message with its text flattened, for assertions.
pub(crate) mod slack_message {
    use drumbeat::reply::slack::{Block, Element};

    pub struct Msg(pub drumbeat::reply::slack::Message);

    impl Msg {
        pub fn text(&self) -> String {
            let mut out = vec![self.0.text.clone()];
            for b in &self.0.blocks {
                match b {
                    Block::Header { text } => out.push(text.text().to_owned()),
                    Block::Section { text, fields } => {
                        out.extend(text.iter().map(|t| t.text().to_owned()));
                        out.extend(fields.iter().map(|t| t.text().to_owned()));
                    }
                    Block::Context { elements } => {
                        out.extend(elements.iter().map(|t| t.text().to_owned()))
                    }
                    Block::Actions { elements } => {
                        for Element::Button { text, .. } in elements {
                            out.push(text.text().to_owned());
                        }
                    }
                    Block::Image {
                        image_url,
                        alt_text,
                    } => out.push(format!("{alt_text}: {image_url}")),
                }
            }
            out.join("\n")
        }
    }
}

// ── Signatures ─────────────────────────────────────────────────────────────────────────

const DOC_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const DOC_TS: &str = "1531420618";
const DOC_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const DOC_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

#[tokio::test]
async fn slacks_published_example_verifies_at_plus_60s_and_is_refused_at_plus_301s() {
    let db = TestDb::new().await;
    let signed_at = Utc.timestamp_opt(1_531_420_618, 0).unwrap();
    db.clock.set(signed_at + chrono::Duration::seconds(60));
    let s = start_with(db, DOC_SECRET, false, 2000).await;
    let before = s.db.dump().await;

    let got = s
        .client
        .raw(
            "/slack/commands",
            DOC_BODY.into(),
            Some(DOC_TS),
            Some(DOC_SIG),
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    // Its text is empty: the answer is the help, shown to the one who asked.
    let help = slack_message::Msg(got.message()).text();
    assert!(help.contains("Help"), "{help}");

    s.db.clock.set(signed_at + chrono::Duration::seconds(301));
    let late = s
        .client
        .raw(
            "/slack/commands",
            DOC_BODY.into(),
            Some(DOC_TS),
            Some(DOC_SIG),
        )
        .await;
    assert_eq!(late.status, 401, "{}", late.body);
    assert!(late.body.contains("301 s from now"), "{}", late.body);
    assert_eq!(s.db.dump().await, before);
}

#[tokio::test]
async fn a_changed_byte_a_wrong_secret_a_missing_header_or_an_oversize_body_is_refused_and_changes_nothing(
) {
    let s = start(false).await;
    let body = SlackClient::command_body(
        TEAM,
        ADMIN,
        r#"program create atlas --name "Atlas""#,
        &s.fake.response_url("r"),
    );
    let ts = s.client.timestamp();
    let sig = drumbeat::platform::slack::sign(SECRET, &ts, body.as_bytes());
    let before = s.db.dump().await;

    let mut changed = body.clone().into_bytes();
    let at = changed.len() / 2;
    changed[at] ^= 0x01;
    let wrong_secret = drumbeat::platform::slack::sign("not-the-secret", &ts, body.as_bytes());
    let oversize = SlackClient::command_body(
        TEAM,
        ADMIN,
        &format!("program create atlas --name \"{}\"", "x".repeat(BODY_MAX)),
        &s.fake.response_url("r"),
    );
    let oversize_sig = drumbeat::platform::slack::sign(SECRET, &ts, oversize.as_bytes());
    // Not even a form: refused for its signature, so it was never read as one.
    let junk = b"\xff\xfe{not a form".to_vec();
    struct Case<'a> {
        what: &'a str,
        bytes: Vec<u8>,
        ts: Option<&'a str>,
        sig: Option<&'a str>,
        status: u16,
        says: &'a str,
    }
    let case = |what, bytes, ts, sig, status, says| Case {
        what,
        bytes,
        ts,
        sig,
        status,
        says,
    };
    let cases = vec![
        case(
            "one byte changed",
            changed,
            Some(&ts),
            Some(&sig),
            401,
            "does not match",
        ),
        case(
            "wrong secret",
            body.clone().into_bytes(),
            Some(&ts),
            Some(&wrong_secret),
            401,
            "does not match",
        ),
        case(
            "no signature",
            body.clone().into_bytes(),
            Some(&ts),
            None,
            401,
            "X-Slack-Signature header is missing",
        ),
        case(
            "no timestamp",
            body.clone().into_bytes(),
            None,
            Some(&sig),
            401,
            "X-Slack-Request-Timestamp header is missing",
        ),
        case(
            "oversize",
            oversize.into_bytes(),
            Some(&ts),
            Some(&oversize_sig),
            413,
            "larger than",
        ),
        case("junk", junk, Some(&ts), Some(&sig), 401, "does not match"),
    ];
    for Case {
        what,
        bytes,
        ts,
        sig,
        status,
        says,
    } in cases
    {
        for path in ["/slack/commands", "/slack/interactions"] {
            let got = s.client.raw(path, bytes.clone(), ts, sig).await;
            assert_eq!(got.status, status, "{what} at {path}: {}", got.body);
            assert!(got.body.contains(says), "{what} at {path}: {}", got.body);
            assert_eq!(
                s.db.dump().await,
                before,
                "{what} at {path} changed something"
            );
        }
    }
    assert!(s.fake.answers_to("r").is_empty());

    // The untouched request is the same command, and it works.
    let got = s
        .client
        .raw("/slack/commands", body.into_bytes(), Some(&ts), Some(&sig))
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_ne!(s.db.dump().await, before);
    s.fake.assert_nothing_unexpected();
}

// ── Slash commands ─────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn a_signed_program_create_works_for_a_configured_admin_only() {
    let s = start(false).await;
    let refused = s
        .as_user(DANA, r#"program create atlas --name "Atlas cloud launch""#)
        .await;
    assert!(
        refused.text().contains("tenant admin"),
        "{}",
        refused.text()
    );

    let created = s
        .as_user(
            ADMIN,
            r#"program create atlas --name "Atlas cloud launch" --tz Europe/Berlin"#,
        )
        .await;
    assert!(created.text().contains("atlas"), "{}", created.text());
    let listed = s.as_user(DANA, "program list").await;
    assert!(
        listed.text().contains("Atlas cloud launch"),
        "{}",
        listed.text()
    );

    // The program lives in the workspace's tenant, and nowhere else.
    let elsewhere = s
        .client
        .command("T0OTHER", ADMIN, "program list", &s.fake.response_url("r"))
        .await;
    assert!(
        !slack_message::Msg(elsewhere.message())
            .text()
            .contains("Atlas cloud launch"),
        "{}",
        elsewhere.body
    );
    let local =
        s.db.run_in(&Tenant::local(), "tpm", "program list")
            .await
            .unwrap();
    assert!(!reply::text::render(&local).contains("Atlas"));
    s.fake.assert_nothing_unexpected();
}

#[tokio::test]
async fn bad_command_text_gets_the_grammars_error_and_changes_nothing() {
    let s = start(false).await;
    s.seed().await;
    let before = s.db.dump().await;
    let got = s
        .as_user(ADMIN, "milestone add atlas beta --target someday")
        .await;
    assert!(got.text().contains("someday"), "{}", got.text());
    let unclosed = s
        .as_user(ADMIN, r#"risk add atlas "Vendor --likelihood 4"#)
        .await;
    assert!(
        unclosed.text().contains("quote is not closed"),
        "{}",
        unclosed.text()
    );
    assert_eq!(s.db.dump().await, before);
}

#[tokio::test]
async fn a_response_url_off_the_allowlist_is_refused_and_nothing_runs() {
    let s = start(false).await;
    let before = s.db.dump().await;
    for url in [
        "https://evil.example/commands/T1/2/x",
        "http://10.0.0.1/commands/T1/2/x",
    ] {
        let got = s
            .client
            .command(TEAM, ADMIN, "program create atlas", url)
            .await;
        assert_eq!(got.status, 200);
        let text = slack_message::Msg(got.message()).text();
        assert!(text.contains("nothing was run"), "{text}");
        assert!(!text.contains("evil.example/commands"), "{text}");
    }
    assert_eq!(s.db.dump().await, before);
}

#[tokio::test]
async fn a_digest_is_acknowledged_within_3s_and_delivered_to_the_response_url() {
    let s = start(false).await;
    s.seed().await;
    let started = Instant::now();
    let got = s
        .client
        .command(
            TEAM,
            DANA,
            "digest show atlas --audience executive",
            &s.fake.response_url("digest"),
        )
        .await;
    let acked_in = started.elapsed();
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(
        acked_in < Duration::from_secs(3),
        "acknowledged after {acked_in:?}"
    );
    let ack = slack_message::Msg(got.message()).text();
    assert!(ack.contains("Working on it"), "{ack}");
    assert!(
        !ack.contains("Atlas cloud launch"),
        "the ack is not the digest: {ack}"
    );

    let answers = s.fake.wait_for_answers("digest", 1).await;
    let digest = slack_message::Msg(answers[0].message.clone()).text();
    assert!(digest.contains("Atlas cloud launch"), "{digest}");
    assert!(digest.contains("Vendor SDK late"), "{digest}");
    assert_eq!(answers[0].response_type, "ephemeral");
    assert!(!answers[0].raw.contains("<!"), "{}", answers[0].raw);
    s.fake.assert_nothing_unexpected();
}

#[tokio::test]
async fn a_quick_command_slower_than_the_budget_is_acknowledged_and_answered_later() {
    let s = start_with(TestDb::new().await, SECRET, false, 0).await;
    let got = s
        .client
        .command(
            TEAM,
            ADMIN,
            r#"program create atlas --name "Atlas cloud launch""#,
            &s.fake.response_url("slow"),
        )
        .await;
    assert!(slack_message::Msg(got.message())
        .text()
        .contains("Working on it"));
    let answers = s.fake.wait_for_answers("slow", 1).await;
    let text = slack_message::Msg(answers[0].message.clone()).text();
    assert!(text.contains("atlas"), "{text}");
    s.fake.assert_nothing_unexpected();
}

// ── Interactivity ──────────────────────────────────────────────────────────────────────

pub(crate) fn click(action_id: &str, response_url: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "block_actions",
        "team": { "id": TEAM, "domain": "example" },
        "user": { "id": DANA, "username": "dana", "name": "dana" },
        "channel": { "id": "D0DANA", "name": "directmessage" },
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "response_url": response_url,
        "actions": [{
            "type": "button",
            "action_id": action_id,
            "block_id": "b1",
            "value": "status post atlas api --rag amber --summary \"…\"",
            "action_ts": "1548426417.840180"
        }]
    })
}

pub(crate) fn submission(view: &serde_json::Value, values: &[(&str, &str)]) -> serde_json::Value {
    let mut state = serde_json::Map::new();
    for (block, value) in values {
        state.insert(
            (*block).to_owned(),
            serde_json::json!({ "value": { "type": "plain_text_input", "value": value } }),
        );
    }
    serde_json::json!({
        "type": "view_submission",
        "team": { "id": TEAM, "domain": "example" },
        "user": { "id": DANA, "username": "dana", "name": "dana" },
        "view": {
            "id": "V0001",
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": { "values": state },
        }
    })
}

/// The status prompt's buttons as the renderer sends them.
fn prompt_buttons() -> Vec<String> {
    let mut prompt = Reply::new("Status update for Public API?");
    for rag in ["green", "amber", "red"] {
        prompt = prompt.action(
            format!("status:atlas:api:{rag}"),
            rag,
            format!("status post atlas api --rag {rag} --summary \"…\""),
        );
    }
    let mut ids = Vec::new();
    for m in reply::slack::render(&prompt) {
        for b in m.blocks {
            if let reply::slack::Block::Actions { elements } = b {
                for reply::slack::Element::Button { action_id, .. } in elements {
                    ids.push(action_id);
                }
            }
        }
    }
    ids
}

#[tokio::test]
async fn a_prompt_button_opens_a_modal_whose_submission_stores_the_status_update() {
    let s = start(true).await;
    s.seed().await;
    let amber = prompt_buttons()
        .into_iter()
        .find(|id| id.ends_with(":amber"))
        .expect("the prompt has an amber button");

    let got = s
        .client
        .interaction(&click(&amber, &s.fake.response_url("click")))
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    let views = s.fake.wait_for_views(1).await;
    assert_eq!(
        views[0]["trigger_id"],
        "13345224609.738474920.8088930838d88f008e0"
    );
    let view = &views[0]["view"];
    assert_eq!(view["callback_id"], "status:atlas:api:amber");

    // Amber without blockers or next steps: the modal stays open and says why.
    let before = s.db.dump().await;
    let refused = s
        .client
        .interaction(&submission(view, &[("summary", "Perf tests slipped")]))
        .await;
    assert_eq!(
        refused.json()["response_action"],
        "errors",
        "{}",
        refused.body
    );
    assert!(refused.json()["errors"]["blockers"]
        .as_str()
        .unwrap()
        .contains("--blockers"));
    assert_eq!(s.db.dump().await, before);

    let posted = s
        .client
        .interaction(&submission(
            view,
            &[
                ("summary", "Perf tests slipped"),
                ("blockers", "load test rig"),
            ],
        ))
        .await;
    assert_eq!(posted.status, 200, "{}", posted.body);
    assert!(posted.body.is_empty(), "closes the modal: {}", posted.body);

    let statuses = s.as_user(ADMIN, "status list atlas api").await.text();
    assert!(statuses.contains("Perf tests slipped"), "{statuses}");
    assert!(statuses.contains("AMBER"), "{statuses}");
    let confirmed = s.fake.wait_for_answers("click", 1).await;
    assert!(slack_message::Msg(confirmed[0].message.clone())
        .text()
        .contains("api"));
    s.fake.assert_nothing_unexpected();
}

#[tokio::test]
async fn without_a_bot_token_a_button_answers_with_the_exact_command_to_send() {
    let s = start(false).await;
    s.seed().await;
    let before = s.db.dump().await;
    let got = s
        .client
        .interaction(&click(
            "status:atlas:api:red",
            &s.fake.response_url("click"),
        ))
        .await;
    assert_eq!(got.status, 200);
    let answers = s.fake.wait_for_answers("click", 1).await;
    let text = slack_message::Msg(answers[0].message.clone()).text();
    assert!(
        text.contains("/drumbeat status post atlas api --rag red --summary \"…\""),
        "{text}"
    );
    assert!(s.fake.views().is_empty());
    assert_eq!(s.db.dump().await, before);

    // A button that is not Drumbeat's is acknowledged and does nothing.
    let other = s
        .client
        .interaction(&click("vote:lunch", &s.fake.response_url("other")))
        .await;
    assert_eq!(other.status, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(s.fake.answers_to("other").is_empty());
    s.fake.assert_nothing_unexpected();
}

#[tokio::test]
async fn an_unreadable_interaction_is_a_clear_400_and_changes_nothing() {
    let s = start(false).await;
    let before = s.db.dump().await;
    for body in [
        "payload=%7Bnot+json",
        "nothing=here",
        "payload=%7B%22type%22%3A%22block_actions%22%7D",
    ] {
        let got = s.client.signed("/slack/interactions", body.into()).await;
        assert_eq!(got.status, 400, "{body}: {}", got.body);
        assert!(got.body.contains("not readable"), "{}", got.body);
    }
    let got = s
        .client
        .signed("/slack/commands", "team_id=T1".into())
        .await;
    assert_eq!(got.status, 400);
    assert!(got.body.contains("user_id"), "{}", got.body);
    assert_eq!(s.db.dump().await, before);
}

// ── Mentions ───────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn a_risk_titled_with_mass_and_user_mentions_renders_inert() {
    let s = start(false).await;
    s.seed().await;
    let added = s
        .as_user(
            ADMIN,
            r#"risk add atlas "<!channel> @here <@U999>" --likelihood 5 --impact 5 --owner <@UDANA>"#,
        )
        .await;
    let listed = s.as_user(ADMIN, "risk list atlas").await;
    for m in [&added, &listed] {
        let json = serde_json::to_string(&m.0).unwrap();
        assert!(!json.contains("<!channel>"), "{json}");
        assert!(!json.contains("<@U999>"), "{json}");
        assert!(!json.contains("@here"), "{json}");
    }
    let text = listed.text();
    assert!(text.contains("&lt;!channel&gt;"), "{text}");
    assert!(text.contains("&lt;@U999&gt;"), "{text}");
    // The typed owner is the one real mention.
    assert!(added.text().contains("<@UDANA>") || listed.text().contains("<@UDANA>"));
}

// ── Webhooks ───────────────────────────────────────────────────────────────────────────

fn row(url: &str) -> OutboxRow {
    let now = crate::helpers::now();
    OutboxRow {
        id: 1,
        tenant: Tenant::slack(TEAM),
        program_id: None,
        destination: Destination::SlackWebhook {
            url: drumbeat::domain::WebhookUrl::stored(url),
        },
        reply: Reply::new("Weekly digest"),
        reason: "You subscribed this webhook.".into(),
        dedup_key: None,
        nonce: "n1".into(),
        state: OutboxState::Sending,
        attempts: 1,
        parts_sent: 0,
        next_attempt_at: now,
        claimed_at: Some(now),
        last_error: None,
        created_at: now,
        sent_at: None,
    }
}

#[tokio::test]
async fn webhooks_off_the_allowlist_or_that_redirect_are_refused_without_a_request() {
    let hooks = FakeWebhook::start().await;
    let plain = hooks.hook("plain", vec![]);
    let target = hooks.hook("target", vec![]);
    let redirecting = hooks.hook("redirect", vec![Answer::Redirect(target.clone())]);
    let production = drumbeat::config::DeliverySettings::default();
    let sender = WebhookSender::new(&production).unwrap();
    let on_loopback = plain.replace("http://", "https://");
    for url in [
        plain.as_str(),
        on_loopback.as_str(),
        "http://127.0.0.1/services/T1/B2/x",
        "https://evil.example/services/T1/B2/x",
    ] {
        let outcome = sender.send(&row(url)).await;
        assert!(
            matches!(outcome, SendOutcome::Permanent { .. }),
            "{url}: {outcome:?}"
        );
    }
    assert!(
        hooks.hits().is_empty(),
        "a refused URL was called: {:?}",
        hooks.hits()
    );

    // On the allowlist (loopback, for the test) but redirecting: the redirect is not followed.
    let testing = drumbeat::config::DeliverySettings {
        allow_loopback_http: true,
        ..production
    };
    let sender = WebhookSender::new(&testing).unwrap();
    let outcome = sender.send(&row(&redirecting)).await;
    match outcome {
        SendOutcome::Permanent { error } => {
            assert!(error.contains("not redirected"), "{error}");
            assert!(!error.contains("/hook/"), "the URL leaked: {error}");
        }
        other => panic!("a redirect was not refused: {other:?}"),
    }
    assert_eq!(hooks.hits_of("redirect").len(), 1);
    assert!(
        hooks.hits_of("target").is_empty(),
        "the redirect was followed"
    );
    hooks.assert_nothing_unexpected();

    // Subscribing one off the allowlist is refused when it is given.
    let s = start(false).await;
    s.seed().await;
    let refused = s
        .as_user(
            ADMIN,
            r#"schedule set atlas digest "weekly fri 16:00" --webhook https://evil.example/services/T1/B2/x"#,
        )
        .await;
    assert!(
        refused.text().contains("--slack-webhook takes"),
        "{}",
        refused.text()
    );
}

#[tokio::test]
async fn a_webhook_subscription_is_stored_but_only_ever_shown_masked() {
    let s = start(false).await;
    s.seed().await;
    let url = "https://hooks.slack.com/services/T0TEAM/B0HOOK/s3cr3tT0ken";
    let set = s
        .as_user(
            ADMIN,
            &format!(r#"schedule set atlas digest "weekly fri 16:00" --audience executive --slack-webhook {url}"#),
        )
        .await;
    let shown = s.as_user(ADMIN, "schedule show atlas").await;
    for m in [&set, &shown] {
        let json = serde_json::to_string(&m.0).unwrap();
        assert!(
            !json.contains("s3cr3tT0ken") && !json.contains("B0HOOK"),
            "{json}"
        );
        assert!(
            m.text().contains("https://hooks.slack.com/services/T…/…"),
            "{}",
            m.text()
        );
    }
    // Stored as given, for the sender.
    assert!(s.db.dump().await.iter().any(|row| row.contains(url)));
}

// ── Routes: prompts, reminders and pings into Slack ────────────────────────────────────

type Lines = Arc<std::sync::Mutex<Vec<String>>>;

/// The workspace's rhythm for these tests: the scheduler (with chart links under
/// `public_url`, if given), and a worker that may post to webhooks on loopback, through the
/// Web API when `web_api`; with the console's lines, which must stay empty.
fn rhythm(
    s: &Server,
    web_api: bool,
    public_url: Option<&str>,
) -> (
    drumbeat::schedule::Scheduler,
    drumbeat::outbox::Worker,
    Lines,
) {
    let mut settings = settings(SECRET, &s.fake, true, 2000);
    settings.delivery.webhook_min_interval_ms = 0;
    let clock: Arc<dyn Clock> = Arc::new(s.db.clock.clone());
    let mut scheduler =
        drumbeat::schedule::Scheduler::new(s.db.store.clone(), clock.clone(), Default::default());
    if let Some(url) = public_url {
        scheduler = scheduler.with_chart_links(drumbeat::schedule::ChartLinks {
            public_url: Arc::from(url),
            key: drumbeat::links::LinkKey::from_bytes([7; 32]),
        });
    }
    let (sink, console) = drumbeat::outbox::ConsoleSink::memory();
    let mut senders = drumbeat::outbox::Senders::console(sink).with(
        drumbeat::platform::slack::WebhookSender::KINDS,
        drumbeat::platform::slack::WebhookSender::new(&settings.delivery).unwrap(),
    );
    if web_api {
        let api = drumbeat::platform::slack::SlackApiSender::from_settings(&settings)
            .unwrap()
            .expect("a bot token is set");
        senders = senders.with(drumbeat::platform::slack::SlackApiSender::KINDS, api);
    }
    let worker =
        drumbeat::outbox::Worker::new(s.db.store.clone(), senders, clock, &settings.delivery);
    (scheduler, worker, console)
}

/// The action ids of a webhook message's buttons.
fn buttons_of(m: &reply::slack::Message) -> Vec<String> {
    let mut ids = Vec::new();
    for b in &m.blocks {
        if let reply::slack::Block::Actions { elements } = b {
            for reply::slack::Element::Button { action_id, .. } in elements {
                ids.push(action_id.clone());
            }
        }
    }
    ids
}

#[tokio::test]
async fn a_slack_programs_prompts_and_pings_reach_its_routes_with_mentions_and_a_click_answers() {
    let s = start(true).await;
    s.seed().await;
    let hooks = FakeWebhook::start().await;
    let program_hook = hooks.hook("program", vec![]);
    let api_hook = hooks.hook("api", vec![]);
    for line in [
        "project add atlas web --name \"Web app\" --owner <@ULEE>".to_owned(),
        r#"dep add atlas --needs web --from api --what "Auth endpoints" --by 2026-12-04 --owner <@UDANA> --accepted"#.to_owned(),
        r#"dep block atlas 1 --reason "waiting on security review""#.to_owned(),
        r#"schedule set atlas prompt "weekdays 10:00""#.to_owned(),
        r#"schedule set atlas nudge "weekdays 09:30""#.to_owned(),
        format!("program route atlas --slack-webhook {program_hook}"),
        format!("program route atlas --project api --slack-webhook {api_hook}"),
    ] {
        let m = s.as_user(ADMIN, &line).await;
        assert!(!m.text().contains("Not done"), "{line}: {}", m.text());
    }
    // Shown masked, never in full.
    let shown = s.as_user(ADMIN, "program route atlas").await;
    let json = serde_json::to_string(&shown.0).unwrap();
    assert!(
        !json.contains(&program_hook) && !json.contains(&api_hook),
        "{json}"
    );
    assert!(shown.text().contains("project api"), "{}", shown.text());
    // Only editors route messages.
    let refused = s
        .as_user(DANA, "program route atlas --clear --project api")
        .await;
    assert!(refused.text().contains("editor"), "{}", refused.text());

    // Monday 10:05 in Berlin: the prompts and the blocker's first ping go out.
    let (scheduler, worker, console) = rhythm(&s, false, None);
    s.db.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 0).unwrap());
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    hooks.assert_nothing_unexpected();
    assert!(
        console.lock().unwrap().is_empty(),
        "nothing for Slack people may fall back to the console: {:?}",
        console.lock().unwrap()
    );

    // The api project's own route: Dana's prompt and the ping about the dependency her
    // project provides, each naming her with a real mention.
    let api: Vec<_> = hooks
        .hits_of("api")
        .into_iter()
        .map(|h| h.message)
        .collect();
    assert_eq!(api.len(), 2, "{api:#?}");
    let texts: Vec<String> = api
        .iter()
        .map(|m| slack_message::Msg(m.clone()).text())
        .collect();
    assert!(texts.iter().all(|t| t.contains("<@UDANA>")), "{texts:#?}");
    let prompt = api
        .iter()
        .find(|m| m.text.contains("Status update"))
        .expect("a prompt");
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Blocker") && t.contains("Auth endpoints")),
        "{texts:#?}"
    );
    // The rest of the program: Lee's prompt about web.
    let program: Vec<_> = hooks.hits_of("program");
    assert_eq!(program.len(), 1, "{program:#?}");
    let lee = slack_message::Msg(program[0].message.clone()).text();
    assert!(lee.contains("<@ULEE>") && lee.contains("Web app"), "{lee}");

    // Dana clicks Amber on the webhook message; the modal's submission stores the update.
    let amber = buttons_of(prompt)
        .into_iter()
        .find(|id| id.ends_with(":amber"))
        .expect("an amber button");
    let got = s
        .client
        .interaction(&click(&amber, &s.fake.response_url("click")))
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    let view = s.fake.wait_for_views(1).await[0]["view"].clone();
    let posted = s
        .client
        .interaction(&submission(
            &view,
            &[("summary", "Auth slipped"), ("blockers", "security review")],
        ))
        .await;
    assert_eq!(posted.status, 200, "{}", posted.body);
    let statuses = s.as_user(ADMIN, "status list atlas api").await.text();
    assert!(statuses.contains("Auth slipped"), "{statuses}");

    // Clearing the project's route leaves the program's.
    let cleared = s
        .as_user(ADMIN, "program route atlas --project api --clear")
        .await;
    assert!(cleared.text().contains("Cleared"), "{}", cleared.text());
    let left = s.as_user(ADMIN, "program route atlas").await.text();
    assert!(!left.contains("project api"), "{left}");
    assert!(!left.contains("each person directly"), "{left}");
    let again = s
        .as_user(ADMIN, "program route atlas --project api --clear")
        .await;
    assert!(
        again.text().contains("no route to clear"),
        "{}",
        again.text()
    );
}

#[tokio::test]
async fn a_route_or_subscription_off_the_allowlist_is_refused_when_given() {
    let s = start(false).await;
    s.seed().await;
    let before = s.db.dump().await;
    for line in [
        "program route atlas --slack-webhook https://evil.example/services/T1/B2/x",
        "program route atlas --slack-webhook https://hooks.slack.com:8443/services/T1/B2/x",
        "digest subscribe atlas --audience executive --slack-webhook https://evil.example/services/T1/B2/x",
        r#"schedule set atlas digest "weekly fri 16:00" --webhook https://evil.example/services/T1/B2/x"#,
        "program route atlas --project nope --slack-webhook https://hooks.slack.com/services/T1/B2/x",
        "digest subscribe atlas --at \"every tuesday\" --slack-webhook https://hooks.slack.com/services/T1/B2/x",
    ] {
        let m = s.as_user(ADMIN, line).await;
        assert!(m.text().contains("Not done"), "{line}: {}", m.text());
        assert!(!m.text().contains("/services/T1"), "{line} echoed the URL: {}", m.text());
    }
    assert_eq!(
        s.db.dump().await,
        before,
        "a refused route changed something"
    );

    // Production settings (the console's): plain http is refused even to this machine.
    let refused =
        s.db.run_with(
            &Tenant::slack(TEAM),
            drumbeat::domain::Platform::Slack,
            ADMIN,
            "program route atlas --slack-webhook http://127.0.0.1/services/T1/B2/x",
        )
        .await;
    match refused {
        Err(drumbeat::command::CommandError::User(msg)) => {
            assert!(msg.contains("must be https"), "{msg}")
        }
        other => panic!("plain http was not refused: {other:?}"),
    }

    // `digest subscribe` is a digest schedule with its destination, shown masked.
    let url = "https://hooks.slack.com/services/T0TEAM/B0HOOK/s3cr3tT0ken";
    let subscribed = s
        .as_user(
            ADMIN,
            &format!("digest subscribe atlas --audience executive --slack-webhook {url}"),
        )
        .await;
    let text = subscribed.text();
    assert!(text.contains("executive digest"), "{text}");
    assert!(!text.contains("s3cr3tT0ken"), "{text}");
    let schedules = s.as_user(ADMIN, "schedule show atlas").await.text();
    assert!(schedules.contains("executive"), "{schedules}");
}

#[tokio::test]
async fn chart_show_answers_with_an_image_block_whose_signed_link_serves_the_png() {
    let db = TestDb::new().await;
    let clock: Arc<dyn Clock> = Arc::new(db.clock.clone());
    let key = {
        let mut tx = db.store.write().await.unwrap();
        let key = drumbeat::links::LinkKey::load_or_create(&mut tx, clock.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        key
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = drumbeat::http::HttpApp::new(
        db.store.clone(),
        clock,
        drumbeat::telemetry::metrics::recorder().handle(),
        None,
        Duration::from_secs(600),
        Some(key.clone()),
    );
    let (_stop_http, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(drumbeat::http::serve(
        listener,
        drumbeat::http::router(app, None),
        stopped,
    ));
    let links = drumbeat::schedule::ChartLinks {
        public_url: Arc::from(base.as_str()),
        key,
    };
    let s = start_linked(db, SECRET, false, 2000, Some(links)).await;
    s.seed().await;
    let got = s
        .client
        .command(
            TEAM,
            DANA,
            "chart show atlas risks",
            &s.fake.response_url("chart"),
        )
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    let answers = s.fake.wait_for_answers("chart", 1).await;
    let images: Vec<&String> = answers
        .iter()
        .flat_map(|a| &a.message.blocks)
        .filter_map(|b| match b {
            reply::slack::Block::Image { image_url, .. } => Some(image_url),
            _ => None,
        })
        .collect();
    assert_eq!(images.len(), 1, "{:#?}", answers[0].message);
    assert!(
        images[0].starts_with(&format!("{base}/charts/risks.png?t=slack%3A{TEAM}&p=atlas")),
        "{}",
        images[0]
    );
    let text = slack_message::Msg(answers[0].message.clone()).text();
    assert!(!text.contains("takes no files"), "{text}");
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let png = http.get(images[0].as_str()).send().await.unwrap();
    assert_eq!(png.status(), 200);
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
    s.fake.assert_nothing_unexpected();
}

#[tokio::test]
async fn without_a_route_people_get_direct_messages_through_the_web_api() {
    let s = start(true).await;
    s.seed().await;
    for line in [
        "project add atlas web --name \"Web app\" --owner <@ULEE>",
        r#"dep add atlas --needs web --from api --what "Auth endpoints" --by 2026-12-04 --owner <@UDANA> --accepted"#,
        r#"dep block atlas 1 --reason "waiting on security review""#,
        r#"schedule set atlas prompt "weekdays 10:00""#,
        r#"schedule set atlas nudge "weekdays 09:30""#,
        r#"digest subscribe atlas --at "weekdays 10:00" --channel C0PROGRAM"#,
    ] {
        let m = s.as_user(ADMIN, line).await;
        assert!(!m.text().contains("Not done"), "{line}: {}", m.text());
    }
    let (scheduler, worker, console) = rhythm(&s, true, Some("https://drumbeat.example.com"));
    // Lee's first direct message fails once with a passing error; it is retried.
    s.fake.fail_next_post("ratelimited");
    s.db.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 0).unwrap());
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    s.db.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 9, 10, 0).unwrap());
    worker.drain().await.unwrap();
    s.fake.assert_nothing_unexpected();
    assert!(
        console.lock().unwrap().is_empty(),
        "{:?}",
        console.lock().unwrap()
    );

    let posted = s.fake.posted();
    let to = |who: &str| -> Vec<String> {
        posted
            .iter()
            .filter(|p| p.channel == who)
            .map(|p| slack_message::Msg(p.message.clone()).text())
            .collect()
    };
    let dana = to(DANA);
    assert_eq!(dana.len(), 2, "{posted:#?}");
    assert!(dana.iter().all(|t| t.contains("<@UDANA>")), "{dana:#?}");
    assert!(
        dana.iter().any(|t| t.contains("Status update")),
        "{dana:#?}"
    );
    assert!(dana.iter().any(|t| t.contains("Blocker")), "{dana:#?}");
    let lee = to("ULEE");
    assert_eq!(lee.len(), 1, "{posted:#?}");
    assert!(lee[0].contains("Web app"), "{}", lee[0]);
    // The engineering digest goes to its channel, with the timeline as a signed link.
    let digest: Vec<_> = posted.iter().filter(|p| p.channel == "C0PROGRAM").collect();
    assert!(!digest.is_empty(), "{posted:#?}");
    let links: Vec<&String> = digest
        .iter()
        .flat_map(|p| &p.message.blocks)
        .filter_map(|b| match b {
            reply::slack::Block::Image { image_url, .. } => Some(image_url),
            _ => None,
        })
        .collect();
    assert_eq!(links.len(), 1, "{digest:#?}");
    assert!(
        links[0].starts_with(
            "https://drumbeat.example.com/charts/timeline.png?t=slack%3AT0TEAM&p=atlas&exp="
        ),
        "{}",
        links[0]
    );
    let dead = s.as_user(ADMIN, "outbox list atlas --dead").await.text();
    assert!(!dead.contains("chat.postMessage"), "{dead}");
}

#[tokio::test]
async fn a_direct_message_slack_refuses_is_dead_lettered_with_what_to_do() {
    let s = start(true).await;
    s.seed().await;
    s.as_user(ADMIN, r#"schedule set atlas prompt "weekdays 10:00""#)
        .await;
    // Without the Web API sender (no bot token), and then with one that Slack refuses.
    let (scheduler, no_token, _) = rhythm(&s, false, None);
    s.db.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 0).unwrap());
    scheduler.tick().await.unwrap();
    no_token.drain().await.unwrap();
    let dead = s.as_user(ADMIN, "outbox list atlas --dead").await.text();
    assert!(dead.contains("SLACK_BOT_TOKEN"), "{dead}");
    assert!(dead.contains("program route"), "{dead}");

    s.fake.fail_next_post("channel_not_found");
    let (_, with_token, _) = rhythm(&s, true, None);
    s.as_user(ADMIN, "outbox retry atlas 1").await;
    with_token.drain().await.unwrap();
    let dead = s.as_user(ADMIN, "outbox list atlas --dead").await.text();
    assert!(dead.contains("channel_not_found"), "{dead}");
    assert!(s.fake.posted().iter().all(|p| p.channel != DANA));
}

impl Server {
    /// `text` from `user` in `team`, exactly as Slack posts it; the answer's text.
    async fn in_team(&self, team: &str, user: &str, text: &str) -> String {
        let got = self
            .client
            .command(team, user, text, &self.fake.response_url("r"))
            .await;
        assert_eq!(got.status, 200, "{}", got.body);
        slack_message::Msg(got.message()).text()
    }
}

// ── Channels belong to the workspace (#13) ─────────────────────────────────────────────

#[tokio::test]
async fn a_channel_of_another_workspace_is_refused_when_given_and_nothing_is_stored() {
    let s = start(true).await;
    s.seed().await;
    let before = s.db.dump().await;
    for line in [
        "program route atlas --channel C0FOREIGN",
        "digest subscribe atlas --audience executive --channel <#C0FOREIGN|their-room>",
        r#"schedule set atlas digest "weekly fri 16:00" --channel C0UNKNOWN"#,
    ] {
        let m = s.as_user(ADMIN, line).await.text();
        assert!(m.contains("Not done"), "{line}: {m}");
        assert!(
            m.contains("is not a channel of this workspace"),
            "{line}: {m}"
        );
    }
    assert_eq!(s.db.dump().await, before, "a foreign channel was stored");
    assert_eq!(s.fake.infos(), ["C0FOREIGN", "C0FOREIGN", "C0UNKNOWN"]);

    // Slack busy: refused, saying to try again; then the same line goes through.
    s.fake.fail_next_info("ratelimited");
    let busy = s
        .as_user(ADMIN, "program route atlas --channel C0PROGRAM")
        .await
        .text();
    assert!(busy.contains("could not be checked"), "{busy}");
    assert!(busy.contains("try again"), "{busy}");
    s.fake.fail_next_info("503");
    let down = s
        .as_user(ADMIN, "program route atlas --channel C0PROGRAM")
        .await
        .text();
    assert!(down.contains("503"), "{down}");
    assert_eq!(s.db.dump().await, before, "an unchecked channel was stored");

    // The workspace's own channels are taken, as typed or as Slack escapes a pick.
    for line in [
        "program route atlas --channel C0PROGRAM",
        "digest subscribe atlas --audience executive --channel <#C123ABC|general>",
        r#"schedule set atlas digest "weekly fri 16:00" --channel C123ABC"#,
    ] {
        let m = s.as_user(ADMIN, line).await.text();
        assert!(!m.contains("Not done"), "{line}: {m}");
    }
    let schedules = s.as_user(ADMIN, "schedule show atlas").await.text();
    assert!(schedules.contains("C123ABC"), "{schedules}");
    // A confirmed channel is remembered for a while: C123ABC was asked about once.
    assert_eq!(
        s.fake.infos().iter().filter(|c| *c == "C123ABC").count(),
        1,
        "{:?}",
        s.fake.infos()
    );
    s.fake.assert_nothing_unexpected();
}

#[tokio::test]
async fn a_workspace_the_bot_token_is_not_for_cannot_name_channels() {
    let s = start(true).await;
    let created = s
        .in_team(OTHER_TEAM, OTHER_ADMIN, "program create atlas --name Atlas")
        .await;
    assert!(!created.contains("Not done"), "{created}");
    let before = s.db.dump().await;
    let m = s
        .in_team(
            OTHER_TEAM,
            OTHER_ADMIN,
            "program route atlas --channel C0FOREIGN",
        )
        .await;
    assert!(m.contains("could not be checked"), "{m}");
    assert!(
        m.contains("the bot token is for the Slack workspace T0TEAM, not T0OTHER"),
        "{m}"
    );
    assert_eq!(s.db.dump().await, before);
    assert!(s.fake.infos().is_empty(), "{:?}", s.fake.infos());
    s.fake.assert_nothing_unexpected();
}

#[tokio::test]
async fn a_channel_slack_cannot_check_at_send_time_waits_and_is_sent_once_checked() {
    let s = start(true).await;
    s.seed().await;
    let m = s
        .as_user(
            ADMIN,
            r#"digest subscribe atlas --audience executive --at "weekdays 10:00" --channel C0PROGRAM"#,
        )
        .await
        .text();
    assert!(!m.contains("Not done"), "{m}");
    let (scheduler, worker, _) = rhythm(&s, true, None);
    s.fake.fail_next_info("ratelimited");
    s.db.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 0).unwrap());
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    assert!(
        s.fake.posted().iter().all(|p| p.channel != "C0PROGRAM"),
        "sent before the channel was checked: {:#?}",
        s.fake.posted()
    );
    s.db.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 9, 20, 0).unwrap());
    worker.drain().await.unwrap();
    assert!(
        s.fake.posted().iter().any(|p| p.channel == "C0PROGRAM"),
        "{:#?}",
        s.fake.posted()
    );
    let dead = s.as_user(ADMIN, "outbox list atlas --dead").await.text();
    assert!(!dead.contains("C0PROGRAM"), "{dead}");
    s.fake.assert_nothing_unexpected();
}

#[tokio::test]
async fn without_a_bot_token_a_channel_is_refused_saying_what_to_set() {
    let s = start(false).await;
    s.seed().await;
    let before = s.db.dump().await;
    let m = s
        .as_user(
            ADMIN,
            "digest subscribe atlas --audience executive --channel <#C123ABC|general>",
        )
        .await
        .text();
    assert!(m.contains("could not be checked"), "{m}");
    assert!(m.contains("SLACK_BOT_TOKEN"), "{m}");
    assert_eq!(s.db.dump().await, before);
    assert!(s.fake.infos().is_empty());
    s.fake.assert_nothing_unexpected();
}

#[tokio::test]
async fn exec_in_a_slack_tenant_without_a_token_refuses_a_channel_with_exit_2() {
    let db = TestDb::new().await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_drumbeat"))
            .arg("--db")
            .arg(&db.path)
            .args(["exec", "--tenant", "slack:T0TEAM"])
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("SLACK_BOT_TOKEN")
            .env_remove("DRUMBEAT_SLACK__BOT_TOKEN")
            .env(
                "DRUMBEAT_CONFIG",
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
            )
            .output()
            .expect("run drumbeat")
    };
    let created = run(&["program create atlas --name Atlas"]);
    assert!(
        created.status.success(),
        "{}",
        crate::helpers::stderr(&created)
    );
    let before = db.dump().await;
    let o = run(&["program route atlas --channel C123ABC"]);
    assert_eq!(o.status.code(), Some(2), "{}", crate::helpers::stderr(&o));
    let said = format!(
        "{}{}",
        crate::helpers::stdout(&o),
        crate::helpers::stderr(&o)
    );
    assert!(said.contains("could not be checked"), "{said}");
    assert_eq!(db.dump().await, before);
}

/// A check that takes every channel, as versions before the check did.
#[derive(Debug)]
struct TakesAnyChannel;

impl drumbeat::command::ChannelCheck for TakesAnyChannel {
    fn check<'a>(
        &'a self,
        _tenant: &'a Tenant,
        _channel: &'a str,
    ) -> futures_util::future::BoxFuture<'a, drumbeat::command::ChannelVerdict> {
        Box::pin(std::future::ready(
            drumbeat::command::ChannelVerdict::Belongs,
        ))
    }
}

#[tokio::test]
async fn a_stored_subscription_to_another_workspaces_channel_is_dead_lettered_never_sent() {
    let s = start(true).await;
    s.seed().await;
    // Stored as an older version would have, without asking Slack.
    let ctx = drumbeat::command::Ctx {
        tenant: Tenant::slack(TEAM),
        platform: drumbeat::domain::Platform::Slack,
        actor: drumbeat::command::Actor {
            handle: ADMIN.into(),
            display_name: "admin".into(),
            is_admin: true,
        },
        channel: None,
        now: s.db.clock.now(),
        webhooks: s.db.webhooks.clone(),
        public_url: None,
        channels: Arc::new(TakesAnyChannel),
    };
    for line in [
        r#"digest subscribe atlas --audience executive --at "weekdays 10:00" --channel C0FOREIGN"#,
        r#"digest subscribe atlas --audience engineering --at "weekdays 10:00" --channel C0PROGRAM"#,
    ] {
        drumbeat::command::execute(&s.db.store, &ctx, line)
            .await
            .unwrap_or_else(|e| panic!("{line}: {e:?}"));
    }
    let (scheduler, worker, _) = rhythm(&s, true, None);
    s.db.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 0).unwrap());
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();

    let posted = s.fake.posted();
    assert!(
        posted.iter().all(|p| p.channel != "C0FOREIGN"),
        "{posted:#?}"
    );
    assert!(
        posted.iter().any(|p| p.channel == "C0PROGRAM"),
        "the workspace's own channel still gets its digest: {posted:#?}"
    );
    let dead = s.as_user(ADMIN, "outbox list atlas --dead").await.text();
    assert!(dead.contains("another Slack workspace"), "{dead}");
    assert!(dead.contains("never sent"), "{dead}");
    s.fake.assert_nothing_unexpected();
}

// ── Slack's escaped text (#13) ─────────────────────────────────────────────────────────

#[tokio::test]
async fn people_channels_and_links_work_as_slack_sends_them_with_escaping_on() {
    let s = start(true).await;
    s.seed().await;
    // Exactly the text Slack posts with `should_escape: true`.
    for line in [
        r#"project add atlas web --name "Web &amp; mobile" --owner <@U123ABC|dana>"#,
        "person set <@U123ABC|dana> --delegate <@ULEE|lee.k>",
        "digest subscribe atlas --audience executive --channel <#C123ABC|general>",
        "program route atlas --project web --slack-webhook <https://hooks.slack.com/services/T0TEAM/B0HOOK/s3cr3t>",
        r#"risk add atlas "Vendor &lt;SDK&gt; late" --likelihood 2 --impact 2 --owner <@U123ABC|dana>"#,
    ] {
        let m = s.as_user(ADMIN, line).await.text();
        assert!(!m.contains("Not done"), "{line}: {m}");
    }
    let projects = s.as_user(ADMIN, "project list atlas").await.text();
    assert!(projects.contains("<@U123ABC>"), "{projects}");
    assert!(projects.contains("Web &amp; mobile"), "{projects}");
    let dana = s.as_user(ADMIN, "person show <@U123ABC|dana>").await.text();
    assert!(dana.contains("<@ULEE>"), "{dana}");
    let routes = s.as_user(ADMIN, "program route atlas").await.text();
    assert!(routes.contains("project web"), "{routes}");
    assert!(!routes.contains("s3cr3t"), "{routes}");
    let schedules = s.as_user(ADMIN, "schedule show atlas").await.text();
    assert!(schedules.contains("C123ABC"), "{schedules}");
    // Stored as typed: the characters, not Slack's entities.
    let dump = s.db.dump().await.join("\n");
    assert!(dump.contains("Web & mobile"), "{dump}");
    assert!(dump.contains("Vendor <SDK> late"), "{dump}");
    assert!(!dump.contains("&amp;") && !dump.contains("&lt;"), "{dump}");
    s.fake.assert_nothing_unexpected();
}

// ── Admins are of one workspace (#13) ──────────────────────────────────────────────────

#[tokio::test]
async fn an_admin_of_one_workspace_is_no_admin_in_another() {
    let s = start(false).await;
    let create = r#"program create atlas --name "Atlas cloud launch""#;
    let elsewhere = s.in_team("T0OTHER", ADMIN, create).await;
    assert!(elsewhere.contains("tenant admin"), "{elsewhere}");
    assert!(s.db.dump().await.iter().all(|r| !r.contains("atlas")));
    let home = s.in_team(TEAM, ADMIN, create).await;
    assert!(!home.contains("Not done"), "{home}");
}

/// A dependency request reaches the provider's owner in Slack with Accept, Propose a date
/// and Decline; Propose and Decline open a modal whose answer is recorded (a date that does
/// not read is shown under its field); the consumer's owner is told each answer.
#[tokio::test]
async fn a_dependency_request_is_answered_with_slack_buttons() {
    let s = start(true).await;
    s.seed().await;
    for line in [
        "project add atlas web --name \"Web app\" --owner <@ULEE>",
        r#"dep add atlas --needs web --from api --what "Rate limits" --by 2026-12-20"#,
        r#"dep add atlas --needs web --from api --what "Webhooks" --by 2026-12-20"#,
    ] {
        let m = s.as_user(ADMIN, line).await;
        assert!(
            m.text().contains("Requested") || line.starts_with("project"),
            "{line}: {}",
            m.text()
        );
    }
    let (_, worker, _) = rhythm(&s, true, None);
    worker.drain().await.unwrap();
    let request = |n: i64| {
        s.fake
            .posted()
            .into_iter()
            .find(|p| {
                p.channel == DANA
                    && p.message
                        .text
                        .contains(&format!("Dependency request: #{n}"))
            })
            .unwrap_or_else(|| panic!("no request #{n}: {:#?}", s.fake.posted()))
            .message
    };
    let first = request(1);
    assert!(slack_message::Msg(first.clone())
        .text()
        .contains("<@UDANA>"));
    let ids = buttons_of(&first);
    assert_eq!(
        ids,
        [
            "dep:atlas:1:accept",
            "dep:atlas:1:propose",
            "dep:atlas:1:decline"
        ]
    );
    let agreement = |n: i64| {
        let s = &s;
        async move {
            s.as_user(ADMIN, &format!("dep show atlas {n}"))
                .await
                .text()
        }
    };

    // Propose a date: a modal with a one-line date and the reason.
    let got = s
        .client
        .interaction(&click(&ids[1], &s.fake.response_url("propose")))
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    let view = s.fake.wait_for_views(1).await[0]["view"].clone();
    assert_eq!(view["callback_id"], "dep:atlas:1:propose");
    assert_eq!(view["blocks"][1]["block_id"], "by");
    assert_eq!(view["blocks"][1]["element"]["multiline"], false);
    assert_eq!(view["blocks"][2]["block_id"], "reason");
    let bad = s
        .client
        .interaction(&submission(
            &view,
            &[("by", "someday"), ("reason", "perf first")],
        ))
        .await;
    assert!(
        bad.body.contains("\"errors\"") && bad.body.contains("\"by\""),
        "{}",
        bad.body
    );
    assert!(agreement(1).await.contains("requested"));
    let sent = s
        .client
        .interaction(&submission(
            &view,
            &[("by", "2026-12-24"), ("reason", "perf first")],
        ))
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(!sent.body.contains("errors"), "{}", sent.body);
    let shown = agreement(1).await;
    assert!(
        shown.contains("proposed") && shown.contains("2026-12-24"),
        "{shown}"
    );

    // Accept, on the second: answered through the response URL.
    let second = buttons_of(&request(2));
    s.client
        .interaction(&click(&second[0], &s.fake.response_url("accept")))
        .await;
    let answers = s.fake.wait_for_answers("accept", 1).await;
    let answered = slack_message::Msg(answers[0].message.clone()).text();
    assert!(answered.contains("is accepted"), "{answered}");
    assert!(agreement(2).await.contains("accepted"));

    // Decline, on the first: a modal with the reason only.
    s.client
        .interaction(&click(&ids[2], &s.fake.response_url("decline")))
        .await;
    let view = s.fake.wait_for_views(2).await[1]["view"].clone();
    assert_eq!(view["callback_id"], "dep:atlas:1:decline");
    s.client
        .interaction(&submission(&view, &[("reason", "not this quarter")]))
        .await;
    assert!(agreement(1).await.contains("declined"));

    // Lee heard each answer in his direct messages.
    worker.drain().await.unwrap();
    let lee: Vec<String> = s
        .fake
        .posted()
        .into_iter()
        .filter(|p| p.channel == "ULEE")
        .map(|p| p.message.text)
        .collect();
    for title in [
        "Dependency #1 another date proposed: Rate limits",
        "Dependency #2 accepted: Webhooks",
        "Dependency #1 declined: Rate limits",
    ] {
        assert!(lee.iter().any(|t| t.contains(title)), "{title} in {lee:#?}");
    }
    s.fake.assert_nothing_unexpected();
}

/// In Slack too, the prompt's *Done* button closes the owner's action item.
#[tokio::test]
async fn a_slack_prompts_done_button_closes_an_action_item() {
    let s = start(true).await;
    s.seed().await;
    for line in [
        r#"action add atlas "Send the EU plan" --owner <@UDANA> --due 2026-12-04"#,
        r#"schedule set atlas prompt "weekdays 10:00""#,
    ] {
        let m = s.as_user(ADMIN, line).await;
        assert!(!m.text().contains("Not done"), "{line}: {}", m.text());
    }
    let (scheduler, worker, _) = rhythm(&s, true, None);
    s.db.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 9, 5, 0).unwrap());
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    let prompt = s
        .fake
        .posted()
        .into_iter()
        .find(|p| p.channel == DANA && p.message.text.contains("Status update"))
        .unwrap_or_else(|| panic!("no prompt: {:#?}", s.fake.posted()))
        .message;
    let ids = buttons_of(&prompt);
    assert!(ids.contains(&"action:atlas:1:done".to_owned()), "{ids:?}");
    assert!(ids.contains(&"inbox".to_owned()), "{ids:?}");
    s.client
        .interaction(&click("inbox", &s.fake.response_url("inbox")))
        .await;
    let answers = s.fake.wait_for_answers("inbox", 1).await;
    let listed = slack_message::Msg(answers[0].message.clone()).text();
    assert!(listed.contains("Waiting on you"), "{listed}");
    assert!(listed.contains("action done atlas 1"), "{listed}");
    s.client
        .interaction(&click("action:atlas:1:done", &s.fake.response_url("done")))
        .await;
    let answers = s.fake.wait_for_answers("done", 1).await;
    let answered = slack_message::Msg(answers[0].message.clone()).text();
    assert!(answered.contains("is done"), "{answered}");
    let shown = s.as_user(ADMIN, "action show atlas 1").await.text();
    assert!(shown.contains("done on"), "{shown}");
    s.fake.assert_nothing_unexpected();
}
