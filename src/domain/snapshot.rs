//! One program's state, loaded once and read by every analysis: the input of digests,
//! reports and path commands. Lookups by id are indexed, so analyses stay linear.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{
    Charter, Check, Decision, Dependency, Endpoint, Event, Item, Milestone, MilestoneId, Person,
    PersonId, Program, Project, ProjectId, Risk, Slip, StatusUpdate,
};

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub program: Program,
    pub charter: Charter,
    pub people: HashMap<PersonId, Person>,
    /// Every project, removed ones included (history names them); see [`Snapshot::active_projects`].
    pub projects: Vec<Project>,
    pub milestones: Vec<Milestone>,
    pub slips: Vec<Slip>,
    pub deps: Vec<Dependency>,
    pub risks: Vec<Risk>,
    pub decisions: Vec<Decision>,
    /// Assumptions, issues and action items.
    pub items: Vec<Item>,
    /// The launch readiness checklist.
    pub checks: Vec<Check>,
    /// The latest status update of each project that has one.
    pub latest_status: Vec<StatusUpdate>,
    /// Events after `events_since` (all of them when `None`), oldest first.
    pub events: Vec<Event>,
    pub events_since: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
    project_ix: HashMap<ProjectId, usize>,
    milestone_ix: HashMap<MilestoneId, usize>,
    status_ix: HashMap<ProjectId, usize>,
}

/// Everything a snapshot is made of, as the store loads it.
pub struct Parts {
    pub program: Program,
    pub charter: Charter,
    pub people: HashMap<PersonId, Person>,
    pub projects: Vec<Project>,
    pub milestones: Vec<Milestone>,
    pub slips: Vec<Slip>,
    pub deps: Vec<Dependency>,
    pub risks: Vec<Risk>,
    pub decisions: Vec<Decision>,
    pub items: Vec<Item>,
    pub checks: Vec<Check>,
    pub latest_status: Vec<StatusUpdate>,
    pub events: Vec<Event>,
    pub events_since: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

impl Snapshot {
    pub fn new(p: Parts) -> Self {
        let project_ix = p
            .projects
            .iter()
            .enumerate()
            .map(|(i, x)| (x.id, i))
            .collect();
        let milestone_ix = p
            .milestones
            .iter()
            .enumerate()
            .map(|(i, x)| (x.id, i))
            .collect();
        let status_ix = p
            .latest_status
            .iter()
            .enumerate()
            .map(|(i, x)| (x.project, i))
            .collect();
        Self {
            program: p.program,
            charter: p.charter,
            people: p.people,
            projects: p.projects,
            milestones: p.milestones,
            slips: p.slips,
            deps: p.deps,
            risks: p.risks,
            decisions: p.decisions,
            items: p.items,
            checks: p.checks,
            latest_status: p.latest_status,
            events: p.events,
            events_since: p.events_since,
            now: p.now,
            project_ix,
            milestone_ix,
            status_ix,
        }
    }

    /// Today where the program lives.
    pub fn today(&self) -> NaiveDate {
        self.program.today(self.now)
    }

    pub fn person(&self, id: PersonId) -> Option<&Person> {
        self.people.get(&id)
    }

    pub fn project(&self, id: ProjectId) -> Option<&Project> {
        self.project_ix.get(&id).map(|&i| &self.projects[i])
    }

    pub fn milestone_index(&self, id: MilestoneId) -> Option<usize> {
        self.milestone_ix.get(&id).copied()
    }

    pub fn milestone(&self, id: MilestoneId) -> Option<&Milestone> {
        self.milestone_index(id).map(|i| &self.milestones[i])
    }

    pub fn milestone_by_key(&self, key: &str) -> Option<&Milestone> {
        self.milestones.iter().find(|m| m.key.as_str() == key)
    }

    pub fn latest_status(&self, project: ProjectId) -> Option<&StatusUpdate> {
        self.status_ix
            .get(&project)
            .map(|&i| &self.latest_status[i])
    }

    pub fn active_projects(&self) -> impl Iterator<Item = &Project> {
        self.projects.iter().filter(|p| !p.removed)
    }

    /// The project an endpoint belongs to: itself, or its milestone's project.
    pub fn project_of(&self, e: &Endpoint) -> Option<ProjectId> {
        match e {
            Endpoint::Project(p) => Some(*p),
            Endpoint::Milestone(m) => self.milestone(*m).and_then(|m| m.project),
            Endpoint::External(_) => None,
        }
    }

    /// How people name an endpoint: `Public API`, `api-beta (Public API)`, `Legal review`.
    pub fn endpoint_name(&self, e: &Endpoint) -> String {
        match e {
            Endpoint::Project(p) => self
                .project(*p)
                .map(|p| p.name.as_str().to_owned())
                .unwrap_or_else(|| "a removed project".into()),
            Endpoint::Milestone(m) => match self.milestone(*m) {
                Some(m) => match m.project.and_then(|p| self.project(p)) {
                    Some(p) => format!("{} ({})", m.key.as_str(), p.name.as_str()),
                    None => m.key.as_str().to_owned(),
                },
                None => "a removed milestone".into(),
            },
            Endpoint::External(name) => name.clone(),
        }
    }

    /// The day an update was posted, where the program lives.
    pub fn posted_on(&self, u: &StatusUpdate) -> NaiveDate {
        u.posted_at
            .with_timezone(&self.program.timezone.tz())
            .date_naive()
    }

    /// Older than the program's staleness window, in calendar days where the program lives:
    /// the one definition health, the roll call and the agenda share.
    pub fn is_stale(&self, u: &StatusUpdate) -> bool {
        (self.today() - self.posted_on(u)).num_days() > i64::from(self.program.staleness_days)
    }

    /// Who answers for a project: its owner.
    pub fn project_owner(&self, id: ProjectId) -> Option<&Person> {
        self.project(id).and_then(|p| self.person(p.owner))
    }

    /// Who answers for a milestone: its owner, else its project's owner.
    pub fn milestone_owner(&self, m: &Milestone) -> Option<&Person> {
        m.owner
            .and_then(|o| self.person(o))
            .or_else(|| m.project.and_then(|p| self.project_owner(p)))
    }
}
