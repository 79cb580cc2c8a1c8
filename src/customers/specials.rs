//! Finds the bytes that structure a CSV record (the delimiter, the newline and the quote).
//!
//! The masks are computed a span at a time (32 KiB of data, so the bytes are still in the
//! core's cache when the parser reads them), 64 bytes per window, with the widest
//! vector unit the CPU has (AVX-512BW, AVX2, or SSE2, which every x86-64 CPU has; detected
//! at run time, once per chunk); other targets use a byte loop. All give the same bits. The
//! parser then walks the bit masks. This is the idea of simdjson and simdcsv (Langdale and
//! Lemire, "Parsing gigabytes of JSON per second", VLDB Journal 28, 2019), cut down to what
//! the customer reader needs: it never interprets quotes itself; a record with a quote goes
//! to the careful splitter.
//!
//! It also notes "dirty" bytes, those that could make a cell need trimming: ASCII white
//! space and control bytes (at most 0x20, the newline and a tab delimiter excepted) and the
//! lead bytes of the non-ASCII white space characters (0xC2 for U+0085 and U+00A0, 0xE1 to
//! 0xE3 for U+1680, U+2000 to U+205F and U+3000). A record without any has no cell to trim.

/// The masks of one 64-byte window: [special bytes, dirty bytes, enders] (bit i = byte i),
/// the enders being the newlines and quotes among the special bytes.
pub type Window = [u64; 3];

/// Yields, in order, the positions of the delimiter, `\n` and `"` bytes of `data`.
pub struct Specials<'a> {
    data: &'a [u8],
    delimiter: u8,
    /// Per 64-byte window of the current span of `data`: [special bytes, dirty bytes]
    /// (bit i = byte i).
    windows: Vec<Window>,
    /// Index (in `data`) of the span's first window.
    first: usize,
    /// Index of the current window.
    window: usize,
    /// Bits of the window's special bytes not yet returned.
    mask: u64,
    /// Bits of the window's dirty bytes not yet looked at.
    dirty: u64,
    /// Bits of the window's enders not yet returned.
    ender: u64,
    /// Whether a dirty byte was passed since the last [`Specials::take_dirty`].
    seen_dirty: bool,
    /// Whether each span is checked to be UTF-8 before its positions are given out.
    validate: bool,
    /// With `validate`: the bytes before this index are valid UTF-8.
    valid_to: usize,
    /// With `validate`: a span was not valid UTF-8 (the scan then stops).
    invalid: bool,
}

impl<'a> Specials<'a> {
    pub fn new(data: &'a [u8], delimiter: u8) -> Specials<'a> {
        Specials::with_buffer(data, delimiter, Vec::new())
    }

    /// As [`Specials::new`], reusing `buf` (from [`Specials::into_buffer`]) for the masks.
    pub fn with_buffer(data: &'a [u8], delimiter: u8, mut buf: Vec<Window>) -> Specials<'a> {
        buf.clear();
        let mut s = Specials {
            data,
            delimiter,
            windows: buf,
            first: 0,
            window: 0,
            mask: 0,
            dirty: 0,
            ender: 0,
            seen_dirty: false,
            validate: false,
            valid_to: 0,
            invalid: false,
        };
        s.seek(0);
        s
    }

    /// As [`Specials::with_buffer`], and checks that the data is UTF-8 a span at a time,
    /// just before the span's positions are given out: every byte before a position
    /// returned (all of `data` once `next_pos` gives `None`) is then known valid, unless
    /// [`Specials::invalid`] says the scan stopped at bytes that are not UTF-8.
    pub fn validating(data: &'a [u8], delimiter: u8, buf: Vec<Window>) -> Specials<'a> {
        let mut s = Specials::with_buffer(&data[..0], delimiter, buf);
        s.data = data;
        s.validate = true;
        s.seek(0);
        s
    }

    /// Whether the scan stopped at bytes that are not UTF-8 (only when validating).
    pub fn invalid(&self) -> bool {
        self.invalid
    }

    /// The mask buffer, for the next chunk.
    pub fn into_buffer(self) -> Vec<Window> {
        self.windows
    }

    /// Continues the scan at `pos` (forgets everything before it).
    pub fn seek(&mut self, pos: usize) {
        self.window = pos / 64;
        (self.mask, self.dirty, self.ender) = match self.load(self.window) {
            Some([m, d, e]) => {
                let from = !((1u64 << (pos % 64)) - 1);
                (m & from, d & from, e & from)
            }
            None => (0, 0, 0),
        };
        self.seen_dirty = false;
    }

    /// Whether a dirty byte lay between the previous call (or seek) and the last position
    /// returned; resets the note.
    #[inline]
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.seen_dirty)
    }

    /// Appends the positions of the delimiters up to the next newline or quote to `out`, and
    /// returns that byte's position (`None` at the end of the data, all delimiters given).
    /// The same positions as [`Specials::next_pos`] would give one by one, and the same
    /// dirty note, but a window's delimiters are taken with a few bit operations each.
    #[inline]
    pub fn fields(&mut self, out: &mut Vec<usize>) -> Option<usize> {
        loop {
            let base = self.window * 64;
            if self.ender != 0 {
                let e = self.ender & self.ender.wrapping_neg();
                let below = e - 1;
                push_bits(self.mask & below, base, out);
                self.seen_dirty |= self.dirty & below != 0;
                self.dirty &= !below;
                self.mask &= !(below | e);
                self.ender &= !e;
                debug_assert!(base + (e.trailing_zeros() as usize) < self.data.len());
                return Some(base + e.trailing_zeros() as usize);
            }
            push_bits(self.mask, base, out);
            self.mask = 0;
            if !self.advance() {
                return None;
            }
        }
    }

    /// Moves to the next window (noting the dirty bytes left in this one); false at the end
    /// of the data.
    #[inline]
    fn advance(&mut self) -> bool {
        self.seen_dirty |= self.dirty != 0;
        self.window += 1;
        match self.load(self.window) {
            Some([m, d, e]) => {
                (self.mask, self.dirty, self.ender) = (m, d, e);
                true
            }
            None => {
                self.window = self.data.len().div_ceil(64);
                self.dirty = 0;
                false
            }
        }
    }

    /// The next special byte's position, or `None` at the end of the data.
    #[inline]
    pub fn next_pos(&mut self) -> Option<usize> {
        while self.mask == 0 {
            if !self.advance() {
                return None;
            }
        }
        let i = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        self.ender &= self.mask;
        // Most windows of most files have no dirty byte at all.
        if self.dirty != 0 {
            let below = (1u64 << i) - 1;
            self.seen_dirty |= self.dirty & below != 0;
            self.dirty &= !below;
        }
        debug_assert!(self.window * 64 + i < self.data.len());
        Some(self.window * 64 + i)
    }
}

/// Appends `base` plus the index of every set bit of `bits` to `out`, lowest first.
#[inline]
fn push_bits(mut bits: u64, base: usize, out: &mut Vec<usize>) {
    while bits != 0 {
        out.push(base + bits.trailing_zeros() as usize);
        bits &= bits - 1;
    }
}

impl Specials<'_> {
    /// Windows per span: 32 KiB of data.
    const SPAN: usize = 512;

    /// The masks of window `w` (at or after the span's first), computing the span that
    /// starts there when `w` is past the current one; `None` past the end of the data.
    #[inline]
    fn load(&mut self, w: usize) -> Option<Window> {
        if let Some(&m) = self.windows.get(w.wrapping_sub(self.first)) {
            return Some(m);
        }
        self.refill(w)
    }

    #[cold]
    fn refill(&mut self, w: usize) -> Option<Window> {
        if self.invalid {
            return None;
        }
        let start = w * 64;
        let end = (start + Self::SPAN * 64).min(self.data.len());
        if self.validate && self.valid_to < end {
            // Cut before a byte that starts a character: UTF-8 is valid as a whole exactly
            // when the pieces between such cuts are.
            let mut cut = end;
            while cut < self.data.len() && self.data[cut] & 0xC0 == 0x80 {
                cut += 1;
            }
            if simdutf8::basic::from_utf8(&self.data[self.valid_to..cut]).is_err() {
                self.invalid = true;
                self.windows.clear();
                return None;
            }
            self.valid_to = cut;
        }
        if start >= self.data.len() {
            return None;
        }
        self.windows.clear();
        masks(&self.data[start..end], self.delimiter, &mut self.windows);
        self.first = w;
        self.windows.first().copied()
    }
}

/// How many quotes and how many newlines `data` holds, counted in one pass (the reader's
/// cut needs both; two `memchr` counts read the bytes twice).
pub fn quotes_and_newlines(data: &[u8]) -> (usize, usize) {
    let whole = data.len() / 64 * 64;
    let (q, n) = count_whole(&data[..whole]);
    let (rq, rn) = count_memchr(&data[whole..]);
    (q + rq, n + rn)
}

/// The counts over whole 64-byte windows, with the widest vector unit there is.
fn count_whole(data: &[u8]) -> (usize, usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512bw") {
            // SAFETY: the features the function is compiled for were detected above.
            return unsafe { count_avx512(data) };
        } else if std::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { count_avx2(data) };
        }
    }
    count_memchr(data)
}

fn count_memchr(data: &[u8]) -> (usize, usize) {
    (
        memchr::memchr_iter(b'"', data).count(),
        memchr::memchr_iter(b'\n', data).count(),
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
fn count_avx512(data: &[u8]) -> (usize, usize) {
    use std::arch::x86_64::*;
    let nl = _mm512_set1_epi8(b'\n' as i8);
    let qu = _mm512_set1_epi8(b'"' as i8);
    let (mut q, mut n) = (0usize, 0usize);
    let p = data.as_ptr();
    for k in 0..data.len() / 64 {
        // SAFETY: window k has 64 readable bytes.
        let v = unsafe { _mm512_loadu_si512(p.add(64 * k) as *const _) };
        q += _mm512_cmpeq_epi8_mask(v, qu).count_ones() as usize;
        n += _mm512_cmpeq_epi8_mask(v, nl).count_ones() as usize;
    }
    (q, n)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn count_avx2(data: &[u8]) -> (usize, usize) {
    use std::arch::x86_64::*;
    let nl = _mm256_set1_epi8(b'\n' as i8);
    let qu = _mm256_set1_epi8(b'"' as i8);
    let (mut q, mut n) = (0usize, 0usize);
    let p = data.as_ptr();
    for k in 0..data.len() / 32 {
        // SAFETY: bytes 32k..32k+32 are readable.
        let v = unsafe { _mm256_loadu_si256(p.add(32 * k) as *const __m256i) };
        q += (_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, qu)) as u32).count_ones() as usize;
        n += (_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, nl)) as u32).count_ones() as usize;
    }
    (q, n)
}

/// Appends the [special, dirty] masks of every 64-byte window of `data` to `out`; the last
/// window is padded with bytes that are neither.
fn masks(data: &[u8], delimiter: u8, out: &mut Vec<Window>) {
    out.reserve(data.len().div_ceil(64));
    let whole = data.len() / 64 * 64;
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512bw") {
            // SAFETY: the features the function is compiled for were detected above.
            unsafe { masks_avx512(&data[..whole], delimiter, out) };
        } else if std::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            unsafe { masks_avx2(&data[..whole], delimiter, out) };
        } else {
            for w in data[..whole].chunks_exact(64) {
                out.push(mask64(w.try_into().expect("64 bytes"), delimiter));
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for w in data[..whole].chunks_exact(64) {
        out.push(mask64(w.try_into().expect("64 bytes"), delimiter));
    }
    if whole < data.len() {
        // A NUL delimiter is refused by the delimiter sniffer, so 'x' padding is never
        // special; the padding bits are cut off anyway.
        let rest = &data[whole..];
        let mut pad = [b'x'; 64];
        pad[..rest.len()].copy_from_slice(rest);
        let keep = (1u64 << rest.len()) - 1;
        let [m, d, e] = mask64(&pad, delimiter);
        out.push([m & keep, d & keep, e & keep]);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
fn masks_avx512(data: &[u8], delimiter: u8, out: &mut Vec<Window>) {
    use std::arch::x86_64::*;
    let dl = _mm512_set1_epi8(delimiter as i8);
    let nl = _mm512_set1_epi8(b'\n' as i8);
    let qu = _mm512_set1_epi8(b'"' as i8);
    let sp = _mm512_set1_epi8(0x20);
    let c2 = _mm512_set1_epi8(0xC2u8 as i8);
    let e1 = _mm512_set1_epi8(0xE1u8 as i8);
    let two = _mm512_set1_epi8(2);
    let p = data.as_ptr();
    for k in 0..data.len() / 64 {
        // SAFETY: window k has 64 readable bytes.
        let v = unsafe { _mm512_loadu_si512(p.add(64 * k) as *const _) };
        let ender = _mm512_cmpeq_epi8_mask(v, nl) | _mm512_cmpeq_epi8_mask(v, qu);
        let e = _mm512_cmpeq_epi8_mask(v, dl) | ender;
        let low = _mm512_cmple_epu8_mask(v, sp);
        let lead =
            _mm512_cmpeq_epi8_mask(v, c2) | _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, e1), two);
        out.push([e, (low | lead) & !e, ender]);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn masks_avx2(data: &[u8], delimiter: u8, out: &mut Vec<Window>) {
    use std::arch::x86_64::*;
    let dl = _mm256_set1_epi8(delimiter as i8);
    let nl = _mm256_set1_epi8(b'\n' as i8);
    let qu = _mm256_set1_epi8(b'"' as i8);
    let sp = _mm256_set1_epi8(0x20);
    let c2 = _mm256_set1_epi8(0xC2u8 as i8);
    let e1 = _mm256_set1_epi8(0xE1u8 as i8);
    let e3 = _mm256_set1_epi8(0xE3u8 as i8);
    let n = data.len() / 64;
    let p = data.as_ptr();
    for k in 0..n {
        let mut bits = [0u64; 3];
        for h in 0..2 {
            // SAFETY: window k has 64 readable bytes; this loads bytes 32h..32h+32 of it.
            let v = unsafe { _mm256_loadu_si256(p.add(64 * k + 32 * h) as *const __m256i) };
            let ender = _mm256_or_si256(_mm256_cmpeq_epi8(v, nl), _mm256_cmpeq_epi8(v, qu));
            let e = _mm256_or_si256(_mm256_cmpeq_epi8(v, dl), ender);
            let low = _mm256_cmpeq_epi8(_mm256_min_epu8(v, sp), v);
            let lead = _mm256_or_si256(
                _mm256_cmpeq_epi8(v, c2),
                _mm256_cmpeq_epi8(_mm256_min_epu8(_mm256_max_epu8(v, e1), e3), v),
            );
            let dirty = _mm256_andnot_si256(e, _mm256_or_si256(low, lead));
            // `black_box`: left to itself, LLVM fuses the two halves into one 64-lane mask,
            // which AVX2 cannot move to a register, and extracts it byte by byte.
            let (m, d, n) = std::hint::black_box((
                _mm256_movemask_epi8(e) as u32,
                _mm256_movemask_epi8(dirty) as u32,
                _mm256_movemask_epi8(ender) as u32,
            ));
            bits[0] |= (m as u64) << (32 * h);
            bits[1] |= (d as u64) << (32 * h);
            bits[2] |= (n as u64) << (32 * h);
        }
        out.push(bits);
    }
}

#[cfg(target_arch = "x86_64")]
fn mask64(d: &[u8; 64], delimiter: u8) -> Window {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86-64 baseline; the four 16-byte loads are inside `d`.
    unsafe {
        let dl = _mm_set1_epi8(delimiter as i8);
        let nl = _mm_set1_epi8(b'\n' as i8);
        let qu = _mm_set1_epi8(b'"' as i8);
        let sp = _mm_set1_epi8(0x20);
        let c2 = _mm_set1_epi8(0xC2u8 as i8);
        let e1 = _mm_set1_epi8(0xE1u8 as i8);
        let e3 = _mm_set1_epi8(0xE3u8 as i8);
        let (mut m, mut w, mut n) = (0u64, 0u64, 0u64);
        for k in 0..4 {
            let v = _mm_loadu_si128(d.as_ptr().add(16 * k) as *const __m128i);
            let ender = _mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, qu));
            let e = _mm_or_si128(_mm_cmpeq_epi8(v, dl), ender);
            let low = _mm_cmpeq_epi8(_mm_min_epu8(v, sp), v);
            let lead = _mm_or_si128(
                _mm_cmpeq_epi8(v, c2),
                _mm_cmpeq_epi8(_mm_min_epu8(_mm_max_epu8(v, e1), e3), v),
            );
            let dirty = _mm_andnot_si128(e, _mm_or_si128(low, lead));
            m |= (_mm_movemask_epi8(e) as u32 as u64) << (16 * k);
            w |= (_mm_movemask_epi8(dirty) as u32 as u64) << (16 * k);
            n |= (_mm_movemask_epi8(ender) as u32 as u64) << (16 * k);
        }
        [m, w, n]
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn mask64(d: &[u8; 64], delimiter: u8) -> Window {
    let (mut m, mut w, mut n) = (0u64, 0u64, 0u64);
    for (i, &b) in d.iter().enumerate() {
        if is_special(b, delimiter) {
            m |= 1 << i;
            if b == b'\n' || b == b'"' {
                n |= 1 << i;
            }
        } else if is_dirty(b) {
            w |= 1 << i;
        }
    }
    [m, w, n]
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn is_special(b: u8, delimiter: u8) -> bool {
    b == delimiter || b == b'\n' || b == b'"'
}

#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn is_dirty(b: u8) -> bool {
    b <= 0x20 || b == 0xC2 || (0xE1..=0xE3).contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// For each special position: whether a dirty byte lies between it and the previous one.
    fn naive_dirty(d: &[u8], delim: u8, from: usize) -> Vec<(usize, bool)> {
        let mut out = Vec::new();
        let mut dirty = false;
        for (i, &b) in d.iter().enumerate().skip(from) {
            if is_special(b, delim) {
                out.push((i, std::mem::take(&mut dirty)));
            } else if is_dirty(b) {
                dirty = true;
            }
        }
        out
    }

    fn with_dirty(d: &[u8], delim: u8, from: usize) -> Vec<(usize, bool)> {
        let mut s = Specials::new(d, delim);
        s.seek(from);
        std::iter::from_fn(|| s.next_pos().map(|i| (i, s.take_dirty()))).collect()
    }

    #[test]
    fn notes_bytes_that_may_need_trimming() {
        let d = "a, b\n张三,李四\n\u{3000}x,y\n".repeat(9);
        let got = with_dirty(d.as_bytes(), b',', 0);
        assert_eq!(got, naive_dirty(d.as_bytes(), b',', 0));
        assert_eq!(
            got[..6].iter().map(|p| p.1).collect::<Vec<_>>(),
            [false, true, false, false, true, false]
        );
    }

    fn naive(d: &[u8], delim: u8) -> Vec<usize> {
        (0..d.len())
            .filter(|&i| d[i] == delim || d[i] == b'\n' || d[i] == b'"')
            .collect()
    }

    fn all(d: &[u8], delim: u8) -> Vec<usize> {
        let mut s = Specials::new(d, delim);
        std::iter::from_fn(|| s.next_pos()).collect()
    }

    #[test]
    fn finds_every_special_byte_across_windows() {
        let d = b"a,b\n\"c,d\"\n".repeat(20);
        assert_eq!(all(&d, b','), naive(&d, b','));
        assert!(all(b"", b',').is_empty());
        assert_eq!(all(b",", b','), vec![0]);
    }

    #[test]
    fn seek_restarts_anywhere() {
        let d = b"x;y\n".repeat(40);
        let mut s = Specials::new(&d, b';');
        s.seek(71);
        let rest: Vec<usize> = std::iter::from_fn(|| s.next_pos()).collect();
        let want: Vec<usize> = naive(&d, b';').into_iter().filter(|&i| i >= 71).collect();
        assert_eq!(rest, want);
    }

    /// The masks of every 64-byte window by the plain definitions.
    fn naive_masks(d: &[u8], delim: u8) -> Vec<Window> {
        d.chunks(64)
            .map(|w| {
                let (mut m, mut x, mut n) = (0u64, 0u64, 0u64);
                for (i, &b) in w.iter().enumerate() {
                    if is_special(b, delim) {
                        m |= 1 << i;
                        if b == b'\n' || b == b'"' {
                            n |= 1 << i;
                        }
                    } else if is_dirty(b) {
                        x |= 1 << i;
                    }
                }
                [m, x, n]
            })
            .collect()
    }

    proptest! {
        #[test]
        fn quotes_and_newlines_are_counted_as_memchr_counts(
            d in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(b'a'), proptest::strategy::Just(b'\n'),
                proptest::strategy::Just(b'"'), proptest::strategy::Just(0xE4u8)
            ], 0..700),
            from in 0usize..64,
        ) {
            let d = &d[from.min(d.len())..];
            proptest::prop_assert_eq!(quotes_and_newlines(d), count_memchr(d));
            #[cfg(target_arch = "x86_64")]
            {
                let whole = &d[..d.len() / 64 * 64];
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: detected.
                    proptest::prop_assert_eq!(unsafe { count_avx2(whole) }, count_memchr(whole));
                }
                if std::is_x86_feature_detected!("avx512bw") {
                    // SAFETY: detected.
                    proptest::prop_assert_eq!(unsafe { count_avx512(whole) }, count_memchr(whole));
                }
            }
        }

        #[test]
        fn every_vector_unit_gives_the_same_masks(
            d in proptest::collection::vec(any::<u8>(), 0..400),
            delim in prop_oneof![Just(b','), Just(b';'), Just(b'\t'), Just(b'|')],
        ) {
            let want = naive_masks(&d, delim);
            let mut got = Vec::new();
            masks(&d, delim, &mut got);
            prop_assert_eq!(&got, &want);
            let whole = d.len() / 64 * 64;
            let sse2: Vec<Window> = d[..whole]
                .chunks_exact(64)
                .map(|w| mask64(w.try_into().unwrap(), delim))
                .collect();
            prop_assert_eq!(&sse2[..], &want[..whole / 64]);
            #[cfg(target_arch = "x86_64")]
            {
                if std::is_x86_feature_detected!("avx2") {
                    let mut v = Vec::new();
                    unsafe { masks_avx2(&d[..whole], delim, &mut v) };
                    prop_assert_eq!(&v[..], &want[..whole / 64]);
                }
                if std::is_x86_feature_detected!("avx512bw") {
                    let mut v = Vec::new();
                    unsafe { masks_avx512(&d[..whole], delim, &mut v) };
                    prop_assert_eq!(&v[..], &want[..whole / 64]);
                }
            }
        }

        #[test]
        fn fields_gives_what_next_pos_gives(
            d in proptest::collection::vec(prop_oneof![
                Just(b','), Just(b'\n'), Just(b'"'), Just(b'a'), Just(b' '), Just(0xE3u8), Just(b';')
            ], 0..1500),
            seek in 0usize..1500,
        ) {
            let from = seek.min(d.len());
            // One by one: (position, is ender, dirty before it).
            let mut a = Specials::new(&d, b',');
            a.seek(from);
            let mut want = Vec::new();
            while let Some(i) = a.next_pos() {
                want.push((i, d[i] != b',', a.take_dirty()));
            }
            let mut b = Specials::new(&d, b',');
            b.seek(from);
            let mut got = Vec::new();
            let mut out = Vec::new();
            loop {
                out.clear();
                let end = b.fields(&mut out);
                got.extend(out.iter().map(|&i| (i, false)));
                match end {
                    Some(i) => got.push((i, true)),
                    None => break,
                }
            }
            let want_pos: Vec<(usize, bool)> = want.iter().map(|x| (x.0, x.1)).collect();
            prop_assert_eq!(got, want_pos);
            // Dirty: per run (delimiters then the ender), the or of next_pos's notes.
            let mut c = Specials::new(&d, b',');
            c.seek(from);
            let mut runs = Vec::new();
            loop {
                out.clear();
                let end = c.fields(&mut out);
                runs.push(c.take_dirty());
                if end.is_none() { break; }
            }
            let mut want_runs = Vec::new();
            let mut acc = false;
            for &(_, ender, dirty) in &want {
                acc |= dirty;
                if ender { want_runs.push(acc); acc = false; }
            }
            // The last run (no ender) notes dirty bytes up to the end of the data.
            let tail_dirty = {
                let last = want.iter().rev().find(|x| x.1).map_or(from, |x| x.0 + 1);
                d[last..].iter().any(|&b| b != b',' && b != b'\n' && b != b'"' && (b <= 0x20 || b == 0xC2 || (0xE1..=0xE3).contains(&b)))
            };
            want_runs.push(tail_dirty);
            prop_assert_eq!(runs, want_runs);
        }

        #[test]
        fn agrees_with_a_byte_loop(
            d in proptest::collection::vec(prop_oneof![
                Just(b','), Just(b'\n'), Just(b'"'), Just(b';'), Just(b'a'), Just(0xE4u8), Just(0u8),
                Just(b' '), Just(b'\t'), Just(b'\r'), Just(0xC2u8), Just(0xE3u8), Just(0xE0u8), Just(0x21u8)
            ], 0..300),
            delim in prop_oneof![Just(b','), Just(b';'), Just(b'\t')],
            seek in 0usize..300,
        ) {
            prop_assert_eq!(all(&d, delim), naive(&d, delim));
            let mut s = Specials::new(&d, delim);
            s.seek(seek.min(d.len()));
            let rest: Vec<usize> = std::iter::from_fn(|| s.next_pos()).collect();
            let want: Vec<usize> = naive(&d, delim).into_iter().filter(|&i| i >= seek).collect();
            prop_assert_eq!(rest, want);
            let from = seek.min(d.len());
            prop_assert_eq!(with_dirty(&d, delim, from), naive_dirty(&d, delim, from));
        }
    }

    proptest! {
        // Texts of several spans are long: fewer cases.
        #![proptest_config(ProptestConfig::with_cases(40))]

        #[test]
        fn validating_gives_only_checked_positions(
            tokens in proptest::collection::vec(prop_oneof![
                Just(","), Just("\n"), Just("ab"), Just("张"), Just("é"), Just("\u{3000}")
            ], 0..40_000),
            bad in proptest::option::of((any::<proptest::sample::Index>(), prop_oneof![
                Just(0xFFu8), Just(0x80u8), Just(0xC3u8), Just(0xE4u8)
            ])),
            seek in any::<proptest::sample::Index>(),
        ) {
            // Text of several spans, sometimes with one byte broken somewhere.
            let mut d = tokens.concat().into_bytes();
            if let Some((at, b)) = bad && !d.is_empty() {
                let at = at.index(d.len());
                d[at] = b;
            }
            let valid = std::str::from_utf8(&d).is_ok();
            let from = if d.is_empty() { 0 } else { seek.index(d.len()) };
            let mut s = Specials::validating(&d, b',', Vec::new());
            s.seek(from);
            let mut got = Vec::new();
            while let Some(i) = s.next_pos() {
                // Positions are at ASCII bytes: everything before one is checked UTF-8.
                prop_assert!(std::str::from_utf8(&d[..i]).is_ok(), "position {}", i);
                prop_assert!(!s.invalid());
                got.push(i);
            }
            prop_assert_eq!(s.invalid(), !valid);
            let want: Vec<usize> = naive(&d, b',').into_iter().filter(|&i| i >= from).collect();
            if valid {
                prop_assert_eq!(got, want);
            } else {
                prop_assert!(want.starts_with(&got));
            }
        }
    }
}
