//! The command line of the `drumbeat` binary.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "drumbeat",
    version,
    about = "Keeps a technical program's state and weekly rhythm."
)]
pub struct Cli {
    /// A config file (default: config/local.toml if present)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The SQLite database file (default from config: ./drumbeat.db)
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<String>,
    #[command(subcommand)]
    pub command: Mode,
}

#[derive(Debug, clap::Args)]
pub struct Who {
    /// Act as this console user, e.g. @dana (default from config)
    #[arg(long = "as", value_name = "@NAME")]
    pub as_person: Option<String>,
    /// The tenant to act in (default: local)
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,
    /// The channel commands come from, for bound programs (default from config)
    #[arg(long)]
    pub channel: Option<String>,
    /// Pretend it is this instant (RFC 3339), for scripts and tests
    #[arg(long, hide = true)]
    pub now: Option<DateTime<Utc>>,
}

#[derive(Debug, Subcommand)]
pub enum Mode {
    /// Build the sample program (a cloud-service launch), then run two simulated weeks of
    /// its rhythm in seconds and print every delivery
    Demo {
        /// Where the Markdown reports go (default: drumbeat-demo-reports beside the database)
        #[arg(long, value_name = "DIR")]
        reports: Option<PathBuf>,
    },
    /// Run the scheduler and the outbox delivery; with no platform configured, deliveries
    /// are printed on the console. Stops cleanly on Ctrl-C or SIGTERM
    Run,
    /// An interactive console with line editing and history
    Console(Who),
    /// Run one command: `drumbeat exec "milestone list atlas"`. Exit 0 ok, 2 refused, 1 failed
    Exec {
        #[command(flatten)]
        who: Who,
        /// Print the reply as JSON
        #[arg(long)]
        json: bool,
        /// Run a plan file instead: one command per line (`#` comments), all in one
        /// transaction; a line may name what a later line makes
        #[arg(long, value_name = "FILE", conflicts_with = "command")]
        file: Option<PathBuf>,
        /// The command, quoted as one argument or as separate words
        #[arg(required_unless_present = "file", num_args = 1.., allow_hyphen_values = true, trailing_var_arg = true)]
        command: Vec<String>,
    },
    /// Write a program as a JSON document (to stdout, or --out FILE), or with --csv DIR as
    /// the sheets `import-csv` reads back (milestones.csv, dependencies.csv, risks.csv,
    /// assumptions.csv, issues.csv, actions.csv)
    Export {
        #[arg(long)]
        program: String,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long, conflicts_with = "csv")]
        out: Option<PathBuf>,
        /// Write one CSV per kind of record into this folder
        #[arg(long, value_name = "DIR")]
        csv: Option<PathBuf>,
    },
    /// Import a sheet (CSV) of one kind of record into a program, all or nothing: each row
    /// runs as the command you would type. Importing again updates what changed (a new date
    /// is a slip with the import as its reason), adds what is new and deletes nothing
    ImportCsv {
        #[command(flatten)]
        who: Who,
        #[arg(long)]
        program: String,
        /// milestones, dependencies, risks, assumptions, issues or actions
        #[arg(long)]
        kind: String,
        /// Read column COLUMN as FIELD (repeatable); FIELD `ignore` leaves it out
        #[arg(long = "map", value_name = "COLUMN=FIELD")]
        map: Vec<String>,
        /// How the sheet writes dates, e.g. %d/%m/%Y (default: ISO and common forms)
        #[arg(long, value_name = "FMT")]
        date_format: Option<String>,
        /// Show the mapping and what would change, and write nothing
        #[arg(long)]
        dry_run: bool,
        file: PathBuf,
    },
    /// Import Jira's CSV export: projects and epics become projects, epics and issues with
    /// a due date milestones, "blocks" links dependencies
    ImportJira(TrackerImport),
    /// Import Linear's CSV export: projects, issues with a due date and project milestones,
    /// "Blocks" / "Blocked by" relations as dependencies
    ImportLinear(TrackerImport),
    /// Import GitHub milestones (the JSON of GET /repos/OWNER/REPO/milestones?state=all):
    /// the repository becomes a project, each milestone with a due date a milestone
    ImportGithub(TrackerImport),
    /// What a tenant keeps: `tenant export TENANT` writes every program of it
    #[command(subcommand)]
    Tenant(TenantMode),
    /// Discord chores: `discord register` registers the slash commands and exits
    #[command(subcommand)]
    Discord(DiscordMode),
    /// Read a program document, all or nothing. A program with the same key is replaced in
    /// place: it keeps its schedules, routes, snoozes, calendar feed and queued messages
    Import {
        file: PathBuf,
        #[arg(long)]
        tenant: Option<String>,
        /// Replace the program even though it has messages not yet delivered
        #[arg(long)]
        force: bool,
    },
    /// Check the configuration, the database, the secrets' shape and the clock; exit 1 if
    /// any check fails. Secrets are never printed
    Doctor {
        /// Also ask Discord whether the token works (GET /users/@me)
        #[arg(long)]
        online: bool,
    },
    /// Copy this database, every table, into an empty one in one transaction, checking each
    /// table's rows and checksum: `migrate-db --to postgres://…` moves a SQLite installation
    /// onto PostgreSQL. With --check, compare the two instead, changing no row
    MigrateDb {
        /// The other database: postgres://USER@HOST/DB, sqlite://PATH or a SQLite file path
        /// (default: the DRUMBEAT_MIGRATE_TO variable, which keeps a password out of `ps`)
        #[arg(long, value_name = "URL")]
        to: Option<String>,
        /// Only compare the two databases, table by table (both are brought to this
        /// version's schema first); exit 1 if they differ
        #[arg(long)]
        check: bool,
    },
    /// Copy the database to FILE while it stays in use (VACUUM INTO)
    Backup {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Replace FILE if it exists
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct TrackerImport {
    #[command(flatten)]
    pub who: Who,
    #[arg(long)]
    pub program: String,
    /// Show the mapping and what would change, and write nothing
    #[arg(long)]
    pub dry_run: bool,
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum TenantMode {
    /// Write every program of a tenant (`local`, `discord:GUILD_ID`, `slack:TEAM_ID`) as one
    /// JSON document of program documents (to stdout, or --out FILE)
    Export {
        tenant: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Remove everything of a tenant, its event log included, for good; the purge itself is
    /// recorded (the tenant, when, rows removed by table). Export it first
    Purge {
        tenant: String,
        /// The tenant again, to confirm
        #[arg(long, value_name = "TENANT")]
        confirm: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DiscordMode {
    /// Register the slash commands with Discord (in discord.dev_guild_id if set, else
    /// globally), print them, and exit. `run` registers them too when it opens the gateway;
    /// without the gateway (discord.gateway = false), run this once per release
    Register,
}
