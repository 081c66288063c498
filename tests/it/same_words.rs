//! Discord and Slack say the same thing: the same refused commands, and the same status form
//! sent back, give the same words through the fake Discord and the fake Slack, because one
//! interaction core words them and the adapters only render.

use serde_json::{json, Value};

use crate::discord_bot::{self, CHANNEL, DANA, GUILD, LEE};
use crate::fake_discord::{member, options, slash, submit, FakeDiscord, MANAGE_GUILD};
use crate::helpers::TestDb;
use crate::slack::{self, slack_message::Msg, ADMIN};

/// One refused command, as Discord's options and as Slack's text. `admin` runs it as the
/// tenant admin, otherwise as a member with no rights.
struct Refused {
    path: &'static [&'static str],
    options: Vec<(&'static str, Value)>,
    text: &'static str,
    admin: bool,
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn refused() -> Vec<Refused> {
    let r = |path, options, text| Refused {
        path,
        options,
        text,
        admin: true,
    };
    vec![
        r(
            &["program", "show"],
            vec![("program", s("ghost"))],
            "program show ghost",
        ),
        r(
            &["project", "add"],
            vec![
                ("program", s("atlas")),
                ("key", s("api")),
                ("name", s("Again")),
            ],
            "project add atlas api --name Again",
        ),
        r(
            &["milestone", "add"],
            vec![
                ("program", s("atlas")),
                ("key", s("ga")),
                ("title", s("GA")),
                ("target", s("2026-13-40")),
            ],
            "milestone add atlas ga --title GA --target 2026-13-40",
        ),
        r(
            &["milestone", "add"],
            vec![
                ("program", s("atlas")),
                ("key", s("ga")),
                ("title", s("GA")),
                ("target", s("2026-12-20")),
                ("after", s("ghost")),
            ],
            "milestone add atlas ga --title GA --target 2026-12-20 --after ghost",
        ),
        r(
            &["milestone", "move"],
            vec![
                ("program", s("atlas")),
                ("key", s("ghost")),
                ("target", s("+1w")),
                ("reason", s("vendor")),
            ],
            "milestone move atlas ghost --target +1w --reason vendor",
        ),
        r(
            &["dep", "block"],
            vec![
                ("program", s("atlas")),
                ("number", s("99")),
                ("reason", s("x")),
            ],
            "dep block atlas 99 --reason x",
        ),
        r(
            &["status", "post"],
            vec![
                ("program", s("atlas")),
                ("project", s("ghost")),
                ("rag", json!(0)),
                ("summary", s("fine")),
            ],
            "status post atlas ghost --rag green --summary fine",
        ),
        r(
            &["status", "post"],
            vec![
                ("program", s("atlas")),
                ("project", s("api")),
                ("rag", json!(1)),
                ("summary", s("slipping")),
            ],
            "status post atlas api --rag amber --summary slipping",
        ),
        r(
            &["decision", "decide"],
            vec![
                ("program", s("atlas")),
                ("number", s("7")),
                ("outcome", s("yes")),
            ],
            "decision decide atlas 7 --outcome yes",
        ),
        r(
            &["schedule", "set"],
            vec![
                ("program", s("atlas")),
                ("kind", json!(0)),
                ("spec", s("every blue moon")),
            ],
            "schedule set atlas prompt \"every blue moon\"",
        ),
        Refused {
            path: &["program", "create"],
            options: vec![("key", s("beta")), ("name", s("Beta"))],
            text: "program create beta --name Beta",
            admin: false,
        },
    ]
}

/// The words of a Discord message: its embeds' titles, descriptions and fields, with
/// Markdown's escapes and the zero-width spaces that keep `<…>` inert undone.
fn discord_words(message: &Value) -> String {
    let mut out = Vec::new();
    for e in message["embeds"].as_array().into_iter().flatten() {
        for key in ["title", "description"] {
            if let Some(t) = e[key].as_str() {
                out.push(t.to_owned());
            }
        }
        for f in e["fields"].as_array().into_iter().flatten() {
            out.push(format!(
                "{}: {}",
                f["name"].as_str().unwrap_or(""),
                f["value"].as_str().unwrap_or("")
            ));
        }
    }
    unescape_markdown(&out.join("\n")).replace('\u{200b}', "")
}

fn unescape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|n| n.is_ascii_punctuation()) {
            continue;
        }
        out.push(c);
    }
    out
}

/// The words of a Slack message, with Slack's three escapes undone.
fn slack_words(m: &Msg) -> String {
    let text = m.text();
    // The first line is the notification text, which repeats the title.
    let body: Vec<&str> = text.lines().skip(1).collect();
    body.join("\n")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Both words, with whitespace and emphasis marks evened out (each platform bolds its own
/// way).
fn even(text: &str) -> String {
    text.replace(['*', '_'], "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words of a reply without what each renderer adds: Slack's colour emoji and
/// "Health:" label, Discord's `·` badge separator, field colons, and the platform's user ids
/// in mentions.
fn layout_free(text: &str) -> String {
    even(text)
        .split(' ')
        .filter(|w| !(w.starts_with(':') && w.ends_with(':') && w.len() > 2))
        .filter(|w| !matches!(*w, "·" | "Health:"))
        .map(|w| {
            if w.starts_with("<@") {
                "<@someone>".to_owned()
            } else {
                w.trim_end_matches(':').to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn discord_setup(fake: &FakeDiscord) {
    let tpm = discord_bot::tpm();
    for (path, opts) in [
        (
            vec!["program", "create"],
            vec![
                ("key", s("atlas")),
                ("name", s("Atlas cloud launch")),
                ("tz", s("Europe/Berlin")),
            ],
        ),
        (
            vec!["project", "add"],
            vec![
                ("program", s("atlas")),
                ("key", s("api")),
                ("name", s("Public API")),
                ("owner", s(&format!("user:{DANA}"))),
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
    ] {
        let e = discord_bot::run(fake, tpm.clone(), &path, &opts).await;
        assert!(
            !e.callback.to_string().contains("Not done"),
            "{path:?}: {}",
            e.callback
        );
    }
}

/// A form's (field, value) pairs.
type Fields<'a> = &'a [(&'a str, &'a str)];

/// A view submission of the status form, as `user`, answered at `response_url`.
fn slack_submission(user: &str, fields: &[(&str, &str)], response_url: &str) -> Value {
    let view = json!({
        "callback_id": "status:atlas:api:amber",
        "private_metadata": json!({ "response_url": response_url }).to_string(),
    });
    let mut payload = slack::submission(&view, fields);
    payload["user"] = json!({ "id": user, "username": user, "name": user });
    payload
}

#[tokio::test]
async fn discord_and_slack_refuse_in_the_same_words_and_post_the_same_form() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new().await;
    let bot = discord_bot::start(&fake, &db);
    fake.wait_ready(1).await;
    discord_setup(&fake).await;
    let slack = slack::start(true).await;
    slack.seed().await;

    let nobody = member(LEE, "lee", 0, &[]);
    let admin = member(discord_bot::TPM, "tpm", MANAGE_GUILD, &[]);
    let cases = refused();
    assert!(cases.len() >= 10);
    for case in &cases {
        let who = if case.admin {
            admin.clone()
        } else {
            nobody.clone()
        };
        let on_discord = fake
            .interact(slash(
                GUILD,
                CHANNEL,
                who,
                case.path,
                options(&case.options),
            ))
            .await;
        let data = &on_discord.callback["data"];
        assert_eq!(
            data["flags"].as_u64().map(|f| f & 64),
            Some(64),
            "{}: a refusal is private on Discord: {data}",
            case.text
        );
        let on_slack = slack
            .as_user(if case.admin { ADMIN } else { "ULEE" }, case.text)
            .await;
        let (d, s) = (discord_words(data), slack_words(&on_slack));
        assert!(d.starts_with("Not done"), "{}: {d}", case.text);
        assert_eq!(even(&d), even(&s), "{}", case.text);
    }

    // The status form sent back: refused for someone who may not post, then for amber
    // without blockers, then posted.
    let form_id = format!("{GUILD}:status:atlas:api:amber");
    let sent: [(&str, &str, Fields); 3] = [
        (
            LEE,
            "ULEE",
            &[("summary", "Beta slipping"), ("blockers", "rig")],
        ),
        (DANA, slack::DANA, &[("summary", "Beta slipping")]),
        (
            DANA,
            slack::DANA,
            &[
                ("summary", "Beta slipping"),
                ("blockers", "load test rig"),
                ("next", "rerun"),
            ],
        ),
    ];
    for (i, (discord_user, slack_user, fields)) in sent.iter().enumerate() {
        let on_discord = fake
            .interact(submit(
                Some(GUILD),
                CHANNEL,
                (discord_user, "someone"),
                &form_id,
                fields,
            ))
            .await;
        let d = discord_words(&on_discord.callback["data"]);
        let answered_at = format!("form-{i}");
        let got = slack
            .client
            .interaction(&slack_submission(
                slack_user,
                fields,
                &slack.fake.response_url(&answered_at),
            ))
            .await;
        assert_eq!(got.status, 200, "{}", got.body);
        let s = if got.body.is_empty() {
            let answers = slack.fake.wait_for_answers(&answered_at, 1).await;
            slack_words(&Msg(answers[0].message.clone()))
        } else {
            // Kept open with the problem under its field: the same words as Discord's
            // refusal, which cannot keep a form open.
            let errors = got.json()["errors"].clone();
            let field = errors.as_object().unwrap().values().next().unwrap().clone();
            format!("Not done\n{}", field.as_str().unwrap())
        };
        if i < 2 {
            assert_eq!(even(&d), even(&s), "form {i}");
            assert!(d.starts_with("Not done"), "form {i}: {d}");
        } else {
            // The same reply, laid out by each renderer: the same words, in the same order.
            assert_eq!(layout_free(&d), layout_free(&s), "form {i}");
            assert!(
                !d.contains("Not done") && d.contains("Beta slipping"),
                "form {i}: {d}"
            );
        }
    }
    bot.stop().await.unwrap();
}
