//! Who is who: tenants (the isolation boundary) and references to people as typed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{values::truncate_for_error, Invalid};

/// The isolation boundary: the local console, a Discord server (guild) or a Slack
/// workspace (team). Stored as one string: `local`, `discord:{guild}` or `slack:{team}`
/// ([`Tenant::parse`] reads it back, its `Display` writes it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Tenant {
    Local,
    /// A Discord server by its id.
    Discord(u64),
    /// A Slack workspace by its team id (letters and digits, as Slack makes them).
    Slack(String),
}

impl Tenant {
    pub fn local() -> Self {
        Self::Local
    }

    pub fn discord(guild_id: u64) -> Self {
        Self::Discord(guild_id)
    }

    pub fn slack(team_id: &str) -> Self {
        Self::Slack(team_id.to_owned())
    }

    /// Reads the stored form back; anything else is refused, so a tenant id from a
    /// configuration, a link or a row is always one of the three kinds.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = || {
            Invalid(format!(
                "`{}` is not a tenant id: write `local`, `discord:GUILD_ID` or `slack:TEAM_ID`",
                truncate_for_error(raw)
            ))
        };
        if raw == "local" {
            return Ok(Self::Local);
        }
        if let Some(guild) = raw.strip_prefix("discord:") {
            let valid =
                !guild.is_empty() && guild.len() <= 20 && guild.bytes().all(|b| b.is_ascii_digit());
            return match guild.parse::<u64>() {
                Ok(id) if valid && id != 0 => Ok(Self::Discord(id)),
                _ => Err(bad()),
            };
        }
        if let Some(team) = raw.strip_prefix("slack:") {
            let valid =
                (1..=32).contains(&team.len()) && team.bytes().all(|b| b.is_ascii_alphanumeric());
            return if valid {
                Ok(Self::Slack(team.to_owned()))
            } else {
                Err(bad())
            };
        }
        Err(bad())
    }

    /// The platform the tenant lives on.
    pub fn platform(&self) -> Platform {
        match self {
            Self::Local => Platform::Console,
            Self::Discord(_) => Platform::Discord,
            Self::Slack(_) => Platform::Slack,
        }
    }

    /// The Discord server's id, for a Discord tenant.
    pub fn discord_guild(&self) -> Option<u64> {
        match self {
            Self::Discord(id) => Some(*id),
            _ => None,
        }
    }

    /// The Slack team's id, for a Slack tenant.
    pub fn slack_team(&self) -> Option<&str> {
        match self {
            Self::Slack(team) => Some(team),
            _ => None,
        }
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local => f.write_str("local"),
            Self::Discord(id) => write!(f, "discord:{id}"),
            Self::Slack(team) => write!(f, "slack:{team}"),
        }
    }
}

impl TryFrom<String> for Tenant {
    type Error = Invalid;
    fn try_from(raw: String) -> Result<Self, Invalid> {
        Self::parse(&raw)
    }
}

impl From<Tenant> for String {
    fn from(t: Tenant) -> String {
        t.to_string()
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

impl Platform {
    /// `console`, `discord` or `slack`: for logs and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::Discord => "discord",
            Self::Slack => "slack",
        }
    }
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
    fn tenants_have_one_stored_form() {
        for t in [
            Tenant::local(),
            Tenant::discord(42),
            Tenant::slack("T0TEAM"),
        ] {
            assert_eq!(Tenant::parse(&t.to_string()).unwrap(), t);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<Tenant>(&json).unwrap(), t);
        }
        assert_eq!(Tenant::discord(42).to_string(), "discord:42");
        assert_eq!(Tenant::slack("T1").platform(), Platform::Slack);
        for bad in [
            "",
            "acme",
            "discord:",
            "discord:0",
            "discord:x1",
            "slack:",
            "slack:T 1",
            "slack:../x",
            "LOCAL",
        ] {
            assert!(Tenant::parse(bad).is_err(), "{bad}");
        }
    }

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
