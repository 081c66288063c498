//! `drumbeat demo`: a realistic sample program, built through the command language the
//! way a TPM and the leads would, printed as a transcript. The scheduled two weeks
//! (prompts, reminders, pings, digests) join it with the scheduler.

use std::sync::Arc;

use anyhow::Context as _;
use chrono::Duration;

use crate::clock::{Clock, FakeClock};
use crate::command::{Actor, CommandError};
use crate::domain::{Key, Tenant};
use crate::outbox::{ConsoleSink, Senders, Worker};
use crate::platform::console::Console;
use crate::platform::slack::WebhookSender;
use crate::schedule::Scheduler;
use crate::store::{self, Store};

/// The TPM of the sample; the tenant admin who creates the program.
const TPM: &str = "tpm";

/// Who types each line, and the line: the changes that build the program. Dates are
/// relative, so the sample is always current.
pub const SETUP: &[(&str, &str)] = &[
    (
        "tpm",
        r#"program create atlas --name "Atlas cloud launch" --tz Europe/Berlin"#,
    ),
    (
        "tpm",
        r#"charter set atlas --goal "Launch the Atlas managed service to GA" --scope-in "Public API, web console, billing" --scope-out "On-prem edition" --metrics "100 paying tenants in Q1; p99 API latency < 200 ms" --stakeholders "CTO, VP Product, Support lead""#,
    ),
    (
        "tpm",
        r#"project add atlas api --name "Public API" --owner @dana"#,
    ),
    (
        "tpm",
        r#"project add atlas frontend --name "Web console" --owner @li"#,
    ),
    (
        "tpm",
        r#"project add atlas billing --name "Billing" --owner @omar"#,
    ),
    (
        "tpm",
        r#"person set @li --tz America/New_York --delegate @sam"#,
    ),
    (
        "tpm",
        r#"milestone add atlas auth-ready --title "Auth endpoints ready" --target +1w --project api"#,
    ),
    (
        "tpm",
        r#"milestone add atlas api-beta --title "API beta" --target +3w --project api --after auth-ready --duration 10"#,
    ),
    (
        "tpm",
        r#"milestone add atlas console-beta --title "Console beta" --target +5w --project frontend --after api-beta --duration 10"#,
    ),
    (
        "tpm",
        r#"milestone add atlas payments-live --title "Payments live" --target +6w --project billing"#,
    ),
    (
        "tpm",
        r#"milestone add atlas ga --title "General availability" --target +9w --after console-beta,payments-live --duration 5"#,
    ),
    (
        "tpm",
        r#"dep add atlas --needs auth-ready --external "Security team" --what "Token format sign-off" --by +6d --owner @dana"#,
    ),
    (
        "tpm",
        r#"dep add atlas --needs payments-live --external "Legal review" --what "Payment processor contract approved" --by +4w"#,
    ),
    (
        "tpm",
        r#"dep add atlas --needs billing --from api --what "Usage metering events" --by +4w"#,
    ),
    (
        "tpm",
        r#"risk add atlas "Payment vendor SDK late" --likelihood 4 --impact 5 --owner @omar --mitigation "Fall back to the REST API" --customer-impact "No self-serve upgrades at GA" --review-by +1w"#,
    ),
    (
        "tpm",
        r#"risk add atlas "Load tests show p99 over budget" --likelihood 3 --impact 4 --owner @dana --project api --mitigation "Cache token introspection""#,
    ),
    (
        "tpm",
        r#"decision add atlas "Ship GA without SSO" --context "SSO vendor cannot deliver before GA" --options "Delay GA 6 weeks; ship without SSO" --outcome "SSO follows in v1.1""#,
    ),
    (
        "tpm",
        r#"decision add atlas "Launch regions: EU only, or EU and US at GA?" --context "US data residency review not started" --options "EU only at GA; EU and US at GA, +3 weeks" --decider @omar --decide-by +1w"#,
    ),
    (
        "tpm",
        r#"assumption add atlas "EU traffic alone covers the GA revenue target" --owner @omar --validate-by +2w"#,
    ),
    (
        "tpm",
        r#"issue add atlas "Staging cluster restarts under load" --owner @dana --severity medium --project api"#,
    ),
    (
        "tpm",
        r#"action add atlas "Send the EU-only launch plan to sales" --owner @omar --due +3d --for decision:2"#,
    ),
    (
        "tpm",
        r#"readiness add atlas "Runbook reviewed by on-call" --owner @dana --milestone api-beta --due +2w"#,
    ),
    (
        "tpm",
        r#"readiness add atlas "Rate limits documented for partners" --owner @dana --milestone api-beta"#,
    ),
    (
        "tpm",
        r#"readiness add atlas "Support macros and status page ready" --owner @li"#,
    ),
    (
        "tpm",
        r#"change propose atlas "Console beta a week later" --why "Auth endpoints wait on the security review" --move console-beta:+6w --decider @li"#,
    ),
    (
        "dana",
        r#"status post atlas api --rag amber --summary "Auth on track; load tests at 70% of target" --blockers "Security review of token format" --next "Finish rate limiting""#,
    ),
    (
        "omar",
        r#"status post atlas billing --rag green --summary "Invoicing done, waiting on contract""#,
    ),
    (
        "tpm",
        r#"dep block atlas 1 --reason "Waiting on security review of the token format""#,
    ),
    (
        "dana",
        r#"milestone move atlas api-beta --target +4w --reason "Load test failed at 70% of target""#,
    ),
];

/// The tour of the result, shown every time: binding the console channel first lets the
/// rest leave the program key out.
pub const TOUR: &[&str] = &[
    "program bind atlas",
    "program show",
    "milestone list",
    "dep list",
    "risk list",
    "status missing",
    "milestone show api-beta",
    "path show",
    "path whatif api-beta --slip 5",
    "digest show --audience executive",
    "report agenda",
];

/// Runs the sample script as a transcript on the console tenant. A program `atlas` that
/// is already there is toured rather than rebuilt.
pub async fn run(
    store: &Store,
    clock: &dyn Clock,
    channel: &str,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let key = Key::parse("atlas").expect("a valid key");
    let exists = {
        let mut tx = store.read().await?;
        store::find_program(&mut tx, &Tenant::local(), &key)
            .await?
            .is_some()
    };
    if !exists {
        for (who, line) in SETUP {
            say(store, clock, channel, who, line, out).await?;
        }
    }
    for line in TOUR {
        say(store, clock, channel, TPM, line, out).await?;
    }
    if exists {
        writeln!(
            out,
            "\n(The sample program was already in this database; it was shown, not rebuilt.)"
        )?;
    }
    Ok(())
}

/// Runs one line as `who` and prints it with its reply. The script is ours, so a
/// refusal is a bug in it and stops the demo like an internal error.
async fn say(
    store: &Store,
    clock: &dyn Clock,
    channel: &str,
    who: &str,
    line: &str,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let console = Console {
        tenant: Tenant::local(),
        actor: Actor {
            handle: who.into(),
            display_name: who.into(),
            is_admin: who == TPM,
        },
        channel: channel.into(),
        webhooks: Default::default(),
        public_url: None,
        channels: std::sync::Arc::new(crate::command::NoPlatform),
    };
    writeln!(out, "\n@{who}> {line}")?;
    match console.execute(store, clock, line).await {
        Ok(reply) => match crate::platform::console::present(&reply, false) {
            Ok(shown) => write!(out, "{shown}")?,
            Err(msg) => anyhow::bail!("the demo line `{line}` could not be shown: {msg}"),
        },
        Err(CommandError::User(msg)) => anyhow::bail!("the demo line `{line}` was refused: {msg}"),
        Err(CommandError::Internal(e)) => return Err(e),
    }
    Ok(())
}

/// The first Monday 07:00 UTC after `now`: where the simulated weeks start.
pub fn next_monday(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::Datelike as _;
    let today = now.date_naive();
    let ahead = (7 - i64::from(today.weekday().num_days_from_monday())) % 7;
    let ahead = if ahead == 0 { 7 } else { ahead };
    (today + Duration::days(ahead))
        .and_hms_opt(7, 0, 0)
        .expect("07:00 exists")
        .and_utc()
}

/// The program's rhythm, set through the command language at the start of the two weeks.
pub const RHYTHM: &[&str] = &[
    r#"schedule set atlas prompt "weekly mon 10:00""#,
    r#"schedule set atlas reminder "weekdays 16:00""#,
    r#"schedule set atlas nudge "weekdays 09:00""#,
    r#"schedule set atlas digest "weekly fri 16:00" --audience engineering"#,
    r#"schedule set atlas digest "weekly fri 16:30" --audience executive"#,
    r#"schedule set atlas digest "weekly fri 17:00" --audience product"#,
];

/// What people do during the two weeks: (day from the start, hour UTC, minute, who, line).
/// Some answer their prompts, some never do; a dependency stays blocked until the second
/// week; a milestone slips; someone goes away.
pub const WEEKS: &[(i64, u32, u32, &str, &str)] = &[
    (
        0,
        11,
        5,
        "dana",
        r#"status post atlas api --rag amber --summary "Auth endpoints in review; load tests at 80%" --blockers "Security review of the token format""#,
    ),
    (
        1,
        9,
        40,
        "omar",
        r#"status post atlas billing --rag green --summary "Invoicing done; contract with legal""#,
    ),
    (
        2,
        14,
        0,
        "dana",
        r#"milestone move atlas api-beta --target +5w --reason "Load test failed at 80% of target""#,
    ),
    (
        3,
        10,
        30,
        "tpm",
        r#"risk set atlas 2 --likelihood 4 --impact 4"#,
    ),
    (6, 18, 0, "tpm", r#"person away @li --until +5d"#),
    (
        7,
        10,
        20,
        "dana",
        r#"status post atlas api --rag amber --summary "Token format approved; load tests at 90%" --next "Finish rate limiting""#,
    ),
    (7, 15, 0, "tpm", r#"dep unblock atlas 1"#),
    (8, 11, 0, "dana", r#"dep deliver atlas 1"#),
    (8, 11, 30, "dana", r#"readiness check atlas 1"#),
    (
        8,
        12,
        0,
        "omar",
        r#"status post atlas billing --rag amber --summary "Contract still with legal" --blockers "Legal review""#,
    ),
    (
        9,
        9,
        30,
        "omar",
        r#"risk snooze atlas 1 --until +7d --reason "Vendor call on Friday""#,
    ),
];

/// The reports written at the end of the two weeks: (file, command).
pub const REPORTS: &[(&str, &str)] = &[
    ("status.md", "report status atlas --since -14d"),
    ("agenda.md", "report agenda atlas"),
    (
        "postmortem-api-beta.md",
        "report postmortem atlas --milestone api-beta",
    ),
    ("charter.md", "report charter atlas"),
    ("readiness-api-beta.md", "report readiness atlas api-beta"),
    ("scorecard.md", "report scorecard atlas"),
];

/// How the two simulated weeks went.
#[derive(Debug, Default)]
pub struct Weeks {
    pub deliveries: usize,
    pub ticks: usize,
    pub reports: Vec<std::path::PathBuf>,
}

/// Runs the program's rhythm for two weeks on a fake clock from `start`: the scheduler ticks
/// every 15 simulated minutes, the outbox drains to the console, and people act on
/// [`WEEKS`]. Every delivery is printed as its reader would see it; the Markdown reports of
/// the end are written to `reports`.
pub async fn two_weeks(
    store: &Store,
    settings: &crate::config::Settings,
    clock: Arc<FakeClock>,
    channel: &str,
    reports: &std::path::Path,
    out: &mut impl std::io::Write,
) -> anyhow::Result<Weeks> {
    let start = clock.now();
    writeln!(out, "\n== The rhythm ==")?;
    say(
        store,
        clock.as_ref(),
        channel,
        TPM,
        "program bind atlas",
        out,
    )
    .await?;
    for line in RHYTHM {
        say(store, clock.as_ref(), channel, TPM, line, out).await?;
    }
    let (sink, lines) = ConsoleSink::memory();
    let senders = Senders::console(sink).with(
        WebhookSender::KINDS,
        WebhookSender::new(&settings.delivery)?,
    );
    let worker = Worker::new(store.clone(), senders, clock.clone(), &settings.delivery);
    let scheduler = Scheduler::new(store.clone(), clock.clone(), settings.schedule.clone());
    let mut weeks = Weeks::default();
    let step = Duration::minutes(15);
    let end = start + Duration::days(14);
    let mut script = WEEKS.iter().peekable();
    let mut t = start;
    let mut day_shown = None;
    while t <= end {
        clock.set(t);
        let day = t.date_naive();
        let mut header = |out: &mut dyn std::io::Write| -> anyhow::Result<()> {
            if day_shown != Some(day) {
                writeln!(out, "\n== {} ==", t.format("%A %Y-%m-%d"))?;
                day_shown = Some(day);
            }
            Ok(())
        };
        while let Some(&&(d, h, m, who, line)) = script.peek() {
            let at = start
                .date_naive()
                .and_hms_opt(h, m, 0)
                .expect("valid time")
                .and_utc()
                + Duration::days(d);
            if at > t {
                break;
            }
            script.next();
            header(out)?;
            writeln!(out, "[{} UTC]", at.format("%H:%M"))?;
            say(store, clock.as_ref(), channel, who, line, out).await?;
        }
        scheduler.tick().await?;
        weeks.ticks += 1;
        worker.drain().await?;
        let delivered: Vec<String> = std::mem::take(&mut *lines.lock().expect("sink lock"));
        if !delivered.is_empty() {
            header(out)?;
        }
        for d in delivered {
            weeks.deliveries += 1;
            writeln!(out, "\n[{} UTC] {d}", t.format("%H:%M"))?;
        }
        t += step;
    }
    std::fs::create_dir_all(reports).with_context(|| format!("creating {}", reports.display()))?;
    writeln!(out, "\n== Reports ==")?;
    for &(name, line) in REPORTS {
        let path = reports.join(name);
        let full = format!(
            "{line} --out {}",
            shlex::try_quote(&path.display().to_string())?
        );
        say(store, clock.as_ref(), channel, TPM, &full, out).await?;
        weeks.reports.push(path);
    }
    Ok(weeks)
}
