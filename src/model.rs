//! Pure state of the package page: what each item card shows, which items a
//! tap may claim, and the sentences announced after a claim. No browser here,
//! so all of it is unit-tested natively.

use maeum_contract::{Claim, ClaimResponse, ClaimStatus, Item};

/// What one item card shows.
#[derive(Clone, Debug, PartialEq)]
pub enum CardState {
    /// 받기
    Available,
    /// 받는 중: a request for it is in flight.
    Pending,
    /// 받음, with what the user holds.
    Claimed(Claim),
    /// 마감: none left.
    SoldOut,
    /// 대상 아님, with the reason when the server gave one for this item.
    Ineligible(Option<String>),
}

impl CardState {
    /// Stable name for the `data-state` hook.
    pub fn name(&self) -> &'static str {
        match self {
            CardState::Available => "available",
            CardState::Pending => "pending",
            CardState::Claimed(_) => "claimed",
            CardState::SoldOut => "sold-out",
            CardState::Ineligible(_) => "ineligible",
        }
    }

    /// Text of the item's button.
    pub fn button_label(&self) -> &'static str {
        match self {
            CardState::Available => "받기",
            CardState::Pending => "받는 중",
            CardState::Claimed(_) => "받음",
            CardState::SoldOut => "마감",
            CardState::Ineligible(_) => "대상 아님",
        }
    }
}

/// A definitive "no" the server gave for one item in a claim answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    SoldOut,
    Ineligible(Option<String>),
}

/// Everything the package page knows, as plain data.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Holdings {
    pub claims: Vec<Claim>,
    /// Items with a request in flight.
    pub pending: Vec<String>,
    pub refusals: Vec<(String, Refusal)>,
    /// Set when the user cannot claim anything.
    pub ineligible_reason: Option<String>,
}

impl Holdings {
    pub fn claim_for(&self, item_id: &str) -> Option<&Claim> {
        self.claims.iter().find(|c| c.item_id == item_id)
    }

    /// Claimed beats pending beats refused beats the stock count.
    pub fn card_state(&self, item: &Item) -> CardState {
        if let Some(claim) = self.claim_for(&item.id) {
            return CardState::Claimed(claim.clone());
        }
        if self.pending.contains(&item.id) {
            return CardState::Pending;
        }
        if self.ineligible_reason.is_some() {
            return CardState::Ineligible(None);
        }
        match self.refusals.iter().find(|(id, _)| *id == item.id) {
            Some((_, Refusal::Ineligible(reason))) => CardState::Ineligible(reason.clone()),
            Some((_, Refusal::SoldOut)) => CardState::SoldOut,
            None if item.sold_out() => CardState::SoldOut,
            None => CardState::Available,
        }
    }

    /// Items a tap on 모두 받기 would ask for now.
    pub fn claimable<'a>(&self, items: &'a [Item]) -> Vec<&'a Item> {
        items
            .iter()
            .filter(|i| self.card_state(i) == CardState::Available)
            .collect()
    }

    /// Folds a claim answer in; returns the sentence to announce.
    pub fn apply(&mut self, items: &[Item], response: &ClaimResponse) -> String {
        let mut got = Vec::new();
        let mut sold_out = Vec::new();
        let mut refused = Vec::new();
        for r in &response.results {
            let title = title_of(items, &r.item_id);
            match (r.status, &r.claim) {
                (ClaimStatus::Granted | ClaimStatus::AlreadyClaimed, Some(claim)) => {
                    if self.claim_for(&claim.item_id).is_none() {
                        self.claims.push(claim.clone());
                    }
                    got.push(title);
                }
                (ClaimStatus::Granted | ClaimStatus::AlreadyClaimed, None) => {}
                (ClaimStatus::SoldOut, _) => {
                    self.refuse(&r.item_id, Refusal::SoldOut);
                    sold_out.push(title);
                }
                (ClaimStatus::Ineligible, _) => {
                    self.refuse(&r.item_id, Refusal::Ineligible(r.reason.clone()));
                    refused.push(title);
                }
            }
        }
        let mut parts = Vec::new();
        if !got.is_empty() {
            parts.push(format!("선물을 받았어요: {}.", got.join(", ")));
        }
        if !sold_out.is_empty() {
            parts.push(format!("마감되어 받지 못했어요: {}.", sold_out.join(", ")));
        }
        if !refused.is_empty() {
            parts.push(format!(
                "받을 수 있는 대상이 아니에요: {}.",
                refused.join(", ")
            ));
        }
        parts.join(" ")
    }

    fn refuse(&mut self, item_id: &str, refusal: Refusal) {
        self.refusals.retain(|(id, _)| id != item_id);
        self.refusals.push((item_id.to_string(), refusal));
    }
}

/// The item's title, or a neutral word if the package no longer lists it.
pub fn title_of(items: &[Item], item_id: &str) -> String {
    items
        .iter()
        .find(|i| i.id == item_id)
        .map_or_else(|| "선물".to_string(), |i| i.title.clone())
}

/// `02:14:05`, or `3일 02:14:05`; never negative.
pub fn countdown_text(remaining_ms: i64) -> String {
    let s = (remaining_ms.max(0) + 999) / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}일 {h:02}:{m:02}:{sec:02}")
    } else {
        format!("{h:02}:{m:02}:{sec:02}")
    }
}

/// Coarse remaining time for screen readers: changes rarely, so a polite
/// live region does not chatter every second.
pub fn countdown_coarse(remaining_ms: i64) -> String {
    let min = remaining_ms.max(0) / 60_000;
    match min {
        m if m >= 1440 => format!("열리기까지 {}일 남았어요", m / 1440),
        m if m >= 60 => format!("열리기까지 {}시간 남았어요", m / 60),
        m if m >= 10 => format!("열리기까지 {}분 남았어요", m / 10 * 10),
        m if m >= 1 => format!("열리기까지 {m}분 남았어요"),
        _ => "곧 열려요".to_string(),
    }
}

/// A v4 UUID from 16 random bytes.
pub fn uuid_v4(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        s.push(HEX[(byte >> 4) as usize] as char);
        s.push(HEX[(byte & 0xf) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use maeum_contract::{ClaimResult, ItemKind, Timestamp, Validity};

    fn item(id: &str, remaining: Option<u64>) -> Item {
        Item {
            id: id.into(),
            kind: ItemKind::Voucher,
            title: format!("선물 {id}"),
            price_won: 1900,
            validity: Validity::Months { months: 1 },
            cap: remaining.map(|_| 3_000_000),
            remaining,
            as_of: Timestamp(0),
        }
    }

    fn claim(id: &str) -> Claim {
        Claim {
            item_id: id.into(),
            claimed_at: Timestamp(0),
            expires_at: None,
            code: None,
        }
    }

    #[test]
    fn card_state_precedence() {
        let items = [item("a", None), item("b", Some(0)), item("c", Some(5))];
        let mut h = Holdings::default();
        assert_eq!(h.card_state(&items[0]), CardState::Available);
        assert_eq!(h.card_state(&items[1]), CardState::SoldOut);
        h.pending.push("a".into());
        assert_eq!(h.card_state(&items[0]), CardState::Pending);
        h.claims.push(claim("a"));
        assert!(matches!(h.card_state(&items[0]), CardState::Claimed(_)));
        h.claims.push(claim("b"));
        assert!(
            matches!(h.card_state(&items[1]), CardState::Claimed(_)),
            "held beats sold out"
        );
        assert_eq!(h.claimable(&items).len(), 1);
        h.ineligible_reason = Some("휴면 계정".into());
        assert_eq!(h.card_state(&items[2]), CardState::Ineligible(None));
        assert!(h.claimable(&items).is_empty());
    }

    #[test]
    fn apply_folds_every_status_and_never_duplicates() {
        let items = [item("a", None), item("b", Some(1)), item("c", None)];
        let mut h = Holdings::default();
        let resp = ClaimResponse {
            results: vec![
                ClaimResult {
                    item_id: "a".into(),
                    status: ClaimStatus::Granted,
                    claim: Some(claim("a")),
                    reason: None,
                },
                ClaimResult {
                    item_id: "b".into(),
                    status: ClaimStatus::SoldOut,
                    claim: None,
                    reason: None,
                },
                ClaimResult {
                    item_id: "c".into(),
                    status: ClaimStatus::Ineligible,
                    claim: None,
                    reason: Some("휴면 계정".into()),
                },
            ],
        };
        let said = h.apply(&items, &resp);
        assert_eq!(said, "선물을 받았어요: 선물 a. 마감되어 받지 못했어요: 선물 b. 받을 수 있는 대상이 아니에요: 선물 c.");
        h.apply(&items, &resp);
        assert_eq!(h.claims.len(), 1);
        assert_eq!(h.card_state(&items[1]), CardState::SoldOut);
        assert_eq!(
            h.card_state(&items[2]),
            CardState::Ineligible(Some("휴면 계정".into()))
        );
    }

    #[test]
    fn countdowns() {
        assert_eq!(countdown_text(0), "00:00:00");
        assert_eq!(countdown_text(-5), "00:00:00");
        assert_eq!(countdown_text(1), "00:00:01");
        assert_eq!(countdown_text(3_600_000 + 61_000), "01:01:01");
        assert_eq!(countdown_text(2 * 86_400_000 + 5_000), "2일 00:00:05");
        assert_eq!(countdown_coarse(3 * 86_400_000), "열리기까지 3일 남았어요");
        assert_eq!(countdown_coarse(125 * 60_000), "열리기까지 2시간 남았어요");
        assert_eq!(countdown_coarse(37 * 60_000), "열리기까지 30분 남았어요");
        assert_eq!(countdown_coarse(4 * 60_000 + 1), "열리기까지 4분 남았어요");
        assert_eq!(countdown_coarse(59_000), "곧 열려요");
    }

    #[test]
    fn uuid_has_version_and_variant() {
        let u = uuid_v4([0xff; 16]);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert!(maeum_contract::valid_idempotency_key(&u));
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }
}
