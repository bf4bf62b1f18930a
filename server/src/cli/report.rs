//! `maeum-server report`: what was granted, when, and who knocked early.

use maeum_contract::money::group_thousands;
use maeum_contract::Timestamp;

use crate::clock::system_now;
use crate::db;

use super::args::{CliError, DataDir};

pub(super) fn run(data: DataDir) -> Result<(), CliError> {
    let report = data.with_store(async |s| Ok(s.report().await?))?;
    print!("{}", format_report(&report, system_now()));
    Ok(())
}

/// `2023-01-05 09:00` in Korea time.
pub(super) fn kst_minute(t: Timestamp) -> String {
    let c = t.kst();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute
    )
}

pub(super) fn kst_full(t: Timestamp) -> String {
    let c = t.kst();
    format!("{}:{:02}", kst_minute(t), c.second)
}

/// The report as printed (times in Korea time).
pub fn format_report(r: &db::Report, now: Timestamp) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let s = &r.settings;
    let _ = writeln!(out, "maeum report, {} KST", kst_full(now));
    let _ = writeln!(
        out,
        "release_at  {} KST ({})",
        kst_full(s.release_at),
        s.release_at
    );
    let _ = writeln!(
        out,
        "closes_at   {}",
        s.closes_at
            .map_or("-".to_string(), |t| format!("{} KST ({t})", kst_full(t)))
    );
    let _ = writeln!(out, "paused      {}", if s.paused { "yes" } else { "no" });

    let _ = writeln!(out, "\nitems");
    let _ = writeln!(
        out,
        "  {:<20} {:>12} {:>12} {:>12}",
        "item", "cap", "granted", "remaining"
    );
    for item in &r.items {
        let cap = item.cap.map_or("-".to_string(), group_thousands);
        let remaining = item.cap.map_or("-".to_string(), |c| {
            group_thousands(c.saturating_sub(item.granted))
        });
        let _ = writeln!(
            out,
            "  {:<20} {:>12} {:>12} {:>12}",
            item.id,
            cap,
            group_thousands(item.granted),
            remaining
        );
    }

    let _ = writeln!(out, "\nclaims granted per minute (KST)");
    if r.granted_per_minute.is_empty() {
        let _ = writeln!(out, "  none");
    } else {
        let _ = writeln!(out, "  {:<17} {:<20} {:>9}", "minute", "item", "granted");
        for m in &r.granted_per_minute {
            let _ = writeln!(
                out,
                "  {:<17} {:<20} {:>9}",
                kst_minute(m.minute),
                m.key,
                group_thousands(m.count)
            );
        }
    }

    let before: u64 = r.granted_before_release.iter().map(|(_, n)| n).sum();
    let _ = writeln!(
        out,
        "\nclaims dated before release_at: {}",
        group_thousands(before)
    );
    for (item, n) in &r.granted_before_release {
        let _ = writeln!(out, "  {:<20} {:>9}", item, group_thousands(*n));
    }

    let _ = write!(
        out,
        "\nearly attempts refused: {} from {} users",
        group_thousands(r.early_total),
        group_thousands(r.early_users)
    );
    if let (Some(first), Some(last)) = (r.early_first, r.early_last) {
        let _ = write!(out, ", {} to {} KST", kst_full(first), kst_full(last));
    }
    let _ = writeln!(out);
    if !r.early_per_minute.is_empty() {
        let _ = writeln!(
            out,
            "  {:<17} {:<20} {:>9} {:>7}",
            "minute", "endpoint", "attempts", "users"
        );
        for m in &r.early_per_minute {
            let _ = writeln!(
                out,
                "  {:<17} {:<20} {:>9} {:>7}",
                kst_minute(m.minute),
                m.key,
                group_thousands(m.count),
                group_thousands(m.users)
            );
        }
    }
    out
}
