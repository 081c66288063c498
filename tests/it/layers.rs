//! The layering rule (docs/plan.md), read from every `crate::` path in
//! `src/` (not only `use` lines): `domain` imports nothing of the crate; `analysis` and
//! `reply` import only `domain`; `store` imports only `domain` and `clock`; nothing below the
//! command layer imports `command` or `platform`. Known breaches are listed in `KNOWN` until
//! the architecture work removes them; a new one fails this test.

use std::collections::BTreeSet;
use std::path::Path;

/// Modules above the command layer: they may import anything.
const ABOVE: &[&str] = &["command", "platform", "http", "demo", "doctor"];

/// (module, imported module) pairs that break the rule today.
const KNOWN: &[(&str, &str)] = &[];

fn allowed(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    match from {
        "domain" => false,
        "analysis" | "reply" => to == "domain",
        "store" => matches!(to, "domain" | "clock"),
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

fn breaches() -> BTreeSet<(String, String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&src, &mut files);
    let mut found = BTreeSet::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        if matches!(module.as_str(), "lib" | "main") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for to in imported(&text) {
            if !allowed(&module, &to) {
                found.insert((module.clone(), to, rel.display().to_string()));
            }
        }
    }
    found
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
    assert!(allowed("store", "domain") && allowed("platform", "store"));
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
