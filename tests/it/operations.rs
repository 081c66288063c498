//! Operators get true answers (issue #13): `doctor` and `exec` on a database that cannot be
//! created or opened, secrets masked in logs and read from files, and metrics as Prometheus
//! users expect them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
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
