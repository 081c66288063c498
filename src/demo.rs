//! `drumbeat demo`: a realistic sample program, built through the command language the
//! way a TPM and the leads would, printed as a transcript. The scheduled two weeks
//! (prompts, reminders, pings, digests) join it with the scheduler.

use crate::clock::Clock;
use crate::command::{Actor, CommandError};
use crate::domain::{Key, Tenant};
use crate::platform::console::Console;
use crate::reply::text;
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
        r#"dep add atlas --needs frontend --from api --what "Auth endpoints" --by +6d"#,
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
        r#"decision add atlas "Launch regions: EU only, or EU and US at GA?" --context "US data residency review not started" --options "EU only at GA; EU and US at GA, +3 weeks""#,
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
    };
    writeln!(out, "\n@{who}> {line}")?;
    match console.execute(store, clock, line).await {
        Ok(reply) => write!(out, "{}", text::render(&reply))?,
        Err(CommandError::User(msg)) => anyhow::bail!("the demo line `{line}` was refused: {msg}"),
        Err(CommandError::Internal(e)) => return Err(e),
    }
    Ok(())
}
