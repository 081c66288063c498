//! The scheduler on a fake clock: a simulated week of every job kind, daylight-saving days,
//! and downtime. Deliveries go to the console sink, so the tests read what people would.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use drumbeat::config::DeliverySettings;
use drumbeat::outbox::{ConsoleSink, Senders, Worker};
use drumbeat::schedule::{Scheduler, SchedulerSettings};
use drumbeat::store;

use crate::helpers::TestDb;

struct Rig {
    scheduler: Scheduler,
    worker: Worker,
    lines: Arc<Mutex<Vec<String>>>,
    /// (when, what) for every delivery so far.
    seen: Vec<(DateTime<Utc>, String)>,
}

fn rig(db: &TestDb, settings: SchedulerSettings) -> Rig {
    let (sink, lines) = ConsoleSink::memory();
    let delivery = DeliverySettings::default();
    let senders = Senders::console(sink).with(
        drumbeat::platform::slack::WebhookSender::KINDS,
        drumbeat::platform::slack::WebhookSender::new(&delivery).unwrap(),
    );
    let clock: Arc<dyn drumbeat::clock::Clock> = Arc::new(db.clock.clone());
    Rig {
        scheduler: Scheduler::new(db.store.clone(), clock.clone(), settings),
        worker: Worker::new(db.store.clone(), senders, clock, &delivery),
        lines,
        seen: Vec::new(),
    }
}

impl Rig {
    /// Moves the clock to `until` in 15-minute steps, ticking and delivering at each.
    async fn run_until(&mut self, db: &TestDb, until: DateTime<Utc>) {
        let step = Duration::minutes(15);
        let mut t = db.clock.now_utc();
        while t <= until {
            db.clock.set(t);
            self.scheduler.tick().await.unwrap();
            self.worker.drain().await.unwrap();
            for l in std::mem::take(&mut *self.lines.lock().unwrap()) {
                self.seen.push((t, l));
            }
            t += step;
        }
    }

    /// Deliveries whose text contains every one of `words`, as UTC instants.
    fn when(&self, words: &[&str]) -> Vec<DateTime<Utc>> {
        self.seen
            .iter()
            .filter(|(_, l)| words.iter().all(|w| l.contains(w)))
            .map(|(t, _)| *t)
            .collect()
    }
}

trait NowUtc {
    fn now_utc(&self) -> DateTime<Utc>;
}

impl NowUtc for drumbeat::clock::FakeClock {
    fn now_utc(&self) -> DateTime<Utc> {
        drumbeat::clock::Clock::now(self)
    }
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// A week from Monday 2026-11-30: prompts where each owner lives, a holiday on Wednesday, a
/// person away, reminders and escalation, the blocker ladder, reviews, due dates, a digest.
#[tokio::test]
async fn a_simulated_week_reaches_the_right_people_at_the_right_times() {
    let db = TestDb::new().await;
    db.clock.set(utc(2026, 11, 29, 12, 0)); // Sunday
    for (who, line) in [
        (
            "tpm",
            r#"program create atlas --name "Atlas" --tz Europe/Berlin"#,
        ),
        ("tpm", "program set atlas --holiday 2026-12-02"),
        ("tpm", "program bind atlas"),
        (
            "tpm",
            r#"project add atlas api --name "Public API" --owner @dana"#,
        ),
        (
            "tpm",
            r#"project add atlas web --name "Web console" --owner @li"#,
        ),
        (
            "tpm",
            r#"project add atlas billing --name "Billing" --owner @omar"#,
        ),
        ("tpm", "person set @li --tz America/New_York"),
        ("tpm", "person set @omar --away 2026-12-01"),
        (
            "tpm",
            r#"milestone add atlas beta --title "Beta" --target 2026-12-03 --project api"#,
        ),
        (
            "tpm",
            r#"dep add atlas --needs web --from api --what "Auth endpoints" --by 2026-12-10 --owner @dana --accepted"#,
        ),
        ("tpm", r#"dep block atlas 1 --reason "security review""#),
        (
            "tpm",
            r#"risk add atlas "Vendor late" --likelihood 3 --impact 3 --owner @li --review-by 2026-12-01"#,
        ),
        ("tpm", r#"schedule set atlas prompt "weekdays 10:00""#),
        ("tpm", r#"schedule set atlas reminder "weekdays 16:00""#),
        ("tpm", r#"schedule set atlas nudge "weekdays 09:00""#),
        (
            "tpm",
            r#"schedule set atlas digest "weekly fri 16:00" --audience executive"#,
        ),
    ] {
        db.ok(who, line).await;
    }
    let mut rig = rig(&db, SchedulerSettings::default());
    // Monday: dana answers at 11:00 Berlin; li never answers.
    rig.run_until(&db, utc(2026, 11, 30, 10, 0)).await;
    db.ok(
        "dana",
        r#"status post atlas api --rag green --summary "Fine""#,
    )
    .await;
    rig.run_until(&db, utc(2026, 12, 6, 23, 0)).await;

    // Prompts at 10:00 where each owner lives, on work days only (not Wednesday, a holiday;
    // not the weekend), and not to omar while he is away (Monday and Tuesday).
    assert_eq!(
        rig.when(&["Status update for Public API?"]),
        [
            utc(2026, 11, 30, 9, 0),
            utc(2026, 12, 1, 9, 0),
            utc(2026, 12, 3, 9, 0),
            utc(2026, 12, 4, 9, 0)
        ],
        "dana, in Berlin (UTC+1)"
    );
    assert_eq!(
        rig.when(&["Status update for Web console?"]),
        [
            utc(2026, 11, 30, 15, 0),
            utc(2026, 12, 1, 15, 0),
            utc(2026, 12, 3, 15, 0),
            utc(2026, 12, 4, 15, 0)
        ],
        "li, in New York (UTC-5), prompted at 10:00 her time"
    );
    assert_eq!(
        rig.when(&["Status update for Billing?"]),
        [utc(2026, 12, 3, 9, 0), utc(2026, 12, 4, 9, 0)],
        "omar is away until Tuesday, and Wednesday is a holiday"
    );
    // Reminders: at 16:00 where each owner lives, only to those asked at least four hours
    // before and still silent. li is asked at 10:00 and reminded at 16:00 New York time.
    let li_reminded = rig.when(&["Reminder: status for Web console"]);
    assert_eq!(li_reminded, [utc(2026, 11, 30, 21, 0)], "once per silence");
    // dana answered Monday's prompt: no reminder that day.
    assert!(!rig
        .when(&["Reminder: status for Public API"])
        .contains(&utc(2026, 11, 30, 15, 0)));
    // The second reminder run of a silence tells the program owner, once per silence.
    let escalations = rig.when(&["No status from Web console", "@tpm"]);
    assert_eq!(
        escalations,
        [utc(2026, 12, 1, 21, 0)],
        "li's silence reaches the TPM, once"
    );
    // Blocker ladder: dana (rung 1) on Monday and Tuesday, then the program owner (dana is
    // the provider's lead herself and has no delegate), never on the holiday.
    let blocker = rig.when(&["Blocker: dependency #1"]);
    assert_eq!(blocker.first(), Some(&utc(2026, 11, 30, 8, 0)));
    assert!(
        !blocker.contains(&utc(2026, 12, 2, 8, 0)),
        "no nudges on a holiday"
    );
    assert_eq!(
        rig.when(&["Blocker: dependency #1", "@dana, dependency"])
            .len(),
        2
    );
    assert!(rig
        .when(&["Blocker: dependency #1", "@tpm, dependency"])
        .contains(&utc(2026, 12, 3, 8, 0)));
    // Risk review due to li, once; milestone due soon to dana, once.
    assert_eq!(
        rig.when(&["Risk review due: #1 Vendor late"]),
        [utc(2026, 12, 1, 8, 0)]
    );
    assert_eq!(rig.when(&["Due soon: Beta"]), [utc(2026, 11, 30, 8, 0)]);
    // The executive digest on Friday at 16:00 Berlin, to the bound channel.
    assert_eq!(
        rig.when(&["executive digest", "#console"]),
        [utc(2026, 12, 4, 15, 0)]
    );
    // Every ping says why and how to stop it.
    for (_, l) in &rig.seen {
        assert!(l.contains('·'), "a delivery without its reason: {l}");
    }
}

/// Daily 02:30 and 01:30 in New York across both 2026 transitions: once a day each, at the
/// times DESIGN.md gives (a missing time at the end of the gap; a repeated one, first).
#[tokio::test]
async fn daylight_saving_days_fire_once_at_the_right_instants() {
    for (start, days) in [(utc(2026, 3, 6, 12, 0), 4), (utc(2026, 10, 30, 12, 0), 4)] {
        let db = TestDb::new().await;
        db.clock.set(start);
        db.ok(
            "tpm",
            r#"program create ny --name "NY" --tz America/New_York"#,
        )
        .await;
        db.ok(
            "tpm",
            r#"schedule set ny digest "30 2 * * *" --audience executive"#,
        )
        .await;
        db.ok(
            "tpm",
            r#"schedule set ny digest "daily 01:30" --audience product"#,
        )
        .await;
        let mut rig = rig(&db, SchedulerSettings::default());
        rig.run_until(&db, start + Duration::days(days)).await;
        let runs = {
            let mut tx = db.store.read().await.unwrap();
            let (scope, _) = store::find_program(
                &mut tx,
                &drumbeat::domain::Tenant::local(),
                &drumbeat::domain::Key::parse("ny").unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
            store::runs(&mut tx, &scope, 100).await.unwrap()
        };
        let mut at_0230: Vec<DateTime<Utc>> = runs
            .iter()
            .filter(|r| r.job == "digest:1")
            .map(|r| r.scheduled_at)
            .collect();
        let mut at_0130: Vec<DateTime<Utc>> = runs
            .iter()
            .filter(|r| r.job == "digest:2")
            .map(|r| r.scheduled_at)
            .collect();
        at_0230.sort();
        at_0130.sort();
        assert!(runs.iter().all(|r| r.state == "done"), "{runs:?}");
        if start.month() == 3 {
            // Spring forward on 8 March: 02:30 does not exist and fires at 03:00 EDT.
            assert_eq!(
                at_0230,
                [
                    utc(2026, 3, 7, 7, 30),
                    utc(2026, 3, 8, 7, 0),
                    utc(2026, 3, 9, 6, 30),
                    utc(2026, 3, 10, 6, 30)
                ]
            );
            assert_eq!(
                at_0130,
                [
                    utc(2026, 3, 7, 6, 30),
                    utc(2026, 3, 8, 6, 30),
                    utc(2026, 3, 9, 5, 30),
                    utc(2026, 3, 10, 5, 30)
                ]
            );
        } else {
            // Fall back on 1 November: 01:30 happens twice and fires at the first (EDT).
            assert_eq!(
                at_0230,
                [
                    utc(2026, 10, 31, 6, 30),
                    utc(2026, 11, 1, 7, 30),
                    utc(2026, 11, 2, 7, 30),
                    utc(2026, 11, 3, 7, 30)
                ]
            );
            assert_eq!(
                at_0130,
                [
                    utc(2026, 10, 31, 5, 30),
                    utc(2026, 11, 1, 5, 30),
                    utc(2026, 11, 2, 6, 30),
                    utc(2026, 11, 3, 6, 30)
                ]
            );
        }
    }
}

/// Three days down: the slots inside the grace window fire once each, older ones are
/// recorded as skipped, and nothing fires twice.
#[tokio::test]
async fn missed_slots_after_downtime_fire_once_inside_the_grace_window() {
    let db = TestDb::new().await;
    db.clock.set(utc(2026, 12, 1, 0, 0));
    db.ok("tpm", r#"program create atlas --name "Atlas" --tz UTC"#)
        .await;
    db.ok(
        "tpm",
        r#"schedule set atlas digest "0 * * * *" --audience executive"#,
    )
    .await;
    let settings = SchedulerSettings {
        grace_digest_mins: 5 * 60,
        ..SchedulerSettings::default()
    };
    let mut rig = rig(&db, settings);
    rig.run_until(&db, utc(2026, 12, 1, 2, 0)).await; // runs 01:00 and 02:00
                                                      // Down from 02:00 to 3 days later, 02:10: 72 hourly slots missed.
    db.clock.set(utc(2026, 12, 4, 2, 10));
    rig.scheduler.tick().await.unwrap();
    rig.scheduler.tick().await.unwrap(); // a second tick finds nothing new
    let mut tx = db.store.read().await.unwrap();
    let (scope, _) = store::find_program(
        &mut tx,
        &drumbeat::domain::Tenant::local(),
        &drumbeat::domain::Key::parse("atlas").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let runs = store::runs(&mut tx, &scope, 1000).await.unwrap();
    let done: Vec<_> = runs.iter().filter(|r| r.state == "done").collect();
    let skipped: Vec<_> = runs.iter().filter(|r| r.state == "skipped").collect();
    // Before: 01:00, 02:00. After: 21:10 on 3 Dec … 02:10 on 4 Dec is the 5-hour window:
    // the slots 22:00, 23:00, 00:00, 01:00, 02:00 run; 03:00 on 1 Dec … 21:00 on 3 Dec skip.
    assert_eq!(done.len(), 2 + 5, "{done:?}");
    assert_eq!(skipped.len(), 72 - 5, "{} skipped", skipped.len());
    let mut slots: Vec<_> = runs
        .iter()
        .map(|r| (r.job.clone(), r.scheduled_at))
        .collect();
    let n = slots.len();
    slots.sort();
    slots.dedup();
    assert_eq!(slots.len(), n, "a slot appears twice");
    assert!(skipped.iter().all(|r| r.outcome.contains("grace")));
}

use chrono::Datelike as _;

#[tokio::test]
async fn schedule_commands_show_preview_and_remove() {
    let db = TestDb::new().await;
    db.ok(
        "tpm",
        r#"program create atlas --name "Atlas" --tz Europe/Berlin"#,
    )
    .await;
    let set = db.ok("tpm", r#"schedule set atlas digest "weekly fri 16:00" --audience executive --webhook https://hooks.slack.com/services/T000/B000/secret"#).await;
    assert!(
        set.contains("Scheduled executive digest of atlas every Friday at 16:00"),
        "{set}"
    );
    assert!(set.contains("next: Fri 2026-11-27 16:00 CET"), "{set}");
    assert!(
        !set.contains("secret"),
        "webhook URLs are never echoed: {set}"
    );
    let again = db.ok("tpm", r#"schedule set atlas digest "weekly fri 17:00" --audience executive --webhook https://hooks.slack.com/services/T000/B000/secret"#).await;
    assert!(again.starts_with("Changed"), "{again}");
    let shown = db.ok("tpm", "schedule show atlas").await;
    assert!(
        shown.contains("every Friday at 17:00") && !shown.contains("secret"),
        "{shown}"
    );
    // Preview, as JSON through the binary: the next three 09:00s in New York after the change.
    let o = db.bin(&[
        "exec",
        "--json",
        "schedule",
        "preview",
        "0 9 * * *",
        "--tz",
        "America/New_York",
        "--from",
        "2026-10-31T00:00:00Z",
        "--count",
        "3",
    ]);
    assert!(o.status.success(), "{}", crate::helpers::stderr(&o));
    let times: Vec<String> = serde_json::from_str(&crate::helpers::stdout(&o)).unwrap();
    assert_eq!(
        times,
        [
            "2026-10-31T13:00:00Z",
            "2026-11-01T14:00:00Z",
            "2026-11-02T14:00:00Z"
        ]
    );
    db.ok("tpm", "schedule remove atlas 1").await;
    let shown = db.ok("tpm", "schedule show atlas").await;
    assert!(shown.starts_with("No schedules in atlas"), "{shown}");
}

/// A digest covers the time since the previous one of its subscription went out.
#[tokio::test]
async fn a_digest_covers_the_time_since_the_previous_one() {
    let db = TestDb::new().await;
    db.clock.set(utc(2026, 11, 30, 12, 0));
    db.ok("tpm", r#"program create atlas --name "Atlas" --tz UTC"#)
        .await;
    db.ok(
        "tpm",
        r#"schedule set atlas digest "daily 09:00" --audience executive"#,
    )
    .await;
    let mut rig = rig(&db, SchedulerSettings::default());
    rig.run_until(&db, utc(2026, 12, 2, 10, 0)).await;
    let digests: Vec<&String> = rig
        .seen
        .iter()
        .map(|(_, l)| l)
        .filter(|l| l.contains("executive digest"))
        .collect();
    assert_eq!(digests.len(), 2, "{digests:#?}");
    assert!(
        digests[0].contains("2026-11-24 to 2026-12-01"),
        "the first covers a week: {}",
        digests[0]
    );
    assert!(
        digests[1].contains("2026-12-01 to 2026-12-02"),
        "the second starts at the first: {}",
        digests[1]
    );
}

/// Slots caught up in one tick: each digest covers the time since the one before it up to
/// now, also when that one ran in the same tick (the second starts at the first's slot).
#[tokio::test]
async fn digests_caught_up_in_one_tick_each_cover_their_own_period() {
    let db = TestDb::new().await;
    db.clock.set(utc(2026, 11, 30, 12, 0));
    db.ok("tpm", r#"program create atlas --name "Atlas" --tz UTC"#)
        .await;
    db.ok(
        "tpm",
        r#"schedule set atlas digest "daily 09:00" --audience executive"#,
    )
    .await;
    let settings = SchedulerSettings {
        grace_digest_mins: 3 * 24 * 60,
        ..SchedulerSettings::default()
    };
    let rig = rig(&db, settings);
    // Down from before the first slot until after the third: one tick runs all three.
    db.clock.set(utc(2026, 12, 3, 10, 0));
    let report = rig.scheduler.tick().await.unwrap();
    assert_eq!(report.ran, 3, "{report:?}");
    rig.worker.drain().await.unwrap();
    let lines = std::mem::take(&mut *rig.lines.lock().unwrap());
    let digests: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("executive digest"))
        .collect();
    assert_eq!(digests.len(), 3, "{digests:#?}");
    for (digest, period) in digests.iter().zip([
        "2026-11-24 to 2026-12-03",
        "2026-12-01 to 2026-12-03",
        "2026-12-02 to 2026-12-03",
    ]) {
        assert!(digest.contains(period), "{period}: {digest}");
    }
}

/// Two moves in the same instant each tell the downstream owner.
#[tokio::test]
async fn every_move_tells_the_downstream_owner() {
    let db = TestDb::new().await;
    crate::helpers::seed_atlas(&db).await;
    db.ok("tpm", "dep deliver atlas 2").await;
    db.ok(
        "tpm",
        r#"milestone move atlas fe-launch --target 2026-12-18 --reason "pull in""#,
    )
    .await;
    let first = db
        .ok(
            "dana",
            r#"milestone move atlas api-beta --target 2026-12-30 --reason "load test""#,
        )
        .await;
    assert!(first.contains("1 owner will be told"), "{first}");
    let second = db
        .ok(
            "dana",
            r#"milestone move atlas api-beta --target 2027-01-06 --reason "more load tests""#,
        )
        .await;
    assert!(
        second.contains("1 owner will be told"),
        "the second move is news too: {second}"
    );
    let mut rig = rig(&db, SchedulerSettings::default());
    rig.run_until(&db, crate::helpers::now()).await;
    let told: Vec<&String> = rig
        .seen
        .iter()
        .map(|(_, l)| l)
        .filter(|l| l.contains("api-beta moved: so does fe-launch"))
        .collect();
    assert_eq!(told.len(), 2, "{told:#?}");
    assert!(told[1].contains("2027-01-06"), "{}", told[1]);
}

/// A project handed to someone after the prompt went out was never asked about: no
/// reminder, and nothing for the TPM, until it has been.
#[tokio::test]
async fn nobody_is_reminded_about_a_project_they_were_never_asked_about() {
    let db = TestDb::new().await;
    db.clock.set(utc(2026, 11, 29, 12, 0));
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        r#"project add atlas api --name "Public API" --owner @dana"#,
        r#"schedule set atlas prompt "weekly mon 10:00""#,
        r#"schedule set atlas reminder "weekdays 16:00""#,
    ] {
        db.ok("tpm", line).await;
    }
    let mut rig = rig(&db, SchedulerSettings::default());
    rig.run_until(&db, utc(2026, 11, 30, 12, 0)).await;
    db.ok(
        "tpm",
        r#"project add atlas web --name "Web console" --owner @dana"#,
    )
    .await;
    rig.run_until(&db, utc(2026, 12, 2, 17, 0)).await;
    assert_eq!(
        rig.when(&["Reminder: status for Public API"]),
        [utc(2026, 11, 30, 16, 0)]
    );
    assert!(rig.when(&["Reminder: status for Web console"]).is_empty());
    assert!(rig.when(&["No status from Web console"]).is_empty());
    assert_eq!(
        rig.when(&["No status from Public API"]),
        [utc(2026, 12, 1, 16, 0)]
    );
}

/// A blocker ping names the milestone waiting on it and the ones a slip would move.
#[tokio::test]
async fn a_blocker_ping_names_the_milestones_it_delays() {
    let db = TestDb::new().await;
    db.clock.set(utc(2026, 11, 29, 12, 0));
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        r#"project add atlas api --name "Public API" --owner @dana"#,
        r#"project add atlas id --name "Identity" --owner @ira"#,
        r#"milestone add atlas beta --title "Beta" --target 2026-12-10 --project api"#,
        r#"milestone add atlas ga --title "GA" --target 2026-12-11 --project api --after beta --duration 1"#,
        r#"milestone add atlas docs --title "Docs" --target 2027-03-01 --project api --after beta"#,
        r#"dep add atlas --needs beta --from id --what "Tokens" --by 2026-12-20 --owner @ira --accepted"#,
        r#"dep add atlas --needs beta --from id --what "Keys" --by 2026-12-20 --owner @ira --accepted"#,
        r#"dep block atlas 1 --reason "review""#,
        r#"dep block atlas 2 --reason "review""#,
        r#"schedule set atlas nudge "weekdays 09:00""#,
    ] {
        db.ok("tpm", line).await;
    }
    let mut rig = rig(&db, SchedulerSettings::default());
    rig.run_until(&db, utc(2026, 11, 30, 10, 0)).await;
    // ga has no slack after beta and moves; docs has months of slack and does not.
    for what in ["`Tokens`", "`Keys`"] {
        let pings: Vec<&String> = rig
            .seen
            .iter()
            .map(|(_, l)| l)
            .filter(|l| l.contains(what))
            .collect();
        assert_eq!(pings.len(), 1, "{pings:#?}");
        assert!(pings[0].contains("it delays beta, ga."), "{}", pings[0]);
    }
}

/// A program with a daily digest and weekday nudges, and a blocked dependency for the
/// nudge to ping about; set up on Monday 2026-11-30 at 08:00 UTC.
async fn leased_program(db: &TestDb) {
    db.clock.set(utc(2026, 11, 30, 8, 0));
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        "program bind atlas",
        r#"project add atlas api --name "Public API" --owner @dana"#,
        r#"project add atlas web --name "Web console" --owner @li"#,
        r#"dep add atlas --needs web --from api --what "Auth endpoints" --by 2026-12-10 --owner @dana --accepted"#,
        r#"dep block atlas 1 --reason "security review""#,
        r#"schedule set atlas digest "daily 09:00" --audience executive"#,
        r#"schedule set atlas nudge "weekdays 09:00""#,
    ] {
        db.ok("tpm", line).await;
    }
}

/// The program's schedules, as the scheduler sees them.
async fn scheduled(db: &TestDb) -> Vec<store::ScheduledProgram> {
    let mut tx = db.store.read().await.unwrap();
    store::all_schedules(&mut tx).await.unwrap()
}

fn job_of(all: &[store::ScheduledProgram], kind: &str) -> (String, i64) {
    let sp = all
        .iter()
        .find(|sp| sp.schedule.kind.as_str() == kind)
        .unwrap();
    (format!("{kind}:{}", sp.schedule.id), sp.schedule.id)
}

/// Queued messages whose dedup key starts with `prefix`.
async fn queued(db: &TestDb, prefix: &str) -> usize {
    let mut tx = db.store.read().await.unwrap();
    let rows =
        store::tenant_outbox::<drumbeat::reply::Reply>(&mut tx, &drumbeat::domain::Tenant::local())
            .await
            .unwrap();
    rows.iter()
        .filter(|r| {
            r.dedup_key
                .as_deref()
                .is_some_and(|k| k.starts_with(prefix))
        })
        .count()
}

async fn runs(db: &TestDb) -> Vec<store::JobRun> {
    let all = scheduled(db).await;
    let mut tx = db.store.read().await.unwrap();
    store::runs(&mut tx, &all[0].scope, 100).await.unwrap()
}

/// Two processes on one database tick at the same instants: each digest and nudge slot is
/// built by one of them, once.
#[tokio::test]
async fn two_schedulers_build_each_leased_slot_once() {
    let db = TestDb::new().await;
    leased_program(&db).await;
    // A second process: its own pool (and its own writer queue) on the same file.
    let other = store::Store::open(&store::Options::new(db.path.clone()))
        .await
        .unwrap();
    let clock: Arc<dyn drumbeat::clock::Clock> = Arc::new(db.clock.clone());
    let a = Scheduler::new(
        db.store.clone(),
        clock.clone(),
        SchedulerSettings::default(),
    );
    let b = Scheduler::new(other, clock, SchedulerSettings::default());
    let (mut ran, mut built) = (0, 0);
    for day in 30..=34 {
        // Mon 30 Nov to Fri 4 Dec.
        let at = utc(2026, 11, 30, 9, 30) + Duration::days(day - 30);
        db.clock.set(at);
        let (ra, rb) = tokio::join!(a.tick(), b.tick());
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert_eq!((ra.failed, rb.failed), (0, 0));
        ran += ra.ran + rb.ran;
        built += ra.built + rb.built;
    }
    assert_eq!(built, 10, "five digests and five nudges, each built once");
    assert_eq!(ran, 10);
    assert_eq!(queued(&db, "digest:").await, 5);
    assert_eq!(queued(&db, "nudge:").await, 5, "one blocker ping a day");
    let runs = runs(&db).await;
    assert_eq!(runs.len(), 10);
    assert!(runs.iter().all(|r| r.state == "done"), "{runs:#?}");
}

/// A process that claimed a slot and died: its lease holds the slot until it runs out,
/// then the next tick takes it over inside the grace window; past the window it is skipped.
#[tokio::test]
async fn a_dead_claimants_slot_is_taken_over_when_its_lease_runs_out() {
    let db = TestDb::new().await;
    leased_program(&db).await;
    let (digest, id) = job_of(&scheduled(&db).await, "digest");
    let slot = utc(2026, 11, 30, 9, 0);
    let claimed_at = utc(2026, 11, 30, 9, 1);
    let mut tx = db.store.write().await.unwrap();
    let dead = store::claim_leased_slot(
        &mut tx,
        &digest,
        Some(id),
        slot,
        claimed_at,
        "dead",
        claimed_at + Duration::minutes(5),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(dead.is_some());

    let clock: Arc<dyn drumbeat::clock::Clock> = Arc::new(db.clock.clone());
    let scheduler = Scheduler::new(db.store.clone(), clock, SchedulerSettings::default());
    db.clock.set(utc(2026, 11, 30, 9, 3));
    scheduler.tick().await.unwrap();
    assert_eq!(queued(&db, "digest:").await, 0, "the lease still holds");

    db.clock.set(utc(2026, 11, 30, 9, 7));
    scheduler.tick().await.unwrap();
    assert_eq!(
        queued(&db, "digest:").await,
        1,
        "taken over after the lease ran out"
    );
    let digest_run = runs(&db)
        .await
        .into_iter()
        .find(|r| r.job == digest)
        .unwrap();
    assert_eq!(
        (digest_run.scheduled_at, digest_run.state.as_str()),
        (slot, "done")
    );

    // Tuesday's slot is claimed and abandoned too, and nobody ticks until after its grace.
    let slot = utc(2026, 12, 1, 9, 0);
    let mut tx = db.store.write().await.unwrap();
    store::claim_leased_slot(
        &mut tx,
        &digest,
        Some(id),
        slot,
        slot,
        "dead",
        slot + Duration::minutes(5),
    )
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
    db.clock.set(utc(2026, 12, 1, 22, 0));
    scheduler.tick().await.unwrap();
    let tuesday = runs(&db)
        .await
        .into_iter()
        .find(|r| r.job == digest && r.scheduled_at == slot)
        .unwrap();
    assert_eq!(tuesday.state, "skipped");
    assert_eq!(queued(&db, "digest:").await, 1);
}

/// A claimant whose lease ran out and was taken over cannot finish the run: only the one
/// holding the lease queues the slot's messages.
#[tokio::test]
async fn a_claim_taken_over_cannot_finish() {
    let db = TestDb::new().await;
    leased_program(&db).await;
    let (nudge, id) = job_of(&scheduled(&db).await, "nudge");
    let slot = utc(2026, 11, 30, 9, 0);
    let t = |min| utc(2026, 11, 30, 9, min);
    let claim = |who: &'static str, now| {
        let (store, nudge) = (db.store.clone(), nudge.clone());
        async move {
            let mut tx = store.write().await.unwrap();
            let got = store::claim_leased_slot(
                &mut tx,
                &nudge,
                Some(id),
                slot,
                now,
                who,
                now + Duration::minutes(5),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            got
        }
    };
    let finish = |who: &'static str, run| {
        let store = db.store.clone();
        async move {
            let mut tx = store.write().await.unwrap();
            let done =
                store::finish_leased_run(&mut tx, run, who, store::RunEnd::Done, "built", t(20))
                    .await
                    .unwrap();
            tx.commit().await.unwrap();
            done
        }
    };
    let run = claim("a", t(1)).await.expect("a free slot is claimed");
    assert_eq!(
        claim("b", t(3)).await,
        None,
        "a live lease is not taken over"
    );
    assert_eq!(claim("b", t(7)).await, Some(run), "an expired one is");
    assert!(!finish("a", run).await, "a lost its lease");
    assert!(finish("b", run).await);
    assert_eq!(claim("c", t(30)).await, None, "a done slot stays done");

    // The scheduler sees the slot done and builds nothing for it.
    let clock: Arc<dyn drumbeat::clock::Clock> = Arc::new(db.clock.clone());
    let scheduler = Scheduler::new(db.store.clone(), clock, SchedulerSettings::default());
    db.clock.set(t(31));
    scheduler.tick().await.unwrap();
    assert_eq!(queued(&db, "nudge:").await, 0);
}

/// Where jobs stand, read for many at once (as a PostgreSQL tick reads its digests' and
/// nudges'), is where each stands read alone: the latest slot, the latest done, and the
/// slots whose lease ran out, oldest first; a job that never ran stands nowhere.
#[tokio::test]
async fn where_jobs_stand_read_together_is_where_each_stands_alone() {
    let db = TestDb::new().await;
    leased_program(&db).await;
    let all = scheduled(&db).await;
    let (digest, digest_id) = job_of(&all, "digest");
    let (nudge, nudge_id) = job_of(&all, "nudge");
    let day = |d| utc(2026, 11, 30, 9, 0) + Duration::days(d);
    let now = day(4) + Duration::hours(2);
    let mut tx = db.store.write().await.unwrap();
    // The digest: Monday done, Tuesday skipped, Wednesday's lease ran out, Thursday's holds.
    for (d, who, lease) in [(0, "a", 5), (2, "dead", 5), (3, "live", 60 * 24 * 9)] {
        let run = store::claim_leased_slot(
            &mut tx,
            &digest,
            Some(digest_id),
            day(d),
            day(d),
            who,
            day(d) + Duration::minutes(lease),
        )
        .await
        .unwrap()
        .unwrap();
        if d == 0 {
            assert!(
                store::finish_leased_run(&mut tx, run, who, store::RunEnd::Done, "ok", day(d))
                    .await
                    .unwrap()
            );
        }
    }
    assert!(store::skip_slot(
        &mut tx,
        &digest,
        Some(digest_id),
        day(1),
        day(1),
        "not a work day"
    )
    .await
    .unwrap());
    // The nudge: two slots done.
    for d in [0, 1] {
        let run = store::claim_leased_slot(
            &mut tx,
            &nudge,
            Some(nudge_id),
            day(d),
            day(d),
            "a",
            day(d) + Duration::minutes(5),
        )
        .await
        .unwrap()
        .unwrap();
        store::finish_leased_run(&mut tx, run, "a", store::RunEnd::Done, "ok", day(d))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let jobs = vec![digest.clone(), nudge.clone(), "digest:0".to_string()];
    let mut conn = db.store.conn().await.unwrap();
    let together = store::job_places(&mut conn, &jobs, now).await.unwrap();
    assert_eq!(together.len(), 3);
    for job in &jobs {
        let alone = store::job_place(&mut conn, job, now).await.unwrap();
        assert_eq!(together[job], alone, "{job}");
    }
    assert_eq!(
        together[&digest],
        store::JobPlace {
            expired: vec![day(2)],
            last: Some(day(3)),
            last_done: Some(day(0)),
        }
    );
    assert_eq!(together[&nudge].last_done, Some(day(1)));
    assert_eq!(together["digest:0"], store::JobPlace::default());
}

/// A run's finish, health mark and messages are kept together or not at all: not when its
/// lease was lost, not when a message is for another tenant's program; a dedup key used
/// twice queues once. On PostgreSQL this is one statement on the bookkeeping connection.
#[tokio::test]
async fn a_finish_keeps_its_messages_all_or_nothing() {
    use drumbeat::domain::{Key, Rag, Tenant};
    use drumbeat::outbox::{Destination, NewMessage};
    let db = TestDb::new().await;
    leased_program(&db).await;
    let (nudge, id) = job_of(&scheduled(&db).await, "nudge");
    let slot = utc(2026, 11, 30, 9, 0);
    let now = utc(2026, 11, 30, 9, 1);
    let scope = {
        let mut tx = db.store.read().await.unwrap();
        store::find_program(&mut tx, &Tenant::local(), &Key::parse("atlas").unwrap())
            .await
            .unwrap()
            .expect("atlas")
            .0
    };
    let run = {
        let mut tx = db.store.write().await.unwrap();
        let run = store::claim_leased_slot(
            &mut tx,
            &nudge,
            Some(id),
            slot,
            now,
            "a",
            now + Duration::minutes(5),
        )
        .await
        .unwrap()
        .expect("claimed");
        tx.commit().await.unwrap();
        run
    };
    let message = |tenant: Tenant, key: &str| NewMessage {
        tenant,
        program_id: Some(scope.program_id()),
        destination: Destination::Console {
            channel: "digests".into(),
        },
        reply: drumbeat::reply::Reply::success(format!("message {key}")),
        reason: "a test".into(),
        dedup_key: Some(format!("finish:{key}")),
        not_before: now,
    };
    let day = slot.date_naive();
    let finish = |who: &'static str, messages: Vec<NewMessage>| {
        let (store, scope) = (db.store.clone(), scope.clone());
        async move {
            let mut tx = store.autocommit_lazily().await.unwrap();
            let got = store::finish_leased_run_queueing(
                &mut tx,
                run,
                who,
                store::RunEnd::Done,
                "built",
                now,
                Some((&scope, day, Rag::Red)),
                &messages,
            )
            .await;
            match &got {
                Ok(Some(_)) => tx.commit().await.unwrap(),
                _ => tx.rollback().await.unwrap(),
            }
            got
        }
    };
    let health = || async {
        let mut tx = db.store.read().await.unwrap();
        store::health_before(&mut tx, &scope, day).await.unwrap()
    };
    let ours = || {
        vec![
            message(Tenant::local(), "1"),
            message(Tenant::local(), "1"),
            message(Tenant::local(), "2"),
        ]
    };

    assert_eq!(finish("b", ours()).await.unwrap(), None, "b holds no lease");
    let foreign = Tenant::parse("slack:T0OTHER").unwrap();
    let refused = finish(
        "a",
        vec![message(Tenant::local(), "3"), message(foreign, "4")],
    )
    .await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("outside its tenant")
                || format!("{e:#}").contains("not in tenant")),
        "{refused:?}"
    );
    assert_eq!(
        queued(&db, "finish:").await,
        0,
        "nothing of a refused finish is queued"
    );
    assert_eq!(health().await, None, "nor its health marked");

    assert_eq!(
        finish("a", ours()).await.unwrap(),
        Some(2),
        "a dedup key queues once"
    );
    assert_eq!(queued(&db, "finish:").await, 2);
    assert_eq!(health().await, Some(Rag::Red));
    assert_eq!(
        finish("a", ours()).await.unwrap(),
        None,
        "a finished run stays finished"
    );
    assert_eq!(queued(&db, "finish:").await, 2);
}

/// A request the providing team does not answer climbs the ladder: its owner is asked when
/// it is made, the provider's lead after `rung_work_days`, the program owner after twice
/// that; an answer stops it.
#[tokio::test]
async fn an_unanswered_request_climbs_the_ladder_until_it_is_answered() {
    let db = TestDb::new().await;
    db.clock.set(utc(2026, 11, 30, 8, 0)); // a Monday
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        r#"project add atlas api --name "Public API" --owner @dana"#,
        r#"project add atlas web --name "Web console" --owner @li"#,
        r#"dep add atlas --needs web --from api --what "Auth endpoints" --by 2027-01-20 --owner @sam"#,
        r#"schedule set atlas nudge "weekdays 09:00""#,
    ] {
        db.ok("tpm", line).await;
    }
    let mut rig = rig(&db, SchedulerSettings::default());
    let for_ = |rig: &Rig, who: &str, what: &str| -> usize {
        rig.seen
            .iter()
            .filter(|(_, l)| l.contains(&format!("→ {who}")) || l.contains(&format!("@{who},")))
            .filter(|(_, l)| l.contains(what))
            .count()
    };
    // Monday: the request itself, to its owner; nobody is reminded yet.
    rig.run_until(&db, utc(2026, 11, 30, 10, 0)).await;
    assert_eq!(
        for_(&rig, "sam", "Dependency request: #1"),
        1,
        "{:#?}",
        rig.seen
    );
    assert_eq!(for_(&rig, "dana", "Unanswered request"), 0);
    // Two working days on (Wednesday): the provider's lead.
    rig.run_until(&db, utc(2026, 12, 2, 10, 0)).await;
    assert_eq!(
        for_(&rig, "dana", "Unanswered request: #1"),
        1,
        "{:#?}",
        rig.seen
    );
    let ping = rig
        .seen
        .iter()
        .map(|(_, l)| l)
        .find(|l| l.contains("Unanswered request"))
        .unwrap();
    assert!(ping.contains("dep accept atlas 1"), "{ping}");
    assert!(ping.contains("no answer for 2 working days"), "{ping}");
    // Four working days on (Friday): the program owner.
    rig.run_until(&db, utc(2026, 12, 4, 10, 0)).await;
    assert_eq!(
        for_(&rig, "tpm", "Unanswered request: #1"),
        1,
        "{:#?}",
        rig.seen
    );
    // sam answers: no more reminders, and li (who needs it) is told.
    db.ok("sam", "dep accept atlas 1 --by 2027-01-15").await;
    let before = rig.seen.len();
    rig.run_until(&db, utc(2026, 12, 8, 10, 0)).await;
    let after: Vec<&String> = rig.seen[before..].iter().map(|(_, l)| l).collect();
    assert!(
        after.iter().all(|l| !l.contains("Unanswered request")),
        "{after:#?}"
    );
    assert!(
        after
            .iter()
            .any(|l| l.contains("Dependency #1 accepted") && l.contains("committing to 2027-01-15")),
        "{after:#?}"
    );
}

/// Everything due for one person on one day goes as one message: actions due soon or
/// overdue, assumptions to validate, decisions to take, risk reviews; each item once per
/// date that comes.
#[tokio::test]
async fn a_persons_reminders_for_a_day_go_as_one_message() {
    let db = TestDb::new().await;
    db.clock.set(utc(2026, 11, 30, 8, 0)); // a Monday
    for line in [
        r#"program create atlas --name "Atlas" --tz UTC"#,
        r#"project add atlas api --name "Public API" --owner @dana"#,
        r#"action add atlas "Send the EU plan" --owner @li --due 2026-12-02"#,
        r#"action add atlas "Book the load test env" --owner @li --due 2026-12-10"#,
        r#"assumption add atlas "Vendor keeps the SDK stable" --owner @li --validate-by 2026-11-30"#,
        r#"decision add atlas "EU-only launch?" --decider @li --decide-by 2026-12-03"#,
        r#"risk add atlas "Vendor late" --likelihood 3 --impact 3 --owner @dana --review-by 2026-11-30"#,
        r#"schedule set atlas nudge "weekdays 09:00""#,
    ] {
        db.ok("tpm", line).await;
    }
    let mut rig = rig(&db, SchedulerSettings::default());
    rig.run_until(&db, utc(2026, 11, 30, 10, 0)).await;
    let to_li: Vec<&String> = rig
        .seen
        .iter()
        .map(|(_, l)| l)
        .filter(|l| l.contains("@li"))
        .collect();
    assert_eq!(to_li.len(), 1, "{to_li:#?}");
    let monday = to_li[0];
    assert!(monday.contains("3 reminders in atlas"), "{monday}");
    for want in [
        "action #1 Send the EU plan, due 2026-12-02 (in 2 days): `action done atlas 1`",
        "assumption #1 Vendor keeps the SDK stable, to validate by 2026-11-30 (today)",
        "decision #1 EU-only launch?, needed from you by 2026-12-03 (in 3 days)",
        "Done #1: action done atlas 1",
    ] {
        assert!(monday.contains(want), "{want} in {monday}");
    }
    assert!(!monday.contains("Book the load test env"), "{monday}");
    // dana's lone risk review keeps its own words.
    assert_eq!(rig.when(&["Risk review due: #1 Vendor late"]).len(), 1);

    // Tuesday: nothing new for li. Thursday: action 1 is overdue, once.
    rig.run_until(&db, utc(2026, 12, 1, 10, 0)).await;
    assert_eq!(rig.when(&["@li"]).len(), 1, "{:#?}", rig.seen);
    rig.run_until(&db, utc(2026, 12, 3, 10, 0)).await;
    let thursday = rig.when(&["@li", "Send the EU plan"]);
    assert_eq!(thursday.len(), 2, "{:#?}", rig.seen);
    assert!(rig
        .seen
        .iter()
        .any(|(at, l)| *at == thursday[1] && l.contains("was due 2026-12-02 (yesterday)")));
    // Done: never again.
    db.ok("li", "action done atlas 1").await;
    rig.run_until(&db, utc(2026, 12, 9, 10, 0)).await;
    assert_eq!(rig.when(&["@li", "Send the EU plan"]).len(), 2);
    assert_eq!(rig.when(&["@li", "Book the load test env"]).len(), 1);
}
