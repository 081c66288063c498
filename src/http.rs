//! The one HTTP server of `drumbeat run`, on `http.addr`: liveness (`/healthz`), readiness
//! (`/readyz`), Prometheus metrics (`/metrics`), calendar feeds (`/ical/{program}.ics`), and
//! Slack's endpoints when Slack is configured.
//!
//! A feed is read with its token (`?token=…`), which selects the program; anything else — no
//! token, a wrong one, a program key that is not the token's — is the same bare 404, so the
//! answer never says whether a program exists. Tokens never reach a log.
//!
//! A share link (`/p/{token}`) opens a program's read-only page (`web`) the same way: a
//! token that is foreign, altered, expired or revoked gets the same bare 404.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Deserialize;

use crate::clock::Clock;
use crate::domain::{ChartKind, Key, Tenant};
use crate::links::{ChartLink, LinkKey};
use crate::platform::discord::GatewayState;
use crate::platform::slack::{self, SlackApp};
use crate::store::{self, Store};
use crate::telemetry::metrics;

/// The Prometheus text exposition format's media type.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How long a readiness query may take before the database counts as unreachable.
const READY_QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// What the endpoints need.
#[derive(Clone)]
pub struct HttpApp {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    metrics: PrometheusHandle,
    /// The Discord gateway, when a token is configured: reported in `/healthz` and metrics.
    gateway: Option<GatewayState>,
    /// `/healthz` calls the outbox stuck past this.
    outbox_stuck: chrono::Duration,
    /// Signs and checks chart links (`/charts/…`); without it there are no chart links.
    links: Option<LinkKey>,
    /// Whether this process leads: only the leader reports the outbox gauges, the others
    /// report 0, so a `sum` (or `max`) over processes counts the shared outbox once.
    lead: crate::schedule::Lead,
}

impl HttpApp {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        metrics: PrometheusHandle,
        gateway: Option<GatewayState>,
        outbox_stuck: Duration,
        links: Option<LinkKey>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                metrics,
                gateway,
                outbox_stuck: chrono::Duration::from_std(outbox_stuck)
                    .unwrap_or(chrono::Duration::MAX),
                links,
                lead: crate::schedule::Lead::fixed(true),
            }),
        }
    }

    /// Reports the outbox gauges only while `lead` says this process leads (the others
    /// report 0). Without it the process always reports them, as one process should.
    pub fn with_lead(mut self, lead: crate::schedule::Lead) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.lead = lead;
        }
        self
    }
}

/// Every route, with Slack's merged in when there is a Slack app. The server's limits are
/// added by [`serve_with`].
pub fn router(app: HttpApp, slack: Option<SlackApp>) -> Router {
    let own = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/ical/{file}", get(ical))
        .route("/charts/{file}", get(chart))
        .route("/p/{token}", get(shared_page))
        .route(crate::web::STYLESHEET_PATH, get(stylesheet))
        .route(crate::web::ICON_PATH, get(icon))
        .with_state(app);
    match slack {
        Some(s) => own.merge(slack::router(s)),
        None => own,
    }
}

/// What the server holds its clients to, from `[http]` (see [`crate::config::HttpSettings`]).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request's head (line and headers) must arrive within this of the connection opening
    /// or of the previous request; otherwise the connection is closed.
    pub header_timeout: Duration,
    /// A body that pauses this long is refused (408); Slack's endpoints also bound the
    /// whole read by it.
    pub body_timeout: Duration,
    /// Connections served at once. More wait in the listen queue, unaccepted, so a flood of
    /// idle or half-sent connections cannot take memory or tasks without bound.
    pub max_connections: usize,
}

impl Limits {
    /// The limits `[http]` sets.
    pub fn of(settings: &crate::config::HttpSettings) -> Self {
        Self {
            header_timeout: settings.header_timeout(),
            body_timeout: settings.body_timeout(),
            max_connections: settings.max_connections.max(1),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::of(&crate::config::HttpSettings::default())
    }
}

/// Serves `router` on `listener` with the default [`Limits`] until `shutdown` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    serve_with(listener, router, shutdown, Limits::default()).await
}

/// Serves `router` on `listener` until `shutdown` turns true, holding clients to `limits`.
/// On shutdown the listener closes at once, idle connections close, and requests in flight
/// finish; a client that never finishes its request is cut off by the header and body
/// timeouts (and `drumbeat run` bounds the whole stop by `http.shutdown_secs`).
///
/// HTTP/1.1 only, served with hyper directly: `axum::serve` sets no header-read timeout, so
/// a client could hold a connection open forever by never finishing its headers.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    router: Router,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    limits: Limits,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let addr = listener.local_addr().ok();
    tracing::info!(?addr, ?limits, "serving HTTP");
    let router = router.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
        limits.body_timeout,
    ));
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.context("the connection limit")?,
            () = stopping(&mut shutdown) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = stopping(&mut shutdown) => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone().map_request(
            |r: axum::http::Request<hyper::body::Incoming>| r.map(axum::body::Body::new),
        ));
        let mut closed = closed.clone();
        connections.spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let outcome = tokio::select! {
                outcome = conn.as_mut() => outcome,
                () = stopping(&mut closed) => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = outcome {
                tracing::debug!(%peer, error = %e, "an HTTP connection ended with an error");
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let open = connections.len();
    if open > 0 {
        tracing::info!(open, "HTTP: letting open connections finish");
    }
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// A refusal: a status and the reason in plain text.
pub fn refused(status: StatusCode, why: impl std::fmt::Display) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        why.to_string(),
    )
        .into_response()
}

/// A refusal sent before the body was read (or all of it): the connection closes after it,
/// so whatever the client still sends is never read.
pub fn unread(status: StatusCode, why: impl std::fmt::Display) -> Response {
    let mut response = refused(status, why);
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// Reads a signed request's body whole: at most `limit` bytes (a declared length over it is
/// refused before a byte is read), within `within`. The refusal is the response to send.
pub async fn bounded_body(
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
    limit: usize,
    within: Duration,
) -> Result<axum::body::Bytes, Response> {
    let too_large = || {
        unread(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let late = || {
        unread(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} ms",
                within.as_millis()
            ),
        )
    };
    match tokio::time::timeout(within, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) if caused_by::<http_body_util::LengthLimitError>(&e) => Err(too_large()),
        // The server's own pause limit on bodies (see `serve_with`).
        Ok(Err(e)) if caused_by::<tower_http::timeout::TimeoutError>(&e) => Err(late()),
        Ok(Err(e)) => {
            tracing::info!(error = %e, "a request's body could not be read");
            Err(unread(
                StatusCode::BAD_REQUEST,
                "the request body ended before it was complete",
            ))
        }
        Err(_) => Err(late()),
    }
}

/// Whether reading a body failed because of an `E` (its size limit, a timeout).
fn caused_by<E: std::error::Error + 'static>(e: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<E>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Resolves once `flag` turns true (or its sender is gone).
async fn stopping(flag: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|stop| *stop).await;
}

/// The outbox's depth and when its oldest due message was due, read in one transaction for
/// `/healthz` and `/metrics`.
async fn outbox_state(
    inner: &Inner,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(store::OutboxDepth, Option<chrono::DateTime<chrono::Utc>>)> {
    let mut tx = inner.store.read().await?;
    let depth = store::outbox_depth(&mut tx).await?;
    let due = store::oldest_due(&mut tx, now).await?;
    tx.commit().await?;
    Ok((depth, due))
}

/// Liveness: 200 while the process answers, with a body that reports what an operator
/// watches besides — the database, the outbox's oldest waiting message (and whether it has
/// waited past `http.outbox_stuck_secs`) and the Discord gateway — without failing on them:
/// a restart would not fix a slow platform. Alerts on those go through `/metrics`.
async fn healthz(State(app): State<HttpApp>) -> Response {
    let inner = &app.inner;
    let now = inner.clock.now();
    let depth = outbox_state(inner, now);
    let age = |t: chrono::DateTime<chrono::Utc>| (now - t).num_seconds().max(0);
    let (database, outbox) = match tokio::time::timeout(READY_QUERY_TIMEOUT, depth).await {
        Ok(Ok((d, due))) => (
            "ok",
            serde_json::json!({
                "pending": d.pending,
                "dead": d.dead,
                "oldest_pending_seconds": d.oldest_pending.map(age),
                "oldest_due_seconds": due.map(age),
                "stuck": due.is_some_and(|t| now - t > inner.outbox_stuck),
            }),
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = ?e, "health: reading the outbox failed");
            ("not answering", serde_json::Value::Null)
        }
        Err(_) => ("no answer in time", serde_json::Value::Null),
    };
    let mut body = serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "database": database,
        "outbox": outbox,
    });
    if let Some(gateway) = &inner.gateway {
        // Only the leading process runs the gateway; the others stand by.
        body["discord"] = serde_json::Value::from(if !inner.lead.is_leading() {
            "standby (another process runs the gateway)"
        } else if gateway.is_connected() {
            "connected"
        } else {
            "not connected"
        });
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Readiness, "can this process serve": 200 when the database answers, 503 otherwise, with
/// a body that says how the check went. The outbox and the gateway do not take a process
/// out of rotation (another one would not do better); `/healthz` and `/metrics` report them.
async fn readyz(State(app): State<HttpApp>) -> Response {
    let inner = &app.inner;
    let database = match tokio::time::timeout(READY_QUERY_TIMEOUT, inner.store.ping()).await {
        Ok(Ok(())) => Ok("ok".to_owned()),
        Ok(Err(e)) => {
            tracing::warn!(error = ?e, "readiness: the database did not answer");
            Err("not answering".to_owned())
        }
        Err(_) => Err(format!(
            "no answer within {} s",
            READY_QUERY_TIMEOUT.as_secs()
        )),
    };
    let ready = database.is_ok();
    let body = serde_json::json!({
        "ready": ready,
        "checks": { "database": match &database { Ok(s) | Err(s) => s } },
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// The metrics, with the outbox gauges read now.
async fn metrics_text(State(app): State<HttpApp>) -> Response {
    let inner = &app.inner;
    let now = inner.clock.now();
    let depth = async {
        if inner.lead.is_leading() {
            outbox_state(inner, now).await
        } else {
            Ok((store::OutboxDepth::default(), None))
        }
    };
    match depth.await {
        Ok((d, due)) => {
            let age = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
            };
            metrics::outbox(d.pending, age(d.oldest_pending), d.dead);
            metrics::outbox_due(age(due));
        }
        Err(e) => tracing::warn!(error = ?e, "reading the outbox for /metrics failed"),
    }
    // The gateway's gauge comes only from the process that runs it: the leader.
    metrics::scrape(
        inner
            .gateway
            .as_ref()
            .filter(|_| inner.lead.is_leading())
            .map(GatewayState::is_connected),
    );
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        inner.metrics.render(),
    )
        .into_response()
}

#[derive(Deserialize)]
struct FeedQuery {
    token: Option<String>,
}

/// The same answer for every request that does not name a feed exactly.
fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "").into_response()
}

async fn ical(
    State(app): State<HttpApp>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(key) = file.strip_suffix(".ics") else {
        return not_found();
    };
    let token = query
        .and_then(|q| serde_urlencoded::from_str::<FeedQuery>(&q).ok())
        .and_then(|q| q.token)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return not_found();
    };
    let inner = &app.inner;
    let now = inner.clock.now();
    let feed = async {
        let mut tx = inner.store.read().await?;
        let Some((scope, program)) = store::program_by_ical_token(&mut tx, key, &token).await?
        else {
            return anyhow::Ok(None);
        };
        let snapshot = store::load_snapshot(&mut tx, &scope, program, now, Some(now)).await?;
        tx.commit().await?;
        Ok(Some(crate::ical::feed(&snapshot)))
    };
    match feed.await {
        Ok(Some(text)) => (
            [
                (header::CONTENT_TYPE, crate::ical::CONTENT_TYPE),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            text,
        )
            .into_response(),
        Ok(None) => not_found(),
        Err(e) => {
            tracing::error!(error = ?e, "building a calendar feed failed");
            (StatusCode::SERVICE_UNAVAILABLE, "try again later\n").into_response()
        }
    }
}

#[derive(Deserialize)]
struct ChartQuery {
    t: String,
    p: String,
    exp: i64,
    sig: String,
}

/// A chart at a signed link: 403 for a link that is expired, tampered with or not signed
/// by this installation (the same bare answer for each), 404 when what it names is gone.
async fn chart(
    State(app): State<HttpApp>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let forbidden = || (StatusCode::FORBIDDEN, "").into_response();
    let inner = &app.inner;
    let Some(key) = &inner.links else {
        return not_found();
    };
    let Some(q) = query.and_then(|q| serde_urlencoded::from_str::<ChartQuery>(&q).ok()) else {
        return forbidden();
    };
    let Some(chart) = file.strip_suffix(".png") else {
        return forbidden();
    };
    let (Ok(tenant), Ok(program)) = (Tenant::parse(&q.t), Key::parse(&q.p)) else {
        return forbidden();
    };
    let link = ChartLink {
        tenant,
        program: program.as_str().to_owned(),
        chart: chart.to_owned(),
        expires: q.exp,
    };
    let now = inner.clock.now();
    if let Err(why) = key.verify(&link, &q.sig, now) {
        tracing::info!(%why, "a chart link was refused");
        return forbidden();
    }
    let Ok(kind) = ChartKind::parse(chart) else {
        return not_found();
    };
    let drawn = async {
        let weeks = crate::chart::DEFAULT_WEEKS;
        let mut tx = inner.store.read().await?;
        let Some((scope, p)) = store::find_program(&mut tx, &link.tenant, &program).await? else {
            return anyhow::Ok(None);
        };
        let snap = store::load_snapshot(&mut tx, &scope, p, now, Some(now)).await?;
        let history = match kind {
            ChartKind::Trend => {
                let since = crate::analysis::trend::window_start(&snap, weeks);
                Some(store::status_history(&mut tx, &scope, since).await?)
            }
            _ => None,
        };
        tx.commit().await?;
        // CPU work: on a blocking thread, so the server's other requests are not held up.
        let png = tokio::task::spawn_blocking(move || {
            use crate::chart::Input;
            let a = crate::analysis::Analysed::of(&snap);
            let trend =
                history.map(|h| crate::analysis::trend::weekly(&snap, &a.health, &h, weeks));
            let input = match (kind, &trend) {
                (ChartKind::Trend, Some(t)) => Input::Trend(t),
                (ChartKind::Trend, None) => anyhow::bail!("the trend's history was not loaded"),
                (ChartKind::Timeline, _) => Input::Timeline,
                (ChartKind::Risks, _) => Input::Risks,
                (ChartKind::Deps, _) => Input::Deps,
            };
            crate::chart::render(input, &a)
        })
        .await
        .context("drawing a linked chart stopped")??;
        Ok(Some(png))
    };
    match drawn.await {
        Ok(Some(png)) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            png,
        )
            .into_response(),
        Ok(None) => not_found(),
        Err(e) => {
            tracing::error!(error = ?e, "drawing a linked chart failed");
            (StatusCode::SERVICE_UNAVAILABLE, "try again later\n").into_response()
        }
    }
}

/// A dashboard response: the body with the security headers every page carries.
fn dashboard(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    for (name, value) in crate::web::SECURITY_HEADERS {
        response.headers_mut().insert(
            header::HeaderName::from_static(name),
            header::HeaderValue::from_static(value),
        );
    }
    response
}

/// The one answer to every share link that opens nothing: foreign, altered, expired,
/// revoked, or naming a program that is gone.
fn page_not_found() -> Response {
    dashboard(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        String::new(),
    )
}

/// The pages' stylesheet, from the binary.
async fn stylesheet() -> Response {
    dashboard(
        StatusCode::OK,
        crate::web::CSS,
        crate::web::STYLESHEET.to_owned(),
    )
}

/// The pages' icon, from the binary.
async fn icon() -> Response {
    dashboard(StatusCode::OK, "image/svg+xml", crate::web::ICON.to_owned())
}

/// The program page a share link opens. The token's signature and expiry are checked
/// before the database is read; then its row must be live and name a program of its own
/// tenant. The snapshot is read in one read transaction, the page drawn on a blocking
/// thread, and the opening noted in a short write transaction afterwards.
async fn shared_page(State(app): State<HttpApp>, Path(token): Path<String>) -> Response {
    let inner = &app.inner;
    let Some(key) = &inner.links else {
        return page_not_found();
    };
    let now = inner.clock.now();
    let claimed = match key.verify_share(&token, now) {
        Ok(claimed) => claimed,
        Err(why) => {
            tracing::info!(%why, "a share link was refused");
            return page_not_found();
        }
    };
    let page = async {
        let mut tx = inner.store.read().await?;
        let Some(link) = store::share_link(&mut tx, claimed.id).await? else {
            return anyhow::Ok(None);
        };
        if link.expires_at.timestamp() != claimed.expires {
            return Ok(None);
        }
        let html = match link.subject {
            store::ShareSubject::Program(_) => {
                let Some((scope, program)) = store::shared_program(&mut tx, &link, now).await?
                else {
                    return Ok(None);
                };
                let since = crate::digest::period_start(now, None);
                let snap = store::load_snapshot(&mut tx, &scope, program, now, Some(since)).await?;
                tx.commit().await?;
                tokio::task::spawn_blocking(move || {
                    let a = crate::analysis::Analysed::of(&snap);
                    crate::web::program_page(&a, since, crate::web::Styles::Linked)
                })
                .await
                .context("drawing a shared page stopped")??
            }
            store::ShareSubject::Portfolio(_) => {
                let Some(portfolio) = store::shared_portfolio(&mut tx, &link, now).await? else {
                    return Ok(None);
                };
                let html = portfolio_page(&mut tx, &link.tenant, portfolio, now).await?;
                tx.commit().await?;
                html
            }
        };
        let mut tx = inner.store.write().await?;
        store::share_link_opened(&mut tx, link.id, now).await?;
        tx.commit().await?;
        Ok(Some(html))
    };
    match page.await {
        Ok(Some(html)) => dashboard(StatusCode::OK, crate::web::HTML, html),
        Ok(None) => page_not_found(),
        Err(e) => {
            tracing::error!(error = ?e, "building a shared page failed");
            dashboard(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain; charset=utf-8",
                "try again later\n".to_owned(),
            )
        }
    }
}

/// A portfolio's page: each of its programs loaded in this read transaction, analysed on a
/// blocking thread.
pub async fn portfolio_page(
    conn: &mut store::Conn,
    tenant: &crate::domain::Tenant,
    portfolio: crate::domain::Portfolio,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<String> {
    let snaps = store::portfolio_snapshots(conn, tenant, &portfolio, now).await?;
    let today = now.with_timezone(&portfolio.timezone.tz()).date_naive();
    tokio::task::spawn_blocking(move || {
        let lines = crate::digest::portfolio::lines(&snaps, false);
        let d = crate::digest::portfolio::build(
            Some(portfolio.key.to_string()),
            portfolio.name.to_string(),
            crate::domain::Audience::Executive,
            today,
            lines,
        );
        crate::web::portfolio_page(&d, crate::web::Styles::Linked)
    })
    .await
    .context("drawing a portfolio page stopped")
}
