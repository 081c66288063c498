//! The words of refusals, internal errors and the core's own answers, the same on every
//! platform. Renderers decide only how they look.

use crate::reply::{Reply, Text, Tone};

/// A button whose id no version of Drumbeat knows, or that this version no longer has.
pub const STALE_BUTTON: &str = "This button is from an older message and does nothing now.";
/// A form Drumbeat did not open.
pub const UNKNOWN_FORM: &str = "This form is not one Drumbeat knows.";
/// A button of another tenant's message (Discord: a message forwarded into another server).
pub const OTHER_TENANT: &str = "This button belongs to another server's program.";
/// A command used outside a tenant's channels (Discord: in a DM).
pub const OUTSIDE_TENANT: &str =
    "Drumbeat's commands work in a server's channels, where the program lives.";

/// A user error, shown word for word, only to the one who asked.
pub fn refusal(msg: &str) -> Reply {
    Reply::new("Not done")
        .tone(Tone::Warning)
        .paragraph(Text::plain(msg))
        .ephemeral()
}

/// An internal error: logged with its whole context chain under a short id, which is all
/// the one who asked sees.
pub fn internal(e: &anyhow::Error) -> Reply {
    refusal(&internal_text(e))
}

/// The words of an internal error (the console prints them after `error:`).
pub fn internal_text(e: &anyhow::Error) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    tracing::error!(error_id = %id, error = ?e, "internal error");
    format!("Something went wrong on our side and nothing was changed (error id {id}, in the log).")
}

/// A command's help, shown only to the one who asked.
pub fn help(text: String) -> Reply {
    Reply::new("Help").preformatted(text).ephemeral()
}

/// The acknowledgement of a slow command whose answer follows.
pub fn working() -> Reply {
    Reply::new("Working on it").paragraph(Text::plain("The answer follows here in a moment."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_shows_only_an_id() {
        let e = anyhow::anyhow!("database is locked at /secret/path");
        let shown = internal_text(&e);
        assert!(!shown.contains("secret"), "{shown}");
        let id = shown
            .split("error id ")
            .nth(1)
            .and_then(|r| r.split(',').next())
            .unwrap();
        assert_eq!(id.len(), 8);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn a_refusal_is_private_and_says_what_was_wrong() {
        let r = refusal("project `web` is not in `atlas`");
        assert!(r.ephemeral);
        assert_eq!(r.title, "Not done");
        assert_eq!(r.tone, Tone::Warning);
        assert_eq!(
            crate::reply::text::render(&r).trim_end(),
            "Not done\nproject `web` is not in `atlas`"
        );
    }
}
