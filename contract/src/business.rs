//! Small-business damage claims: the rules the form and the server both apply.
//! Each rule returns a [`FieldError`] whose `field` names the JSON body field.

use serde::{Deserialize, Serialize};

/// Loss up to this → 30,000원.
pub const TIER1_MAX_LOSS: u64 = 300_000;
/// Loss up to this → 50,000원; above → proof review.
pub const TIER2_MAX_LOSS: u64 = 500_000;
/// A sane upper bound for a reported loss (10억 원).
pub const MAX_LOSS_WON: u64 = 1_000_000_000;
pub const CHANNEL_CASH_WON: u64 = 50_000;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
pub const MAX_EVIDENCE_FILES: usize = 10;
pub const MAX_EVIDENCE_BYTES: u64 = 10 * 1024 * 1024;
/// The outage window a damage period must fall in.
pub const OUTAGE_FIRST_DAY: Date = Date {
    year: 2022,
    month: 10,
    day: 15,
};
pub const OUTAGE_LAST_DAY: Date = Date {
    year: 2022,
    month: 10,
    day: 20,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    /// Korean, written to be shown next to the field and in the error summary.
    pub message: String,
}

fn field_error(field: &str, code: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        code: code.into(),
        message: message.into(),
    }
}

/// Full-width digits (０-９) become ASCII; spaces and hyphens (any width) go.
pub fn normalize_digits(input: &str) -> String {
    input
        .chars()
        .map(fold_width)
        .filter(|c| !c.is_whitespace() && !is_dash(*c))
        .collect()
}

fn fold_width(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        '，' => ',',
        c => c,
    }
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '－' | '‐' | '‑' | '–' | '—')
}

/// A verified 사업자등록번호, kept as its 10 digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Brn(String);

impl Brn {
    /// Accepts `124-81-00998`, `1248100998`, spaces and full-width digits.
    pub fn parse(input: &str) -> Result<Brn, FieldError> {
        let f = |code, msg| Err(field_error("brn", code, msg));
        let digits = normalize_digits(input);
        if digits.is_empty() {
            return f("required", "사업자등록번호를 입력해 주세요.");
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return f("not_digits", "사업자등록번호는 숫자로만 입력해 주세요.");
        }
        if digits.len() != 10 {
            return f("length", "사업자등록번호는 10자리예요. 예: 124-81-00998");
        }
        let d: Vec<u32> = digits.bytes().map(|b| (b - b'0') as u32).collect();
        // 0000000000 passes the checksum: the tax-office code starts at 101 and
        // the serial number at 0001.
        let office = d[0] * 100 + d[1] * 10 + d[2];
        let serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8];
        if office < 101 || serial == 0 {
            return f(
                "structure",
                "있을 수 없는 사업자등록번호예요. 사업자등록증의 번호를 확인해 주세요.",
            );
        }
        const W: [u32; 9] = [1, 3, 7, 1, 3, 7, 1, 3, 5];
        let sum: u32 = d.iter().zip(W).map(|(x, w)| x * w).sum::<u32>() + d[8] * 5 / 10;
        if (10 - sum % 10) % 10 != d[9] {
            return f(
                "checksum",
                "사업자등록번호가 맞지 않아요. 마지막 자리까지 다시 확인해 주세요.",
            );
        }
        Ok(Brn(digits))
    }

    pub fn digits(&self) -> &str {
        &self.0
    }

    /// `124-81-00998`.
    pub fn display(&self) -> String {
        format!("{}-{}-{}", &self.0[..3], &self.0[3..5], &self.0[5..])
    }
}

/// A Korean mobile or landline number, normalised to its hyphenated form.
pub fn parse_phone(input: &str) -> Result<String, FieldError> {
    let d = normalize_digits(input);
    let bad = || {
        field_error(
            "phone",
            "format",
            "연락처 형식이 맞지 않아요. 예: 010-1234-5678, 02-123-4567",
        )
    };
    if d.is_empty() {
        return Err(field_error("phone", "required", "연락처를 입력해 주세요."));
    }
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let split = |area: usize| -> Option<String> {
        let rest = &d[area..];
        let mid = match rest.len() {
            7 => 3,
            8 => 4,
            _ => return None,
        };
        if rest.starts_with('0') {
            return None;
        }
        Some(format!("{}-{}-{}", &d[..area], &rest[..mid], &rest[mid..]))
    };
    let out = if d.starts_with("010") {
        (d.len() == 11).then(|| format!("{}-{}-{}", &d[..3], &d[3..7], &d[7..]))
    } else if ["011", "016", "017", "018", "019", "070"]
        .iter()
        .any(|p| d.starts_with(p))
    {
        split(3)
    } else if d.starts_with("02") {
        split(2)
    } else if d.len() == 8 && ["15", "16", "18"].iter().any(|p| d.starts_with(p)) {
        Some(format!("{}-{}", &d[..4], &d[4..])) // 대표번호 such as 1577-3754
    } else if d.len() >= 3
        && d.starts_with('0')
        && (b'3'..=b'6').contains(&d.as_bytes()[1])
        && (b'1'..=b'5').contains(&d.as_bytes()[2])
    {
        split(3) // 지역번호 031–064
    } else {
        None
    };
    out.ok_or_else(bad)
}

/// Optional e-mail: empty is fine, anything else needs one `@` and a dotted domain.
pub fn check_email(input: &str) -> Result<Option<String>, FieldError> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let ok = s.len() <= 254
        && !s.contains(char::is_whitespace)
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok {
        Ok(Some(s.to_string()))
    } else {
        Err(field_error(
            "email",
            "format",
            "이메일 주소 형식이 맞지 않아요. 예: name@example.com",
        ))
    }
}

/// `1,234,000`, `１２３４０００`, `1234000원` → 1234000; positive and bounded.
pub fn parse_loss_won(input: &str) -> Result<u64, FieldError> {
    // Not normalize_digits: a minus sign here is an error, not a separator.
    let s: String = input
        .chars()
        .map(fold_width)
        .filter(|c| !c.is_whitespace() && *c != ',')
        .collect();
    let s = s.strip_suffix('원').unwrap_or(&s);
    let f = |code, msg| Err(field_error("loss_won", code, msg));
    if s.is_empty() {
        return f("required", "매출 손실 금액을 입력해 주세요.");
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return f("not_digits", "매출 손실 금액은 숫자로만 입력해 주세요.");
    }
    match s.parse::<u64>() {
        Ok(0) => f("not_positive", "매출 손실 금액은 1원 이상이어야 해요."),
        Ok(n) if n <= MAX_LOSS_WON => Ok(n),
        _ => f(
            "too_large",
            "매출 손실 금액은 10억 원 이하로 입력해 주세요.",
        ),
    }
}

/// What a reported loss leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, try_from = "SupportWire")]
pub enum Support {
    Won { won: u64 },
    Review { requires_review: bool },
}

/// [`Support`] as read from the wire, a plain struct (a derived untagged
/// enum buffers the value and tries each variant). Same JSON either way.
#[derive(Deserialize)]
struct SupportWire {
    won: Option<u64>,
    requires_review: Option<bool>,
}

impl TryFrom<SupportWire> for Support {
    type Error = &'static str;
    fn try_from(w: SupportWire) -> Result<Self, Self::Error> {
        match (w.won, w.requires_review) {
            (Some(won), _) => Ok(Support::Won { won }),
            (None, Some(requires_review)) => Ok(Support::Review { requires_review }),
            (None, None) => Err("support needs won or requires_review"),
        }
    }
}

/// The support tiers of the campaign; the server never trusts a client's figure.
pub fn support_for(loss_won: u64) -> Support {
    if loss_won <= TIER1_MAX_LOSS {
        Support::Won { won: 30_000 }
    } else if loss_won <= TIER2_MAX_LOSS {
        Support::Won { won: 50_000 }
    } else {
        Support::Review {
            requires_review: true,
        }
    }
}

/// A calendar date (`2022-10-15` on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let n = |r: core::ops::Range<usize>| -> Option<u32> {
            s.get(r)
                .filter(|p| p.bytes().all(|c| c.is_ascii_digit()))?
                .parse()
                .ok()
        };
        let (year, month, day) = (n(0..4)? as i32, n(5..7)?, n(8..10)?);
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= crate::time::days_in_month(year as i64, month);
        valid.then_some(Date { year, month, day })
    }
}

impl core::fmt::Display for Date {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).ok_or_else(|| serde::de::Error::custom("expected a date as YYYY-MM-DD"))
    }
}

/// The damage period: both days inside the outage window, in order.
pub fn check_period(from: Option<Date>, to: Option<Date>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let window = "10월 15일부터 10월 20일 사이의 날짜를 골라 주세요.";
    for (field, date) in [("period_from", from), ("period_to", to)] {
        match date {
            None => errors.push(field_error(field, "required", "피해 기간을 입력해 주세요.")),
            Some(d) if d < OUTAGE_FIRST_DAY || d > OUTAGE_LAST_DAY => {
                errors.push(field_error(field, "out_of_range", window))
            }
            Some(_) => {}
        }
    }
    if let (Some(f), Some(t)) = (from, to) {
        if errors.is_empty() && f > t {
            errors.push(field_error(
                "period_to",
                "before_start",
                "피해 기간의 끝은 시작과 같거나 그 뒤여야 해요.",
            ));
        }
    }
    errors
}

/// Whether a Korean word ends in a final consonant (받침), which picks the
/// particle: 상호를 but 대표자명을, 상호는 but 대표자명은.
fn has_batchim(word: &str) -> bool {
    word.chars()
        .last()
        .is_some_and(|c| ('가'..='힣').contains(&c) && (c as u32 - '가' as u32) % 28 != 0)
}

/// Required non-empty text of at most `max` characters (after trimming).
pub fn check_text(field: &str, value: &str, max: usize, what: &str) -> Result<String, FieldError> {
    let v = value.trim();
    let (object, topic) = if has_batchim(what) {
        ("을", "은")
    } else {
        ("를", "는")
    };
    if v.is_empty() {
        Err(field_error(
            field,
            "required",
            &format!("{what}{object} 입력해 주세요."),
        ))
    } else if v.chars().count() > max {
        Err(field_error(
            field,
            "too_long",
            &format!("{what}{topic} {max}자 이하로 입력해 주세요."),
        ))
    } else {
        Ok(v.to_string())
    }
}

/// Evidence file types, decided by the file's first bytes, never its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Jpeg,
    Png,
    Heic,
    Pdf,
}

impl FileKind {
    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Heic => "image/heic",
            FileKind::Pdf => "application/pdf",
        }
    }
}

/// How many leading bytes [`sniff`] needs.
pub const SNIFF_BYTES: usize = 12;

pub fn sniff(head: &[u8]) -> Option<FileKind> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileKind::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileKind::Png)
    } else if head.starts_with(b"%PDF-") {
        Some(FileKind::Pdf)
    } else if head.len() >= 12
        && &head[4..8] == b"ftyp"
        && [
            &b"heic"[..],
            b"heix",
            b"hevc",
            b"heim",
            b"heis",
            b"mif1",
            b"msf1",
        ]
        .contains(&&head[8..12])
    {
        Some(FileKind::Heic)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_registration_numbers_pass_in_every_written_form() {
        for n in [
            "124-81-00998",
            "1248100998",
            "124 81 00998",
            "１２４－８１－００９９８",
            "120-81-47521",
            "220-81-62517",
            "107-86-14075",
        ] {
            assert!(Brn::parse(n).is_ok(), "{n}");
        }
        assert_eq!(
            Brn::parse("１２４８１００９９８").unwrap().display(),
            "124-81-00998"
        );
    }

    #[test]
    fn bad_registration_numbers_get_a_specific_reason() {
        let code = |n: &str| Brn::parse(n).unwrap_err().code;
        assert_eq!(code("124-81-00997"), "checksum");
        assert_eq!(code("1234567890"), "checksum");
        assert_eq!(code("0000000000"), "structure");
        assert_eq!(code("124-81-0099"), "length");
        assert_eq!(code("124-81-0099a"), "not_digits");
        assert_eq!(code("  "), "required");
    }

    #[test]
    fn support_tiers_switch_exactly_at_the_limits() {
        assert_eq!(support_for(1), Support::Won { won: 30_000 });
        assert_eq!(support_for(300_000), Support::Won { won: 30_000 });
        assert_eq!(support_for(300_001), Support::Won { won: 50_000 });
        assert_eq!(support_for(500_000), Support::Won { won: 50_000 });
        assert_eq!(
            support_for(500_001),
            Support::Review {
                requires_review: true
            }
        );
        assert_eq!(serde_json_value(support_for(1)), r#"{"won":30000}"#);
        assert_eq!(
            serde_json_value(support_for(500_001)),
            r#"{"requires_review":true}"#
        );
    }

    fn serde_json_value(s: Support) -> String {
        serde_json::to_string(&s).unwrap()
    }

    #[test]
    fn loss_amounts_accept_commas_and_refuse_nonsense() {
        assert_eq!(parse_loss_won("1,234,000").unwrap(), 1_234_000);
        assert_eq!(parse_loss_won("300000원").unwrap(), 300_000);
        assert_eq!(parse_loss_won("３００，０００").unwrap(), 300_000);
        assert_eq!(parse_loss_won("0").unwrap_err().code, "not_positive");
        assert_eq!(parse_loss_won("-5").unwrap_err().code, "not_digits");
        assert_eq!(parse_loss_won("1.5").unwrap_err().code, "not_digits");
        assert_eq!(parse_loss_won("").unwrap_err().code, "required");
        assert_eq!(parse_loss_won("1000000001").unwrap_err().code, "too_large");
        assert_eq!(
            parse_loss_won("99999999999999999999999").unwrap_err().code,
            "too_large"
        );
    }

    #[test]
    fn phones_are_normalised_mobile_or_landline() {
        assert_eq!(parse_phone("01012345678").unwrap(), "010-1234-5678");
        assert_eq!(parse_phone("010 1234 5678").unwrap(), "010-1234-5678");
        assert_eq!(parse_phone("02-123-4567").unwrap(), "02-123-4567");
        assert_eq!(parse_phone("0212345678").unwrap(), "02-1234-5678");
        assert_eq!(parse_phone("031-123-4567").unwrap(), "031-123-4567");
        assert_eq!(parse_phone("064-7123-4567").unwrap(), "064-7123-4567");
        assert_eq!(parse_phone("1577-3754").unwrap(), "1577-3754");
        assert_eq!(parse_phone("070-1234-5678").unwrap(), "070-1234-5678");
        for bad in [
            "0101234567",
            "12345",
            "010-1234-567a",
            "099-123-4567",
            "02-012-3456",
        ] {
            assert_eq!(parse_phone(bad).unwrap_err().code, "format", "{bad}");
        }
        assert_eq!(parse_phone("").unwrap_err().code, "required");
    }

    #[test]
    fn email_is_optional_but_checked_when_given() {
        assert_eq!(check_email(" ").unwrap(), None);
        assert_eq!(
            check_email("owner@shop.co.kr").unwrap().as_deref(),
            Some("owner@shop.co.kr")
        );
        for bad in ["owner", "owner@", "@shop.kr", "a@b", "a b@c.kr", "a@@c.kr"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_period_must_lie_in_the_outage_window_in_order() {
        let d = |s| Date::parse(s);
        assert!(check_period(d("2022-10-15"), d("2022-10-20")).is_empty());
        assert!(check_period(d("2022-10-16"), d("2022-10-16")).is_empty());
        assert_eq!(
            check_period(d("2022-10-14"), d("2022-10-16"))[0].code,
            "out_of_range"
        );
        assert_eq!(
            check_period(d("2022-10-18"), d("2022-10-16"))[0].code,
            "before_start"
        );
        assert_eq!(check_period(None, d("2022-10-21")).len(), 2);
        assert_eq!(Date::parse("2022-02-30"), None);
        assert_eq!(Date::parse("2022-1-05"), None);
    }

    #[test]
    fn file_type_comes_from_the_first_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(FileKind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some(FileKind::Png));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some(FileKind::Pdf));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0"), Some(FileKind::Heic));
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None); // a Windows executable renamed .jpg
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn text_fields_are_required_and_bounded() {
        assert_eq!(
            check_text("business_name", "  카카오 분식 ", 50, "상호").unwrap(),
            "카카오 분식"
        );
        assert_eq!(
            check_text("business_name", " ", 50, "상호")
                .unwrap_err()
                .code,
            "required"
        );
        assert_eq!(
            check_text("description", &"가".repeat(1001), 1000, "피해 내용")
                .unwrap_err()
                .code,
            "too_long"
        );
        // The particle follows the last syllable.
        let msg =
            |what: &str, value: &str, max| check_text("f", value, max, what).unwrap_err().message;
        assert_eq!(msg("상호", "", 50), "상호를 입력해 주세요.");
        assert_eq!(msg("대표자명", "", 50), "대표자명을 입력해 주세요.");
        assert_eq!(
            msg("피해 내용", "가나다", 2),
            "피해 내용은 2자 이하로 입력해 주세요."
        );
    }
}

/// Services a business can say the outage hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    KakaotalkChannel,
    KakaotalkGift,
    KakaoT,
    KakaoPay,
    KakaoMap,
    Other,
}

impl Service {
    pub const ALL: [Service; 6] = [
        Service::KakaotalkChannel,
        Service::KakaotalkGift,
        Service::KakaoT,
        Service::KakaoPay,
        Service::KakaoMap,
        Service::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Service::KakaotalkChannel => "카카오톡 채널",
            Service::KakaotalkGift => "카카오톡 선물하기",
            Service::KakaoT => "카카오T",
            Service::KakaoPay => "카카오페이",
            Service::KakaoMap => "카카오맵",
            Service::Other => "기타",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceCategory {
    SmallBusinessCert,
    SalesLoss,
    ServiceUse,
    Bankbook,
}

impl EvidenceCategory {
    pub const ALL: [EvidenceCategory; 4] = [
        EvidenceCategory::SmallBusinessCert,
        EvidenceCategory::SalesLoss,
        EvidenceCategory::ServiceUse,
        EvidenceCategory::Bankbook,
    ];

    pub fn label(self) -> &'static str {
        match self {
            EvidenceCategory::SmallBusinessCert => "소상공인 확인서",
            EvidenceCategory::SalesLoss => "매출 감소 증빙",
            EvidenceCategory::ServiceUse => "카카오 서비스 이용 증빙",
            EvidenceCategory::Bankbook => "통장 사본",
        }
    }
}

/// Banks by their KFTC (금융결제원) code.
pub const BANKS: &[(&str, &str)] = &[
    ("002", "KDB산업은행"),
    ("003", "IBK기업은행"),
    ("004", "KB국민은행"),
    ("007", "수협은행"),
    ("011", "NH농협은행"),
    ("012", "지역농·축협"),
    ("020", "우리은행"),
    ("023", "SC제일은행"),
    ("027", "한국씨티은행"),
    ("031", "iM뱅크(대구은행)"),
    ("032", "부산은행"),
    ("034", "광주은행"),
    ("035", "제주은행"),
    ("037", "전북은행"),
    ("039", "경남은행"),
    ("045", "새마을금고"),
    ("048", "신협"),
    ("050", "저축은행"),
    ("071", "우체국"),
    ("081", "하나은행"),
    ("088", "신한은행"),
    ("089", "케이뱅크"),
    ("090", "카카오뱅크"),
    ("092", "토스뱅크"),
];

pub fn bank_name(code: &str) -> Option<&'static str> {
    BANKS.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// Account number: digits only once hyphens and spaces are stripped.
pub fn parse_account_no(input: &str) -> Result<String, FieldError> {
    let d = normalize_digits(input);
    if d.is_empty() {
        Err(field_error(
            "payout.account_no",
            "required",
            "계좌번호를 입력해 주세요.",
        ))
    } else if !d.bytes().all(|b| b.is_ascii_digit()) {
        Err(field_error(
            "payout.account_no",
            "not_digits",
            "계좌번호는 숫자로만 입력해 주세요. 하이픈(-)은 넣어도 돼요.",
        ))
    } else if !(10..=16).contains(&d.len()) {
        Err(field_error(
            "payout.account_no",
            "length",
            "계좌번호는 10~16자리예요. 통장에 적힌 번호를 확인해 주세요.",
        ))
    } else {
        Ok(d)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub upload_id: String,
    pub category: EvidenceCategory,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    pub bank_code: String,
    pub account_no: String,
    pub holder: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consents {
    pub privacy_required: bool,
    #[serde(default)]
    pub marketing: Option<bool>,
}

/// `POST /v1/damage-claims` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DamageClaimRequest {
    pub brn: String,
    pub business_name: String,
    pub representative: String,
    pub phone: String,
    #[serde(default)]
    pub email: Option<String>,
    pub services: Vec<Service>,
    /// What "기타" means, when `services` has `other`.
    #[serde(default)]
    pub services_other: Option<String>,
    pub paid_service: bool,
    pub period_from: String,
    pub period_to: String,
    pub loss_won: u64,
    pub description: String,
    pub evidence: Vec<EvidenceRef>,
    pub payout: Payout,
    pub consents: Consents,
}

/// A request that passed every rule, normalised (digits only, hyphenated phone, trimmed text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidDamageClaim {
    pub brn: Brn,
    pub request: DamageClaimRequest,
    pub support: Support,
}

pub const MAX_NAME_CHARS: usize = 50;

/// Step 1: the business.
pub fn check_business(
    brn: &str,
    name: &str,
    representative: &str,
    phone: &str,
    email: &str,
) -> Vec<FieldError> {
    let mut e = Vec::new();
    e.extend(Brn::parse(brn).err());
    e.extend(check_text("business_name", name, MAX_NAME_CHARS, "상호").err());
    e.extend(check_text("representative", representative, MAX_NAME_CHARS, "대표자명").err());
    e.extend(parse_phone(phone).err());
    e.extend(check_email(email).err());
    e
}

/// Step 2: the damage (the loss arrives already parsed by [`parse_loss_won`]).
pub fn check_damage(
    services: &[Service],
    other: Option<&str>,
    from: Option<Date>,
    to: Option<Date>,
    description: &str,
) -> Vec<FieldError> {
    let mut e = Vec::new();
    if services.is_empty() {
        e.push(field_error(
            "services",
            "required",
            "피해를 입은 서비스를 하나 이상 골라 주세요.",
        ));
    } else if services.contains(&Service::Other) {
        e.extend(
            check_text(
                "services_other",
                other.unwrap_or(""),
                MAX_NAME_CHARS,
                "기타 서비스 이름",
            )
            .err(),
        );
    }
    e.extend(check_period(from, to));
    e.extend(
        check_text(
            "description",
            description,
            MAX_DESCRIPTION_CHARS,
            "피해 내용",
        )
        .err(),
    );
    e
}

/// Step 3: evidence; proof of lost sales is needed above the second tier.
pub fn check_evidence(evidence: &[EvidenceRef], loss_won: u64) -> Vec<FieldError> {
    let mut e = Vec::new();
    if evidence.len() > MAX_EVIDENCE_FILES {
        e.push(field_error(
            "evidence",
            "too_many",
            "증빙 파일은 10개까지 올릴 수 있어요.",
        ));
    }
    if loss_won > TIER2_MAX_LOSS
        && !evidence
            .iter()
            .any(|x| x.category == EvidenceCategory::SalesLoss)
    {
        e.push(field_error(
            "evidence",
            "sales_loss_required",
            "손실이 500,000원을 넘으면 매출 감소 증빙을 올려 주세요.",
        ));
    }
    e
}

/// Step 4: the payout account.
pub fn check_payout(p: &Payout) -> Vec<FieldError> {
    let mut e = Vec::new();
    if bank_name(&p.bank_code).is_none() {
        e.push(field_error(
            "payout.bank_code",
            "required",
            "은행을 골라 주세요.",
        ));
    }
    e.extend(parse_account_no(&p.account_no).err());
    e.extend(check_text("payout.holder", &p.holder, MAX_NAME_CHARS, "예금주").err());
    e
}

/// Step 5: the required consent must be given; the optional one never blocks.
pub fn check_consents(c: &Consents) -> Vec<FieldError> {
    if c.privacy_required {
        Vec::new()
    } else {
        vec![field_error(
            "consents.privacy_required",
            "required",
            "개인정보 수집·이용에 동의해야 신청할 수 있어요.",
        )]
    }
}

impl DamageClaimRequest {
    /// Every rule of every step; the server runs exactly this.
    pub fn validate(&self) -> Result<ValidDamageClaim, Vec<FieldError>> {
        let mut e = check_business(
            &self.brn,
            &self.business_name,
            &self.representative,
            &self.phone,
            self.email.as_deref().unwrap_or(""),
        );
        let (from, to) = (Date::parse(&self.period_from), Date::parse(&self.period_to));
        e.extend(check_damage(
            &self.services,
            self.services_other.as_deref(),
            from,
            to,
            &self.description,
        ));
        if self.loss_won == 0 {
            e.push(field_error(
                "loss_won",
                "not_positive",
                "매출 손실 금액은 1원 이상이어야 해요.",
            ));
        } else if self.loss_won > MAX_LOSS_WON {
            e.push(field_error(
                "loss_won",
                "too_large",
                "매출 손실 금액은 10억 원 이하로 입력해 주세요.",
            ));
        }
        e.extend(check_evidence(&self.evidence, self.loss_won));
        e.extend(check_payout(&self.payout));
        e.extend(check_consents(&self.consents));
        if !e.is_empty() {
            return Err(e);
        }
        let brn = Brn::parse(&self.brn).map_err(|x| vec![x])?;
        let mut request = self.clone();
        request.brn = brn.digits().to_string();
        request.business_name = self.business_name.trim().to_string();
        request.representative = self.representative.trim().to_string();
        request.phone = parse_phone(&self.phone).map_err(|x| vec![x])?;
        request.email = check_email(self.email.as_deref().unwrap_or("")).map_err(|x| vec![x])?;
        request.description = self.description.trim().to_string();
        request.payout.account_no =
            parse_account_no(&self.payout.account_no).map_err(|x| vec![x])?;
        request.payout.holder = self.payout.holder.trim().to_string();
        Ok(ValidDamageClaim {
            brn,
            support: support_for(self.loss_won),
            request,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DamageClaimStatus {
    Received,
    Reviewing,
    Approved,
    Paid,
    Rejected,
}

impl DamageClaimStatus {
    pub fn label(self) -> &'static str {
        match self {
            DamageClaimStatus::Received => "접수",
            DamageClaimStatus::Reviewing => "검토 중",
            DamageClaimStatus::Approved => "승인",
            DamageClaimStatus::Paid => "지급 완료",
            DamageClaimStatus::Rejected => "반려",
        }
    }
}

/// `POST /v1/damage-claims` 201 and `GET /v1/damage-claims/{receipt_no}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DamageClaimReceipt {
    pub receipt_no: String,
    pub status: DamageClaimStatus,
    pub support: Support,
    pub submitted_at: crate::Timestamp,
    /// Why, when `rejected`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /v1/uploads` 201.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    /// Only the id is needed to refer to the file; the rest may be left out.
    #[serde(default)]
    pub sha256: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub content_type: String,
}

/// `POST /v1/channel-cash` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelCashRequest {
    pub brn: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelCash {
    pub brn: String,
    pub won: u64,
    pub granted_at: crate::Timestamp,
    /// False when this business had already received it (the original grant is shown).
    pub newly_granted: bool,
}

#[cfg(test)]
mod request_tests {
    use super::*;

    pub fn valid() -> DamageClaimRequest {
        DamageClaimRequest {
            brn: "124-81-00998".into(),
            business_name: " 카카오 분식 ".into(),
            representative: "김카카오".into(),
            phone: "010 1234 5678".into(),
            email: Some("".into()),
            services: vec![Service::KakaotalkChannel],
            services_other: None,
            paid_service: true,
            period_from: "2022-10-15".into(),
            period_to: "2022-10-17".into(),
            loss_won: 420_000,
            description: "주문 알림이 오지 않아 손님을 놓쳤어요.".into(),
            evidence: vec![],
            payout: Payout {
                bank_code: "090".into(),
                account_no: "3333-01-1234567".into(),
                holder: "김카카오".into(),
            },
            consents: Consents {
                privacy_required: true,
                marketing: None,
            },
        }
    }

    #[test]
    fn a_valid_request_is_normalised_and_priced_by_the_tiers() {
        let v = valid().validate().unwrap();
        assert_eq!(v.request.brn, "1248100998");
        assert_eq!(v.request.phone, "010-1234-5678");
        assert_eq!(v.request.email, None);
        assert_eq!(v.request.business_name, "카카오 분식");
        assert_eq!(v.request.payout.account_no, "3333011234567");
        assert_eq!(v.support, Support::Won { won: 50_000 });
    }

    #[test]
    fn each_broken_field_is_named_as_in_the_body() {
        let mut r = valid();
        r.brn = "124-81-00997".into();
        r.phone = "12".into();
        r.services = vec![Service::Other];
        r.period_to = "2022-10-21".into();
        r.loss_won = 0;
        r.payout.bank_code = "999".into();
        r.consents.privacy_required = false;
        let fields: Vec<String> = r
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "brn",
                "phone",
                "services_other",
                "period_to",
                "loss_won",
                "payout.bank_code",
                "consents.privacy_required"
            ]
        );
    }

    #[test]
    fn above_half_a_million_needs_proof_of_lost_sales() {
        let mut r = valid();
        r.loss_won = 500_001;
        assert_eq!(r.validate().unwrap_err()[0].code, "sales_loss_required");
        r.evidence = vec![EvidenceRef {
            upload_id: "u1".into(),
            category: EvidenceCategory::ServiceUse,
        }];
        assert!(r.validate().is_err());
        r.evidence.push(EvidenceRef {
            upload_id: "u2".into(),
            category: EvidenceCategory::SalesLoss,
        });
        assert_eq!(
            r.validate().unwrap().support,
            Support::Review {
                requires_review: true
            }
        );
    }

    #[test]
    fn optional_marketing_consent_never_blocks() {
        let mut r = valid();
        r.consents.marketing = Some(false);
        assert!(r.validate().is_ok());
    }

    #[test]
    fn the_wire_format_uses_snake_case_names() {
        let json = serde_json::to_value(valid()).unwrap();
        assert_eq!(json["services"][0], "kakaotalk_channel");
        assert_eq!(json["payout"]["bank_code"], "090");
        assert!(
            serde_json::from_value::<DamageClaimRequest>(serde_json::json!({"brn": "x"})).is_err()
        );
    }
}
