#!/usr/bin/env python3
"""Independent reference implementation of svcaudit's permanent random numbers, prn-v1.

Standard library only (hashlib, struct, csv, unicodedata). The ChaCha20 block function
below is written from D. J. Bernstein's description and checked against RFC 8439; it does
not share any code with the Rust implementation (src/prn.rs, built on rand_chacha), so a
reviewer can recompute any unit's lottery number by hand. The spec is docs/ALGORITHM.md.

Usage:
    python3 docs/prn_reference.py --selftest
    python3 docs/prn_reference.py --seed 42 --domain outlet WD0001 SZ-0001
    python3 docs/prn_reference.py --write-vectors tests/golden/prn_v1.csv
    python3 docs/prn_reference.py --check-vectors tests/golden/prn_v1.csv
    python3 docs/prn_reference.py --explain --seed 42 --domain outlet WD0001
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import struct
import sys
import unicodedata

ALGORITHM = "prn-v1"
KEY_PREFIX = b"svcaudit/prn-v1"
DOMAINS = ("outlet", "customer", "systematic-start", "pps-start")
CONSTANTS = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)  # "expand 32-byte k"
MASK32 = 0xFFFFFFFF
# Unicode White_Space property (25 code points) = what Rust's char::is_whitespace / str::trim use.
# Deliberately NOT Python's bare str.strip(), which also strips U+001C..U+001F.
WHITESPACE = "".join(map(chr, [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680,
                               *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]))


def strip_ws(text: str) -> str:
    """Remove leading/trailing Unicode White_Space characters."""
    return text.strip(WHITESPACE)


# --------------------------------------------------------------------------- step 1: seed
def canonical_seed(seed: str) -> bytes:
    """Canonical seed bytes: strip, reject empty/control chars, drop leading zeros of all-digit seeds."""
    if not isinstance(seed, str):
        raise TypeError("seed must be str")
    s = strip_ws(seed)
    if not s:
        raise ValueError("seed is empty")
    for ch in s:
        if unicodedata.category(ch) == "Cc":
            raise ValueError(f"seed contains control character U+{ord(ch):04X}")
    if all(c in "0123456789" for c in s):
        s = s.lstrip("0") or "0"
    return s.encode("utf-8")


# --------------------------------------------------------------------------- step 2: key
def key(seed: str, domain: str) -> bytes:
    """K = SHA-256(b"svcaudit/prn-v1" || 0x00 || domain || 0x00 || seed_bytes)."""
    return hashlib.sha256(
        KEY_PREFIX + b"\x00" + domain.encode("utf-8") + b"\x00" + canonical_seed(seed)
    ).digest()


# --------------------------------------------------------------------------- step 3: unit id
def encode_id(unit_id: str) -> bytes:
    """16-byte block input E for a unit id (the id is whitespace-stripped first)."""
    b = strip_ws(unit_id).encode("utf-8")
    n = len(b)
    if n <= 15:
        return b + b"\x00" * (15 - n) + bytes([n])
    return hashlib.sha256(b).digest()[:15] + b"\xff"


# --------------------------------------------------------------------------- step 4: ChaCha20
def _rotl32(v: int, c: int) -> int:
    return ((v << c) & MASK32) | (v >> (32 - c))


def quarter_round(x: list[int], a: int, b: int, c: int, d: int) -> None:
    x[a] = (x[a] + x[b]) & MASK32
    x[d] = _rotl32(x[d] ^ x[a], 16)
    x[c] = (x[c] + x[d]) & MASK32
    x[b] = _rotl32(x[b] ^ x[c], 12)
    x[a] = (x[a] + x[b]) & MASK32
    x[d] = _rotl32(x[d] ^ x[a], 8)
    x[c] = (x[c] + x[d]) & MASK32
    x[b] = _rotl32(x[b] ^ x[c], 7)


def initial_state(k: bytes, e: bytes) -> list[int]:
    """State words: 0-3 constants, 4-11 key (LE u32), 12-15 input block E (LE u32)."""
    if len(k) != 32 or len(e) != 16:
        raise ValueError("key must be 32 bytes and input 16 bytes")
    return list(CONSTANTS) + list(struct.unpack("<8I", k)) + list(struct.unpack("<4I", e))


def chacha20_block(k: bytes, e: bytes) -> bytes:
    """One 64-byte ChaCha20 block (20 rounds) for key k and 16-byte counter||nonce input e."""
    state = initial_state(k, e)
    x = state[:]
    for _ in range(10):  # 10 double rounds = 20 rounds
        quarter_round(x, 0, 4, 8, 12)  # column rounds
        quarter_round(x, 1, 5, 9, 13)
        quarter_round(x, 2, 6, 10, 14)
        quarter_round(x, 3, 7, 11, 15)
        quarter_round(x, 0, 5, 10, 15)  # diagonal rounds
        quarter_round(x, 1, 6, 11, 12)
        quarter_round(x, 2, 7, 8, 13)
        quarter_round(x, 3, 4, 9, 14)
    return struct.pack("<16I", *((x[i] + state[i]) & MASK32 for i in range(16)))


# --------------------------------------------------------------------------- step 5/6
def prn(seed: str, domain: str, unit_id: str) -> tuple[int, int, float]:
    """Return (x, m, u): x = first LE u64 of the block, m = x >> 12, u = (2m+1)/2**53."""
    block = chacha20_block(key(seed, domain), encode_id(unit_id))
    x = struct.unpack("<Q", block[:8])[0]
    m = x >> 12
    u = (2 * m + 1) / 2**53  # exact: 2m+1 < 2**53 and division by a power of two
    return x, m, u


def sort_key(seed: str, domain: str, unit_id: str) -> tuple[int, bytes]:
    """Units are ordered by m ascending, ties by the stripped id's UTF-8 bytes."""
    return prn(seed, domain, unit_id)[1], strip_ws(unit_id).encode("utf-8")


def start(seed: str, domain: str, unit_id: str, n: int) -> int:
    """S = ((2m+1) * N) >> 53 = floor(u * N), computed exactly; 0 <= S < N."""
    if n < 1:
        raise ValueError("N must be >= 1")
    _, m, _ = prn(seed, domain, unit_id)
    return ((2 * m + 1) * n) >> 53


# --------------------------------------------------------------------------- self-test
RFC8439_2_3_2_KEY = bytes(range(32))
# RFC 8439 state words 12..15: block count 1, nonce 00:00:00:09:00:00:00:4a:00:00:00:00
RFC8439_2_3_2_INPUT = struct.pack("<4I", 0x00000001, 0x09000000, 0x4A000000, 0x00000000)
RFC8439_2_3_2_BLOCK = bytes.fromhex(
    "10f1e7e4d13b5915500fdd1fa32071c4"
    "c7d1f4c733c068030422aa9ac3d46c4e"
    "d2826446079faa0914c2d705d98b02a2"
    "b5129cd1de164eb9cbd083e8a2503c4e"
)
# RFC 8439 appendix A.1 test vector #1: all-zero key, counter 0, nonce 0.
RFC8439_A1_TV1_BLOCK = bytes.fromhex(
    "76b8e0ada0f13d90405d6ae55386bd28"
    "bdd219b8a08ded1aa836efcc8b770dc7"
    "da41597c5157488d7724e03fb8d84a37"
    "6a43b8f41518a11cc387b669b2ee6586"
)


def selftest() -> list[str]:
    """Run the built-in checks; return a list of failure messages (empty = pass)."""
    fails: list[str] = []

    def check(name: str, got, want) -> None:
        if got != want:
            fails.append(f"{name}: got {got!r}, want {want!r}")

    # RFC 8439 2.1.1 quarter round
    q = [0x11111111, 0x01020304, 0x9B8D6F43, 0x01234567]
    quarter_round(q, 0, 1, 2, 3)
    check("RFC 8439 2.1.1 quarter round", q, [0xEA2A92F4, 0xCB1CF8CE, 0x4581472E, 0x5881C4BB])
    # RFC 8439 2.3.2 block function
    check("RFC 8439 2.3.2 block", chacha20_block(RFC8439_2_3_2_KEY, RFC8439_2_3_2_INPUT).hex(),
          RFC8439_2_3_2_BLOCK.hex())
    check("RFC 8439 A.1 #1 block", chacha20_block(bytes(32), bytes(16)).hex(), RFC8439_A1_TV1_BLOCK.hex())
    # seed canonical form
    for raw, want in [("42", b"42"), ("0042", b"42"), ("000", b"0"), (" 42\n", b"42"),
                      (" 春季审核 2026 ", "春季审核 2026".encode()), ("x", b"x"), ("-0042", b"-0042"),
                      ("０４２", "０４２".encode())]:  # full-width digits are not ASCII digits
        check(f"canonical_seed({raw!r})", canonical_seed(raw), want)
    for bad in ["", "   ", "\u3000", "a\tb", "a\x00b", "a\x7fb", "42\x1f", "\x1c42"]:
        try:
            canonical_seed(bad)
            fails.append(f"canonical_seed({bad!r}) did not raise")
        except ValueError:
            pass
    check("key 0042 == key 42", key("0042", "outlet"), key("42", "outlet"))
    if key("42", "outlet") == key("42", "customer"):
        fails.append("domains do not separate keys")
    # id encoding
    check("encode_id('a')", encode_id("a"), b"a" + b"\x00" * 14 + b"\x01")
    check("encode_id(15 bytes)", encode_id("123456789012345"), b"123456789012345\x0f")
    check("encode_id(16 bytes)", encode_id("1234567890123456"),
          hashlib.sha256(b"1234567890123456").digest()[:15] + b"\xff")
    check("encode_id strips", encode_id(" WD0001 "), encode_id("WD0001"))
    check("encode_id strips U+3000/U+00A0", encode_id("\u3000WD0001\u00a0"), encode_id("WD0001"))
    check("encode_id keeps U+001F", encode_id("WD0001\x1f"), b"WD0001\x1f" + b"\x00" * 8 + b"\x07")
    check("encode_id keeps U+200B", encode_id("\u200bWD0001")[-1], 9)
    check("encode_id('')", encode_id(""), bytes(16))
    # u range / exactness, start range
    for uid in ["1001", "WD0001", "a", "1234567890123456"]:
        x, m, u = prn("42", "outlet", uid)
        if not (0.0 < u < 1.0) or m != x >> 12 or u * 2**53 != 2 * m + 1:
            fails.append(f"u not exact / in range for {uid!r}")
        for n in (1, 2, 7, 1000, 2**40 + 3):
            s = start("42", "systematic-start", uid, n)
            if not 0 <= s < n:
                fails.append(f"start out of range for {uid!r}, N={n}")
        check(f"start N=1 {uid!r}", start("42", "pps-start", uid, 1), 0)
    return fails


# --------------------------------------------------------------------------- golden vectors
VECTOR_SEEDS = ["42", "0042", "20261122", "春季审核2026", "x"]
VECTOR_IDS = ["1001", "WD0001", "SZ-0001", "网点-广州-001", "123456789012345",
              "1234567890123456", "13800138000", "a", "all", "广东/深圳"]
VECTOR_HEADER = ["seed", "domain", "id", "x_hex", "u"]


def vector_rows() -> list[list[str]]:
    rows = []
    for seed in VECTOR_SEEDS:
        for domain in DOMAINS:
            for uid in VECTOR_IDS:
                x, _, u = prn(seed, domain, uid)
                rows.append([seed, domain, uid, f"{x:016x}", repr(u)])
    return rows


def write_vectors(path: str) -> int:
    rows = vector_rows()
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(VECTOR_HEADER)
        w.writerows(rows)
    return len(rows)


def check_vectors(path: str) -> tuple[int, list[str]]:
    errors: list[str] = []
    n = 0
    with open(path, encoding="utf-8", newline="") as f:
        r = csv.reader(f)
        header = next(r, None)
        if header != VECTOR_HEADER:
            errors.append(f"bad header {header!r}, want {VECTOR_HEADER!r}")
            return 0, errors
        for lineno, row in enumerate(r, start=2):
            if len(row) != 5:
                errors.append(f"line {lineno}: expected 5 fields, got {len(row)}")
                continue
            seed, domain, uid, x_hex, u_text = row
            n += 1
            try:
                x, _, u = prn(seed, domain, uid)
            except ValueError as exc:
                errors.append(f"line {lineno}: {exc}")
                continue
            if x_hex.strip().lower() != f"{x:016x}":
                errors.append(f"line {lineno}: x {x_hex} != {x:016x} ({seed!r}, {domain!r}, {uid!r})")
            try:
                if float(u_text) != u:
                    errors.append(f"line {lineno}: u {u_text} != {u!r} ({seed!r}, {domain!r}, {uid!r})")
            except ValueError:
                errors.append(f"line {lineno}: u {u_text!r} is not a number")
    return n, errors


# --------------------------------------------------------------------------- CLI
def explain(seed: str, domain: str, unit_id: str) -> str:
    sb = canonical_seed(seed)
    k = key(seed, domain)
    e = encode_id(unit_id)
    st = initial_state(k, e)
    x, m, u = prn(seed, domain, unit_id)
    block = chacha20_block(k, e)
    key_input = KEY_PREFIX + b"\x00" + domain.encode("utf-8") + b"\x00" + sb
    lines = [
        f"seed text        {seed!r}",
        f"canonical seed   {sb.decode('utf-8')!r} = {sb.hex()}",
        f"domain           {domain!r}",
        f"key input        {key_input.hex()}",
        f"K                {k.hex()}",
        f"id               {strip_ws(unit_id)!r} = {strip_ws(unit_id).encode().hex()} ({len(strip_ws(unit_id).encode())} bytes)",
        f"E                {e.hex()}",
        "state words 12-15 " + " ".join(f"0x{w:08x}" for w in st[12:16]),
        f"block counter    {struct.unpack('<Q', e[:8])[0]} (0x{struct.unpack('<Q', e[:8])[0]:016x})",
        f"stream           {struct.unpack('<Q', e[8:])[0]} (0x{struct.unpack('<Q', e[8:])[0]:016x})",
        f"output bytes 0-7 {block[:8].hex()}",
        f"x                0x{x:016x} = {x}",
        f"m = x >> 12      {m}",
        f"u = (2m+1)/2^53  {u!r}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="prn-v1 reference implementation (stdlib only)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--selftest", action="store_true", help="run built-in checks incl. RFC 8439 vectors")
    g.add_argument("--write-vectors", metavar="FILE", help="write the golden vector CSV")
    g.add_argument("--check-vectors", metavar="FILE", help="recompute every row of a vector CSV")
    p.add_argument("--seed", help="seed text")
    p.add_argument("--domain", help="domain: " + ", ".join(DOMAINS))
    p.add_argument("--explain", action="store_true", help="print all intermediate values")
    p.add_argument("ids", nargs="*", metavar="ID")
    a = p.parse_args(argv)

    fails = selftest()
    if fails:
        for f in fails:
            print("SELFTEST FAIL:", f, file=sys.stderr)
        return 1
    if a.selftest:
        print("selftest OK (RFC 8439 2.1.1, 2.3.2, A.1 #1; seed/id encoding; u and start ranges)")
        return 0
    if a.write_vectors:
        print(f"wrote {write_vectors(a.write_vectors)} vectors to {a.write_vectors}")
        return 0
    if a.check_vectors:
        n, errors = check_vectors(a.check_vectors)
        for e in errors:
            print("MISMATCH:", e, file=sys.stderr)
        if errors or n == 0:
            print(f"{len(errors)} of {n} vectors FAILED" if n else "no vectors found", file=sys.stderr)
            return 1
        print(f"{n} vectors OK")
        return 0
    if a.seed is None or a.domain is None or not a.ids:
        p.error("give --selftest, --write-vectors, --check-vectors, or --seed S --domain D ID [ID ...]")
    if a.domain not in DOMAINS:
        print(f"warning: domain {a.domain!r} is not one of {', '.join(DOMAINS)}", file=sys.stderr)
    try:
        if a.explain:
            print("\n\n".join(explain(a.seed, a.domain, i) for i in a.ids))
            return 0
        w = csv.writer(sys.stdout, lineterminator="\n")
        for uid in a.ids:
            x, _, u = prn(a.seed, a.domain, uid)
            w.writerow([uid, f"{x:016x}", repr(u)])
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


# Self-test on import: a broken block function must never produce numbers silently.
_IMPORT_FAILS = selftest()
if _IMPORT_FAILS:
    raise ImportError("prn_reference self-test failed: " + "; ".join(_IMPORT_FAILS))

if __name__ == "__main__":
    sys.exit(main())
