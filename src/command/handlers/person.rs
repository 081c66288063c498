//! `person …`.

use super::{refuse, Session};
use crate::command::grammar::PersonCmd;
use crate::command::Result;
use crate::domain::{DateSpec, Email, PersonRef, Timezone, Title};
use crate::reply::{Reply, Text};
use crate::store;

pub(super) async fn run(s: &mut Session<'_>, cmd: PersonCmd) -> Result<Reply> {
    match cmd {
        PersonCmd::Set {
            person,
            tz,
            name,
            away,
            back,
            delegate,
            no_delegate,
            email,
            no_email,
        } => {
            let email = match (email, no_email) {
                (Some(e), _) => Some(Some(e)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            set(
                s,
                &person,
                tz,
                name,
                away,
                back,
                delegate,
                no_delegate,
                email,
            )
            .await
        }
        PersonCmd::Away {
            person,
            until,
            back,
        } => away(s, &person, until, back).await,
        PersonCmd::Show { person } => show(s, person).await,
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one parameter per field of `person set`"
)]
async fn set(
    s: &mut Session<'_>,
    person: &PersonRef,
    tz: Option<Timezone>,
    name: Option<Title>,
    away: Option<DateSpec>,
    back: bool,
    delegate: Option<PersonRef>,
    no_delegate: bool,
    email: Option<Option<Email>>,
) -> Result<Reply> {
    let target = s.person(person).await?;
    let me = s.actor().await?;
    if target.id != me.id && !s.ctx.actor.is_admin && !owns_a_program(s, me.id).await? {
        return refuse("you can change only your own settings; a program owner or a tenant admin can change anyone's");
    }
    if tz.is_none()
        && name.is_none()
        && away.is_none()
        && !back
        && delegate.is_none()
        && !no_delegate
        && email.is_none()
    {
        return refuse("nothing to set: give --tz, --name, --away DATE, --back, --delegate @name, --no-delegate, --email ADDRESS or --no-email");
    }
    let before = target.clone();
    let mut after = target.clone();
    if let Some(tz) = tz {
        after.timezone = Some(tz);
    }
    if let Some(n) = name {
        after.display_name = n.as_str().to_owned();
    }
    let today = s
        .ctx
        .now
        .with_timezone(&after.timezone.unwrap_or_default().tz())
        .date_naive();
    if let Some(a) = away {
        let until = a.resolve(today);
        if until < today {
            return refuse(format!(
                "{until} is in the past: --away takes the last day away"
            ));
        }
        after.away_until = Some(until);
    }
    if back {
        after.away_until = None;
    }
    if let Some(d) = &delegate {
        if matches!(d, PersonRef::Me) && target.id == me.id {
            return refuse("a person cannot be their own delegate");
        }
        let d = s.person(d).await?;
        if d.id == target.id {
            return refuse("a person cannot be their own delegate");
        }
        after.delegate = Some(d.id);
    }
    if no_delegate {
        after.delegate = None;
    }
    let tenant = s.ctx.tenant.clone();
    if let Some(email) = email {
        if let Some(e) = &email {
            if let Some(other) = store::person_by_email(s.conn(), &tenant, e.as_str())
                .await?
                .filter(|o| o.id != after.id)
            {
                return refuse(format!(
                    "--email: `{e}` is already {}'s address here; an address names one person",
                    other.display_name
                ));
            }
        }
        after.email = email;
    }
    store::update_person(s.conn(), &tenant, &after).await?;
    s.event(
        None,
        "person.updated",
        format!("person:{}", after.handle),
        Some(&before),
        Some(&after),
    )
    .await?;
    person_reply(s, &after, true).await
}

/// `person away`: the same change as `person set --away/--back`, with its checks and event.
async fn away(
    s: &mut Session<'_>,
    person: &PersonRef,
    until: Option<DateSpec>,
    back: bool,
) -> Result<Reply> {
    if until.is_none() && !back {
        return refuse("give --until DATE (the last day away) or --back");
    }
    set(s, person, None, None, until, back, None, false, None).await
}

async fn show(s: &mut Session<'_>, person: Option<PersonRef>) -> Result<Reply> {
    let person = person.unwrap_or(PersonRef::Me);
    let Some(target) = s.find_person(&person).await? else {
        return refuse(match person {
            PersonRef::Me => "you are not known here yet: anything you do adds you, e.g. `person set @me --tz Europe/Berlin`".to_owned(),
            other => format!("nobody called {other} is known here"),
        });
    };
    person_reply(s, &target, false).await
}

async fn owns_a_program(s: &mut Session<'_>, person: i64) -> Result<bool> {
    let tenant = s.ctx.tenant.clone();
    Ok(store::list_programs(s.conn(), &tenant)
        .await?
        .iter()
        .any(|p| p.owner == person))
}

async fn person_reply(
    s: &mut Session<'_>,
    p: &crate::domain::Person,
    changed: bool,
) -> Result<Reply> {
    let delegate = s.maybe_mention(p.delegate).await?;
    let title = if changed {
        format!("Updated {}", p.display_name)
    } else {
        p.display_name.clone()
    };
    let reply = if changed {
        Reply::success(title)
    } else {
        Reply::new(title)
    };
    let people = s.people().await?.clone();
    let data = super::records::person(&people, p);
    Ok(reply.data(data).fields(vec![
        ("Person", Text::new().person(p)),
        (
            "Timezone",
            Text::plain(
                p.timezone
                    .map_or("(program's)".to_owned(), |t| t.as_str().to_owned()),
            ),
        ),
        (
            "Away until",
            Text::plain(
                p.away_until
                    .map_or("(not away)".to_owned(), |d| d.to_string()),
            ),
        ),
        (
            "Delegate",
            delegate.map_or(Text::plain("(none)"), |m| Text::new().person(m)),
        ),
        (
            "Email",
            Text::plain(
                p.email
                    .as_ref()
                    .map_or("(none)".to_owned(), |e| e.as_str().to_owned()),
            ),
        ),
    ]))
}
