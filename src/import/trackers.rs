//! Trackers' exports as sheets of projects, milestones and dependencies.
//!
//! - Jira's CSV export: each Jira project and each epic becomes a project; epics and issues
//!   with a due date become milestones (an epic's is `KEY-end`, as the epic's own key names
//!   its project); "blocks" links become dependencies.
//! - Linear's CSV export: each project becomes a project, issues with a due date
//!   milestones, each project milestone a milestone after its issues (due with the last of
//!   them), and "Blocks" / "Blocked by" relations dependencies.
//! - GitHub's milestones JSON (`GET /repos/{owner}/{repo}/milestones`): the repository
//!   becomes a project and each milestone with a due date a milestone; closed ones are done.
//!
//! Keys are made from the tracker's ids, which are kept as the records' tracker ids.

use std::collections::{BTreeMap, HashMap};

use super::sheet::parse_date;
use super::{key_from, Field, Kind, Row, Sheet, Style};

/// A CSV export read into its header and rows, each with its row number in the file.
struct Table {
    headers: Vec<String>,
    rows: Vec<(usize, csv::StringRecord)>,
}

fn read_table(label: &str, text: &str) -> Result<Table, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let headers: Vec<String> = match records.next() {
        Some(Ok(h)) => h.iter().map(|h| h.trim().to_owned()).collect(),
        Some(Err(e)) => return Err(format!("{label}: the header row cannot be read: {e}")),
        None => {
            return Err(format!(
                "{label} is empty: its first row must name the columns"
            ))
        }
    };
    let mut rows = Vec::new();
    let mut line = 1usize;
    for r in records {
        let r = r.map_err(|e| format!("{label}: {e}"))?;
        line = r
            .position()
            .map_or(line + 1, |p| usize::try_from(p.line()).unwrap_or(line + 1));
        if r.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        rows.push((line, r));
    }
    Ok(Table { headers, rows })
}

impl Table {
    /// Every column with this name (ignoring case): exports repeat link columns.
    fn all(&self, name: &str) -> Vec<usize> {
        self.headers
            .iter()
            .enumerate()
            .filter(|(_, h)| h.eq_ignore_ascii_case(name))
            .map(|(i, _)| i)
            .collect()
    }

    fn first(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.all(n).first().copied())
    }
}

fn cell(r: &csv::StringRecord, i: Option<usize>) -> &str {
    i.and_then(|i| r.get(i)).map_or("", str::trim)
}

/// One issue of an export, as the importers need it.
struct Issue {
    row: usize,
    id: String,
    title: String,
    due: Option<String>,
    status: String,
    assignee: String,
    epic: bool,
    parent: String,
    project: String,
    project_name: String,
    /// Issues this one blocks, with the column that said so.
    blocks: Vec<(String, String)>,
    /// Issues that block this one, with the column that said so.
    blocked_by: Vec<(String, String)>,
    milestone_group: String,
}

fn due_of(label: &str, row: usize, column: &str, raw: &str) -> Result<Option<String>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    parse_date(raw, None)
        .map(|d| Some(d.to_string()))
        .map_err(|e| format!("{label} row {row}, column `{column}`: {e}"))
}

/// The ids in a relation cell: Jira repeats the column, one id each; Linear lists them
/// separated by commas.
fn ids(raw: &str) -> impl Iterator<Item = String> + '_ {
    raw.split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn mapping(table: &Table, used: &[(&str, Field)]) -> Vec<(String, Option<Field>)> {
    table
        .headers
        .iter()
        .map(|h| {
            let f = used
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(h))
                .map(|(_, f)| *f);
            (h.clone(), f)
        })
        .collect()
}

fn sheet(kind: Kind, label: &str, style: Style) -> Sheet {
    Sheet {
        kind,
        label: label.to_owned(),
        style,
        mapping: Vec::new(),
        rows: Vec::new(),
        skipped: Vec::new(),
    }
}

fn done_status(raw: &str) -> bool {
    matches!(
        raw.trim().to_ascii_lowercase().as_str(),
        "done" | "closed" | "resolved" | "complete" | "completed"
    )
}

/// Dependencies from "blocks" links between issues of the export: the blocked one needs
/// the blocking one's work, by the blocked one's due date (else the blocking one's).
fn dependencies(
    label: &str,
    issues: &[Issue],
    endpoint: &dyn Fn(&Issue) -> Option<String>,
    owner_column: &str,
    deps: &mut Sheet,
) {
    let by_id: HashMap<&str, &Issue> = issues.iter().map(|i| (i.id.as_str(), i)).collect();
    let mut pairs: BTreeMap<(String, String), (usize, String)> = BTreeMap::new();
    for i in issues {
        for (other, column) in &i.blocks {
            pairs
                .entry((i.id.clone(), other.clone()))
                .or_insert((i.row, column.clone()));
        }
        for (other, column) in &i.blocked_by {
            pairs
                .entry((other.clone(), i.id.clone()))
                .or_insert((i.row, column.clone()));
        }
    }
    let mut seen: Vec<(usize, String, String, String)> = pairs
        .into_iter()
        .map(|((provider, consumer), (row, column))| (row, provider, consumer, column))
        .collect();
    seen.sort();
    for (row, provider, consumer, column) in seen {
        let column = column.as_str();
        let consumer = consumer.as_str();
        let (Some(p), Some(c)) = (by_id.get(provider.as_str()), by_id.get(consumer)) else {
            let missing = if by_id.contains_key(provider.as_str()) {
                consumer.to_owned()
            } else {
                provider.clone()
            };
            deps.skipped.push((
                row,
                format!("{provider} blocks {consumer}, but {missing} is not in {label}"),
            ));
            continue;
        };
        let (Some(from), Some(needs)) = (endpoint(p), endpoint(c)) else {
            deps.skipped.push((
                row,
                format!(
                    "{provider} blocks {consumer}, but one of them has no due date and no project"
                ),
            ));
            continue;
        };
        let Some(by) = c.due.clone().or_else(|| p.due.clone()) else {
            deps.skipped.push((
                row,
                format!("{provider} blocks {consumer}, but neither has a due date for the need-by"),
            ));
            continue;
        };
        let mut r = Row {
            number: row,
            ..Row::default()
        };
        r.set(Field::What, &p.title, column);
        r.set(Field::From, from, column);
        r.set(Field::Needs, needs, column);
        r.set(Field::Due, by, column);
        r.set(Field::Owner, &p.assignee, owner_column);
        r.set(Field::Id, format!("{provider} blocks {consumer}"), column);
        deps.rows.push(r);
    }
}

/// Jira's CSV export (Issues → Export → CSV, all fields).
pub fn read_jira(label: &str, text: &str) -> Result<Vec<Sheet>, String> {
    let t = read_table(label, text)?;
    let key_col = t.first(&["Issue key", "Key"]);
    let summary_col = t.first(&["Summary"]);
    let (Some(key_col), Some(summary_col)) = (key_col, summary_col) else {
        return Err(format!(
            "{label} has no `Issue key` and `Summary` columns: export it from Jira as CSV (all fields)"
        ));
    };
    let due_col = t.first(&["Due date", "Due Date", "Due"]);
    let status_col = t.first(&["Status"]);
    let assignee_col = t.first(&["Assignee"]);
    let type_col = t.first(&["Issue Type"]);
    let epic_col = t.first(&[
        "Epic Link",
        "Custom field (Epic Link)",
        "Parent",
        "Parent id",
    ]);
    let project_key_col = t.first(&["Project key"]);
    let project_name_col = t.first(&["Project name"]);
    let outward = t.all("Outward issue link (Blocks)");
    let inward = t.all("Inward issue link (Blocks)");
    let column = |i: usize| t.headers[i].clone();
    let mut issues = Vec::new();
    for (row, r) in &t.rows {
        let id = cell(r, Some(key_col)).to_owned();
        if id.is_empty() {
            continue;
        }
        let due_name = due_col.map(column).unwrap_or_default();
        let due = due_of(label, *row, &due_name, cell(r, due_col))?;
        let links = |cols: &[usize]| {
            cols.iter()
                .flat_map(|c| {
                    ids(cell(r, Some(*c)))
                        .map(|v| (v, column(*c)))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        };
        issues.push(Issue {
            row: *row,
            id,
            title: cell(r, Some(summary_col)).to_owned(),
            due,
            status: cell(r, status_col).to_owned(),
            assignee: cell(r, assignee_col).to_owned(),
            epic: cell(r, type_col).eq_ignore_ascii_case("epic"),
            parent: cell(r, epic_col).to_owned(),
            project: cell(r, project_key_col).to_owned(),
            project_name: cell(r, project_name_col).to_owned(),
            blocks: links(&outward),
            blocked_by: links(&inward),
            milestone_group: String::new(),
        });
    }
    let name_of = |i: Option<usize>| i.map(column).unwrap_or_default();
    let (key_name, summary_name) = (column(key_col), column(summary_col));
    let mut projects = sheet(Kind::Projects, label, Style::Csv);
    let mut milestones = sheet(Kind::Milestones, label, Style::Csv);
    let mut deps = sheet(Kind::Dependencies, label, Style::Csv);
    milestones.mapping = mapping(
        &t,
        &[
            (&key_name, Field::Id),
            (&summary_name, Field::Title),
            (&name_of(due_col), Field::Due),
            (&name_of(status_col), Field::State),
            (&name_of(assignee_col), Field::Owner),
            (&name_of(project_key_col), Field::Project),
            (&name_of(project_name_col), Field::Project),
            (&name_of(epic_col), Field::Project),
            (&name_of(type_col), Field::Key),
            ("Outward issue link (Blocks)", Field::From),
            ("Inward issue link (Blocks)", Field::Needs),
        ],
    );
    // The Jira project of an issue: its key when the export has it, else its name.
    let jira_project = |i: &Issue| {
        if !i.project.is_empty() {
            Some((i.project.clone(), name_of(project_key_col)))
        } else if !i.project_name.is_empty() {
            Some((i.project_name.clone(), name_of(project_name_col)))
        } else {
            None
        }
    };
    let mut made: HashMap<String, String> = HashMap::new();
    for i in &issues {
        if let Some((p, col)) = jira_project(i) {
            if made.contains_key(&format!("jira:{p}")) {
                continue;
            }
            let key = key_from(&p, "p");
            made.insert(format!("jira:{p}"), key.clone());
            let mut r = Row {
                number: i.row,
                ..Row::default()
            };
            r.set(Field::Key, &key, &col);
            let name = if i.project_name.is_empty() {
                p.clone()
            } else {
                i.project_name.clone()
            };
            r.set(Field::Title, name, &name_of(project_name_col));
            r.set(Field::Id, format!("jira-project:{p}"), &col);
            projects.rows.push(r);
        }
    }
    let epics: HashMap<&str, &Issue> = issues
        .iter()
        .filter(|i| i.epic)
        .map(|i| (i.id.as_str(), i))
        .collect();
    for e in epics.values() {
        let key = key_from(&e.id, "e");
        made.insert(e.id.clone(), key.clone());
        let mut r = Row {
            number: e.row,
            ..Row::default()
        };
        r.set(Field::Key, &key, &key_name);
        r.set(Field::Title, &e.title, &summary_name);
        r.set(Field::Owner, &e.assignee, &name_of(assignee_col));
        r.set(Field::Id, &e.id, &key_name);
        projects.rows.push(r);
    }
    projects.rows.sort_by_key(|r| r.number);
    // The project an issue belongs to: its epic's, else its Jira project's.
    let project_of = |i: &Issue| -> Option<String> {
        if i.epic {
            return made.get(&i.id).cloned();
        }
        if epics.contains_key(i.parent.as_str()) {
            return made.get(&i.parent).cloned();
        }
        jira_project(i).and_then(|(p, _)| made.get(&format!("jira:{p}")).cloned())
    };
    let milestone_key = |i: &Issue| {
        let key = key_from(&i.id, "m");
        if i.epic {
            let mut k = key;
            k.truncate(crate::domain::Key::MAX_LEN - 4);
            format!("{}-end", k.trim_end_matches('-'))
        } else {
            key
        }
    };
    for i in &issues {
        let Some(due) = &i.due else {
            if !i.epic {
                milestones.skipped.push((
                    i.row,
                    format!(
                        "{} has no due date: only issues with one become milestones",
                        i.id
                    ),
                ));
            }
            continue;
        };
        let mut r = Row {
            number: i.row,
            ..Row::default()
        };
        r.set(Field::Key, milestone_key(i), &key_name);
        r.set(Field::Title, &i.title, &summary_name);
        r.set(Field::Due, due, &name_of(due_col));
        r.set(Field::Owner, &i.assignee, &name_of(assignee_col));
        r.set(Field::State, &i.status, &name_of(status_col));
        r.set(Field::Id, &i.id, &key_name);
        if let Some(p) = project_of(i) {
            let col = if epics.contains_key(i.parent.as_str()) {
                name_of(epic_col)
            } else {
                name_of(project_key_col.or(project_name_col))
            };
            r.set(Field::Project, p, &col);
        }
        if done_status(&i.status) {
            r.set(Field::State, "done", &name_of(status_col));
        }
        milestones.rows.push(r);
    }
    let endpoint = |i: &Issue| -> Option<String> {
        if i.due.is_some() {
            Some(milestone_key(i))
        } else {
            project_of(i)
        }
    };
    dependencies(label, &issues, &endpoint, &name_of(assignee_col), &mut deps);
    Ok(vec![projects, milestones, deps])
}

/// A Linear project milestone being gathered: the first row naming it, the keys of its
/// issues with a due date, and the last of those dates.
type Group = (usize, Vec<String>, Option<String>);

/// Linear's CSV export (Settings → Import / export → Export CSV).
pub fn read_linear(label: &str, text: &str) -> Result<Vec<Sheet>, String> {
    let t = read_table(label, text)?;
    let (Some(id_col), Some(title_col)) = (t.first(&["ID"]), t.first(&["Title"])) else {
        return Err(format!(
            "{label} has no `ID` and `Title` columns: export the issues from Linear as CSV"
        ));
    };
    let due_col = t.first(&["Due Date", "Due date"]);
    let status_col = t.first(&["Status"]);
    let project_col = t.first(&["Project"]);
    let project_id_col = t.first(&["Project ID"]);
    let pm_col = t.first(&["Project Milestone"]);
    let assignee_col = t.first(&["Assignee"]);
    let blocks_col = t.first(&["Blocks"]);
    let blocked_col = t.first(&["Blocked by"]);
    let column = |i: usize| t.headers[i].clone();
    let name_of = |i: Option<usize>| i.map(column).unwrap_or_default();
    let mut issues = Vec::new();
    let mut cancelled = Vec::new();
    for (row, r) in &t.rows {
        let id = cell(r, Some(id_col)).to_owned();
        if id.is_empty() {
            continue;
        }
        let status = cell(r, status_col).to_owned();
        if matches!(
            status.to_ascii_lowercase().as_str(),
            "canceled" | "cancelled" | "duplicate"
        ) {
            cancelled.push((*row, format!("{id} is {status} in Linear")));
            continue;
        }
        let due = due_of(label, *row, &name_of(due_col), cell(r, due_col))?;
        let rel = |c: Option<usize>| ids(cell(r, c)).map(|v| (v, name_of(c))).collect::<Vec<_>>();
        issues.push(Issue {
            row: *row,
            id,
            title: cell(r, Some(title_col)).to_owned(),
            due,
            status,
            assignee: cell(r, assignee_col).to_owned(),
            epic: false,
            parent: String::new(),
            project: cell(r, project_id_col).to_owned(),
            project_name: cell(r, project_col).to_owned(),
            blocks: rel(blocks_col),
            blocked_by: rel(blocked_col),
            milestone_group: cell(r, pm_col).to_owned(),
        });
    }
    let (id_name, title_name) = (column(id_col), column(title_col));
    let mut projects = sheet(Kind::Projects, label, Style::Csv);
    let mut milestones = sheet(Kind::Milestones, label, Style::Csv);
    let mut deps = sheet(Kind::Dependencies, label, Style::Csv);
    milestones.skipped = cancelled;
    milestones.mapping = mapping(
        &t,
        &[
            (&id_name, Field::Id),
            (&title_name, Field::Title),
            (&name_of(due_col), Field::Due),
            (&name_of(status_col), Field::State),
            (&name_of(assignee_col), Field::Owner),
            (&name_of(project_col), Field::Project),
            (&name_of(project_id_col), Field::Project),
            (&name_of(pm_col), Field::After),
            (&name_of(blocks_col), Field::From),
            (&name_of(blocked_col), Field::Needs),
        ],
    );
    let mut project_keys: HashMap<String, String> = HashMap::new();
    for i in &issues {
        if i.project_name.is_empty() || project_keys.contains_key(&i.project_name) {
            continue;
        }
        let key = key_from(&i.project_name, "p");
        project_keys.insert(i.project_name.clone(), key.clone());
        let mut r = Row {
            number: i.row,
            ..Row::default()
        };
        r.set(Field::Key, &key, &name_of(project_col));
        r.set(Field::Title, &i.project_name, &name_of(project_col));
        let id = if i.project.is_empty() {
            &i.project_name
        } else {
            &i.project
        };
        r.set(
            Field::Id,
            format!("linear-project:{id}"),
            &name_of(project_col),
        );
        projects.rows.push(r);
    }
    // Project milestones: each ends after its issues that have a due date.
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    for i in &issues {
        let key = key_from(&i.id, "m");
        if let Some(due) = &i.due {
            let mut r = Row {
                number: i.row,
                ..Row::default()
            };
            r.set(Field::Key, &key, &id_name);
            r.set(Field::Title, &i.title, &title_name);
            r.set(Field::Due, due, &name_of(due_col));
            r.set(Field::Owner, &i.assignee, &name_of(assignee_col));
            if done_status(&i.status) {
                r.set(Field::State, "done", &name_of(status_col));
            }
            r.set(Field::Id, &i.id, &id_name);
            if let Some(p) = project_keys.get(&i.project_name) {
                r.set(Field::Project, p, &name_of(project_col));
            }
            milestones.rows.push(r);
        } else if i.milestone_group.is_empty() {
            milestones.skipped.push((
                i.row,
                format!(
                    "{} has no due date: only issues with one become milestones",
                    i.id
                ),
            ));
        }
        if !i.milestone_group.is_empty() {
            let g = groups
                .entry((i.project_name.clone(), i.milestone_group.clone()))
                .or_insert((i.row, Vec::new(), None));
            if let Some(due) = &i.due {
                g.1.push(key);
                if g.2.as_ref().is_none_or(|d| due > d) {
                    g.2 = Some(due.clone());
                }
            }
        }
    }
    for ((project, name), (row, after, due)) in groups {
        let Some(due) = due else {
            milestones.skipped.push((
                row,
                format!("project milestone `{name}` has no issue with a due date"),
            ));
            continue;
        };
        let mut r = Row {
            number: row,
            after,
            ..Row::default()
        };
        let pm = name_of(pm_col);
        r.set(Field::Key, key_from(&format!("{project} {name}"), "m"), &pm);
        r.set(Field::Title, &name, &pm);
        r.set(Field::Due, due, &pm);
        if let Some(p) = project_keys.get(&project) {
            r.set(Field::Project, p, &name_of(project_col));
        }
        r.set(Field::Id, format!("linear-milestone:{project}/{name}"), &pm);
        milestones.rows.push(r);
    }
    let endpoint = |i: &Issue| -> Option<String> {
        if i.due.is_some() {
            Some(key_from(&i.id, "m"))
        } else {
            project_keys.get(&i.project_name).cloned()
        }
    };
    dependencies(label, &issues, &endpoint, &name_of(assignee_col), &mut deps);
    Ok(vec![projects, milestones, deps])
}

/// GitHub's milestones, as `GET /repos/{owner}/{repo}/milestones?state=all` returns them.
pub fn read_github(label: &str, text: &str) -> Result<Vec<Sheet>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!("{label} is not JSON ({e}): save the answer of GET /repos/OWNER/REPO/milestones?state=all")
    })?;
    let Some(list) = value.as_array() else {
        return Err(format!(
            "{label} is not a list of milestones: save the answer of GET /repos/OWNER/REPO/milestones?state=all"
        ));
    };
    let mut projects = sheet(Kind::Projects, label, Style::Json);
    let mut milestones = sheet(Kind::Milestones, label, Style::Json);
    let mut seen_fields: Vec<String> = Vec::new();
    let mut repos: HashMap<String, String> = HashMap::new();
    for (i, m) in list.iter().enumerate() {
        let entry = i + 1;
        let at = |field: &str| format!("{label} entry {entry}, field `{field}`");
        let Some(obj) = m.as_object() else {
            return Err(format!("{label} entry {entry}: not a milestone object"));
        };
        for k in obj.keys() {
            if !seen_fields.contains(k) {
                seen_fields.push(k.clone());
            }
        }
        let text_of = |field: &str| obj.get(field).and_then(|v| v.as_str()).unwrap_or("").trim();
        let url = text_of("html_url");
        let repo = url
            .strip_prefix("https://github.com/")
            .and_then(|rest| rest.split_once("/milestone/"))
            .map(|(repo, _)| repo.to_owned())
            .filter(|r| r.split('/').count() == 2);
        let Some(repo) = repo else {
            return Err(format!(
                "{}: `{}` is not a GitHub milestone's address (https://github.com/OWNER/REPO/milestone/N)",
                at("html_url"),
                crate::domain::truncate_for_error(url)
            ));
        };
        let number = match obj.get("number").and_then(serde_json::Value::as_i64) {
            Some(n) => n,
            None => return Err(format!("{}: a milestone has a number", at("number"))),
        };
        let title = text_of("title");
        if title.is_empty() {
            return Err(format!("{}: a milestone has a title", at("title")));
        }
        let repo_name = repo.split('/').nth(1).unwrap_or(&repo).to_owned();
        let project_key = match repos.get(&repo) {
            Some(k) => k.clone(),
            None => {
                let key = key_from(&repo_name, "r");
                repos.insert(repo.clone(), key.clone());
                let mut r = Row {
                    number: entry,
                    ..Row::default()
                };
                r.set(Field::Key, &key, "html_url");
                r.set(Field::Title, &repo, "html_url");
                r.set(Field::Id, format!("github:{repo}"), "html_url");
                projects.rows.push(r);
                key
            }
        };
        let due = match obj.get("due_on") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(
                parse_date(s, None)
                    .map_err(|e| format!("{}: {e}", at("due_on")))?
                    .to_string(),
            ),
            Some(other) => return Err(format!("{}: `{other}` is not a date", at("due_on"))),
        };
        let Some(due) = due else {
            milestones.skipped.push((
                entry,
                format!("`{title}` has no due date: only milestones with one are imported"),
            ));
            continue;
        };
        let mut r = Row {
            number: entry,
            ..Row::default()
        };
        let mut key = key_from(&repo_name, "r");
        let suffix = format!("-{number}");
        key.truncate(crate::domain::Key::MAX_LEN - suffix.len());
        r.set(
            Field::Key,
            format!("{}{suffix}", key.trim_end_matches('-')),
            "number",
        );
        r.set(Field::Title, title, "title");
        r.set(Field::Due, due, "due_on");
        r.set(Field::Project, &project_key, "html_url");
        if text_of("state").eq_ignore_ascii_case("closed") {
            r.set(Field::State, "done", "state");
        }
        if let Some(login) = obj
            .get("creator")
            .and_then(|c| c.get("login"))
            .and_then(|l| l.as_str())
        {
            r.set(Field::Owner, login, "creator");
        }
        r.set(Field::Id, url, "html_url");
        milestones.rows.push(r);
    }
    let used = [
        ("title", Field::Title),
        ("number", Field::Key),
        ("due_on", Field::Due),
        ("state", Field::State),
        ("html_url", Field::Id),
        ("creator", Field::Owner),
    ];
    milestones.mapping = seen_fields
        .iter()
        .map(|f| {
            (
                f.clone(),
                used.iter().find(|(n, _)| n == f).map(|(_, field)| *field),
            )
        })
        .collect();
    Ok(vec![projects, milestones])
}
