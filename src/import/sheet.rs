//! Reading a CSV sheet: the header row names the columns, each matched to a field by its
//! common names or by `--map`; dates are read in the usual spreadsheet forms or as
//! `--date-format` says.

use chrono::NaiveDate;

use super::{Field, Kind, Row, Sheet, Style};
use crate::domain::truncate_for_error;

/// What `import-csv` was told about the file.
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    /// `--map COLUMN=FIELD`, as typed; `FIELD` may be `ignore`.
    pub maps: Vec<String>,
    /// `--date-format`, a chrono strftime pattern such as `%d/%m/%Y`.
    pub date_format: Option<String>,
}

/// A column name as compared with the known names: lower case, letters and digits only
/// (`Due date` and `due_date` are both `duedate`); `#` stays `#`.
fn normalized(header: &str) -> String {
    let t = header.trim();
    if t == "#" {
        return "#".into();
    }
    t.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Reads `text` as a sheet of `kind`. Every problem is an error naming the file, and the
/// row and column where there is one.
pub fn read_csv(
    kind: Kind,
    label: &str,
    text: &str,
    options: &CsvOptions,
) -> Result<Sheet, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let headers = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(format!("{label}: the header row cannot be read: {e}")),
        None => {
            return Err(format!(
                "{label} is empty: its first row must name the columns"
            ))
        }
    };
    let headers: Vec<String> = headers.iter().map(|h| h.trim().to_owned()).collect();
    let mapping = map_columns(kind, label, &headers, &options.maps)?;
    let mut missing = Vec::new();
    for need in kind.required() {
        if !mapping.iter().any(|(_, f)| *f == Some(*need)) {
            missing.push(*need);
        }
    }
    if kind == Kind::Dependencies
        && !mapping
            .iter()
            .any(|(_, f)| matches!(f, Some(Field::From | Field::External)))
    {
        missing.push(Field::From);
    }
    if let Some(first) = missing.first() {
        let names: Vec<&str> = kind
            .fields()
            .iter()
            .find(|(f, _)| f == first)
            .map(|(_, n)| n.iter().copied().take(4).collect())
            .unwrap_or_default();
        return Err(format!(
            "{label} has no column for `{}`, which {} need ({}): name a column like {}, or give --map COLUMN={}. Its columns are: {}",
            first.as_str(),
            kind.as_str(),
            kind.required()
                .iter()
                .map(|f| f.as_str())
                .chain((kind == Kind::Dependencies).then_some("from or external"))
                .collect::<Vec<_>>()
                .join(", "),
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            first.as_str(),
            headers
                .iter()
                .map(|h| format!("`{h}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut sheet = Sheet {
        kind,
        label: label.to_owned(),
        style: Style::Csv,
        mapping,
        rows: Vec::new(),
        skipped: Vec::new(),
    };
    let mut line = 1usize;
    for record in records {
        let record = record.map_err(|e| format!("{label}: {e}"))?;
        line = record
            .position()
            .map_or(line + 1, |p| usize::try_from(p.line()).unwrap_or(line + 1));
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let mut row = Row {
            number: line,
            ..Row::default()
        };
        for (i, (column, field)) in sheet.mapping.iter().enumerate() {
            let Some(field) = field else { continue };
            let value = record.get(i).unwrap_or("").trim();
            if value.is_empty() {
                continue;
            }
            let value = if *field == Field::Due {
                parse_date(value, options.date_format.as_deref())
                    .map_err(|e| format!("{}: {e}", sheet.place(line, Some(column))))?
                    .to_string()
            } else {
                value.to_owned()
            };
            row.set(*field, value, column);
        }
        sheet.rows.push(row);
    }
    Ok(sheet)
}

/// Which field each column feeds: `--map` first, then the known names; a field already fed
/// by an earlier column leaves a later one ignored.
fn map_columns(
    kind: Kind,
    label: &str,
    headers: &[String],
    maps: &[String],
) -> Result<Vec<(String, Option<Field>)>, String> {
    let mut chosen: Vec<Option<Option<Field>>> = vec![None; headers.len()];
    for m in maps {
        let Some((column, field)) = m.rsplit_once('=') else {
            return Err(format!(
                "--map `{}`: write COLUMN=FIELD, e.g. --map \"Due date=due\"",
                truncate_for_error(m)
            ));
        };
        let Some(i) = headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(column.trim()))
        else {
            return Err(format!(
                "--map `{}`: {label} has no column `{}`; its columns are: {}",
                truncate_for_error(m),
                truncate_for_error(column.trim()),
                headers
                    .iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        let field = if field.trim().eq_ignore_ascii_case("ignore") {
            None
        } else {
            match Field::parse_for(kind, field) {
                Some(f) => Some(f),
                None => {
                    return Err(format!(
                        "--map `{}`: `{}` is not a field of {}: use one of {}, or `ignore`",
                        truncate_for_error(m),
                        truncate_for_error(field.trim()),
                        kind.as_str(),
                        kind.fields()
                            .iter()
                            .map(|(f, _)| f.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
        };
        chosen[i] = Some(field);
    }
    let mut taken: Vec<Field> = chosen.iter().flatten().flatten().copied().collect();
    let mut out = Vec::with_capacity(headers.len());
    for (i, header) in headers.iter().enumerate() {
        let field = match chosen[i] {
            Some(f) => f,
            None => {
                let norm = normalized(header);
                let found = kind
                    .fields()
                    .iter()
                    .find(|(f, names)| !taken.contains(f) && names.contains(&norm.as_str()))
                    .map(|(f, _)| *f);
                if let Some(f) = found {
                    taken.push(f);
                }
                found
            }
        };
        out.push((header.clone(), field));
    }
    Ok(out)
}

/// Reads a date: with `format`, exactly that (chrono's strftime, e.g. `%d/%m/%Y`);
/// otherwise ISO `2026-12-15` (also with a time after it, as trackers write), `2026/12/15`,
/// `15.12.2026`, `15 Dec 2026`, `Dec 15, 2026`, Jira's `15/Dec/26`, and `15/12/2026` or
/// `12/31/2026` when only one reading is a date.
pub fn parse_date(raw: &str, format: Option<&str>) -> Result<NaiveDate, String> {
    let raw = raw.trim();
    let shown = truncate_for_error(raw);
    if let Some(fmt) = format {
        return NaiveDate::parse_from_str(raw, fmt)
            .map_err(|_| format!("`{shown}` is not a date in the form --date-format `{fmt}`"));
    }
    let bad = || {
        format!(
            "`{shown}` is not a date: write 2026-12-15, or give --date-format (e.g. --date-format %d/%m/%Y)"
        )
    };
    // ISO, with or without a time after it (GitHub's `2026-12-15T08:00:00Z`).
    if raw.len() >= 10 && raw.is_char_boundary(10) {
        let (day, rest) = raw.split_at(10);
        if rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ') {
            if let Ok(d) = NaiveDate::parse_from_str(day, "%Y-%m-%d") {
                return Ok(d);
            }
        }
    }
    // Jira writes `15/Dec/26 12:00 AM`: the day is the first word.
    let first = raw.split_whitespace().next().unwrap_or(raw);
    for (text, fmt) in [
        (raw, "%Y/%m/%d"),
        (raw, "%d.%m.%Y"),
        (raw, "%d %b %Y"),
        (raw, "%d %B %Y"),
        (raw, "%b %d, %Y"),
        (raw, "%B %d, %Y"),
        (raw, "%d-%b-%Y"),
        (first, "%d/%b/%y"),
        (first, "%d/%b/%Y"),
    ] {
        if let Ok(d) = NaiveDate::parse_from_str(text, fmt) {
            return Ok(d);
        }
    }
    let parts: Vec<&str> = raw.split('/').collect();
    if let [a, b, y] = parts.as_slice() {
        let (Ok(a), Ok(b), Ok(y)) = (a.parse::<u32>(), b.parse::<u32>(), y.parse::<i32>()) else {
            return Err(bad());
        };
        if y < 1000 {
            return Err(bad());
        }
        let dm = NaiveDate::from_ymd_opt(y, b, a);
        let md = NaiveDate::from_ymd_opt(y, a, b);
        return match (dm, md) {
            (Some(d), None) | (None, Some(d)) => Ok(d),
            (Some(d), Some(_)) if a == b => Ok(d),
            (Some(_), Some(_)) => Err(format!(
                "`{shown}` could be day/month or month/day: give --date-format %d/%m/%Y or --date-format %m/%d/%Y"
            )),
            (None, None) => Err(bad()),
        };
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn dates_in_the_common_forms() {
        for raw in [
            "2026-12-15",
            "2026-12-15T08:00:00Z",
            "2026/12/15",
            "15.12.2026",
            "15 Dec 2026",
            "Dec 15, 2026",
            "15/Dec/26 12:00 AM",
            "15/12/2026",
            "12/15/2026",
        ] {
            assert_eq!(parse_date(raw, None), Ok(day(2026, 12, 15)), "{raw}");
        }
        let e = parse_date("03/04/2026", None).unwrap_err();
        assert!(e.contains("--date-format"), "{e}");
        assert_eq!(
            parse_date("03/04/2026", Some("%d/%m/%Y")),
            Ok(day(2026, 4, 3))
        );
        assert!(parse_date("2026-13-45", None).is_err());
        assert!(parse_date("soon", None).unwrap_err().contains("`soon`"));
        assert!(parse_date("2026-12-15", Some("%d/%m/%Y")).is_err());
    }

    #[test]
    fn headers_are_found_by_their_common_names_and_by_map() {
        let text =
            "ID,Summary,Team,Due date,Assignee,Colour\nauth,Auth ready,api,2026-12-01,dana,red\n";
        let s = read_csv(Kind::Milestones, "m.csv", text, &CsvOptions::default()).unwrap();
        let fed: Vec<(&str, Option<&str>)> = s
            .mapping
            .iter()
            .map(|(c, f)| (c.as_str(), f.map(|f| f.as_str())))
            .collect();
        assert_eq!(
            fed,
            [
                ("ID", Some("key")),
                ("Summary", Some("title")),
                ("Team", Some("project")),
                ("Due date", Some("due")),
                ("Assignee", Some("owner")),
                ("Colour", None)
            ]
        );
        assert_eq!(s.rows[0].number, 2);
        assert_eq!(s.rows[0].get(Field::Due), Some("2026-12-01"));

        let options = CsvOptions {
            maps: vec!["Colour=title".into(), "Summary=ignore".into()],
            date_format: None,
        };
        let s = read_csv(Kind::Milestones, "m.csv", text, &options).unwrap();
        assert_eq!(s.rows[0].get(Field::Title), Some("red"));
        assert_eq!(s.rows[0].column(Field::Title), Some("Colour"));

        let e = read_csv(
            Kind::Milestones,
            "m.csv",
            "Key,Title\na,b\n",
            &CsvOptions::default(),
        )
        .unwrap_err();
        assert!(e.contains("no column for `due`"), "{e}");
        let e = read_csv(
            Kind::Milestones,
            "m.csv",
            "Key,Due\na,31/31/2026\n",
            &CsvOptions::default(),
        )
        .unwrap_err();
        assert!(e.starts_with("m.csv row 2, column `Due`"), "{e}");
    }
}
