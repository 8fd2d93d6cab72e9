"""common/: every helper the tools share, tested here and only here, through
build/tests/common_check (tests/progs/common/common_check.c), which runs one
helper per call: the duration grammar (docs/interfaces.md, "Durations"), the
Wilson interval, the UTF-8 cleaner and JSON string arrays, word splitting and
shell quoting, the PATH lookup, mkdirs, and allocation that cannot fail.

The binaries' own tests check that each binary uses these (a bad --timeout is
a one-line usage error, a signature with bad bytes survives into
summary.json); the cases of the grammar and of the cleaner live here."""

import json
import os
import stat
import subprocess

import pytest

from conftest import BUILD, PROGS, run, wilson

CHECK = PROGS / "common_check"

H = 3_600_000_000_000
S = 1_000_000_000
INT64_MAX = 2**63 - 1


def check(*args, env=None, cwd=None):
    return run([CHECK, *args], env=env, cwd=cwd, timeout=30).expect(0).out


def durations(*texts):
    out = check("duration", *texts)
    got = dict(line.split("\t") for line in out.splitlines())
    assert len(got) == len(texts), out   # no "clobbered" or "disagree" lines either
    return got


# ---- the duration grammar ----

ACCEPTED = [
    # Go's time.ParseDuration
    ("0", 0), ("+0", 0), ("-0", 0),
    ("1ns", 1), ("1us", 1000), ("1µs", 1000), ("1μs", 1000), ("1ms", 10**6), ("1s", S),
    ("1m", 60 * S), ("1h", H), ("1h30m", 5400 * S), ("2h45m10.5s", (2 * 3600 + 45 * 60) * S + S * 21 // 2),
    ("1.5s", 3 * S // 2), ("200us", 200_000), (".5s", S // 2), ("5.s", 5 * S), ("0.5ms", 500_000),
    ("1.5ms500us", 2_000_000), ("1s1s1s", 3 * S), ("1m90s", 150 * S),
    ("-50us", -50_000), ("+5s", 5 * S), ("-1h30m", -5400 * S),
    ("0s", 0), ("0.0s", 0), ("0h0m0s", 0),
    # exponents, which the INJECT_* values have always taken
    ("2e3ns", 2000), ("2E3ns", 2000), ("1.5e-3s", 1_500_000), ("1e+2ms", 100 * 10**6),
    ("1e0s", S), ("15e-1s", 3 * S // 2), ("100000000000000000000000e-20s", 1000 * S),
    ("1e05us", 10**8), ("0e999999999999999999s", 0), ("1e-999999999999999999s", 0),
    # exact: fractions of a nanosecond are dropped (as Go drops them), never rounded up
    ("0.5ns", 0), ("1.9999999999ns", 1), ("1e-10s", 0), ("0.0000000019s", 1),
    ("0.3333333333333333333333333333333333333333h", 1_199_999_999_999),
    ("0.333333333333333333333333333333333333333334h", 1_200_000_000_000),
    ("0." + "0" * 500 + "1h", 0), ("1." + "9" * 300 + "ns", 1),
    # the ends of int64_t nanoseconds
    ("9223372036854775807ns", INT64_MAX), ("-9223372036854775808ns", -2**63),
    ("2562047h47m16.854775807s", INT64_MAX), ("-2562047h47m16.854775808s", -2**63),
    ("9223372036.854775807s", INT64_MAX),
]

SYNTAX = [
    "", "+", "-", "+-1s", "--1s",
    # a bare number has no unit: seconds to one reader, microseconds to another
    "10", "1", "1.5", "1e3", "0.0", "00", "-5",
    "s", "ms", ".", ".s", "e3s", "1.2.3s", "1..2s",
    # blanks, words, units we do not know
    " 1s", "1s ", "1 s", "5 parsecs", "1d", "1sec", "1S", "1Ms", "1y", "1H",
    "1µ", "1μ", "1ss", "1ms-5s", "1s+1s",
    # numbers strtod takes and we do not
    "0x10ns", "0x1p10ns", "infs", "inf", "nan", "nans", "1e", "1es", "1e+s", "1e-s", "1e3.5s",
    # a zero before another digit: octal to some readers
    "010ms", "00.5s", "007s", "1h010m",
    # "0" is a value only alone
    "0 ", "01",
]

OVERFLOW = [
    "9223372036854775808ns", "-9223372036854775809ns", "2562047h47m16.854775808s",
    "2562048h", "1e19ns", "1e999s", "1e999999999999999999999s", "2562048h0s",
    "9223372036854775807ns1ns", "2562047h2562047h", "184467440737095516160ns",
    "99999999999999999999999999999999h",
    # 2^64 x 10 + 0 and 2^64 + 1: a check after the multiplication sees them wrap to 0 and 1
    "18446744073709551617ns", "1844674407370955161.6e1ns",
    "18446744073709551616e0ns",
]


def test_durations_accepted():
    got = durations(*[t for t, _ in ACCEPTED])
    bad = {t: (got[t], str(v)) for t, v in ACCEPTED if got[t] != str(v)}
    assert not bad, bad


def test_durations_refused_as_syntax():
    got = durations(*SYNTAX)
    bad = {t: got[t] for t in SYNTAX if got[t] != "syntax"}
    assert not bad, bad


def test_durations_refused_as_overflow():
    got = durations(*OVERFLOW)
    bad = {t: got[t] for t in OVERFLOW if got[t] != "overflow"}
    assert not bad, bad


def test_duration_of_a_counted_span():
    # the inject spec reads "uniform:MIN:MAX" in place: a span, no NUL after it
    assert check("duration_n", "5ms:7us", "3") == "5ms:7us\t5000000\n"
    assert check("duration_n", "5ms:7us", "4") == "5ms:7us\tsyntax\n"
    assert check("duration_n", "1s", "0") == "1s\tsyntax\n"
    assert check("duration_n", "0s", "1") == "0s\t0\n"


@pytest.mark.parametrize("text,lo,hi,want", [
    ("100ms", 0, INT64_MAX, 0.1), ("1.5s", 0, INT64_MAX, 1.5), ("1h", 0, INT64_MAX, 3600.0),
    ("0", 0, INT64_MAX, 0.0), ("366h", 0, INT64_MAX, 366 * 3600.0),
    ("8784h", 0, 8784 * H, 8784 * 3600.0),          # a leap year's hours, at the bound
    ("8784h1ns", 0, 8784 * H, None),                # a nanosecond past it
    ("-1ns", 0, INT64_MAX, None), ("-1s", -S, S, -1.0), ("1s", 0, S - 1, None),
    ("10", 0, INT64_MAX, None), ("1e999s", 0, INT64_MAX, None),
    ("2562047h47m16.854775807s", 0, INT64_MAX, 9223372036.854775807),
])
def test_duration_in_seconds_with_a_range(text, lo, hi, want):
    out = check("seconds", text, lo, hi).strip()
    if want is None:
        assert out == "bad"
    else:
        assert float(out) == want, out


def test_duration_parser_is_pure():
    """The shim calls it from its constructor: it may use no allocator, no
    stdio, no locale, nothing but the string functions."""
    obj = BUILD / "obj/common/duration.o"
    r = subprocess.run(["nm", "-u", obj], capture_output=True, text=True, check=True)
    undefined = {line.split()[-1] for line in r.stdout.splitlines()}
    assert undefined <= {"strlen", "memcmp"}, undefined


# ---- the Wilson interval ----

@pytest.mark.parametrize("k,n", [
    (0, 1), (1, 1), (0, 10), (5, 10), (10, 10), (1, 400), (355, 400), (1927, 2000),
    (0, 100000), (3, 7), (999_999, 1_000_000), (2**40, 2**41),
])
def test_wilson_matches_the_formula(k, n):
    lo, hi = map(float, check("wilson", k, n).split())
    wlo, whi = wilson(k, n)
    assert lo == pytest.approx(wlo, abs=1e-12) and hi == pytest.approx(whi, abs=1e-12), (lo, hi)
    assert 0 <= lo <= k / n <= hi <= 1
    assert (lo == 0) == (k == 0) and (hi == 1) == (k == n)


def test_wilson_known_values_and_no_data():
    # 5 of 10: the interval every table of Wilson intervals gives, 0.2366-0.7634
    lo, hi = map(float, check("wilson", 5, 10).split())
    assert round(lo, 4) == 0.2366 and round(hi, 4) == 0.7634
    # 0 of 1000: the "rule of three" region, 95% upper bound ~3.8e-3
    lo, hi = map(float, check("wilson", 0, 1000).split())
    assert lo == 0 and 0.0037 < hi < 0.0039
    assert check("wilson", 0, 0) == "0 1\n"


# ---- UTF-8 ----

FFFD = "\ufffd".encode().hex()
CTL, CTL_NL, QMARK = 1, 2, 4


@pytest.mark.parametrize("flags,raw,want", [
    (0, b"plain", b"plain"),
    (0, "€ and 😀 and é".encode(), "€ and 😀 and é".encode()),
    (0, b"a\xffb", "a\ufffdb".encode()),
    (0, b"\xc0\xaf", "\ufffd\ufffd".encode()),                 # overlong '/'
    (0, b"\xe0\x80\xaf", "\ufffd" * 3),                         # overlong, 3 bytes
    (0, b"\xed\xa0\x80", "\ufffd" * 3),                         # a surrogate
    (0, b"\xf4\x90\x80\x80", "\ufffd" * 4),                     # above U+10FFFF
    (0, b"\xf5\x80\x80\x80", "\ufffd" * 4),
    (0, b"\xe2\x82", "\ufffd" * 2),                             # cut short
    (0, b"\x80x", "\ufffdx"),                                   # a lone continuation
    (0, b"a\x00b", "a\ufffdb"),                                 # NUL inside the span
    (0, b"a\x01\tb\n\x7f", b"a\x01\tb\n\x7f"),                  # controls kept
    (CTL, b"a\x01\tb\nc\x7fd\x1b[0m", "a\ufffd\tb\nc\ufffdd\ufffd[0m"),
    (CTL_NL, b"a\tb\nc\rd", "a\tb\ufffdc\ufffdd"),
    (CTL | CTL_NL, b"a\nb", "a\ufffdb"),
    (QMARK, b"a\xffb\x01", b"a?b\x01"),
    # what stress makes of a signature (tests/test_stress.py's bad bytes)
    (CTL_NL | QMARK, b"bad \xff\xfe byte\x01 here\x1b[0m\n", b"bad ?? byte? here?[0m?"),
    (CTL_NL | QMARK, "été\t€".encode(), "été\t€".encode()),
])
def test_utf8_fix(flags, raw, want):
    want = want if isinstance(want, bytes) else want.encode()
    out = check("utf8", flags, raw.hex()).splitlines()
    assert out == [want.hex()], (out, want)


def test_utf8_fix_stops_at_the_span_it_was_given():
    euro = "€".encode().hex()
    assert check("utf8", 0, euro + "41", 2).split() == [FFFD * 2]
    assert check("utf8", 0, euro + "41", 3).split() == [euro]
    assert check("utf8", 0, "41" + euro, 1).split() == ["41"]


def test_json_string_arrays_take_any_bytes():
    words = [b"plain", b"bad \xff byte", b"", "ünï".encode()]
    a = json.loads(check("json", *[w.hex() for w in words]))
    assert a == ["plain", "bad \ufffd byte", "", "ünï"]
    assert json.loads(check("json")) == []


# ---- words: split_words and shquote ----

@pytest.mark.parametrize("text,words", [
    ("--sites startm --delay uniform:200us:2ms", ["--sites", "startm", "--delay", "uniform:200us:2ms"]),
    ("--sites '*lock*'", ["--sites", "*lock*"]),           # no globbing
    ("a \"b c\" d\\ e", ["a", "b c", "d e"]),
    ('"x\\"y\\\\z\\$w\\`v"', ['x"y\\z$w`v']),
    ('"a\\nb"', ["a\\nb"]),                                # \n is no escape inside "..."
    ("'it'\"'\"'s'", ["it's"]),
    ("$HOME $(id) `id` ~", ["$HOME", "$(id)", "`id`", "~"]),  # nothing expanded
    ("  a\t\tb\n c  ", ["a", "b", "c"]),
    ("a\\", ["a\\"]),                                      # a last backslash stays
    ("''", [""]), ("a'' b", ["a", "b"]),
    ("", []), (" \t\n ", []),
])
def test_split_words(text, words):
    out = check("split", text).splitlines()
    assert out[0] == f"ok {len(words)}", out
    assert [bytes.fromhex(h).decode() for h in out[1:]] == words


@pytest.mark.parametrize("text,what", [
    ("--sites 'startm", "unterminated ' in \"--sites 'startm\""),
    ('a "b', "unterminated \" in \"a \"b\""),
])
def test_split_words_refuses_an_unterminated_quote(text, what):
    assert check("split", text) == f"error: {what}\n"


@pytest.mark.parametrize("word", [
    "plain", "", "with space", "it's", "'", "$HOME", "`id`", "a\nb", "*", "-_./=:,+@%",
    "tab\there", "ü", "back\\slash", '"', "!", "a;b", "--delay=uniform:1us:2ms",
])
def test_shquote_round_trips_through_sh(word):
    q = check("shquote", word)[:-1]
    r = subprocess.run(["/bin/sh", "-c", f"printf %s {q}"], capture_output=True, text=True)
    assert r.stdout == word, (word, q)
    # plain words stay as they are; split_words reads every quoted one back
    if word and all(c.isascii() and (c.isalnum() or c in "-_./=:,+@%") for c in word):
        assert q == word
    out = check("split", q).splitlines()
    assert out[0] == "ok 1" and bytes.fromhex(out[1]).decode() == word, (q, out)


# ---- path: path_lookup, find_in_path, mkdirs ----

@pytest.fixture
def bins(tmp_path):
    """Two PATH dirs: the first has prog as a directory and as a file without
    the execute bit, the second has it as an executable."""
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "prog").mkdir(parents=True)
    (a / "data").write_text("")
    b.mkdir()
    for name in ("prog", "data"):
        f = b / name
        f.write_text("#!/bin/sh\n")
        f.chmod(0o755)
    return a, b


def test_path_lookup_passes_over_what_execvp_passes_over(tmp_path, bins):
    a, b = bins
    env = {"PATH": f"{a}:{b}"}
    assert check("path", "prog", env=env) == f"{b}/prog\n"
    assert check("path", "data", env=env) == f"{b}/data\n"
    assert check("path", "nothing", env=env) == "none\n"
    assert check("path", "", env=env) == "none\n"
    # a slash: the path itself, if it runs
    assert check("path", f"{b}/prog", env=env) == f"{b}/prog\n"
    assert check("path", f"{a}/prog", env=env) == "none\n"
    assert check("path", f"{a}/data", env=env) == "none\n"


def test_path_lookup_empty_entry_and_unset_path(tmp_path, bins):
    a, b = bins
    # an empty entry is the current directory, as for execvp
    assert check("path", "prog", env={"PATH": f"{a}:"}, cwd=b) == "./prog\n"
    assert check("path", "prog", env={"PATH": f":{a}"}, cwd=b) == "./prog\n"
    assert check("path", "prog", env={"PATH": f"{a}::/nonexistent"}, cwd=b) == "./prog\n"
    assert check("path", "prog", env={"PATH": ""}, cwd=b) == "./prog\n"
    # no PATH at all: glibc's default, /bin:/usr/bin
    assert check("path", "sh", env={}) == "/bin/sh\n"


def test_find_in_path_makes_a_slash_path_absolute(tmp_path, bins):
    a, b = bins
    assert check("find", "./prog", cwd=b) == f"{b}/prog\n"
    assert check("find", "../b/prog", cwd=a) == f"{b}/prog\n"
    assert check("find", "prog", env={"PATH": str(b)}) == f"{b}/prog\n"
    assert check("find", "./data", cwd=a) == "none\n"


def test_mkdirs(tmp_path):
    deep = tmp_path / "x" / "y" / "z"
    assert check("mkdirs", deep) == "ok\n" and deep.is_dir()
    assert stat.S_IMODE(deep.stat().st_mode) == 0o755 & ~_umask()
    assert check("mkdirs", deep) == "ok\n"                     # already there
    assert check("mkdirs", f"{deep}/") == "ok\n"
    (tmp_path / "file").write_text("")
    assert check("mkdirs", tmp_path / "file" / "sub") == f"error: {os.strerror(20)}\n"  # ENOTDIR


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


# ---- xalloc ----

def test_out_of_memory_is_a_harness_error_naming_the_program():
    r = run([CHECK, "oom"], timeout=30)
    assert r.rc == 125 and r.out == "" and r.err == "common_check: out of memory\n", r
