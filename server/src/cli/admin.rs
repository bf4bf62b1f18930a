//! `maeum-server admin …`: changes to the campaign and decisions on damage
//! claims, written straight to the database.

use maeum_contract::money::group_thousands;

use crate::bizdb::{self, Decision};
use crate::clock::system_now;
use crate::db;

use super::args::{Admin, Claims, CliError};
use super::report::{kst_full, kst_minute};

pub(super) fn run(action: Admin) -> Result<(), CliError> {
    let now = system_now();
    match action {
        Admin::Cap { item, cap, data } => {
            let mut conn = db::open_existing(&data.dir)?;
            let (old, granted) = db::set_cap(&mut conn, &item, cap.0)?;
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
            let mut conn = db::open_existing(&data.dir)?;
            db::set_ineligible(&mut conn, &user, Some(&reason), now)?;
            println!("{user}: ineligible ({reason})");
        }
        Admin::Eligible { user, data } => {
            let mut conn = db::open_existing(&data.dir)?;
            db::set_ineligible(&mut conn, &user, None, now)?;
            println!("{user}: eligible");
        }
        Admin::Pause { data } => {
            let mut conn = db::open_existing(&data.dir)?;
            db::set_paused(&mut conn, true, now)?;
            println!("paused: claims now answer 503 paused");
        }
        Admin::Resume { data } => {
            let mut conn = db::open_existing(&data.dir)?;
            db::set_paused(&mut conn, false, now)?;
            println!("resumed: claims are accepted");
        }
        Admin::ReleaseAt { at, data } => {
            let mut conn = db::open_existing(&data.dir)?;
            let old = db::set_release_at(&mut conn, at, now)?;
            println!("release_at {} -> {} ({} KST)", old, at, kst_full(at));
        }
        Admin::ClosesAt { at, data } => {
            let mut conn = db::open_existing(&data.dir)?;
            db::set_closes_at(&mut conn, at.0, now)?;
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
            let conn = db::open_existing(&data.dir)?;
            print!("{}", format_claims(&bizdb::list_damage_claims(&conn)?));
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
    let mut conn = db::open_existing(&data.dir)?;
    let (before, after) = bizdb::decide_damage_claim(&mut conn, &receipt, &decision, system_now())?;
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
