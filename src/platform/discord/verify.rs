//! Discord's request signatures: Ed25519 over the `X-Signature-Timestamp` header's bytes
//! followed by the raw body, checked with the application's public key, within 300 s
//! either way. The headers are judged before any of the body is read
//! ([`Verifier::check_headers`]), the body before any of it is parsed
//! ([`Signed::check_body`]).

use chrono::{DateTime, Utc};
use ring::signature::{UnparsedPublicKey, ED25519};

/// The largest request body read. A button's interaction carries the whole message it was
/// on (up to 2,000 characters of content and 6,000 of embeds, four bytes each at worst),
/// with room to spare; a slash command is a few kilobytes.
pub const BODY_MAX: usize = 256 * 1024;
/// How far a request's timestamp may be from now, either way, in seconds.
pub const WINDOW_SECS: i64 = 300;

pub const SIGNATURE_HEADER: &str = "x-signature-ed25519";
pub const TIMESTAMP_HEADER: &str = "x-signature-timestamp";

/// Why a request was refused, in words fit for the response and the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the X-Signature-Ed25519 header is missing")]
    MissingSignature,
    #[error("the X-Signature-Timestamp header is missing")]
    MissingTimestamp,
    #[error("the X-Signature-Timestamp header is not a Unix time in seconds")]
    BadTimestamp,
    #[error(
        "stale timestamp: the request was signed {0} s from now; requests older or newer than {WINDOW_SECS} s are refused"
    )]
    Stale(i64),
    #[error("the X-Signature-Ed25519 header is not 128 hex digits")]
    MalformedSignature,
    #[error(
        "invalid request signature: it does not match the request and the application's public key"
    )]
    BadSignature,
    #[error("the request body is larger than {BODY_MAX} bytes")]
    TooLarge,
}

/// The application's public key (`discord.public_key`): 32 bytes, given as 64 hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.0))
    }
}

impl PublicKey {
    /// Reads the key as the Developer Portal shows it (General Information → Public Key).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let mut key = [0u8; 32];
        match hex::decode_to_slice(raw, &mut key) {
            Ok(()) => Ok(Self(key)),
            Err(_) => Err(format!(
                "discord.public_key must be the application's public key, 64 hex digits (Developer Portal → General Information → Public Key); it is {} characters{}",
                raw.chars().count(),
                if raw.bytes().all(|b| b.is_ascii_hexdigit()) {
                    ""
                } else {
                    ", not all hex digits"
                }
            )),
        }
    }
}

/// A request whose headers passed: its timestamp is inside the window and its signature is
/// well formed. Only [`Signed::check_body`] says whether the body is the one signed.
#[derive(Debug)]
pub struct Signed<'a> {
    verifier: &'a Verifier,
    timestamp: Vec<u8>,
    signature: [u8; 64],
}

impl Signed<'_> {
    /// Whether `body` is what was signed, with the timestamp, by the application's key.
    pub fn check_body(&self, body: &[u8]) -> Result<(), Refusal> {
        if body.len() > BODY_MAX {
            return Err(Refusal::TooLarge);
        }
        let mut message = Vec::with_capacity(self.timestamp.len() + body.len());
        message.extend_from_slice(&self.timestamp);
        message.extend_from_slice(body);
        self.verifier.check(&message, &self.signature)
    }
}

/// Checks requests against one application's public key.
#[derive(Debug)]
pub struct Verifier {
    key: PublicKey,
}

impl Verifier {
    pub fn new(key: PublicKey) -> Self {
        Self { key }
    }

    /// Whether the raw headers and body are a request Discord signed within the window.
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
        let signature = signature.ok_or(Refusal::MissingSignature)?;
        let timestamp = timestamp.ok_or(Refusal::MissingTimestamp)?;
        if timestamp.is_empty() || timestamp.len() > 12 || !timestamp.iter().all(u8::is_ascii_digit)
        {
            return Err(Refusal::BadTimestamp);
        }
        let seconds: i64 = std::str::from_utf8(timestamp)
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or(Refusal::BadTimestamp)?;
        let skew = now.timestamp() - seconds;
        if skew.abs() > WINDOW_SECS {
            return Err(Refusal::Stale(skew));
        }
        let mut given = [0u8; 64];
        hex::decode_to_slice(signature, &mut given).map_err(|_| Refusal::MalformedSignature)?;
        Ok(Signed {
            verifier: self,
            timestamp: timestamp.to_vec(),
            signature: given,
        })
    }

    fn check(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), Refusal> {
        UnparsedPublicKey::new(&ED25519, &self.key.0)
            .verify(message, signature)
            .map_err(|_| Refusal::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use ring::signature::{Ed25519KeyPair, KeyPair};

    const TS: &str = "1764234000";

    fn at(offset: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_764_234_000 + offset, 0).unwrap()
    }

    fn pair(seed: u8) -> Ed25519KeyPair {
        Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).unwrap()
    }

    fn verifier(pair: &Ed25519KeyPair) -> Verifier {
        Verifier::new(PublicKey::parse(&hex::encode(pair.public_key().as_ref())).unwrap())
    }

    fn sign(pair: &Ed25519KeyPair, ts: &str, body: &[u8]) -> String {
        let mut message = ts.as_bytes().to_vec();
        message.extend_from_slice(body);
        hex::encode(pair.sign(&message).as_ref())
    }

    #[test]
    fn rfc_8032s_first_test_vector_verifies() {
        // RFC 8032 §7.1, TEST 1: the empty message.
        let key =
            PublicKey::parse("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .unwrap();
        let signature = hex::decode(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        )
        .unwrap();
        let v = Verifier::new(key);
        assert_eq!(v.check(b"", &signature.clone().try_into().unwrap()), Ok(()));
        let mut bent: [u8; 64] = signature.try_into().unwrap();
        bent[63] ^= 1;
        assert_eq!(v.check(b"", &bent), Err(Refusal::BadSignature));
    }

    #[test]
    fn a_signed_request_verifies_inside_the_window_only() {
        let p = pair(7);
        let v = verifier(&p);
        let body = br#"{"type":1}"#;
        let sig = sign(&p, TS, body);
        let check = |offset| v.verify(Some(TS.as_bytes()), Some(sig.as_bytes()), body, at(offset));
        assert_eq!(check(0), Ok(()));
        assert_eq!(check(300), Ok(()));
        assert_eq!(check(-300), Ok(()));
        assert_eq!(check(301), Err(Refusal::Stale(301)));
        assert_eq!(check(-301), Err(Refusal::Stale(-301)));
        assert!(Refusal::Stale(301)
            .to_string()
            .starts_with("stale timestamp"));
    }

    #[test]
    fn any_change_or_another_key_is_refused() {
        let p = pair(7);
        let v = verifier(&p);
        let body = br#"{"type":2,"data":{"name":"program"}}"#.to_vec();
        let sig = sign(&p, TS, &body);
        let (ts, now) = (Some(TS.as_bytes()), at(10));
        let mut changed = body.clone();
        for i in [0, changed.len() / 2, changed.len() - 1] {
            changed[i] ^= 0x01;
            assert_eq!(
                v.verify(ts, Some(sig.as_bytes()), &changed, now),
                Err(Refusal::BadSignature),
                "byte {i}"
            );
            changed[i] ^= 0x01;
        }
        // The timestamp is signed too: the same signature under another time fails.
        let later = "1764234001";
        assert_eq!(
            v.verify(Some(later.as_bytes()), Some(sig.as_bytes()), &body, now),
            Err(Refusal::BadSignature)
        );
        let other = sign(&pair(8), TS, &body);
        assert_eq!(
            v.verify(ts, Some(other.as_bytes()), &body, now),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            v.verify(None, Some(sig.as_bytes()), &body, now),
            Err(Refusal::MissingTimestamp)
        );
        assert_eq!(
            v.verify(ts, None, &body, now),
            Err(Refusal::MissingSignature)
        );
        for bad in [
            "17642340O0",
            "",
            "-1764234000",
            "1764234000.5",
            "9999999999999",
        ] {
            assert_eq!(
                v.verify(Some(bad.as_bytes()), Some(sig.as_bytes()), &body, now),
                Err(Refusal::BadTimestamp),
                "{bad}"
            );
        }
        for bad in [
            &sig[..126],
            "zz",
            &format!("{sig}00"),
            &sig.replace('a', "g"),
        ] {
            if bad == sig {
                continue;
            }
            assert_eq!(
                v.verify(ts, Some(bad.as_bytes()), &body, now),
                Err(Refusal::MalformedSignature),
                "{bad}"
            );
        }
        let big = vec![b'a'; BODY_MAX + 1];
        assert_eq!(
            v.verify(ts, Some(sig.as_bytes()), &big, now),
            Err(Refusal::TooLarge)
        );
    }

    #[test]
    fn public_keys_are_64_hex_digits() {
        let good = "D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A";
        assert!(PublicKey::parse(good).is_ok());
        assert!(PublicKey::parse(&format!(" {} \n", good.to_lowercase())).is_ok());
        for bad in [
            "",
            "abc",
            &good[..62],
            &format!("{good}00"),
            &good.replace('D', "x"),
        ] {
            let e = PublicKey::parse(bad).unwrap_err();
            assert!(e.contains("64 hex digits"), "{bad}: {e}");
        }
    }
}
