//! The delivery scorecard as a page: the numbers come from [`crate::analysis::scorecard`].

use chrono::Duration;

use crate::analysis::scorecard::{scores, TeamScore};
use crate::analysis::Analysed;
use crate::reply::{Reply, Text};

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn days1(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.1}")).unwrap_or_else(|| "–".into())
}

/// The scorecard as table rows: one per team.
pub fn rows(scores: &[TeamScore]) -> Vec<Vec<Text>> {
    scores
        .iter()
        .map(|t| {
            vec![
                Text::plain(&t.team),
                Text::plain(match t.say_do() {
                    Some(_) => format!("{} ({}/{})", pct(t.say_do()), t.done_on_time, t.committed),
                    None => "–".into(),
                }),
                Text::plain(days1(t.mean_slip_days)),
                Text::plain(t.blocker_days_caused.to_string()),
                Text::plain(t.blocker_days_suffered.to_string()),
                Text::plain(days1(t.median_unblock_days)),
                Text::plain(format!("{}/{}", t.weeks_updated, t.weeks)),
            ]
        })
        .collect()
}

pub const COLUMNS: [&str; 7] = [
    "Team",
    "Say/do",
    "Mean slip (days)",
    "Blocker-days caused",
    "Blocker-days suffered",
    "Median to unblock (days)",
    "Weeks with an update",
];

pub fn scorecard(a: &Analysed<'_>, weeks: u32) -> Reply {
    let s = a.snap;
    let scores = scores(a, weeks);
    let start = (s.now - Duration::days(i64::from(weeks) * 7))
        .max(s.program.created_at)
        .with_timezone(&s.program.timezone.tz())
        .date_naive();
    let mut r = Reply::new(format!(
        "{}: delivery scorecard, {} to {}",
        s.program.name.as_str(),
        start,
        s.today()
    ))
    .paragraph(
        "Say/do counts the milestones due in this window by the target they had four weeks before it, and how many were done by then. Blocker-days count inside the window.",
    );
    r = if scores.is_empty() {
        r.paragraph("No teams yet.")
    } else {
        r.table(&COLUMNS, rows(&scores))
    };
    r.data(
        serde_json::json!({ "program": s.program.key.as_str(), "weeks": weeks, "teams": scores }),
    )
}
