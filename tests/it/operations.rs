//! Operators get true answers (issue #13): `doctor` and `exec` on a database that cannot be
//! created or opened, secrets masked in logs and read from files, and metrics as Prometheus
//! users expect them.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use drumbeat::config::{LogFormat, LogSettings};
use drumbeat::telemetry;

use crate::helpers::{bin, seed_atlas, stderr, stdout, TestDb};

fn doctor_on(db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drumbeat"))
        .arg("--db")
        .arg(db)
        .arg("doctor")
        .env_remove("RUST_LOG")
        .env(
            "DRUMBEAT_CONFIG",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .env_remove("DISCORD_TOKEN")
        .env_remove("SLACK_SIGNING_SECRET")
        .env_remove("SLACK_BOT_TOKEN")
        .output()
        .expect("run drumbeat doctor")
}

/// The table as one line, without the database row's fix: the detail column wraps beside
/// the fix column.
fn flat(table: &str) -> String {
    table
        .replace(
            "set database.path (or --db) to a file in a folder this user can write",
            "",
        )
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Doctor fails, and `exec` refuses with exit 2, naming the path and why.
fn assert_unusable(db: &Path, reason: &str) {
    let out = doctor_on(db);
    let table = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{table}\n{}", stderr(&out));
    assert!(table.contains("FAIL"), "{table}");
    let flat = flat(&table);
    assert!(flat.contains("cannot be created or opened"), "{table}");
    assert!(flat.contains(reason), "{reason} in\n{table}");

    let out = bin(db, &["exec", "program list"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&db.display().to_string()), "{err}");
    assert!(err.contains(reason), "{reason} in {err}");
    assert!(!err.contains("internal"), "{err}");
    assert!(!db.exists(), "nothing was made at {}", db.display());
}

#[test]
fn doctor_and_exec_refuse_a_database_that_cannot_be_made() {
    let dir = tempfile::tempdir().unwrap();

    // The parent is a file.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "not a folder").unwrap();
    assert_unusable(&file.join("drumbeat.db"), "is a file, not a folder");
    // … or a file further up.
    assert_unusable(&file.join("deeper/drumbeat.db"), "is a file, not a folder");

    // The parent is missing and cannot be created: /proc takes no new folders, not even
    // from root.
    assert_unusable(
        Path::new("/proc/drumbeat-missing/data/drumbeat.db"),
        "does not exist and cannot be created in /proc",
    );

    // No permission to create the file, as root too: /proc refuses new files.
    assert_unusable(
        Path::new("/proc/drumbeat.db"),
        "no file can be created in /proc",
    );

    // The same through permission bits, which root passes: only checked as another user.
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let root = std::fs::File::create(locked.join("probe")).is_ok();
    if root {
        let _ = std::fs::remove_file(locked.join("probe"));
        println!("skipped the mode-0555 folder case: running as root, who may write there");
    } else {
        assert_unusable(&locked.join("drumbeat.db"), "permission denied");
    }

    // A folder where the file should be.
    let folder = dir.path().join("a-folder.db");
    std::fs::create_dir(&folder).unwrap();
    let out = doctor_on(&folder);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        flat(&stdout(&out)).contains("it is a folder, not a file"),
        "{}",
        stdout(&out)
    );
    let out = bin(&folder, &["exec", "program list"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // A missing folder that can be made is fine: the start makes it.
    let later: PathBuf = dir.path().join("new/sub/drumbeat.db");
    let out = doctor_on(&later);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("does not exist yet"),
        "{}",
        stdout(&out)
    );
    assert!(!dir.path().join("new").exists(), "doctor writes nothing");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".probe"))
        .collect();
    assert!(leftovers.is_empty(), "the probe is removed");
    let out = bin(&later, &["exec", "program list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(later.exists());
}

/// A log destination the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn command_text_is_logged_with_urls_and_tokens_masked() {
    if std::env::var_os("RUST_LOG").is_some() {
        println!("skipped: RUST_LOG is set and would replace the test's trace filter");
        return;
    }
    let log = Captured::default();
    for format in [LogFormat::Text, LogFormat::Json] {
        let settings = LogSettings {
            filter: "trace".into(),
            format,
        };
        let subscriber = telemetry::subscriber(&settings, log.clone());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(async {
                let db = TestDb::new().await;
                seed_atlas(&db).await;
                db.ok(
                    "tpm",
                    "program route atlas --slack-webhook https://hooks.slack.com/services/T0AAA/B0BBB/hooksecret42",
                )
                .await;
                // A token pasted where a name goes.
                let _ = db
                    .run("tpm", "project add atlas bot --name xoxb-1111-2222-tokensecret")
                    .await;
            })
        });
    }
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("program route atlas"),
        "the command is logged:\n{text}"
    );
    assert!(text.contains("https://hooks.slack.com/…"), "{text}");
    assert!(text.contains("[masked]"), "{text}");
    for secret in ["hooksecret42", "T0AAA", "tokensecret", "xoxb-1111"] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into the log:\n{text}"
        );
    }
}

/// Reads stderr until `drumbeat run` prints where it serves; keeps draining it after.
fn served_at(child: &mut std::process::Child) -> String {
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "no address printed");
        if let Some(rest) = line.strip_prefix("HTTP on ") {
            std::thread::spawn(move || {
                let mut sink = Vec::new();
                let _ = err.read_to_end(&mut sink);
            });
            return rest.split(':').take(3).collect::<Vec<_>>().join(":");
        }
    }
}

#[tokio::test]
async fn metrics_are_all_there_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_drumbeat"))
        .arg("--db")
        .arg(dir.path().join("drumbeat.db"))
        .arg("run")
        .env_remove("RUST_LOG")
        .env(
            "DRUMBEAT_CONFIG",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .env_remove("DISCORD_TOKEN")
        .env_remove("SLACK_SIGNING_SECRET")
        .env_remove("SLACK_BOT_TOKEN")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env("DRUMBEAT_HTTP__ADDR", "127.0.0.1:0")
        .env("DRUMBEAT_LOG__FILTER", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start drumbeat run");
    let base = served_at(&mut child);
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();

    let typed: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|t| t.split_once(' '))
        .collect();
    let helped: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# HELP "))
        .filter_map(|t| t.split_once(' ').map(|(n, _)| n))
        .collect();
    for name in typed.keys() {
        assert!(helped.contains(name), "{name} has no # HELP:\n{text}");
    }
    for (name, kind) in [
        ("drumbeat_build_info", "gauge"),
        ("drumbeat_commands_total", "counter"),
        ("drumbeat_command_duration_seconds", "histogram"),
        ("drumbeat_jobs_total", "counter"),
        ("drumbeat_deliveries_total", "counter"),
        ("drumbeat_outbox_pending", "gauge"),
        ("drumbeat_outbox_oldest_pending_seconds", "gauge"),
        ("drumbeat_outbox_oldest_due_seconds", "gauge"),
        ("drumbeat_outbox_dead", "gauge"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_cpu_seconds_total", "counter"),
        ("process_open_fds", "gauge"),
        ("process_start_time_seconds", "gauge"),
    ] {
        assert_eq!(typed.get(name), Some(&kind), "{name} in\n{text}");
    }
    // Renamed or folded: one name per thing.
    assert!(!text.contains("drumbeat_dead_letters_total"), "{text}");
    assert!(!text.contains("drumbeat_command_seconds"), "{text}");

    let value = |series: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    };
    assert_eq!(
        value(&format!(
            "drumbeat_build_info{{version=\"{}\"}}",
            env!("CARGO_PKG_VERSION")
        )),
        Some(1.0),
        "{text}"
    );
    for kind in ["prompt", "reminder", "digest", "nudge"] {
        for outcome in ["ran", "skipped", "failed"] {
            let series = format!("drumbeat_jobs_total{{kind=\"{kind}\",outcome=\"{outcome}\"}}");
            assert_eq!(value(&series), Some(0.0), "{series} in\n{text}");
        }
    }
    for platform in ["console", "discord", "slack"] {
        for outcome in ["sent", "retried", "dead"] {
            let series = format!(
                "drumbeat_deliveries_total{{platform=\"{platform}\",outcome=\"{outcome}\"}}"
            );
            assert_eq!(value(&series), Some(0.0), "{series} in\n{text}");
        }
    }
    for (area, verbs) in drumbeat::command::grammar::command_tree() {
        for verb in verbs {
            for outcome in ["ok", "refused", "error"] {
                let series = format!(
                    "drumbeat_commands_total{{command=\"{area} {verb}\",outcome=\"{outcome}\"}}"
                );
                assert_eq!(value(&series), Some(0.0), "{series} in\n{text}");
            }
        }
    }
    assert_eq!(
        value("drumbeat_command_duration_seconds_count{command=\"milestone add\"}"),
        Some(0.0),
        "{text}"
    );
    assert!(
        value("process_resident_memory_bytes").unwrap_or(0.0) > 1e6,
        "{text}"
    );
    assert!(value("process_open_fds").unwrap_or(0.0) >= 3.0, "{text}");
    assert!(
        value("process_start_time_seconds").unwrap_or(0.0) > 1.7e9,
        "{text}"
    );
    assert!(value("process_cpu_seconds_total").is_some(), "{text}");
}
