//! Duplicated service record ids (CONTRACT.md, "Reading frames": a duplicated id is an error
//! naming every line where it occurs), found in bounded memory on files of any length.
//!
//! Most exports list their records in id order. Pass 1 therefore first checks, at the cost
//! of one short comparison a row, whether the ids rise strictly through the file (bytewise,
//! or shortest-first as numbers without leading zeros sort): if they do, no id can repeat
//! and nothing more is done. As soon as a chunk or the seam between two chunks breaks the
//! order, the workers also write a 64-bit fingerprint of every further id into hash
//! partitions on disk; the chunks read before that moment are read again for theirs. Each
//! partition is then sorted; fingerprints that repeat are either duplicated ids or (rarely)
//! different ids with the same fingerprint, so a last pass over the file collects the ids
//! and lines of just those fingerprints and reports the true duplicates.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::parts::{PartFile, Partitions};
use super::record::{pack_id, split_record};
use super::specials::Specials;
use crate::error::{Error, Problems, Result};

/// Number of fingerprint partitions.
const PARTS: usize = 64;
/// Bytes of the blocks read when ids are read again.
const BLOCK: usize = 4 << 20;

/// The splitmix64 finaliser (Steele, Lea and Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014): a bijection of `u64` that spreads every input bit.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 64-bit fingerprint of an id: equal ids have equal fingerprints; different ids
/// rarely do, and when they do the last pass tells them apart.
pub fn fingerprint(id: &[u8]) -> u64 {
    let mut h = mix(id.len() as u64 ^ 0x9E37_79B9_7F4A_7C15);
    let mut words = id.chunks_exact(8);
    for w in &mut words {
        h = mix(h ^ u64::from_le_bytes(w.try_into().expect("8 bytes")));
    }
    let mut last = [0u8; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    mix(h ^ u64::from_le_bytes(last))
}

/// Whether `b` comes strictly after `a` bytewise, and shortest-first (by length, then
/// bytewise).
#[inline]
fn after(a: &[u8], b: &[u8]) -> (bool, bool) {
    let bytes = b > a;
    let short = b.len() > a.len() || (b.len() == a.len() && bytes);
    (bytes, short)
}

/// The ids of one chunk as a worker saw them.
#[derive(Debug, Clone, Default)]
pub struct ChunkIds {
    /// First and last id of the chunk (none when it has no id).
    pub first: Option<Vec<u8>>,
    pub last: Vec<u8>,
    pub rising_bytes: bool,
    pub rising_short: bool,
    /// Whether the fingerprints of the chunk's ids were written.
    pub covered: bool,
    pub offset: u64,
    pub len: u64,
    pub line: u64,
}

/// A worker's side: the order of the ids in the current chunk, and the fingerprint
/// partitions once the order is broken.
pub struct IdWatch {
    chunk: ChunkIds,
    /// The previous id of the chunk when it has at most 15 bytes: its bytes as a
    /// big-endian integer (zero-padded) and its length, which compare as the bytes do.
    prev: Option<(u128, usize)>,
    parts: Partitions,
}

/// An id of at most 15 bytes as a big-endian integer, zero-padded on the right.
#[inline]
fn short_key(id: &[u8]) -> Option<(u128, usize)> {
    (id.len() <= 15).then(|| ((pack_id(id) & !(0xFFu128 << 120)).swap_bytes(), id.len()))
}

impl IdWatch {
    /// `name` tells this writer's files apart from the other writers' in `dir`.
    pub fn new(dir: &Path, name: String) -> IdWatch {
        IdWatch {
            chunk: ChunkIds::default(),
            prev: None,
            parts: Partitions::new(dir, format!("ids-{name}"), PARTS, 32 * 1024),
        }
    }

    /// Starts a chunk; `cover` writes the fingerprints of its ids.
    pub fn begin(&mut self, offset: u64, len: u64, line: u64, cover: bool) {
        self.chunk = ChunkIds {
            first: None,
            last: std::mem::take(&mut self.chunk.last),
            rising_bytes: true,
            rising_short: true,
            covered: cover,
            offset,
            len,
            line,
        };
        self.chunk.last.clear();
        self.prev = None;
    }

    /// Notes the (trimmed, non-empty) id of the next record of the chunk.
    #[inline(always)]
    pub fn see(&mut self, id: &[u8]) {
        let key = short_key(id);
        // The usual case, a short id after a short id: two integer comparisons. (A
        // previous id implies the chunk's first is set, and `last` need not change.)
        if let (Some((a, la)), Some((b, lb))) = (self.prev, key) {
            let c = &mut self.chunk;
            debug_assert!(c.first.is_some());
            let bytes = (b, lb) > (a, la);
            c.rising_bytes &= bytes;
            c.rising_short &= lb > la || (lb == la && bytes);
            self.prev = key;
            if c.covered {
                self.put(fingerprint(id));
            }
            return;
        }
        let c = &mut self.chunk;
        if c.first.is_none() {
            c.first = Some(id.to_vec());
        } else {
            if let Some((v, n)) = self.prev {
                c.last.clear();
                c.last.extend_from_slice(&v.to_be_bytes()[..n]);
            }
            let (b, s) = after(&c.last, id);
            c.rising_bytes &= b;
            c.rising_short &= s;
        }
        // The bytes of the last id are kept only when the integer cannot stand for them.
        if key.is_none() || self.prev.is_none() {
            c.last.clear();
            c.last.extend_from_slice(id);
        }
        self.prev = key;
        if c.covered {
            self.put(fingerprint(id));
        }
    }

    /// Whether the ids of the current chunk still rise in at least one order.
    pub fn rising(&self) -> bool {
        self.chunk.rising_bytes || self.chunk.rising_short
    }

    /// Ends the chunk and returns what it saw.
    pub fn end(&mut self) -> ChunkIds {
        if let Some((v, n)) = self.prev {
            self.chunk.last.clear();
            self.chunk.last.extend_from_slice(&v.to_be_bytes()[..n]);
        }
        self.chunk.clone()
    }

    fn put(&mut self, fp: u64) {
        self.parts
            .put((fp >> 58) as usize % PARTS, &fp.to_le_bytes());
    }

    /// Writes what is buffered and hands over the fingerprint file.
    pub fn finish(&mut self) -> Result<PartFile> {
        self.parts.finish()
    }
}

/// Follows the chunks in file order: whether the ids still rise through the whole file.
#[derive(Debug)]
pub struct FileOrder {
    last: Option<Vec<u8>>,
    rising_bytes: bool,
    rising_short: bool,
    /// Chunks whose fingerprints were not written, in file order.
    pub uncovered: Vec<ChunkIds>,
}

impl Default for FileOrder {
    fn default() -> Self {
        FileOrder {
            last: None,
            rising_bytes: true,
            rising_short: true,
            uncovered: Vec::new(),
        }
    }
}

impl FileOrder {
    /// Takes the next chunk in file order; returns whether the ids still rise.
    pub fn push(&mut self, c: ChunkIds) -> bool {
        if let Some(first) = &c.first {
            if let Some(last) = &self.last {
                let (b, s) = after(last, first);
                self.rising_bytes &= b;
                self.rising_short &= s;
            }
            self.rising_bytes &= c.rising_bytes;
            self.rising_short &= c.rising_short;
            self.last = Some(c.last.clone());
        }
        if !c.covered && c.first.is_some() {
            self.uncovered.push(ChunkIds {
                first: None,
                last: Vec::new(),
                ..c
            });
        }
        self.rising()
    }

    pub fn rising(&self) -> bool {
        self.rising_bytes || self.rising_short
    }
}

/// Where the records are, to read them again.
pub struct Layout<'a> {
    pub path: &'a Path,
    /// Display name of the file for messages.
    pub name: &'a str,
    pub delimiter: u8,
    pub id_col: usize,
    pub id_header: &'a str,
    /// Byte offset and line of the first record after the header.
    pub data_start: u64,
    pub data_line: u64,
    /// Threads that sort the fingerprints.
    pub threads: usize,
}

/// Calls `f(line, id)` for every record of `data` (whole records, the first on `line`) that
/// has a non-empty id in column `col`, trimmed as pass 1 trims it.
pub fn for_each_id(
    data: &[u8],
    delimiter: u8,
    col: usize,
    line: u64,
    mut f: impl FnMut(u64, &[u8]),
) {
    let mut pos = 0;
    let mut line = line;
    let mut sc = Specials::new(data, delimiter);
    while pos < data.len() {
        let mut k = 0usize;
        let mut from = pos;
        let mut cell: Option<(usize, usize)> = None;
        let mut nl = None;
        let mut quoted = false;
        while let Some(i) = sc.next_pos() {
            match data[i] {
                b'\n' => {
                    nl = Some(i);
                    break;
                }
                b'"' => {
                    quoted = true;
                    break;
                }
                _ => {
                    if k == col {
                        cell = Some((from, i));
                    }
                    k += 1;
                    from = i + 1;
                }
            }
        }
        if quoted {
            let (cells, used) = split_record(&data[pos..], delimiter);
            let end = pos + used;
            let lines = memchr::memchr_iter(b'\n', &data[pos..end]).count().max(1) as u64;
            if let Some(id) = cells.get(col).filter(|c| !c.is_empty()) {
                f(line, id.as_bytes());
            }
            sc.seek(end);
            pos = end;
            line += lines;
            continue;
        }
        let end = nl.unwrap_or(data.len());
        if k == col {
            let mut to = end;
            if to > from && data[to - 1] == b'\r' {
                to -= 1;
            }
            cell = Some((from, to));
        }
        if let Some((a, b)) = cell {
            // SAFETY-free trim: the id is compared as bytes, trimmed like pass 1 (str::trim).
            let id = String::from_utf8_lossy(&data[a..b]);
            let id = id.trim();
            if !id.is_empty() {
                f(line, id.as_bytes());
            }
        }
        pos = nl.map_or(data.len(), |n| n + 1);
        line += 1;
    }
}

/// Reads `len` bytes at `offset` (whole records).
fn read_range(f: &mut File, path: &Path, offset: u64, len: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(len as usize);
    f.seek(SeekFrom::Start(offset))
        .map_err(|e| Error::io(path, "read the file", &e))?;
    f.take(len)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, "read the file", &e))?;
    Ok(buf)
}

/// Calls `f(line, id)` for every record of the file after the header, block by block.
fn for_each_id_in_file(l: &Layout, mut f: impl FnMut(u64, &[u8])) -> Result<()> {
    let mut file = File::open(l.path).map_err(|e| Error::io(l.path, "open the file", &e))?;
    file.seek(SeekFrom::Start(l.data_start))
        .map_err(|e| Error::io(l.path, "read the file", &e))?;
    let mut line = l.data_line;
    let mut carry: Vec<u8> = Vec::new();
    let mut eof = false;
    while !eof || !carry.is_empty() {
        let mut buf = std::mem::take(&mut carry);
        let want = buf.len() + BLOCK;
        while !eof && buf.len() < want {
            let n = (&mut file)
                .take((want - buf.len()) as u64)
                .read_to_end(&mut buf)
                .map_err(|e| Error::io(l.path, "read the file", &e))?;
            eof |= n == 0;
        }
        let cut = if eof {
            buf.len()
        } else {
            match super::record::last_boundary(&buf) {
                Some(c) => c,
                None => {
                    carry = buf;
                    continue;
                }
            }
        };
        carry = buf.split_off(cut);
        let lines = memchr::memchr_iter(b'\n', &buf).count() as u64;
        for_each_id(&buf, l.delimiter, l.id_col, line, &mut f);
        line += lines;
    }
    Ok(())
}

/// After pass 1, when the ids did not rise through the file: fingerprints the chunks that
/// were read before the order broke, finds repeated fingerprints and reports the ids that
/// really repeat, with every line of each.
pub fn check(l: &Layout, dir: &Path, writers: &[PartFile], uncovered: &[ChunkIds]) -> Result<()> {
    // 1. The chunks read before the order broke.
    let mut late = IdWatch::new(dir, "late".into());
    if !uncovered.is_empty() {
        let mut f = File::open(l.path).map_err(|e| Error::io(l.path, "open the file", &e))?;
        for c in uncovered {
            let data = read_range(&mut f, l.path, c.offset, c.len)?;
            for_each_id(&data, l.delimiter, l.id_col, c.line, |_, id| {
                late.put(fingerprint(id))
            });
        }
    }
    let late = late.finish()?;
    // 2. Repeated fingerprints, partition by partition.
    let mut files: Vec<&PartFile> = writers.iter().collect();
    files.push(&late);
    // Partitions are sorted on every core; each yields its repeated fingerprints.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let found: Vec<Result<Vec<u64>>> = std::thread::scope(|s| {
        let hands: Vec<_> = (0..l.threads)
            .map(|_| {
                s.spawn(|| -> Result<Vec<u64>> {
                    let mut rep = Vec::new();
                    let mut fps: Vec<u64> = Vec::new();
                    loop {
                        let part = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if part >= PARTS {
                            return Ok(rep);
                        }
                        fps.clear();
                        for f in &files {
                            let mut bytes = vec![0u8; f.len(part)];
                            f.read(part, &mut bytes)?;
                            fps.extend(
                                bytes
                                    .chunks_exact(8)
                                    .map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes"))),
                            );
                        }
                        fps.sort_unstable();
                        for w in fps.windows(2) {
                            if w[0] == w[1] && rep.last() != Some(&w[0]) {
                                rep.push(w[0]);
                            }
                        }
                    }
                })
            })
            .collect();
        hands
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::data("a worker thread failed")))
            })
            .collect()
    });
    let mut repeated: HashSet<u64> = HashSet::new();
    let mut repeated_total = 0usize;
    for r in found {
        for fp in r? {
            repeated_total += 1;
            // Enough to name the first ids in full; the rest are counted.
            if repeated.len() < 100_000 {
                repeated.insert(fp);
            }
        }
    }
    if repeated.is_empty() {
        return Ok(());
    }
    // 3. The ids and lines behind the repeated fingerprints.
    let mut seen: HashMap<Vec<u8>, Vec<u64>> = HashMap::new();
    for_each_id_in_file(l, |line, id| {
        if repeated.contains(&fingerprint(id)) {
            seen.entry(id.to_vec()).or_default().push(line);
        }
    })?;
    let mut dups: Vec<(Vec<u8>, Vec<u64>)> =
        seen.into_iter().filter(|(_, v)| v.len() > 1).collect();
    if dups.is_empty() {
        return Ok(());
    }
    dups.sort_by_key(|(_, v)| v[0]);
    let unlisted = repeated_total.saturating_sub(repeated.len());
    let mut problems = Problems::new();
    for (id, lines) in &dups {
        problems.push(duplicate_message(l, &String::from_utf8_lossy(id), lines));
    }
    problems.add_more(unlisted);
    problems.into_result(HINT)
}

const HINT: &str = "every service record needs its own id; remove duplicated rows or correct the ids, then run again";

fn duplicate_message(l: &Layout, id: &str, lines: &[u64]) -> String {
    let all: Vec<String> = lines.iter().map(u64::to_string).collect();
    format!(
        "{}:{}:{}: column {}: record id `{id}` occurs {} times, on lines {}",
        l.name,
        lines[0],
        l.id_col + 1,
        l.id_header,
        lines.len(),
        all.join(", ")
    )
}

/// The same check on a table read whole (xlsx, GBK, UTF-16): `(line, id)` of every record.
pub fn check_rows<'a>(l: &Layout, rows: impl Iterator<Item = (u64, &'a str)>) -> Result<()> {
    let mut seen: HashMap<&str, Vec<u64>> = HashMap::new();
    let mut order = Vec::new();
    for (line, id) in rows {
        if id.is_empty() {
            continue;
        }
        let e = seen.entry(id).or_default();
        if e.is_empty() {
            order.push(id);
        }
        e.push(line);
    }
    let mut problems = Problems::new();
    for id in order {
        if seen[id].len() > 1 {
            problems.push(duplicate_message(l, id, &seen[id]));
        }
    }
    problems.into_result(HINT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_bytewise_or_shortest_first() {
        assert_eq!(after(b"C01", b"C02"), (true, true));
        assert_eq!(after(b"9", b"10"), (false, true));
        assert_eq!(after(b"10", b"9"), (true, false));
        assert_eq!(after(b"A", b"A"), (false, false));
    }

    #[test]
    fn ids_are_found_as_pass_one_trims_them() {
        let data = b"a, x1 ,z\n\nb,\"y,2\",z\r\nc,x3\r\nd,\"multi\nline\",z\ne,,z\n";
        let mut got = Vec::new();
        for_each_id(data, b',', 1, 2, |line, id| {
            got.push((line, String::from_utf8(id.to_vec()).unwrap()))
        });
        assert_eq!(
            got,
            vec![
                (2, "x1".to_string()),
                (4, "y,2".to_string()),
                (5, "x3".to_string()),
                (6, "multi\nline".to_string()),
            ]
        );
    }

    #[test]
    fn fingerprints_depend_on_every_byte_and_the_length() {
        let a = fingerprint(b"C00000001");
        assert_ne!(a, fingerprint(b"C00000002"));
        assert_ne!(fingerprint(b"ab"), fingerprint(b"ab\0"));
        assert_eq!(a, fingerprint(b"C00000001"));
        let long = b"0123456789abcdefghij";
        assert_ne!(fingerprint(long), fingerprint(b"0123456789abcdefghiJ"));
    }

    #[test]
    fn repeated_fingerprints_of_different_ids_are_not_duplicates() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("r.csv");
        std::fs::write(
            &path,
            "id,x
A,1
B,2
C,3
B,4
",
        )
        .unwrap();
        let l = Layout {
            path: &path,
            name: "r.csv",
            delimiter: b',',
            id_col: 0,
            id_header: "id",
            data_start: 5,
            data_line: 2,
            threads: 2,
        };
        // A fingerprint written twice whose id is nowhere in the file: a collision, not an
        // error.
        let mut w = IdWatch::new(t.path(), "w0".into());
        w.put(fingerprint(b"Z"));
        w.put(fingerprint(b"Z"));
        let w0 = w.finish().unwrap();
        check(&l, t.path(), &[w0], &[]).unwrap();
        // The chunk read before the order broke is fingerprinted again and the real
        // duplicate is named with both lines.
        let whole = ChunkIds {
            offset: 5,
            len: 16,
            line: 2,
            ..ChunkIds::default()
        };
        let e = check(&l, t.path(), &[], &[whole]).unwrap_err();
        assert!(
            e.to_string()
                .contains("r.csv:3:1: column id: record id `B` occurs 2 times, on lines 3, 5"),
            "{e}"
        );
    }

    proptest::proptest! {
        /// The watch's order flags, first and last id are those of the sequence, for short
        /// ids (compared as integers) and long ones (compared as bytes) mixed.
        #[test]
        fn the_watch_sees_the_order_of_the_ids(
            ids in proptest::collection::vec("[0-9AB]{1,3}|[0-9AB]{14,17}", 1..40),
            mode in 0..5u8,
            at in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            // Mostly rising sequences (in either order), sometimes with one id repeated or
            // two swapped, so that each flag is seen both ways.
            let mut ids = ids;
            match mode {
                0 => {}
                1 => ids.sort(),
                2 => ids.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b))),
                3 => {
                    ids.sort();
                    let i = at.index(ids.len());
                    ids.insert(i, ids[i].clone());
                }
                _ => {
                    ids.sort_by(|a, b| (a.len(), a).cmp(&(b.len(), b)));
                    let i = at.index(ids.len());
                    if i + 1 < ids.len() {
                        ids.swap(i, i + 1);
                    }
                }
            }
            let dir = tempfile::tempdir().unwrap();
            let mut w = IdWatch::new(dir.path(), "t".to_string());
            w.begin(0, 0, 1, false);
            for id in &ids {
                w.see(id.as_bytes());
            }
            let got = w.end();
            let pairs: Vec<(bool, bool)> =
                ids.windows(2).map(|p| after(p[0].as_bytes(), p[1].as_bytes())).collect();
            proptest::prop_assert_eq!(got.rising_bytes, pairs.iter().all(|p| p.0));
            proptest::prop_assert_eq!(got.rising_short, pairs.iter().all(|p| p.1));
            proptest::prop_assert_eq!(got.first.as_deref(), Some(ids[0].as_bytes()));
            proptest::prop_assert_eq!(&got.last[..], ids[ids.len() - 1].as_bytes());
        }
    }
}
