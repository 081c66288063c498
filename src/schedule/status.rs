//! The status rhythm, one job per project owner and read in the owner's own timezone:
//! prompts ask how their projects are doing; reminders chase the unanswered ones, then
//! tell the program owner.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::job::{program_channel, Job, Run};
use super::wording;
use crate::config::PromptRoute;
use crate::domain::Person;
use crate::store::{self, RunEnd, ScheduledProgram, Tx};

/// Where an owner's schedule is read: where they live, else where the program does.
fn owner_timezone(sp: &ScheduledProgram, owner: &Person) -> chrono_tz::Tz {
    owner
        .timezone
        .as_ref()
        .map(|t| t.tz())
        .unwrap_or_else(|| sp.program.timezone.tz())
}

fn owner_job_name(sp: &ScheduledProgram, owner: &Person) -> String {
    format!(
        "{}:{}:{}",
        sp.schedule.kind.as_str(),
        sp.schedule.id,
        owner.id
    )
}

/// Asks one owner for the status of each project they own.
pub struct Prompt<'a> {
    pub sp: &'a ScheduledProgram,
    pub owner: Person,
}

impl Job for Prompt<'_> {
    fn scheduled(&self) -> &ScheduledProgram {
        self.sp
    }

    fn name(&self) -> String {
        owner_job_name(self.sp, &self.owner)
    }

    fn timezone(&self) -> chrono_tz::Tz {
        owner_timezone(self.sp, &self.owner)
    }

    async fn run(&self, tx: &mut Tx, run: &mut Run<'_>) -> anyhow::Result<(RunEnd, String)> {
        let owner = &self.owner;
        if owner.is_away_on(run.local_day) {
            return Ok((RunEnd::Skipped, format!("@{} is away", owner.display_name)));
        }
        let key = run.sp.program.key.as_str().to_owned();
        let projects: Vec<_> = store::projects(tx, &run.sp.scope)
            .await?
            .into_iter()
            .filter(|p| !p.removed && p.owner == owner.id)
            .collect();
        let describe = run.sp.schedule.spec.describe();
        let channel = match run.settings.prompts {
            PromptRoute::Dm => None,
            PromptRoute::Channel => program_channel(tx, run.sp).await?,
        };
        // Their open action items ride on the first prompt, oldest due first.
        let mut actions: Vec<(i64, String, Option<chrono::NaiveDate>)> =
            store::items(tx, &run.sp.scope)
                .await?
                .into_iter()
                .filter(|i| {
                    i.kind == crate::domain::ItemKind::Action
                        && i.is_open()
                        && i.owner == Some(owner.id)
                })
                .map(|i| (i.number, i.title.as_str().to_owned(), i.due))
                .collect();
        actions.sort_by_key(|(n, _, due)| (due.unwrap_or(chrono::NaiveDate::MAX), *n));
        let total = actions.len();
        let mut asked = Vec::new();
        for (nth, p) in projects.iter().enumerate() {
            let pk = p.key.as_str();
            // A route for the project (or program) wins; then the configured prompt channel.
            let destination = match (run.routes.for_project(Some(p.id)), &channel) {
                (Some(d), _) | (None, Some(d)) => d.clone(),
                (None, None) => run.to_person(owner, Some(p.id)),
            };
            let mut reply = wording::prompt(owner, &key, pk, p.name.as_str());
            if nth == 0 {
                reply = wording::with_actions(reply, &key, &actions, total);
            }
            let reason = wording::prompt_reason(&key, p.name.as_str(), &describe, &owner.handle);
            let dedup = format!("prompt:{}:o{}:{}", run.claim, owner.id, p.id);
            if run.send(tx, destination, reply, reason, dedup).await? {
                asked.push(pk.to_owned());
            }
        }
        Ok((
            RunEnd::Done,
            format!("asked @{} about {}", owner.display_name, asked.join(", ")),
        ))
    }
}

/// Reminds one owner about projects whose latest prompt they did not answer; a second time,
/// tells the program owner instead.
pub struct Reminder<'a> {
    pub sp: &'a ScheduledProgram,
    pub owner: Person,
}

impl Job for Reminder<'_> {
    fn scheduled(&self) -> &ScheduledProgram {
        self.sp
    }

    fn name(&self) -> String {
        owner_job_name(self.sp, &self.owner)
    }

    fn timezone(&self) -> chrono_tz::Tz {
        owner_timezone(self.sp, &self.owner)
    }

    async fn run(&self, tx: &mut Tx, run: &mut Run<'_>) -> anyhow::Result<(RunEnd, String)> {
        let sp = run.sp;
        let local_day = run.local_day;
        let key = sp.program.key.as_str().to_owned();
        let program_tz = sp.program.timezone.tz();
        let people = store::people(tx, sp.scope.tenant()).await?;
        let updates = store::latest_status_updates(tx, &sp.scope).await?;
        let latest: HashMap<i64, DateTime<Utc>> =
            updates.iter().map(|u| (u.project, u.posted_at)).collect();
        let latest_id: HashMap<i64, i64> = updates.iter().map(|u| (u.project, u.id)).collect();
        let program_owner = people.get(&sp.program.owner).cloned();
        let (mut reminded, mut escalated) = (0, 0);
        for p in store::projects(tx, &sp.scope)
            .await?
            .into_iter()
            .filter(|p| !p.removed && p.owner == self.owner.id)
        {
            let Some(owner) = people.get(&p.owner) else {
                continue;
            };
            // The first prompt about this project since its latest update: silence is
            // counted from there, however often they are asked again. The outbox is the
            // record of what was asked, so a project added or handed over later is not
            // "unanswered" before its owner was ever asked about it.
            let answered_at = latest.get(&p.id).copied();
            let Some(asked_at) =
                store::first_prompt_about(tx, &sp.scope, p.id, owner, answered_at).await?
            else {
                continue;
            };
            if run.slot - asked_at < Duration::hours(run.settings.remind_after_hours) {
                continue; // just asked: give them time
            }
            let asked_on = asked_at.with_timezone(&program_tz).date_naive();
            // One reminder, then one escalation, per silence: a new update starts a new one.
            let silence = latest_id
                .get(&p.id)
                .map_or("none".to_owned(), |id| id.to_string());
            let name = p.name.as_str();
            let away = owner.is_away_on(local_day);
            let first = !away
                && run
                    .send(
                        tx,
                        run.to_person(owner, Some(p.id)),
                        wording::reminder(owner, &key, p.key.as_str(), name, asked_on),
                        wording::reminder_reason(name),
                        format!("remind:{}:{silence}", p.id),
                    )
                    .await?;
            if first {
                reminded += 1;
                continue;
            }
            // Reminded before (or away): the program owner hears about it, once per silence.
            if let Some(po) = &program_owner {
                if po.id != owner.id
                    && run
                        .send(
                            tx,
                            run.to_person(po, Some(p.id)),
                            wording::escalation(po, owner, name, asked_on, away),
                            wording::escalation_reason(&key),
                            format!("escalate:{}:{silence}", p.id),
                        )
                        .await?
                {
                    escalated += 1;
                }
            }
        }
        Ok((
            RunEnd::Done,
            format!("{reminded} reminded, {escalated} escalated"),
        ))
    }
}
