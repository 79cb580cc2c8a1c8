//! Cell-level rules of customer frames: service dates as applicants write them, phone
//! numbers (the default person key), and the masks that keep personal data out of reports.

use chrono::{Datelike, NaiveDate};

/// Days since 1970-01-01 of a calendar date.
pub fn days(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - 719_163
}

/// The calendar date of a day number from [`days`].
pub fn date_of(days: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(days + 719_163).expect("day number in range")
}

/// `YYYY-MM-DD`: `None` when `b` does not have that shape, `Some(None)` for an impossible
/// date such as 2025-02-30, else `Some(Some(day number))` as [`days`] gives it.
#[inline]
fn iso_date(b: &[u8]) -> Option<Option<i32>> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let d = |i: usize| (b[i] as u32).wrapping_sub(b'0' as u32);
    let all_digits = [0, 1, 2, 3, 5, 6, 8, 9]
        .iter()
        .fold(true, |ok, &i| ok & (d(i) < 10));
    if !all_digits {
        return None;
    }
    let y = (d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3)) as i32;
    let (m, day) = (d(5) * 10 + d(6), d(8) * 10 + d(9));
    if !(1..=12).contains(&m) || day == 0 || day > days_in_month(y, m) {
        return Some(None);
    }
    Some(Some(days_from_civil(y, m, day)))
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible
/// Low-Level Date Algorithms", `days_from_civil`).
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i32 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a service date as applicants write it, returning days since 1970-01-01.
///
/// Accepted: `2025-03-01`, `2025/3/1`, `2025.3.1`, `2025年3月1日`, `20250301`, each optionally
/// followed by a time (`2025-03-01 14:30:00`, `2025-03-01T14:30`), which is ignored. With
/// `excel_serial`, a plain number such as `45717` is an Excel serial date (1900 system), as
/// xlsx files store them. Anything else, or an impossible date such as 2025-02-30, is `None`.
pub fn parse_date(s: &str, excel_serial: bool) -> Option<i32> {
    // Fast path: YYYY-MM-DD exactly, as most exports write it.
    if let Some(d) = iso_date(s.as_bytes()) {
        return d;
    }
    let s = s.trim();
    let b = s.as_bytes();
    if let Some(d) = iso_date(b) {
        return d;
    }
    let digits = |from: usize| {
        let mut i = from;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    let num = |from: usize, to: usize| -> Option<u32> {
        if to == from || to - from > 4 {
            return None;
        }
        s[from..to].parse().ok()
    };
    let end_y = digits(0);
    if end_y == 8 && (end_y == b.len() || b[end_y] == b' ' || b[end_y] == b'T') {
        let y = num(0, 4)?;
        let m = num(4, 6)?;
        let d = num(6, 8)?;
        return NaiveDate::from_ymd_opt(y as i32, m, d).map(days);
    }
    if excel_serial && end_y == b.len() && (1..=7).contains(&end_y) {
        return excel_serial_date(s.parse().ok()?);
    }
    if excel_serial
        && end_y > 0
        && b.get(end_y) == Some(&b'.')
        && digits(end_y + 1) == b.len()
        && end_y + 1 < b.len()
    {
        // An Excel serial with a time fraction, e.g. 45717.5.
        return excel_serial_date(s[..end_y].parse().ok()?);
    }
    if end_y != 4 {
        return None;
    }
    let y = num(0, 4)?;
    let (m_start, sep) = separator(s, end_y)?;
    let m_end = digits(m_start);
    let m = num(m_start, m_end)?;
    let (d_start, sep2) = separator(s, m_end)?;
    if (sep == Sep::Year) != (sep2 == Sep::Month) || (sep != Sep::Year && sep != sep2) {
        return None;
    }
    let d_end = digits(d_start);
    let d = num(d_start, d_end)?;
    let mut rest = &s[d_end..];
    if sep == Sep::Year {
        rest = rest
            .strip_prefix('日')
            .or_else(|| rest.strip_prefix('号'))?;
    }
    if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('T')) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m, d).map(days)
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Sep {
    Dash,
    Slash,
    Dot,
    Year,
    Month,
}

fn separator(s: &str, at: usize) -> Option<(usize, Sep)> {
    let rest = &s[at..];
    for (text, sep) in [
        ("-", Sep::Dash),
        ("/", Sep::Slash),
        (".", Sep::Dot),
        ("年", Sep::Year),
        ("月", Sep::Month),
    ] {
        if rest.starts_with(text) {
            return Some((at + text.len(), sep));
        }
    }
    None
}

/// An Excel serial day number (1900 date system, with Excel's phantom 1900-02-29).
fn excel_serial_date(serial: i64) -> Option<i32> {
    if !(61..=2_958_465).contains(&serial) {
        return None;
    }
    // Serial 61 is 1900-03-01; day 25569 is 1970-01-01.
    Some((serial - 25_569) as i32)
}

/// A phone number reduced to its digits, the default person key.
///
/// Separators and spaces are dropped; a mainland country code (`+86`, `0086`, `86`) in
/// front of an 11-digit mobile number is removed, so `+86 138-0013-8000` and `13800138000`
/// are one person. The number is usable when 7 to 15 digits remain; otherwise `None`.
pub fn phone_digits(s: &str) -> Option<String> {
    let (buf, from, to) = phone_digits_buf(s)?;
    Some(String::from_utf8_lossy(&buf[from..to]).into_owned())
}

/// [`phone_digits`] without allocating: the digits are `buf[from..to]`.
pub fn phone_digits_buf(s: &str) -> Option<([u8; 24], usize, usize)> {
    let mut buf = [0u8; 24];
    let mut n = 0;
    for &c in s.as_bytes() {
        if c.is_ascii_digit() {
            if n == buf.len() {
                return None;
            }
            buf[n] = c;
            n += 1;
        } else if c.is_ascii_alphabetic() {
            return None;
        }
    }
    let mobile = |from: usize| n - from == 11 && buf[from] == b'1';
    let from = if buf[..n].starts_with(b"0086") && n >= 4 && mobile(4) {
        4
    } else if buf[..n].starts_with(b"86") && n >= 2 && mobile(2) {
        2
    } else {
        0
    };
    (7..=15).contains(&(n - from)).then_some((buf, from, n))
}

/// Masks a phone number for reports: the first 3 and last 4 digits stay (138****5678).
pub fn mask_phone(s: &str) -> String {
    let mut any = [0u8; 24];
    let d: &[u8] = match phone_digits_buf(s) {
        Some((ref buf, from, to)) => {
            any[..to - from].copy_from_slice(&buf[from..to]);
            &any[..to - from]
        }
        None => {
            let all: Vec<u8> = s.bytes().filter(u8::is_ascii_digit).collect();
            return mask_digits(&all, s);
        }
    };
    mask_digits(d, s)
}

/// The mask of the digits `d` of the phone cell `s` (ASCII digits only).
fn mask_digits(d: &[u8], s: &str) -> String {
    if d.is_empty() {
        return if s.trim().is_empty() {
            String::new()
        } else {
            "*".repeat(s.chars().count().min(8))
        };
    }
    let (head, tail) = if d.len() >= 8 {
        (3, 4)
    } else {
        (0, 2.min(d.len()))
    };
    let mut out = String::with_capacity(d.len());
    out.extend(d[..head].iter().map(|&c| c as char));
    out.extend(std::iter::repeat_n('*', d.len() - head - tail));
    out.extend(d[d.len() - tail..].iter().map(|&c| c as char));
    out
}

/// Masks a name for reports: the first character stays, every other becomes `*` (张*, 张**).
pub fn mask_name(s: &str) -> String {
    let s = s.trim();
    let mut chars = s.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_fast_path_agrees_with_chrono() {
        for y in [0, 1, 1899, 1900, 1970, 1999, 2000, 2024, 2025, 2100, 9999] {
            for m in 0..=13u32 {
                for d in 0..=32u32 {
                    let s = format!("{y:04}-{m:02}-{d:02}");
                    let want = NaiveDate::from_ymd_opt(y, m, d).map(days);
                    assert_eq!(iso_date(s.as_bytes()), Some(want), "{s}");
                    assert_eq!(parse_date(&s, false), want, "{s}");
                }
            }
        }
        assert_eq!(iso_date(b"2025-3-01 "), None);
        assert_eq!(iso_date(b"2025/03/01"), None);
        assert_eq!(iso_date(b"2025-0a-01"), None);
    }

    fn ymd(y: i32, m: u32, d: u32) -> Option<i32> {
        Some(days(NaiveDate::from_ymd_opt(y, m, d).unwrap()))
    }

    #[test]
    fn dates_as_applicants_write_them() {
        for s in [
            "2025-03-01",
            "2025/3/1",
            "2025.03.01",
            "2025年3月1日",
            "2025年03月01号",
            "20250301",
            " 2025-03-01 14:30:00 ",
            "2025-03-01T14:30",
            "2025/03/01 9:05",
        ] {
            assert_eq!(parse_date(s, false), ymd(2025, 3, 1), "{s}");
        }
        for s in [
            "2025-02-30",
            "2025-3",
            "2025/3-1",
            "25-03-01",
            "2025年3月1",
            "March 1",
            "",
            "45717",
            "2025-03-01x",
            "2025--03-01",
        ] {
            assert_eq!(parse_date(s, false), None, "{s}");
        }
        assert_eq!(parse_date("45717", true), ymd(2025, 3, 1));
        assert_eq!(parse_date("45717.75", true), ymd(2025, 3, 1));
        assert_eq!(parse_date("25569", true), ymd(1970, 1, 1));
        assert_eq!(parse_date("60", true), None);
        assert_eq!(date_of(ymd(2024, 2, 29).unwrap()).to_string(), "2024-02-29");
    }

    #[test]
    fn phones_reduce_to_digits() {
        assert_eq!(phone_digits("13800138000").as_deref(), Some("13800138000"));
        assert_eq!(
            phone_digits("+86 138-0013-8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            phone_digits("008613800138000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            phone_digits("010-6552 1234").as_deref(),
            Some("01065521234")
        );
        assert_eq!(
            phone_digits("8613800138000").as_deref(),
            Some("13800138000")
        );
        for bad in [
            "",
            "无",
            "n/a",
            "123",
            "12345678901234567890",
            "138abc00138",
        ] {
            assert_eq!(phone_digits(bad), None, "{bad}");
        }
    }

    #[test]
    fn masks() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+86 138-1234-5678"), "138****5678");
        assert_eq!(mask_phone("1234567"), "*****67");
        assert_eq!(mask_phone(""), "");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳小明"), "欧***");
        assert_eq!(mask_name("王"), "王*");
        assert_eq!(mask_name(""), "");
    }
}
