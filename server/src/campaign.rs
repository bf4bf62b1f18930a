//! The campaign file: release time, optional close time and the items.
//! The format is documented at the top of `server/campaign.toml`, the shipped default.

use maeum_contract::{ItemKind, Timestamp, Validity};
use serde::Deserialize;
use std::path::Path;

/// The shipped campaign, embedded so the binary runs with no file at hand.
pub const DEFAULT_CAMPAIGN_TOML: &str = include_str!("../campaign.toml");

const DEFAULT_RETRY_AFTER_SECONDS: u32 = 30;

#[derive(Clone, Debug, PartialEq)]
pub struct Campaign {
    pub release_at: Timestamp,
    pub closes_at: Option<Timestamp>,
    /// `Retry-After` sent with 503 `paused`.
    pub pause_retry_after_seconds: u32,
    pub items: Vec<ItemSpec>,
}

/// One item as the campaign file describes it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSpec {
    pub id: String,
    pub kind: ItemKind,
    pub title: String,
    pub price_won: u64,
    pub validity: Validity,
    #[serde(default)]
    pub cap: Option<u64>,
    #[serde(default)]
    pub code_prefix: Option<String>,
}

/// A time written either as a TOML string or as a bare TOML offset date-time.
#[derive(Deserialize)]
#[serde(untagged)]
enum TimeField {
    Text(String),
    Toml(toml::value::Datetime),
}

impl TimeField {
    fn parse(self, field: &str) -> Result<Timestamp, String> {
        let text = match self {
            TimeField::Text(s) => s,
            TimeField::Toml(d) => d.to_string(),
        };
        Timestamp::parse_rfc3339(&text)
            .map_err(|_| format!("{field}: \"{text}\" is not an RFC 3339 time with an offset (e.g. 2023-01-05T09:00:00+09:00)"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CampaignFile {
    release_at: TimeField,
    #[serde(default)]
    closes_at: Option<TimeField>,
    #[serde(default)]
    pause_retry_after_seconds: Option<u32>,
    items: Vec<ItemSpec>,
}

/// User and item ids: 1 to 64 characters of `[A-Za-z0-9_-]`.
pub fn valid_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Campaign {
    /// The campaign embedded in the binary.
    pub fn shipped() -> Campaign {
        match Campaign::parse(DEFAULT_CAMPAIGN_TOML) {
            Ok(c) => c,
            // The embedded file is checked by a unit test; this cannot happen in a tested build.
            Err(e) => panic!("embedded campaign.toml is invalid: {e}"),
        }
    }

    pub fn load(path: &Path) -> Result<Campaign, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read campaign file {}: {e}", path.display()))?;
        Campaign::parse(&text).map_err(|e| format!("campaign file {}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Campaign, String> {
        let file: CampaignFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let release_at = file.release_at.parse("release_at")?;
        let closes_at = file.closes_at.map(|c| c.parse("closes_at")).transpose()?;
        if closes_at.is_some_and(|c| c <= release_at) {
            return Err("closes_at must be after release_at".into());
        }
        let campaign = Campaign {
            release_at,
            closes_at,
            pause_retry_after_seconds: file
                .pause_retry_after_seconds
                .unwrap_or(DEFAULT_RETRY_AFTER_SECONDS),
            items: file.items,
        };
        campaign.check()?;
        Ok(campaign)
    }

    fn check(&self) -> Result<(), String> {
        if self.items.is_empty() {
            return Err("the campaign needs at least one [[items]] entry".into());
        }
        for (i, item) in self.items.iter().enumerate() {
            let at = format!("item {} ({})", i + 1, item.id);
            if !valid_id(&item.id) {
                return Err(format!(
                    "{at}: id must be 1 to 64 characters of A-Z a-z 0-9 _ -"
                ));
            }
            if self.items[..i].iter().any(|o| o.id == item.id) {
                return Err(format!("{at}: duplicate id"));
            }
            if item.title.trim().is_empty() {
                return Err(format!("{at}: title is empty"));
            }
            match item.validity {
                Validity::DaysFromClaim { days: 0 } | Validity::Months { months: 0 } => {
                    return Err(format!("{at}: validity must be at least one day or month"));
                }
                _ => {}
            }
            if let Some(p) = &item.code_prefix {
                if !(1..=8).contains(&p.len())
                    || !p
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                {
                    return Err(format!("{at}: code_prefix must be 1 to 8 of A-Z 0-9"));
                }
            }
            if item.cap.is_some_and(|c| c > i64::MAX as u64) {
                return Err(format!("{at}: cap is too large"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_campaign_has_the_six_items_and_is_open_since_2023() {
        let c = Campaign::parse(DEFAULT_CAMPAIGN_TOML).unwrap();
        let ids: Vec<_> = c.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "emoticon-forever",
                "emoticon-90-a",
                "emoticon-90-b",
                "makers-2000",
                "makers-3000",
                "drawer-plus-1m"
            ]
        );
        assert_eq!(
            c.release_at,
            Timestamp::parse_rfc3339("2023-01-05T09:00:00+09:00").unwrap()
        );
        assert_eq!(c.closes_at, None);
        let drawer = &c.items[5];
        assert_eq!(
            (drawer.cap, drawer.price_won, drawer.validity),
            (Some(3_000_000), 1900, Validity::Months { months: 1 })
        );
        assert_eq!(c.items[1].validity, Validity::DaysFromClaim { days: 90 });
        assert!(c.items[..3]
            .iter()
            .all(|i| i.code_prefix.is_none() && i.kind == ItemKind::Emoticon));
        assert!(c.items[3..].iter().all(|i| i.code_prefix.is_some()));
    }

    #[test]
    fn bare_toml_datetimes_are_accepted() {
        let c = Campaign::parse(
            "release_at = 2023-01-05T09:00:00+09:00\ncloses_at = \"2023-01-20T23:59:59+09:00\"\n\
             [[items]]\nid = \"x\"\nkind = \"coupon\"\ntitle = \"쿠폰\"\nprice_won = 1\nvalidity = { type = \"permanent\" }\n",
        )
        .unwrap();
        assert_eq!(
            c.release_at,
            Timestamp::parse_rfc3339("2023-01-05T00:00:00Z").unwrap()
        );
        assert!(c.closes_at.is_some());
        assert_eq!(c.pause_retry_after_seconds, 30);
    }

    #[test]
    fn bad_campaigns_are_rejected_with_a_reason() {
        let item = "[[items]]\nid = \"x\"\nkind = \"coupon\"\ntitle = \"쿠폰\"\nprice_won = 1\nvalidity = { type = \"permanent\" }\n";
        for (text, needle) in [
            (format!("release_at = \"2023-01-05\"\n{item}"), "release_at"),
            (format!("release_at = \"2023-01-05T09:00:00Z\"\ncloses_at = \"2023-01-01T00:00:00Z\"\n{item}"), "closes_at"),
            ("release_at = \"2023-01-05T09:00:00Z\"\nitems = []\n".to_string(), "at least one"),
            (format!("release_at = \"2023-01-05T09:00:00Z\"\n{item}{item}"), "duplicate"),
            (format!("release_at = \"2023-01-05T09:00:00Z\"\n{}", item.replace("\"x\"", "\"a b\"")), "id must"),
            (format!("release_at = \"2023-01-05T09:00:00Z\"\n{item}code_prefix = \"mk\"\n"), "code_prefix"),
            (format!("release_at = \"2023-01-05T09:00:00Z\"\n{item}colour = 1\n"), "colour"),
        ] {
            let err = Campaign::parse(&text).unwrap_err();
            assert!(err.contains(needle), "{err:?} should mention {needle}");
        }
    }
}
