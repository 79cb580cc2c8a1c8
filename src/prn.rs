//! The only door to randomness on the selection path: permanent random numbers, `prn-v1`.
//!
//! Every unit of a frame gets a lottery number `u = PRN(seed, domain, unit_id)` in (0, 1),
//! computed from ChaCha20 keyed by the seed and fed the unit's own id, never its position in
//! the file. The exact byte layout is written down in `docs/ALGORITHM.md`, and
//! `docs/prn_reference.py` is an independent implementation; the golden vectors in
//! `tests/golden/prn_v1.csv` pin both.
//!
//! Invariant: nothing else in the crate draws random numbers for a sample. The function uses
//! only the raw ChaCha20 keystream of `rand_chacha` (pinned exactly in Cargo.toml), so no
//! upgrade of `rand` can change a drawn sample; a change to this module that alters any
//! output is a new algorithm version, never an edit of `prn-v1`.
//!
//! References: D. J. Bernstein, "ChaCha, a variant of Salsa20" (2008); RFC 8439 (the block
//! function); FIPS 180-4 (SHA-256); GB/T 10111-2008 and ISO 24153:2009 7.1.3 (a seeded,
//! stated and reproducible random draw).

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use crate::seed::Seed;

/// The name of the algorithm recorded in every manifest.
pub const ALGORITHM: &str = "prn-v1";

/// What a lottery number is for. Different domains give independent numbers from one seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Domain {
    /// Units of an outlet frame.
    Outlet,
    /// People in a customer frame.
    Customer,
    /// The random start of a systematic sample; the "id" is the stratum name.
    SystematicStart,
    /// The random start of a systematic πps sample; the "id" is the stratum name.
    PpsStart,
    /// Tie-breaks of the fieldwork plan (never a selection).
    Schedule,
}

impl Domain {
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Outlet => "outlet",
            Domain::Customer => "customer",
            Domain::SystematicStart => "systematic-start",
            Domain::PpsStart => "pps-start",
            Domain::Schedule => "schedule",
        }
    }
}

/// A unit's lottery number in its exact integer form.
///
/// `m` is the top 52 bits of the first 64-bit keystream word; `u = (2m + 1) / 2^53` is
/// exactly representable in binary64 and lies strictly inside (0, 1). Ordering by `m` is
/// ordering by `u`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prn {
    pub m: u64,
}

impl Prn {
    /// The lottery number as a float in (0, 1); exact.
    pub fn u(self) -> f64 {
        (2 * self.m + 1) as f64 / (1u64 << 53) as f64
    }

    /// `⌊u·n⌋` computed exactly in integers: an integer in `[0, n)`, uniform up to 2⁻⁵².
    pub fn start(self, n: u64) -> u64 {
        (((2 * self.m + 1) as u128 * n as u128) >> 53) as u64
    }

    /// `⌊u·n⌋` for a 128-bit `n` (πps on scaled sizes); exact.
    pub fn start_u128(self, n: u128) -> u128 {
        // (2m+1) < 2^53 and n < 2^75 keeps the product below 2^128.
        assert!(n < (1u128 << 75), "πps total out of range");
        ((2 * self.m + 1) as u128 * n) >> 53
    }
}

/// A keyed generator for one (seed, domain): computes the lottery number of any unit id.
///
/// Cheap to clone; each thread keeps its own.
#[derive(Clone)]
pub struct PrnGen {
    rng: ChaCha20Rng,
}

impl PrnGen {
    /// Keys ChaCha20 with `K = SHA-256("svcaudit/prn-v1" ‖ 0x00 ‖ domain ‖ 0x00 ‖ seed)`.
    pub fn new(seed: &Seed, domain: Domain) -> Self {
        PrnGen {
            rng: ChaCha20Rng::from_seed(key(seed, domain)),
        }
    }

    /// The lottery number of the unit with this id (the id is trimmed first).
    pub fn prn(&mut self, unit_id: &str) -> Prn {
        let e = encode_id(unit_id.trim().as_bytes());
        let counter = u64::from_le_bytes(e[0..8].try_into().expect("8 bytes"));
        let stream = u64::from_le_bytes(e[8..16].try_into().expect("8 bytes"));
        self.rng.set_stream(stream);
        self.rng.set_word_pos(counter as u128 * 16);
        let x = self.rng.next_u64();
        Prn { m: x >> 12 }
    }
}

/// The same function as [`PrnGen::prn`], computed [`LANES`] ids at a time by our own
/// ChaCha20 block function (RFC 8439 §2.3, 20 rounds) laid out lane by lane so the compiler
/// vectorises it. Only the first 64-bit output word of each block is formed.
///
/// `PrnGen` (through `rand_chacha`) and this type must agree on every input: the unit tests
/// compare them on thousands of ids and `tests/it/prn_vectors.rs` checks both against the
/// golden vectors. Used where millions of lottery numbers are needed (customer frames).
#[derive(Clone)]
pub struct PrnBatch {
    key: [u32; 8],
}

/// How many blocks [`PrnBatch`] computes side by side.
pub const LANES: usize = 16;

const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

impl PrnBatch {
    pub fn new(seed: &Seed, domain: Domain) -> Self {
        let k = key(seed, domain);
        let mut key = [0u32; 8];
        for (i, w) in key.iter_mut().enumerate() {
            *w = u32::from_le_bytes(k[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        }
        PrnBatch { key }
    }

    /// Lottery numbers of already-encoded ids ([`encode_id`]), in order.
    pub fn prn_encoded(&self, ids: &[[u8; 16]], out: &mut Vec<Prn>) {
        out.reserve(ids.len());
        for group in ids.chunks(LANES) {
            let mut input = [[0u32; 4]; LANES];
            for (lane, e) in group.iter().enumerate() {
                for (j, w) in input[lane].iter_mut().enumerate() {
                    *w = u32::from_le_bytes(e[4 * j..4 * j + 4].try_into().expect("4 bytes"));
                }
            }
            let words = first_words(&self.key, &input);
            out.extend(words[..group.len()].iter().map(|x| Prn { m: x >> 12 }));
        }
    }

    /// The lottery number of one id (trimmed, like [`PrnGen::prn`]).
    pub fn prn(&self, unit_id: &str) -> Prn {
        let mut out = Vec::with_capacity(1);
        self.prn_encoded(&[encode_id(unit_id.trim().as_bytes())], &mut out);
        out[0]
    }
}

/// The first keystream word (output words 0 and 1, little-endian) of [`LANES`] ChaCha20
/// blocks that share a key; `input[lane]` is state words 12..15 (counter ‖ stream).
///
/// The same integer arithmetic runs with the widest vector unit the CPU has (detected at
/// run time); the result cannot depend on which one.
fn first_words(key: &[u32; 8], input: &[[u32; 4]; LANES]) -> [u64; LANES] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512vl") && std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the features the function is compiled for were detected above.
            return unsafe { first_words_avx512(key, input) };
        }
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { first_words_avx2(key, input) };
        }
    }
    first_words_generic(key, input)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,avx512f,avx512vl")]
unsafe fn first_words_avx512(key: &[u32; 8], input: &[[u32; 4]; LANES]) -> [u64; LANES] {
    first_words_generic(key, input)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn first_words_avx2(key: &[u32; 8], input: &[[u32; 4]; LANES]) -> [u64; LANES] {
    first_words_generic(key, input)
}

type V = [u32; LANES];

#[inline(always)]
fn first_words_generic(key: &[u32; 8], input: &[[u32; 4]; LANES]) -> [u64; LANES] {
    let splat = |w: u32| [w; LANES];
    let lane = |j: usize| {
        let mut v = [0u32; LANES];
        for (l, x) in v.iter_mut().enumerate() {
            *x = input[l][j];
        }
        v
    };
    let i0 = splat(SIGMA[0]);
    let i1 = splat(SIGMA[1]);
    let (mut x0, mut x1, mut x2, mut x3) = (i0, i1, splat(SIGMA[2]), splat(SIGMA[3]));
    let (mut x4, mut x5, mut x6, mut x7) =
        (splat(key[0]), splat(key[1]), splat(key[2]), splat(key[3]));
    let (mut x8, mut x9, mut x10, mut x11) =
        (splat(key[4]), splat(key[5]), splat(key[6]), splat(key[7]));
    let (mut x12, mut x13, mut x14, mut x15) = (lane(0), lane(1), lane(2), lane(3));
    for _ in 0..10 {
        quarter(&mut x0, &mut x4, &mut x8, &mut x12);
        quarter(&mut x1, &mut x5, &mut x9, &mut x13);
        quarter(&mut x2, &mut x6, &mut x10, &mut x14);
        quarter(&mut x3, &mut x7, &mut x11, &mut x15);
        quarter(&mut x0, &mut x5, &mut x10, &mut x15);
        quarter(&mut x1, &mut x6, &mut x11, &mut x12);
        quarter(&mut x2, &mut x7, &mut x8, &mut x13);
        quarter(&mut x3, &mut x4, &mut x9, &mut x14);
    }
    let mut out = [0u64; LANES];
    for (l, o) in out.iter_mut().enumerate() {
        let lo = x0[l].wrapping_add(i0[l]) as u64;
        let hi = x1[l].wrapping_add(i1[l]) as u64;
        *o = lo | (hi << 32);
    }
    out
}

/// The ChaCha quarter round (RFC 8439 §2.1) on every lane.
#[inline(always)]
fn quarter(a: &mut V, b: &mut V, c: &mut V, d: &mut V) {
    mix(a, b, d, 16);
    mix(c, d, b, 12);
    mix(a, b, d, 8);
    mix(c, d, b, 7);
}

/// One line of the quarter round: `x += y; z ^= x; z <<<= r`, lane by lane.
#[inline(always)]
fn mix(x: &mut V, y: &V, z: &mut V, r: u32) {
    for l in 0..LANES {
        x[l] = x[l].wrapping_add(y[l]);
        z[l] = (z[l] ^ x[l]).rotate_left(r);
    }
}

/// The 32-byte ChaCha20 key for a seed and domain.
pub fn key(seed: &Seed, domain: Domain) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"svcaudit/prn-v1");
    h.update([0u8]);
    h.update(domain.as_str().as_bytes());
    h.update([0u8]);
    h.update(seed.canonical().as_bytes());
    h.finalize().into()
}

/// The 16-byte ChaCha20 input (block counter ‖ stream) for a unit id.
///
/// Ids of at most 15 bytes are embedded as they are (zero-padded, length in the last byte),
/// so distinct short ids never share an input; longer ids use the first 15 bytes of their
/// SHA-256 and 0xFF as the last byte.
pub fn encode_id(id: &[u8]) -> [u8; 16] {
    let mut e = [0u8; 16];
    if id.len() <= 15 {
        e[..id.len()].copy_from_slice(id);
        e[15] = id.len() as u8;
    } else {
        let d: [u8; 32] = Sha256::digest(id).into();
        e[..15].copy_from_slice(&d[..15]);
        e[15] = 0xFF;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u_is_strictly_inside_the_unit_interval() {
        assert_eq!(Prn { m: 0 }.u(), 1.0 / (1u64 << 53) as f64);
        let top = Prn {
            m: (1u64 << 52) - 1,
        };
        assert!(top.u() < 1.0);
        assert_eq!(top.start(10), 9);
        assert_eq!(Prn { m: 0 }.start(10), 0);
    }

    #[test]
    fn short_ids_are_embedded_long_ids_hashed() {
        let e = encode_id(b"WD0001");
        assert_eq!(&e[..6], b"WD0001");
        assert_eq!(e[15], 6);
        assert_eq!(encode_id(b"1234567890123456")[15], 0xFF);
        assert_ne!(encode_id(b"a"), encode_id(b"a\0"));
    }

    #[test]
    fn batch_agrees_with_rand_chacha() {
        for seed in ["42", "20261122", "a phrase seed"] {
            let s = Seed::parse(seed).unwrap();
            let mut slow = PrnGen::new(&s, Domain::Customer);
            let fast = PrnBatch::new(&s, Domain::Customer);
            let ids: Vec<String> = (0..1003u64)
                .map(|i| match i % 3 {
                    0 => format!("138{:08}", i * 7919),
                    1 => format!("C{i}"),
                    _ => format!("a long customer id that is hashed {i}"),
                })
                .collect();
            let enc: Vec<[u8; 16]> = ids.iter().map(|i| encode_id(i.as_bytes())).collect();
            let mut got = Vec::new();
            fast.prn_encoded(&enc, &mut got);
            assert_eq!(got.len(), ids.len());
            for (id, p) in ids.iter().zip(&got) {
                assert_eq!(slow.prn(id), *p, "{id}");
                assert_eq!(fast.prn(id), *p, "{id}");
            }
        }
    }

    #[test]
    fn domains_and_seeds_separate() {
        let s = Seed::parse("42").unwrap();
        let a = PrnGen::new(&s, Domain::Outlet).prn("WD0001");
        let b = PrnGen::new(&s, Domain::Customer).prn("WD0001");
        let c = PrnGen::new(&Seed::parse("43").unwrap(), Domain::Outlet).prn("WD0001");
        assert_ne!(a, b);
        assert_ne!(a, c);
        // Trimming and leading zeros of an integer seed do not matter.
        let d = PrnGen::new(&Seed::parse(" 0042 ").unwrap(), Domain::Outlet).prn(" WD0001 ");
        assert_eq!(a, d);
    }
}
