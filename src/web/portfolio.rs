//! The portfolio page: every program of a portfolio side by side, worst health first, with
//! its top reason, the end against its target and float, conflicts, the top risk and the
//! asks. It links to no program page: a portfolio link opens the portfolio and nothing else.

use maud::html;

use super::page::rag;
use super::{layout, NavItem, Styles};
use crate::digest::bare;
use crate::digest::portfolio::PortfolioDigest;
use crate::domain::n_days;
use crate::reply::Mention;

/// Asks shown per program; the rest are counted (the program's digest has them all).
const ASKS_EACH: usize = 5;

const NAV: &[NavItem] = &[
    NavItem {
        id: "programs",
        label: "Programs",
    },
    NavItem {
        id: "asks",
        label: "Asks",
    },
];

/// The page of a portfolio's digest value (the engineering lines, with troubled
/// dependencies left out: the page is for reading across programs).
pub fn portfolio_page(d: &PortfolioDigest, styles: Styles) -> String {
    let title = bare(&d.name);
    let subtitle = format!(
        "{} programs: {} red, {} amber, {} green · {}",
        d.programs.len(),
        d.red,
        d.amber,
        d.green,
        d.today
    );
    let main = html! {
        section #programs aria-labelledby="programs-h" {
            h2 #programs-h { "Programs" }
            @if d.programs.is_empty() {
                p { "The portfolio has no live program." }
            } @else {
                div.table-wrap {
                    table {
                        caption { "Each program, worst health first" }
                        thead { tr {
                            th scope="col" { "Program" }
                            th scope="col" { "Health" }
                            th scope="col" { "Top reason" }
                            th scope="col" { "End" }
                            th scope="col" { "Target" }
                            th scope="col" { "Forecast" }
                            th scope="col" { "Float (working days)" }
                            th scope="col" { "Conflicts" }
                            th scope="col" { "Top risk" }
                        } }
                        tbody {
                            @for l in &d.programs {
                                tr {
                                    th scope="row" { (bare(&l.program.name)) }
                                    td { (rag(l.rag)) }
                                    td {
                                        @if let Some(why) = &l.why {
                                            (bare(why))
                                            @if l.reasons > 1 { " (and " (l.reasons - 1) " more)" }
                                        }
                                    }
                                    @if let Some(end) = &l.end {
                                        td { (end.title) }
                                        td { (end.target) }
                                        td {
                                            @if let Some(f) = end.forecast { (f) }
                                            @if end.days_late > 0 {
                                                " " span.late { "(" (n_days(end.days_late)) " late)" }
                                            }
                                        }
                                    } @else {
                                        td colspan="3" { "No milestones yet" }
                                    }
                                    td { @if let Some(f) = l.end_float_days { (format!("{f:+}")) } }
                                    td { (l.conflicts) }
                                    td {
                                        @if let Some(r) = &l.top_risk {
                                            (bare(&r.title)) " (" (r.score) ")"
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section #asks aria-labelledby="asks-h" {
            h2 #asks-h { "Asks" }
            @if d.programs.iter().all(|l| l.asks.is_empty()) {
                p { "Nothing is needed from leadership." }
            }
            @for l in d.programs.iter().filter(|l| !l.asks.is_empty()) {
                h3 { (bare(&l.program.name)) }
                ul {
                    @for x in l.asks.iter().take(ASKS_EACH) {
                        li {
                            (x.what)
                            @if x.decision {
                                ": needs a decision"
                                @if let Some(w) = &x.who { " from " (Mention::plain(Some(w))) }
                                @if let Some(by) = x.by { " by " (by) }
                            } @else {
                                @if let Some(w) = &x.who { " — " (Mention::plain(Some(w))) }
                                @if let Some(by) = x.by { ", by " (by) }
                            }
                        }
                    }
                    @if l.asks.len() > ASKS_EACH {
                        li { "and " (l.asks.len() - ASKS_EACH) " more in the program's digest" }
                    }
                }
            }
        }
    };
    layout(
        &title,
        &subtitle,
        NAV,
        styles,
        main,
        "Drumbeat · a read-only page of the portfolio, from the same analysis as its digests",
    )
    .into_string()
}
