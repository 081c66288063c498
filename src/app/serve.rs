//! A running Drumbeat process (`drumbeat run`): the store, the outbox's senders and worker,
//! the scheduler, the Discord gateway (unless `discord.gateway` is off), the HTTP server with
//! Slack's and Discord's endpoints, and a bounded stop on SIGTERM.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::clock::{Clock, SystemClock};
use crate::config::{DbSettings, Durability, Settings};
use crate::outbox::WebhookPolicy;
use crate::store::Store;

/// The store's options from `[database]`.
/// The store's options from `[database]`: `database.url` when set, else the SQLite file at
/// `database.path`.
pub fn store_options(db: &DbSettings) -> anyhow::Result<crate::store::Options> {
    use secrecy::ExposeSecret as _;
    let location = match &db.url {
        Some(url) => crate::store::Location::parse(url.expose_secret())
            .map_err(|e| anyhow::anyhow!("database.url: {e}"))?,
        None => crate::store::Location::Sqlite(db.path.clone().into()),
    };
    // 0 is "as suits the database": SQLite has one writer, and more connections only
    // wait; PostgreSQL serves many at once, and every command holds one throughout.
    let max_connections = match (db.max_connections, location.dialect()) {
        (0, crate::store::Dialect::Sqlite) => 4,
        (0, crate::store::Dialect::Postgres) => 16,
        (n, _) => n,
    };
    Ok(crate::store::Options {
        location,
        durability: match db.synchronous {
            Durability::Normal => crate::store::Durability::Normal,
            Durability::Full => crate::store::Durability::Full,
        },
        busy_timeout: std::time::Duration::from_millis(db.busy_timeout_ms),
        max_connections,
    })
}

/// The senders of a running process, one per destination kind it can reach: the console and
/// Slack incoming webhooks always; Discord with its token; Slack's Web API with its bot token.
pub fn senders(
    settings: &Settings,
    discord_token: Option<&secrecy::SecretString>,
) -> anyhow::Result<crate::outbox::Senders> {
    use crate::platform::discord::DiscordSender;
    use crate::platform::slack::{SlackApiSender, WebhookSender};
    let mut senders = crate::outbox::Senders::console(crate::outbox::ConsoleSink::Stdout).with(
        WebhookSender::KINDS,
        WebhookSender::new(&settings.delivery)?,
    );
    if let Some(token) = discord_token {
        // Messages to Discord channels and DMs go out over its REST API.
        senders = senders.with(
            DiscordSender::KINDS,
            DiscordSender::new(token, settings.discord.proxy_url.as_deref()),
        );
    }
    // Slack channels and direct messages through the Web API, with the bot token.
    if let Some(slack) = SlackApiSender::from_settings(settings)? {
        senders = senders.with(SlackApiSender::KINDS, slack);
    }
    Ok(senders)
}

/// Serves until SIGTERM or Ctrl-C, then stops within `http.shutdown_secs`.
pub async fn run(settings: Settings) -> anyhow::Result<ExitCode> {
    let store = Store::open(&store_options(&settings.database)?).await?;
    let clock: std::sync::Arc<dyn Clock> = std::sync::Arc::new(SystemClock);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop = std::sync::Arc::new(stop);
    let discord_token = settings.discord.token();
    let senders = senders(&settings, discord_token.as_ref())?;
    // Discord's interactions over HTTP when its public key is set, so any process can answer.
    let discord = crate::platform::discord::DiscordInteractions::from_settings(
        &settings,
        store.clone(),
        clock.clone(),
    )?;
    let worker =
        crate::outbox::Worker::new(store.clone(), senders, clock.clone(), &settings.delivery);
    // The key that signs chart links, made on first use and kept in the database.
    let link_key = {
        let mut tx = store.write().await?;
        let key = crate::links::LinkKey::load_or_create(&mut tx, clock.now()).await?;
        tx.commit().await?;
        key
    };
    let mut scheduler =
        crate::schedule::Scheduler::new(store.clone(), clock.clone(), settings.schedule.clone());
    if let Some(public_url) = settings.http.public_url() {
        scheduler = scheduler.with_chart_links(crate::schedule::ChartLinks {
            public_url,
            key: link_key.clone(),
        });
    }
    let deadline = settings.http.shutdown_deadline();
    let signalled = stop.clone();
    tokio::spawn(async move {
        let stop = signalled;
        shutdown_signal().await;
        tracing::info!(
            deadline_secs = deadline.as_secs(),
            "stopping: finishing what is in flight"
        );
        let _ = stop.send(true);
        last_resort(deadline);
    });
    // Bound first, so a port in use stops `run` before anything else starts.
    let metrics = crate::telemetry::metrics::install();
    crate::telemetry::metrics::zero_commands(&crate::command::grammar::command_tree());
    let listener = tokio::net::TcpListener::bind(&settings.http.addr)
        .await
        .with_context(|| format!("listening on {}", settings.http.addr))?;
    let bound = listener
        .local_addr()
        .context("reading the address listened on")?;
    eprintln!(
        "drumbeat is running on {} (console deliveries print here). Ctrl-C stops it.",
        store_options(&settings.database)?.location.describe()
    );
    // Every process asks for the lead; the one that holds it ticks the scheduler.
    let (lead, keeper) = crate::schedule::lead::hold(store.clone(), leader_name(), stopped.clone());
    // Set when the lead is lost while the gateway runs: the process then exits non-zero,
    // so whatever runs it starts it again.
    let lost_lead = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Separate tasks: a panic in one job does not stop delivery, or the other way round.
    let scheduling = {
        let (stopped, lead) = (stopped.clone(), lead.clone());
        tokio::spawn(async move { scheduler.run(lead, stopped).await })
    };
    // Slash commands, buttons and modals come in over the gateway.
    let setup = crate::platform::discord::BotSetup {
        public_url: settings.http.public_url(),
        gateway: Default::default(),
    };
    // `discord.gateway = false`: interactions come only over HTTP, messages go by REST.
    let gateway_token = discord_token.filter(|_| settings.discord.gateway);
    let gateway_state = gateway_token.as_ref().map(|_| setup.gateway.clone());
    let gateway = gateway_token.map(|token| {
        let webhooks = std::sync::Arc::new(WebhookPolicy::from_settings(&settings.delivery));
        let (settings, store, clock, stopped) = (
            settings.discord.clone(),
            store.clone(),
            clock.clone(),
            stopped.clone(),
        );
        let stop = stop.clone();
        let mut lead = lead.clone();
        let lost_lead = lost_lead.clone();
        tokio::spawn(async move {
            // At most one process runs the gateway: the one that leads.
            let mut waiting = stopped.clone();
            tokio::select! {
                _ = lead.wait_for(true) => {}
                _ = waiting.wait_for(|stop| *stop) => return Ok(()),
            }
            let mut losing = lead.clone();
            let stop_on_loss = stop.clone();
            let watch_lead = tokio::spawn(async move {
                losing.wait_for(false).await;
                lost_lead.store(true, std::sync::atomic::Ordering::SeqCst);
                // Another process may lead, and open its gateway, now: this one stops, to
                // be started again by whatever runs it, rather than answer twice.
                tracing::error!("lost the lead while running the Discord gateway; stopping");
                let _ = stop_on_loss.send(true);
            });
            let outcome = crate::platform::discord::Bot::run(
                &settings, &token, webhooks, setup, store, clock, stopped,
            )
            .await;
            watch_lead.abort();
            // Without its gateway the bot is not doing its job: stop everything
            // (a bad token, say) rather than run half deaf.
            if outcome.is_err() {
                let _ = stop.send(true);
            }
            outcome
        })
    });
    // A gateway that is not connected when the stop comes has nothing in flight: its
    // reconnect loop (Discord unreachable) would otherwise run until the deadline.
    if let (Some(task), Some(state)) = (&gateway, gateway_state.clone()) {
        let gateway = task.abort_handle();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
            if !state.is_connected() {
                tracing::info!("stopping: the Discord gateway is not connected; it stops now");
                gateway.abort();
            }
        });
    }
    // One HTTP server: health, metrics, feeds, and Slack's signed endpoints when a
    // signing secret is set.
    let slack =
        crate::platform::slack::SlackApp::from_settings(&settings, store.clone(), clock.clone())?
            .map(|app| match settings.http.public_url() {
                Some(public_url) => app.with_chart_links(crate::schedule::ChartLinks {
                    public_url,
                    key: link_key.clone(),
                }),
                None => app,
            });
    eprintln!(
        "HTTP on http://{bound}: /healthz, /readyz, /metrics, /ical/{{program}}.ics, /charts/…{}{}",
        if slack.is_some() {
            ", /slack/commands, /slack/interactions"
        } else {
            ""
        },
        if discord.is_some() {
            ", /discord/interactions"
        } else {
            ""
        }
    );
    let app = crate::http::HttpApp::new(
        store.clone(),
        clock.clone(),
        metrics.clone(),
        gateway_state,
        std::time::Duration::from_secs(settings.http.outbox_stuck_secs),
        Some(link_key),
    )
    .with_lead(lead.clone());
    let mut router = crate::http::router(app, slack);
    if let Some(d) = &discord {
        router = router.merge(crate::platform::discord::interactions::router(d.clone()));
    }
    let serving = tokio::spawn(crate::http::serve_with(
        listener,
        router,
        stopped.clone(),
        crate::http::Limits::of(&settings.http),
    ));
    // Histograms are kept as samples until drained; a scrape drains them too, so this
    // only bounds memory when nobody scrapes.
    let upkeep = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            every.tick().await;
            metrics.run_upkeep();
        }
    });
    let delivering = {
        let stopped = stopped.clone();
        tokio::spawn(async move { worker.run(stopped).await })
    };
    let mut parts = vec![
        ("the scheduler", scheduling.abort_handle()),
        ("outbox delivery", delivering.abort_handle()),
        ("the HTTP server", serving.abort_handle()),
    ];
    if let Some(g) = &gateway {
        parts.push(("the Discord gateway", g.abort_handle()));
    }
    let finishing = async {
        let (scheduled, delivered) = tokio::join!(scheduling, delivering);
        let served = serving
            .await
            .context("the HTTP server stopped unexpectedly")?;
        // Deferred Discord answers are edited in after their HTTP response went out.
        if let Some(d) = &discord {
            if !d.wait_idle(std::time::Duration::from_secs(20)).await {
                tracing::warn!("stopped with Discord interactions still in flight");
            }
        }
        let gateway = match gateway {
            Some(g) => match g.await {
                Ok(outcome) => outcome,
                // Stopped above: it was not connected.
                Err(e) if e.is_cancelled() => Ok(()),
                Err(e) => {
                    return Err(
                        anyhow::Error::new(e).context("the Discord gateway stopped unexpectedly")
                    )
                }
            },
            None => Ok(()),
        };
        if let Err(e) = scheduled {
            tracing::error!(error = %e, "the scheduler stopped unexpectedly");
        }
        delivered.context("the delivery worker stopped unexpectedly")??;
        store.close().await;
        gateway.context("Discord")?;
        served.context("HTTP")?;
        // Only now, with the gateway closed, may another process lead.
        keeper.release().await;
        if lost_lead.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(anyhow::anyhow!(
                "lost the scheduler's lead while running the Discord gateway"
            ));
        }
        anyhow::Ok(ExitCode::SUCCESS)
    };
    let mut stopping = stopped;
    let deadline_passed = async move {
        let _ = stopping.wait_for(|stop| *stop).await;
        tokio::time::sleep(deadline).await;
    };
    let outcome = tokio::select! {
        outcome = finishing => outcome,
        () = deadline_passed => {
            let unfinished: Vec<&str> = parts
                .iter()
                .filter(|(_, task)| !task.is_finished())
                .map(|(name, _)| *name)
                .collect();
            for (_, task) in &parts {
                task.abort();
            }
            tracing::warn!(
                deadline_secs = deadline.as_secs(),
                unfinished = ?unfinished,
                "stopped at the shutdown deadline with work in flight; messages being \
                 sent are sent again once their claim goes stale"
            );
            eprintln!(
                "drumbeat stopped after {} s (http.shutdown_secs) without waiting for: {}",
                deadline.as_secs(),
                unfinished.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
    };
    upkeep.abort();
    outcome
}

/// Ctrl-C, or SIGTERM where there is one.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// The stop's guarantee, outside the runtime: if `run` has not ended a second after the
/// shutdown deadline (a runtime too stuck to notice the deadline), the process exits anyway.
fn last_resort(deadline: std::time::Duration) {
    let spawned = std::thread::Builder::new()
        .name("shutdown-deadline".into())
        .spawn(move || {
            std::thread::sleep(deadline + std::time::Duration::from_secs(1));
            eprintln!(
                "error: still running {} s after the stop was asked for; exiting now",
                deadline.as_secs() + 1
            );
            std::process::exit(1);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start the shutdown deadline's thread");
    }
}

/// Who this process is when it leads, as `drumbeat doctor` shows it: the host and the pid.
fn leader_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into());
    format!("drumbeat {host} pid {}", std::process::id())
}
