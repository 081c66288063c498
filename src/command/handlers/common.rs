//! What the per-area handlers share: opening a program to read or to change, finding a
//! project and naming a missing record in a refusal, resolving "someone, or me", dates that
//! must not lie ahead, and the cells and counted tables that list and show records.

use std::fmt::Display;

use chrono::NaiveDate;

use super::{days_from, refuse, Session};
use crate::command::Result;
use crate::domain::{DateSpec, Key, Milestone, Person, PersonRef, Program, Project};
#[cfg(test)]
use crate::domain::{Timezone, Title};
use crate::reply::{Mention, Reply, Text};
use crate::store::{self, Scope};

/// Whether a command reads a program or changes it; archived programs are read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Read,
    Change,
}

impl Session<'_> {
    /// [`Session::program`] or [`Session::program_for_change`], as `access` says.
    pub(super) async fn open(
        &mut self,
        key: Option<&str>,
        access: Access,
    ) -> Result<(Scope, Program)> {
        match access {
            Access::Read => self.program(key).await,
            Access::Change => self.program_for_change(key).await,
        }
    }

    /// The person written, or the actor when nobody is.
    pub(super) async fn person_or_actor(&mut self, r: Option<&PersonRef>) -> Result<Person> {
        match r {
            Some(r) => self.person(r).await,
            None => self.actor().await,
        }
    }
}

/// The command that lists an area's records, as a refusal about a missing one names it:
/// "`{command} {program}{flags}` {verb} them".
#[derive(Debug, Clone, Copy)]
pub(super) struct Listing {
    command: &'static str,
    flags: &'static str,
    verb: &'static str,
}

impl Listing {
    pub const PROJECTS: Self = Self::shows("project list");
    pub const MILESTONES: Self = Self::shows("milestone list");
    pub const DEPENDENCIES: Self = Self::shows("dep list");
    pub const RISKS: Self = Self {
        flags: " --all",
        ..Self::shows("risk list")
    };
    pub const DECISIONS: Self = Self::shows("decision list");
    pub const SCHEDULES: Self = Self {
        verb: "lists",
        ..Self::shows("schedule show")
    };
    pub const DEAD_MESSAGES: Self = Self {
        flags: " --dead",
        verb: "lists",
        ..Self::shows("outbox list")
    };

    const fn shows(command: &'static str) -> Self {
        Self {
            command,
            flags: "",
            verb: "shows",
        }
    }
}

/// Refuses with "there is no {record} in `{program}`", followed by the command that lists
/// what there is when `listing` names one.
pub(super) fn not_found<T>(
    record: impl Display,
    p: &Program,
    listing: Option<Listing>,
) -> Result<T> {
    let key = &p.key;
    match listing {
        Some(Listing {
            command,
            flags,
            verb,
        }) => refuse(format!(
            "there is no {record} in `{key}`: `{command} {key}{flags}` {verb} them"
        )),
        None => refuse(format!("there is no {record} in `{key}`")),
    }
}

/// The project `key` of the program, removed or not.
pub(super) async fn find_project(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    key: &Key,
    listing: Option<Listing>,
) -> Result<Project> {
    match store::find_project(s.conn(), scope, key).await? {
        Some(pr) => Ok(pr),
        None => not_found(format_args!("project `{key}`"), p, listing),
    }
}

/// Like [`find_project`], refusing a removed project: nothing new is attached to it.
pub(super) async fn find_live_project(
    s: &mut Session<'_>,
    scope: &Scope,
    p: &Program,
    key: &Key,
    listing: Option<Listing>,
) -> Result<Project> {
    let found = store::find_project(s.conn(), scope, key).await?;
    live_project(found, p, key, listing)
}

/// The project found by `key` if it is live; refused when there is none or it was removed.
pub(super) fn live_project(
    found: Option<Project>,
    p: &Program,
    key: &Key,
    listing: Option<Listing>,
) -> Result<Project> {
    let Some(pr) = found else {
        return not_found(format_args!("project `{key}`"), p, listing);
    };
    if pr.removed {
        return refuse(format!("project `{key}` was removed from `{}`", p.key));
    }
    Ok(pr)
}

/// The day given, or today; refused when it lies ahead, with `rule` saying why.
pub(super) fn on_or_before(
    today: NaiveDate,
    on: Option<DateSpec>,
    rule: &str,
) -> Result<NaiveDate> {
    let on = on.map_or(today, |d| d.resolve(today));
    if on > today {
        return refuse(format!("{on} is in the future: {rule}"));
    }
    Ok(on)
}

/// A list of records as a table titled with how many there are, or `empty` when none.
pub(super) fn counted_table(
    empty: Reply,
    title: impl Display,
    columns: &[&str],
    rows: Vec<Vec<Text>>,
) -> Reply {
    if rows.is_empty() {
        return empty;
    }
    Reply::new(format!("{title} ({})", rows.len())).table(columns, rows)
}

/// A person in a table cell or field, blank for nobody.
pub(super) fn person_cell(m: Option<Mention>) -> Text {
    m.map_or(Text::new(), |m| Text::new().person(m))
}

/// A date with how far it is from today: "2026-03-02 (in 5 days)".
pub(super) fn date_from_today(today: NaiveDate, day: NaiveDate) -> Text {
    Text::new()
        .date(day)
        .text(format!(" ({})", days_from(today, day)))
}

/// The key of the project with this id, blank if there is none.
pub(super) fn project_key(projects: &[Project], id: i64) -> String {
    projects
        .iter()
        .find(|pr| pr.id == id)
        .map(|pr| pr.key.to_string())
        .unwrap_or_default()
}

/// The key of the milestone with this id, blank if there is none.
pub(super) fn milestone_key(milestones: &[Milestone], id: i64) -> String {
    milestones
        .iter()
        .find(|m| m.id == id)
        .map(|m| m.key.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::WorkDays;

    fn atlas() -> Program {
        Program {
            id: 1,
            key: Key::parse("atlas").expect("a key"),
            name: Title::parse("Atlas").expect("a title"),
            owner: 1,
            timezone: Timezone::default(),
            work_days: WorkDays::WEEKDAYS,
            holidays: Vec::new(),
            staleness_days: 8,
            archived: false,
            created_at: chrono::DateTime::UNIX_EPOCH,
            end_key: None,
        }
    }

    fn refusal(r: Result<()>) -> String {
        r.expect_err("a refusal").to_string()
    }

    #[test]
    fn not_found_names_the_record_and_the_command_that_lists_them() {
        let p = atlas();
        assert_eq!(
            refusal(not_found("project `api`", &p, None)),
            "there is no project `api` in `atlas`"
        );
        let cases = [
            (
                Listing::PROJECTS,
                "project `api`",
                "`project list atlas` shows them",
            ),
            (
                Listing::MILESTONES,
                "milestone `beta`",
                "`milestone list atlas` shows them",
            ),
            (
                Listing::DEPENDENCIES,
                "dependency #3",
                "`dep list atlas` shows them",
            ),
            (
                Listing::RISKS,
                "risk #3",
                "`risk list atlas --all` shows them",
            ),
            (
                Listing::DECISIONS,
                "decision #3",
                "`decision list atlas` shows them",
            ),
            (
                Listing::SCHEDULES,
                "schedule #3",
                "`schedule show atlas` lists them",
            ),
            (
                Listing::DEAD_MESSAGES,
                "dead message #3",
                "`outbox list atlas --dead` lists them",
            ),
        ];
        for (listing, record, hint) in cases {
            assert_eq!(
                refusal(not_found(record, &p, Some(listing))),
                format!("there is no {record} in `atlas`: {hint}")
            );
        }
    }

    #[test]
    fn counted_table_titles_with_the_count_and_falls_back_to_the_empty_reply() {
        let empty = counted_table(Reply::new("No risks"), "Risks of atlas", &["#"], Vec::new());
        assert_eq!(empty.title, "No risks");
        let two = counted_table(
            Reply::new("No risks"),
            "Risks of atlas",
            &["#"],
            vec![vec![Text::plain("#1")], vec![Text::plain("#2")]],
        );
        assert_eq!(two.title, "Risks of atlas (2)");
    }

    #[test]
    fn on_or_before_takes_today_by_default_and_refuses_a_day_ahead() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 2).expect("a date");
        assert_eq!(on_or_before(today, None, "why").ok(), Some(today));
        let ahead = DateSpec::parse("2026-03-03").expect("a date spec");
        let err = on_or_before(today, Some(ahead), "a milestone is done on or before today")
            .expect_err("a day ahead is refused");
        assert_eq!(
            err.to_string(),
            "2026-03-03 is in the future: a milestone is done on or before today"
        );
    }
}
