//! The read-only dashboard: `program share` and its links, the program page at `/p/{token}`
//! with its security headers, the same bare 404 for every link that opens nothing, the
//! page written with `report status --out FILE.html`, `chart show --format svg`, and the
//! page in a real browser (chromium through chromedriver): content, console, requests,
//! accessibility (axe-core) and screenshots in light, dark and print.

use std::sync::Arc;
use std::time::Duration;

use drumbeat::clock::Clock;
use drumbeat::command::{Actor, Ctx};
use drumbeat::domain::{Platform, Tenant};
use drumbeat::http::{self, HttpApp};
use drumbeat::links::LinkKey;
use drumbeat::reply::{Body, Reply};
use drumbeat::telemetry::metrics;

use crate::helpers::{seed_atlas, TestDb};

/// The HTTP server on loopback, with the installation's link key; its base URL.
async fn serve(db: &TestDb) -> String {
    let clock: Arc<dyn Clock> = Arc::new(db.clock.clone());
    let key = {
        let mut tx = db.store.write().await.unwrap();
        let key = LinkKey::load_or_create(&mut tx, clock.now()).await.unwrap();
        tx.commit().await.unwrap();
        key
    };
    serve_with_key(db, key).await
}

async fn serve_with_key(db: &TestDb, key: LinkKey) -> String {
    let clock: Arc<dyn Clock> = Arc::new(db.clock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = HttpApp::new(
        db.store.clone(),
        clock,
        metrics::recorder().handle(),
        None,
        Duration::from_secs(600),
        Some(key),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // The server runs until the test's runtime ends.
    std::mem::forget(stop);
    tokio::spawn(http::serve(listener, http::router(app, None), stopped));
    base
}

/// `program share …` in `tenant` as `who`: the link's path (no public URL is set).
async fn share_in(db: &TestDb, tenant: &Tenant, who: &str, line: &str) -> (i64, String) {
    let reply = db
        .run_in(tenant, who, line)
        .await
        .unwrap_or_else(|e| panic!("`{line}` failed: {e:?}"));
    let data = reply.data.expect("the link's data");
    (
        data["link"].as_i64().expect("the link's id"),
        data["url"].as_str().expect("the link's address").to_owned(),
    )
}

async fn share(db: &TestDb, line: &str) -> (i64, String) {
    share_in(db, &Tenant::local(), "tpm", line).await
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

async fn get(url: &str) -> Answer {
    let r = reqwest::get(url).await.expect("GET");
    let status = r.status().as_u16();
    let mut headers: Vec<(String, String)> = r
        .headers()
        .iter()
        // The date moves on between two requests; everything else must be equal.
        .filter(|(k, _)| k.as_str() != "date")
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    headers.sort();
    let body = r.text().await.expect("body");
    Answer {
        status,
        headers,
        body,
    }
}

fn header<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn assert_security_headers(a: &Answer) {
    for (name, value) in [
        ("content-security-policy", "default-src 'self'"),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(header(a, name), Some(value), "{name} in {:?}", a.headers);
    }
}

#[tokio::test]
async fn a_share_link_opens_the_program_page_with_the_security_headers() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let base = serve(&db).await;
    let (id, path) = share(&db, "program share atlas").await;
    assert!(path.starts_with("/p/"), "{path}");

    let page = get(&format!("{base}{path}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        header(&page, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_security_headers(&page);
    let body = &page.body;
    assert!(body.starts_with("<!DOCTYPE html>"), "{}", &body[..80]);
    assert!(body.contains(r#"<html lang="en">"#));
    assert!(body.contains("<title>Atlas cloud launch</title>"));
    assert!(body.contains(r##"href="#main""##), "a skip link");
    for key in ["auth-ready", "api-beta", "fe-launch"] {
        assert!(body.contains(&format!("<th scope=\"row\">{key}")), "{key}");
    }
    assert!(body.contains("Overall health: "));
    assert!(body.contains("Auth endpoints"), "the dependency");
    assert!(body.contains("Vendor SDK late"), "the risk");
    assert!(body.contains("Ship without SSO"), "the decision");
    assert!(body.contains("<svg"), "the timeline inline");
    // Nothing inline that the policy would block, and nothing from elsewhere.
    assert!(!body.contains("<script"), "no scripts");
    assert!(!body.contains("style=\""), "no inline styles");
    assert!(
        !body.contains("<style"),
        "the stylesheet is linked, not inline"
    );
    assert!(body.contains(r#"<link rel="stylesheet" href="/assets/drumbeat.css">"#));
    assert!(!body.contains("https://"), "no external address");

    let css = get(&format!("{base}/assets/drumbeat.css")).await;
    assert_eq!(css.status, 200);
    assert_eq!(
        header(&css, "content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_security_headers(&css);
    assert!(css.body.contains("@media print"));
    assert!(css.body.contains("prefers-color-scheme: dark"));

    // The opening is noted, and shows in the list.
    let list = db.ok("tpm", "program share atlas --list").await;
    assert!(list.contains(&id.to_string()), "{list}");
    assert!(!list.contains("never"), "{list}");
}

#[tokio::test]
async fn a_hostile_title_is_escaped_on_the_page_and_in_its_svg() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok(
        "tpm",
        r#"milestone add atlas xss --title "<script>alert('x')</script> & <b>bold</b>" --target 2026-12-10 --project api"#,
    )
    .await;
    db.ok(
        "tpm",
        r#"risk add atlas "<img src=x onerror=alert(1)>" --likelihood 2 --impact 2"#,
    )
    .await;
    let base = serve(&db).await;
    let (_, path) = share(&db, "program share atlas").await;
    let page = get(&format!("{base}{path}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>alert"), "escaped");
    assert!(!page.body.contains("<b>bold"), "escaped");
    assert!(!page.body.contains("<img src=x"), "escaped");
    assert!(
        page.body
            .contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"),
        "the title, escaped, in the table"
    );
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // The timeline's own text is escaped too.
    let svg = &page.body[page.body.find("<svg").unwrap()..page.body.find("</svg>").unwrap()];
    assert!(
        svg.contains("&lt;script&gt;"),
        "the SVG names the milestone"
    );
    assert!(!svg.contains("<script"), "and escapes it");
}

#[tokio::test]
async fn foreign_altered_expired_and_revoked_links_all_get_the_same_bare_404() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let other = Tenant::slack("T0OTHER");
    for line in [
        r#"program create atlas --name "Someone else's atlas""#,
        r#"milestone add atlas secret --title "Their secret launch" --target 2027-02-01"#,
    ] {
        db.run_with(&other, Platform::Console, "tpm", line)
            .await
            .unwrap_or_else(|e| panic!("`{line}`: {e:?}"));
    }
    let base = serve(&db).await;
    let (good_id, good) = share(&db, "program share atlas").await;
    let (revoked_id, revoked) = share(&db, "program share atlas").await;
    let (_, short) = share(&db, "program share atlas --days 1").await;
    let ok = get(&format!("{base}{good}")).await;
    assert_eq!(ok.status, 200);

    // Revoked.
    db.ok("tpm", &format!("program share atlas --revoke {revoked_id}"))
        .await;
    // Altered: another id under the same signature, a changed signature, a longer expiry.
    let token = good.trim_start_matches("/p/");
    let parts: Vec<&str> = token.split('.').collect();
    let other_id = format!("/p/{}.{}.{}", revoked_id, parts[1], parts[2]);
    let mut sig = parts[2].to_owned();
    let last = sig.pop().unwrap();
    sig.push(if last == '0' { '1' } else { '0' });
    let changed_sig = format!("/p/{}.{}.{sig}", parts[0], parts[1]);
    let longer = format!(
        "/p/{}.{}.{}",
        parts[0],
        parts[1].parse::<i64>().unwrap() + 86_400,
        parts[2]
    );
    // Foreign: signed by another installation's key; and a row of another tenant made to
    // name this tenant's program.
    let stranger = LinkKey::from_bytes([9; 32]);
    let forged = format!(
        "/p/{}",
        stranger.share_token(&drumbeat::links::ShareToken {
            id: good_id,
            expires: parts[1].parse().unwrap(),
        })
    );
    let boss_tenant_link = {
        let (id, path) = share_in(&db, &other, "tpm", "program share atlas").await;
        let mut conn = db.store.conn().await.unwrap();
        let (local_atlas,): (i64,) = drumbeat::store::db::query_as(
            "SELECT id FROM programs WHERE tenant = $1 AND key = 'atlas'",
        )
        .bind(Tenant::local().to_string())
        .fetch_one(&mut conn)
        .await
        .unwrap();
        drumbeat::store::db::query("UPDATE share_links SET subject_id = $1 WHERE id = $2")
            .bind(local_atlas)
            .bind(id)
            .execute(&mut conn)
            .await
            .unwrap();
        path
    };

    let mut refused = vec![
        ("revoked", revoked.clone()),
        ("another id", other_id),
        ("a changed signature", changed_sig),
        ("a longer expiry", longer),
        ("another installation's key", forged),
        ("another tenant's link", boss_tenant_link),
        ("no token", "/p/".to_owned()),
        ("nonsense", "/p/abc".to_owned()),
    ];
    // Expired: two days on, the one-day link no longer opens (the others still do).
    db.clock.advance(chrono::Duration::days(2));
    refused.push(("expired", short));
    let first = get(&format!("{base}{}", refused[0].1)).await;
    assert_eq!(first.status, 404, "revoked");
    assert_eq!(first.body, "", "a bare 404");
    assert_security_headers(&first);
    for (why, path) in &refused[1..] {
        let answer = get(&format!("{base}{path}")).await;
        assert_eq!(answer.status, 404, "{why}: {path}");
        assert_eq!(answer.body, first.body, "{why}");
        if path != "/p/" {
            assert_eq!(answer.headers, first.headers, "{why}");
        }
    }
    // The good link still opens, and never showed the other tenant's program.
    let still = get(&format!("{base}{good}")).await;
    assert_eq!(still.status, 200);
    assert!(!still.body.contains("Their secret launch"));
    assert!(!still.body.contains("Someone else"));
    // Fifteen days on, it has expired too.
    db.clock.advance(chrono::Duration::days(13));
    assert_eq!(get(&format!("{base}{good}")).await.status, 404);
}

#[tokio::test]
async fn a_link_to_one_program_never_shows_another_of_the_same_or_another_tenant() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    for line in [
        r#"program create borealis --name "Borealis data platform""#,
        r#"milestone add borealis ingest --title "Ingest pipeline live" --target 2027-01-10"#,
    ] {
        db.ok("tpm", line).await;
    }
    let other = Tenant::slack("T0OTHER");
    for line in [
        r#"program create atlas --name "Foreign atlas""#,
        r#"milestone add atlas foreign-ms --title "Foreign milestone" --target 2027-02-01"#,
    ] {
        db.run_with(&other, Platform::Console, "tpm", line)
            .await
            .unwrap();
    }
    let base = serve(&db).await;
    let (_, atlas) = share(&db, "program share atlas").await;
    let (_, borealis) = share(&db, "program share borealis").await;
    let (_, foreign) = share_in(&db, &other, "tpm", "program share atlas").await;

    let a = get(&format!("{base}{atlas}")).await.body;
    assert!(a.contains("Atlas cloud launch") && a.contains("auth-ready"));
    for absent in [
        "Borealis",
        "Ingest pipeline",
        "Foreign atlas",
        "Foreign milestone",
    ] {
        assert!(!a.contains(absent), "{absent} on atlas's page");
    }
    let b = get(&format!("{base}{borealis}")).await.body;
    assert!(b.contains("Borealis data platform") && b.contains("Ingest pipeline live"));
    for absent in ["Atlas cloud launch", "auth-ready", "Foreign"] {
        assert!(!b.contains(absent), "{absent} on borealis's page");
    }
    let f = get(&format!("{base}{foreign}")).await.body;
    assert!(f.contains("Foreign atlas") && f.contains("Foreign milestone"));
    for absent in ["Atlas cloud launch", "auth-ready", "Borealis"] {
        assert!(!f.contains(absent), "{absent} on the other tenant's page");
    }
}

#[tokio::test]
async fn only_owners_and_editors_share_and_bad_input_changes_nothing() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok("tpm", "program grant atlas @li --role editor").await;
    db.ok("tpm", "program grant atlas @kim --role viewer").await;
    let before = db.dump().await;
    let refused = db.refused("kim", "program share atlas").await;
    assert!(
        refused.contains("only an editor or the owner of `atlas` can share"),
        "{refused}"
    );
    let refused = db.refused("kim", "program share atlas --list").await;
    assert!(refused.contains("only an editor or the owner"), "{refused}");
    for (line, says) in [
        (
            "program share atlas --days 0",
            "--days 0: a link works for 1 to 365 days",
        ),
        (
            "program share atlas --days 366",
            "--days 366: a link works for 1 to 365 days",
        ),
        (
            "program share atlas --revoke 99",
            "atlas has no live share link 99",
        ),
        (
            "program share atlas --revoke x1",
            "`x1` is not a share link number",
        ),
        ("program share nope", "there is no program `nope`"),
    ] {
        let msg = db.refused("tpm", line).await;
        assert!(msg.contains(says), "{line}: {msg}");
    }
    assert_eq!(db.dump().await, before, "refusals change nothing");

    // An editor shares; without `http.public_url` the reply is the path, and says so.
    let reply = db.ok("li", "program share atlas --days 30").await;
    assert!(reply.contains("/p/"), "{reply}");
    assert!(reply.contains("`http.public_url` is not set"), "{reply}");
    // With a public URL, the whole address.
    let ctx = Ctx {
        tenant: Tenant::local(),
        platform: Platform::Console,
        actor: Actor {
            handle: "tpm".into(),
            display_name: "tpm".into(),
            is_admin: true,
        },
        channel: None,
        now: db.clock.now(),
        webhooks: db.webhooks.clone(),
        public_url: Some(Arc::from("https://drumbeat.example.com/")),
        channels: Arc::new(drumbeat::command::NoPlatform),
    };
    let reply = drumbeat::command::execute(&db.store, &ctx, "program share atlas")
        .await
        .unwrap();
    let url = reply.data.unwrap()["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("https://drumbeat.example.com/p/"), "{url}");

    let list = db.ok("tpm", "program share atlas --list").await;
    assert!(list.contains("@li"), "{list}");
    assert!(list.contains("never"), "{list}");
    let all = db.ok("tpm", "program share atlas --revoke-all").await;
    assert!(all.contains("2 share links of atlas revoked"), "{all}");
    let again = db.ok("tpm", "program share atlas --revoke-all").await;
    assert!(again.contains("no live share link"), "{again}");
    let list = db.ok("tpm", "program share atlas --list").await;
    assert_eq!(list.matches("revoked").count(), 2, "{list}");
}

#[tokio::test]
async fn digests_link_their_page_and_reuse_the_link_while_it_works_for_a_week_more() {
    use chrono::TimeZone as _;
    use drumbeat::config::DeliverySettings;
    use drumbeat::outbox::{ConsoleSink, Senders, Worker};
    use drumbeat::schedule::{ChartLinks, Scheduler};

    let db = TestDb::new().await;
    seed_atlas(&db).await;
    db.ok("tpm", r#"digest subscribe atlas --at "daily 11:00""#)
        .await;
    let base = serve(&db).await;
    let clock: Arc<dyn Clock> = Arc::new(db.clock.clone());
    let key = {
        let mut tx = db.store.write().await.unwrap();
        let key = LinkKey::load_or_create(&mut tx, clock.now()).await.unwrap();
        tx.commit().await.unwrap();
        key
    };
    let scheduler = Scheduler::new(db.store.clone(), clock.clone(), Default::default())
        .with_chart_links(ChartLinks {
            public_url: Arc::from(base.as_str()),
            key,
        });
    let (sink, lines) = ConsoleSink::memory();
    let worker = Worker::new(
        db.store.clone(),
        Senders::console(sink),
        clock,
        &DeliverySettings::default(),
    );
    // 11:01 in Berlin on the given day of 2026: the daily digest is due.
    let digest_on = |month: u32, day: u32| {
        let scheduler = &scheduler;
        let worker = &worker;
        let lines = lines.clone();
        let db = &db;
        let base = base.clone();
        async move {
            db.clock.set(
                chrono::Utc
                    .with_ymd_and_hms(2026, month, day, 10, 1, 0)
                    .unwrap(),
            );
            lines.lock().unwrap().clear();
            scheduler.tick().await.unwrap();
            worker.drain().await.unwrap();
            let text = lines.lock().unwrap().join("\n");
            let at = text
                .find(&format!("The program's page: {base}/p/"))
                .unwrap_or_else(|| panic!("no page link in {text}"));
            let url = text[at + "The program's page: ".len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
            url
        }
    };
    let first = digest_on(11, 27).await;
    let page = get(&first).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Atlas cloud launch"));
    // The next day's digest reuses it: it still works for 13 days.
    assert_eq!(digest_on(11, 28).await, first);
    // With less than a week left (it ends on 11 December), a new one.
    let later = digest_on(12, 5).await;
    assert_ne!(later, first);
    assert_eq!(get(&later).await.status, 200);
    let list = db.ok("tpm", "program share atlas --list").await;
    assert_eq!(list.matches("a digest").count(), 2, "{list}");
    // Revoked, it is replaced by the next digest.
    db.ok("tpm", "program share atlas --revoke-all").await;
    assert_eq!(get(&later).await.status, 404);
    let after = digest_on(12, 6).await;
    assert_ne!(after, later);
    assert_eq!(get(&after).await.status, 200);
}

fn body_of(reply: &Reply, media_type: &str) -> String {
    let a = reply.attachment().expect("an attachment");
    assert_eq!(a.media_type, media_type);
    match &a.body {
        Body::Bytes(b) => String::from_utf8(b.clone()).expect("UTF-8"),
        Body::Text(t) => t.clone(),
    }
}

#[tokio::test]
async fn chart_show_draws_an_svg_with_the_milestones_on_request() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let reply = db
        .run("tpm", "chart show atlas timeline --format svg")
        .await
        .unwrap();
    let svg = body_of(&reply, "image/svg+xml");
    assert_eq!(reply.attachment().unwrap().filename, "atlas-timeline.svg");
    assert!(svg.starts_with("<svg "), "{}", &svg[..60]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(r#"xmlns="http://www.w3.org/2000/svg""#));
    for title in ["Auth ready", "API beta", "Frontend launch"] {
        assert!(svg.contains(title), "{title}");
    }
    assert!(!svg.contains("url("), "no external reference");
    assert!(!svg.contains("@font-face"));
    // Every other chart draws as SVG too; PNG stays the default.
    for kind in ["risks", "deps", "trend"] {
        let r = db
            .run("tpm", &format!("chart show atlas {kind} --format svg"))
            .await
            .unwrap();
        assert!(body_of(&r, "image/svg+xml").contains("</svg>"), "{kind}");
    }
    let png = db.run("tpm", "chart show atlas timeline").await.unwrap();
    assert_eq!(png.attachment().unwrap().media_type, "image/png");
    let msg = db
        .refused("tpm", "chart show atlas timeline --format gif")
        .await;
    assert!(msg.contains("png (the default) or svg"), "{msg}");
}

#[tokio::test]
async fn report_status_out_html_writes_the_page_with_its_stylesheet_inside() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("atlas.html");
    let out = out.to_str().unwrap();
    let reply = db
        .run("tpm", &format!("report status atlas --out {out}"))
        .await
        .unwrap();
    let a = reply.attachment().unwrap();
    assert_eq!(a.save_to.as_deref(), Some(out));
    let html = body_of(&reply, "text/html; charset=utf-8");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>Atlas cloud launch</title>"));
    assert!(html.contains("<style>"), "the stylesheet inside");
    assert!(html.contains("@media print"));
    assert!(
        !html.contains("<link rel=\"stylesheet\""),
        "no link to the server"
    );
    assert!(html.contains("<svg"), "the timeline inline");
    assert!(html.contains("auth-ready"));
    // The console writes it where asked.
    let shown = drumbeat::platform::console::present(&reply, false).unwrap();
    assert!(shown.contains("atlas.html"), "{shown}");
    let written = std::fs::read_to_string(out).unwrap();
    assert_eq!(written, html);
    // Other reports stay Markdown, and say so.
    let msg = db
        .refused("tpm", &format!("report agenda atlas --out {out}"))
        .await;
    assert!(
        msg.contains("only the status report is written as a page"),
        "{msg}"
    );
}

mod browser {
    //! The page in chromium, driven through chromedriver. Without chromium, chromedriver
    //! or axe-core (`DRUMBEAT_AXE_JS`) the test says it was skipped and passes, unless
    //! `DRUMBEAT_REQUIRE_BROWSER=1` (CI), where it fails.

    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};

    use base64::Engine as _;
    use fantoccini::wd::WebDriverCompatibleCommand;
    use fantoccini::{Client, ClientBuilder, Locator};
    use futures_util::FutureExt as _;
    use serde_json::{json, Value};

    use super::{serve, share, TestDb};

    /// A DevTools command through chromedriver (`POST /session/{id}/goog/cdp/execute`).
    #[derive(Debug)]
    struct Cdp {
        cmd: &'static str,
        params: Value,
    }

    impl WebDriverCompatibleCommand for Cdp {
        fn endpoint(
            &self,
            base: &url::Url,
            session: Option<&str>,
        ) -> Result<url::Url, url::ParseError> {
            base.join(&format!(
                "session/{}/goog/cdp/execute",
                session.unwrap_or("")
            ))
        }

        fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
            (
                axum::http::Method::POST,
                Some(json!({ "cmd": self.cmd, "params": self.params }).to_string()),
            )
        }
    }

    /// The browser's console log since the last read (`POST /session/{id}/se/log`).
    #[derive(Debug)]
    struct BrowserLog;

    impl WebDriverCompatibleCommand for BrowserLog {
        fn endpoint(
            &self,
            base: &url::Url,
            session: Option<&str>,
        ) -> Result<url::Url, url::ParseError> {
            base.join(&format!("session/{}/se/log", session.unwrap_or("")))
        }

        fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
            (
                axum::http::Method::POST,
                Some(json!({ "type": "browser" }).to_string()),
            )
        }
    }

    fn found(var: &str, defaults: &[&str]) -> Option<PathBuf> {
        if let Ok(p) = std::env::var(var) {
            return Some(PathBuf::from(p)).filter(|p| p.exists());
        }
        defaults.iter().map(PathBuf::from).find(|p| p.exists())
    }

    /// What the browser test needs, or why it cannot run.
    fn tools() -> Result<(PathBuf, PathBuf, PathBuf), String> {
        let chromium = found(
            "DRUMBEAT_CHROMIUM",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        )
        .ok_or("no chromium (apt-get install chromium, or set DRUMBEAT_CHROMIUM)")?;
        let driver = found("DRUMBEAT_CHROMEDRIVER", &["/usr/bin/chromedriver"])
            .ok_or("no chromedriver (apt-get install chromium-driver)")?;
        let axe = found("DRUMBEAT_AXE_JS", &[])
            .ok_or("no axe-core: set DRUMBEAT_AXE_JS to axe.min.js (npm install axe-core@4)")?;
        Ok((chromium, driver, axe))
    }

    struct Driver(Child);

    impl Drop for Driver {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    async fn start(chromium: &Path, driver: &Path) -> (Driver, Client) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let child = Driver(child);
        let url = format!("http://127.0.0.1:{port}/");
        for _ in 0..100 {
            if reqwest::get(format!("{url}status")).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-extensions",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1280,900",
                ],
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a chromium session");
        (child, client)
    }

    /// A full-page screenshot (PNG) through DevTools.
    async fn screenshot(client: &Client, to: &Path) {
        let shot = client
            .issue_cmd(Cdp {
                cmd: "Page.captureScreenshot",
                params: json!({ "format": "png", "captureBeyondViewport": true }),
            })
            .await
            .expect("a screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("image data"))
            .expect("base64");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(to, png).expect("write the screenshot");
    }

    async fn style_of(client: &Client, selector: &str, property: &str) -> String {
        client
            .execute(
                "return getComputedStyle(document.querySelector(arguments[0])).getPropertyValue(arguments[1]);",
                vec![json!(selector), json!(property)],
            )
            .await
            .expect("a computed style")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The demo's program, a few days on, with an amber update: a page with every part.
    async fn demo_like() -> TestDb {
        let db = TestDb::new().await;
        for (who, line) in drumbeat::demo::SETUP {
            db.ok(who, line).await;
        }
        db.clock.advance(chrono::Duration::days(3));
        db.ok(
            "omar",
            r#"status post atlas billing --rag amber --summary "Contract still unsigned" --blockers "Legal review""#,
        )
        .await;
        db
    }

    #[tokio::test]
    async fn the_page_in_chromium_loads_cleanly_passes_axe_and_is_photographed_in_three_modes() {
        let (chromium, driver, axe) = match tools() {
            Ok(t) => t,
            Err(why) if std::env::var("DRUMBEAT_REQUIRE_BROWSER").as_deref() == Ok("1") => {
                panic!("DRUMBEAT_REQUIRE_BROWSER=1 but the browser test cannot run: {why}")
            }
            Err(why) => {
                eprintln!("skipped: the browser test needs {why}");
                return;
            }
        };
        let db = demo_like().await;
        let base = serve(&db).await;
        let (_, path) = share(&db, "program share atlas").await;
        let (_driver, client) = start(&chromium, &driver).await;
        let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("the target folder")
            .join("dashboard-screenshots");
        std::fs::create_dir_all(&shots).unwrap();

        let outcome = async {
            client
                .goto(&format!("{base}{path}"))
                .await
                .expect("open the page");
            // Content: the health, the milestone rows, the timeline.
            let health = client
                .find(Locator::Css("#health .headline"))
                .await
                .expect("the headline")
                .text()
                .await
                .unwrap();
            assert!(health.contains("Overall health:"), "{health}");
            assert!(
                ["GREEN", "AMBER", "RED", "green", "amber", "red"]
                    .iter()
                    .any(|r| health.contains(r)),
                "{health}"
            );
            let rows = client
                .find_all(Locator::Css("#milestones tbody tr"))
                .await
                .unwrap();
            assert!(rows.len() >= 4, "{} milestone rows", rows.len());
            let table = client
                .find(Locator::Css("#milestones"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            for key in ["auth-ready", "api-beta", "console-beta"] {
                assert!(table.contains(key), "{key} in {table}");
            }
            client
                .find(Locator::Css("#timeline figure svg"))
                .await
                .expect("the timeline SVG");
            let width = client
                .execute(
                    "return document.querySelector('#timeline figure svg').getBoundingClientRect().width;",
                    vec![],
                )
                .await
                .unwrap();
            assert!(width.as_f64().unwrap_or(0.0) > 100.0, "drawn: {width}");
            // The stylesheet applied: the skip link is off-screen until focused.
            assert_eq!(style_of(&client, "a.skip", "position").await, "absolute");

            // No console errors (a blocked request or inline code would be one), and
            // every resource loaded came from this server.
            let log = client.issue_cmd(BrowserLog).await.expect("the browser log");
            let severe: Vec<&Value> = log
                .as_array()
                .map(|a| a.iter().filter(|e| e["level"] == "SEVERE").collect())
                .unwrap_or_default();
            assert!(severe.is_empty(), "console errors: {severe:#?}");
            let resources = client
                .execute(
                    "return performance.getEntriesByType('resource').map(e => e.name);",
                    vec![],
                )
                .await
                .unwrap();
            let resources: Vec<String> = serde_json::from_value(resources).unwrap();
            assert!(
                resources
                    .iter()
                    .any(|r| r.ends_with("/assets/drumbeat.css")),
                "{resources:?}"
            );
            for r in &resources {
                assert!(r.starts_with(&base), "a request elsewhere: {r}");
            }

            // Accessibility: axe-core, injected, finds nothing serious or critical.
            let source = std::fs::read_to_string(&axe).expect("read axe-core");
            client
                .execute(&format!("{source}\n;return typeof axe;"), vec![])
                .await
                .expect("inject axe-core");
            let violations = client
                .execute(
                    "const r = await axe.run(document);
                     return r.violations
                       .filter(v => v.impact === 'serious' || v.impact === 'critical')
                       .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at '
                         + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '));",
                    vec![],
                )
                .await
                .expect("run axe-core");
            let violations: Vec<String> = serde_json::from_value(violations).unwrap();
            assert!(violations.is_empty(), "axe: {violations:#?}");

            // Light, dark and print.
            screenshot(&client, &shots.join("light.png")).await;
            let light = style_of(&client, "body", "background-color").await;
            client
                .issue_cmd(Cdp {
                    cmd: "Emulation.setEmulatedMedia",
                    params: json!({ "features": [{ "name": "prefers-color-scheme", "value": "dark" }] }),
                })
                .await
                .expect("dark mode");
            let dark = style_of(&client, "body", "background-color").await;
            assert_ne!(light, dark, "the dark scheme changes the page");
            assert_eq!(dark, "rgb(13, 17, 23)");
            screenshot(&client, &shots.join("dark.png")).await;
            client
                .issue_cmd(Cdp {
                    cmd: "Emulation.setEmulatedMedia",
                    params: json!({ "media": "print", "features": [] }),
                })
                .await
                .expect("print mode");
            assert_eq!(style_of(&client, "nav.sections", "display").await, "none");
            assert_eq!(
                style_of(&client, "body", "color").await,
                "rgb(0, 0, 0)",
                "black on white"
            );
            screenshot(&client, &shots.join("print.png")).await;
        };
        // A failed check still closes the browser.
        let result = std::panic::AssertUnwindSafe(outcome).catch_unwind().await;
        let _ = client.clone().close().await;
        if let Err(e) = result {
            std::panic::resume_unwind(e);
        }
        for mode in ["light", "dark", "print"] {
            let file = shots.join(format!("{mode}.png"));
            assert!(
                std::fs::metadata(&file)
                    .map(|m| m.len() > 10_000)
                    .unwrap_or(false),
                "{} written",
                file.display()
            );
        }
        eprintln!("screenshots in {}", shots.display());
    }
}

/// `portfolio share`: its owner's link opens the portfolio's page (every program of it,
/// worst first, with the asks) under the same headers; a revoked, altered or foreign link,
/// a program's link read as a portfolio's, and a deleted portfolio get the bare 404; the
/// page never shows a program outside the portfolio.
#[tokio::test]
async fn a_portfolio_link_opens_the_portfolio_page_and_nothing_else() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    for line in [
        r#"program create orion --name "Orion data platform" --tz UTC"#,
        r#"project add orion ingest --name "Ingest" --owner @kim"#,
        r#"milestone add orion ingest-ga --title "Ingest GA" --target 2027-01-15 --project ingest"#,
        r#"decision add orion "Pick a region" --decider @vp --decide-by 2026-12-08"#,
        r#"program create spare --name "Not in the portfolio" --tz UTC"#,
        r#"portfolio create payments --name "Payments <group>" --programs atlas,orion"#,
    ] {
        db.ok("tpm", line).await;
    }
    let base = serve(&db).await;
    let refused = db.refused("dana", "portfolio share payments").await;
    assert!(
        refused.contains("only the owner of portfolio `payments`"),
        "{refused}"
    );
    let (id, path) = share(&db, "portfolio share payments --days 3").await;
    assert!(path.starts_with("/p/"), "{path}");
    let page = get(&format!("{base}{path}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_security_headers(&page);
    let body = &page.body;
    assert!(body.contains("Payments &lt;group&gt;"), "escaped name");
    assert!(!body.contains("Payments <group>"));
    for shown in ["Atlas cloud launch", "Orion data platform", "Pick a region"] {
        assert!(body.contains(shown), "{shown} missing");
    }
    assert!(body.contains("needs a decision from"), "the asks");
    assert!(
        !body.contains("Not in the portfolio"),
        "a program outside it"
    );
    let listed = db.ok("tpm", "portfolio share payments --list").await;
    assert!(
        listed.contains(&id.to_string()) && !listed.contains("never"),
        "{listed}"
    );

    // A program's link names a program, whatever a portfolio's id is.
    let (_, program_path) = share(&db, "program share atlas").await;
    let atlas = get(&format!("{base}{program_path}")).await;
    assert_eq!(atlas.status, 200);
    assert!(!atlas.body.contains("Orion data platform"));

    // Altered, revoked, and the portfolio gone: the same bare 404.
    let token = path.trim_start_matches("/p/");
    let parts: Vec<&str> = token.split('.').collect();
    let longer = format!(
        "/p/{}.{}.{}",
        parts[0],
        parts[1].parse::<i64>().unwrap() + 86_400,
        parts[2]
    );
    let altered = get(&format!("{base}{longer}")).await;
    assert_eq!((altered.status, altered.body.as_str()), (404, ""));
    db.ok("tpm", &format!("portfolio share payments --revoke {id}"))
        .await;
    let revoked = get(&format!("{base}{path}")).await;
    assert_eq!((revoked.status, revoked.body.as_str()), (404, ""));
    assert_eq!(revoked.headers, altered.headers);
    let (_, again) = share(&db, "portfolio share payments").await;
    assert_eq!(get(&format!("{base}{again}")).await.status, 200);
    db.ok("tpm", "portfolio delete payments --confirm payments")
        .await;
    assert_eq!(get(&format!("{base}{again}")).await.status, 404);
}

/// A large program's page keeps its forecast table readable: at most 150 rows, the late and
/// critical milestones kept whatever their date, then the soonest, and the count of all.
#[tokio::test]
async fn a_large_programs_page_shows_the_milestones_that_matter_and_counts_the_rest() {
    let db = TestDb::new().await;
    let mut plan = vec![
        r#"program create big --name "Big program" --tz UTC"#.to_owned(),
        r#"project add big core --name "Core" --owner @kim"#.to_owned(),
    ];
    let start = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    for i in 0..158 {
        let target = start + chrono::Duration::days(i);
        plan.push(format!(
            "milestone add big m{i:03} --target {target} --project core"
        ));
    }
    // Far out but late: 300 working days after the first, due long before that.
    plan.push(
        "milestone add big m158 --target 2027-06-20 --project core --after m000 --duration 300"
            .to_owned(),
    );
    plan.push("milestone add big m159 --target 2027-06-30 --project core".to_owned());
    for line in &plan {
        db.ok("tpm", line).await;
    }
    let base = serve(&db).await;
    let (_, path) = share(&db, "program share big").await;
    let page = get(&format!("{base}{path}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Forecast of 150 of the 160 milestones"),
        "the caption counts them all"
    );
    assert!(
        page.body.contains(">m000<") || page.body.contains("m000 "),
        "the soonest is shown"
    );
    assert!(
        page.body.contains("m158"),
        "a late milestone is kept whatever its date"
    );
    assert!(
        !page.body.contains("m159"),
        "the latest on-track one is left out"
    );
}
