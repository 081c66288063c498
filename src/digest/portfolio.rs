//! A portfolio: several programs of one tenant side by side, one line each, read from each
//! program's own analysis (nothing is computed again here). `portfolio show` is the table;
//! the portfolio digest is the same lines for executives (plain words, no commands) or for
//! engineering (with each program's conflicts and troubled dependencies).

use chrono::NaiveDate;
use serde::Serialize;

use super::executive::{asks, bare, end_line};
use super::reply::ask_text;
use super::{DepLine, EndLine, ProgramRef, RiskLine};
use crate::analysis::Analysed;
use crate::domain::{n_days, Audience, Rag};
use crate::reply::{Mention, Reply, Text, Tone};

/// Asks per program in the portfolio digest before "and N more".
const ASKS_EACH: usize = 3;
/// Dependencies in trouble per program in the engineering portfolio digest.
const DEPS_EACH: usize = 5;

/// One program of a portfolio.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub program: ProgramRef,
    pub rag: Rag,
    /// Its worst reason, if it is not green.
    pub why: Option<String>,
    /// How many reasons it has in all.
    pub reasons: usize,
    /// The end of its plan against the target.
    pub end: Option<EndLine>,
    /// The end milestone's float in working days (negative: it makes a target late).
    pub end_float_days: Option<i64>,
    /// Open dependencies forecast to arrive after they are needed.
    pub conflicts: usize,
    pub top_risk: Option<RiskLine>,
    pub asks: Vec<super::Ask>,
    /// Engineering: open dependencies blocked, at risk, late or in conflict, worst first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub troubled: Vec<DepLine>,
}

/// The line of one analysed program. `detail` adds the troubled dependencies.
pub fn line(a: &Analysed<'_>, detail: bool) -> Line {
    let s = a.snap;
    let end_float_days = a
        .launch()
        .and_then(|i| a.forecasts.milestone(i))
        .map(|f| f.float_days);
    let top_risk = a.open_risks().first().map(|r| a.risk_line(r));
    Line {
        program: ProgramRef {
            key: s.program.key.to_string(),
            name: s.program.name.to_string(),
            timezone: s.program.timezone.as_str().to_owned(),
        },
        rag: a.health.rag,
        why: a
            .health
            .reasons
            .iter()
            .find(|r| r.rag == a.health.rag && r.rag != Rag::Green)
            .map(|r| r.text.clone()),
        reasons: a.health.reasons.len(),
        end: end_line(a),
        end_float_days,
        conflicts: a.forecasts.conflicts(s).len(),
        top_risk,
        asks: asks(a),
        troubled: if detail {
            a.troubled_dependencies()
        } else {
            Vec::new()
        },
    }
}

/// The lines of several loaded programs, each analysed once.
pub fn lines(snaps: &[crate::analysis::Snapshot], detail: bool) -> Vec<Line> {
    snaps
        .iter()
        .map(|s| line(&Analysed::of(s), detail))
        .collect()
}

/// A portfolio digest, or what `portfolio show` shows.
#[derive(Debug, Clone, Serialize)]
pub struct PortfolioDigest {
    /// The portfolio's key, or `None` for every program of the tenant.
    pub key: Option<String>,
    pub name: String,
    pub audience: Audience,
    pub today: NaiveDate,
    pub red: usize,
    pub amber: usize,
    pub green: usize,
    /// Worst first (red, amber, green), then in the portfolio's order.
    pub programs: Vec<Line>,
}

/// Gathers the lines, worst health first; ties keep the portfolio's order.
pub fn build(
    key: Option<String>,
    name: String,
    audience: Audience,
    today: NaiveDate,
    mut programs: Vec<Line>,
) -> PortfolioDigest {
    let count = |rag| programs.iter().filter(|l| l.rag == rag).count();
    let (red, amber, green) = (count(Rag::Red), count(Rag::Amber), count(Rag::Green));
    programs.sort_by_key(|l| std::cmp::Reverse(l.rag));
    PortfolioDigest {
        key,
        name,
        audience,
        today,
        red,
        amber,
        green,
        programs,
    }
}

fn end_words(end: &EndLine) -> String {
    match end.forecast {
        Some(f) if end.days_late > 0 => format!(
            "{} forecast {f}, {} after its target {}",
            end.title,
            n_days(end.days_late),
            end.target
        ),
        Some(f) if end.days_late < 0 => format!(
            "{} forecast {f}, {} ahead of its target {}",
            end.title,
            n_days(-end.days_late),
            end.target
        ),
        Some(f) => format!("{} forecast {f}, on its target", end.title),
        None => format!("{} due {}", end.title, end.target),
    }
}

fn counts(d: &PortfolioDigest) -> String {
    let n = d.programs.len();
    format!(
        "{n} {}: {} red, {} amber, {} green.",
        if n == 1 { "program" } else { "programs" },
        d.red,
        d.amber,
        d.green
    )
}

/// `portfolio show`: one row per program.
pub fn to_table(d: &PortfolioDigest) -> Reply {
    let title = match &d.key {
        Some(key) => format!("Portfolio {key}: {}", d.name),
        None => "Every program".to_owned(),
    };
    let mut r = Reply::new(title).tone(Tone::Health(worst(d)));
    if d.programs.is_empty() {
        return r.paragraph(match &d.key {
            Some(key) => format!(
                "The portfolio has no live program. Add some with `portfolio add {key} PROGRAM…`."
            ),
            None => "There is no live program yet. Create one with `program create`.".to_owned(),
        });
    }
    r = r.paragraph(counts(d));
    let rows = d
        .programs
        .iter()
        .map(|l| {
            let end = match &l.end {
                Some(e) => {
                    let mut t = Text::plain(match e.forecast {
                        Some(f) => f.to_string(),
                        None => "—".to_owned(),
                    });
                    t = t.text(format!(" (target {})", e.target));
                    t
                }
                None => Text::plain("no milestones"),
            };
            let float = l
                .end_float_days
                .map(|f| format!("{f:+}"))
                .unwrap_or_default();
            let risk = l
                .top_risk
                .as_ref()
                .map(|r| format!("#{} {} ({})", r.number, r.title, r.score))
                .unwrap_or_default();
            let asks = match l.asks.len() {
                0 => String::new(),
                1 => l.asks[0].what.clone(),
                n => format!("{} (and {} more)", l.asks[0].what, n - 1),
            };
            vec![
                Text::new().code(&l.program.key),
                Text::new().rag(l.rag),
                Text::plain(l.why.clone().unwrap_or_default()),
                end,
                Text::plain(float),
                Text::plain(l.conflicts.to_string()),
                Text::plain(risk),
                Text::plain(asks),
            ]
        })
        .collect();
    r.table(
        &[
            "Program",
            "Health",
            "Top reason",
            "End",
            "Float",
            "Conflicts",
            "Top risk",
            "Asks",
        ],
        rows,
    )
}

fn worst(d: &PortfolioDigest) -> Rag {
    d.programs.iter().map(|l| l.rag).max().unwrap_or(Rag::Green)
}

/// The portfolio digest as a reply: for executives in plain words, one block per program;
/// for engineering with each program's conflicts and dependencies in trouble.
pub fn to_reply(d: &PortfolioDigest) -> Reply {
    let exec = d.audience == Audience::Executive;
    let name = if exec { bare(&d.name) } else { d.name.clone() };
    let mut r = Reply::new(format!(
        "{} digest of {name}, {}",
        if exec { "Executive" } else { "Engineering" },
        d.today
    ))
    .tone(Tone::Health(worst(d)));
    if d.programs.is_empty() {
        return r.paragraph("The portfolio has no live program.");
    }
    r = r.paragraph(counts(d));
    for l in &d.programs {
        let title = if exec {
            bare(&l.program.name)
        } else {
            format!("{} ({})", l.program.name, l.program.key)
        };
        r = r.heading(title);
        let mut head = Text::new().rag(l.rag);
        if let Some(why) = &l.why {
            head = head
                .text(": ")
                .text(if exec { bare(why) } else { why.clone() });
            if l.reasons > 1 {
                head = head.text(format!(" (and {} more)", l.reasons - 1));
            }
        }
        head = head.text(".");
        if let Some(end) = &l.end {
            head = head.text(format!(" {}.", end_words(end)));
        }
        r = r.paragraph(head);
        let mut facts = Vec::new();
        if let Some(f) = l.end_float_days {
            facts.push(if f < 0 {
                format!(
                    "the end is {} short of float",
                    n_days(-f).replace("days", "working days")
                )
            } else {
                format!("float to the end: {f} working days")
            });
        }
        if l.conflicts > 0 {
            facts.push(format!(
                "{} {} arrive after {} needed",
                l.conflicts,
                if l.conflicts == 1 {
                    "dependency"
                } else {
                    "dependencies"
                },
                if l.conflicts == 1 {
                    "it is"
                } else {
                    "they are"
                }
            ));
        }
        if let Some(risk) = &l.top_risk {
            let title = if exec {
                bare(&risk.title)
            } else {
                risk.title.clone()
            };
            facts.push(format!("top risk: {title} (score {})", risk.score));
        }
        if !facts.is_empty() {
            let mut line = facts.join("; ");
            if let Some(first) = line.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            r = r.paragraph(format!("{line}."));
        }
        if !l.asks.is_empty() {
            let mut items: Vec<Text> = l.asks.iter().take(ASKS_EACH).map(ask_text).collect();
            if l.asks.len() > ASKS_EACH {
                items.push(Text::plain(format!(
                    "and {} more in the program's digest",
                    l.asks.len() - ASKS_EACH
                )));
            }
            if !exec {
                r = r.paragraph("Asks:");
            }
            r = r.list(items);
        }
        if !exec && !l.troubled.is_empty() {
            r = r.paragraph("Dependencies in trouble:");
            let items: Vec<Text> = l
                .troubled
                .iter()
                .take(DEPS_EACH)
                .map(|dep| {
                    let mut t = Text::new()
                        .code(format!("dep #{}", dep.number))
                        .text(format!(
                            " {} from {} for {}: {}",
                            dep.what,
                            dep.from,
                            dep.needed_by,
                            dep.state.as_str()
                        ));
                    if let Some(arrives) = dep.arrives_late {
                        t = t.text(format!(", arrives {arrives} but needed {}", dep.need_by));
                    } else if dep.days_late > 0 {
                        t = t.text(format!(", {} past need-by", n_days(dep.days_late)));
                    }
                    if let Some(owner) = &dep.owner {
                        t = t.text(format!(" — {}", Mention::plain(Some(owner))));
                    }
                    t
                })
                .collect();
            r = r.list(items);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(key: &str, rag: Rag) -> Line {
        Line {
            program: ProgramRef {
                key: key.into(),
                name: key.to_uppercase(),
                timezone: "UTC".into(),
            },
            rag,
            why: None,
            reasons: 0,
            end: None,
            end_float_days: None,
            conflicts: 0,
            top_risk: None,
            asks: Vec::new(),
            troubled: Vec::new(),
        }
    }

    #[test]
    fn worst_health_comes_first_and_ties_keep_the_portfolio_order() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let d = build(
            None,
            "All".into(),
            Audience::Executive,
            today,
            vec![
                line_of("a", Rag::Green),
                line_of("b", Rag::Red),
                line_of("c", Rag::Amber),
                line_of("d", Rag::Red),
            ],
        );
        let keys: Vec<&str> = d.programs.iter().map(|l| l.program.key.as_str()).collect();
        assert_eq!(keys, ["b", "d", "c", "a"]);
        assert_eq!((d.red, d.amber, d.green), (2, 1, 1));
    }
}
