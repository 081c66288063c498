//! Slack digests show the timeline through a signed, expiring link that Drumbeat's own HTTP
//! server answers: the PNG while the link is current and untouched, a bare 403 otherwise.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use drumbeat::clock::Clock;
use drumbeat::config::DeliverySettings;
use drumbeat::http::{self, HttpApp};
use drumbeat::links::LinkKey;
use drumbeat::outbox::{ConsoleSink, Senders, WebhookPolicy, Worker};
use drumbeat::reply::slack::{Block, Message};
use drumbeat::schedule::{ChartLinks, Scheduler};
use drumbeat::telemetry::metrics;

use crate::fake_webhook::FakeWebhook;
use crate::helpers::{seed_atlas, TestDb};

fn images(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .flat_map(|m| &m.blocks)
        .filter_map(|b| match b {
            Block::Image { image_url, .. } => Some(image_url.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_slack_digest_links_its_timeline_and_the_link_serves_the_png_until_it_expires() {
    let mut db = TestDb::new().await;
    let delivery = DeliverySettings {
        allow_loopback_http: true,
        webhook_min_interval_ms: 0,
        ..Default::default()
    };
    db.webhooks = Arc::new(WebhookPolicy::from_settings(&delivery));
    seed_atlas(&db).await;
    let hooks = FakeWebhook::start().await;
    let engineering = hooks.hook("engineering", vec![]);
    let executive = hooks.hook("executive", vec![]);
    db.ok(
        "tpm",
        &format!(r#"digest subscribe atlas --at "daily 11:00" --slack-webhook {engineering}"#),
    )
    .await;
    db.ok(
        "tpm",
        &format!(
            r#"digest subscribe atlas --audience executive --at "daily 11:00" --slack-webhook {executive}"#
        ),
    )
    .await;

    // The HTTP server with the installation's link key, on loopback.
    let clock: Arc<dyn Clock> = Arc::new(db.clock.clone());
    let key = {
        let mut tx = db.store.write().await.unwrap();
        let key = LinkKey::load_or_create(&mut tx, clock.now()).await.unwrap();
        tx.commit().await.unwrap();
        key
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = HttpApp::new(
        db.store.clone(),
        clock.clone(),
        metrics::recorder().handle(),
        None,
        Duration::from_secs(600),
        Some(key.clone()),
    );
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(http::serve(listener, http::router(app, None), stopped));

    // 11:01 in Berlin: both digests go out.
    let scheduler = Scheduler::new(db.store.clone(), clock.clone(), Default::default())
        .with_chart_links(ChartLinks {
            public_url: Arc::from(base.as_str()),
            key,
        });
    let (sink, _) = ConsoleSink::memory();
    let worker = Worker::new(
        db.store.clone(),
        Senders::console(sink).with(
            drumbeat::platform::slack::WebhookSender::KINDS,
            drumbeat::platform::slack::WebhookSender::new(&delivery).unwrap(),
        ),
        clock,
        &delivery,
    );
    db.clock.set(
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 27, 10, 1, 0)
            .unwrap(),
    );
    scheduler.tick().await.unwrap();
    worker.drain().await.unwrap();
    hooks.assert_nothing_unexpected();

    let to_engineering: Vec<Message> = hooks
        .hits_of("engineering")
        .into_iter()
        .map(|h| h.message)
        .collect();
    assert!(
        !to_engineering.is_empty(),
        "the engineering digest went out"
    );
    let links = images(&to_engineering);
    assert_eq!(links.len(), 1, "{to_engineering:#?}");
    let link = &links[0];
    assert!(
        link.starts_with(&format!("{base}/charts/timeline.png?")),
        "{link}"
    );
    let to_executive: Vec<Message> = hooks
        .hits_of("executive")
        .into_iter()
        .map(|h| h.message)
        .collect();
    assert!(!to_executive.is_empty());
    assert!(
        images(&to_executive).is_empty(),
        "executives get one screen, no chart"
    );

    // The link serves the timeline.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let got = http.get(link).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    let png = got.bytes().await.unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(png.to_vec()));
    let reader = decoder.read_info().expect("a PNG");
    let info = reader.info();
    assert!(
        info.width >= 400 && info.height >= 200,
        "{}x{}",
        info.width,
        info.height
    );

    // Any change to what it names, or to its signature, is a bare 403.
    let tampered_sig = {
        let last = link.chars().last().unwrap();
        let swapped = if last == '0' { '1' } else { '0' };
        format!("{}{swapped}", &link[..link.len() - 1])
    };
    for bad in [
        tampered_sig,
        link.replace("p=atlas", "p=other"),
        link.replace("timeline.png", "risks.png"),
        link.replace("t=local", "t=slack%3AT1"),
        {
            let exp = link
                .split("exp=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap();
            let later: i64 = exp.parse::<i64>().unwrap() + 86_400;
            link.replace(&format!("exp={exp}"), &format!("exp={later}"))
        },
        format!("{base}/charts/timeline.png"),
    ] {
        assert_ne!(&bad, link);
        let got = http.get(&bad).send().await.unwrap();
        assert_eq!(got.status(), 403, "{bad}");
        assert!(got.text().await.unwrap().is_empty(), "{bad}");
    }

    // Fifteen days on, the link has expired.
    db.clock.set(
        chrono::Utc
            .with_ymd_and_hms(2026, 12, 12, 10, 1, 0)
            .unwrap(),
    );
    let got = http.get(link).send().await.unwrap();
    assert_eq!(got.status(), 403);
}
