//! The small-business JSON calls: filing a damage claim, reading its status,
//! and the channel message cash. They go through the same client as the gift
//! claims (time limit, problem documents decoded into [`ApiError`]).

use std::future::Future;

use gloo_net::http::Method;
use maeum_contract::business::{
    ChannelCash, ChannelCashRequest, DamageClaimReceipt, DamageClaimRequest,
};

use super::client::{decode, post, start};
use super::ApiError;

/// Starts `POST /v1/damage-claims` under `key` (the same key for every resend).
pub fn damage_claim(
    request: &DamageClaimRequest,
    key: &str,
) -> impl Future<Output = Result<DamageClaimReceipt, ApiError>> {
    let reply = post("/v1/damage-claims", request, key);
    async move { decode(reply.await?) }
}

/// A receipt number as it may appear in a path: letters, digits and hyphens.
pub fn clean_receipt_no(raw: &str) -> Option<String> {
    let s = raw.trim().to_ascii_uppercase();
    let ok =
        (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then_some(s)
}

/// Starts `GET /v1/damage-claims/{receipt_no}`.
pub fn damage_claim_status(
    receipt_no: &str,
) -> impl Future<Output = Result<DamageClaimReceipt, ApiError>> {
    let reply = clean_receipt_no(receipt_no).map(|r| {
        start(
            Method::GET,
            &format!("/v1/damage-claims/{r}"),
            None,
            None,
            true,
        )
    });
    async move {
        let reply = reply.ok_or(ApiError::Rejected {
            status: 404,
            code: maeum_contract::problem::code::NOT_FOUND.to_string(),
        })?;
        decode(reply.await?)
    }
}

/// Starts `POST /v1/channel-cash` for one business under `key`.
pub fn channel_cash(brn: &str, key: &str) -> impl Future<Output = Result<ChannelCash, ApiError>> {
    let body = ChannelCashRequest {
        brn: brn.to_string(),
    };
    let reply = post("/v1/channel-cash", &body, key);
    async move { decode(reply.await?) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_numbers_are_cleaned_for_the_path() {
        assert_eq!(
            clean_receipt_no(" d-2301-7q4k93 ").as_deref(),
            Some("D-2301-7Q4K93")
        );
        assert_eq!(clean_receipt_no("../x"), None);
        assert_eq!(clean_receipt_no(""), None);
        assert_eq!(clean_receipt_no(&"A".repeat(33)), None);
    }
}
