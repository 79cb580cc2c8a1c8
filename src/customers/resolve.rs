//! Pass 2: from spilled service records to people, their outlet, and each outlet's
//! smallest lottery numbers.
//!
//! Each hash partition holds every record of its people, so partitions are resolved one at
//! a time (each thread takes the next partition when it is done with one). A partition's
//! spill files are read straight into records, which are scattered into 256 buckets by the
//! next bits of the person hash (a counting sort); each bucket, a few hundred records that
//! fit in the L1 cache, is grouped by person with a small open-addressing hash table. For
//! each person the record of their most recent service in the window wins (ties: the
//! smaller outlet id, then the earlier record in the file); that outlet owns the person and
//! the record represents them. The result depends only on the set of records, never on
//! their order in the file or in the spill, nor on which thread resolved which partition.
//! People of wanted outlets get their lottery number (prn-v1, domain `customer`, the person
//! key as id), a few thousand at a time while they are in cache, and enter that outlet's
//! bounded heap, which keeps the `cap` smallest by (number, encoded id). Memory: one
//! partition per thread plus the heaps.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::path::Path;

use super::parts::PartFile;
use super::scan::{PARTS, RECORD_COMPACT, Spill, decode_compact, id_hash, nibbles_to_id};
use crate::error::{Error, Result};
use crate::prn::{Prn, PrnBatch};

/// A person who belongs to an outlet, as represented by one service record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub prn: Prn,
    /// The person key, encoded as in prn-v1.
    pub id: [u8; 16],
    /// Global outlet index of the owner outlet.
    pub outlet: u32,
    /// Where the representing record is (byte offset, or row index for tables).
    pub offset: u64,
    /// Days since 1970-01-01 of the representing service.
    pub date: i32,
    /// How many distinct outlets served this person in the window.
    pub outlets_seen: u32,
}

impl Ord for Person {
    fn cmp(&self, o: &Self) -> Ordering {
        self.prn.cmp(&o.prn).then(self.id.cmp(&o.id))
    }
}

impl PartialOrd for Person {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// People per outlet and the candidates of the wanted outlets.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Distinct eligible people.
    pub persons: u64,
    /// People served at two or more outlets in the window.
    pub multi_outlet: u64,
    /// Per global outlet: the people who belong to it (N of the outlet).
    pub owned: Vec<u64>,
    /// Per global outlet: of those, how many were also served elsewhere.
    pub owned_multi: Vec<u64>,
    /// Per global outlet: up to `cap` people with the smallest numbers, ascending.
    pub candidates: Vec<Vec<Person>>,
}

/// A spilled record as it lies in a spill file ([`super::scan`]'s narrow and wide records:
/// the person key, then the byte offset, the date and the worker's outlet index, all
/// little-endian, no padding), so a file is read straight into a vector of them.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
struct Rec<K> {
    key: K,
    offset: u64,
    date: i32,
    outlet: u32,
}

// The layouts have no padding, so every byte of a record is a field's.
const _: () = assert!(std::mem::size_of::<Rec<u64>>() == super::scan::RECORD_NARROW);
const _: () = assert!(std::mem::size_of::<Rec<u128>>() == super::scan::RECORD_WIDE);
// A compact record is read as two words.
const _: () = assert!(std::mem::size_of::<[u64; 2]>() == RECORD_COMPACT);
// SAFETY: `repr(C)`, integer fields only (every bit pattern is a value), no padding (sizes
// asserted above), `Copy` and `'static`.
unsafe impl bytemuck::Zeroable for Rec<u64> {}
unsafe impl bytemuck::Pod for Rec<u64> {}
// SAFETY: as above.
unsafe impl bytemuck::Zeroable for Rec<u128> {}
unsafe impl bytemuck::Pod for Rec<u128> {}

/// A person key as spilled: phone digits as nibbles (`u64`, narrow records) or the prn-v1
/// encoded id (`u128`, wide records).
trait Key: Copy + Eq + Default + Send + 'static
where
    Rec<Self>: bytemuck::Pod,
{
    /// A 64-bit mix: bits 58..64 chose the partition in pass 1 ([`super::scan`]), bits
    /// 50..58 choose the bucket, the bits from 20 the slot of the bucket's table.
    fn mix(self) -> u64;
    /// The prn-v1 encoded id, as a little-endian integer.
    fn id(self) -> u128;
    /// The key as read from the little-endian file.
    fn le_to_native(self) -> Self;
    /// The key of phone digits given as nibbles (compact records).
    fn from_nibbles(nibbles: u64) -> Self;
}

impl Key for u64 {
    #[inline]
    fn mix(self) -> u64 {
        super::scan::mix_narrow(self)
    }
    #[inline]
    fn id(self) -> u128 {
        nibbles_to_id(self)
    }
    #[inline]
    fn le_to_native(self) -> Self {
        u64::from_le(self)
    }
    #[inline]
    fn from_nibbles(nibbles: u64) -> Self {
        nibbles
    }
}

impl Key for u128 {
    #[inline]
    fn mix(self) -> u64 {
        id_hash(self)
    }
    #[inline]
    fn id(self) -> u128 {
        self
    }
    #[inline]
    fn le_to_native(self) -> Self {
        u128::from_le(self)
    }
    #[inline]
    fn from_nibbles(nibbles: u64) -> Self {
        nibbles_to_id(nibbles)
    }
}

/// Resolves every partition. `wanted[g]` says whether outlet `g`'s people are candidates;
/// `cap[g]` how many of the smallest to keep.
pub fn resolve(
    spill: &Spill,
    n_outlets: usize,
    wanted: &[bool],
    cap: &[u64],
    prn_gen: &PrnBatch,
    threads: usize,
) -> Result<Resolved> {
    if spill.narrow {
        resolve_as::<u64>(spill, n_outlets, wanted, cap, prn_gen, threads)
    } else {
        resolve_as::<u128>(spill, n_outlets, wanted, cap, prn_gen, threads)
    }
}

fn resolve_as<K: Key>(
    spill: &Spill,
    n_outlets: usize,
    wanted: &[bool],
    cap: &[u64],
    prn_gen: &PrnBatch,
    threads: usize,
) -> Result<Resolved>
where
    Rec<K>: bytemuck::Pod,
{
    // Threads take the next partition as they finish one, so they end together; the result
    // does not depend on who resolved which.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let parts: Vec<Result<Resolved>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                let next = &next;
                s.spawn(move || {
                    let mut st = State::<K>::new(n_outlets);
                    loop {
                        let p = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if p >= PARTS {
                            break;
                        }
                        st.partition(spill, p, wanted, cap, prn_gen)?;
                    }
                    Ok(st.into_resolved())
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::data("a resolver thread failed")))
            })
            .collect()
    });
    let mut out = Resolved {
        owned: vec![0; n_outlets],
        owned_multi: vec![0; n_outlets],
        candidates: vec![Vec::new(); n_outlets],
        ..Default::default()
    };
    for r in parts {
        let r = r?;
        out.persons += r.persons;
        out.multi_outlet += r.multi_outlet;
        for g in 0..n_outlets {
            out.owned[g] += r.owned[g];
            out.owned_multi[g] += r.owned_multi[g];
            out.candidates[g].extend(r.candidates[g].iter().cloned());
        }
    }
    for (g, c) in out.candidates.iter_mut().enumerate() {
        c.sort();
        c.truncate(cap.get(g).copied().unwrap_or(0) as usize);
    }
    Ok(out)
}

/// Reads partition `part` of the spill file `f` into `buf[from..]` (grown as needed) and
/// returns how many records it holds.
fn read_spill<T: bytemuck::Pod + Default>(
    f: &PartFile,
    part: usize,
    buf: &mut Vec<T>,
    from: usize,
) -> Result<usize> {
    let len = f.len(part);
    let size = std::mem::size_of::<T>();
    if !len.is_multiple_of(size) {
        return Err(damaged(f.path()));
    }
    let n = len / size;
    room(buf, from + n);
    f.read(part, bytemuck::cast_slice_mut(&mut buf[from..from + n]))?;
    Ok(n)
}

/// Makes `v` at least `len` long; what is already there is kept (and overwritten by the
/// caller), so reused buffers are not zeroed again.
fn room<T: Clone + Default>(v: &mut Vec<T>, len: usize) {
    if v.len() < len {
        v.resize(len, T::default());
    }
}

/// Notes the bucket of a record of the partition: bits 50..58 of its key's mix (bits 58..64
/// chose the partition).
#[inline]
fn book<K: Key>(buckets: &mut Vec<u8>, starts: &mut [usize; BUCKETS + 1], key: K)
where
    Rec<K>: bytemuck::Pod,
{
    let b = (key.mix() >> 50) as u8;
    buckets.push(b);
    starts[b as usize + 1] += 1;
}

fn damaged(path: &Path) -> Error {
    Error::data(format!("{}: a temporary file is damaged", path.display()))
}

/// Buckets per partition in pass 2.
const BUCKETS: usize = 256;

/// One person within a bucket.
struct Group {
    /// Index of the representing record.
    rep: u32,
    /// The outlet of the person's first record met, to notice a second outlet.
    first_outlet: u32,
    /// Whether a record of another outlet was met.
    multi: bool,
}

struct State<K> {
    persons: u64,
    multi: u64,
    owned: Vec<u64>,
    owned_multi: Vec<u64>,
    heaps: Vec<BinaryHeap<Person>>,
    /// Per outlet: the largest number in its heap once the heap is full, else `u64::MAX`.
    bar: Vec<u64>,
    recs: Vec<Rec<K>>,
    /// A compact spill file's words, before decoding.
    compact: Vec<[u64; 2]>,
    scattered: Vec<Rec<K>>,
    buckets: Vec<u8>,
    table: Vec<u32>,
    groups: Vec<Group>,
    rec_group: Vec<u32>,
    pairs: Vec<(u32, u32)>,
    /// People of wanted outlets in this partition: (index of the representing record in
    /// `scattered`, distinct outlets seen, owner outlet); `ids[i]` is the encoded id of
    /// `pending[i]`.
    pending: Vec<(u32, u32, u32)>,
    ids: Vec<[u8; 16]>,
    prns: Vec<Prn>,
}

impl<K: Key> State<K>
where
    Rec<K>: bytemuck::Pod,
{
    fn new(n: usize) -> State<K> {
        State {
            persons: 0,
            multi: 0,
            owned: vec![0; n],
            owned_multi: vec![0; n],
            heaps: (0..n).map(|_| BinaryHeap::new()).collect(),
            bar: vec![u64::MAX; n],
            recs: Vec::new(),
            compact: Vec::new(),
            scattered: Vec::new(),
            buckets: Vec::new(),
            table: Vec::new(),
            groups: Vec::new(),
            rec_group: Vec::new(),
            pairs: Vec::new(),
            pending: Vec::new(),
            ids: Vec::new(),
            prns: Vec::new(),
        }
    }

    fn partition(
        &mut self,
        spill: &Spill,
        p: usize,
        wanted: &[bool],
        cap: &[u64],
        prn_gen: &PrnBatch,
    ) -> Result<()> {
        // `recs[..used]` holds this partition's records; the vector keeps its length between
        // partitions, so the bytes read overwrite it without zeroing it first.
        let mut used = 0usize;
        self.buckets.clear();
        let mut starts = [0usize; BUCKETS + 1];
        for (w, (recs_file, compact_file)) in spill.files.iter().enumerate() {
            let remap = &spill.remap[w];
            let global = |local: u32, path: &Path| {
                remap
                    .get(local as usize)
                    .copied()
                    .ok_or_else(|| damaged(path))
            };
            // Compact records (11-digit phones) are decoded into the records.
            if spill.narrow {
                let path = compact_file.path();
                let n = read_spill(compact_file, p, &mut self.compact, 0)?;
                let (from, to) = (used, used + n);
                room(&mut self.recs, to);
                for (r, &[w0, w1]) in self.recs[from..to].iter_mut().zip(&self.compact[..n]) {
                    let (nibbles, outlet, date, offset) =
                        decode_compact(u64::from_le(w0), u64::from_le(w1));
                    *r = Rec {
                        key: K::from_nibbles(nibbles),
                        offset,
                        date,
                        outlet: global(outlet, path)?,
                    };
                    book(&mut self.buckets, &mut starts, r.key);
                }
                used = to;
            }
            // The others are read straight into the records: one copy, no decoding; then
            // global outlets and native byte order.
            let path = recs_file.path();
            let n = read_spill(recs_file, p, &mut self.recs, used)?;
            let (from, to) = (used, used + n);
            for r in &mut self.recs[from..to] {
                r.key = r.key.le_to_native();
                r.offset = u64::from_le(r.offset);
                r.date = i32::from_le(r.date);
                r.outlet = global(u32::from_le(r.outlet), path)?;
                book(&mut self.buckets, &mut starts, r.key);
            }
            used = to;
        }
        // Counting sort into the buckets.
        let n = used;
        for b in 0..BUCKETS {
            starts[b + 1] += starts[b];
        }
        let mut fill = starts;
        // Every slot of `scattered[..n]` is written below; only a longer partition than any
        // before needs new (zeroed) room.
        room(&mut self.scattered, n);
        self.scattered.truncate(n);
        for (r, &b) in self.recs[..n].iter().zip(&self.buckets) {
            self.scattered[fill[b as usize]] = *r;
            fill[b as usize] += 1;
        }
        self.pending.clear();
        self.ids.clear();
        let scattered = std::mem::take(&mut self.scattered);
        // People are drawn a few thousand at a time, while their ids and numbers are still
        // in the core's cache; which people a heap keeps does not depend on the order.
        for b in 0..BUCKETS {
            self.group(
                &scattered[starts[b]..starts[b + 1]],
                starts[b] as u32,
                wanted,
            );
            if self.pending.len() >= 4096 || b + 1 == BUCKETS {
                self.draw_pending(&scattered, cap, prn_gen);
            }
        }
        self.scattered = scattered;
        Ok(())
    }

    /// Gives the pending people their numbers and offers them to their outlet's heap.
    fn draw_pending(&mut self, scattered: &[Rec<K>], cap: &[u64], prn_gen: &PrnBatch) {
        self.prns.clear();
        prn_gen.prn_encoded(&self.ids, &mut self.prns);
        for ((&(at, seen, g), prn), id) in self.pending.iter().zip(&self.prns).zip(&self.ids) {
            let g = g as usize;
            // Most people lose to a full heap's largest number; the contiguous `bar` array
            // says so without touching the heap or the record (equal numbers go on to the
            // exact test).
            if prn.m > self.bar[g] {
                continue;
            }
            let rep = &scattered[at as usize];
            let person = Person {
                prn: *prn,
                id: *id,
                outlet: rep.outlet,
                offset: rep.offset,
                date: rep.date,
                outlets_seen: seen,
            };
            let c = cap[g] as usize;
            let h = &mut self.heaps[g];
            if h.len() < c {
                h.push(person);
            } else if c > 0 && h.peek().is_some_and(|top| person < *top) {
                h.pop();
                h.push(person);
            }
            if c > 0 && h.len() == c {
                self.bar[g] = h.peek().map_or(u64::MAX, |top| top.prn.m);
            }
        }
        self.pending.clear();
        self.ids.clear();
    }

    /// Groups the records of one bucket (starting at `base` in the partition) by person
    /// and books each person to its outlet.
    fn group(&mut self, recs: &[Rec<K>], base: u32, wanted: &[bool]) {
        if recs.is_empty() {
            return;
        }
        let size = (recs.len() * 2).next_power_of_two();
        let mask = size - 1;
        self.table.clear();
        self.table.resize(size, u32::MAX);
        self.groups.clear();
        self.rec_group.clear();
        let mut any_multi = false;
        for (i, r) in recs.iter().enumerate() {
            let mut slot = (r.key.mix() >> 20) as usize & mask;
            let g = loop {
                let e = self.table[slot];
                if e == u32::MAX {
                    let g = self.groups.len() as u32;
                    self.table[slot] = g;
                    self.groups.push(Group {
                        rep: i as u32,
                        first_outlet: r.outlet,
                        multi: false,
                    });
                    break g;
                }
                let grp = &mut self.groups[e as usize];
                let cur = &recs[grp.rep as usize];
                if cur.key == r.key {
                    // Most recent service; ties: smaller outlet id, then the earlier record.
                    if (r.date, cur.outlet, cur.offset) > (cur.date, r.outlet, r.offset) {
                        grp.rep = i as u32;
                    }
                    if r.outlet != grp.first_outlet {
                        grp.multi = true;
                        any_multi = true;
                    }
                    break e;
                }
                slot = (slot + 1) & mask;
            };
            self.rec_group.push(g);
        }
        // People served at several outlets: count their distinct outlets exactly.
        self.pairs.clear();
        if any_multi {
            for (r, &g) in recs.iter().zip(&self.rec_group) {
                if self.groups[g as usize].multi {
                    self.pairs.push((g, r.outlet));
                }
            }
            self.pairs.sort_unstable();
            self.pairs.dedup();
        }
        let mut k = 0;
        for (gi, grp) in self.groups.iter().enumerate() {
            let seen = if grp.multi {
                let from = k;
                while k < self.pairs.len() && self.pairs[k].0 as usize == gi {
                    k += 1;
                }
                (k - from) as u32
            } else {
                1
            };
            let rep = &recs[grp.rep as usize];
            let g = rep.outlet as usize;
            self.persons += 1;
            self.owned[g] += 1;
            if seen > 1 {
                self.multi += 1;
                self.owned_multi[g] += 1;
            }
            if wanted[g] {
                self.pending.push((base + grp.rep, seen, rep.outlet));
                self.ids.push(rep.key.id().to_le_bytes());
            }
        }
    }

    fn into_resolved(self) -> Resolved {
        Resolved {
            persons: self.persons,
            multi_outlet: self.multi,
            owned: self.owned,
            owned_multi: self.owned_multi,
            candidates: self.heaps.into_iter().map(BinaryHeap::into_vec).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::scan::{pack_id, put_record};

    /// A spill file's bytes read as pass 2 reads them: (id, outlet, date, offset).
    fn read<K: Key>(buf: &[u8]) -> Option<Vec<(u128, u32, i32, u64)>>
    where
        Rec<K>: bytemuck::Pod,
    {
        if !buf.len().is_multiple_of(std::mem::size_of::<Rec<K>>()) {
            return None;
        }
        let recs: Vec<Rec<K>> = bytemuck::pod_collect_to_vec(buf);
        Some(
            recs.iter()
                .map(|r| {
                    (
                        r.key.le_to_native().id(),
                        u32::from_le(r.outlet),
                        i32::from_le(r.date),
                        u64::from_le(r.offset),
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn spilled_records_read_back() {
        let mut buf = Vec::new();
        put_record(&mut buf, false, pack_id(b"13912345678"), 7, -3, 1 << 40);
        put_record(&mut buf, false, u128::MAX, u32::MAX, i32::MIN, 0);
        assert_eq!(
            read::<u128>(&buf).expect("whole"),
            vec![
                (pack_id(b"13912345678"), 7, -3, 1 << 40),
                (u128::MAX, u32::MAX, i32::MIN, 0)
            ]
        );
        assert!(read::<u128>(&buf[..40]).is_none());
        let mut buf = Vec::new();
        put_record(&mut buf, true, pack_id(b"13912345678"), 7, -3, 1 << 40);
        put_record(
            &mut buf,
            true,
            pack_id(b"008613900000000"),
            u32::MAX,
            i32::MAX,
            u64::MAX,
        );
        assert_eq!(
            read::<u64>(&buf).expect("whole"),
            vec![
                (pack_id(b"13912345678"), 7, -3, 1 << 40),
                (pack_id(b"008613900000000"), u32::MAX, i32::MAX, u64::MAX)
            ]
        );
        assert!(read::<u64>(&buf[..30]).is_none());
    }
}
