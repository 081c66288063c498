//! Completion of what is being typed: programs of the tenant, or keys and numbers of the
//! program named in the other options (or bound to the channel).

use crate::domain::{Key, MilestoneState, Tenant};
use crate::store::{self, Store};

/// What an option completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    Program,
    /// Project and milestone keys (one namespace per program).
    Key,
    Project,
    Milestone,
    /// Numbered records of the area: dependencies, risks or decisions.
    Number,
}

/// One offer: what is shown, and the value it fills in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub label: String,
    pub value: String,
}

/// What is being completed, and where.
pub struct Asked<'a> {
    pub tenant: &'a Tenant,
    pub channel: &'a str,
    /// The program named in the other options, if any.
    pub program: Option<&'a str>,
    /// The command's area (`dep`, `risk`, …), for numbers.
    pub area: &'a str,
    pub what: Completion,
    /// What was typed so far.
    pub partial: &'a str,
}

/// Up to `limit` choices matching what was typed so far (by key, number or name).
pub async fn choices(
    store: &Store,
    asked: &Asked<'_>,
    limit: usize,
) -> anyhow::Result<Vec<Choice>> {
    let partial = asked.partial.trim().to_ascii_lowercase();
    let matches = |key: &str, label: &str| {
        partial.is_empty()
            || key.to_ascii_lowercase().contains(&partial)
            || label.to_ascii_lowercase().contains(&partial)
    };
    let choice = |key: String, label: &str| Choice {
        label: format!("{key} · {label}"),
        value: key,
    };
    let tenant = asked.tenant;
    let what = asked.what;
    let mut tx = store.read().await?;
    let mut out = Vec::new();
    if what == Completion::Program {
        for p in store::list_programs(&mut tx, tenant).await? {
            if !p.archived && matches(p.key.as_str(), p.name.as_str()) {
                out.push(choice(p.key.to_string(), p.name.as_str()));
            }
        }
        tx.commit().await?;
        out.truncate(limit);
        return Ok(out);
    }
    let key = match asked.program.map(Key::parse) {
        Some(Ok(k)) => Some(k),
        Some(Err(_)) => None,
        None => store::bound_program(&mut tx, tenant, asked.channel).await?,
    };
    let Some(key) = key else {
        return Ok(out);
    };
    let Some((scope, _)) = store::find_program(&mut tx, tenant, &key).await? else {
        return Ok(out);
    };
    if matches!(what, Completion::Project | Completion::Key) {
        for p in store::projects(&mut tx, &scope).await? {
            if !p.removed && matches(p.key.as_str(), p.name.as_str()) {
                out.push(choice(p.key.to_string(), p.name.as_str()));
            }
        }
    }
    if matches!(what, Completion::Milestone | Completion::Key) {
        for m in store::milestones(&mut tx, &scope).await? {
            if m.state == MilestoneState::Planned && matches(m.key.as_str(), m.title.as_str()) {
                out.push(choice(m.key.to_string(), m.title.as_str()));
            }
        }
    }
    if what == Completion::Number {
        let numbered: Vec<(i64, String)> = match asked.area {
            "dep" => store::dependencies(&mut tx, &scope)
                .await?
                .into_iter()
                .map(|d| (d.number, d.what.as_str().to_owned()))
                .collect(),
            "risk" => store::risks(&mut tx, &scope)
                .await?
                .into_iter()
                .map(|r| (r.number, r.title.as_str().to_owned()))
                .collect(),
            "decision" => store::decisions(&mut tx, &scope)
                .await?
                .into_iter()
                .map(|d| (d.number, d.title.as_str().to_owned()))
                .collect(),
            _ => vec![],
        };
        for (n, label) in numbered {
            if matches(&n.to_string(), &label) {
                out.push(choice(n.to_string(), &label));
            }
        }
    }
    tx.commit().await?;
    out.truncate(limit);
    Ok(out)
}
