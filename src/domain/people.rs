//! Who is who: tenants (the isolation boundary) and references to people as typed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{values::truncate_for_error, Invalid};

/// The isolation boundary: a Discord guild, a Slack workspace, or the local console.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tenant(String);

impl Tenant {
    pub fn local() -> Self {
        Self("local".into())
    }

    pub fn discord(guild_id: u64) -> Self {
        Self(format!("discord:{guild_id}"))
    }

    pub fn slack(team_id: &str) -> Self {
        Self(format!("slack:{team_id}"))
    }

    /// For ids that come from trusted configuration or a platform.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.is_empty() || raw.len() > 64 || raw.chars().any(|c| c.is_whitespace()) {
            return Err(Invalid(format!(
                "`{}` is not a tenant id",
                truncate_for_error(raw)
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The platform the tenant lives on, from its stored form.
    pub fn platform(&self) -> Platform {
        if self.0.starts_with("discord:") {
            Platform::Discord
        } else if self.0.starts_with("slack:") {
            Platform::Slack
        } else {
            Platform::Console
        }
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A channel as written in a command: its id, `<#C123|general>` as Slack sends a picked
/// channel, `<#123>` as Discord writes one, or a console channel's name (`#general`).
pub fn channel_id(raw: &str) -> Result<String, Invalid> {
    let s = raw.trim();
    let id = match s.strip_prefix("<#").and_then(|r| r.strip_suffix('>')) {
        Some(inner) => inner.split_once('|').map_or(inner, |(id, _)| id),
        None => s.strip_prefix('#').unwrap_or(s),
    };
    let valid = !id.is_empty()
        && id.chars().count() <= 100
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(id.to_owned())
    } else {
        Err(Invalid(format!(
            "--channel: `{}` is not a channel: pick one with `#`, or give its id (letters, digits, `-`, `_`, `.`; at most 100)",
            truncate_for_error(raw)
        )))
    }
}

/// Where a command came from; it decides how people are addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Console,
    Discord,
    Slack,
}

/// A person as written in a command: `@dana`, `@me`, `<@123>` (Discord) or `<@U123>` (Slack).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PersonRef {
    /// The one who runs the command.
    Me,
    /// A name typed after `@`: a console handle, or a display name on a platform.
    Name(String),
    /// A platform mention: the user id as the platform knows it.
    Mention(String),
}

impl PersonRef {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        let bad = || {
            Invalid(format!(
                "`{}` is not a person: write `@name`, `@me`, or a mention like `<@123456>`",
                truncate_for_error(raw)
            ))
        };
        if let Some(inner) = s.strip_prefix("<@").and_then(|r| r.strip_suffix('>')) {
            // Slack escapes a typed mention as `<@U123|dana>`: the id is before the bar.
            let id = inner.split_once('|').map_or(inner, |(id, _)| id);
            let id = id.strip_prefix('!').unwrap_or(id);
            // Discord ids are digits; Slack ids are upper-case letters and digits (U…, W…).
            let discord =
                !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit());
            let slack = id.len() >= 2
                && id.len() <= 20
                && matches!(id.as_bytes()[0], b'U' | b'W')
                && id
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            return if discord || slack {
                Ok(Self::Mention(id.to_owned()))
            } else {
                Err(bad())
            };
        }
        let name = s.strip_prefix('@').ok_or_else(bad)?;
        if name.eq_ignore_ascii_case("me") {
            return Ok(Self::Me);
        }
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(bad());
        }
        Ok(Self::Name(name.to_owned()))
    }
}

impl FromStr for PersonRef {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Invalid> {
        Self::parse(s)
    }
}

impl fmt::Display for PersonRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Me => f.write_str("@me"),
            Self::Name(n) => write!(f, "@{n}"),
            Self::Mention(id) => write!(f, "<@{id}>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_as_typed() {
        assert_eq!(
            PersonRef::parse("@dana").unwrap(),
            PersonRef::Name("dana".into())
        );
        assert_eq!(PersonRef::parse("@ME").unwrap(), PersonRef::Me);
        assert_eq!(
            PersonRef::parse("<@123>").unwrap(),
            PersonRef::Mention("123".into())
        );
        assert_eq!(
            PersonRef::parse("<@!123>").unwrap(),
            PersonRef::Mention("123".into())
        );
        assert_eq!(
            PersonRef::parse("<@U02AB>").unwrap(),
            PersonRef::Mention("U02AB".into())
        );
        for bad in [
            "dana",
            "@",
            "<@>",
            "<@&123>",
            "<!channel>",
            "@every one",
            "<@u12>",
        ] {
            assert!(PersonRef::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
