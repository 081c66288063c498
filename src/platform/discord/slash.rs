//! Slash commands read from the one command list (`command::grammar`): every area is a
//! slash command, every verb a subcommand, every argument a typed option. Nothing here is
//! written by hand per command, so the text grammar, help and registration cannot drift.
//! Going back, [`argv`] turns the options Discord sends into the words the grammar parses.

use std::any::TypeId;

use crate::domain::{
    Audience, ChartKind, DepState, Format, Level, MapFormat, MilestoneState, PersonRef, Rag,
    RiskState, Role, ScheduleKind,
};

/// Discord's limits on registered commands.
pub const NAME_MAX: usize = 32;
pub const DESCRIPTION_MAX: usize = 100;
pub const OPTIONS_MAX: usize = 25;
pub const CHOICES_MAX: usize = 25;
pub const COMMANDS_MAX: usize = 100;

/// What kind of value an option takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A whole number within bounds.
    Integer {
        min: i64,
        max: i64,
    },
    Flag,
    /// A user picked with Discord's picker; the grammar gets `<@id>`.
    User,
    /// One of a fixed list of words, sent by Discord as the word's index.
    Choice,
    /// A text or announcement channel of the guild, picked with Discord's picker (type 7);
    /// the grammar gets its id.
    Channel,
}

/// What an option's autocomplete offers.
pub use crate::interaction::Completion as Complete;

/// Where an option's value goes in the command's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A positional argument: its rank among the positionals; `split` for ones that take
    /// several words (help topics).
    Positional { rank: (usize, usize), split: bool },
    /// `--long VALUE`; `repeat` for ones that may be given several times (comma-separated
    /// on Discord).
    Long { long: String, repeat: bool },
    /// `--long` with no value, given when true.
    Flag { long: String },
}

#[derive(Debug, Clone)]
pub struct SlashOption {
    pub name: String,
    pub description: String,
    pub kind: Kind,
    pub required: bool,
    pub choices: Vec<&'static str>,
    pub complete: Option<Complete>,
    pub place: Place,
}

/// A slash command (an area) or one of its subcommands (a verb).
#[derive(Debug, Clone)]
pub struct SlashCommand {
    pub name: String,
    pub description: String,
    /// The options of a command without subcommands (`help`).
    pub options: Vec<SlashOption>,
    pub subcommands: Vec<SlashCommand>,
}

/// A value as Discord sent it.
#[derive(Debug, Clone, PartialEq)]
pub enum Given {
    Text(String),
    Integer(i64),
    Flag(bool),
    /// A user id.
    User(String),
    /// A channel id.
    Channel(String),
}

/// Every area as a slash command, in the grammar's order.
pub fn commands() -> Vec<SlashCommand> {
    let line = crate::command::grammar::line_command();
    line.get_subcommands()
        .map(|area| {
            let subcommands: Vec<SlashCommand> = area
                .get_subcommands()
                .map(|verb| SlashCommand {
                    name: verb.get_name().to_owned(),
                    description: describe(verb.get_about().map(|a| a.to_string()), verb.get_name()),
                    options: options_of(area.get_name(), verb),
                    subcommands: vec![],
                })
                .collect();
            SlashCommand {
                name: area.get_name().to_owned(),
                description: describe(area.get_about().map(|a| a.to_string()), area.get_name()),
                options: if subcommands.is_empty() {
                    options_of(area.get_name(), area)
                } else {
                    vec![]
                },
                subcommands,
            }
        })
        .collect()
}

/// A description within Discord's 100 characters: the text before an example, else cut.
fn describe(about: Option<String>, name: &str) -> String {
    let about = about.unwrap_or_default();
    let first = about.lines().next().unwrap_or("").trim();
    let short = match first.find(": `") {
        Some(i) if first.chars().count() > DESCRIPTION_MAX => &first[..i],
        _ => first,
    };
    let text = if short.is_empty() {
        name.to_owned()
    } else {
        short.to_owned()
    };
    cut(&text, DESCRIPTION_MAX)
}

pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

fn options_of(area: &str, cmd: &clap::Command) -> Vec<SlashOption> {
    let mut out = Vec::new();
    let mut rank = 0;
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        // `--help` is clap's; `--out` writes a file on the server (console only).
        if id == "help" || arg.get_long() == Some("out") || arg.is_hide_set() {
            continue;
        }
        let help = arg.get_help().map(|h| h.to_string());
        if arg.is_positional() {
            rank += 1;
            let value_name = arg
                .get_value_names()
                .and_then(|v| v.first())
                .map(|v| v.to_string())
                .unwrap_or_else(|| id.to_owned());
            let words: Vec<&str> = value_name.split_whitespace().collect();
            if words.len() > 1 {
                // `[PROGRAM] KIND SPEC`: one option per word, optional when bracketed.
                for (i, w) in words.iter().enumerate() {
                    let optional = w.starts_with('[');
                    let name = w
                        .trim_matches(|c| c == '[' || c == ']')
                        .to_ascii_lowercase();
                    out.push(positional(
                        area,
                        &name,
                        None,
                        !optional,
                        (rank, i),
                        false,
                        arg,
                    ));
                }
                continue;
            }
            let name = value_name.to_ascii_lowercase();
            // `[PROGRAM] THING`: the thing is what the command is about, so it is required;
            // the program may come from the channel's binding.
            let required = arg.is_required_set() || id == "second";
            let split = matches!(arg.get_num_args(), Some(r) if r.max_values() > 1);
            out.push(positional(
                area,
                &name,
                help,
                required,
                (rank, 0),
                split,
                arg,
            ));
            continue;
        }
        let Some(long) = arg.get_long() else { continue };
        let flag = matches!(
            arg.get_action(),
            clap::ArgAction::SetTrue | clap::ArgAction::SetFalse
        );
        let (kind, choices) = if flag {
            (Kind::Flag, vec![])
        } else if long == "channel" {
            // Where messages will go: Discord's picker offers only the guild's own channels.
            (Kind::Channel, vec![])
        } else {
            kind_of(arg)
        };
        let value_name = arg
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string());
        let complete = match (long, value_name.as_deref()) {
            ("project", _) => Some(Complete::Project),
            ("milestone", _) => Some(Complete::Milestone),
            ("after" | "needs" | "from", _) | (_, Some("KEY")) => Some(Complete::Key),
            _ => None,
        };
        let repeat = matches!(arg.get_action(), clap::ArgAction::Append);
        out.push(SlashOption {
            name: long.to_owned(),
            description: cut(
                &help.unwrap_or_else(|| default_help(long, repeat)),
                DESCRIPTION_MAX,
            ),
            kind,
            required: arg.is_required_set(),
            choices,
            complete: if kind == Kind::Text { complete } else { None },
            place: if flag {
                Place::Flag {
                    long: long.to_owned(),
                }
            } else {
                Place::Long {
                    long: long.to_owned(),
                    repeat,
                }
            },
        });
    }
    // Discord wants required options first.
    out.sort_by_key(|o| !o.required);
    out
}

fn positional(
    area: &str,
    name: &str,
    help: Option<String>,
    required: bool,
    rank: (usize, usize),
    split: bool,
    arg: &clap::Arg,
) -> SlashOption {
    let (kind, choices) = match (name, area) {
        ("kind", "chart") => (
            Kind::Choice,
            ChartKind::ALL.iter().map(|k| k.as_str()).collect(),
        ),
        ("kind", _) => (
            Kind::Choice,
            ScheduleKind::ALL.iter().map(|k| k.as_str()).collect(),
        ),
        _ => kind_of(arg),
    };
    let complete = match (name, area) {
        ("program", _) => Some(Complete::Program),
        ("project", _) => Some(Complete::Project),
        ("key", "milestone" | "path") => Some(Complete::Milestone),
        ("key", "project") => Some(Complete::Project),
        ("key", _) => Some(Complete::Key),
        ("number", "dep" | "risk" | "decision") => Some(Complete::Number),
        _ => None,
    };
    SlashOption {
        name: name.to_owned(),
        description: cut(
            &help.unwrap_or_else(|| default_help(name, split)),
            DESCRIPTION_MAX,
        ),
        kind,
        required,
        choices,
        complete: if kind == Kind::Text { complete } else { None },
        place: Place::Positional { rank, split },
    }
}

fn default_help(name: &str, many: bool) -> String {
    let what = match name {
        "spec" => "When: 5-field crontab, `daily 09:30`, `weekdays 10:00` or `weekly fri 16:00`"
            .to_owned(),
        "topic" => "An area, or an area and a command, e.g. `milestone add`".to_owned(),
        other => format!("The {}", other.replace('-', " ")),
    };
    if many && name != "topic" {
        format!("{what} (several: separate with commas)")
    } else {
        what
    }
}

/// The option's type from the value parser clap was given.
fn kind_of(arg: &clap::Arg) -> (Kind, Vec<&'static str>) {
    let ty = arg.get_value_parser().type_id();
    fn words<T>(all: &[T], f: fn(&T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(f).collect()
    }
    if ty == TypeId::of::<PersonRef>() {
        (Kind::User, vec![])
    } else if ty == TypeId::of::<Level>() {
        (Kind::Integer { min: 1, max: 5 }, vec![])
    } else if ty == TypeId::of::<u16>() {
        (
            Kind::Integer {
                min: 1,
                max: i64::from(u16::MAX),
            },
            vec![],
        )
    } else if ty == TypeId::of::<Rag>() {
        (Kind::Choice, words(Rag::ALL, Rag::as_str))
    } else if ty == TypeId::of::<MilestoneState>() {
        (
            Kind::Choice,
            words(MilestoneState::ALL, MilestoneState::as_str),
        )
    } else if ty == TypeId::of::<DepState>() {
        (Kind::Choice, words(DepState::ALL, DepState::as_str))
    } else if ty == TypeId::of::<RiskState>() {
        (Kind::Choice, words(RiskState::ALL, RiskState::as_str))
    } else if ty == TypeId::of::<Role>() {
        (Kind::Choice, words(Role::ALL, Role::as_str))
    } else if ty == TypeId::of::<Audience>() {
        (Kind::Choice, words(Audience::ALL, Audience::as_str))
    } else if ty == TypeId::of::<Format>() {
        (Kind::Choice, words(Format::ALL, Format::as_str))
    } else if ty == TypeId::of::<MapFormat>() {
        (Kind::Choice, words(MapFormat::ALL, MapFormat::as_str))
    } else if ty == TypeId::of::<ScheduleKind>() {
        (Kind::Choice, words(ScheduleKind::ALL, ScheduleKind::as_str))
    } else {
        (Kind::Text, vec![])
    }
}

/// The command's words from the options Discord sent: `path` is `[area]` or
/// `[area, verb]`. An option the command does not have, or a value of the wrong type, is a
/// specific error (Discord's client prevents both, but a request is not a client).
pub fn argv(
    commands: &[SlashCommand],
    path: &[&str],
    given: &[(String, Given)],
) -> Result<Vec<String>, String> {
    let unknown = || format!("there is no command `/{}`", path.join(" "));
    let area = commands
        .iter()
        .find(|c| Some(c.name.as_str()) == path.first().copied())
        .ok_or_else(unknown)?;
    let command = match path.get(1) {
        Some(verb) => area
            .subcommands
            .iter()
            .find(|c| c.name == *verb)
            .ok_or_else(unknown)?,
        None if area.subcommands.is_empty() => area,
        None => return Err(format!("`/{}` needs a subcommand", area.name)),
    };
    let mut words: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
    let mut positionals: Vec<((usize, usize), Vec<String>)> = Vec::new();
    let mut longs: Vec<String> = Vec::new();
    for (name, value) in given {
        let option = command
            .options
            .iter()
            .find(|o| &o.name == name)
            .ok_or_else(|| format!("`/{}` has no option `{name}`", path.join(" ")))?;
        let text = match (option.kind, value) {
            (Kind::Flag, Given::Flag(b)) => {
                if *b {
                    if let Place::Flag { long } = &option.place {
                        longs.push(format!("--{long}"));
                    }
                }
                continue;
            }
            (Kind::User, Given::User(id)) => format!("<@{id}>"),
            (Kind::Channel, Given::Channel(id)) => id.clone(),
            (Kind::Choice, Given::Integer(i)) => usize::try_from(*i)
                .ok()
                .and_then(|i| option.choices.get(i))
                .map(|w| (*w).to_owned())
                .ok_or_else(|| format!("`{name}`: choice {i} is not one of the list"))?,
            (Kind::Integer { .. }, Given::Integer(i)) => i.to_string(),
            (Kind::Text, Given::Text(s)) => s.clone(),
            (_, other) => {
                return Err(format!(
                    "`{name}` got a value of the wrong type ({other:?})"
                ))
            }
        };
        match &option.place {
            Place::Positional { rank, split } => {
                let values = if *split {
                    text.split_whitespace().map(str::to_owned).collect()
                } else {
                    vec![text]
                };
                positionals.push((*rank, values));
            }
            Place::Long { long, repeat } => {
                if *repeat {
                    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        longs.push(format!("--{long}"));
                        longs.push(part.to_owned());
                    }
                } else {
                    // `--long=VALUE` keeps a value that starts with `-` a value.
                    longs.push(format!("--{long}={text}"));
                }
            }
            Place::Flag { .. } => {}
        }
    }
    positionals.sort_by_key(|(rank, _)| *rank);
    for (_, values) in positionals {
        for v in values {
            // A positional that starts with `-` would read as an option.
            if v.starts_with('-') && !words.iter().any(|w| w == "--") {
                words.push("--".into());
            }
            words.push(v);
        }
    }
    // Options go before `--` if one was needed.
    match words.iter().position(|w| w == "--") {
        Some(i) => {
            let tail = words.split_off(i);
            words.extend(longs);
            words.extend(tail);
        }
        None => words.extend(longs),
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{parse_argv, Parsed};

    fn find<'a>(cmds: &'a [SlashCommand], area: &str, verb: &str) -> &'a SlashCommand {
        let a = cmds.iter().find(|c| c.name == area).unwrap();
        a.subcommands.iter().find(|c| c.name == verb).unwrap()
    }

    fn words(path: &[&str], given: &[(&str, Given)]) -> Vec<String> {
        let given: Vec<(String, Given)> = given
            .iter()
            .map(|(n, g)| ((*n).to_owned(), g.clone()))
            .collect();
        argv(&commands(), path, &given).unwrap()
    }

    fn text(s: &str) -> Given {
        Given::Text(s.into())
    }

    #[test]
    fn every_area_and_verb_of_the_grammar_is_a_command_within_discords_limits() {
        let cmds = commands();
        let tree = crate::command::grammar::command_tree();
        assert_eq!(cmds.len(), tree.len());
        assert!(cmds.len() <= COMMANDS_MAX);
        for (c, (area, verbs)) in cmds.iter().zip(&tree) {
            assert_eq!(&c.name, area);
            let names: Vec<&String> = c.subcommands.iter().map(|s| &s.name).collect();
            assert_eq!(names, verbs.iter().collect::<Vec<_>>());
            assert!(c.subcommands.len() <= OPTIONS_MAX);
            for cmd in std::iter::once(c).chain(&c.subcommands) {
                let ok_name = |n: &str| {
                    !n.is_empty()
                        && n.chars().count() <= NAME_MAX
                        && n.chars().all(|ch| {
                            ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_'
                        })
                };
                assert!(ok_name(&cmd.name), "{}", cmd.name);
                let d = cmd.description.chars().count();
                assert!((1..=DESCRIPTION_MAX).contains(&d), "{}: {d}", cmd.name);
                assert!(cmd.options.len() <= OPTIONS_MAX, "{}", cmd.name);
                let mut seen = std::collections::HashSet::new();
                let mut optional_seen = false;
                for o in &cmd.options {
                    assert!(ok_name(&o.name), "{} {}", cmd.name, o.name);
                    assert!(seen.insert(&o.name), "{}: `{}` twice", cmd.name, o.name);
                    let d = o.description.chars().count();
                    assert!(
                        (1..=DESCRIPTION_MAX).contains(&d),
                        "{} {}",
                        cmd.name,
                        o.name
                    );
                    assert!(
                        !(o.required && optional_seen),
                        "{}: required after optional",
                        cmd.name
                    );
                    optional_seen |= !o.required;
                    assert!(o.choices.len() <= CHOICES_MAX);
                    assert_eq!(o.kind == Kind::Choice, !o.choices.is_empty(), "{}", o.name);
                }
            }
        }
    }

    #[test]
    fn options_are_typed_from_the_grammar() {
        let cmds = commands();
        let post = find(&cmds, "status", "post");
        let kinds: Vec<(&str, Kind, bool)> = post
            .options
            .iter()
            .map(|o| (o.name.as_str(), o.kind, o.required))
            .collect();
        assert_eq!(
            kinds,
            [
                ("project", Kind::Text, true),
                ("rag", Kind::Choice, true),
                ("summary", Kind::Text, true),
                ("program", Kind::Text, false),
                ("blockers", Kind::Text, false),
                ("next", Kind::Text, false),
            ]
        );
        let risk = find(&cmds, "risk", "add");
        let likelihood = risk
            .options
            .iter()
            .find(|o| o.name == "likelihood")
            .unwrap();
        assert_eq!(likelihood.kind, Kind::Integer { min: 1, max: 5 });
        let owner = risk.options.iter().find(|o| o.name == "owner").unwrap();
        assert_eq!(owner.kind, Kind::User);
        let program = post.options.iter().find(|o| o.name == "program").unwrap();
        assert_eq!(program.complete, Some(Complete::Program));
        let report = find(&cmds, "report", "status");
        assert!(
            report.options.iter().all(|o| o.name != "out"),
            "--out is console only"
        );
        let set = find(&cmds, "schedule", "set");
        let names: Vec<&str> = set.options.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(&names[..3], ["kind", "spec", "program"]);
    }

    #[test]
    fn options_become_words_the_grammar_parses() {
        let w = words(
            &["status", "post"],
            &[
                ("summary", text("Beta -- on track, \"perf\" risk")),
                ("rag", Given::Integer(1)),
                ("project", text("api")),
                ("program", text("atlas")),
            ],
        );
        assert_eq!(
            w,
            [
                "status",
                "post",
                "atlas",
                "api",
                "--summary=Beta -- on track, \"perf\" risk",
                "--rag=amber"
            ]
        );
        assert!(matches!(parse_argv(&w), Ok(Parsed::Run(_))));
        let w = words(
            &["milestone", "add"],
            &[
                ("key", text("ga")),
                ("target", text("+2w")),
                ("after", text("a, b")),
                ("owner", Given::User("123".into())),
            ],
        );
        assert_eq!(
            w,
            [
                "milestone",
                "add",
                "ga",
                "--target=+2w",
                "--after",
                "a",
                "--after",
                "b",
                "--owner=<@123>"
            ]
        );
        assert!(matches!(parse_argv(&w), Ok(Parsed::Run(_))));
        let w = words(
            &["schedule", "set"],
            &[
                ("spec", text("weekly fri 16:00")),
                ("kind", Given::Integer(2)),
                ("program", text("atlas")),
            ],
        );
        assert_eq!(
            w,
            ["schedule", "set", "atlas", "digest", "weekly fri 16:00"]
        );
        assert!(matches!(parse_argv(&w), Ok(Parsed::Run(_))));
        let w = words(&["help"], &[("topic", text("milestone add"))]);
        assert_eq!(w, ["help", "milestone", "add"]);
        assert!(matches!(parse_argv(&w), Ok(Parsed::Help(h)) if h.contains("--after")));
        let w = words(&["program", "list"], &[("archived", Given::Flag(true))]);
        assert_eq!(w, ["program", "list", "--archived"]);
        let w = words(&["program", "list"], &[("archived", Given::Flag(false))]);
        assert_eq!(w, ["program", "list"]);
    }

    #[test]
    fn channels_where_messages_go_are_picked_and_become_their_id() {
        let cmds = commands();
        for (area, verb) in [
            ("program", "route"),
            ("digest", "subscribe"),
            ("schedule", "set"),
        ] {
            let c = find(&cmds, area, verb);
            let channel = c.options.iter().find(|o| o.name == "channel").unwrap();
            assert_eq!(channel.kind, Kind::Channel, "/{area} {verb}");
        }
        let w = words(
            &["program", "route"],
            &[
                ("program", text("atlas")),
                ("channel", Given::Channel("300000000000000001".into())),
            ],
        );
        assert_eq!(
            w,
            ["program", "route", "atlas", "--channel=300000000000000001"]
        );
        assert!(matches!(parse_argv(&w), Ok(Parsed::Run(_))));
        // A typed text where a channel is picked is not taken.
        let e = argv(
            &cmds,
            &["program", "route"],
            &[("channel".into(), text("300000000000000001"))],
        )
        .unwrap_err();
        assert!(e.contains("wrong type"), "{e}");
    }

    #[test]
    fn a_value_that_looks_like_an_option_stays_a_value() {
        let w = words(
            &["risk", "add"],
            &[
                ("title", text("--rag red")),
                ("program", text("atlas")),
                ("likelihood", Given::Integer(2)),
                ("impact", Given::Integer(3)),
            ],
        );
        let Ok(Parsed::Run(crate::command::Command::Risk(crate::command::grammar::RiskCmd::Add {
            target,
            ..
        }))) = parse_argv(&w)
        else {
            panic!("{w:?}")
        };
        assert_eq!(target.split().unwrap(), (Some("atlas"), "--rag red"));
    }

    #[test]
    fn what_the_command_does_not_have_is_refused() {
        let cmds = commands();
        let e = argv(
            &cmds,
            &["status", "post"],
            &[("colour".into(), text("red"))],
        )
        .unwrap_err();
        assert!(e.contains("no option `colour`"), "{e}");
        let e = argv(&cmds, &["status", "nope"], &[]).unwrap_err();
        assert!(e.contains("no command"), "{e}");
        let e = argv(
            &cmds,
            &["status", "post"],
            &[("rag".into(), Given::Integer(9))],
        )
        .unwrap_err();
        assert!(e.contains("not one of"), "{e}");
        let e = argv(&cmds, &["status", "post"], &[("rag".into(), text("red"))]).unwrap_err();
        assert!(e.contains("wrong type"), "{e}");
        let e = argv(&cmds, &["status"], &[]).unwrap_err();
        assert!(e.contains("needs a subcommand"), "{e}");
    }
}
