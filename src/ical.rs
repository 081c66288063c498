//! A program's calendar feed (RFC 5545): one all-day event per milestone on its target
//! date, with its slips and their reasons, and one per dependency on its need-by date.
//! UIDs come from the program's id and the milestone's key or the dependency's number, so
//! a calendar app updates an event in place when its date moves.

use chrono::Duration;
use icalendar::{Calendar, Component as _, Event, EventLike as _, EventStatus};

use crate::analysis::Snapshot;
use crate::domain::{DepState, MilestoneState};

/// The feed's media type.
pub const CONTENT_TYPE: &str = "text/calendar; charset=utf-8";

/// The whole feed as iCalendar text (CRLF line ends, long lines folded, text escaped).
pub fn feed(s: &Snapshot) -> String {
    let p = &s.program;
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//Drumbeat//Program calendar//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", "PUBLISH"))
        // The calendar's name as calendar apps read it (`X-WR-…` values are escaped as
        // text; the crate's NAME is not).
        .append_property((
            "X-WR-CALNAME",
            format!("{} ({})", p.name.as_str(), p.key.as_str()).as_str(),
        ))
        .append_property((
            "X-WR-CALDESC",
            format!(
                "Milestones and dependency need-by dates of {}",
                p.name.as_str()
            )
            .as_str(),
        ));
    for m in &s.milestones {
        let mut lines = vec![format!(
            "Milestone {} of {}.",
            m.key.as_str(),
            p.key.as_str()
        )];
        if let Some(project) = m.project.and_then(|id| s.project(id)) {
            lines.push(format!("Project: {}", project.name.as_str()));
        }
        if let Some(owner) = s.milestone_owner(m) {
            lines.push(format!("Owner: {}", owner.display_name));
        }
        lines.push(format!("State: {}", m.state.as_str()));
        if m.baseline != m.target {
            lines.push(format!(
                "Baseline {}, now {} ({:+} days).",
                m.baseline,
                m.target,
                m.slip_days()
            ));
        }
        let slips: Vec<_> = s.slips.iter().filter(|x| x.milestone == m.id).collect();
        if !slips.is_empty() {
            lines.push("Slips:".into());
            for slip in slips {
                let who = slip
                    .actor
                    .and_then(|a| s.person(a))
                    .map(|a| format!(" by {}", a.display_name))
                    .unwrap_or_default();
                lines.push(format!(
                    "- {} → {}: {} ({}{who})",
                    slip.from,
                    slip.to,
                    slip.reason,
                    slip.at.format("%Y-%m-%d")
                ));
            }
        }
        if let Some(done) = m.completed_on {
            lines.push(format!("Done on {done}."));
        }
        let summary = match m.state {
            MilestoneState::Done => format!("Done: {}", m.title.as_str()),
            MilestoneState::Cancelled => format!("Cancelled: {}", m.title.as_str()),
            MilestoneState::Planned => m.title.as_str().to_owned(),
        };
        let mut event = Event::new();
        event
            .uid(&format!("milestone-{}-p{}@drumbeat", m.key.as_str(), p.id))
            .timestamp(s.now)
            .summary(&one_line(&summary))
            .description(&text(&lines.join("\n")))
            .starts(m.target)
            .ends(m.target + Duration::days(1))
            .add_property("TRANSP", "TRANSPARENT")
            .add_property("CATEGORIES", "Milestone");
        match m.state {
            MilestoneState::Cancelled => {
                event.status(EventStatus::Cancelled);
            }
            MilestoneState::Done | MilestoneState::Planned => {
                event.status(EventStatus::Confirmed);
            }
        }
        cal.push(event.done());
    }
    let forecasts = crate::analysis::Forecasts::of(s);
    for (i, d) in s.deps.iter().enumerate() {
        if d.state == DepState::Cancelled {
            continue;
        }
        let needs = s.endpoint_name(&d.needs);
        let from = s.endpoint_name(&d.from);
        let mut lines = vec![
            format!(
                "Dependency #{}: {needs} needs \"{}\" from {from} by {}.",
                d.number,
                d.what.as_str(),
                d.need_by
            ),
            format!("State: {}", d.state.as_str()),
        ];
        // In conflict: it arrives after it is needed.
        let late_arrival = forecasts.arrival(i).filter(|a| *a > d.need_by);
        if let Some(a) = late_arrival {
            lines.push(format!(
                "Conflict: it arrives {a}, {} days after it is needed.",
                (a - d.need_by).num_days()
            ));
        }
        if let Some(owner) = d.owner.and_then(|o| s.person(o)) {
            lines.push(format!("Owner: {}", owner.display_name));
        }
        if let Some(reason) = &d.blocked_reason {
            if d.state == DepState::Blocked {
                lines.push(format!("Blocked: {reason}"));
            }
        }
        if let Some(on) = d.delivered_on {
            lines.push(format!("Delivered on {on}."));
        }
        let summary = match (d.state, late_arrival) {
            (DepState::Delivered, _) => {
                format!("Delivered: {} ({from} → {needs})", d.what.as_str())
            }
            (_, Some(a)) => format!(
                "Conflict: {} arrives {a} ({from} → {needs})",
                d.what.as_str()
            ),
            _ => format!("Due: {} ({from} → {needs})", d.what.as_str()),
        };
        let mut event = Event::new();
        event
            .uid(&format!("dep-{}-p{}@drumbeat", d.number, p.id))
            .timestamp(s.now)
            .summary(&one_line(&summary))
            .description(&text(&lines.join("\n")))
            .starts(d.need_by)
            .ends(d.need_by + Duration::days(1))
            .add_property("TRANSP", "TRANSPARENT")
            .add_property("CATEGORIES", "Dependency")
            .status(EventStatus::Confirmed);
        cal.push(event.done());
    }
    cal.done().to_string()
}

/// User text as one TEXT value: line ends are `\n` (escaped by the writer), never a bare CR.
fn text(raw: &str) -> String {
    raw.replace("\r\n", "\n").replace('\r', "\n")
}

/// A summary is one line.
fn one_line(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}
