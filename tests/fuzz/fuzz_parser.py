"""Fuzz driver for the witx front end: parse + validate, and for valid inputs render,
re-parse and compute the ABI report (issue 7, "Parser").

Engine: a plain seeded random loop with feedback, not atheris. atheris installs here, but
its libFuzzer loop exits the process when it is done, cannot say "input 41,337 of seed 7",
and is not a dependency of the project, while the regression replay and the short run in
the normal suite must work everywhere. Guidance comes from outcomes instead of line
coverage: an input whose result (valid or not, diagnostic codes, the first message's
shape) was not seen before joins the pool that later inputs are mutated from, and the
smallest input of each new outcome can be kept in the regression corpus.

Invariants per input (see `check`): only WitxError escapes; every diagnostic and related
note has a span with path, line ≥ 1 and col ≥ 1 (except io/too-large for the entry file);
rendering the diagnostics does not raise; each stage takes under 1 s of CPU time; a valid
input renders to text that parses back to an equal document, whose rendering is a fixed
point.

    python tests/fuzz/fuzz_parser.py --count 100000 --seed 1 --jobs 2
    python tests/fuzz/fuzz_parser.py --replay            # re-check tests/fuzz/corpus/
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from witxgen.abi_report import as_json  # noqa: E402
from witxgen.diagnostics import Diagnostic, WitxError, render_all  # noqa: E402
from witxgen.loader import MAX_FILE_BYTES, load_document, load_text  # noqa: E402
from witxgen.parser import MAX_DEPTH, MAX_TOKENS  # noqa: E402
from witxgen.render import render_document  # noqa: E402

SHARED = Path(os.environ.get("WITXGEN_SHARED", REPO.parent / "shared"))
WITX = SHARED / "witx"
CASES = REPO / "tests" / "cases"
CORPUS = HERE / "corpus"
FINDINGS = Path(tempfile.gettempdir()) / "witxgen-fuzz-findings"  # failures too big to keep

LIMIT_S = 1.0  # CPU seconds any one stage may take
ABORT_S = 5.0  # CPU seconds after which an input is abandoned (and reported slow)
CORPUS_MAX_FILES = 300
CORPUS_MAX_BYTES = 2 * 1024 * 1024
KEEP_MAX_BYTES = 64 * 1024  # larger failures go to FINDINGS; minimise them by hand
INTERESTING_MAX_BYTES = 4 * 1024
POOL_MAX = 3000  # inputs kept to mutate further
POOL_MAX_BYTES = 8 * 1024
SPANLESS_OK = {"io", "too-large"}


# ---- seeds and the work folder ------------------------------------------------------


def seed_paths() -> list[Path]:
    shared = sorted(p for p in WITX.rglob("*") if p.is_file()) if WITX.is_dir() else []
    return shared + sorted(CASES.rglob("*.witx"))


def load_seeds() -> list[bytes]:
    return [p.read_bytes() for p in seed_paths()]


def make_workdir() -> Path:
    """A folder laid out so that the `use`s found in the seeds resolve to something.

    input.witx is the entry file; include/ is also passed as an include directory.
    """
    work = Path(tempfile.mkdtemp(prefix="witxgen-fuzz-"))
    shutil.copytree(CASES / "invalid" / "include", work / "include")
    shutil.copy(CASES / "invalid" / "use-cycle.witx", work / "use-cycle.witx")
    typenames = WITX / "wasi" / "ephemeral" / "typenames.witx"
    if typenames.is_file():
        shutil.copy(typenames, work / "typenames.witx")
    return work


# ---- checking one input ---------------------------------------------------------------


class _Abort(BaseException):
    """Raised by the CPU-time alarm; a BaseException so that no `except Exception` eats it."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Abort


@dataclass
class Outcome:
    valid: bool = False
    codes: tuple[str, ...] = ()
    shape: str = ""  # the first message with names blanked; for a valid input, the kinds
    failure: str | None = None  # one line: what went wrong
    signature: str = ""  # failures with the same signature are the same bug
    cpu: float = 0.0  # the slowest stage's CPU time
    wall: float = 0.0
    stage: str = ""

    @property
    def feature(self) -> str:
        return f"{'ok' if self.valid else 'err'}|{','.join(sorted(set(self.codes)))}|{self.shape}"


def _where(exc: BaseException) -> str:
    """The innermost frame inside witxgen (else the innermost at all) of a traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/witxgen/" in f.filename] or frames
    if not ours:
        return "?"
    f = ours[-1]
    return f"{Path(f.filename).name}:{f.lineno}"


def _span_problem(d: Diagnostic, entry: str, sources: dict[str, str]) -> str | None:
    if d.span is None:
        return None if d.code in SPANLESS_OK and entry in d.message else "no span"
    spans = [d.span] + [r.span for r in d.related]
    for sp in spans:
        if sp is None:
            return "related note without a span"
        if not sp.path or sp.line < 1 or sp.col < 1:
            return f"bad span {sp.path!r}:{sp.line}:{sp.col}"
        lines = sources[sp.path].split("\n") if sp.path in sources else None
        if lines and (sp.line > len(lines) or sp.col > len(lines[sp.line - 1]) + 1):
            return f"span past the text {sp.path!r}:{sp.line}:{sp.col}"
    return None


_SHAPE = re.compile(r"`[^`]*`|\$[\w.-]+|0x[0-9a-fA-F]+|-?\d+|\"[^\"]*\"")


class Checker:
    """Runs the invariants over inputs written to `work/input.witx`."""

    def __init__(self, work: Path, limit: float = LIMIT_S) -> None:
        self.work = work
        self.entry = work / "input.witx"
        self.includes = [work / "include"]
        self.limit = limit

    def check(self, data: bytes) -> Outcome:
        self.entry.write_bytes(data)
        out = Outcome()
        old = signal.signal(signal.SIGPROF, _on_alarm)
        try:
            self._check(out)
        except _Abort:
            out.failure = f"slow: {out.stage or 'load'} still running after {ABORT_S:.0f} s CPU"
            out.signature = f"slow:{out.stage or 'load'}"
            out.cpu = max(out.cpu, ABORT_S)
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, old)
        if out.failure is None and out.cpu > self.limit:
            out.failure = f"slow: {out.stage} took {out.cpu:.2f} s CPU"
            out.signature = f"slow:{out.stage}"
        return out

    def _stage(self, out: Outcome, name: str, fn: Callable[[], Any]) -> Any:
        signal.setitimer(signal.ITIMER_PROF, ABORT_S)
        c0, w0 = time.process_time(), time.perf_counter()
        try:
            return fn()
        finally:
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            signal.setitimer(signal.ITIMER_PROF, 0)
            if cpu >= out.cpu:
                out.cpu, out.wall, out.stage = cpu, wall, name

    def _fail(self, out: Outcome, what: str, signature: str) -> None:
        out.failure, out.signature = what, signature

    def _check(self, out: Outcome) -> None:
        try:
            doc = self._stage(out, "load", lambda: load_document(self.entry, self.includes))
        except WitxError as exc:
            self._invalid(out, exc)
            return
        except Exception as exc:  # noqa: BLE001 - reporting any escape is the point
            self._fail(out, f"load raised {exc!r:.200} at {_where(exc)}", f"crash:{_where(exc)}")
            return
        out.valid = True
        try:
            text = self._stage(out, "render", lambda: render_document(doc))
            again = self._stage(out, "reparse", lambda: load_text(text, "fmt.witx"))
        except WitxError as exc:
            if {d.code for d in exc.diagnostics} == {"too-large"}:
                return  # the rendering spells out tags and reprs, so it can outgrow the cap
            first = exc.diagnostics[0]
            msg = f"rendered text does not parse: {first.span}: {first.message:.200}"
            self._fail(out, msg, f"roundtrip:{first.code}")
            return
        except Exception as exc:  # noqa: BLE001
            self._fail(out, f"round trip raised {exc!r:.200}", f"crash:{_where(exc)}")
            return
        if again != doc:
            pairs = zip(doc.types, again.types, strict=False)
            where = next((a.name for a, b in pairs if a != b), "modules")
            self._fail(out, f"round trip changed the document (at `{where}`)", "roundtrip:differs")
            return
        try:
            if render_document(again) != text:
                self._fail(out, "rendering is not a fixed point", "roundtrip:not-fixed")
                return
            abi = self._stage(out, "abi", lambda: as_json(doc))
            out.shape = ",".join(sorted({t["kind"] for t in abi["types"].values()}))
        except Exception as exc:  # noqa: BLE001
            self._fail(out, f"abi raised {exc!r:.200} at {_where(exc)}", f"crash:{_where(exc)}")

    def _invalid(self, out: Outcome, exc: WitxError) -> None:
        diags = exc.diagnostics
        out.codes = tuple(d.code for d in diags)
        if not diags:
            self._fail(out, "WitxError without diagnostics", "nodiag")
            return
        message = diags[0].message.replace(str(self.work), "WORK")  # same in every run
        out.shape = _SHAPE.sub("_", message)[:80]
        for d in diags:
            problem = _span_problem(d, str(self.entry), exc.sources)
            if problem:
                msg = f"{problem} on [{d.code}] {d.message:.150}"
                self._fail(out, msg, f"span:{d.code}:{problem.split(' ')[0]}")
                return
        try:
            self._stage(out, "diagnostics", lambda: render_all(diags, exc.sources))
        except Exception as exc2:  # noqa: BLE001
            msg = f"render_all raised {exc2!r:.200} at {_where(exc2)}"
            self._fail(out, msg, f"crash:{_where(exc2)}")


# ---- mutators ---------------------------------------------------------------------------

_TOKEN = re.compile(
    rb"""(?P<ws>\s+)
    |(?P<comment>;;[^\n]*|\(;.*?;\))
    |(?P<open>\((?:@[A-Za-z_]+)?)
    |(?P<close>\))
    |(?P<string>"(?:[^"\\\n]|\\.)*"?)
    |(?P<id>\$[^\s()";]*)
    |(?P<number>-?[0-9][0-9A-Fa-fx_]*)
    |(?P<word>[^\s()";$]+)
    |(?P<other>.)""",
    re.S | re.X,
)

Tokens = list[tuple[str, bytes]]

KEYWORDS = (
    b"use typename module import memory func export param result noreturn list array record "
    b"struct field enum flags int const variant case union empty tuple expected error handle "
    b"pointer const_pointer usize char8 tag repr string char bool u8 u16 u32 u64 s8 s16 s32 "
    b"s64 f32 f64 u128 listu32 typename$x"
).split()

SPICE = [
    b"\x00",
    b"\xff",
    b"\xc3",  # a truncated two-byte sequence
    b"\xed\xa0\x80",  # an encoded surrogate
    b"\xef\xbb\xbf",  # a BOM
    b"\xe2\x80\xa8",  # LINE SEPARATOR
    "é".encode(),
    "世".encode(),
    "\U0001f600".encode(),
    b"\r",
    b"\r\n",
    b"\t",
    b"\x0b",
    b"\x0c",
    b'"',
    b"\\",
    b"(;",
    b";)",
    b";;",
    b";;;",
    b"(",
    b")",
    b"$",
    b"@",
    b"(@witx",
    b"(@interface",
]


def tokenize(data: bytes) -> Tokens:
    return [(m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(data)]


def forms(toks: Tokens) -> list[tuple[int, int]]:
    """(start, end) token index ranges of every balanced parenthesised form."""
    out, stack = [], []
    for i, (kind, _) in enumerate(toks):
        if kind == "open":
            stack.append(i)
        elif kind == "close" and stack:
            out.append((stack.pop(), i + 1))
    return out


class Mutator:
    """Makes inputs from the seeds and the pool, deterministically for one random.Random."""

    def __init__(self, seeds: list[bytes], rng: random.Random) -> None:
        self.rng = rng
        self.seeds = seeds
        self.pool: list[bytes] = []  # inputs with a new outcome
        self._toks: dict[bytes, Tokens] = {}  # tokens of seeds and pool entries
        vocab: dict[str, set[bytes]] = {}
        self.forms: list[bytes] = []
        for data in seeds:
            toks = self.tokens(data)
            for kind, text in toks:
                if kind != "ws" and len(text) < 200:
                    vocab.setdefault(kind, set()).add(text)
            for a, b in forms(toks):
                if b - a < 80:
                    self.forms.append(b"".join(t for _, t in toks[a:b]))
        vocab.setdefault("word", set()).update(KEYWORDS)
        self.vocab = {k: sorted(v) for k, v in vocab.items()}
        self.forms.sort()
        self.strategies: list[tuple[str, Callable[[], bytes], int]] = [
            ("seed", self.pick, 1),
            ("bytes", self.mutate_bytes, 24),
            ("splice", self.splice, 6),
            ("tokens", self.mutate_tokens, 50),
            ("struct", self.structural, 4),  # few, but up to the caps: a third of the CPU
            ("gentle", self.mutate_gently, 12),
        ]
        self.valid: list[bytes] = []  # inputs known to be valid, for gentle mutations

    def remember(self, data: bytes) -> None:
        """Add an input with a new outcome to the pool; only small ones, since the pool is
        mutated over and over and the parser's cost grows with the input."""
        if len(data) > POOL_MAX_BYTES:
            return
        if len(self.pool) >= POOL_MAX:
            self.pool[self.rng.randrange(POOL_MAX)] = data
        else:
            self.pool.append(data)

    def tokens(self, data: bytes) -> Tokens:
        toks = self._toks.get(data)
        if toks is None:
            toks = tokenize(data)
            if len(self._toks) < 5000:
                self._toks[data] = toks
        return toks

    def next(self) -> tuple[str, bytes]:
        names = [s[0] for s in self.strategies]
        weights = [s[2] for s in self.strategies]
        name = self.rng.choices(names, weights)[0]
        fn = next(s[1] for s in self.strategies if s[0] == name)
        data = fn()
        return name, data

    # -- sources

    def pick(self) -> bytes:
        if self.pool and self.rng.random() < 0.4:
            return self.rng.choice(self.pool)
        return self.rng.choice(self.seeds)

    def window(self, data: bytes) -> bytes:
        """Usually cut a big input down to a few top-level forms, to keep inputs cheap."""
        if len(data) < 3000 or self.rng.random() < 0.2:
            return data
        toks = self.tokens(data)
        tops = _top_level(toks)
        if len(tops) < 4:
            return data
        i = self.rng.randrange(len(tops))
        j = min(len(tops), i + self.rng.randint(1, 12))
        return b"".join(t for _, t in toks[tops[i][0] : tops[j - 1][1]])

    # -- byte level

    def mutate_bytes(self) -> bytes:
        buf = bytearray(self.window(self.pick()))
        for _ in range(self.rng.choice((1, 1, 2, 3, 4, 8))):
            self._byte_op(buf)
        return bytes(buf)

    def _byte_op(self, buf: bytearray) -> None:
        r = self.rng
        n = len(buf)
        op = r.randrange(6)
        pos = r.randrange(n + 1)
        if op == 0 and n:  # flip a bit
            i = r.randrange(n)
            buf[i] ^= 1 << r.randrange(8)
        elif op == 1 and n:  # overwrite a byte
            buf[r.randrange(n)] = r.randrange(256)
        elif op == 2:  # insert random bytes, or a byte sequence known to be awkward
            ins = r.choice(SPICE) if r.random() < 0.6 else r.randbytes(r.randint(1, 8))
            buf[pos:pos] = ins
        elif op == 3 and n:  # delete a range
            buf[pos : pos + r.choice((1, 1, 2, 5, 20, 200))] = b""
        elif op == 4 and n:  # duplicate a range
            a = r.randrange(n)
            buf[pos:pos] = buf[a : a + r.choice((1, 4, 16, 64, 512))]
        elif op == 5 and n:  # truncate
            del buf[pos:]

    def splice(self) -> bytes:
        a, b = self.window(self.pick()), self.window(self.pick())
        return a[: self.rng.randrange(len(a) + 1)] + b[self.rng.randrange(len(b) + 1) :]

    # -- token level

    def mutate_tokens(self) -> bytes:
        toks = list(self.tokens(self.window(self.pick())))
        for _ in range(self.rng.choice((1, 1, 1, 2, 2, 3, 5, 10))):
            self._token_op(toks)
        return b"".join(t for _, t in toks)

    def _token_op(self, toks: Tokens) -> None:  # noqa: C901 - one branch per operation
        r = self.rng
        idx = [i for i, (k, _) in enumerate(toks) if k != "ws"]
        if not idx:
            toks.append(("word", r.choice(self.vocab["word"])))
            return
        i = r.choice(idx)
        kind, text = toks[i]
        op = r.randrange(11)
        if op == 0:  # delete a token
            del toks[i]
        elif op == 1:  # duplicate a token
            toks[i:i] = [(kind, text), ("ws", b" ")]
        elif op == 2:  # swap two tokens
            j = r.choice(idx)
            toks[i], toks[j] = toks[j], toks[i]
        elif op == 3:  # replace with a token of the same kind
            toks[i] = (kind, r.choice(self.vocab.get(kind) or [text]))
        elif op == 4:  # replace with any token
            k = r.choice(list(self.vocab))
            toks[i] = (k, r.choice(self.vocab[k]))
        elif op == 5:  # insert a token
            k = r.choice(list(self.vocab))
            toks[i:i] = [(k, r.choice(self.vocab[k])), ("ws", b" ")]
        elif op == 6:  # rename: reuse a name of this input (duplicates, cycles, forward refs)
            ids = [t for k, t in toks if k == "id"]
            if ids:
                toks[i] = ("id", r.choice(ids))
        else:
            self._form_op(toks, op)

    def _form_op(self, toks: Tokens, op: int) -> None:
        r = self.rng
        fs = forms(toks)
        if not fs:
            return
        a, b = r.choice(fs)
        if op == 7:  # delete a form
            del toks[a:b]
        elif op == 8:  # duplicate a form
            toks[b:b] = [("ws", b"\n")] + toks[a:b]
        elif op == 9:  # replace a form by a form from the corpus, or by one of its own parts
            inner = [(c, d) for c, d in fs if a < c and d < b]
            if inner and r.random() < 0.3:
                c, d = r.choice(inner)
                toks[a:b] = toks[c:d]
            else:
                toks[a:b] = tokenize(r.choice(self.forms))
        else:  # wrap a form
            head, tail = r.choice(_WRAPPERS)
            toks[a:b] = tokenize(head) + toks[a:b] + tokenize(tail)

    def mutate_gently(self) -> bytes:
        """Edits that usually keep a valid input valid, to exercise render and round trip."""
        r = self.rng
        toks = list(self.tokens(r.choice(self.valid or self.seeds)))
        for _ in range(r.choice((1, 1, 2, 3))):
            idx = [i for i, (k, _) in enumerate(toks) if k != "ws"]
            if not idx:
                break
            i = r.choice(idx)
            kind, text = toks[i]
            if kind == "word" and text in _BUILTINS:
                toks[i] = (kind, r.choice(_BUILTINS))
            elif kind == "id" and r.random() < 0.5:  # a fresh name: valid where it defines
                toks[i] = (kind, b"$" + r.choice(_NAMES) + b"%d" % r.randrange(100))
            elif kind == "number":
                toks[i] = (kind, b"%d" % r.choice((0, 1, 255, 256, 65535, 2**32 - 1, 2**63)))
            else:  # a doc comment with awkward text before a random token
                doc = b";;; " + r.choice(SPICE[6:9]) + b" \\ `x` \t"
                toks[i:i] = [("comment", doc), ("ws", b"\n")]
        return b"".join(t for _, t in toks)

    # -- structural generators

    def structural(self) -> bytes:
        gens = (
            (self.gen_deep, 2),
            (self.gen_long_name, 2),
            (self.gen_number, 2),
            (self.gen_huge, 1),  # the costliest: everything near the caps
            (self.gen_wide, 2),
            (self.gen_refs, 2),
            (self.gen_docs, 1),
            (self.gen_errors, 1),
            (self.gen_text, 2),
        )
        gen = self.rng.choices([g for g, _ in gens], [w for _, w in gens])[0]
        return gen()

    def gen_deep(self) -> bytes:
        r = self.rng
        depth = r.choice((MAX_DEPTH - 3, MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1))
        depth = r.choice((depth, depth, r.randint(1, 3000), 3000))
        head, tail = r.choice(_WRAPPERS)
        body = head * depth + b"u8" + tail * depth
        if r.random() < 0.2:
            body = body[: r.randrange(len(body))]  # unclosed
        if r.random() < 0.3:
            return b'(module $m (@interface func (export "f") (param $p ' + body + b")))"
        return b"(typename $deep " + body + b")"

    def gen_long_name(self) -> bytes:
        r = self.rng
        n = r.choice((1000, 100_000, 1_000_000, MAX_FILE_BYTES))
        name = b"a" * n
        forms_ = (
            b"(typename $" + name + b" u8)",
            b"(typename $a $" + name + b")",
            b"(typename $a (enum $" + name + b" $" + name + b"))",
            b'(use "' + name + b'")',
            b'(module $m (@interface func (export "' + name + b'")))',
            b";;; " + name + b"\n(typename $a u8)",
            b"(typename $a (" + name + b"))",
            b"(; " + name,
            b'(use "' + name,
        )
        return r.choice(forms_)

    def gen_number(self) -> bytes:
        r = self.rng
        digits = r.choice((1, 20, 39, 40, 41, 100, 10_000))
        num = r.choice("123456789") + "".join(r.choice("0123456789_") for _ in range(digits))
        if r.random() < 0.3:
            num = "0x" + "".join(r.choice("0123456789abcdefABCDEF") for _ in range(digits))
        if r.random() < 0.3:
            num = "-" + num
        n = num.encode()
        ty = r.choice((b"u8", b"u64", b"s64", b"s8", b"usize", b"char8", b"f32"))
        return r.choice(
            (
                b"(typename $t (int " + ty + b" (const $x " + n + b")))",
                b"(typename $t " + ty + b")(@witx const $t $x " + n + b")",
                b"(typename $t " + n + b")",
            )
        )

    def gen_huge(self) -> bytes:
        r = self.rng
        size = r.choice(
            (MAX_FILE_BYTES // 2, MAX_FILE_BYTES - 1, MAX_FILE_BYTES, MAX_FILE_BYTES + 1, 3 << 20)
        )
        items = (
            b"(typename $t%d (record (field $a u32) (field $b (list u8))))\n",
            b"(typename $t%d (tuple u8 u8 u8 u8 u8 u8 u8 u8 u8 u8 u8 u8 u8 u8 u8 u8))\n",
            b";;; doc %d\n",
            b"(typename $e%d (enum $a $b $c $d $e $f $g $h $i $j $k $l $m $n $o))\n",
            b'(module $m%d (@interface func (export "f") (param $p u8) (result $r u8)))\n',
        )
        item = r.choice(items)
        if r.random() < 0.5:  # as many items as the token cap allows
            n = (MAX_TOKENS - r.randrange(3)) // _count(tokenize(item))
            return b"".join(item.replace(b"%d", b"%d" % i) for i in range(n))
        out, i = bytearray(), 0
        while len(out) < size:
            out += item.replace(b"%d", b"%d" % i)
            i += 1
        return bytes(out[:size])

    def gen_wide(self) -> bytes:
        r = self.rng
        n = r.choice((8, 9, 16, 32, 33, 64, 65, 255, 256, 257, 1000, 2000, 5000, 65_537))
        near_cap = (MAX_TOKENS // 4, MAX_TOKENS // 5, MAX_TOKENS)  # 4, 5 or 1 tokens a case
        n = r.choice((n, n, r.choice(near_cap) - 2 - r.randrange(8)))
        kind = r.randrange(10)
        ids = b" ".join(b"$c%d" % i for i in range(n))
        if kind == 0:
            return b"(typename $e (enum " + ids + b"))"
        if kind == 1:
            return b"(typename $e (enum (@witx tag u8) " + ids + b"))"
        if kind == 2:
            return b"(typename $f (flags " + ids + b"))"
        if kind == 3:
            cases = b" ".join(b"(case $c%d u8)" % i for i in range(n))
            return b"(typename $v (variant " + cases + b"))"
        if kind == 4:
            cases = b" ".join(b"(case $c%d)" % i for i in range(n))
            return (
                b"(typename $e (enum "
                + ids
                + b"))\n(typename $v (variant (@witx tag $e) "
                + cases
                + b"))"
            )
        if kind == 5:
            return b"(typename $u (union " + b" u8" * n + b"))"
        if kind == 6:
            fields = b" ".join(b"(field $f%d u%d)" % (i, 8 << (i % 4)) for i in range(n))
            return b"(typename $r (record " + fields + b"))"
        if kind == 7:
            params = b" ".join(b"(param $p%d u8)" % i for i in range(n))
            return b'(module $m (@interface func (export "f") ' + params + b"))"
        if kind == 8:
            funcs = b"\n".join(b'(@interface func (export "f%d"))' % i for i in range(n))
            return b"(module $m " + funcs + b")"
        consts = b" ".join(b"(const $k%d %d)" % (i, i) for i in range(n))
        return b"(typename $t (int u64 " + consts + b"))"

    def gen_refs(self) -> bytes:
        r = self.rng
        n = r.choice((10, 100, 150, 200, 500, 1000, 3000, 10_000))
        shape = r.randrange(8)
        out = []
        for i in range(n):
            j = i + 1 if shape % 2 == 0 else i - 1
            if shape in (0, 1):  # alias chains, forward or backward
                out.append(b"(typename $t%d $t%d)" % (i, j))
            elif shape in (2, 3):  # variants tagged by the next typename
                out.append(b"(typename $t%d (variant (@witx tag $t%d) (case $a)))" % (i, j))
            elif shape == 4:  # nested wrappers around forward references
                out.append(b"(typename $t%d (list (record (field $x $t%d))))" % (i, j))
            elif shape == 5:  # random references, some unknown
                refs = b" ".join(b"$t%d" % r.randrange(n + n // 10 + 1) for _ in range(4))
                out.append(b"(typename $t%d (tuple %s))" % (i, refs))
            elif shape == 6:  # a dense tangle of cycles
                refs = b" ".join(b"$t%d" % k for k in range(min(n, 150)))
                out.append(b"(typename $t%d (tuple %s))" % (i, refs))
            else:  # tags nested deep inside each typename
                body = b"(variant (@witx tag $t%d) (case $a))" % (i + 1)
                out.append(b"(typename $t%d %s%s%s)" % (i, b"(list " * 90, body, b")" * 90))
        end = r.choice((b"(typename $t%d (enum $a))", b"(typename $t%d $t0)", b""))
        if b"%d" in end:
            out.append(end % n)
        if r.random() < 0.3:
            r.shuffle(out)
        if r.random() < 0.5:
            out = [b"".join(_fit(tokenize(b"\n".join(out)), MAX_TOKENS))]
        return b"\n".join(out)

    def gen_docs(self) -> bytes:
        r = self.rng
        n = r.choice((10, 1000, 10_000, 50_000))
        kind = r.randrange(4)
        if kind == 0:
            return b";;; doc\n" * n + b"(typename $a u8)"
        if kind == 1:  # one doc comment, a big block comment, then many cases
            cases = b" ".join(b"$c%d" % i for i in range(n))
            return b";;; a\n(; " + b"x" * n * 4 + b" ;)\n(typename $e (enum " + cases + b"))"
        if kind == 2:
            cases = b"".join(b";;; doc %d\n$c%d\n" % (i, i) for i in range(n))
            return b"(typename $e (enum " + cases + b"))"
        return b"(; " * n + b";) " * r.randrange(n + 1) + b"(typename $a u8)"

    def gen_errors(self) -> bytes:
        r = self.rng
        n = r.choice((100, 1000, 2400, 5000, 20_000))
        kind = r.randrange(4)
        if kind == 0:
            return b"(typename $t u8)\n" * n
        if kind == 1:
            return b"".join(b"(typename $t%d $u%d)\n" % (i, i) for i in range(n))
        if kind == 2:
            return b"(typename $e (enum " + b"$a " * n + b"))"
        return b"".join(b"(typename $t%d (enum))\n" % i for i in range(n))

    def gen_text(self) -> bytes:
        """Valid items around awkward characters (columns after multi-byte text, CRs)."""
        r = self.rng
        parts = [r.choice(SPICE) for _ in range(r.randint(1, 6))]
        seed = self.tokens(self.window(self.pick()))
        toks = list(seed)
        for p in parts:
            toks.insert(r.randrange(len(toks) + 1), ("other", p))
        return b"".join(t for _, t in toks)


_BUILTINS = b"u8 u16 u32 u64 s8 s16 s32 s64 f32 f64 char string bool".split()
_NAMES = b"a b x errno size fd tensor graph _ a-b a.b A 0 \xc3\xa9".split()

_WRAPPERS = [
    (b"(list ", b")"),
    (b"(@witx pointer ", b")"),
    (b"(tuple u8 ", b")"),
    (b"(record (field $f ", b"))"),
    (b"(variant (case $c ", b"))"),
    (b"(expected (error ", b"))"),
    (b"(union ", b")"),
    (b"(array ", b")"),
]


def _counted(kind: str, text: bytes) -> bool:
    """Whether the parser counts this token against its cap (doc comments count)."""
    return kind != "ws" and (kind != "comment" or text.startswith(b";;;"))


def _count(toks: Tokens) -> int:
    return sum(_counted(k, t) for k, t in toks)


def _fit(toks: Tokens, cap: int) -> list[bytes]:
    """The longest run of whole top-level forms of `toks` with at most `cap` tokens."""
    n, depth, end = 0, 0, 0
    for i, (kind, text) in enumerate(toks):
        n += _counted(kind, text)
        if n > cap:
            break
        depth += (kind == "open") - (kind == "close")
        if depth <= 0:
            end = i + 1
    return [t for _, t in toks[:end]]


def _top_level(toks: Tokens) -> list[tuple[int, int]]:
    out, depth, start = [], 0, 0
    for i, (kind, _) in enumerate(toks):
        if kind == "open":
            if depth == 0:
                start = i
            depth += 1
        elif kind == "close" and depth:
            depth -= 1
            if depth == 0:
                out.append((start, i + 1))
    return out


# ---- running --------------------------------------------------------------------------


@dataclass
class Finding:
    signature: str
    failure: str
    strategy: str
    data: bytes
    cpu: float


@dataclass
class Stats:
    tried: int = 0
    valid: int = 0
    slowest_cpu: float = 0.0
    slowest_wall: float = 0.0
    slowest_what: str = ""
    slowest_data: bytes = b""
    by_strategy: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0  # CPU time spent checking

    def add(self, strategy: str, out: Outcome, data: bytes, seconds: float) -> None:
        self.tried += 1
        self.valid += out.valid
        self.seconds += seconds
        self.by_strategy[strategy] = self.by_strategy.get(strategy, 0) + 1
        if out.cpu > self.slowest_cpu:
            self.slowest_cpu, self.slowest_wall = out.cpu, out.wall
            self.slowest_what = f"{strategy}, stage {out.stage}, {len(data)} bytes"
            self.slowest_data = data

    def merge(self, other: Stats) -> None:
        self.tried += other.tried
        self.valid += other.valid
        self.seconds += other.seconds
        for k, v in other.by_strategy.items():
            self.by_strategy[k] = self.by_strategy.get(k, 0) + v
        if other.slowest_cpu > self.slowest_cpu:
            self.slowest_cpu, self.slowest_wall = other.slowest_cpu, other.slowest_wall
            self.slowest_what, self.slowest_data = other.slowest_what, other.slowest_data


def fuzz(
    count: int,
    seed: int,
    worker: int = 0,
    report: Callable[[str, Any], None] | None = None,
    seeds_first: bool = True,
    limit: float = LIMIT_S,
) -> tuple[Stats, list[Finding], dict[str, bytes]]:
    """Run `count` inputs; return stats, failures and one smallest input per new outcome."""
    rng = random.Random(f"{seed}:{worker}")
    seeds = load_seeds()
    mutator = Mutator(seeds, rng)
    work = make_workdir()
    checker = Checker(work, limit)
    if report:
        report("start", str(work))
    first = seeds if seeds_first else []
    stats = Stats()
    findings: list[Finding] = []
    features: dict[str, bytes] = {}
    last = time.monotonic()
    try:
        for i in range(count):
            # Every seed is checked once first; its outcome seeds the pools.
            strategy, data = ("seed", first[i]) if i < len(first) else mutator.next()
            c0 = time.process_time()
            out = checker.check(data)
            stats.add(strategy, out, data, time.process_time() - c0)
            if out.failure:
                f = Finding(out.signature, out.failure, strategy, data, out.cpu)
                findings.append(f)
                if report:
                    report("failure", f)
            if out.valid and len(data) <= POOL_MAX_BYTES and len(mutator.valid) < POOL_MAX:
                mutator.valid.append(data)
            feat = out.feature
            if feat not in features or len(data) < len(features[feat]):
                features[feat] = data
                mutator.remember(data)
            if report and (time.monotonic() - last > 5 or i == count - 1):
                last = time.monotonic()
                report("progress", (i + 1, stats.slowest_cpu))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return stats, findings, features


def _worker(count: int, seed: int, worker: int, queue: Any) -> None:
    def report(kind: str, payload: Any) -> None:
        queue.put((kind, worker, payload))

    stats, _, features = fuzz(count, seed, worker, report)
    small = {k: v for k, v in features.items() if len(v) <= INTERESTING_MAX_BYTES}
    queue.put(("done", worker, (stats, small)))


def _name(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12] + ".witx"


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.witx")) if CORPUS.is_dir() else []


def replay(paths: list[Path]) -> list[tuple[Path, Outcome]]:
    work = make_workdir()
    try:
        checker = Checker(work)
        return [(p, checker.check(p.read_bytes())) for p in paths]
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Saver:
    """Keeps the regression corpus small: failures first, then a few new outcomes."""

    def __init__(self, corpus: Path) -> None:
        self.corpus = corpus
        corpus.mkdir(parents=True, exist_ok=True)

    def _room(self, size: int) -> bool:
        files = corpus_files()
        total = sum(p.stat().st_size for p in files)
        return len(files) < CORPUS_MAX_FILES and total + size <= CORPUS_MAX_BYTES

    def save(self, data: bytes) -> Path | None:
        path = self.corpus / _name(data)
        if path.exists():
            return path
        if len(data) > KEEP_MAX_BYTES or not self._room(len(data)):
            FINDINGS.mkdir(parents=True, exist_ok=True)
            (FINDINGS / _name(data)).write_bytes(data)
            return None
        path.write_bytes(data)
        return path


def run(
    count: int, seed: int, jobs: int, save: bool, max_new: int, out: Callable[[str], None]
) -> tuple[Stats, dict[str, list[Finding]], float]:
    t0 = time.monotonic()
    ctx = mp.get_context("fork")
    queue: Any = ctx.Queue()
    shares = [count // jobs + (1 if w < count % jobs else 0) for w in range(jobs)]
    procs = [
        ctx.Process(target=_worker, args=(n, seed, w, queue), daemon=True)
        for w, n in enumerate(shares)
    ]
    for p in procs:
        p.start()
    done: dict[int, int] = dict.fromkeys(range(jobs), 0)
    workdirs: dict[int, Path] = {}
    slowest, shown = 0.0, 0.0
    by_sig: dict[str, list[Finding]] = {}
    features: dict[str, bytes] = {}
    stats = Stats()
    finished = 0
    heard = time.monotonic()
    while finished < jobs:
        try:
            kind, w, payload = queue.get(timeout=10)
        except Exception:  # noqa: BLE001 - queue.Empty
            dead = [w for w, p in enumerate(procs) if not p.is_alive() and p.exitcode != 0]
            if dead or time.monotonic() - heard > 300:
                out(f"worker(s) {dead or 'all'} died or hung; stopping")
                for w, p in enumerate(procs):  # keep what each was working on
                    entry = workdirs.get(w, Path("/nonexistent")) / "input.witx"
                    if p.is_alive() and entry.is_file():
                        hang = Finding("hang", "no answer for 300 s", "?", entry.read_bytes(), 300)
                        by_sig.setdefault(hang.signature, []).append(hang)
                    p.kill()
                break
            continue
        heard = time.monotonic()
        if kind == "start":
            workdirs[w] = Path(payload)
        elif kind == "progress":
            done[w], cpu = payload
            slowest = max(slowest, cpu)
            total = sum(done.values())
            if time.monotonic() - shown < 10 and total < count:
                continue
            shown = time.monotonic()
            rate = total / max(1e-9, shown - t0)
            nfail = sum(len(v) for v in by_sig.values())
            out(
                f"[{total:>7}/{count}] {rate:6.0f}/s  failures {nfail} "
                f"({len(by_sig)} distinct)  slowest {slowest:.3f} s CPU"
            )
        elif kind == "failure":
            f: Finding = payload
            first = f.signature not in by_sig
            by_sig.setdefault(f.signature, []).append(f)
            if first:
                out(f"  FAIL [{f.signature}] {f.failure} ({f.strategy}, {len(f.data)} bytes)")
        elif kind == "done":
            wstats, wfeat = payload
            stats.merge(wstats)
            for k, v in wfeat.items():
                if k not in features or len(v) < len(features[k]):
                    features[k] = v
            finished += 1
    for p in procs:
        p.join(timeout=5)
    elapsed = time.monotonic() - t0
    if save:
        _save(by_sig, features, max_new, out)
    return stats, by_sig, elapsed


def _save(
    by_sig: dict[str, list[Finding]],
    features: dict[str, bytes],
    max_new: int,
    out: Callable[[str], None],
) -> None:
    saver = Saver(CORPUS)
    for sig, fs in sorted(by_sig.items()):
        for f in sorted(fs, key=lambda f: len(f.data))[:2]:  # the two smallest of each bug
            where = saver.save(f.data)
            out(f"  saved [{sig}] -> {where or FINDINGS / _name(f.data)}")
    known = {o.feature for _, o in replay(corpus_files())}
    new = sorted(((k, v) for k, v in features.items() if k not in known), key=lambda kv: len(kv[1]))
    # Smallest first, but at most three for one set of diagnostic codes, so that (say)
    # malformed UTF-8 alone cannot fill the quota.
    per_codes: dict[str, int] = {}
    chosen: list[bytes] = []
    for feat, data in new:
        codes = feat.split("|")[1]
        if per_codes.get(codes, 0) < 3 and len(chosen) < max_new:
            per_codes[codes] = per_codes.get(codes, 0) + 1
            chosen.append(data)
    kept = 0
    for data in chosen:
        if saver.save(data):
            kept += 1
    out(f"  kept {kept} input(s) with outcomes not yet in the corpus")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--count", type=int, default=10_000, help="inputs to try")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    ap.add_argument("--no-save", action="store_true", help="leave the corpus alone")
    ap.add_argument("--max-new", type=int, default=40, help="new-outcome inputs to keep")
    ap.add_argument("--replay", action="store_true", help="re-check the corpus and exit")
    args = ap.parse_args(argv)

    def out(line: str) -> None:
        print(line, flush=True)

    if args.replay:
        bad = [(p, o) for p, o in replay(corpus_files()) if o.failure]
        for p, o in bad:
            out(f"{p.name}: {o.failure}")
        out(f"{len(corpus_files())} corpus file(s), {len(bad)} failing")
        return 1 if bad else 0

    out(f"fuzzing {args.count} inputs, seed {args.seed}, {args.jobs} job(s)")
    stats, by_sig, elapsed = run(
        args.count, args.seed, args.jobs, not args.no_save, args.max_new, out
    )
    nfail = sum(len(v) for v in by_sig.values())
    out(f"tried:    {stats.tried} inputs ({stats.valid} valid) in {elapsed:.0f} s")
    per = 1000 * stats.seconds / max(1, stats.tried)
    out(f"checking: {stats.seconds:.0f} s CPU in all, {per:.1f} ms per input")
    out("by kind:  " + ", ".join(f"{k} {v}" for k, v in sorted(stats.by_strategy.items())))
    out(f"failures: {nfail} ({len(by_sig)} distinct)")
    for sig, fs in sorted(by_sig.items()):
        out(f"  [{sig}] x{len(fs)}: {fs[0].failure}")
    out(
        f"slowest:  {stats.slowest_cpu:.3f} s CPU ({stats.slowest_wall:.3f} s wall), "
        f"{stats.slowest_what}"
    )
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
