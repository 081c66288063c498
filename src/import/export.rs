//! `export --csv DIR`: the program as the sheets `import-csv` reads back, one CSV per kind.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::Kind;
use crate::domain::{Endpoint, ItemKind, Key, Snapshot, Tenant};
use crate::store::{self, Store};

/// Writes `milestones.csv`, `dependencies.csv`, `risks.csv`, `assumptions.csv`,
/// `issues.csv` and `actions.csv` of the program into `dir` (made if missing), or `None`
/// when the tenant has no such program.
pub async fn export_csv(
    store: &Store,
    tenant: &Tenant,
    key: &Key,
    dir: &Path,
) -> anyhow::Result<Option<Vec<PathBuf>>> {
    let mut tx = store.snapshot().await?;
    let Some((scope, program)) = store::find_program(&mut tx, tenant, key).await? else {
        return Ok(None);
    };
    let now = chrono::Utc::now();
    let snap = store::load_snapshot(&mut tx, &scope, program, now, Some(now)).await?;
    let ext = store::external_ids(&mut tx, &scope).await?;
    tx.commit().await?;
    std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))?;
    let reverse = |m: &HashMap<String, i64>| -> HashMap<i64, String> {
        m.iter().map(|(e, n)| (*n, e.clone())).collect()
    };
    let ids = Ids {
        milestones: ext
            .milestones
            .iter()
            .map(|(e, k)| (k.to_string(), e.clone()))
            .collect(),
        deps: reverse(&ext.dependencies),
        risks: reverse(&ext.risks),
        items: ext
            .items
            .iter()
            .map(|((kind, e), n)| ((*kind, *n), e.clone()))
            .collect(),
    };
    let mut written = Vec::new();
    for kind in Kind::SHEETS {
        let path = dir.join(format!("{}.csv", kind.as_str()));
        let mut w =
            csv::Writer::from_path(&path).with_context(|| format!("writing {}", path.display()))?;
        for record in sheet(&snap, &ids, *kind) {
            w.write_record(&record)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        w.flush()
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(Some(written))
}

struct Ids {
    milestones: HashMap<String, String>,
    deps: HashMap<i64, String>,
    risks: HashMap<i64, String>,
    items: HashMap<(ItemKind, i64), String>,
}

/// The rows of one sheet, its header first.
fn sheet(snap: &Snapshot, ids: &Ids, kind: Kind) -> Vec<Vec<String>> {
    let person = |id: Option<i64>| {
        id.and_then(|id| snap.people.get(&id))
            .map_or(String::new(), |p| p.handle.clone())
    };
    let project = |id: Option<i64>| {
        id.and_then(|id| snap.project(id))
            .map_or(String::new(), |p| p.key.to_string())
    };
    let milestone_key = |id: i64| {
        snap.milestone(id)
            .map_or(String::new(), |m| m.key.to_string())
    };
    let endpoint = |e: &Endpoint| match e {
        Endpoint::Project(id) => project(Some(*id)),
        Endpoint::Milestone(id) => milestone_key(*id),
        Endpoint::External(_) => String::new(),
    };
    let date = |d: Option<chrono::NaiveDate>| d.map_or(String::new(), |d| d.to_string());
    let header = |h: &[&str]| h.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let mut out = Vec::new();
    match kind {
        Kind::Projects => {}
        Kind::Milestones => {
            out.push(header(&[
                "key",
                "title",
                "project",
                "target",
                "owner",
                "after",
                "state",
                "external_id",
            ]));
            for m in &snap.milestones {
                out.push(vec![
                    m.key.to_string(),
                    m.title.to_string(),
                    project(m.project),
                    m.target.to_string(),
                    person(m.owner),
                    m.after
                        .iter()
                        .map(|id| milestone_key(*id))
                        .collect::<Vec<_>>()
                        .join(","),
                    m.state.as_str().to_owned(),
                    ids.milestones
                        .get(m.key.as_str())
                        .cloned()
                        .unwrap_or_default(),
                ]);
            }
        }
        Kind::Dependencies => {
            out.push(header(&[
                "number",
                "what",
                "needs",
                "from",
                "external",
                "need_by",
                "owner",
                "external_id",
            ]));
            for d in &snap.deps {
                out.push(vec![
                    d.number.to_string(),
                    d.what.to_string(),
                    endpoint(&d.needs),
                    endpoint(&d.from),
                    match &d.from {
                        Endpoint::External(x) => x.clone(),
                        _ => String::new(),
                    },
                    d.need_by.to_string(),
                    person(d.owner),
                    ids.deps.get(&d.number).cloned().unwrap_or_default(),
                ]);
            }
        }
        Kind::Risks => {
            out.push(header(&[
                "number",
                "title",
                "likelihood",
                "impact",
                "owner",
                "mitigation",
                "project",
                "review_by",
                "external_id",
            ]));
            for r in &snap.risks {
                out.push(vec![
                    r.number.to_string(),
                    r.title.to_string(),
                    r.likelihood.get().to_string(),
                    r.impact.get().to_string(),
                    person(r.owner),
                    r.mitigation.clone(),
                    project(r.project),
                    date(r.review_by),
                    ids.risks.get(&r.number).cloned().unwrap_or_default(),
                ]);
            }
        }
        Kind::Assumptions | Kind::Issues | Kind::Actions => {
            let (item_kind, due_name) = match kind {
                Kind::Assumptions => (ItemKind::Assumption, "validate_by"),
                Kind::Issues => (ItemKind::Issue, "due"),
                _ => (ItemKind::Action, "due"),
            };
            let mut h = vec!["number", "title", "owner", due_name, "project"];
            if item_kind == ItemKind::Issue {
                h.push("severity");
            }
            h.push("external_id");
            out.push(header(&h));
            for i in snap.items.iter().filter(|i| i.kind == item_kind) {
                let mut row = vec![
                    i.number.to_string(),
                    i.title.to_string(),
                    person(i.owner),
                    date(i.due),
                    project(i.project),
                ];
                if item_kind == ItemKind::Issue {
                    row.push(i.severity.map_or(String::new(), |s| s.as_str().to_owned()));
                }
                row.push(
                    ids.items
                        .get(&(item_kind, i.number))
                        .cloned()
                        .unwrap_or_default(),
                );
                out.push(row);
            }
        }
    }
    out
}
