//! One place for logs: tracing with an EnvFilter (`RUST_LOG` wins over the configured
//! filter), text or JSON, to stderr so replies on stdout stay clean; and [`metrics`] for
//! `/metrics`. Command text that reaches a log goes through [`mask_secrets`] first.

pub mod metrics;

use std::borrow::Cow;

use tracing_subscriber::util::SubscriberInitExt as _;
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
    // A second init (tests, embedded use) keeps the first subscriber. `try_init` also
    // forwards the `log` crate's records (rustls, reqwest) into tracing.
    let _ = subscriber(settings, writer).try_init();
}

/// The subscriber [`init`] installs, for the caller to install or scope
/// (`tracing::subscriber::with_default`): tests read what would be logged this way.
pub fn subscriber<W>(
    settings: &LogSettings,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
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
    match settings.format {
        LogFormat::Json => Box::new(builder.json().finish()),
        LogFormat::Text => Box::new(builder.finish()),
    }
}

/// Command text fit for a log: URLs keep their scheme and host and lose the rest (a Slack
/// webhook's path is its secret), and words shaped like tokens (Slack `xox…-`, Discord bot
/// tokens, long hex or base64 runs such as feed and link tokens) become `[masked]`.
/// Everything else is kept, so the log still says what was run.
pub fn mask_secrets(text: &str) -> Cow<'_, str> {
    if !text.split_whitespace().any(|w| masked_word(w).is_some()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let space = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..space]);
        rest = &rest[space..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        match masked_word(word) {
            Some(m) => out.push_str(&m),
            None => out.push_str(word),
        }
        rest = &rest[end..];
    }
    Cow::Owned(out)
}

/// The masked form of one word, or `None` when it carries nothing secret. Quotes and a
/// leading `--flag=` stay as they were.
fn masked_word(word: &str) -> Option<String> {
    let (prefix, value) = match word.find("://") {
        Some(at) => {
            let start = word[..at]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
                .map_or(0, |i| i + 1);
            (&word[..start], &word[start..])
        }
        None => match word.split_once('=') {
            Some((flag, v)) if flag.starts_with("--") => (&word[..flag.len() + 1], v),
            _ => ("", word),
        },
    };
    let trimmed = value.trim_start_matches(['"', '\'', '<']);
    let lead = &value[..value.len() - trimmed.len()];
    let core = trimmed.trim_end_matches(['"', '\'', '>', ',', ';', ')']);
    let tail = &trimmed[core.len()..];
    let masked = if let Some((scheme, after)) = core.split_once("://") {
        let host_end = after.find(['/', '?', '#']).unwrap_or(after.len());
        // Credentials before an `@` are secrets too.
        let host = after[..host_end].rsplit('@').next().unwrap_or("");
        if host_end == after.len() && !after[..host_end].contains('@') {
            return None;
        }
        format!("{scheme}://{host}/…")
    } else if token_shaped(core) {
        "[masked]".to_owned()
    } else {
        return None;
    };
    Some(format!("{prefix}{lead}{masked}{tail}"))
}

fn token_shaped(word: &str) -> bool {
    let b64 = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    };
    // Slack tokens: xoxb-, xoxp-, xoxa-, xoxe-, xapp-.
    let slack = (word.starts_with("xox") && word.as_bytes().get(4) == Some(&b'-'))
        || word.starts_with("xapp-");
    // A Discord bot token: three base64url parts, the first the bot's id.
    let parts: Vec<&str> = word.split('.').collect();
    let discord = parts.len() == 3 && parts.iter().all(|p| b64(p)) && word.len() >= 50;
    // Long random runs: feed tokens, link signatures, signing secrets.
    let random = word.len() >= 32
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'='))
        && word.bytes().any(|b| b.is_ascii_digit());
    slack || discord || random
}

#[cfg(test)]
mod tests {
    use super::mask_secrets;

    #[test]
    fn urls_lose_their_paths_and_tokens_are_masked() {
        let line =
            "program route atlas --slack-webhook https://hooks.slack.com/services/T0/B0/s3cr3tpart";
        assert_eq!(
            mask_secrets(line),
            "program route atlas --slack-webhook https://hooks.slack.com/…"
        );
        assert_eq!(
            mask_secrets("schedule set atlas digest \"weekly fri 16:00\" --webhook=\"https://hooks.slack.com/services/T0/B0/xyz\""),
            "schedule set atlas digest \"weekly fri 16:00\" --webhook=\"https://hooks.slack.com/…\""
        );
        assert_eq!(
            mask_secrets("x <https://user:pw@example.com>"),
            "x <https://example.com/…>"
        );
        let discord = format!("{}.{}.{}", "MTA".repeat(8), "G1a2b3", "x".repeat(38));
        assert_eq!(
            mask_secrets(&format!("a xoxb-123-456-abc b {discord} c")),
            "a [masked] b [masked] c"
        );
        assert_eq!(
            mask_secrets("feed 0123456789abcdef0123456789abcdef"),
            "feed [masked]"
        );
        // Ordinary commands stay as they are, borrowed.
        for plain in [
            "milestone move atlas api-beta --target 2026-12-22 --reason \"load test failed\"",
            "program show https://drumbeat.example.com",
            "risk add atlas \"Vendor SDK late\" --likelihood 4",
        ] {
            assert!(
                matches!(mask_secrets(plain), std::borrow::Cow::Borrowed(_)),
                "{plain}"
            );
        }
    }
}
