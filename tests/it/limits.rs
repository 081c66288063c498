//! Platform limits and pings: every Discord and Slack payload rendered for the large
//! generated program keeps every documented limit and drops nothing silently; user text
//! never pings anyone.

use drumbeat::analysis::Analysed;
use drumbeat::analysis::Snapshot;
use drumbeat::digest;
use drumbeat::domain::{Audience, Key, Platform, Tenant};
use drumbeat::fixture::{self, Size};
use drumbeat::reply::{discord, slack, text, Block, Reply, Span, Text};
use drumbeat::report;
use drumbeat::store;

use crate::helpers::{now, TestDb};

async fn snapshot(db: &TestDb, tenant: &Tenant, key: &str, since_all: bool) -> Snapshot {
    let mut tx = db.store.read().await.unwrap();
    let (scope, program) = store::find_program(&mut tx, tenant, &Key::parse(key).unwrap())
        .await
        .unwrap()
        .unwrap();
    let since = (!since_all).then(|| digest::period_start(now(), None));
    store::load_snapshot(&mut tx, &scope, program, now(), since)
        .await
        .unwrap()
}

/// Undoes the renderers' escaping, so reply text can be found in a payload.
fn normalise(s: &str) -> String {
    s.replace(['\u{200B}', '\\'], "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The first words of every list item, table row and paragraph: what must not go missing.
fn needles(reply: &Reply) -> Vec<String> {
    fn first(t: &Text) -> Option<String> {
        t.0.iter().find_map(|s| match s {
            Span::Text(x) | Span::Strong(x) | Span::Code(x) if !x.trim().is_empty() => Some(
                x.trim()
                    .chars()
                    .take(40)
                    .collect::<String>()
                    .trim()
                    .to_owned(),
            ),
            _ => None,
        })
    }
    let mut out = Vec::new();
    for b in &reply.blocks {
        match b {
            Block::Paragraph { text } => out.extend(first(text)),
            Block::List { items } => out.extend(items.iter().filter_map(first)),
            Block::Table { rows, .. } => {
                out.extend(rows.iter().filter_map(|r| r.iter().find_map(first)))
            }
            Block::Fields { fields } => out.extend(fields.iter().filter_map(|f| first(&f.value))),
            Block::Heading { .. } | Block::Preformatted { .. } | Block::Image { .. } => {}
        }
    }
    out
}

fn check(name: &str, reply: &Reply) -> (usize, usize) {
    let messages = discord::render(reply);
    assert!(!messages.is_empty(), "{name}: no Discord message");
    for (i, m) in messages.iter().enumerate() {
        let v = discord::violations(m);
        assert!(
            v.is_empty(),
            "{name}: Discord message {i} breaks limits: {v:?}"
        );
        assert!(
            m.allowed_mentions.parse.is_empty(),
            "{name}: parse must stay empty"
        );
        assert!(
            m.allowed_mentions.roles.is_empty(),
            "{name}: roles are never pinged"
        );
    }
    let blocks = slack::render(reply);
    for (i, m) in blocks.iter().enumerate() {
        let v = slack::violations(m);
        assert!(
            v.is_empty(),
            "{name}: Slack message {i} breaks limits: {v:?}"
        );
    }
    let d = normalise(&collect_strings(&serde_json::to_value(&messages).unwrap()));
    let s = normalise(&collect_strings(&serde_json::to_value(&blocks).unwrap()));
    // In order: each piece is looked for after the one before, which keeps this linear.
    let (mut at_d, mut at_s) = (0, 0);
    for needle in needles(reply) {
        let needle = normalise(&needle);
        match d[at_d..].find(&needle) {
            Some(i) => at_d += i,
            None => {
                panic!("{name}: `{needle}` is missing from the Discord messages (or out of order)")
            }
        }
        match s[at_s..].find(&needle) {
            Some(i) => at_s += i,
            None => {
                panic!("{name}: `{needle}` is missing from the Slack messages (or out of order)")
            }
        }
    }
    (messages.len(), blocks.len())
}

/// Every string in a JSON value, one per line.
fn collect_strings(v: &serde_json::Value) -> String {
    let mut out = String::new();
    fn walk(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                out.push_str(s);
                out.push('\n');
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(v, &mut out);
    out
}

#[tokio::test]
async fn every_payload_of_the_large_program_keeps_the_platform_limits() {
    let db = TestDb::new().await;
    let tenant = Tenant::discord(7);
    let t = std::time::Instant::now();
    fixture::generate(&db.store, &tenant, "large", Size::FULL, now())
        .await
        .unwrap();
    eprintln!("generated in {:?}", t.elapsed());
    let snap = snapshot(&db, &tenant, "large", false).await;
    let a = Analysed::of(&snap);
    let since = digest::period_start(now(), None);
    let mut replies = Vec::new();
    for audience in [
        Audience::Engineering,
        Audience::Executive,
        Audience::Product,
    ] {
        let d = digest::build(&a, audience, since);
        replies.push((
            format!("{} digest", audience.as_str()),
            digest::to_reply(&d),
        ));
    }
    replies.push(("status report".into(), report::status(&a, since)));
    replies.push(("agenda".into(), report::agenda(&a)));
    replies.push(("charter".into(), report::charter(&a)));
    let all = snapshot(&db, &tenant, "large", true).await;
    let full = Analysed::of(&all);
    replies.push(("post-mortem".into(), report::postmortem(&full, None)));

    eprintln!("analysed in {:?}", t.elapsed());
    for (name, reply) in &replies {
        let (discord_messages, slack_messages) = check(name, reply);
        eprintln!("{name}: {discord_messages} Discord messages, {slack_messages} Slack messages");
        if name == "executive digest" {
            assert_eq!(discord_messages, 1, "the executive digest fits one message");
            assert_eq!(slack_messages, 1, "the executive digest fits one message");
            let lines = text::render(reply).lines().count();
            assert!(
                lines <= 40,
                "the executive digest fits one screen: {lines} lines"
            );
        }
    }
    // What the engineering digest cut, it says where to find.
    let eng = text::render(&replies[0].1);
    assert!(
        eng.contains("… and ") && eng.contains("more: `milestone list large`"),
        "{eng}"
    );
}

#[tokio::test]
async fn user_text_pings_nobody_and_typed_mentions_are_the_only_pings() {
    let db = TestDb::new().await;
    let tenant = Tenant::discord(42);
    let dana = "222222222222222222";
    let run = |line: String| {
        let db = &db;
        let tenant = tenant.clone();
        async move {
            db.run_with(&tenant, Platform::Discord, "tpm", &line)
                .await
                .unwrap_or_else(|e| panic!("`{line}`: {e:?}"))
        }
    };
    run(r#"program create atlas --name "Atlas" --tz Europe/Berlin"#.into()).await;
    run(format!(
        r#"project add atlas api --name "API <!here>" --owner <@{dana}>"#
    ))
    .await;
    run(
        r#"milestone add atlas beta --title "Beta @here" --target 2026-12-15 --project api"#.into(),
    )
    .await;
    run(r#"milestone add atlas ga --title "GA" --target 2026-12-20 --project api --after beta --duration 10"#.into()).await;
    run(format!(r#"risk add atlas "@everyone <@&123> <!channel>" --likelihood 5 --impact 5 --owner <@{dana}> --customer-impact "<!everyone> @everyone""#)).await;

    for audience in ["engineering", "executive", "product"] {
        let reply = run(format!("digest show atlas --audience {audience}")).await;
        for m in discord::render(&reply) {
            assert!(m.allowed_mentions.parse.is_empty());
            assert!(m.allowed_mentions.roles.is_empty());
            assert!(m.allowed_mentions.users.is_empty(), "a digest pings nobody");
            let raw = serde_json::to_string(&m).unwrap();
            assert!(raw.contains("everyone"), "the risk is shown: {raw}");
            for bad in ["@everyone", "@here", "<@&123>"] {
                assert!(!raw.contains(bad), "`{bad}` would ping: {raw}");
            }
        }
        for m in slack::render(&reply) {
            let raw = serde_json::to_string(&m).unwrap();
            assert!(
                !raw.contains("<!channel>")
                    && !raw.contains("<!here>")
                    && !raw.contains("<!everyone>"),
                "{raw}"
            );
            assert!(!raw.contains("<@&123>"), "{raw}");
            if audience != "product" {
                assert!(
                    raw.contains("&lt;!channel&gt;"),
                    "escaped, still shown: {raw}"
                );
            }
        }
    }
    // A real slip pings the downstream owner: exactly that user, by id.
    let reply = run(
        r#"milestone move atlas beta --target 2026-12-18 --reason "<!channel> slipped""#.into(),
    )
    .await;
    let messages = discord::render(&reply);
    let users: Vec<&str> = messages
        .iter()
        .flat_map(|m| m.allowed_mentions.users.iter().map(String::as_str))
        .collect();
    assert_eq!(users, [dana]);
    let raw = serde_json::to_string(&messages).unwrap();
    assert!(raw.contains(&format!("<@{dana}>")), "{raw}");
    let raw = serde_json::to_string(&slack::render(&reply)).unwrap();
    assert!(
        raw.contains("&lt;!channel&gt; slipped") && !raw.contains("<!channel>"),
        "{raw}"
    );
}
