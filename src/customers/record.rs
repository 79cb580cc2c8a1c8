//! Pure functions on the bytes of records that pass 1 ([`super::scan`]) and the duplicate-id
//! check ([`super::ids`]) share: the streaming reader's splitter (its grammar, proven equal
//! to the general reader's by tests/it/props.rs), the last record boundary of a block, and the
//! packed form of an id. Neither module imports the other for them.

use crate::prn::encode_id;

/// The prn-v1 encoding of an id ([`encode_id`]) as a little-endian integer, without the
/// byte loop for ids of up to 15 bytes: two overlapping word loads.
#[inline]
pub fn pack_id(b: &[u8]) -> u128 {
    let n = b.len();
    if n > 15 {
        return u128::from_le_bytes(encode_id(b));
    }
    let word = |s: &[u8]| u64::from_le_bytes(s.try_into().expect("8")) as u128;
    let half = |s: &[u8]| u32::from_le_bytes(s.try_into().expect("4")) as u128;
    let v = if n >= 8 {
        let hi = if n > 8 {
            word(&b[n - 8..]) >> ((16 - n) * 8)
        } else {
            0
        };
        word(&b[..8]) | (hi << 64)
    } else if n >= 4 {
        half(&b[..4]) | (half(&b[n - 4..]) << ((n - 4) * 8))
    } else {
        b.iter()
            .enumerate()
            .fold(0u128, |v, (i, &c)| v | (c as u128) << (8 * i))
    };
    v | (n as u128) << 120
}

/// The largest record boundary in `data` (just after a newline outside quotes), given that
/// `data` starts outside quotes.
pub(super) fn last_boundary(data: &[u8]) -> Option<usize> {
    let quotes: Vec<usize> = memchr::memchr_iter(b'"', data).collect();
    let mut end = data.len();
    while let Some(nl) = memchr::memrchr(b'\n', &data[..end]) {
        if quotes.partition_point(|&q| q < nl) % 2 == 0 {
            return Some(nl + 1);
        }
        end = nl;
    }
    None
}

/// Splits one record that starts at `data[0]` (quote-aware, RFC 4180 with lenient
/// handling of stray quotes); returns trimmed cells and the bytes used, newline included.
pub fn split_record(data: &[u8], delimiter: u8) -> (Vec<String>, usize) {
    let mut cells = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut i = 0;
    let mut in_q = false;
    let mut at_start = true;
    loop {
        if i >= data.len() {
            cells.push(cur);
            break;
        }
        let b = data[i];
        if in_q {
            if b == b'"' {
                if data.get(i + 1) == Some(&b'"') {
                    cur.push(b'"');
                    i += 2;
                    continue;
                }
                in_q = false;
            } else {
                cur.push(b);
            }
            i += 1;
            continue;
        }
        match b {
            b'"' if at_start || cur.iter().all(|c| c.is_ascii_whitespace()) => {
                cur.clear();
                in_q = true;
                at_start = false;
            }
            b'\n' => {
                if cur.last() == Some(&b'\r') {
                    cur.pop();
                }
                cells.push(std::mem::take(&mut cur));
                i += 1;
                break;
            }
            _ if b == delimiter => {
                cells.push(std::mem::take(&mut cur));
                at_start = true;
            }
            _ => {
                cur.push(b);
                at_start = false;
            }
        }
        i += 1;
    }
    let cells = cells
        .into_iter()
        .map(|c| String::from_utf8_lossy(&c).trim().to_string())
        .collect();
    (cells, i.min(data.len()))
}
