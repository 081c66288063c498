//! One place for logs: tracing with an EnvFilter (`RUST_LOG` wins over the configured
//! filter), text or JSON, to stderr so replies on stdout stay clean; and [`metrics`] for
//! `/metrics`.

pub mod metrics;

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::{LogFormat, LogSettings};

pub fn init(settings: &LogSettings) {
    init_with_writer(settings, std::io::stderr);
}

/// Like [`init`], with a writer of the caller's choosing (tests capture logs this way).
pub fn init_with_writer<W>(settings: &LogSettings, writer: W)
where
    W: for<'a> fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    // A second init (tests, embedded use) keeps the first subscriber.
    let _ = match settings.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
