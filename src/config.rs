//! Layered configuration: the embedded `config/default.toml`, then a git-ignored local
//! file, then `DRUMBEAT_…` environment variables (`__` for nesting).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::store::DbSettings;

pub const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    pub database: DbSettings,
    pub console: ConsoleSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ConsoleSettings {
    pub actor: String,
    pub admins: Vec<String>,
    pub channel: String,
    pub history_file: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LogSettings {
    pub filter: String,
    pub format: LogFormat,
}

impl Settings {
    /// Loads the layers. `explicit` is a file named on the command line; it must exist.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        let from_env = std::env::var_os("DRUMBEAT_CONFIG").map(PathBuf::from);
        match explicit.map(Path::to_path_buf).or(from_env) {
            Some(path) => {
                anyhow::ensure!(
                    path.exists(),
                    "the config file {} does not exist",
                    path.display()
                );
                figment = figment.merge(Toml::file(path));
            }
            None => {
                figment = figment
                    .merge(Toml::file("config/local.toml"))
                    .merge(Toml::file("config/secrets.toml"));
            }
        }
        figment = figment.merge(Env::prefixed("DRUMBEAT_").split("__").ignore(&["config"]));
        figment.extract().context("reading the configuration")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closure signature, not ours
    fn defaults_parse_and_env_overrides() {
        figment::Jail::expect_with(|jail| {
            let s = Settings::load(None).expect("defaults load");
            assert_eq!(s.database.path, "drumbeat.db");
            assert_eq!(s.console.actor, "tpm");
            jail.set_env("DRUMBEAT_DATABASE__PATH", "/tmp/x.db");
            jail.set_env("DRUMBEAT_LOG__FORMAT", "json");
            let s = Settings::load(None).expect("env loads");
            assert_eq!(s.database.path, "/tmp/x.db");
            assert_eq!(s.log.format, LogFormat::Json);
            jail.create_dir("config")?;
            jail.create_file("config/local.toml", "[console]\nactor = \"dana\"\n")?;
            assert_eq!(
                Settings::load(None).expect("local loads").console.actor,
                "dana"
            );
            Ok(())
        });
    }
}
