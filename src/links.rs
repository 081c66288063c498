//! Signed, expiring links to charts, for platforms that show an image by URL (Slack's
//! image blocks) rather than take an upload. A link names the tenant, the program, the
//! chart and its expiry, and carries an HMAC-SHA256 of those with a key the installation
//! makes for itself on first use (table `server_keys`), so links outlive restarts and
//! nobody can make or widen one.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::domain::Tenant;
use crate::store::{self, Conn};

/// How long a link works: a weekly digest's chart should open all week.
pub const LINK_DAYS: i64 = 14;
const KEY_NAME: &str = "links";

/// What a link shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartLink {
    pub tenant: Tenant,
    pub program: String,
    /// The chart's kind, as in `chart show`: `timeline`, `risks`, `deps`, `trend`.
    pub chart: String,
    /// Unix seconds after which the link is refused.
    pub expires: i64,
}

/// What a share link's token names: the row of `share_links` and its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareToken {
    pub id: i64,
    /// Unix seconds after which the token is refused.
    pub expires: i64,
}

const SHARE_PURPOSE: &str = "share-link";

/// The path a share link opens: `/p/{token}`.
pub fn share_path(token: &str) -> String {
    format!("/p/{token}")
}

/// Why a link was refused. Both answer 403, and say nothing of the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    #[error("the link has expired")]
    Expired,
    #[error("the link's signature does not match")]
    BadSignature,
}

/// The installation's link key.
#[derive(Clone)]
pub struct LinkKey([u8; 32]);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey([REDACTED])")
    }
}

impl LinkKey {
    /// The stored key, made and stored first if there is none yet.
    pub async fn load_or_create(conn: &mut Conn, now: DateTime<Utc>) -> anyhow::Result<Self> {
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        let key = store::server_key(conn, KEY_NAME, &fresh, now)
            .await
            .context("loading the link key")?;
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| anyhow::anyhow!("the stored link key is not 32 bytes"))?;
        Ok(Self(key))
    }

    /// A key given as is (tests; a key kept elsewhere).
    pub fn from_bytes(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn mac(&self, link: &ChartLink) -> [u8; 32] {
        let tenant = link.tenant.to_string();
        self.mac_of(&[
            tenant.as_str(),
            link.program.as_str(),
            link.chart.as_str(),
            &link.expires.to_string(),
        ])
    }

    /// The HMAC of `fields`, each length-prefixed: no two different lists sign the same
    /// bytes.
    fn mac_of(&self, fields: &[&str]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        for field in fields {
            mac.update(&(field.len() as u32).to_be_bytes());
            mac.update(field.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    fn share_mac(&self, token: &ShareToken) -> [u8; 32] {
        // A purpose of its own first, so no chart link's signature is a share token's.
        self.mac_of(&[
            SHARE_PURPOSE,
            &token.id.to_string(),
            &token.expires.to_string(),
        ])
    }

    /// The address of share link `id`, which expires at `expires_at`: under `public_url`,
    /// or the bare path (`/p/{token}`) without one.
    pub fn share_address(
        &self,
        public_url: Option<&str>,
        id: i64,
        expires_at: DateTime<Utc>,
    ) -> String {
        let token = self.share_token(&ShareToken {
            id,
            expires: expires_at.timestamp(),
        });
        let path = share_path(&token);
        match public_url {
            Some(base) => format!("{}{path}", base.trim_end_matches('/')),
            None => path,
        }
    }

    /// The token of a share link: `{id}.{expires}.{signature}`, all URL-safe.
    pub fn share_token(&self, token: &ShareToken) -> String {
        format!(
            "{}.{}.{}",
            token.id,
            token.expires,
            hex::encode(self.share_mac(token))
        )
    }

    /// The share link a token names, if this key signed it and it has not expired. The
    /// row it names must still be checked (revoked, expired, its tenant and subject).
    pub fn verify_share(&self, token: &str, now: DateTime<Utc>) -> Result<ShareToken, LinkRefusal> {
        let mut parts = token.splitn(3, '.');
        let (Some(id), Some(expires), Some(signature)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkRefusal::BadSignature);
        };
        // Digits only, no leading zero: `+1` or `01` would parse to the number signed as `1`.
        let number = |s: &str| {
            (!s.is_empty()
                && s.len() <= 19
                && !(s.len() > 1 && s.starts_with('0'))
                && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i64>().ok())
            .flatten()
        };
        let (Some(id), Some(expires)) = (number(id), number(expires)) else {
            return Err(LinkRefusal::BadSignature);
        };
        let claimed = ShareToken { id, expires };
        let given = hex::decode(signature).map_err(|_| LinkRefusal::BadSignature)?;
        if !bool::from(given.ct_eq(&self.share_mac(&claimed))) {
            return Err(LinkRefusal::BadSignature);
        }
        if now.timestamp() > claimed.expires {
            return Err(LinkRefusal::Expired);
        }
        Ok(claimed)
    }

    pub fn sign(&self, link: &ChartLink) -> String {
        hex::encode(self.mac(link))
    }

    /// Whether `signature` (hex) was made by this key for `link`, and the link is current.
    pub fn verify(
        &self,
        link: &ChartLink,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(), LinkRefusal> {
        let given = hex::decode(signature).map_err(|_| LinkRefusal::BadSignature)?;
        if !bool::from(given.ct_eq(&self.mac(link))) {
            return Err(LinkRefusal::BadSignature);
        }
        if now.timestamp() > link.expires {
            return Err(LinkRefusal::Expired);
        }
        Ok(())
    }

    /// The absolute URL of the chart under `public_url`:
    /// `{public_url}/charts/{chart}.png?t={tenant}&p={program}&exp={unix}&sig={hex}`.
    pub fn url(&self, public_url: &str, link: &ChartLink) -> String {
        let tenant = link.tenant.to_string();
        let query = serde_urlencoded::to_string([
            ("t", tenant.as_str()),
            ("p", link.program.as_str()),
            ("exp", &link.expires.to_string()),
            ("sig", &self.sign(link)),
        ])
        .expect("strings always encode");
        format!(
            "{}/charts/{}.png?{query}",
            public_url.trim_end_matches('/'),
            link.chart
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn link() -> ChartLink {
        ChartLink {
            tenant: Tenant::slack("T0TEAM"),
            program: "atlas".into(),
            chart: "timeline".into(),
            expires: 1_800_000_000,
        }
    }

    #[test]
    fn a_link_verifies_until_it_expires_and_not_after_any_change() {
        let key = LinkKey::from_bytes([7; 32]);
        let sig = key.sign(&link());
        let before = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        assert_eq!(key.verify(&link(), &sig, before), Ok(()));
        let after = Utc.timestamp_opt(1_800_000_001, 0).unwrap();
        assert_eq!(key.verify(&link(), &sig, after), Err(LinkRefusal::Expired));
        for changed in [
            ChartLink {
                program: "atlas2".into(),
                ..link()
            },
            ChartLink {
                chart: "risks".into(),
                ..link()
            },
            ChartLink {
                tenant: Tenant::slack("T0OTHER"),
                ..link()
            },
            ChartLink {
                expires: 1_900_000_000,
                ..link()
            },
        ] {
            assert_eq!(
                key.verify(&changed, &sig, before),
                Err(LinkRefusal::BadSignature),
                "{changed:?}"
            );
        }
        assert_eq!(
            LinkKey::from_bytes([8; 32]).verify(&link(), &sig, before),
            Err(LinkRefusal::BadSignature)
        );
        assert_eq!(
            key.verify(&link(), "not hex", before),
            Err(LinkRefusal::BadSignature)
        );
    }

    #[test]
    fn a_share_token_verifies_until_it_expires_and_not_after_any_change() {
        let key = LinkKey::from_bytes([7; 32]);
        let token = key.share_token(&ShareToken {
            id: 42,
            expires: 1_800_000_000,
        });
        let before = Utc.timestamp_opt(1_800_000_000, 0).unwrap();
        assert_eq!(
            key.verify_share(&token, before),
            Ok(ShareToken {
                id: 42,
                expires: 1_800_000_000
            })
        );
        let after = Utc.timestamp_opt(1_800_000_001, 0).unwrap();
        assert_eq!(key.verify_share(&token, after), Err(LinkRefusal::Expired));
        let sig = token.rsplit('.').next().unwrap();
        for altered in [
            format!("43.1800000000.{sig}"),
            format!("42.1900000000.{sig}"),
            format!("042.1800000000.{sig}"),
            format!("+42.1800000000.{sig}"),
            format!("42.1800000000.{}", &sig[..63]),
            "42.1800000000".to_owned(),
            String::new(),
        ] {
            assert_eq!(
                key.verify_share(&altered, before),
                Err(LinkRefusal::BadSignature),
                "{altered}"
            );
        }
        assert_eq!(
            LinkKey::from_bytes([8; 32]).verify_share(&token, before),
            Err(LinkRefusal::BadSignature)
        );
        // A chart link's signature over the same numbers is not a share token's.
        let chart = key.mac_of(&["42", "1800000000"]);
        assert_ne!(hex::encode(chart), sig);
    }

    #[test]
    fn the_url_carries_every_signed_field() {
        let key = LinkKey::from_bytes([7; 32]);
        let url = key.url("https://drumbeat.example.com/", &link());
        assert!(
            url.starts_with("https://drumbeat.example.com/charts/timeline.png?t=slack%3AT0TEAM&p=atlas&exp=1800000000&sig="),
            "{url}"
        );
    }
}
