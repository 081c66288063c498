//! Metrics in the Prometheus text format, served at `/metrics`. Code records through the
//! `metrics` macros; the recorder is installed once per process ([`install`]) with no
//! listener of its own, and the HTTP server renders it. Until it is installed, recording
//! costs next to nothing and goes nowhere.
//!
//! The names, in one place:
//! - `drumbeat_commands_total{command, outcome}`: commands run, by `area verb` and
//!   `ok` / `refused` / `error`; `drumbeat_command_seconds{command}` their latency.
//! - `drumbeat_jobs_total{kind, outcome}`: scheduled slots `ran`, `skipped` or `failed`.
//! - `drumbeat_deliveries_total{platform, outcome}`: delivery attempts `sent`, `retried`
//!   or `dead`; `drumbeat_dead_letters_total` messages given up on.
//! - `drumbeat_outbox_pending`, `drumbeat_outbox_oldest_pending_seconds`,
//!   `drumbeat_outbox_dead`: the outbox as it stands, read at each scrape.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

pub const COMMANDS: &str = "drumbeat_commands_total";
pub const COMMAND_SECONDS: &str = "drumbeat_command_seconds";
pub const JOBS: &str = "drumbeat_jobs_total";
pub const DELIVERIES: &str = "drumbeat_deliveries_total";
pub const DEAD_LETTERS: &str = "drumbeat_dead_letters_total";
pub const OUTBOX_PENDING: &str = "drumbeat_outbox_pending";
pub const OUTBOX_OLDEST_SECONDS: &str = "drumbeat_outbox_oldest_pending_seconds";
pub const OUTBOX_DEAD: &str = "drumbeat_outbox_dead";

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
    metrics::describe_counter!(DELIVERIES, "Delivery attempts, by platform and outcome");
    metrics::describe_counter!(DEAD_LETTERS, "Messages given up on (dead-lettered)");
    metrics::describe_gauge!(OUTBOX_PENDING, "Messages waiting or being sent");
    metrics::describe_gauge!(
        OUTBOX_OLDEST_SECONDS,
        metrics::Unit::Seconds,
        "Age of the oldest message waiting or being sent"
    );
    metrics::describe_gauge!(OUTBOX_DEAD, "Dead-lettered messages in the outbox");
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
    if outcome == "dead" {
        metrics::counter!(DEAD_LETTERS).increment(1);
    }
}

/// The outbox as it stands, set before each scrape.
pub fn outbox(pending: i64, oldest_seconds: f64, dead: i64) {
    metrics::gauge!(OUTBOX_PENDING).set(pending as f64);
    metrics::gauge!(OUTBOX_OLDEST_SECONDS).set(oldest_seconds);
    metrics::gauge!(OUTBOX_DEAD).set(dead as f64);
}
