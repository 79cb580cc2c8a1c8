//! Pass 2: from spilled service records to people, their outlet, and each outlet's
//! smallest lottery numbers.
//!
//! Each hash partition holds every record of its people, so partitions are resolved one at
//! a time (two threads take alternate partitions): sort by person, then for each person take
//! the record of their most recent service in the window (ties: the smaller outlet id, then
//! the earlier record in the file). That outlet owns the person; the record represents them.
//! People of wanted outlets get their lottery number (prn-v1, domain `customer`, the person
//! key as id) and enter that outlet's bounded heap, which keeps the `cap` smallest by
//! (number, encoded id). Memory: one partition per thread plus the heaps.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::scan::{PARTS, Spill, read_records};
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

#[derive(Clone, Copy)]
struct Rec {
    /// The encoded id as a big-endian integer: integer order is byte order.
    key: u128,
    outlet: u32,
    date: i32,
    offset: u64,
}

/// Resolves every partition. `wanted[g]` says whether outlet `g`'s people are candidates;
/// `cap[g]` how many of the smallest to keep.
pub fn resolve(
    spill: &Spill,
    n_outlets: usize,
    wanted: &[bool],
    cap: &[u64],
    prn_gen: &PrnBatch,
) -> Result<Resolved> {
    let threads = super::threads();
    let parts: Vec<Result<Resolved>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut st = State::new(n_outlets);
                    for p in (t..PARTS).step_by(threads) {
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

struct State {
    persons: u64,
    multi: u64,
    owned: Vec<u64>,
    owned_multi: Vec<u64>,
    heaps: Vec<BinaryHeap<Person>>,
    recs: Vec<Rec>,
    pending: Vec<Person>,
    ids: Vec<[u8; 16]>,
    prns: Vec<Prn>,
}

impl State {
    fn new(n: usize) -> State {
        State {
            persons: 0,
            multi: 0,
            owned: vec![0; n],
            owned_multi: vec![0; n],
            heaps: (0..n).map(|_| BinaryHeap::new()).collect(),
            recs: Vec::new(),
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
        self.recs.clear();
        for w in 0..spill.workers {
            let path = spill.path(w, p);
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&path, "read a temporary file", &e)),
            };
            let remap = &spill.remap[w];
            let recs = &mut self.recs;
            read_records(&bytes, |id, outlet, date, offset| {
                recs.push(Rec {
                    key: u128::from_be_bytes(id),
                    outlet: remap[outlet as usize],
                    date,
                    offset,
                })
            })
            .ok_or_else(|| {
                Error::data(format!("{}: a temporary file is damaged", path.display()))
            })?;
        }
        self.recs.sort_unstable_by_key(|r| r.key);
        self.pending.clear();
        let recs = &self.recs;
        let mut i = 0;
        while i < recs.len() {
            let mut j = i + 1;
            while j < recs.len() && recs[j].key == recs[i].key {
                j += 1;
            }
            let group = &recs[i..j];
            // Most recent service; ties: smaller outlet id, then the earlier record.
            let rep = group
                .iter()
                .min_by(|a, b| {
                    b.date
                        .cmp(&a.date)
                        .then(a.outlet.cmp(&b.outlet))
                        .then(a.offset.cmp(&b.offset))
                })
                .expect("non-empty group");
            let seen = if group.iter().all(|r| r.outlet == rep.outlet) {
                1
            } else {
                let mut o: Vec<u32> = group.iter().map(|r| r.outlet).collect();
                o.sort_unstable();
                o.dedup();
                o.len() as u32
            };
            let g = rep.outlet as usize;
            self.persons += 1;
            self.owned[g] += 1;
            if seen > 1 {
                self.multi += 1;
                self.owned_multi[g] += 1;
            }
            if wanted[g] {
                self.pending.push(Person {
                    prn: Prn { m: 0 },
                    id: rep.key.to_be_bytes(),
                    outlet: rep.outlet,
                    offset: rep.offset,
                    date: rep.date,
                    outlets_seen: seen,
                });
            }
            i = j;
        }
        self.ids.clear();
        self.ids.extend(self.pending.iter().map(|p| p.id));
        self.prns.clear();
        prn_gen.prn_encoded(&self.ids, &mut self.prns);
        for (mut person, prn) in self.pending.drain(..).zip(self.prns.iter()) {
            person.prn = *prn;
            let g = person.outlet as usize;
            let c = cap[g] as usize;
            let h = &mut self.heaps[g];
            if h.len() < c {
                h.push(person);
            } else if c > 0 && h.peek().is_some_and(|top| person < *top) {
                h.pop();
                h.push(person);
            }
        }
        Ok(())
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
