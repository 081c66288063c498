//! The program page: headline health with its reasons, key milestones and the forecast
//! table, the timeline, dependencies with their agreement and conflicts, the risk heat map,
//! the RAID log, decisions, and the week's changes.

use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup, PreEscaped};

use super::{layout, NavItem, Styles};
use crate::analysis::{changes, Analysed};
use crate::digest::bare;
use crate::digest::{self, MilestoneLine};
use crate::domain::{Audience, ItemKind, MilestoneState, PersonId, Rag, RiskBand, Severity};

/// Rows of the forecast and dependency tables at most.
const TABLE_ROWS: usize = 150;

/// Rows of the key milestones table at most (as the executive digest, it leads with the
/// latest).
const KEY_ROWS: usize = 20;

const NAV: &[NavItem] = &[
    NavItem {
        id: "health",
        label: "Health",
    },
    NavItem {
        id: "milestones",
        label: "Milestones",
    },
    NavItem {
        id: "timeline",
        label: "Timeline",
    },
    NavItem {
        id: "dependencies",
        label: "Dependencies",
    },
    NavItem {
        id: "risks",
        label: "Risks",
    },
    NavItem {
        id: "raid",
        label: "Assumptions, issues, actions",
    },
    NavItem {
        id: "decisions",
        label: "Decisions",
    },
    NavItem {
        id: "changes",
        label: "Changes",
    },
];

/// A RAG colour as a labelled badge.
pub(super) fn rag(r: Rag) -> Markup {
    let class = match r {
        Rag::Green => "rag rag-green",
        Rag::Amber => "rag rag-amber",
        Rag::Red => "rag rag-red",
    };
    html! { span class=(class) { (r.as_str()) } }
}

fn signed(days: Option<i64>) -> String {
    days.map(|d| format!("{d:+}")).unwrap_or_default()
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

/// The program's page, with the week's changes since `since` (the snapshot's events must
/// reach back that far). `styles` says whether the stylesheet is linked or inside.
pub fn program_page(
    a: &Analysed<'_>,
    since: DateTime<Utc>,
    styles: Styles,
) -> anyhow::Result<String> {
    let s = a.snap;
    let tz = s.program.timezone.tz();
    let today = s.today();
    // The executive digest's picks: the key milestones (or the plan's ends) and the end.
    let exec = digest::build(a, Audience::Executive, since);
    let who = |id: Option<PersonId>| a.who(id).map(|m| m.name).unwrap_or_default();
    let timeline = crate::chart::svg(crate::chart::Input::Timeline, a)?;

    let mut forecast: Vec<MilestoneLine> = (0..s.milestones.len())
        .filter(|&i| s.milestones[i].state != MilestoneState::Cancelled)
        .map(|i| a.milestone_line(i))
        .collect();
    forecast.sort_by(|x, y| {
        (
            x.state != MilestoneState::Planned,
            x.forecast.or(x.completed_on),
            &x.key,
        )
            .cmp(&(
                y.state != MilestoneState::Planned,
                y.forecast.or(y.completed_on),
                &y.key,
            ))
    });
    // A large program's page keeps its tables readable (and printable): the rows that
    // matter most, in their usual order, and the count of the rest.
    let total_milestones = forecast.len();
    if forecast.len() > TABLE_ROWS {
        let late = |m: &MilestoneLine| m.forecast.is_some_and(|f| f > m.target);
        let mut ranked: Vec<usize> = (0..forecast.len()).collect();
        ranked.sort_by_key(|&i| {
            let m = &forecast[i];
            (
                m.state != MilestoneState::Planned,
                !(m.critical || late(m)),
                i,
            )
        });
        ranked.truncate(TABLE_ROWS);
        ranked.sort_unstable();
        forecast = ranked.into_iter().map(|i| forecast[i].clone()).collect();
    }
    let forecast_caption = if forecast.len() < total_milestones {
        format!(
            "Forecast of {} of the {total_milestones} milestones, with float in days: the late and critical ones, then the soonest (milestone list shows every one)",
            forecast.len()
        )
    } else {
        "Forecast of every milestone, with float in days".to_owned()
    };
    let mut deps: Vec<usize> = (0..s.deps.len())
        .filter(|&i| s.deps[i].state != crate::domain::DepState::Cancelled)
        .collect();
    let total_deps = deps.len();
    if deps.len() > TABLE_ROWS {
        let trouble = |i: usize| {
            let d = &s.deps[i];
            d.is_open()
                && (matches!(
                    d.state,
                    crate::domain::DepState::Blocked | crate::domain::DepState::AtRisk
                ) || d.need_by < today
                    || a.forecasts.arrival(i).is_some_and(|x| x > d.need_by))
        };
        deps.sort_by_key(|&i| (!trouble(i), !s.deps[i].is_open(), s.deps[i].need_by, i));
        deps.truncate(TABLE_ROWS);
        deps.sort_unstable();
    }
    let deps_caption = if deps.len() < total_deps {
        format!(
            "{} of the {total_deps} dependencies, with the provider's agreement: those in trouble, then the soonest needed (dep list shows every one)",
            deps.len()
        )
    } else {
        "Every dependency, with the provider's agreement".to_owned()
    };
    let mut key = exec.key_milestones.clone().unwrap_or_default();
    let key_caption = if key.len() > KEY_ROWS {
        let all = key.len();
        key.truncate(KEY_ROWS);
        format!("Key milestones: {KEY_ROWS} of {all}, the latest against their targets first")
    } else {
        "Key milestones".to_owned()
    };
    let conflicts = a.forecasts.conflicts(s);
    let open_risks = a.open_risks();
    let changes = changes::since(&s.events, since, s);

    let main = html! {
        section #health aria-labelledby="health-h" {
            h2 #health-h { "Health" }
            p.headline {
                span { "Overall health: " } (rag(a.health.rag))
                @if let Some(end) = &exec.end {
                    span {
                        "End: " (end.title) ", target " (end.target)
                        @if let Some(f) = end.forecast { ", forecast " (f) }
                        @if end.days_late > 0 { " " span.late { "(" (end.days_late) " days late)" } }
                    }
                }
            }
            @if exec.health.why.is_empty() {
                p { "Nothing is off track." }
            } @else {
                ul.reasons {
                    @for why in &exec.health.why { li { (bare(why)) } }
                }
            }
            @if !a.health.projects.is_empty() {
                div.table-wrap {
                    table {
                        caption { "Health of each project" }
                        thead { tr {
                            th scope="col" { "Project" }
                            th scope="col" { "Health" }
                            th scope="col" { "Reported" }
                            th scope="col" { "Why" }
                        } }
                        tbody {
                            @for p in &a.health.projects {
                                tr {
                                    th scope="row" { (p.name) }
                                    td { (rag(p.health.rag)) }
                                    td {
                                        @if let Some(r) = p.health.reported { (r.as_str()) }
                                        @if p.health.stale { " (stale)" }
                                    }
                                    td {
                                        @for (i, r) in p.health.reasons.iter().enumerate() {
                                            @if i > 0 { "; " }
                                            (bare(&r.text))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section #milestones aria-labelledby="milestones-h" {
            h2 #milestones-h { "Milestones" }
            @if !key.is_empty() {
                (milestone_table(&key_caption, &key, &who_line))
            }
            @if forecast.is_empty() {
                p { "No milestones yet." }
            } @else {
                (milestone_table(&forecast_caption, &forecast, &who_line))
            }
        }
        section #timeline aria-labelledby="timeline-h" {
            h2 #timeline-h { "Timeline" }
            figure.chart {
                (PreEscaped(timeline))
                figcaption {
                    "Baseline (grey) above forecast; the target as a hollow diamond, the forecast as a filled one (red when late); the critical path outlined; today's line."
                }
            }
        }
        section #dependencies aria-labelledby="dependencies-h" {
            h2 #dependencies-h { "Dependencies" }
            @if conflicts.is_empty() {
                p { "No conflicts: every open dependency arrives by the date it is needed." }
            } @else {
                h3 { "Conflicts" }
                ul {
                    @for c in &conflicts {
                        @let d = &s.deps[c.dep];
                        li {
                            "#" (d.number) " " (d.what.as_str()) ": arrives " (c.arrival)
                            ", " span.late { (c.gap_days) " days after" } " it is needed (" (d.need_by) ")"
                        }
                    }
                }
            }
            @if deps.is_empty() {
                p { "No dependencies yet." }
            } @else {
                div.table-wrap {
                    table {
                        caption { (deps_caption) }
                        thead { tr {
                            th scope="col" { "#" }
                            th scope="col" { "What" }
                            th scope="col" { "Needed by" }
                            th scope="col" { "From" }
                            th scope="col" { "Owner" }
                            th scope="col" { "Need by" }
                            th scope="col" { "State" }
                            th scope="col" { "Agreement" }
                            th scope="col" { "Arrives" }
                        } }
                        tbody {
                            @for &i in &deps {
                                @let d = &s.deps[i];
                                @let arrives = a.forecasts.arrival(i).filter(|_| d.is_open());
                                tr {
                                    th scope="row" { (d.number) }
                                    td { (d.what.as_str()) }
                                    td { (s.endpoint_name(&d.needs)) }
                                    td { (s.endpoint_name(&d.from)) }
                                    td { (who(d.owner)) }
                                    td { (d.need_by) }
                                    td { (d.state.as_str()) }
                                    td {
                                        (d.agreement.as_str())
                                        @if let Some(c) = d.committed_on { " for " (c) }
                                        @if let Some(p) = d.proposed_on { ", proposes " (p) }
                                    }
                                    td.late[arrives.is_some_and(|x| x > d.need_by)] {
                                        (date(arrives.or(d.delivered_on)))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section #risks aria-labelledby="risks-h" {
            h2 #risks-h { "Risks" }
            (heat_map(a))
            @if open_risks.is_empty() {
                p { "No open risks." }
            } @else {
                div.table-wrap {
                    table {
                        caption { "Open risks, highest score first" }
                        thead { tr {
                            th scope="col" { "#" }
                            th scope="col" { "Risk" }
                            th scope="col" class="num" { "Score" }
                            th scope="col" { "Band" }
                            th scope="col" { "Owner" }
                            th scope="col" { "Mitigation" }
                            th scope="col" { "Review by" }
                        } }
                        tbody {
                            @for r in &open_risks {
                                tr {
                                    th scope="row" { (r.number) }
                                    td { (r.title.as_str()) }
                                    td.num { (r.score()) }
                                    td { (r.band().as_str()) }
                                    td { (who(r.owner)) }
                                    td { (r.mitigation) }
                                    td { (date(r.review_by)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section #raid aria-labelledby="raid-h" {
            h2 #raid-h { "Assumptions, issues and actions" }
            @for (kind, heading) in [
                (ItemKind::Assumption, "Assumptions"),
                (ItemKind::Issue, "Issues"),
                (ItemKind::Action, "Actions"),
            ] {
                @let items: Vec<&crate::domain::Item> = s.items.iter().filter(|i| i.kind == kind && i.is_open()).collect();
                h3 { (heading) }
                @if items.is_empty() {
                    p { "None open." }
                } @else {
                    div.table-wrap {
                        table {
                            caption { "Open " (heading.to_lowercase()) }
                            thead { tr {
                                th scope="col" { "#" }
                                th scope="col" { "Title" }
                                th scope="col" { "Owner" }
                                th scope="col" { (if kind == ItemKind::Assumption { "Validate by" } else { "Due" }) }
                                @if kind == ItemKind::Issue { th scope="col" { "Severity" } }
                            } }
                            tbody {
                                @for item in &items {
                                    tr {
                                        th scope="row" { (item.number) }
                                        td { (item.title.as_str()) }
                                        td { (who(item.owner)) }
                                        td.late[item.due.is_some_and(|d| d < today)] { (date(item.due)) }
                                        @if kind == ItemKind::Issue {
                                            td.late[matches!(item.severity, Some(Severity::High | Severity::Critical))] {
                                                (item.severity.map(|v| v.as_str()).unwrap_or(""))
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section #decisions aria-labelledby="decisions-h" {
            h2 #decisions-h { "Decisions" }
            @if s.decisions.is_empty() {
                p { "No decisions logged." }
            } @else {
                div.table-wrap {
                    table {
                        caption { "Decisions, pending and taken" }
                        thead { tr {
                            th scope="col" { "#" }
                            th scope="col" { "Decision" }
                            th scope="col" { "Outcome" }
                            th scope="col" { "By" }
                            th scope="col" { "When" }
                        } }
                        tbody {
                            @for d in &s.decisions {
                                @let pending = d.outcome.trim().is_empty();
                                tr {
                                    th scope="row" { (d.number) }
                                    td { (d.title.as_str()) }
                                    td {
                                        @if pending { em { "pending" } } @else { (d.outcome) }
                                    }
                                    td { (who(if pending { d.decider } else { d.decided_by })) }
                                    td {
                                        @if pending { (date(d.decide_by)) } @else { (d.decided_on) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section #changes aria-labelledby="changes-h" {
            h2 #changes-h { "Changes since " (since.with_timezone(&tz).date_naive()) }
            @if changes.is_empty() {
                p { "No changes in this period." }
            } @else {
                ul {
                    @for c in changes.iter().take(TABLE_ROWS) {
                        li {
                            span.muted { (c.at.with_timezone(&tz).date_naive()) " " }
                            (bare(&c.change.describe()))
                        }
                    }
                    @if changes.len() > TABLE_ROWS {
                        li { "and " (changes.len() - TABLE_ROWS) " more in the engineering digest" }
                    }
                }
            }
        }
    };
    let subtitle = format!(
        "Status as of {today} ({}), owner {}",
        s.program.timezone.as_str(),
        who(Some(s.program.owner))
    );
    let footer = format!(
        "A read-only page made by Drumbeat at {} UTC. Forecasts and health are worked out from the plan as it stood then.",
        s.now.format("%Y-%m-%d %H:%M")
    );
    Ok(layout(
        s.program.name.as_str(),
        &subtitle,
        NAV,
        styles,
        main,
        &footer,
    )
    .into_string())
}

fn who_line(m: &MilestoneLine) -> String {
    m.owner.as_ref().map(|o| o.name.clone()).unwrap_or_default()
}

fn milestone_table(
    caption: &str,
    lines: &[MilestoneLine],
    owner: &dyn Fn(&MilestoneLine) -> String,
) -> Markup {
    html! {
        div.table-wrap {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Milestone" }
                    th scope="col" { "Title" }
                    th scope="col" { "Project" }
                    th scope="col" { "Owner" }
                    th scope="col" { "State" }
                    th scope="col" { "Target" }
                    th scope="col" { "Forecast" }
                    th scope="col" class="num" { "Float" }
                } }
                tbody {
                    @for m in lines {
                        tr {
                            th scope="row" {
                                (m.key)
                                @if m.critical { " " span.muted { "(critical)" } }
                            }
                            td { (m.title) }
                            td { (m.project.clone().unwrap_or_default()) }
                            td { (owner(m)) }
                            td { (m.state.as_str()) }
                            td { (m.target) }
                            td.late[m.forecast.is_some_and(|f| f > m.target)] {
                                @if m.state == MilestoneState::Done {
                                    "done " (date(m.completed_on))
                                } @else {
                                    (date(m.forecast))
                                }
                            }
                            td.num.late[m.float_days.is_some_and(|f| f < 0)] { (signed(m.float_days)) }
                        }
                    }
                }
            }
        }
    }
}

/// Open risks on likelihood × impact: impact 5 at the top, each cell shaded by its band
/// and naming its risks by number.
fn heat_map(a: &Analysed<'_>) -> Markup {
    let risks = a.open_risks();
    html! {
        div.table-wrap {
            table.heat {
                caption { "Risk heat map: open risks by likelihood (across) and impact (down), by number" }
                thead { tr {
                    th scope="col" { "Impact \\ likelihood" }
                    @for l in 1..=5u8 { th scope="col" { (l) } }
                } }
                tbody {
                    @for i in (1..=5u8).rev() {
                        tr {
                            th scope="row" { (i) }
                            @for l in 1..=5u8 {
                                @let here: Vec<String> = risks.iter()
                                    .filter(|r| r.likelihood.get() == l && r.impact.get() == i)
                                    .map(|r| format!("#{}", r.number))
                                    .collect();
                                @let band = match RiskBand::of_score(l * i) {
                                    RiskBand::Low => "heat-0",
                                    RiskBand::Medium => "heat-1",
                                    RiskBand::High => "heat-2",
                                    RiskBand::Critical => "heat-3",
                                };
                                td class=(band) { (here.join(" ")) }
                            }
                        }
                    }
                }
            }
        }
    }
}
