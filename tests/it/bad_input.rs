//! Bad input: exit 2, a specific message, and not one byte of content changed.

use crate::helpers::*;

#[tokio::test]
async fn bad_input_is_refused_specifically_and_changes_nothing() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let long_title = "x".repeat(201);
    let long = format!("milestone add atlas m --target +1w --title {long_title}");
    let cases: Vec<(&str, &str, &str)> = vec![
        (
            "tpm",
            "frobnicate atlas",
            "unrecognized subcommand 'frobnicate'",
        ),
        (
            "tpm",
            "milestone add atlas m --target 2026-12-01 --colour red",
            "--colour",
        ),
        ("tpm", "milestone add atlas m", "--target"),
        ("tpm", "program create", "<KEY>"),
        (
            "tpm",
            "project add atlas evil --name \"Public\u{202E}IPA\"",
            "direction control U+202E",
        ),
        (
            "tpm",
            "milestone add atlas m --target +1w --title \"API\u{200B} beta\"",
            "invisible character U+200B",
        ),
        (
            "tpm",
            "milestone add atlas m --target 2026-13-01",
            "`2026-13-01` is not a date",
        ),
        (
            "tpm",
            "milestone add atlas m --target someday",
            "`someday` is not a date",
        ),
        (
            "tpm",
            "risk add atlas x --likelihood 7 --impact 5",
            "from 1 to 5",
        ),
        (
            "tpm",
            "risk add atlas x --likelihood 3 --impact 0",
            "from 1 to 5",
        ),
        ("tpm", "milestone list nope", "there is no program `nope`"),
        (
            "tpm",
            "status post atlas nope --rag green --summary x",
            "there is no project `nope`",
        ),
        (
            "tpm",
            "milestone move atlas nope --target +1w --reason x",
            "there is no milestone `nope`",
        ),
        ("tpm", "project add atlas api", "`api` is already a project"),
        (
            "tpm",
            "milestone add atlas api --target +1w",
            "`api` is already a project",
        ),
        (
            "tpm",
            "program create atlas",
            "a program `atlas` already exists",
        ),
        (
            "tpm",
            "dep add atlas --needs api --from frontend --what x --by +1w",
            "cycle: frontend → api → frontend",
        ),
        (
            "tpm",
            "dep add atlas --needs api-beta --from fe-launch --what x --by +1w",
            "cycle: fe-launch → api-beta → fe-launch",
        ),
        ("tpm", &long, "at most 200 characters"),
        (
            "tpm",
            "program create newp --tz Mars/Base",
            "unknown timezone `Mars/Base`",
        ),
        (
            "zoe",
            "risk add atlas x --likelihood 1 --impact 1",
            "only the project's owner, an editor or the owner of `atlas`",
        ),
        (
            "zoe",
            "decision add atlas x",
            "only an editor or the owner of `atlas` can log decisions (you are a viewer)",
        ),
        (
            "dana",
            "program create p2",
            "only a tenant admin can create programs",
        ),
        (
            "li",
            "milestone move atlas api-beta --target +5w --reason x",
            "can move it",
        ),
        (
            "tpm",
            "dep block atlas 99 --reason x",
            "there is no dependency #99",
        ),
        (
            "tpm",
            "dep block atlas abc --reason x",
            "`abc` is not a dependency number",
        ),
        (
            "tpm",
            "status post atlas api --rag blue --summary x",
            "`blue` is not a RAG value",
        ),
        (
            "tpm",
            "milestone add atlas Bad_Key --target +1w",
            "`Bad_Key` is not a valid key",
        ),
        (
            "tpm",
            r#"risk add atlas "unclosed --likelihood 1 --impact 1"#,
            "a quote is not closed",
        ),
        (
            "tpm",
            "project add atlas x --owner dana",
            "`dana` is not a person",
        ),
        (
            "tpm",
            "milestone add atlas m2 --target +1w --after nope",
            "there is no milestone `nope`",
        ),
        (
            "tpm",
            "milestone add atlas m2 --target +1w --after api",
            "`api` is a project; --after takes milestone keys",
        ),
        (
            "tpm",
            "dep add atlas --needs api --from api --what x --by +1w",
            "cannot depend on itself",
        ),
        (
            "tpm",
            "milestone done atlas auth-ready --on +3d",
            "is in the future",
        ),
        (
            "li",
            "status post atlas frontend --rag red --summary bad",
            "needs --blockers or --next",
        ),
        (
            "tpm",
            "program grant atlas @zoe --role owner",
            "a program has one owner",
        ),
        (
            "tpm",
            "milestone move atlas api-beta --target 2026-12-15 --reason x",
            "already targets 2026-12-15",
        ),
        (
            "tpm",
            "dep add atlas --needs frontend --what x --by +1w",
            "--from",
        ),
        ("tpm", "program set atlas --staleness 400", "1 to 365 days"),
        (
            "tpm",
            "person set @dana --delegate @dana",
            "cannot be their own delegate",
        ),
        ("tpm", "risk close atlas 7", "there is no risk #7"),
        (
            "tpm",
            "milestone move atlas api-beta --target +1w --reason ''",
            "needs a --reason",
        ),
        (
            "tpm",
            "digest show atlas --audience ceo",
            "`ceo` is not a digest audience: use one of engineering, executive, product",
        ),
        (
            "tpm",
            "digest show atlas --format pdf",
            "`pdf` is not a format: use one of text, markdown, discord, slack, json",
        ),
        (
            "tpm",
            "digest show atlas --since +1w",
            "--since must be before now",
        ),
        ("tpm", "path show nope", "there is no program `nope`"),
        (
            "tpm",
            "path whatif atlas api-beta --slip soon",
            "`soon` is not a duration",
        ),
        ("tpm", "path whatif atlas api-beta", "--slip"),
        (
            "tpm",
            "path whatif atlas api-beta --slip 0",
            "--slip must be at least 1 day",
        ),
        (
            "tpm",
            "report postmortem atlas --milestone nope",
            "there is no milestone `nope` in `atlas`",
        ),
        (
            "tpm",
            "report charter atlas --out /nonexistent/dir/charter.md",
            "cannot write `/nonexistent/dir/charter.md`",
        ),
        (
            "tpm",
            "report roadmap atlas",
            "unrecognized subcommand 'roadmap'",
        ),
        (
            "tpm",
            "decision decide atlas 1 --outcome again",
            "decision #1 was decided on 2026-11-27",
        ),
        (
            "tpm",
            r#"schedule set atlas prompt "weekly funday 10:00""#,
            "is not a schedule",
        ),
        (
            "tpm",
            r#"schedule set atlas weekly "daily 09:00""#,
            "`weekly` is not a schedule kind: use one of prompt, reminder, digest, nudge",
        ),
        (
            "tpm",
            r#"schedule preview "61 * * * *""#,
            "minute 61 is out of range",
        ),
        (
            "tpm",
            r#"schedule set atlas prompt "daily 09:00" --audience executive"#,
            "--audience, --channel and --webhook are for digest schedules",
        ),
        (
            "tpm",
            r#"schedule set atlas digest "daily 09:00" --webhook http://example.com/x"#,
            "--slack-webhook takes a Slack incoming-webhook URL",
        ),
        (
            "tpm",
            "schedule remove atlas 9",
            "there is no schedule #9 in `atlas`",
        ),
        (
            "tpm",
            "dep snooze atlas 1 --until 2026-11-01",
            "is in the past: --until takes the last quiet day",
        ),
        (
            "tpm",
            "outbox retry atlas 99",
            "there is no dead message #99 in `atlas`",
        ),
        ("dana", "outbox list atlas", "can see its outbox"),
        ("tpm", "person away @dana", "give --until DATE"),
        (
            "tpm",
            r#"schedule preview "daily 09:00" --count 0"#,
            "--count is 1 to 100",
        ),
        (
            "dana",
            "dep snooze atlas 1 --until +3w",
            "owners may snooze for up to two weeks",
        ),
    ];
    assert!(cases.len() >= 60);
    for (who, line, want) in cases {
        let before = db.dump().await;
        let out = db.bin(&[
            "exec",
            "--as",
            &format!("@{who}"),
            "--now",
            "2026-11-27T09:00:00Z",
            line,
        ]);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "`{line}` should exit 2; stderr: {err} stdout: {}",
            stdout(&out)
        );
        assert!(err.contains(want), "`{line}`: expected «{want}» in «{err}»");
        assert!(
            stdout(&out).is_empty(),
            "`{line}` printed to stdout: {}",
            stdout(&out)
        );
        assert_eq!(before, db.dump().await, "`{line}` changed the database");
    }
}

#[tokio::test]
async fn internal_errors_exit_1_and_a_missing_config_exits_2() {
    let db = TestDb::new().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_drumbeat"))
        .args([
            "--config",
            "/nonexistent/drumbeat.toml",
            "exec",
            "program list",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"));
    // A database path that is a directory is the operator's to fix: exit 2, naming it.
    let dir = db.path.parent().unwrap().to_string_lossy().into_owned();
    let out = bin(std::path::Path::new(&dir), &["exec", "program list"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(&dir), "{}", stderr(&out));
    // A database that opens and then fails under a command: an internal error, exit 1.
    drumbeat::store::db::query("ALTER TABLE programs RENAME TO programs_lost")
        .execute(&mut db.store.conn().await.unwrap())
        .await
        .unwrap();
    db.store.close().await;
    let out = db.bin(&["exec", "program list"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("error id"), "{}", stderr(&out));
}

#[tokio::test]
async fn help_is_there_for_every_area() {
    let db = TestDb::new().await;
    let out = db.bin(&["exec", "help"]);
    assert!(out.status.success());
    for area in [
        "program",
        "charter",
        "project",
        "person",
        "milestone",
        "dep",
        "risk",
        "decision",
        "status",
    ] {
        assert!(stdout(&out).contains(area), "help lacks {area}");
        let out = db.bin(&["exec", "help", area]);
        assert!(out.status.success(), "help {area}: {}", stderr(&out));
    }
    let out = db.bin(&["exec", "milestone add --help"]);
    assert!(stdout(&out).contains("--duration"), "{}", stdout(&out));
}

#[test]
fn the_console_reads_lines_until_quit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_drumbeat"))
        .current_dir(dir.path())
        .arg("--db")
        .arg(&db)
        .arg("console")
        .env(
            "DRUMBEAT_CONFIG",
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"program create atlas --name \"Atlas\"\nrisk add atlas x --likelihood 9 --impact 1\nprogram list\nquit\nprogram list\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("Created program atlas"), "{text}");
    assert!(text.contains("error: invalid value '9'"), "{text}");
    assert_eq!(
        text.matches("Programs (1)").count(),
        1,
        "lines after quit ran: {text}"
    );
    assert!(
        dir.path().join(".drumbeat_history").exists(),
        "history was not kept"
    );
}

#[tokio::test]
async fn what_an_error_echoes_is_short_and_escaped() {
    let db = TestDb::new().await;
    seed_atlas(&db).await;
    let novel = "y".repeat(10_000);
    let cases = [
        // Clap's own errors quote the word they could not place.
        format!("milestone list atlas {novel}"),
        format!("frobnicate{novel}"),
        // Ours quote the value they could not read.
        format!("dep block atlas {novel} --reason x"),
        format!("milestone add atlas m --target {novel}"),
        format!("schedule set atlas digest \"{novel}\""),
        "milestone add atlas m --target \"2026-01-01`\n**bold**\"".to_owned(),
    ];
    for line in &cases {
        let err = match db.run("tpm", line).await {
            Err(drumbeat::command::CommandError::User(msg)) => msg,
            other => panic!("{:.60}: expected a refusal, got {other:?}", line),
        };
        assert!(err.len() < 600, "{} chars: {err:.200}", err.len());
        assert!(!err.contains(&"y".repeat(41)), "{err:.200}");
        assert!(!err.contains('\n') || !err.contains("**bold**"), "{err}");
        assert_eq!(
            err.matches('`').count() % 2,
            0,
            "the echo cannot leave a code span open: {err}"
        );
    }
}

#[tokio::test]
async fn a_closed_pipe_ends_the_command_quietly() {
    use std::io::Read;
    let db = TestDb::new().await;
    drumbeat::fixture::generate(
        &db.store,
        &drumbeat::domain::Tenant::local(),
        "big",
        drumbeat::fixture::Size::TENTH,
        crate::helpers::now(),
    )
    .await
    .unwrap();
    // `drumbeat export … | head -c 100`: the reader leaves after a few bytes of a document
    // far larger than a pipe holds.
    let mut child = db
        .command()
        .args(["export", "--program", "big"])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 100];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "it panicked: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("Broken pipe"), "{err}");
    assert!(err.trim().is_empty(), "quiet: {err}");
}
