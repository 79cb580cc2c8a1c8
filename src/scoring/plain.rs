//! The importer's fast path for what survey platforms mostly export: a plain UTF-8 CSV, with
//! no quote, no NUL byte and no carriage return except before a line feed. Such a file is a
//! line per record and a delimiter between cells, so it is cut into pieces at lines where the
//! respondent changes and every core reads pieces, each into its own [`Importer`] with the
//! same per-row code ([`Sink::row`]) as the general reader. The pieces are joined in file
//! order.
//!
//! The result is the general reader's, exactly: whenever a piece meets what needs the view of
//! the whole file (a respondent in two pieces or in an earlier file, the rows of a
//! questionnaire scattered, a row the general reader reports as an error), [`read`] answers
//! `None` and the general reader reads the file again, errors and all. The tests compare both
//! readers on random files.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use encoding_rs::{Encoding, UTF_8};

use super::responses::{Importer, Input, Responses, Sink, Slots, WideCol};
use crate::io::limits::{MAX_COLUMNS, MAX_FIELD};
use crate::io::table::{self, ReadOptions};

/// Pieces smaller than this are not worth a thread.
const MIN_PIECE: usize = 256 << 10;

/// What one piece read (its answers are in its slots of the final vectors).
struct Piece {
    out: Responses,
    /// Answers written into its slots.
    written: usize,
    item_last: Vec<u32>,
    last_run: Vec<u32>,
    run: u32,
    current: u32,
    rows: u64,
    blank_rows: u64,
    answers: u64,
    not_shown: u64,
}

/// Reads `bytes` (the file at `path`, input number `file`) into `imp` when it is a plain
/// UTF-8 CSV that the pieces can read exactly; `None` (with `imp` untouched) otherwise. The
/// returned [`Input`] lacks its SHA-256.
pub(super) fn read(
    imp: &mut Importer<'_>,
    path: &Path,
    name: &str,
    file: u32,
    bytes: &[u8],
    opts: &ReadOptions,
) -> Option<Input> {
    read_in_pieces(imp, path, name, file, bytes, opts, MIN_PIECE)
}

/// [`read`] with pieces of at least `min_piece` bytes (the tests cut small files).
fn read_in_pieces(
    imp: &mut Importer<'_>,
    path: &Path,
    name: &str,
    file: u32,
    bytes: &[u8],
    opts: &ReadOptions,
    min_piece: usize,
) -> Option<Input> {
    if imp.scattered {
        return None;
    }
    // UTF-8 as the general reader decides it: no label or a UTF-8 one, no other BOM.
    if let Some(l) = &opts.encoding
        && Encoding::for_label(l.trim().as_bytes()) != Some(UTF_8)
    {
        return None;
    }
    let body = match Encoding::for_bom(bytes) {
        Some((e, n)) if e == UTF_8 => &bytes[n..],
        Some(_) => return None,
        None => bytes,
    };
    let text = simdutf8::basic::from_utf8(body).ok()?;
    if text.starts_with('\u{feff}') || memchr::memchr2(b'"', 0, body).is_some() {
        return None;
    }
    let delim = table::sniff_delimiter(text);
    let d = char::from(delim);

    // The header: the first line that is not blank.
    let mut input = Input::new(path, name, String::new(), UTF_8.name().to_string());
    let mut at = 0usize;
    let mut fields: Vec<&str> = Vec::new();
    let step = next_row(text, &mut at, true, delim, &mut fields)?;
    let newlines = step.lines;
    if !step.row {
        return None;
    }
    let mut header = table::clean_header(fields.iter().map(|f| f.to_string()).collect());
    while header.last().is_some_and(|h| h.is_empty()) {
        header.pop();
    }
    let sink = imp.sink(name, file, &header, &mut input).ok()?;
    // `newlines` counts the header's line feed even when the file ends without one; the
    // pieces start after it, so it is the line before the first piece.
    let starts = cut(text, at, &sink, d, min_piece);
    let ends: Vec<usize> = starts[1..].iter().copied().chain([text.len()]).collect();
    let feeds: Vec<u64> = (0..starts.len())
        .map(|k| memchr::memchr_iter(b'\n', &body[starts[k]..ends[k]]).count() as u64)
        .collect();
    let bases: Vec<u64> = feeds
        .iter()
        .scan(newlines, |b, &f| {
            let here = *b;
            *b += f;
            Some(here)
        })
        .collect();
    // Room for every piece's answers in the final vectors: a long file has one per line, a
    // wide one one per item column at most. Pages are touched only where answers are
    // written.
    let per_line = if sink.wide.is_empty() {
        1
    } else {
        sink.wide
            .iter()
            .filter(|w| matches!(w, WideCol::Item(_)))
            .count()
    };
    // A cell needs a byte and a separator, which bounds a wide piece's answers by its length.
    let room: Vec<usize> = feeds
        .iter()
        .zip(starts.iter().zip(&ends))
        .map(|(&f, (&a, &b))| ((f as usize + 1).saturating_mul(per_line)).min((b - a) / 2 + 1))
        .collect();
    let old = imp.out.resp.len();
    let total = old.checked_add(room.iter().sum())?;
    if total > u32::MAX as usize {
        return None;
    }
    let mut all = Responses {
        resp: zeroed(&imp.out.resp, total),
        item: zeroed(&imp.out.item, total),
        value: zeroed(&imp.out.value, total),
        y: zeroed(&imp.out.y, total),
        line: zeroed(&imp.out.line, total),
        file: zeroed(&imp.out.file, total),
        ..Responses::default()
    };
    let slots: Vec<Mutex<Option<Slots<'_>>>> = slots(&mut all, old, &room)
        .into_iter()
        .map(|s| Mutex::new(Some(s)))
        .collect();
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(starts.len());
    let next = AtomicUsize::new(0);
    let scheme = imp.scheme;
    let names = &imp.names;
    let mut pieces: Vec<Option<Piece>> = std::thread::scope(|s| {
        let work = || {
            let mut mine = Vec::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= starts.len() {
                    break mine;
                }
                let mut local = Importer::new(scheme);
                local.names = names.clone();
                local.slots = slots[k].lock().ok().and_then(|mut s| s.take());
                let piece = read_piece(
                    &mut local,
                    sink.clone(),
                    &text[starts[k]..ends[k]],
                    bases[k],
                    delim,
                );
                mine.push((k, piece));
            }
        };
        let handles: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut mine: Vec<(usize, Option<Piece>)> = work();
        for h in handles {
            mine.extend(h.join().expect("reading a piece does not panic"));
        }
        mine.sort_by_key(|(k, _)| *k);
        mine.into_iter().map(|(_, p)| p).collect()
    });
    drop(slots);
    if pieces.iter().any(Option::is_none) {
        return None;
    }
    let pieces: Vec<Piece> = pieces.drain(..).map(Option::unwrap).collect();
    join(imp, pieces, all, old, &room, &mut input)?;
    Some(input)
}

/// `head` followed by zeros up to `len`: the zeros come from the allocator untouched, so
/// their pages cost nothing until a piece writes there.
fn zeroed<T: Copy + Default>(head: &[T], len: usize) -> Vec<T> {
    let mut v = vec![T::default(); len];
    v[..head.len()].copy_from_slice(head);
    v
}

/// Every piece's slots: `room[k]` answers of `all` after the first `old`.
fn slots<'a>(all: &'a mut Responses, old: usize, room: &[usize]) -> Vec<Slots<'a>> {
    fn parts<'a, T>(mut v: &'a mut [T], old: usize, room: &[usize]) -> Vec<&'a mut [T]> {
        v = &mut v[old..];
        let mut out = Vec::with_capacity(room.len());
        for &r in room {
            let (here, rest) = v.split_at_mut(r);
            out.push(here);
            v = rest;
        }
        out
    }
    let mut resp = parts(&mut all.resp, old, room).into_iter();
    let mut item = parts(&mut all.item, old, room).into_iter();
    let mut value = parts(&mut all.value, old, room).into_iter();
    let mut y = parts(&mut all.y, old, room).into_iter();
    let mut line = parts(&mut all.line, old, room).into_iter();
    let mut file = parts(&mut all.file, old, room).into_iter();
    room.iter()
        .filter_map(|_| {
            Some(Slots {
                resp: resp.next()?,
                item: item.next()?,
                value: value.next()?,
                y: y.next()?,
                line: line.next()?,
                file: file.next()?,
                n: 0,
                overflow: false,
            })
        })
        .collect()
}

/// The line starting at `at` without its terminator, and where the next one starts; `None`
/// when it holds a carriage return that is not the one before its line feed (the CSV reader
/// ends a record there too). `cr`: whether to look for one (a piece without any skips it).
#[inline]
fn line_in(text: &str, at: usize, cr: bool) -> Option<(&str, usize)> {
    let end = memchr::memchr(b'\n', &text.as_bytes()[at..]).map_or(text.len(), |i| at + i);
    let mut l = &text[at..end];
    if cr {
        l = l.strip_suffix('\r').unwrap_or(l);
        if memchr::memchr(b'\r', l.as_bytes()).is_some() {
            return None;
        }
    }
    Some((l, (end + 1).min(text.len())))
}

/// The cells of line `l` into `out`: what `l.split(d)` gives, without its searcher (a line
/// is short, and a plain loop is several times faster there).
#[inline]
fn split_into<'a>(l: &'a str, d: u8, out: &mut Vec<&'a str>) {
    out.clear();
    let mut from = 0;
    for (i, &c) in l.as_bytes().iter().enumerate() {
        if c == d {
            out.push(&l[from..i]);
            from = i + 1;
        }
    }
    out.push(&l[from..]);
}

/// What [`next_row`] read: `lines` lines (the row's included), `blank` of them rows of
/// empty cells; `row`: whether it stopped at a row (its cells are in `fields`) rather than
/// at the end of the text.
struct Step {
    lines: u64,
    blank: u64,
    row: bool,
}

/// Reads the lines of `text` from `*at` up to the next one that has a non-blank cell,
/// splitting it into `fields`; `None` when the general reader is needed (a stray carriage
/// return, a record it refuses).
#[inline]
fn next_row<'a>(
    text: &'a str,
    at: &mut usize,
    cr: bool,
    delim: u8,
    fields: &mut Vec<&'a str>,
) -> Option<Step> {
    let mut step = Step {
        lines: 0,
        blank: 0,
        row: false,
    };
    while *at < text.len() {
        let (l, next) = line_in(text, *at, cr)?;
        *at = next;
        step.lines += 1;
        if l.is_empty() {
            continue;
        }
        split_into(l, delim, fields);
        if too_big(l, fields) {
            return None;
        }
        if blank(fields) {
            step.blank += 1;
            continue;
        }
        step.row = true;
        break;
    }
    Some(step)
}

/// A record the general reader refuses outright (too many columns, a cell over 1 MiB).
fn too_big(l: &str, fields: &[&str]) -> bool {
    fields.len() > MAX_COLUMNS
        || (l.len() > MAX_FIELD && fields.iter().any(|f| f.len() > MAX_FIELD))
}

/// A row of empty or white-space cells (`,,,`), counted and skipped.
fn blank(fields: &[&str]) -> bool {
    fields
        .iter()
        .all(|f| f.bytes().all(|b| b.is_ascii_whitespace()))
}

/// Where the pieces start: `at` and then about every `len / pieces` bytes, moved on to the
/// start of a line whose respondent differs from the line before.
fn cut(text: &str, at: usize, sink: &Sink, d: char, min_piece: usize) -> Vec<usize> {
    let len = text.len() - at;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let want = (threads * 4).min(len / min_piece).max(1);
    let mut starts = vec![at];
    let rid = |l: &str| {
        l.split(d)
            .nth(sink.respondent)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let bytes = text.as_bytes();
    for k in 1..want {
        let target = at + len / want * k;
        let Some(i) = memchr::memchr(b'\n', &bytes[target..]) else {
            break;
        };
        let mut s = target + i + 1;
        let prev_start = memchr::memrchr(b'\n', &bytes[..target + i]).map_or(0, |j| j + 1);
        let mut prev = rid(&text[prev_start..target + i]);
        // A questionnaire has some hundred rows at most; give up on this cut after that many.
        for _ in 0..10_000 {
            if s >= text.len() {
                break;
            }
            let end = memchr::memchr(b'\n', &bytes[s..]).map_or(text.len(), |j| s + j);
            let here = rid(&text[s..end]);
            if here != prev {
                break;
            }
            prev = here;
            s = end + 1;
        }
        if s < text.len() && s > *starts.last().expect("starts holds `at`") {
            starts.push(s);
        }
    }
    starts
}

/// Reads one piece (whole lines; `base` line feeds before it) into `imp`; `None` when the
/// general reader is needed.
fn read_piece(
    imp: &mut Importer<'_>,
    mut sink: Sink,
    piece: &str,
    base: u64,
    delim: u8,
) -> Option<Piece> {
    sink.answers = 0;
    sink.not_shown = 0;
    let want = sink.width;
    let mut fields: Vec<&str> = Vec::with_capacity(want + 1);
    let (mut at, mut line) = (0usize, base);
    let (mut rows, mut blank_rows) = (0u64, 0u64);
    let cr = memchr::memchr(b'\r', piece.as_bytes()).is_some();
    loop {
        let step = next_row(piece, &mut at, cr, delim, &mut fields)?;
        line += step.lines;
        blank_rows += step.blank;
        if !step.row {
            break;
        }
        rows += 1;
        let n = fields.len();
        if n != want && !(n > want && fields[want..].iter().all(|f| f.is_empty())) {
            return None;
        }
        sink.row(imp, line, &fields[..]);
    }
    let slots = imp.slots.take()?;
    if imp.scattered || slots.overflow {
        return None;
    }
    Some(Piece {
        out: std::mem::take(&mut imp.out),
        written: slots.n,
        item_last: std::mem::take(&mut imp.item_last),
        last_run: std::mem::take(&mut imp.last_run),
        run: imp.run,
        current: imp.current,
        rows,
        blank_rows,
        answers: sink.answers,
        not_shown: sink.not_shown,
    })
}

/// Joins the pieces into `imp` as if it had read them one after the other; `None` (with
/// `imp` untouched) when a respondent is in two pieces or was met in an earlier file.
/// `all` holds `imp`'s first `old` answers and then every piece's slots, `room[k]` long.
fn join(
    imp: &mut Importer<'_>,
    mut pieces: Vec<Piece>,
    mut all: Responses,
    old: usize,
    room: &[usize],
    input: &mut Input,
) -> Option<()> {
    let mut seen = foldhash::HashSet::default();
    for p in &pieces {
        for r in &p.out.respondents {
            if imp.resp_index.contains_key(&r.id) || !seen.insert(r.id.as_str()) {
                return None;
            }
        }
    }
    drop(seen);
    // The answers: each piece's moved down behind the one before (a piece leaves a gap only
    // when some of its lines are not answers), its respondents numbered on.
    let (mut from, mut to) = (old, old);
    for (p, &r) in pieces.iter().zip(room) {
        if from != to {
            let span = from..from + p.written;
            all.resp.copy_within(span.clone(), to);
            all.item.copy_within(span.clone(), to);
            all.value.copy_within(span.clone(), to);
            all.y.copy_within(span.clone(), to);
            all.line.copy_within(span.clone(), to);
            all.file.copy_within(span, to);
        }
        to += p.written;
        from += r;
    }
    let mut at = old;
    for p in &mut pieces {
        let offset = imp.out.respondents.len() as u32;
        if offset > 0 {
            for x in &mut all.resp[at..at + p.written] {
                *x += offset;
            }
        }
        at += p.written;
        let run0 = imp.run;
        for (j, r) in p.out.respondents.iter().enumerate() {
            imp.resp_index.insert(r.id.clone(), offset + j as u32);
        }
        imp.out.respondents.append(&mut p.out.respondents);
        imp.last_run.extend(p.last_run.iter().map(|&r| run0 + r));
        imp.run += p.run;
        if p.current != u32::MAX {
            imp.current = offset + p.current;
        }
        for (g, &l) in imp.item_last.iter_mut().zip(&p.item_last) {
            if l != 0 {
                *g = offset + l;
            }
        }
        imp.out.rejected.append(&mut p.out.rejected);
        input.rows += p.rows;
        input.blank_rows += p.blank_rows;
        input.answers += p.answers;
        input.not_shown += p.not_shown;
    }
    for v in [&mut all.resp, &mut all.item, &mut all.file] {
        v.truncate(to);
    }
    for v in [&mut all.value, &mut all.y] {
        v.truncate(to);
    }
    all.line.truncate(to);
    let o = &mut imp.out;
    o.resp = all.resp;
    o.item = all.item;
    o.value = all.value;
    o.y = all.y;
    o.line = all.line;
    o.file = all.file;
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::scheme::{GBT27922, Scheme};
    use proptest::prelude::*;

    /// A small deterministic generator (splitmix64) for the random files.
    struct Gen(u64);
    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[(self.next() % xs.len() as u64) as usize]
        }
        fn one_in(&mut self, n: u64) -> bool {
            self.next().is_multiple_of(n)
        }
    }

    /// A long results file with what exports hold: questionnaires mostly together, now and
    /// then scattered or repeated; unknown, review and cross-source items; answers out of
    /// range; conflicting outlets; blank lines and rows; CRLF; rarely a quote, a lone CR or a
    /// row with too many fields (which need the general reader).
    fn long_file(g: &mut Gen, rare: u64) -> Vec<u8> {
        let codes = [
            "CS_OVERALL",
            "CS_WARRANTY",
            "CS_COMPLAINT",
            "MV_STAFF",
            "MV_FACILITY",
            "QX",
            "RV_POLICY",
            "CS_OVERALL",
        ];
        let answers = [
            "5",
            "4",
            "3",
            "1",
            "0",
            "是",
            "否",
            "n/a",
            "9",
            "x",
            "",
            " 2 ",
            "很满意",
        ];
        let crlf = g.one_in(3);
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut s = String::new();
        if g.one_in(4) {
            s.push_str(nl);
        }
        s.push_str(g.pick(&[
            "respondent,outlet,question,answer",
            "response_id,outlet_id,question_code,score,note",
        ]));
        let extra = s.ends_with("note");
        s.push_str(nl);
        let people = 1 + g.next() % 40;
        let mut r = 0u64;
        for _ in 0..people {
            if !g.one_in(6) {
                r += 1;
            }
            let outlet = format!("O{}", g.next() % 5);
            for _ in 0..(g.next() % 6) {
                if g.one_in(rare) {
                    s.push_str(g.pick(&[
                        "\"R9\",O1,CS_OVERALL,5",
                        "R1,O1,CS_OVERALL,5,x,y",
                        "R2\rO1",
                        "a,b",
                    ]));
                    s.push_str(nl);
                }
                if g.one_in(15) {
                    s.push_str(g.pick(&["", ",,,", "  ", ",,,,"]));
                    s.push_str(nl);
                    continue;
                }
                let id = if g.one_in(20) {
                    String::new()
                } else {
                    format!("R{r}")
                };
                let o = if g.one_in(25) {
                    "O9".to_string()
                } else {
                    outlet.clone()
                };
                s.push_str(&format!("{id},{o},{},{}", g.pick(&codes), g.pick(&answers)));
                if extra {
                    s.push_str(g.pick(&[",", ",n", ""]));
                }
                s.push_str(nl);
            }
        }
        if g.one_in(3) {
            s.truncate(s.trim_end().len());
        }
        s.into_bytes()
    }

    /// A wide export: a row per questionnaire, a column per item (some not in the scheme,
    /// some KoboToolbox group paths), empty cells for questions not shown.
    fn wide_file(g: &mut Gen, rare: u64) -> Vec<u8> {
        let cols = [
            "CS_OVERALL",
            "grp/CS_WARRANTY",
            "MV_STAFF",
            "QX",
            "CS_COMPLAINT",
        ];
        let answers = ["5", "4", "", "", "1", "是", "n/a", "9", "很满意"];
        let mut s = String::from("id,outlet_id,submitdate");
        for c in cols {
            s.push(',');
            s.push_str(c);
        }
        s.push('\n');
        for r in 0..(g.next() % 60) {
            if g.one_in(rare) {
                s.push_str(g.pick(&["\"1\",O1", "1,2,3", ",,,,,,,,,,"]));
                s.push('\n');
            }
            let id = if g.one_in(12) { r / 2 } else { r };
            s.push_str(&format!(
                "{id},O{},2026-12-0{}",
                g.next() % 4,
                1 + g.next() % 9
            ));
            for _ in cols {
                s.push(',');
                s.push_str(g.pick(&answers));
            }
            s.push('\n');
        }
        s.into_bytes()
    }

    /// Reads `files` twice, once through the pieces (cut every 16 bytes) falling back to the
    /// general reader, once through the general reader alone, and compares everything.
    /// Returns how many files the pieces read.
    fn same(files: &[Vec<u8>]) -> usize {
        let s = Scheme::parse("gbt27922", GBT27922).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let opts = ReadOptions::default();
        let (mut a, mut b) = (Importer::new(&s), Importer::new(&s));
        let mut fast = 0;
        for (k, f) in files.iter().enumerate() {
            let path = dir.path().join(format!("r{k}.csv"));
            std::fs::write(&path, f).unwrap();
            let name = table::display_name(&path);
            a.names.push(name.clone());
            let ra = match read_in_pieces(&mut a, &path, &name, k as u32, f, &opts, 16) {
                Some(input) => {
                    fast += 1;
                    a.out.inputs.push(Input {
                        sha256: crate::seed::sha256_hex(f),
                        ..input
                    });
                    Ok(())
                }
                None => a.read_csv(
                    &path,
                    name.clone(),
                    k as u32,
                    f,
                    crate::seed::sha256_hex(f),
                    &opts,
                ),
            };
            b.names.push(name.clone());
            let rb = b.read_csv(&path, name, k as u32, f, crate::seed::sha256_hex(f), &opts);
            assert_eq!(
                ra.as_ref().map_err(ToString::to_string),
                rb.as_ref().map_err(ToString::to_string)
            );
            if rb.is_err() {
                return fast;
            }
            assert_eq!(a.run, b.run);
            assert_eq!(a.current, b.current);
            assert_eq!(a.last_run, b.last_run);
            assert_eq!(a.item_last, b.item_last);
        }
        assert_eq!(format!("{:?}", a.finish()), format!("{:?}", b.finish()));
        fast
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// The pieces give the general reader's result on every file, one or several.
        #[test]
        fn pieces_read_what_the_general_reader_reads(seed in any::<u64>(), files in 1usize..4, rare in 5u64..200) {
            let mut g = Gen(seed);
            let files: Vec<Vec<u8>> = (0..files)
                .map(|_| if g.one_in(3) { wide_file(&mut g, rare) } else { long_file(&mut g, rare) })
                .collect();
            same(&files);
        }
    }

    /// The pieces are not always turned down: a clean export of many questionnaires is cut
    /// into several pieces and read by them, and a respondent met again in a second file
    /// sends that file to the general reader.
    #[test]
    fn clean_exports_are_read_in_pieces() {
        let mut text = String::from("response_id,outlet_id,question_code,score\n");
        for r in 0..200 {
            for q in ["CS_OVERALL", "CS_WARRANTY", "QX", "CS_OVERALL"] {
                text.push_str(&format!("R{r},O{},{q},{}\n", r % 7, r % 6));
            }
        }
        let s = Scheme::parse("gbt27922", GBT27922).unwrap();
        let imp = Importer::new(&s);
        let sink = imp
            .sink(
                "r.csv",
                0,
                &["response_id", "outlet_id", "question_code", "score"].map(String::from),
                &mut Input::new(Path::new("r.csv"), "r.csv", String::new(), String::new()),
            )
            .unwrap();
        let at = text.find('\n').unwrap() + 1;
        let starts = cut(&text, at, &sink, ',', 16);
        assert!(starts.len() > 1, "{starts:?}");
        for &k in &starts[1..] {
            // Every cut is at a change of respondent.
            let before = text[..k - 1]
                .rsplit('\n')
                .next()
                .unwrap()
                .split(',')
                .next()
                .unwrap();
            let after = text[k..].split(',').next().unwrap();
            assert_ne!(before, after);
        }
        assert_eq!(same(&[text.clone().into_bytes()]), 1);
        assert_eq!(same(&[text.clone().into_bytes(), text.into_bytes()]), 1);
        // A wide export too, with questions not shown.
        let mut wide = String::from("id,outlet_id,CS_OVERALL,QX,CS_WARRANTY\n");
        for r in 0..300 {
            wide.push_str(&format!(
                "W{r},O{},{},x,{}\n",
                r % 5,
                r % 6,
                ["", "是"][r % 2]
            ));
        }
        assert_eq!(same(&[wide.into_bytes()]), 1);
    }
}
