//! `maeum-server admin …`: changes to the campaign and decisions on damage
//! claims, written straight to the database.

use maeum_contract::money::group_thousands;

use crate::bizdb::{self, Decision};
use crate::clock::system_now;

use super::args::{Admin, Claims, CliError};
use super::report::{kst_full, kst_minute};

pub(super) fn run(action: Admin) -> Result<(), CliError> {
    let now = system_now();
    match action {
        Admin::Cap { item, cap, data } => {
            let (old, granted) =
                data.with_store(async |s| Ok(s.set_cap(item.clone(), cap.0).await?))?;
            let show = |c: Option<u64>| c.map_or("unlimited".to_string(), group_thousands);
            println!(
                "{item}: cap {} -> {} ({} granted so far)",
                show(old),
                show(cap.0),
                group_thousands(granted)
            );
            if cap.0.is_some_and(|c| c < granted) {
                eprintln!("maeum-server: note: the new cap is below what was already granted; nothing more will be granted");
            }
        }
        Admin::Ineligible { user, reason, data } => {
            data.with_store(async |s| {
                Ok(s.set_ineligible(user.clone(), Some(reason.clone()), now)
                    .await?)
            })?;
            println!("{user}: ineligible ({reason})");
        }
        Admin::Eligible { user, data } => {
            data.with_store(async |s| Ok(s.set_ineligible(user.clone(), None, now).await?))?;
            println!("{user}: eligible");
        }
        Admin::Pause { data } => {
            data.with_store(async |s| Ok(s.set_paused(true, now).await?))?;
            println!("paused: claims now answer 503 paused");
        }
        Admin::Resume { data } => {
            data.with_store(async |s| Ok(s.set_paused(false, now).await?))?;
            println!("resumed: claims are accepted");
        }
        Admin::ReleaseAt { at, data } => {
            let old = data.with_store(async |s| Ok(s.set_release_at(at, now).await?))?;
            println!("release_at {} -> {} ({} KST)", old, at, kst_full(at));
        }
        Admin::ClosesAt { at, data } => {
            data.with_store(async |s| Ok(s.set_closes_at(at.0, now).await?))?;
            println!(
                "closes_at {}",
                at.0.map_or("none".to_string(), |t| format!("{t} ({} KST)", kst_full(t)))
            );
        }
        Admin::Claims(claims) => return decide(claims),
    }
    Ok(())
}

/// `admin claims list|review|approve|reject|pay`.
fn decide(claims: Claims) -> Result<(), CliError> {
    let (receipt, decision, data) = match claims {
        Claims::List { data } => {
            let rows = data.with_store(async |s| Ok(s.list_damage_claims().await?))?;
            print!("{}", format_claims(&rows));
            return Ok(());
        }
        Claims::Review { receipt, data } => (receipt, Decision::Review, data),
        Claims::Pay { receipt, data } => (receipt, Decision::Pay, data),
        Claims::Approve { receipt, won, data } => (receipt, Decision::Approve { won }, data),
        Claims::Reject {
            receipt,
            reason,
            data,
        } => (receipt, Decision::Reject { reason }, data),
    };
    let (before, after) = data.with_store(async |s| {
        Ok(
            s.decide_damage_claim(receipt.clone(), decision.clone(), system_now())
                .await?,
        )
    })?;
    println!(
        "{}: {} -> {}{}",
        after.receipt_no,
        bizdb::status_str(before.status),
        bizdb::status_str(after.status),
        after
            .reason
            .as_deref()
            .filter(|_| after.status == maeum_contract::business::DamageClaimStatus::Rejected)
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    );
    Ok(())
}

fn support_text(s: maeum_contract::business::Support) -> String {
    match s {
        maeum_contract::business::Support::Won { won } => maeum_contract::money::format_won(won),
        maeum_contract::business::Support::Review { .. } => "review".to_string(),
    }
}

/// The operator's table of damage claims (no personal details beyond the business).
pub fn format_claims(rows: &[bizdb::DamageClaimRow]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:<10} {:<13} {:>15} {:>10}  {:<17}",
        "receipt", "status", "brn", "loss", "support", "submitted (KST)"
    );
    for r in rows {
        let brn = maeum_contract::business::Brn::parse(&r.brn)
            .map(|b| b.display())
            .unwrap_or_else(|_| r.brn.clone());
        let _ = writeln!(
            out,
            "{:<14} {:<10} {:<13} {:>15} {:>10}  {:<17}",
            r.receipt_no,
            bizdb::status_str(r.status),
            brn,
            maeum_contract::money::format_won(r.loss_won),
            support_text(r.support),
            kst_minute(r.submitted_at)
        );
    }
    let _ = writeln!(out, "{} damage claims", group_thousands(rows.len() as u64));
    out
}
