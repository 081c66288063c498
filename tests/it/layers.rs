//! The layering rule (docs/ARCHITECTURE.md), read from every `crate::` path in
//! `src/` (not only `use` lines): `domain` imports nothing of the crate; `analysis` and
//! `reply` import only `domain`; `store` and `config` import only `domain` and `clock`; nothing below the
//! command layer imports `command` or `platform`; `platform` uses nothing of the store but
//! the `Store` handle it passes on. Known breaches are listed in `KNOWN` until
//! the architecture work removes them; a new one fails this test.

use std::collections::BTreeSet;
use std::path::Path;

/// Modules above the command layer: they may import anything.
const ABOVE: &[&str] = &[
    "command",
    "import",
    "interaction",
    "platform",
    "http",
    "demo",
    "doctor",
    "app",
];

/// (module, imported module) pairs that break the rule today.
const KNOWN: &[(&str, &str)] = &[];

fn allowed(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    match from {
        "domain" => false,
        "analysis" | "reply" => to == "domain",
        "store" | "config" => matches!(to, "domain" | "clock"),
        m if ABOVE.contains(&m) => true,
        _ => !matches!(to, "command" | "platform"),
    }
}

/// Every top-level module named after `crate::` in `text`, including those inside
/// `crate::{a, b::c}` groups.
fn imported(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut at_item = true;
            let mut word = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => at_item = true,
                    c if depth == 1 && at_item && (c.is_alphanumeric() || c == '_') => word.push(c),
                    _ if !word.is_empty() => {
                        out.insert(std::mem::take(&mut word));
                        at_item = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// Every `.rs` file under `src/`: (path relative to `src/`, text).
fn sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&src, &mut files);
    files
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(&src).unwrap().display().to_string();
            (rel, std::fs::read_to_string(&f).unwrap())
        })
        .collect()
}

/// What the store gives `platform` (the handle, to pass on); anything else of the store
/// (its functions, its rows) is the core's or the command layer's business.
const PLATFORM_MAY_USE_OF_STORE: &[&str] = &["Store"];

/// Items named after `store::` in `text` (`store::first_sighting`, `store::{self, Store}`).
fn store_items(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("store::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "store::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `restore::`, `my_store::`
        }
        let items: Vec<String> = match rest.strip_prefix('{') {
            Some(group) => group[..group.find('}').unwrap_or(group.len())]
                .split(',')
                .map(|w| w.trim().to_owned())
                .filter(|w| !w.is_empty() && w != "self")
                .collect(),
            None => vec![rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()],
        };
        out.extend(items.into_iter().filter(|w| !w.is_empty()));
    }
    out
}

/// (module, what it imports against the rule, file) for every breach in `files`.
fn breaches_in(files: &[(String, String)]) -> BTreeSet<(String, String, String)> {
    let mut found = BTreeSet::new();
    for (rel, text) in files {
        let first = rel.split('/').next().unwrap();
        let module = first.trim_end_matches(".rs").to_owned();
        if matches!(module.as_str(), "lib" | "main") {
            continue;
        }
        for to in imported(text) {
            if !allowed(&module, &to) {
                found.insert((module.clone(), to, rel.clone()));
            }
        }
        if module == "platform" {
            for item in store_items(text) {
                if !PLATFORM_MAY_USE_OF_STORE.contains(&item.as_str()) {
                    found.insert((module.clone(), format!("store::{item}"), rel.clone()));
                }
            }
        }
    }
    found
}

fn breaches() -> BTreeSet<(String, String, String)> {
    breaches_in(&sources())
}

#[test]
fn a_forbidden_line_added_anywhere_is_caught() {
    let clean = breaches();
    for (file, line, breach) in [
        (
            "store/mod.rs",
            "use crate::command::Ctx;",
            ("store", "command"),
        ),
        (
            "domain/mod.rs",
            "fn f() { crate::clock::now(); }",
            ("domain", "clock"),
        ),
        (
            "analysis/mod.rs",
            "use crate::{domain::Key, store::Store};",
            ("analysis", "store"),
        ),
        (
            "outbox/mod.rs",
            "use crate::platform::discord::Bot;",
            ("outbox", "platform"),
        ),
        (
            "reply/mod.rs",
            "pub(crate) type T = crate::digest::Digest;",
            ("reply", "digest"),
        ),
        (
            "platform/slack/mod.rs",
            "async fn g(c: &mut Conn) { store::find_program(c, t, k).await; }",
            ("platform", "store::find_program"),
        ),
    ] {
        let mut files = sources();
        let (_, text) = files
            .iter_mut()
            .find(|(rel, _)| rel == file)
            .unwrap_or_else(|| panic!("{file} is not in src/"));
        text.push('\n');
        text.push_str(line);
        let found = breaches_in(&files);
        let added: Vec<_> = found.difference(&clean).collect();
        assert!(
            added
                .iter()
                .any(|(from, to, f)| (from.as_str(), to.as_str()) == breach && f == file),
            "`{line}` in {file} was not caught: {added:?}"
        );
    }
}

#[test]
fn the_reader_finds_paths_in_groups_and_expressions() {
    let seen = imported(
        "use crate::{domain::{Key, Tenant}, reply::Reply};\nlet x = crate::store::find(y);\n",
    );
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["domain", "reply", "store"]
    );
}

#[test]
fn a_forbidden_import_is_caught() {
    assert!(!allowed("domain", "store"));
    assert!(!allowed("store", "outbox"));
    assert!(!allowed("analysis", "store"));
    assert!(!allowed("schedule", "command"));
    assert!(!allowed("config", "http") && !allowed("config", "store"));
    assert!(allowed("store", "domain") && allowed("platform", "command"));
    assert_eq!(
        store_items(
            "use crate::store::{self, Store};\nlet r = store::first_sightings(x); restore::y"
        ),
        ["Store", "first_sightings"]
            .map(String::from)
            .into_iter()
            .collect()
    );
}

#[test]
fn layers_hold_except_for_the_known_breaches() {
    let found = breaches();
    let new: Vec<_> = found
        .iter()
        .filter(|(from, to, _)| !KNOWN.contains(&(from.as_str(), to.as_str())))
        .collect();
    assert!(
        new.is_empty(),
        "imports that break the layering rule (docs/plan.md):\n{}",
        new.iter()
            .map(|(from, to, file)| format!("  {file}: `{from}` imports `{to}`"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let pairs: BTreeSet<(&str, &str)> = found
        .iter()
        .map(|(f, t, _)| (f.as_str(), t.as_str()))
        .collect();
    let healed: Vec<_> = KNOWN.iter().filter(|k| !pairs.contains(k)).collect();
    assert!(
        healed.is_empty(),
        "these breaches are gone: remove them from KNOWN: {healed:?}"
    );
}
