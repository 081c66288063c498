//! Metrics in the Prometheus text format, served at `/metrics`. Code records through the
//! `metrics` macros; the recorder is installed once per process ([`install`]) with no
//! listener of its own, and the HTTP server renders it. Until it is installed, recording
//! costs next to nothing and goes nowhere.
//!
//! Every metric is described and present from the start: counters stand at 0 for each
//! label value known in advance ([`zero_known`], [`zero_commands`]), so a rate or an alert
//! has a series before the first event.
//!
//! The names, in one place:
//! - `drumbeat_build_info{version}`: always 1; the version that runs.
//! - `drumbeat_commands_total{command, outcome}`: commands run, by `area verb` and
//!   `ok` / `refused` / `error`; `drumbeat_command_duration_seconds{command}` their latency.
//! - `drumbeat_jobs_total{kind, outcome}`: scheduled slots `ran`, `skipped` or `failed`.
//! - `drumbeat_deliveries_total{platform, outcome}`: delivery attempts `sent`, `retried`
//!   or `dead` (dead-lettered: the one counter of messages given up on).
//! - `drumbeat_outbox_pending`, `drumbeat_outbox_oldest_pending_seconds`,
//!   `drumbeat_outbox_oldest_due_seconds` (how long the oldest message due has waited: a
//!   stuck outbox), `drumbeat_outbox_dead`: the outbox as it stands, read at each scrape.
//! - `drumbeat_discord_gateway_connected`: 1 when the Discord gateway is connected, 0 when
//!   not; absent without Discord.
//! - `process_*`: resident and virtual memory, CPU seconds, open and maximum file
//!   descriptors, threads and start time, from the `metrics-process` crate at each scrape.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

pub const COMMANDS: &str = "drumbeat_commands_total";
pub const COMMAND_SECONDS: &str = "drumbeat_command_duration_seconds";
pub const JOBS: &str = "drumbeat_jobs_total";
pub const DELIVERIES: &str = "drumbeat_deliveries_total";
pub const OUTBOX_PENDING: &str = "drumbeat_outbox_pending";
pub const OUTBOX_OLDEST_SECONDS: &str = "drumbeat_outbox_oldest_pending_seconds";
pub const OUTBOX_DEAD: &str = "drumbeat_outbox_dead";
pub const OUTBOX_OLDEST_DUE_SECONDS: &str = "drumbeat_outbox_oldest_due_seconds";
pub const BUILD_INFO: &str = "drumbeat_build_info";
pub const GATEWAY_CONNECTED: &str = "drumbeat_discord_gateway_connected";

/// The label values known in advance.
pub const COMMAND_OUTCOMES: &[&str] = &["ok", "refused", "error"];
pub const JOB_OUTCOMES: &[&str] = &["ran", "skipped", "failed"];
pub const PLATFORMS: &[&str] = &["console", "discord", "slack"];
pub const DELIVERY_OUTCOMES: &[&str] = &["sent", "retried", "dead"];

/// Command latency buckets, in seconds: most commands take a few milliseconds; digests and
/// reports up to a second.
const COMMAND_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A recorder with Drumbeat's buckets, not installed: tests use one as a local recorder.
pub fn recorder() -> PrometheusRecorder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(COMMAND_SECONDS.into()), COMMAND_BUCKETS)
        .expect("the buckets are not empty")
        .build_recorder()
}

/// Installs the process's recorder the first time and returns its handle every time. A
/// process has one global recorder; should another be there already, this handle renders
/// nothing rather than failing.
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
            }
            describe();
            zero_known();
            process_collector().describe();
            handle
        })
        .clone()
}

/// The help text of every metric (shown as `# HELP`), for the current recorder.
pub fn describe() {
    metrics::describe_counter!(COMMANDS, "Commands run, by command and outcome");
    metrics::describe_histogram!(
        COMMAND_SECONDS,
        metrics::Unit::Seconds,
        "How long commands took"
    );
    metrics::describe_counter!(JOBS, "Scheduled slots, by kind and outcome");
    metrics::describe_counter!(
        DELIVERIES,
        "Delivery attempts, by platform and outcome (dead: given up on, dead-lettered)"
    );
    metrics::describe_gauge!(OUTBOX_PENDING, "Messages waiting or being sent");
    metrics::describe_gauge!(
        OUTBOX_OLDEST_SECONDS,
        metrics::Unit::Seconds,
        "Age of the oldest message waiting or being sent"
    );
    metrics::describe_gauge!(OUTBOX_DEAD, "Dead-lettered messages in the outbox");
    metrics::describe_gauge!(
        OUTBOX_OLDEST_DUE_SECONDS,
        metrics::Unit::Seconds,
        "How long the oldest message due for delivery has waited (0: none waits)"
    );
    metrics::describe_gauge!(BUILD_INFO, "Always 1; the version label says what runs");
    metrics::describe_gauge!(
        GATEWAY_CONNECTED,
        "1 while the Discord gateway is connected, 0 while not"
    );
}

/// Counters at 0 for every label value known without the command grammar, and the build
/// info; for the current recorder.
pub fn zero_known() {
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    for kind in crate::domain::ScheduleKind::ALL {
        for outcome in JOB_OUTCOMES {
            metrics::counter!(JOBS, "kind" => kind.as_str(), "outcome" => *outcome).increment(0);
        }
    }
    for platform in PLATFORMS {
        for outcome in DELIVERY_OUTCOMES {
            metrics::counter!(DELIVERIES, "platform" => *platform, "outcome" => *outcome)
                .increment(0);
        }
    }
}

/// Command counters at 0, and latency histograms with no samples, for every `area verb` of
/// the grammar
/// (`command::grammar::command_tree()`), which this layer cannot name itself.
pub fn zero_commands(tree: &[(String, Vec<String>)]) {
    for (area, verbs) in tree {
        let names: Vec<String> = if verbs.is_empty() {
            vec![area.clone()]
        } else {
            verbs.iter().map(|v| format!("{area} {v}")).collect()
        };
        for name in names {
            // A registered histogram renders with zero counts until its first sample.
            let _ = metrics::histogram!(COMMAND_SECONDS, "command" => name.clone());
            for outcome in COMMAND_OUTCOMES {
                metrics::counter!(COMMANDS, "command" => name.clone(), "outcome" => *outcome)
                    .increment(0);
            }
        }
    }
}

fn process_collector() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(metrics_process::Collector::default)
}

/// What is read at each scrape besides the outbox: the process's own figures and, with
/// Discord, whether its gateway is connected.
pub fn scrape(gateway_connected: Option<bool>) {
    process_collector().collect();
    if let Some(connected) = gateway_connected {
        metrics::gauge!(GATEWAY_CONNECTED).set(if connected { 1.0 } else { 0.0 });
    }
}

/// How a command ended, as a label.
pub fn command_done(name: &str, outcome: &'static str, seconds: f64) {
    metrics::counter!(COMMANDS, "command" => name.to_owned(), "outcome" => outcome).increment(1);
    metrics::histogram!(COMMAND_SECONDS, "command" => name.to_owned()).record(seconds);
}

/// A scheduled slot of `kind` that `ran`, was `skipped` or `failed`.
pub fn job(kind: &'static str, outcome: &'static str) {
    metrics::counter!(JOBS, "kind" => kind, "outcome" => outcome).increment(1);
}

/// A delivery attempt to `platform` that was `sent`, `retried` or `dead`.
pub fn delivery(platform: &'static str, outcome: &'static str) {
    metrics::counter!(DELIVERIES, "platform" => platform, "outcome" => outcome).increment(1);
}

/// The outbox as it stands, set before each scrape.
pub fn outbox(pending: i64, oldest_seconds: f64, dead: i64) {
    metrics::gauge!(OUTBOX_PENDING).set(pending as f64);
    metrics::gauge!(OUTBOX_OLDEST_SECONDS).set(oldest_seconds);
    metrics::gauge!(OUTBOX_DEAD).set(dead as f64);
}

/// How long the oldest message due has waited, set before each scrape.
pub fn outbox_due(oldest_seconds: f64) {
    metrics::gauge!(OUTBOX_OLDEST_DUE_SECONDS).set(oldest_seconds);
}
