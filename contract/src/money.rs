//! Money and counts as Koreans read them: `30,000원`, `1,234,567개`.

/// `1234567` → `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `2500` → `2,500원`.
pub fn format_won(won: u64) -> String {
    format!("{}원", group_thousands(won))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands_at_every_boundary() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
        assert_eq!(group_thousands(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn won_has_separator_and_suffix() {
        assert_eq!(format_won(2500), "2,500원");
        assert_eq!(format_won(30_000), "30,000원");
        assert_eq!(format_won(0), "0원");
    }
}
