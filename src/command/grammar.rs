//! The command language (README's command reference), as typed values. This module does no I/O: text goes
//! in (what a Slack user types after `/drumbeat`, or a console line) and a [`Command`] or
//! a specific error comes out. The same clap definition produces the help.

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::domain::{
    Audience, DateSpec, Days, DepState, Email, ExternalId, Format, Key, Level, Link, MapFormat,
    PersonRef, Prose, Rag, Raise, RiskState, Role, Severity, Timezone, Title, WorkDays,
};
use crate::schedule::ScheduleSpec;

#[derive(Debug, Parser)]
#[command(
    name = "drumbeat",
    no_binary_name = true,
    disable_version_flag = true,
    disable_help_subcommand = true,
    color = clap::ColorChoice::Never,
    subcommand_required = true,
    arg_required_else_help = true,
    about = "Keep a program's state and weekly rhythm.",
    after_help = "Dates: ISO (2026-12-15), today, tomorrow, a weekday (fri) or an offset (+3d, +2w).\n\
                  People: @name, @me, or a platform mention (<@123>, <@U123>).\n\
                  In a channel bound to a program (`program bind KEY`) the program key may be left out."
)]
pub struct Line {
    #[command(subcommand)]
    pub command: Command,
}

/// Every command area. This one list drives the text grammar, help and platform registration.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Programs: create, list, show, set, bind, archive, grant and revoke roles
    #[command(subcommand)]
    Program(ProgramCmd),
    /// Portfolios: several programs seen together, with their digests
    #[command(subcommand)]
    Portfolio(PortfolioCmd),
    /// The program's charter: goal, scope, success metrics, stakeholders
    #[command(subcommand)]
    Charter(CharterCmd),
    /// Projects: the workstreams of a program, one team each
    #[command(subcommand)]
    Project(ProjectCmd),
    /// People: timezone, display name, time away, delegate
    #[command(subcommand)]
    Person(PersonCmd),
    /// Milestones: dated checkpoints with predecessors and slips
    #[command(subcommand)]
    Milestone(MilestoneCmd),
    /// Dependencies: deliverables one team needs from another
    #[command(subcommand)]
    Dep(DepCmd),
    /// Risks: likelihood × impact, owner and mitigation
    #[command(subcommand)]
    Risk(RiskCmd),
    /// Decisions: scope and schedule trade-offs, logged
    #[command(subcommand)]
    Decision(DecisionCmd),
    /// Assumptions the plan rests on, each to validate by a date
    #[command(subcommand)]
    Assumption(AssumptionCmd),
    /// Issues: problems happening now, with a severity and an owner
    #[command(subcommand)]
    Issue(IssueCmd),
    /// Action items: who does what by when, from syncs, decisions and post-mortems
    #[command(subcommand)]
    Action(ActionCmd),
    /// Change requests: a scope or schedule change, its reason and the moves it implies
    #[command(subcommand)]
    Change(ChangeCmd),
    /// Launch readiness: the checklist that must be done before a milestone ships
    #[command(subcommand)]
    Readiness(ReadinessCmd),
    /// Status updates: each project's RAG, summary, blockers and next steps
    #[command(subcommand)]
    Status(StatusCmd),
    /// Digests: health with reasons, changes, milestones, risks; per audience
    #[command(subcommand)]
    Digest(DigestCmd),
    /// The schedule: forecasts, the critical path and what-if slips
    #[command(subcommand)]
    Path(PathCmd),
    /// Documents: charter, status report, weekly sync agenda, post-mortem
    #[command(subcommand)]
    Report(ReportCmd),
    /// Charts as pictures: timeline, risk heat map, dependency map, health trend
    #[command(subcommand)]
    Chart(ChartCmd),
    /// Schedules: status prompts, reminders, digests and daily nudges
    #[command(subcommand)]
    Schedule(ScheduleCmd),
    /// The outbox: messages on their way, and the ones that could not be delivered
    #[command(subcommand)]
    Outbox(OutboxCmd),
    /// What is waiting on you across every program: requests, actions, decisions, reviews
    Inbox {
        /// Someone else's inbox (editors and tenant admins)
        #[arg(long = "as", value_name = "PERSON")]
        as_: Option<PersonRef>,
    },
    /// Help on the command language: `help`, `help milestone`, `help milestone add`
    Help { topic: Vec<String> },
}

macro_rules! target {
    ($(#[$meta:meta])* $name:ident, $value:literal, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Args)]
        pub struct $name {
            /// The program key (optional in a channel bound to a program)
            #[arg(value_name = "PROGRAM")]
            pub first: Option<String>,
            #[arg(value_name = $value, help = concat!("The ", $what))]
            pub second: Option<String>,
        }

        impl $name {
            pub const WHAT: &'static str = $what;

            /// Splits into (program, thing): with one positional it is the thing and the
            /// program comes from the channel binding.
            pub fn split(&self) -> Result<(Option<&str>, &str), ParseError> {
                match (&self.first, &self.second) {
                    (Some(p), Some(t)) => Ok((Some(p.as_str()), t.as_str())),
                    (Some(t), None) => Ok((None, t.as_str())),
                    _ => Err(ParseError(format!("missing the {}", $what))),
                }
            }
        }
    };
}

target!(
    /// `[PROGRAM] KEY`
    Target, "KEY", "key"
);
target!(
    /// `[PROGRAM] NUMBER`
    Numbered, "NUMBER", "number (as shown by `list`)"
);
target!(
    /// `[PROGRAM] TITLE`
    Titled, "TITLE", "title"
);
target!(
    /// `[PROGRAM] TEXT`
    Noted, "TEXT", "summary"
);
target!(
    /// `[PROGRAM] PROJECT`
    ForProject, "PROJECT", "project key"
);
target!(
    /// `[PROGRAM] KIND` of chart
    ChartTarget, "KIND", "chart: timeline, risks, deps or trend"
);
target!(
    /// `[PROGRAM] PERSON`
    ForPerson, "PERSON", "person (@name or a mention)"
);

/// Just `[PROGRAM]`.
#[derive(Debug, Clone, Args)]
pub struct ProgramArg {
    /// The program key (optional in a channel bound to a program)
    #[arg(value_name = "PROGRAM")]
    pub program: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PortfolioCmd {
    /// Gather programs: `portfolio create payments --name "Payments" --programs atlas,orion`
    Create {
        /// Short key, e.g. `payments`
        key: Key,
        #[arg(long)]
        name: Option<Title>,
        /// Its programs, in the order shown (comma-separated or repeated)
        #[arg(long, value_delimiter = ',', value_name = "PROGRAM")]
        programs: Vec<Key>,
        /// IANA timezone its digest schedules are read in (default: yours, else UTC)
        #[arg(long)]
        tz: Option<Timezone>,
    },
    /// Change a portfolio: its name, owner, timezone, or its whole list of programs
    Set {
        key: Key,
        #[arg(long)]
        name: Option<Title>,
        #[arg(long)]
        owner: Option<PersonRef>,
        #[arg(long)]
        tz: Option<Timezone>,
        /// The programs, replacing the list (comma-separated or repeated)
        #[arg(long, value_delimiter = ',', value_name = "PROGRAM")]
        programs: Option<Vec<Key>>,
    },
    /// Add programs at the end: `portfolio add payments ledger`
    Add {
        key: Key,
        #[arg(required = true, value_name = "PROGRAM")]
        programs: Vec<Key>,
    },
    /// Take programs out (the programs themselves stay): `portfolio remove payments ledger`
    Remove {
        key: Key,
        #[arg(required = true, value_name = "PROGRAM")]
        programs: Vec<Key>,
    },
    /// One row per program: health and its top reason, the end against its target with
    /// float, conflicts, the top risk, the asks. Without a key: every live program
    Show { key: Option<Key> },
    /// A read-only page of the portfolio at a signed, expiring link (its owner or a tenant
    /// admin): `portfolio share payments --days 30`; `--list` shows its links
    Share {
        key: Key,
        /// Days the link works, 1 to 365 (default 14)
        #[arg(long, conflicts_with_all = ["list", "revoke", "revoke_all"])]
        days: Option<u32>,
        /// The portfolio's links: who made each, until when, when each was last opened
        #[arg(long, conflicts_with_all = ["revoke", "revoke_all"])]
        list: bool,
        /// End one link, by the id `--list` shows
        #[arg(long, value_name = "ID", conflicts_with = "revoke_all")]
        revoke: Option<String>,
        /// End every live link of the portfolio
        #[arg(long)]
        revoke_all: bool,
    },
    /// List the tenant's portfolios
    List,
    /// Stop one of the portfolio's digest subscriptions: `portfolio unsubscribe payments 2`
    Unsubscribe {
        key: Key,
        /// The subscription's number, as `portfolio show KEY` lists it
        number: i64,
    },
    /// Remove a portfolio and its subscriptions (its programs stay)
    Delete {
        key: Key,
        /// The key again, to confirm
        #[arg(long, value_name = "KEY")]
        confirm: Key,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProgramCmd {
    /// Create a program (needs tenant admin)
    Create {
        /// Short key, e.g. `atlas`
        key: Key,
        #[arg(long)]
        name: Option<Title>,
        /// IANA timezone, e.g. Europe/Berlin
        #[arg(long)]
        tz: Option<Timezone>,
        /// The TPM who owns it (default: you)
        #[arg(long)]
        owner: Option<PersonRef>,
        /// Days after which a status update is stale (default 8)
        #[arg(long)]
        staleness: Option<Days>,
    },
    /// List programs
    List {
        /// Include archived programs
        #[arg(long)]
        archived: bool,
    },
    /// Show a program: owner, timezone, calendar, roles, projects
    Show(ProgramArg),
    /// Change a program's settings
    Set {
        #[command(flatten)]
        program: ProgramArg,
        #[arg(long)]
        name: Option<Title>,
        #[arg(long)]
        tz: Option<Timezone>,
        #[arg(long)]
        owner: Option<PersonRef>,
        /// Work days, e.g. `mon-fri` or `sun,mon,tue,wed,thu`
        #[arg(long)]
        work_days: Option<WorkDays>,
        /// Add a holiday (repeatable)
        #[arg(long)]
        holiday: Vec<DateSpec>,
        /// Remove a holiday (repeatable)
        #[arg(long)]
        no_holiday: Vec<DateSpec>,
        /// Days after which a status update is stale
        #[arg(long)]
        staleness: Option<Days>,
        /// The milestone that is the program's end (default: the last one to finish)
        #[arg(long, conflicts_with = "no_end")]
        end: Option<Key>,
        /// The end is the last milestone to finish again
        #[arg(long)]
        no_end: bool,
    },
    /// Bind this channel to a program, so its key may be left out here
    Bind(ProgramArg),
    /// Archive a program (read-only from then on); `--undo` restores it
    Archive {
        #[command(flatten)]
        program: ProgramArg,
        #[arg(long)]
        undo: bool,
    },
    /// Give a person a role on the program: editor or viewer
    Grant {
        #[command(flatten)]
        target: ForPerson,
        #[arg(long)]
        role: Role,
    },
    /// Take a person's role on the program away
    Revoke(ForPerson),
    /// Where prompts, reminders and pings go instead of direct messages:
    /// `program route atlas --slack-webhook URL [--project api]`; no option shows the routes
    Route {
        #[command(flatten)]
        program: ProgramArg,
        /// Route only this project's messages (default: the whole program's)
        #[arg(long, value_name = "KEY")]
        project: Option<String>,
        /// A Slack incoming-webhook URL (stored, never shown in full)
        #[arg(long, visible_alias = "webhook", value_name = "URL")]
        slack_webhook: Option<String>,
        /// A channel name or id of this platform
        #[arg(long, conflicts_with = "slack_webhook")]
        channel: Option<String>,
        /// Remove the route: messages go to each person directly again
        #[arg(long, conflicts_with_all = ["slack_webhook", "channel"])]
        clear: bool,
    },
    /// A read-only page of the program at a signed, expiring link (owners and editors):
    /// `program share atlas --days 30`; `--list` shows its links, `--revoke ID` ends one
    Share {
        #[command(flatten)]
        program: ProgramArg,
        /// Days the link works, 1 to 365 (default 14)
        #[arg(long, conflicts_with_all = ["list", "revoke", "revoke_all"])]
        days: Option<u32>,
        /// The program's links: who made each, until when, when each was last opened
        #[arg(long, conflicts_with_all = ["revoke", "revoke_all"])]
        list: bool,
        /// End one link, by the id `--list` shows
        #[arg(long, value_name = "ID", conflicts_with = "revoke_all")]
        revoke: Option<String>,
        /// End every live link of the program
        #[arg(long)]
        revoke_all: bool,
    },
    /// The program's calendar feed (milestones and need-by dates): its address, with a
    /// secret token made the first time; `--rotate` replaces the token
    IcalToken {
        #[command(flatten)]
        program: ProgramArg,
        /// Make a new token: the old feed address stops working
        #[arg(long)]
        rotate: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CharterCmd {
    /// Show the charter
    Show(ProgramArg),
    /// Set parts of the charter
    Set {
        #[command(flatten)]
        program: ProgramArg,
        #[arg(long)]
        goal: Option<Prose>,
        #[arg(long)]
        scope_in: Option<Prose>,
        #[arg(long)]
        scope_out: Option<Prose>,
        #[arg(long)]
        metrics: Option<Prose>,
        #[arg(long)]
        stakeholders: Option<Prose>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectCmd {
    /// Add a project: `project add atlas api --name "Public API" --owner @dana`
    Add {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        name: Option<Title>,
        /// The lead (default: you)
        #[arg(long)]
        owner: Option<PersonRef>,
        /// The record's id in the tracker it comes from; importing again finds it by this
        #[arg(long, value_name = "ID")]
        external_id: Option<ExternalId>,
    },
    /// List projects
    List {
        #[command(flatten)]
        program: ProgramArg,
        /// Include removed projects
        #[arg(long)]
        all: bool,
    },
    /// Show a project with its milestones, dependencies and latest status
    Show(Target),
    /// Change a project's name or owner
    Set {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        name: Option<Title>,
        #[arg(long)]
        owner: Option<PersonRef>,
        /// Add a holiday of this team, on top of the program's (repeatable)
        #[arg(long)]
        holiday: Vec<DateSpec>,
        /// Remove one of this team's holidays (repeatable)
        #[arg(long)]
        no_holiday: Vec<DateSpec>,
    },
    /// Remove a project (its history stays)
    Remove(Target),
}

#[derive(Debug, Subcommand)]
pub enum PersonCmd {
    /// Set a person's timezone, name, time away or delegate
    Set {
        /// @name, @me or a mention
        person: PersonRef,
        #[arg(long)]
        tz: Option<Timezone>,
        #[arg(long)]
        name: Option<Title>,
        /// Away until this date (inclusive)
        #[arg(long)]
        away: Option<DateSpec>,
        /// Back now: clears time away
        #[arg(long, conflicts_with = "away")]
        back: bool,
        /// Who answers while they are away
        #[arg(long)]
        delegate: Option<PersonRef>,
        #[arg(long, conflicts_with = "delegate")]
        no_delegate: bool,
        /// Their email address, by which imports from trackers find them
        #[arg(long, value_name = "ADDRESS")]
        email: Option<Email>,
        /// Forget their email address
        #[arg(long, conflicts_with = "email")]
        no_email: bool,
    },
    /// Show a person (default: you)
    Show { person: Option<PersonRef> },
    /// Mark someone away: no prompts, and their pings go to their delegate
    Away {
        /// @name, @me or a mention
        person: PersonRef,
        /// The last day away (inclusive)
        #[arg(long)]
        until: Option<DateSpec>,
        /// Back now
        #[arg(long, conflicts_with = "until")]
        back: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MilestoneCmd {
    /// Add a milestone: `milestone add atlas api-beta --title "API beta" --target 2026-12-15`
    Add {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        title: Option<Title>,
        /// The committed date; it is also the baseline
        #[arg(long = "target", value_name = "DATE")]
        date: DateSpec,
        /// The project it belongs to
        #[arg(long)]
        project: Option<Key>,
        /// Milestones that must finish first (comma-separated or repeated)
        #[arg(long, value_delimiter = ',')]
        after: Vec<Key>,
        /// Working days (the program's work days, less holidays) after its predecessors finish
        #[arg(long)]
        duration: Option<Days>,
        /// Default: the project's owner
        #[arg(long)]
        owner: Option<PersonRef>,
        /// A key milestone: one executives track (listed in the executive digest).
        /// `--key` for short
        #[arg(long = "key-milestone", visible_alias = "key")]
        key: bool,
        /// The record's id in the tracker it comes from; importing again finds it by this
        #[arg(long, value_name = "ID")]
        external_id: Option<ExternalId>,
    },
    /// Change a milestone: `milestone set atlas api-beta --after auth-ready --duration 5`
    Set {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        title: Option<Title>,
        #[arg(long)]
        owner: Option<PersonRef>,
        /// Move it to another project
        #[arg(long)]
        project: Option<Key>,
        /// Working days after its predecessors finish (0 clears it)
        #[arg(long)]
        duration: Option<Days>,
        /// Replace its predecessors (comma-separated; `--after none` clears them)
        #[arg(long, value_delimiter = ',', conflicts_with_all = ["after_add", "after_drop"])]
        after: Option<Vec<String>>,
        /// Add one predecessor
        #[arg(long, value_name = "KEY")]
        after_add: Vec<Key>,
        /// Remove one predecessor
        #[arg(long, value_name = "KEY")]
        after_drop: Vec<Key>,
        /// Make it a key milestone (`--key` for short)
        #[arg(
            long = "key-milestone",
            visible_alias = "key",
            conflicts_with = "no_key"
        )]
        make_key: bool,
        /// No longer a key milestone
        #[arg(long)]
        no_key: bool,
    },
    /// List milestones
    List {
        #[command(flatten)]
        program: ProgramArg,
        #[arg(long)]
        project: Option<Key>,
    },
    /// Show a milestone with its slips
    Show(Target),
    /// Move a milestone's target date; the slip is recorded with its reason
    Move {
        #[command(flatten)]
        target: Target,
        #[arg(long = "target", value_name = "DATE")]
        date: DateSpec,
        #[arg(long)]
        reason: Prose,
    },
    /// Mark a milestone done
    Done {
        #[command(flatten)]
        target: Target,
        /// Completion date (default: today)
        #[arg(long)]
        on: Option<DateSpec>,
    },
    /// Cancel a milestone
    Cancel {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        reason: Prose,
    },
}

#[derive(Debug, Subcommand)]
pub enum DepCmd {
    /// Add a dependency: `dep add atlas --needs frontend --from api --what "Auth endpoints" --by 2026-12-01`
    Add {
        #[command(flatten)]
        program: ProgramArg,
        /// The project or milestone that needs the deliverable
        #[arg(long)]
        needs: Key,
        /// The project or milestone that provides it
        #[arg(
            long,
            required_unless_present = "external",
            conflicts_with = "external"
        )]
        from: Option<Key>,
        /// A provider outside the program, e.g. "Legal review"
        #[arg(long)]
        external: Option<Title>,
        /// The deliverable
        #[arg(long)]
        what: Title,
        /// The need-by date
        #[arg(long)]
        by: DateSpec,
        /// Who provides it (default: the provider's owner)
        #[arg(long)]
        owner: Option<PersonRef>,
        /// Already agreed with the providing team: no request is sent
        #[arg(long)]
        accepted: bool,
        /// The record's id in the tracker it comes from; importing again finds it by this
        #[arg(long, value_name = "ID")]
        external_id: Option<ExternalId>,
    },
    /// List dependencies
    List {
        #[command(flatten)]
        program: ProgramArg,
        /// Only those not yet delivered
        #[arg(long)]
        open: bool,
    },
    /// Show a dependency
    Show(Numbered),
    /// Change a dependency's deliverable, date, owner, state (open, at-risk) or ends
    Set {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        what: Option<Title>,
        #[arg(long)]
        by: Option<DateSpec>,
        #[arg(long)]
        owner: Option<PersonRef>,
        #[arg(long)]
        state: Option<DepState>,
        /// The project or milestone that needs it
        #[arg(long)]
        needs: Option<Key>,
        /// The project or milestone that provides it
        #[arg(long, conflicts_with = "external")]
        from: Option<Key>,
        /// A provider outside the program
        #[arg(long)]
        external: Option<Title>,
    },
    /// Cancel a dependency that is no longer needed: it stays in the history, out of the
    /// analysis
    Cancel {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        reason: Prose,
    },
    /// Mark a dependency blocked; its owner will be pinged
    Block {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        reason: Prose,
    },
    /// Clear a block
    Unblock(Numbered),
    /// Mark a dependency delivered
    Deliver {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        on: Option<DateSpec>,
    },
    /// Accept a requested dependency, optionally committing to a date (the provider's owner,
    /// their delegate or an editor)
    Accept {
        #[command(flatten)]
        target: Numbered,
        /// The date the provider commits to deliver by
        #[arg(long)]
        by: Option<DateSpec>,
    },
    /// Answer a requested dependency with another date
    Propose {
        #[command(flatten)]
        target: Numbered,
        /// The date the provider can deliver by
        #[arg(long)]
        by: DateSpec,
        #[arg(long)]
        reason: Prose,
    },
    /// Decline a requested dependency; its consumer is told why
    Decline {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        reason: Prose,
    },
    /// Pause a dependency's blocker pings until a date
    Snooze {
        #[command(flatten)]
        target: Numbered,
        /// The last day of quiet (inclusive)
        #[arg(long)]
        until: DateSpec,
        #[arg(long)]
        reason: Option<Prose>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RiskCmd {
    /// Add a risk: `risk add atlas "Vendor SDK late" --likelihood 4 --impact 5`
    Add {
        #[command(flatten)]
        target: Titled,
        /// 1 (rare) to 5 (almost certain)
        #[arg(long)]
        likelihood: Level,
        /// 1 (minor) to 5 (severe)
        #[arg(long)]
        impact: Level,
        /// Default: you
        #[arg(long)]
        owner: Option<PersonRef>,
        #[arg(long)]
        mitigation: Option<Prose>,
        /// What customers would notice
        #[arg(long)]
        customer_impact: Option<Prose>,
        #[arg(long)]
        project: Option<Key>,
        /// Review it again by this date
        #[arg(long)]
        review_by: Option<DateSpec>,
        /// The record's id in the tracker it comes from; importing again finds it by this
        #[arg(long, value_name = "ID")]
        external_id: Option<ExternalId>,
    },
    /// List risks, worst first
    List {
        #[command(flatten)]
        program: ProgramArg,
        /// Include closed and realized risks
        #[arg(long)]
        all: bool,
    },
    /// Show a risk
    Show(Numbered),
    /// Change a risk
    Set {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        title: Option<Title>,
        #[arg(long)]
        likelihood: Option<Level>,
        #[arg(long)]
        impact: Option<Level>,
        #[arg(long)]
        owner: Option<PersonRef>,
        #[arg(long)]
        mitigation: Option<Prose>,
        #[arg(long)]
        customer_impact: Option<Prose>,
        #[arg(long)]
        review_by: Option<DateSpec>,
        /// open, mitigating, or accepted (kept on the register, out of health; needs --reason)
        #[arg(long)]
        state: Option<RiskState>,
        /// Why the risk is accepted (with --state accepted)
        #[arg(long)]
        reason: Option<Prose>,
    },
    /// Close a risk that can no longer happen
    Close {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        reason: Option<Prose>,
    },
    /// Record that a risk happened
    Realize {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        note: Option<Prose>,
    },
    /// Pause a risk's review reminders until a date
    Snooze {
        #[command(flatten)]
        target: Numbered,
        /// The last day of quiet (inclusive)
        #[arg(long)]
        until: DateSpec,
        #[arg(long)]
        reason: Option<Prose>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DecisionCmd {
    /// Log a decision: `decision add atlas "Ship without SSO" --outcome "SSO in v2"`; without
    /// --outcome it is pending, and the weekly sync agenda lists it
    Add {
        #[command(flatten)]
        target: Titled,
        #[arg(long)]
        context: Option<Prose>,
        #[arg(long)]
        options: Option<Prose>,
        #[arg(long)]
        outcome: Option<Prose>,
        /// Who decided (default: you)
        #[arg(long)]
        by: Option<PersonRef>,
        /// When (default: today)
        #[arg(long)]
        on: Option<DateSpec>,
        /// Who must take a pending decision; they are reminded before --decide-by
        #[arg(long, conflicts_with = "outcome")]
        decider: Option<PersonRef>,
        /// The date a pending decision is needed by
        #[arg(long, conflicts_with = "outcome")]
        decide_by: Option<DateSpec>,
    },
    /// Record the outcome of a pending decision: `decision decide atlas 2 --outcome "EU only"`
    Decide {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        outcome: Prose,
        /// Who decided (default: you)
        #[arg(long)]
        by: Option<PersonRef>,
        /// When (default: today)
        #[arg(long)]
        on: Option<DateSpec>,
    },
    /// Change a decision's title, context or options (its outcome stays: log a new
    /// decision to change one)
    Set {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        title: Option<Title>,
        #[arg(long)]
        context: Option<Prose>,
        #[arg(long)]
        options: Option<Prose>,
    },
    /// List decisions
    List(ProgramArg),
    /// Show a decision: its context, options, outcome, who decided and when
    Show(Numbered),
}

#[derive(Debug, Subcommand)]
pub enum AssumptionCmd {
    /// Record an assumption: `assumption add atlas "EU data centre ready by March" --owner @ira --validate-by 2027-01-15`
    Add {
        #[command(flatten)]
        target: Titled,
        /// Who validates it; reminded when the date comes
        #[arg(long)]
        owner: PersonRef,
        /// The date it must be validated by
        #[arg(long)]
        validate_by: DateSpec,
        #[arg(long)]
        project: Option<Key>,
        /// The record's id in the tracker it comes from; importing again finds it by this
        #[arg(long, value_name = "ID")]
        external_id: Option<ExternalId>,
    },
    /// List assumptions (open ones; --all for every one)
    List {
        #[command(flatten)]
        program: ProgramArg,
        #[arg(long)]
        all: bool,
    },
    /// Show an assumption
    Show(Numbered),
    /// It holds
    Validate {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        note: Option<Prose>,
    },
    /// It does not hold; --raise makes it a risk or an issue
    Invalidate {
        #[command(flatten)]
        target: Numbered,
        /// What was found
        #[arg(long)]
        note: Prose,
        /// Record what it means: a risk (likelihood 3, impact 3, to score) or an issue
        #[arg(long)]
        raise: Option<Raise>,
    },
}

#[derive(Debug, Subcommand)]
pub enum IssueCmd {
    /// Record an issue: `issue add atlas "Staging down" --owner @dana --severity high`
    Add {
        #[command(flatten)]
        target: Titled,
        #[arg(long)]
        owner: PersonRef,
        /// low, medium, high or critical: high makes its project amber, critical red
        #[arg(long)]
        severity: Severity,
        #[arg(long)]
        project: Option<Key>,
        /// When it must be resolved by
        #[arg(long)]
        due: Option<DateSpec>,
        /// The record's id in the tracker it comes from; importing again finds it by this
        #[arg(long, value_name = "ID")]
        external_id: Option<ExternalId>,
    },
    /// List issues (open ones; --all for every one)
    List {
        #[command(flatten)]
        program: ProgramArg,
        #[arg(long)]
        all: bool,
    },
    /// Show an issue
    Show(Numbered),
    /// Change an open issue's title, owner, severity, project or due date
    Set {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        title: Option<Title>,
        #[arg(long)]
        owner: Option<PersonRef>,
        #[arg(long)]
        severity: Option<Severity>,
        #[arg(long)]
        project: Option<Key>,
        #[arg(long)]
        due: Option<DateSpec>,
    },
    /// Resolve an issue, saying how
    Resolve {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        note: Prose,
    },
}

#[derive(Debug, Subcommand)]
pub enum ActionCmd {
    /// Record an action item: `action add atlas "Send the EU plan" --owner @li --due fri --for decision:2`
    Add {
        #[command(flatten)]
        target: Titled,
        #[arg(long)]
        owner: PersonRef,
        #[arg(long)]
        due: DateSpec,
        /// What it is for: decision:N, risk:N, issue:N or dep:N
        #[arg(long = "for", value_name = "KIND:N")]
        for_: Option<Link>,
        #[arg(long)]
        project: Option<Key>,
        /// The record's id in the tracker it comes from; importing again finds it by this
        #[arg(long, value_name = "ID")]
        external_id: Option<ExternalId>,
    },
    /// List open action items (--mine: yours; --overdue: past their due date; --all: done too)
    List {
        #[command(flatten)]
        program: ProgramArg,
        #[arg(long)]
        mine: bool,
        #[arg(long)]
        overdue: bool,
        #[arg(long)]
        all: bool,
    },
    /// Show an action item
    Show(Numbered),
    /// Mark an action item done
    Done {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        note: Option<Prose>,
    },
    /// Change an open action item's title, owner or due date
    Set {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        title: Option<Title>,
        #[arg(long)]
        owner: Option<PersonRef>,
        #[arg(long)]
        due: Option<DateSpec>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReadinessCmd {
    /// Add a checklist item: `readiness add atlas "Runbook reviewed" --owner @li --milestone ga`
    Add {
        #[command(flatten)]
        target: Titled,
        #[arg(long)]
        owner: PersonRef,
        /// The milestone it gates (default: the program's launch)
        #[arg(long, value_name = "KEY")]
        milestone: Option<Key>,
        #[arg(long)]
        due: Option<DateSpec>,
    },
    /// Check an item off
    Check(Numbered),
    /// Uncheck an item that turned out not to be done
    Uncheck(Numbered),
    /// The checklist: every item, or those gating one milestone
    Show {
        /// The program key (optional in a channel bound to a program)
        #[arg(value_name = "PROGRAM")]
        first: Option<String>,
        /// The milestone
        #[arg(value_name = "MILESTONE")]
        second: Option<String>,
    },
}

/// `KEY:DATE`: a milestone's new target in a change request.
#[derive(Debug, Clone)]
pub struct MoveSpec {
    pub milestone: Key,
    pub to: DateSpec,
}

impl std::str::FromStr for MoveSpec {
    type Err = crate::domain::Invalid;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let Some((key, date)) = raw.split_once(':') else {
            return Err(crate::domain::Invalid(format!(
                "`{}` is not a move: write it as MILESTONE:DATE, e.g. api-beta:2027-01-15",
                crate::domain::truncate_for_error(raw)
            )));
        };
        Ok(MoveSpec {
            milestone: Key::parse(key.trim())?,
            to: DateSpec::parse(date.trim())?,
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum ChangeCmd {
    /// Propose a change and see what it moves: `change propose atlas "Cut SSO" --why "vendor late" --move api-beta:2027-01-22`
    Propose {
        #[command(flatten)]
        target: Titled,
        /// Why it is needed
        #[arg(long)]
        why: Prose,
        /// A milestone's new target, MILESTONE:DATE (repeatable)
        #[arg(long = "move", value_name = "MILESTONE:DATE")]
        moves: Vec<MoveSpec>,
        /// What leaves the scope
        #[arg(long)]
        scope_out: Option<Prose>,
        /// Who may approve it besides the program owner
        #[arg(long)]
        decider: Option<PersonRef>,
    },
    /// List change requests
    List(ProgramArg),
    /// Show a change request and what it would move
    Show(Numbered),
    /// Approve it: its moves become slips with it as their reason, and a decision is logged
    Approve {
        #[command(flatten)]
        target: Numbered,
        /// Make the new dates the baseline of record
        #[arg(long)]
        rebaseline: bool,
    },
    /// Reject it, saying why
    Reject {
        #[command(flatten)]
        target: Numbered,
        #[arg(long)]
        reason: Prose,
    },
}

#[derive(Debug, Subcommand)]
pub enum StatusCmd {
    /// Post a project's status: `status post atlas api --rag amber --summary "…"`
    Post {
        #[command(flatten)]
        target: ForProject,
        #[arg(long)]
        rag: Rag,
        #[arg(long)]
        summary: Prose,
        #[arg(long)]
        blockers: Option<Prose>,
        #[arg(long = "next")]
        next_steps: Option<Prose>,
    },
    /// List status updates, newest first
    List {
        #[command(flatten)]
        target: ForProject,
        #[arg(long, default_value_t = 20)]
        limit: u16,
    },
    /// Projects whose latest update is missing or stale
    Missing(ProgramArg),
}

#[derive(Debug, Subcommand)]
pub enum DigestCmd {
    /// Show a digest: `digest show atlas --audience executive`
    Show {
        #[command(flatten)]
        program: ProgramArg,
        /// A portfolio's digest instead: every program of it, one block each
        #[arg(long, value_name = "KEY", conflicts_with = "program")]
        portfolio: Option<Key>,
        /// engineering (everything), executive (one screen) or product (dates and customers)
        #[arg(long, default_value = "engineering")]
        audience: Audience,
        /// text, markdown, or the payload sent to a platform: discord, slack, json
        #[arg(long, default_value = "text")]
        format: Format,
        /// Start of the period (default: a week ago)
        #[arg(long, allow_hyphen_values = true)]
        since: Option<DateSpec>,
    },
    /// Send a digest on a schedule:
    /// `digest subscribe atlas --audience executive --slack-webhook URL`
    Subscribe {
        #[command(flatten)]
        program: ProgramArg,
        /// Subscribe to a portfolio's digest instead (executive or engineering)
        #[arg(long, value_name = "KEY", conflicts_with = "program")]
        portfolio: Option<Key>,
        #[arg(long, default_value = "engineering")]
        audience: Audience,
        /// When: crontab or `weekly fri 16:00`, `weekdays 09:00`
        #[arg(long, default_value = "weekly fri 16:00", value_name = "SPEC")]
        at: String,
        /// A Slack incoming-webhook URL (stored, never shown in full)
        #[arg(long, visible_alias = "webhook", value_name = "URL")]
        slack_webhook: Option<String>,
        /// A channel (default: the program's bound channel)
        #[arg(long, conflicts_with = "slack_webhook")]
        channel: Option<String>,
    },
    /// Write the summary that leads the next digest:
    /// `digest note atlas --audience executive "Beta holds; EU launch needs a decision"`
    Note {
        #[command(flatten)]
        target: Noted,
        #[arg(long, default_value = "executive")]
        audience: Audience,
    },
}

#[derive(Debug, Subcommand)]
pub enum PathCmd {
    /// The critical chain, with forecasts and float, then the near-critical milestones:
    /// `path show atlas --near 5`
    Show {
        #[command(flatten)]
        program: ProgramArg,
        /// List milestones off the chain with at most this many working days of float
        #[arg(long, default_value_t = 5)]
        near: u32,
    },
    /// What moves if a milestone slips: `path whatif atlas api-beta --slip 5`
    Whatif {
        #[command(flatten)]
        target: Target,
        /// How many days later than forecast it finishes (`5`, `5d`, `1w`)
        #[arg(long)]
        slip: Days,
    },
    /// The dependency map between projects: `path map atlas --format dot`
    Map {
        #[command(flatten)]
        program: ProgramArg,
        /// mermaid (text for Markdown), dot (Graphviz) or png (a picture)
        #[arg(long, default_value = "mermaid")]
        format: MapFormat,
        /// Write it to this file (console and `drumbeat exec` only)
        #[arg(long, value_name = "FILE")]
        out: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChartCmd {
    /// Draw a chart as PNG or SVG: `chart show atlas timeline` (timeline, risks, deps or trend)
    Show {
        #[command(flatten)]
        target: ChartTarget,
        /// The trend's span in weeks, 1 to 52 (default 8)
        #[arg(long)]
        weeks: Option<u16>,
        /// png (the default) or svg
        #[arg(long, value_name = "FORMAT")]
        format: Option<String>,
        /// Write the picture to this file (console and `drumbeat exec` only)
        #[arg(long, value_name = "FILE")]
        out: Option<String>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub program: ProgramArg,
    /// Write the report as Markdown to this file (console and `drumbeat exec` only); the
    /// status report to a `.html` file is the program's page, as its share link shows it
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// The charter: goal, scope, success metrics, stakeholders, teams, key dates
    Charter(ReportArgs),
    /// The long-form status report
    Status {
        #[command(flatten)]
        args: ReportArgs,
        /// Start of the "changes" period (default: a week ago)
        #[arg(long, allow_hyphen_values = true)]
        since: Option<DateSpec>,
    },
    /// The weekly sync agenda: decisions, blockers, milestones and risks due, missing updates
    Agenda(ReportArgs),
    /// Go or no-go for a milestone: its checklist, open risks and issues, dependencies not
    /// delivered, decisions pending
    Readiness {
        #[command(flatten)]
        target: Target,
        /// Write the report as Markdown to this file (console and `drumbeat exec` only)
        #[arg(long, value_name = "FILE")]
        out: Option<String>,
    },
    /// The post-mortem of the program, or of one milestone with `--milestone KEY`
    Postmortem {
        #[command(flatten)]
        args: ReportArgs,
        #[arg(long, value_name = "KEY")]
        milestone: Option<String>,
        /// Record its action items as real actions, owned and due
        #[arg(long)]
        actions: bool,
    },
    /// Delivery per team: say/do, mean slip, blocker-days caused and suffered, time to
    /// unblock, status prompts answered
    Scorecard {
        #[command(flatten)]
        args: ReportArgs,
        /// How many weeks back to look (default 4)
        #[arg(long, default_value_t = 4)]
        weeks: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCmd {
    /// Set a schedule: `schedule set atlas digest "weekly fri 16:00" --audience executive`
    Set {
        /// `[PROGRAM] KIND SPEC`: KIND is prompt, reminder, digest or nudge; SPEC is 5-field
        /// crontab or `daily 09:30`, `weekdays 10:00`, `weekly fri 16:00`
        #[arg(num_args = 2..=3, value_name = "[PROGRAM] KIND SPEC", required = true)]
        words: Vec<String>,
        /// Digests: engineering, executive or product
        #[arg(long)]
        audience: Option<Audience>,
        /// Digests: the channel to post to (default: the program's bound channel)
        #[arg(long)]
        channel: Option<String>,
        /// Digests: a Slack incoming-webhook URL to post to
        #[arg(long, conflicts_with = "channel", visible_alias = "slack-webhook")]
        webhook: Option<String>,
    },
    /// The program's schedules with their next runs, and the latest runs
    Show(ProgramArg),
    /// Remove a schedule by its number in `schedule show`
    Remove {
        #[command(flatten)]
        target: Numbered,
    },
    /// When a spec fires: `schedule preview "0 9 * * mon" --tz America/New_York --count 5`
    Preview {
        spec: ScheduleSpec,
        #[arg(long, default_value = "UTC")]
        tz: Timezone,
        /// Start after this instant (RFC 3339, default: now)
        #[arg(long)]
        from: Option<chrono::DateTime<chrono::FixedOffset>>,
        #[arg(long, default_value_t = 5)]
        count: u16,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// Messages of a program waiting to go out (or dead ones with --dead)
    List {
        #[command(flatten)]
        program: ProgramArg,
        #[arg(long)]
        dead: bool,
        #[arg(long, default_value_t = 20)]
        limit: u16,
    },
    /// Send a dead message again
    Retry {
        #[command(flatten)]
        target: Numbered,
    },
}

impl Command {
    /// `dep add`: what a batch plan may run many times on one reading of the schedule.
    /// Whether a batch (an import) may carry what earlier lines looked up (the program,
    /// the actor, people found by name) across this line: lines that add or change
    /// records, and change neither people, roles, projects nor the program itself.
    pub fn keeps_batch(&self) -> bool {
        matches!(
            self,
            Command::Milestone(_)
                | Command::Dep(_)
                | Command::Risk(_)
                | Command::Assumption(_)
                | Command::Issue(_)
                | Command::Action(_)
        )
    }

    /// Whether a batch may keep its reading of the schedule across this line (see
    /// `PlanMemo`): `dep add` and `milestone add`, which change nothing but what they add.
    pub fn keeps_memo(&self) -> bool {
        matches!(
            self,
            Command::Dep(DepCmd::Add { .. }) | Command::Milestone(MilestoneCmd::Add { .. })
        )
    }

    /// Whether its answer reads and analyses the whole program: platforms with a reply
    /// deadline (Discord's and Slack's 3 s) acknowledge these first and answer after.
    pub fn is_slow(&self) -> bool {
        matches!(
            self,
            Command::Digest(DigestCmd::Show { .. })
                | Command::Portfolio(PortfolioCmd::Show { .. })
                | Command::Report(_)
                | Command::Path(_)
                | Command::Chart(_)
        )
    }

    /// The channel a command names with `--channel` as where messages will go, which must be
    /// checked to belong to the tenant before anything is stored.
    pub fn channel_named(&self) -> Option<&str> {
        match self {
            Command::Program(ProgramCmd::Route { channel, .. })
            | Command::Digest(DigestCmd::Subscribe { channel, .. })
            | Command::Schedule(ScheduleCmd::Set { channel, .. }) => channel.as_deref(),
            _ => None,
        }
    }

    /// Whether the command changes state, and so takes the write lock.
    pub fn is_write(&self) -> bool {
        match self {
            Command::Program(c) => match c {
                ProgramCmd::List { .. } | ProgramCmd::Show(_) => false,
                ProgramCmd::Route {
                    slack_webhook,
                    channel,
                    clear,
                    ..
                } => slack_webhook.is_some() || channel.is_some() || *clear,
                // The first look makes the token.
                ProgramCmd::IcalToken { .. } => true,
                ProgramCmd::Share { list, .. } => !list,
                _ => true,
            },
            Command::Portfolio(c) => !matches!(
                c,
                PortfolioCmd::Show { .. }
                    | PortfolioCmd::List
                    | PortfolioCmd::Share { list: true, .. }
            ),
            Command::Charter(c) => matches!(c, CharterCmd::Set { .. }),
            Command::Project(c) => !matches!(c, ProjectCmd::List { .. } | ProjectCmd::Show(_)),
            Command::Person(c) => matches!(c, PersonCmd::Set { .. } | PersonCmd::Away { .. }),
            Command::Milestone(c) => {
                !matches!(c, MilestoneCmd::List { .. } | MilestoneCmd::Show(_))
            }
            Command::Dep(c) => !matches!(c, DepCmd::List { .. } | DepCmd::Show(_)),
            Command::Risk(c) => !matches!(c, RiskCmd::List { .. } | RiskCmd::Show(_)),
            Command::Assumption(c) => {
                !matches!(c, AssumptionCmd::List { .. } | AssumptionCmd::Show(_))
            }
            Command::Issue(c) => !matches!(c, IssueCmd::List { .. } | IssueCmd::Show(_)),
            Command::Action(c) => !matches!(c, ActionCmd::List { .. } | ActionCmd::Show(_)),
            Command::Change(c) => !matches!(c, ChangeCmd::List(_) | ChangeCmd::Show(_)),
            Command::Decision(c) => !matches!(c, DecisionCmd::List(_) | DecisionCmd::Show(_)),
            Command::Status(c) => matches!(c, StatusCmd::Post { .. }),
            Command::Digest(c) => matches!(c, DigestCmd::Subscribe { .. } | DigestCmd::Note { .. }),
            Command::Readiness(c) => !matches!(c, ReadinessCmd::Show { .. }),
            Command::Report(c) => matches!(c, ReportCmd::Postmortem { actions: true, .. }),
            Command::Path(_) | Command::Chart(_) | Command::Inbox { .. } => false,
            Command::Schedule(c) => {
                matches!(c, ScheduleCmd::Set { .. } | ScheduleCmd::Remove { .. })
            }
            Command::Outbox(c) => matches!(c, OutboxCmd::Retry { .. }),
            Command::Help { .. } => false,
        }
    }

    /// A write that only adds a status update under one project: owners answering a prompt
    /// at once must not queue behind each other, so it holds its program's row shared (see
    /// [`crate::store::ProgramLock`]).
    pub fn shares_program(&self) -> bool {
        matches!(self, Command::Status(StatusCmd::Post { .. }))
    }

    /// `area verb`, for logs and metrics.
    pub fn name(&self) -> String {
        let (area, sub) = match self {
            Command::Program(c) => ("program", subcommand_name(c)),
            Command::Portfolio(c) => ("portfolio", subcommand_name(c)),
            Command::Charter(c) => ("charter", subcommand_name(c)),
            Command::Project(c) => ("project", subcommand_name(c)),
            Command::Person(c) => ("person", subcommand_name(c)),
            Command::Milestone(c) => ("milestone", subcommand_name(c)),
            Command::Dep(c) => ("dep", subcommand_name(c)),
            Command::Risk(c) => ("risk", subcommand_name(c)),
            Command::Assumption(c) => ("assumption", subcommand_name(c)),
            Command::Issue(c) => ("issue", subcommand_name(c)),
            Command::Action(c) => ("action", subcommand_name(c)),
            Command::Change(c) => ("change", subcommand_name(c)),
            Command::Readiness(c) => ("readiness", subcommand_name(c)),
            Command::Inbox { .. } => return "inbox".into(),
            Command::Decision(c) => ("decision", subcommand_name(c)),
            Command::Status(c) => ("status", subcommand_name(c)),
            Command::Digest(c) => ("digest", subcommand_name(c)),
            Command::Path(c) => ("path", subcommand_name(c)),
            Command::Report(c) => ("report", subcommand_name(c)),
            Command::Chart(c) => ("chart", subcommand_name(c)),
            Command::Schedule(c) => ("schedule", subcommand_name(c)),
            Command::Outbox(c) => ("outbox", subcommand_name(c)),
            Command::Help { .. } => return "help".into(),
        };
        format!("{area} {sub}")
    }
}

fn subcommand_name<T: std::fmt::Debug>(c: &T) -> String {
    /// Keeps the variant name that `Debug` writes first and stops the rest: a command is
    /// named on every run (metrics), and its arguments can be long.
    struct VariantName(String);
    impl std::fmt::Write for VariantName {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            for ch in s.chars() {
                if !ch.is_alphanumeric() {
                    return Err(std::fmt::Error);
                }
                // Variant names are the subcommand names in CamelCase: `IcalToken` is
                // `ical-token`.
                if ch.is_uppercase() && !self.0.is_empty() {
                    self.0.push('-');
                }
                self.0.push(ch.to_ascii_lowercase());
            }
            Ok(())
        }
    }
    let mut name = VariantName(String::new());
    let _ = std::fmt::write(&mut name, format_args!("{c:?}"));
    name.0
}

/// What the text parsed to: a command to run, or help to show.
#[derive(Debug)]
pub enum Parsed {
    Run(Command),
    Help(String),
}

/// A parse failure, ready to show to the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Parses one line of the command language.
pub fn parse(text: &str) -> Result<Parsed, ParseError> {
    parse_argv(&split_words(text)?)
}

/// Parses words already split, as a platform's typed options give them: no quoting rules
/// apply, so a value may hold anything.
pub fn parse_argv(words: &[String]) -> Result<Parsed, ParseError> {
    if words.is_empty() {
        return Ok(Parsed::Help(overview()));
    }
    match parse_words(words) {
        Ok(line) => match line.command {
            Command::Help { topic } => help(&topic).map(Parsed::Help),
            command => Ok(Parsed::Run(command)),
        },
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp => Ok(Parsed::Help(e.to_string())),
            _ => {
                use std::error::Error as _;
                Err(ParseError(tidy_clap_error(&e.to_string(), e.source())))
            }
        },
    }
}

thread_local! {
    /// The clap command tree, built once per thread: building (or cloning) it costs more
    /// than the parse itself. `try_get_matches_from_mut` leaves it reusable.
    static COMMAND: std::cell::RefCell<clap::Command> = std::cell::RefCell::new({
        let mut cmd = Line::command();
        cmd.build();
        cmd
    });
}

fn parse_words(words: &[String]) -> Result<Line, clap::Error> {
    let matches = COMMAND.with(|cmd| cmd.borrow_mut().try_get_matches_from_mut(words))?;
    <Line as clap::FromArgMatches>::from_arg_matches(&matches)
}

/// Splits a line into words, honouring quotes. Curly double quotes, which chat clients
/// put in for straight ones, count as straight quotes.
pub fn split_words(text: &str) -> Result<Vec<String>, ParseError> {
    let normalised: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '\u{201C}' | '\u{201D}' | '\u{201E}' => '"',
            c => c,
        })
        .collect();
    let mut words = shlex::split(&normalised).ok_or_else(|| {
        ParseError("a quote is not closed: put text with spaces in matching quotes, e.g. --title \"API beta\"".into())
    })?;
    if let Some(first) = words.first() {
        if first == "/drumbeat" || first == "drumbeat" {
            words.remove(0);
        }
    }
    Ok(words)
}

fn tidy_clap_error(raw: &str, source: Option<&dyn std::error::Error>) -> String {
    let msg = raw.trim().strip_prefix("error: ").unwrap_or(raw.trim());
    // Usage lines help; the generic "try --help" tail does not name our `help` command.
    let msg = msg
        .replace("\n\nFor more information, try '--help'.", "")
        .replace("For more information, try '--help'.", "");
    let msg = msg.trim_end();
    // A value our parser refused ends with our own message, already shortened and escaped;
    // only clap's part before it is ours to shorten.
    match source.map(ToString::to_string) {
        Some(ours) if !ours.is_empty() && msg.ends_with(&ours) => {
            let head = &msg[..msg.len() - ours.len()];
            format!("{}{ours}", shorten_quoted(head))
        }
        _ => shorten_quoted(msg),
    }
}

/// Clap quotes what it echoes in `'…'`: each such piece is shortened and escaped as our own
/// errors are, so a pasted page or a control character comes back harmless.
fn shorten_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(2000));
    let mut rest = msg;
    while let Some(open) = rest.find('\'') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        match rest.find('\'') {
            Some(close) => {
                out.push_str(&crate::domain::truncate_for_error(&rest[..close]));
                out.push('\'');
                rest = &rest[close + 1..];
            }
            None => {
                out.push_str(&crate::domain::truncate_for_error(rest));
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The overview: every area with its one-line description.
pub fn overview() -> String {
    let cmd = Line::command();
    let mut out =
        String::from("Drumbeat commands. `help AREA` shows an area's commands and options.\n\n");
    for sub in cmd.get_subcommands() {
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        out.push_str(&format!("  {:<10} {about}\n", sub.get_name()));
    }
    out.push_str(
        "\nDates: ISO (2026-12-15), today, tomorrow, a weekday (fri) or an offset (+3d, +2w).\n\
         People: @name, @me, or a platform mention (<@123>, <@U123>).\n\
         In a channel bound to a program (`program bind KEY`) the program key may be left out.\n",
    );
    out
}

/// Help for an area or one command: `help milestone`, `help milestone add`.
pub fn help(topic: &[String]) -> Result<String, ParseError> {
    if topic.is_empty() {
        return Ok(overview());
    }
    let mut cmd = Line::command();
    cmd.build();
    let mut current = &mut cmd;
    let mut path = Vec::new();
    for word in topic {
        path.push(word.as_str());
        let names: Vec<String> = current
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        current = current.find_subcommand_mut(word).ok_or_else(|| {
            ParseError(format!(
                "there is no command `{}`: choose from {}",
                path.join(" "),
                names.join(", ")
            ))
        })?;
    }
    let mut current = current.clone().bin_name(path.join(" "));
    Ok(current.render_long_help().to_string())
}

/// The whole clap tree, built: what platforms read to register typed commands.
pub fn line_command() -> clap::Command {
    let mut cmd = Line::command();
    cmd.build();
    cmd
}

/// The names of every area and subcommand, for platform registration and tests.
pub fn command_tree() -> Vec<(String, Vec<String>)> {
    Line::command()
        .get_subcommands()
        .map(|area| {
            (
                area.get_name().to_owned(),
                area.get_subcommands()
                    .map(|s| s.get_name().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Command {
        match parse(text) {
            Ok(Parsed::Run(c)) => c,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Err(ParseError(m)) => m,
            other => panic!("{text} should fail: {other:?}"),
        }
    }

    #[test]
    fn design_examples_parse() {
        for line in [
            r#"program create atlas --name "Atlas cloud launch" --tz Europe/Berlin"#,
            r#"project add atlas api --name "Public API" --owner @dana"#,
            r#"milestone add atlas api-beta --title "API beta" --target 2026-12-15 --project api --after auth-ready --duration 10"#,
            r#"milestone move atlas api-beta --target 2026-12-22 --reason "load test failed""#,
            r#"dep add atlas --needs frontend --from api --what "Auth endpoints" --by 2026-12-01 --owner @dana"#,
            r#"dep block atlas 3 --reason "waiting on security review""#,
            r#"risk add atlas "Vendor SDK late" --likelihood 4 --impact 5 --owner @li --mitigation "fallback to REST""#,
            r#"status post atlas api --rag amber --summary "Beta on track, perf risk" --blockers "none""#,
        ] {
            run(line);
        }
    }

    #[test]
    fn program_may_be_left_out() {
        let Command::Milestone(MilestoneCmd::Move { target, .. }) =
            run("milestone move api-beta --target +1w --reason slow")
        else {
            panic!()
        };
        assert_eq!(target.split().unwrap(), (None, "api-beta"));
        let Command::Milestone(MilestoneCmd::Move { target, .. }) =
            run("milestone move atlas api-beta --target +1w --reason slow")
        else {
            panic!()
        };
        assert_eq!(target.split().unwrap(), (Some("atlas"), "api-beta"));
    }

    #[test]
    fn after_takes_lists() {
        let Command::Milestone(MilestoneCmd::Add { after, .. }) =
            run("milestone add atlas ga --target 2027-01-10 --after a,b --after c")
        else {
            panic!()
        };
        let keys: Vec<&str> = after.iter().map(|k| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }

    #[test]
    fn errors_are_specific() {
        assert!(err("risk add atlas x --likelihood 7 --impact 1").contains("1 to 5"));
        assert!(err("milestone add atlas m --target 2026-13-01").contains("not a date"));
        assert!(err("frobnicate").contains("frobnicate"));
        assert!(err("milestone add atlas m --target 2026-12-01 --colour red").contains("--colour"));
        assert!(err(r#"risk add atlas "unclosed --likelihood 1"#).contains("quote"));
        assert!(err("program create atlas --tz Mars/Base").contains("IANA"));
    }

    #[test]
    fn help_is_reachable() {
        assert!(matches!(parse("help"), Ok(Parsed::Help(h)) if h.contains("milestone")));
        assert!(
            matches!(parse("help milestone add"), Ok(Parsed::Help(h)) if h.contains("--after"))
        );
        assert!(
            matches!(parse("milestone add --help"), Ok(Parsed::Help(h)) if h.contains("--duration"))
        );
        assert!(parse("help nope").unwrap_err().0.contains("choose from"));
    }

    #[test]
    fn the_reused_parser_carries_nothing_between_lines() {
        let Command::Milestone(MilestoneCmd::Add {
            duration, after, ..
        }) = run("milestone add atlas m --target 2026-12-01 --duration 5 --after a")
        else {
            panic!()
        };
        assert_eq!((duration.map(|d| d.get()), after.len()), (Some(5), 1));
        assert!(parse("milestone add atlas m --target nope").is_err());
        assert!(matches!(parse("milestone add --help"), Ok(Parsed::Help(_))));
        let Command::Milestone(MilestoneCmd::Add {
            duration, after, ..
        }) = run("milestone add atlas m --target 2026-12-01")
        else {
            panic!()
        };
        assert_eq!((duration, after.len()), (None, 0));
    }

    #[test]
    fn prefix_and_curly_quotes() {
        run("/drumbeat program create atlas --name \u{201C}Atlas launch\u{201D}");
    }

    #[test]
    fn digests_reports_paths_and_charts_are_slow() {
        for (line, slow) in [
            ("digest show atlas", true),
            ("report agenda atlas", true),
            ("report postmortem atlas", true),
            ("path show atlas", true),
            ("path whatif atlas m --slip 2", true),
            ("path map atlas --format dot", true),
            ("chart show atlas timeline", true),
            ("chart show trend --weeks 4", true),
            ("program show atlas", false),
            ("status missing atlas", false),
            ("milestone list atlas", false),
            ("digest subscribe atlas --channel x", false),
        ] {
            assert_eq!(run(line).is_slow(), slow, "{line}");
        }
    }

    #[test]
    fn every_area_is_listed() {
        let tree = command_tree();
        let areas: Vec<&str> = tree.iter().map(|(a, _)| a.as_str()).collect();
        for want in [
            "program",
            "charter",
            "project",
            "person",
            "milestone",
            "dep",
            "risk",
            "decision",
            "status",
            "help",
        ] {
            assert!(areas.contains(&want), "{want} missing");
        }
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s);
        }

        #[test]
        fn parser_never_panics_on_commandish_input(
            area in proptest::sample::select(vec!["program", "project", "milestone", "dep", "risk", "status", "decision", "charter", "person", "help"]),
            verb in proptest::sample::select(vec!["add", "create", "move", "block", "post", "set", "list", "show", "x"]),
            rest in proptest::collection::vec("[-@<>a-z0-9 \"'+:/]{0,12}", 0..6),
        ) {
            let _ = parse(&format!("{area} {verb} {}", rest.join(" ")));
        }
    }
}
