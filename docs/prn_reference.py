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
    python3 docs/prn_reference.py customers records.csv --seed 42 --per-outlet 5 [--outlets DIR] --out DIR

The `customers` subcommand is the customer draw of docs/ALGORITHM.md §4 (UTF-8 CSV input);
it writes sample.csv, call_sheet.csv and flagged.csv as svcaudit does, byte for byte.
"""

from __future__ import annotations

import argparse
import csv
import decimal
import functools
import hashlib
import json
import math
import os
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
@functools.lru_cache(maxsize=16)
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


# --------------------------------------------------------------------------- customer draw
# docs/ALGORITHM.md §4, written from the specification (not from src/customers): reads a
# UTF-8 service-record CSV, draws people per outlet, and writes sample.csv, call_sheet.csv
# and flagged.csv in svcaudit's exact bytes. Formats other than UTF-8 CSV (xlsx, GBK,
# UTF-16) are out of scope here: convert them to UTF-8 first.

class DrawError(Exception):
    """A problem that stops the draw (svcaudit exits non-zero for the same input)."""


# Header names recognised per role (docs/ALGORITHM.md §4.1.4, the column vocabulary of
# src/io/vocab.rs), compared after fold(); the first name of a list that the header has wins.
# A customer number (客户编号) is a person key, never a record id; both are optional.
ALIASES = {
    "id": ["record_id", "order_id", "service_order_id", "工单号", "服务单号", "工单编号", "维修单号",
           "订单号", "记录编号", "id", "编号"],
    "customer": ["customer_id", "customer_no", "customer_number", "客户编号", "顾客编号", "客户号",
                 "客户代码", "会员编号", "用户编号"],
    "outlet": ["outlet_id", "网点编号", "网点代码", "网点编码", "网点id", "门店编号", "门店代码",
               "服务网点编号", "outlet_code", "outlet"],
    "date": ["service_date", "服务日期", "服务时间", "维修日期", "完成日期", "日期", "date"],
    "phone": ["phone", "mobile", "tel", "telephone", "电话", "手机", "手机号", "手机号码", "联系电话",
              "客户电话"],
    "name": ["name", "customer_name", "姓名", "客户姓名", "顾客姓名", "联系人"],
    "type": ["service_type", "服务类型", "服务类别", "业务类型"],
}
ASCII_WS = b" \t\n\x0c\r"  # Rust's u8::is_ascii_whitespace (no vertical tab)


def fold(h: str) -> str:
    """A header name as compared (§4.1.4): trimmed of white space and BOMs, full-width ASCII
    U+FF01..U+FF5E folded to ASCII, U+3000 to a space, lower-cased."""
    h = h.strip(WHITESPACE + "\ufeff")
    h = "".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else " " if c == "\u3000" else c
                for c in h)
    return h.lower()


def find_column(header: list[str], requested: str | None, aliases: list[str]) -> int | None:
    pos = {}
    for i, h in enumerate(header):
        pos.setdefault(fold(h), i)
    if requested is not None:
        if fold(requested) not in pos:
            raise DrawError(f"no column {requested!r}; the header has: {', '.join(header)}")
        return pos[fold(requested)]
    for a in aliases:
        if fold(a) in pos:
            return pos[fold(a)]
    return None


# ---- ids (§3.9): when an outlet id of the records is an id of the outlet list
INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"  # BOM, zero-width space/non-joiner/joiner, word joiner


def id_key(s: str) -> str:
    """The comparison key of an id under the rule `nfkc`: BOMs and zero-width characters
    removed, NFKC, trimmed. A printable-ASCII id without surrounding spaces is its own key."""
    if all(" " <= c <= "~" for c in s) and not s.startswith(" ") and not s.endswith(" "):
        return s
    return strip_ws(unicodedata.normalize("NFKC", "".join(c for c in s if c not in INVISIBLE)))


# ---- the outlet list's totals and footnote rows (§3.1.0)
def is_marker(cell: str) -> bool:
    cell = strip_ws(cell)
    if cell.startswith(("注:", "注：", "备注:", "备注：", "说明:", "说明：")):
        return True
    rest = next((cell[len(m):] for m in ("合计", "总计", "小计") if cell.startswith(m)), None)
    if rest is None and len(cell.encode()) >= 5 and cell[:5].lower() == "total" and cell[:5].isascii():
        rest = cell[5:]
    if rest is None:
        return False
    rest = rest.lstrip(WHITESPACE)
    return not rest or not rest[0].isalpha()


def is_idless_marker_row(cells: list[str], idc: int) -> bool:
    first = next((c for c in cells if c), None)
    return first is not None and is_marker(first) and (
        idc >= len(cells) or not cells[idc] or is_marker(cells[idc]))


# ---- dates: days since 1970-01-01 (proleptic Gregorian; Python's date has no year 0)
def days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


def _ymd(y: int, m: int, d: int) -> int | None:
    if not 1 <= m <= 12 or d < 1:
        return None
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    dim = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    return days_from_civil(y, m, d) if d <= dim else None


def _digits_end(s: str, i: int) -> int:
    while i < len(s) and s[i] in "0123456789":
        i += 1
    return i


def parse_date(cell: str, excel_serial: bool = False) -> int | None:
    """A service date (§4.3) as days since 1970-01-01, or None."""
    s = strip_ws(cell)
    n = _digits_end(s, 0)

    def num(a: int, b: int) -> int | None:
        return int(s[a:b]) if 0 < b - a <= 4 else None

    if n == 8 and (n == len(s) or s[n] in " T"):
        return _ymd(int(s[0:4]), int(s[4:6]), int(s[6:8]))
    if excel_serial and ((1 <= n <= 7 and n == len(s)) or (
            0 < n < len(s) - 1 and s[n] == "." and _digits_end(s, n + 1) == len(s))):
        serial = int(s[:n])  # an Excel serial day (xlsx only), a time fraction ignored
        return serial - 25569 if 61 <= serial <= 2958465 else None
    if n != 4:
        return None
    seps = {"-": "dash", "/": "slash", ".": "dot", "年": "year", "月": "month"}
    if n >= len(s) or s[n] not in seps:
        return None
    sep, m_end = seps[s[n]], _digits_end(s, n + 1)
    m = num(n + 1, m_end)
    if m is None or m_end >= len(s) or s[m_end] not in seps:
        return None
    sep2, d_end = seps[s[m_end]], _digits_end(s, m_end + 1)
    if (sep == "year") != (sep2 == "month") or (sep != "year" and sep != sep2):
        return None
    d = num(m_end + 1, d_end)
    if d is None:
        return None
    rest = s[d_end:]
    if sep == "year":
        if rest[:1] not in ("日", "号"):
            return None
        rest = rest[1:]
    if rest and rest[0] not in " T":
        return None
    return _ymd(int(s[0:4]), m, d)


def format_day(days: int) -> str:
    y, m, d = civil_from_days(days)
    return f"{y:04d}-{m:02d}-{d:02d}"


# ---- phones and masks
def _ascii_digits(s: str) -> str:
    return "".join(c for c in s if c in "0123456789")


def phone_digits(cell: str) -> str | None:
    """The person key of a phone cell (§4.2): its digits, country code dropped, or None."""
    if any(("a" <= c <= "z") or ("A" <= c <= "Z") for c in cell):
        return None
    d = _ascii_digits(cell)
    if len(d) > 24:
        return None
    for cc in ("0086", "86"):
        if d.startswith(cc) and len(d) - len(cc) == 11 and d[len(cc)] == "1":
            d = d[len(cc):]
            break
    return d if 7 <= len(d) <= 15 else None


def mask_phone(cell: str) -> str:
    d = phone_digits(cell)
    if d is None:
        d = _ascii_digits(cell)
    if not d:
        return "" if not strip_ws(cell) else "*" * min(len(cell), 8)
    head, tail = (3, 4) if len(d) >= 8 else (0, min(2, len(d)))
    return d[:head] + "*" * (len(d) - head - tail) + d[len(d) - tail:]


def mask_name(cell: str) -> str:
    s = strip_ws(cell)
    return s[:1] + "*" * max(len(s) - 1, 1) if s else ""


# ---- numbers as Rust's `{}` prints an f64: shortest round-trip digits, never an exponent
def rust_float(x: float) -> str:
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    s = format(decimal.Decimal(repr(x)), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


def csv_line(cells: list[str]) -> str:
    """One record as svcaudit writes it: `,`-separated, quoted only around , " CR LF; LF."""
    out = []
    for c in cells:
        if any(ch in c for ch in ',"\r\n'):
            c = '"' + c.replace('"', '""') + '"'
        out.append(c)
    return ",".join(out) + "\n"


# ---- reading the records (§4.1)
def sniff_delimiter(text: str) -> str:
    first = next((ln for ln in text.splitlines() if strip_ws(ln)), "")
    counts = {c: 0 for c in ",\t;|"}
    inq = False
    for ch in first:
        if ch == '"':
            inq = not inq
        elif not inq and ch in counts:
            counts[ch] += 1
    best = ","
    for c in "\t;|":
        if counts[c] > counts[best]:
            best = c
    return best


def split_record(data: bytes, pos: int, delim: int) -> tuple[list[str], int, bool]:
    """Cells (trimmed) of the record at data[pos:], the end of the record, and whether a
    quote was left open. A quote opens a quoted cell only at the start of a cell (spaces
    before it are dropped); `""` inside is a quote; anything else is kept as written."""
    cells, cur, i, inq, at_start = [], bytearray(), pos, False, True
    while True:
        if i >= len(data):
            cells.append(bytes(cur))
            break
        b = data[i]
        if inq:
            if b == 0x22:
                if data[i + 1:i + 2] == b'"':
                    cur.append(0x22)
                    i += 2
                    continue
                inq = False
            else:
                cur.append(b)
            i += 1
            continue
        if b == 0x22 and (at_start or all(c in ASCII_WS for c in cur)):
            cur.clear()
            inq, at_start = True, False
        elif b == 0x0A:
            if cur[-1:] == b"\r":
                cur.pop()
            cells.append(bytes(cur))
            i += 1
            break
        elif b == delim:
            cells.append(bytes(cur))
            cur = bytearray()
            at_start = True
        else:
            cur.append(b)
            at_start = False
        i += 1
    return [strip_ws(c.decode("utf-8")) for c in cells], min(i, len(data)), inq


def read_records(path: str):
    """(header, rows) of a UTF-8 CSV; rows are (line, cells), blank records left out."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DrawError(f"{path}: not UTF-8 (byte {e.start}); convert it to UTF-8 first")
    pos = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    line = 1
    while True:  # blank lines before the header
        nl = data.find(b"\n", pos)
        if nl < 0 or not all(c in ASCII_WS for c in data[pos:nl]):
            break
        pos, line = nl + 1, line + 1
    _, end, _ = split_record(data, pos, 0x2C)
    delim = ord(sniff_delimiter(data[pos:end].decode("utf-8")))
    cells, pos, _ = split_record(data, pos, delim)
    header = [strip_ws(c.lstrip("\ufeff")) for c in cells]
    while header and not header[-1]:
        header.pop()
    line += 1
    rows, bad = [], []
    while pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl
        if b'"' not in data[pos:end]:
            text = data[pos:end]
            nxt, used = (end if nl < 0 else nl + 1), 1
            blank = all(c in ASCII_WS for c in text)
            cells = [strip_ws(c.decode("utf-8")) for c in text.split(bytes([delim]))]
        else:
            cells, nxt, open_quote = split_record(data, pos, delim)
            if open_quote:
                raise DrawError(f"{path}:{line}: a quote opens a cell and is never closed")
            used = max(data.count(b"\n", pos, nxt), 1)
            blank = all(not c for c in cells)
        if not blank:
            while len(cells) > len(header) and not cells[-1]:
                cells.pop()
            if len(cells) != len(header):
                bad.append(f"{path}:{line}: {len(cells)} fields, but the header has {len(header)} columns")
            rows.append((line, cells))
        pos, line = nxt, line + used
    if bad:
        raise DrawError("\n".join(bad))
    return header, rows, chr(delim)


def read_outlet_stage(folder: str) -> tuple[dict[str, tuple[str, float]], dict[str, str]]:
    """Stage 1 (§4.4): sampled outlet -> (stratum, π) from sample.csv (reserves left out),
    and the outlet list the draw's manifest names, as id key -> the id as the list writes it
    (totals and footnote rows without an id left out; a plain UTF-8 CSV list only)."""
    sampled = {}
    with open(os.path.join(folder, "sample.csv"), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["role"] != "reserve":
                sampled[r["unit_id"]] = (r["stratum"], float(r["inclusion_prob"]))
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        frame = json.load(f)["frame"]
    header, rows, _ = read_records(os.path.join(folder, frame["path"]))
    col = header.index(frame["id_column"])
    ids = [cells[col] for _, cells in rows if not is_idless_marker_row(cells, col)]
    return sampled, {id_key(i): i for i in ids}


# ---- sizes (§4.4)
def normal_quantile(p: float) -> float:
    """Φ⁻¹(p), Wichura's AS 241 (PPND16), evaluated in the same order as svcaudit."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (((((((r * 2509.0809287301227 + 33430.575583588128) * r + 67265.7709270087) * r
                   + 45921.953931549871) * r + 13731.693765509461) * r + 1971.5909503065513) * r
                + 133.14166789178438) * r + 3.3871328727963665)
        den = (((((((r * 5226.4952788528545 + 28729.085735721943) * r + 39307.89580009271) * r
                   + 21213.794301586596) * r + 5394.1960214247511) * r + 687.18700749205791) * r
                + 42.313330701600911) * r + 1.0)
        return q * num / den
    r = math.sqrt(-math.log(p if q < 0 else 1.0 - p))
    if r <= 5.0:
        r -= 1.6
        num = (((((((r * 7.7454501427834141e-4 + 0.022723844989269184) * r + 0.24178072517745061) * r
                   + 1.2704582524523684) * r + 3.6478483247632045) * r + 5.769497221460691) * r
                + 4.6303378461565453) * r + 1.4234371107496835)
        den = (((((((r * 1.0507500716444169e-9 + 5.4759380849953449e-4) * r + 0.015198666563616457) * r
                   + 0.14810397642748007) * r + 0.68976733498510004) * r + 1.6763848301838038) * r
                + 2.0531916266377588) * r + 1.0)
    else:
        r -= 5.0
        num = (((((((r * 2.0103343992922881e-7 + 2.7115555687434876e-5) * r + 0.0012426609473880784) * r
                   + 0.026532189526576123) * r + 0.29656057182850489) * r + 1.7848265399172913) * r
                + 5.4637849111641144) * r + 6.6579046435011038)
        den = (((((((r * 2.0442631033899397e-15 + 1.421511758316446e-7) * r + 1.8463183175100548e-5) * r
                   + 7.868691311456132e-4) * r + 0.014875361290850615) * r + 0.1369298809227358) * r
                + 0.5998322065558879) * r + 1.0)
    val = num / den
    return -val if q < 0 else val


def cochran(confidence: float, margin: float, p: float, population: int) -> int:
    """⌈n₀ / (1 + (n₀ − 1)/N)⌉ with n₀ = z²·p(1−p)/e², at most N (§4.4)."""
    z = normal_quantile(0.5 + confidence / 2.0)
    n0 = z * z * p * (1.0 - p) / (margin * margin)
    n_fpc = 0.0 if population == 0 else n0 / (1.0 + (n0 - 1.0) / population)
    n = math.ceil(n_fpc)
    if n - n_fpc > 1.0 - 1e-9:
        n -= 1
    return min(max(n, 0), population)


def inflate(n: int, rate: float) -> int:
    """Contacts for n interviews at a response rate: ⌈n / rate⌉ (§4.4)."""
    if rate >= 1.0:
        return n
    return max(math.ceil(n / rate - 1e-9), 0)


def allocate(sizes: list[tuple[str, int]], n: int, equal: bool, min_per: int) -> list[int]:
    """Largest-remainder allocation of n over units of sizes N_h (§3.3), exact integers."""
    if not sizes:
        return []
    total = sum(s for _, s in sizes)
    n = min(n, total)
    nums = [n] * len(sizes) if equal else [n * s for _, s in sizes]
    den = len(sizes) if equal else max(total, 1)
    mins = [min(min_per, s) for _, s in sizes]
    out = [min(max(nums[i] // den, mins[i]), sizes[i][1]) for i in range(len(sizes))]

    def key(i):  # ascending = first to receive a unit: largest remainder, larger N, name
        return (-(nums[i] - out[i] * den), -sizes[i][1], sizes[i][0].encode())

    target = max(n, sum(mins))
    while sum(out) < target:
        open_ = [i for i in range(len(sizes)) if out[i] < sizes[i][1]]
        if not open_:
            break
        out[min(open_, key=key)] += 1
    while sum(out) > target:
        above = [i for i in range(len(sizes)) if out[i] > mins[i]]
        if not above:
            break
        out[max(above, key=key)] -= 1
    return out


# ---- the draw (§4.1-§4.5)
def choose_columns(header: list[str], a) -> dict:
    """The column of each role (§4.1.4) and the person key: --person-key, else the phone,
    else the customer number."""
    col = {k: find_column(header, getattr(a, f"{k}_col"), ALIASES[k]) for k in ALIASES}
    for k in ("outlet", "date"):
        if col[k] is None:
            raise DrawError(f"no column for the {k}; looked for {', '.join(ALIASES[k])}")
    if a.person_key:
        col["person"] = find_column(header, a.person_key, [])
    else:
        col["person"] = col["phone"] if col["phone"] is not None else col["customer"]
    if col["person"] is None:
        raise DrawError("no phone column and no customer number column; give --phone-col, "
                        "--customer-col or --person-key")
    for k in ("id", "outlet", "date", "phone", "customer", "person"):
        i = col[k]
        if i is not None and sum(fold(h) == fold(header[i]) for h in header) > 1:
            raise DrawError(f"the header names column `{header[i]}` more than once")
    return col


def classify(header, rows, a, outlet_list):
    """Eligible rows as (key, outlet name, day, row index), the flagged rows (§4.1.6) and
    the number of eligible rows whose outlet id is respelled (§3.9)."""
    col = choose_columns(header, a)
    person = col["person"]
    types = {t for t in (strip_ws(x) for x in (a.service_types or "").split(",")) if t}
    if types and col["type"] is None:
        raise DrawError("--service-types needs a service type column")
    since = until = None
    for flag in ("since", "until"):
        v = getattr(a, flag)
        if v is not None:
            d = parse_date(v)
            if d is None:
                raise DrawError(f"--{flag} `{v}`: not a date; write e.g. 2025-03-01")
            since, until = (d, until) if flag == "since" else (since, d)
    eligible, flags, seen_ids, dups, respelled = [], [], {}, [], 0
    for idx, (line, c) in enumerate(rows):
        if col["id"] is not None:
            rid = c[col["id"]]
            if not rid:
                flags.append((line, col["id"], "empty record id", ""))
                continue
            if rid in seen_ids:
                dups.append(f"record id `{rid}` on lines {seen_ids[rid]} and {line}")
            seen_ids.setdefault(rid, line)
        outlet = c[col["outlet"]]
        if not outlet:
            flags.append((line, col["outlet"], "empty outlet id", ""))
            continue
        # The outlet's name: the list's spelling of the id, or its key without a list.
        name = id_key(outlet) if outlet_list is None else outlet_list.get(id_key(outlet))
        if name is None:
            flags.append((line, col["outlet"], "outlet id not in the outlet list", outlet))
            continue
        day = parse_date(c[col["date"]])
        if day is None:
            flags.append((line, col["date"], "service date not readable", c[col["date"]]))
            continue
        if (since is not None and day < since) or (until is not None and day > until):
            continue
        if types and c[col["type"]] not in types:
            continue
        digits = None
        if col["phone"] is not None:
            digits = phone_digits(c[col["phone"]])
            if digits is None:
                flags.append((line, col["phone"], "no usable phone number", ""))
                continue
        key = digits if person == col["phone"] else c[person]
        if not key:
            flags.append((line, person, "empty person key", ""))
            continue
        respelled += name != outlet
        eligible.append((key, name, day, idx))
    if dups:
        raise DrawError("duplicated record ids:\n" + "\n".join(dups))
    return col, eligible, sorted(flags), respelled


def draw_customers(a) -> dict:
    header, rows, _ = read_records(a.file)
    stage, known = (read_outlet_stage(a.outlets) if a.outlets else (None, None))
    col, eligible, flags, respelled = classify(header, rows, a, known)
    if not eligible:
        raise DrawError("none of the records is eligible")
    # People: the most recent service owns them; ties: smaller outlet id, earlier row.
    people: dict[str, list] = {}
    for key, outlet, day, idx in eligible:
        people.setdefault(key, []).append((-day, outlet.encode(), idx, outlet))
    owned: dict[str, list] = {}
    for key, recs in people.items():
        rep = min(recs)
        owned.setdefault(rep[3], []).append({
            "key": key, "day": -rep[0], "row": rep[2],
            "seen": len({r[3] for r in recs})})
    outlets = sorted({o for _, o, _, _ in eligible}, key=lambda s: s.encode())
    sampled = [o for o in outlets if stage is None or o in stage]
    big_n = {o: len(owned.get(o, [])) for o in sampled}
    rate = a.response_rate
    if a.per_outlet is not None:
        ns = [min(a.per_outlet, big_n[o]) for o in sampled]
    else:
        pop = sum(big_n.values())
        total = min(a.n, pop) if a.n is not None else cochran(a.confidence, a.margin, a.p, pop)
        ns = allocate([(o, big_n[o]) for o in sampled], total, a.allocation == "equal",
                      a.min_per_outlet)
    out_rows, plans = [], []
    for o, n in zip(sampled, ns):
        stratum, pi_o = stage[o] if stage is not None else ("all", 1.0)
        N = big_n[o]
        contacts = min(inflate(n, rate), N)
        reserves = min(a.reserve, N - contacts)
        pi = 0.0 if N == 0 else pi_o * contacts / N
        for p in owned.get(o, []):  # the lottery number m and the encoded key e (§1)
            p["m"], p["e"] = prn(a.seed, "customer", p["key"])[1], encode_id(p["key"])
        ranked = sorted(owned.get(o, []), key=lambda p: (p["m"], p["e"]))
        for i, p in enumerate(ranked[:contacts + reserves]):
            out_rows.append({"outlet": o, "stratum": stratum, "rank": i + 1, "pi": pi, "person": p,
                             "role": "selected" if i < contacts else "reserve"})
        plans.append((stratum, o, pi_o, N, n, contacts, reserves))
    out_rows.sort(key=lambda r: (r["stratum"].encode(), r["outlet"].encode(), r["rank"]))
    return {"header": header, "rows": rows, "col": col, "draw": out_rows, "respelled": respelled,
            "flags": flags, "plans": sorted(plans, key=lambda p: (p[0].encode(), p[1].encode()))}


def unit_id(d: dict, r: dict) -> str:
    """A drawn person's unit_id (§4.5): the record id; without a record id column, the
    customer number when that is the person key, else `<outlet>-<rank>`."""
    col, cells = d["col"], d["rows"][r["person"]["row"]][1]
    if col["id"] is not None:
        return cells[col["id"]]
    if col["customer"] is not None and col["customer"] == col["person"]:
        return cells[col["person"]]
    return f"{r['outlet']}-{r['rank']}"


def render_sample(d: dict, seed: str) -> str:
    col, header = d["col"], d["header"]
    out = [csv_line(["unit_id", "stratum", "outlet_id", "role", "rank", "prn", "inclusion_prob",
                     "weight"] + header)]
    for r in d["draw"]:
        cells = d["rows"][r["person"]["row"]][1]
        m = r["person"]["m"]
        row = [unit_id(d, r), r["stratum"], r["outlet"], r["role"], str(r["rank"]),
               rust_float((2 * m + 1) / 2**53), rust_float(r["pi"]),
               rust_float(1.0 / r["pi"]) if r["pi"] > 0 else ""]
        for i, v in enumerate(cells):
            if i == col["phone"] or (i == col["person"] and i not in (col["id"], col["customer"])):
                v = mask_phone(v)
            elif i == col["name"]:
                v = mask_name(v)
            row.append(v)
        out.append(csv_line(row))
    return "".join(out)


def render_call_sheet(d: dict) -> str:
    col, header = d["col"], d["header"]
    skip = {col["id"], col["outlet"], col["name"], col["phone"]} - {None}
    keep = [i for i in range(len(header)) if i not in skip]
    out = [csv_line(["outlet_id", "call_order", "role", "unit_id", "name", "phone",
                     "last_service", "outlets_served"] + [header[i] for i in keep])]
    for r in sorted(d["draw"], key=lambda r: (r["outlet"].encode(), r["rank"])):
        cells, p = d["rows"][r["person"]["row"]][1], r["person"]
        out.append(csv_line([r["outlet"], str(r["rank"]), r["role"], unit_id(d, r),
                             "" if col["name"] is None else cells[col["name"]],
                             "" if col["phone"] is None else cells[col["phone"]],
                             format_day(p["day"]), str(p["seen"])] + [cells[i] for i in keep]))
    return "".join(out)


def render_flagged(d: dict) -> str:
    out = [csv_line(["line", "column", "column_name", "reason", "value"])]
    for line, c, reason, value in d["flags"]:
        out.append(csv_line([str(line), str(c + 1), d["header"][c], reason, value]))
    return "".join(out)


def customers_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="prn_reference.py customers",
                                description="the customer draw of docs/ALGORITHM.md §4")
    p.add_argument("file", help="service records, UTF-8 CSV")
    p.add_argument("--seed", required=True)
    p.add_argument("--outlets", metavar="DIR", help="the `svcaudit sample outlets` folder (stage 1)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--per-outlet", type=int, metavar="M")
    size.add_argument("--n", type=int, metavar="N")
    p.add_argument("--confidence", type=float, default=0.95)
    p.add_argument("--margin", type=float, default=0.05)
    p.add_argument("--p", type=float, default=0.5)
    p.add_argument("--allocation", choices=["proportional", "equal"], default="proportional")
    p.add_argument("--min-per-outlet", type=int, default=1)
    p.add_argument("--response-rate", type=float, default=1.0)
    p.add_argument("--reserve", type=int, default=0)
    p.add_argument("--since")
    p.add_argument("--until")
    p.add_argument("--service-types")
    for k in ("id", "customer", "outlet", "date", "phone", "name", "type"):
        p.add_argument(f"--{k}-col")
    p.add_argument("--person-key", metavar="COL")
    p.add_argument("--out", metavar="DIR", help="write sample.csv, call_sheet.csv, flagged.csv "
                   "there (default: sample.csv on stdout)")
    p.add_argument("--plan", action="store_true", help="also print each outlet's numbers on stderr")
    a = p.parse_args(argv)
    if not 0.0 < a.response_rate <= 1.0:
        p.error("--response-rate must be in (0, 1]")
    try:
        canonical_seed(a.seed)
        d = draw_customers(a)
    except (DrawError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if a.plan:
        print("stratum,outlet_id,pi_outlet,N,n,contacts,reserves", file=sys.stderr)
        for s, o, pi_o, n_big, n, c, r in d["plans"]:
            print(f"{s},{o},{rust_float(pi_o)},{n_big},{n},{c},{r}", file=sys.stderr)
        print(f"outlet_respelled,{d['respelled']}", file=sys.stderr)
    files = {"sample.csv": render_sample(d, a.seed), "call_sheet.csv": render_call_sheet(d),
             "flagged.csv": render_flagged(d)}
    if a.out is None:
        sys.stdout.buffer.write(files["sample.csv"].encode("utf-8"))
        return 0
    os.makedirs(a.out, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(a.out, name), "wb") as f:
            f.write(text.encode("utf-8"))
    return 0


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
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["customers"]:
        return customers_main(argv[1:])
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
