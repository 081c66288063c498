//! Slack request signatures (v0): HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the
//! app's signing secret, compared in constant time, within a 300 s window. The headers are
//! checked before any of the body is read ([`Verifier::check_headers`]), the body before any
//! of it is parsed ([`Signed::check_body`]).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The largest request body read. Slash commands are a few hundred bytes; interaction
/// payloads carry the message or view they came from, a few kilobytes.
pub const BODY_MAX: usize = 128 * 1024;
/// How far a request's timestamp may be from now, either way, in seconds.
pub const WINDOW_SECS: i64 = 300;

pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
pub const SIGNATURE_HEADER: &str = "x-slack-signature";

/// Why a request was refused, in words fit for the response and the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the X-Slack-Request-Timestamp header is missing")]
    MissingTimestamp,
    #[error("the X-Slack-Signature header is missing")]
    MissingSignature,
    #[error("the X-Slack-Request-Timestamp header is not a Unix time in seconds")]
    BadTimestamp,
    #[error(
        "the request timestamp is {0} s from now; requests older or newer than {WINDOW_SECS} s are refused"
    )]
    OutsideWindow(i64),
    #[error("the X-Slack-Signature header is not `v0=` followed by 64 hex digits")]
    MalformedSignature,
    #[error("the X-Slack-Signature does not match the request")]
    BadSignature,
    #[error("the request body is larger than {BODY_MAX} bytes")]
    TooLarge,
    #[error("this signed request was received before; a request is accepted once")]
    Replayed,
}

/// A request whose headers passed: its timestamp is inside the window and its signature is
/// well formed. Only [`Signed::check_body`] says whether the body is the one signed.
#[derive(Debug)]
pub struct Signed<'a> {
    verifier: &'a Verifier,
    timestamp: String,
    given: Vec<u8>,
}

impl Signed<'_> {
    /// The request's timestamp, in Unix seconds.
    pub fn timestamp(&self) -> i64 {
        self.timestamp.parse().unwrap_or_default()
    }

    /// The signature, as lowercase hex: a key for the request that no one can forge.
    pub fn signature_hex(&self) -> String {
        hex::encode(&self.given)
    }

    /// Whether `body` is what was signed.
    pub fn check_body(&self, body: &[u8]) -> Result<(), Refusal> {
        if body.len() > BODY_MAX {
            return Err(Refusal::TooLarge);
        }
        let expected = mac(
            self.verifier.secret.expose_secret().as_bytes(),
            &self.timestamp,
            body,
        );
        if bool::from(expected.as_slice().ct_eq(&self.given)) {
            Ok(())
        } else {
            Err(Refusal::BadSignature)
        }
    }
}

/// Checks requests against one signing secret.
pub struct Verifier {
    secret: SecretString,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier([REDACTED])")
    }
}

impl Verifier {
    pub fn new(secret: SecretString) -> Self {
        Self { secret }
    }

    /// Whether the raw headers and body are a request Slack signed within the window.
    pub fn verify(
        &self,
        timestamp: Option<&[u8]>,
        signature: Option<&[u8]>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        if body.len() > BODY_MAX {
            return Err(Refusal::TooLarge);
        }
        self.check_headers(timestamp, signature, now)?
            .check_body(body)
    }

    /// The checks that need no body: both headers present, the timestamp inside the window,
    /// the signature well formed. A request that fails here is refused unread.
    pub fn check_headers(
        &self,
        timestamp: Option<&[u8]>,
        signature: Option<&[u8]>,
        now: DateTime<Utc>,
    ) -> Result<Signed<'_>, Refusal> {
        let timestamp = timestamp.ok_or(Refusal::MissingTimestamp)?;
        let signature = signature.ok_or(Refusal::MissingSignature)?;
        let ts = std::str::from_utf8(timestamp).map_err(|_| Refusal::BadTimestamp)?;
        if ts.is_empty() || ts.len() > 12 || !ts.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Refusal::BadTimestamp);
        }
        let seconds: i64 = ts.parse().map_err(|_| Refusal::BadTimestamp)?;
        let skew = now.timestamp() - seconds;
        if skew.abs() > WINDOW_SECS {
            return Err(Refusal::OutsideWindow(skew));
        }
        let given = signature
            .strip_prefix(b"v0=")
            .filter(|hex| hex.len() == 64)
            .and_then(|hex| hex::decode(hex).ok())
            .ok_or(Refusal::MalformedSignature)?;
        Ok(Signed {
            verifier: self,
            timestamp: ts.to_owned(),
            given,
        })
    }
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// The `X-Slack-Signature` value Slack sends for this body: `v0=` and 64 hex digits.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    format!(
        "v0={}",
        hex::encode(mac(secret.as_bytes(), timestamp, body))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: &str = "1531420618";
    const SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

    fn at(offset: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_531_420_618 + offset, 0).unwrap()
    }

    fn check(secret: &str, body: &[u8], offset: i64) -> Result<(), Refusal> {
        Verifier::new(SecretString::from(secret.to_owned())).verify(
            Some(TS.as_bytes()),
            Some(SIG.as_bytes()),
            body,
            at(offset),
        )
    }

    #[test]
    fn slacks_published_example_verifies_inside_the_window_only() {
        assert_eq!(sign(SECRET, TS, BODY.as_bytes()), SIG);
        assert_eq!(check(SECRET, BODY.as_bytes(), 0), Ok(()));
        assert_eq!(check(SECRET, BODY.as_bytes(), 60), Ok(()));
        assert_eq!(check(SECRET, BODY.as_bytes(), 300), Ok(()));
        assert_eq!(
            check(SECRET, BODY.as_bytes(), 301),
            Err(Refusal::OutsideWindow(301))
        );
        assert_eq!(
            check(SECRET, BODY.as_bytes(), -301),
            Err(Refusal::OutsideWindow(-301))
        );
    }

    #[test]
    fn any_change_is_refused() {
        let mut body = BODY.as_bytes().to_vec();
        for i in [0, body.len() / 2, body.len() - 1] {
            body[i] ^= 0x01;
            assert_eq!(
                check(SECRET, &body, 60),
                Err(Refusal::BadSignature),
                "byte {i}"
            );
            body[i] ^= 0x01;
        }
        assert_eq!(
            check("8f742231b10e8888abcd99yyyzzz85a6", BODY.as_bytes(), 60),
            Err(Refusal::BadSignature)
        );
        let v = Verifier::new(SecretString::from(SECRET.to_owned()));
        let body = BODY.as_bytes();
        let now = at(60);
        let sig = Some(SIG.as_bytes());
        let ts = Some(TS.as_bytes());
        assert_eq!(
            v.verify(None, sig, body, now),
            Err(Refusal::MissingTimestamp)
        );
        assert_eq!(
            v.verify(ts, None, body, now),
            Err(Refusal::MissingSignature)
        );
        assert_eq!(
            v.verify(Some(b"15314206l8"), sig, body, now),
            Err(Refusal::BadTimestamp)
        );
        assert_eq!(
            v.verify(ts, Some(&SIG.as_bytes()[..66]), body, now),
            Err(Refusal::MalformedSignature)
        );
        assert_eq!(
            v.verify(ts, Some(SIG.replace("v0=", "v1=").as_bytes()), body, now),
            Err(Refusal::MalformedSignature)
        );
        let big = vec![b'a'; BODY_MAX + 1];
        assert_eq!(v.verify(ts, sig, &big, now), Err(Refusal::TooLarge));
    }

    #[test]
    fn headers_are_judged_without_the_body() {
        let v = Verifier::new(SecretString::from(SECRET.to_owned()));
        let (ts, sig) = (Some(TS.as_bytes()), Some(SIG.as_bytes()));
        let signed = v.check_headers(ts, sig, at(60)).expect("headers pass");
        assert_eq!(signed.timestamp(), 1_531_420_618);
        assert_eq!(signed.signature_hex(), &SIG[3..]);
        assert_eq!(signed.check_body(BODY.as_bytes()), Ok(()));
        assert_eq!(signed.check_body(b"text=other"), Err(Refusal::BadSignature));
        assert_eq!(
            v.check_headers(None, None, at(0)).map(|_| ()),
            Err(Refusal::MissingTimestamp)
        );
        assert_eq!(
            v.check_headers(ts, None, at(0)).map(|_| ()),
            Err(Refusal::MissingSignature)
        );
        assert_eq!(
            v.check_headers(ts, sig, at(-400)).map(|_| ()),
            Err(Refusal::OutsideWindow(-400))
        );
        assert_eq!(
            v.check_headers(ts, Some(b"v0=abc"), at(0)).map(|_| ()),
            Err(Refusal::MalformedSignature)
        );
    }
}
