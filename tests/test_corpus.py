"""The corpus of bug classes (tests/progs/corpus/, issue 13): each program's bug hides in plain
runs, and the plan that bench/corpus.sh measured to expose it still does.

Bounds (false-failure probability below 1e-6 each, from rates measured on this 2-CPU Debian 12
machine, shared and loaded; the numbers are in RATES and bench/README.md):
- plain runs: the claim is that a class's bug shows in at most 1% of plain runs (0 of 1,000 were
  measured for each, classes.tsv).  N_PLAIN = 100 runs at a true rate of 1% give more than
  plain_allowance() = 8 failures with probability 8.4e-7 (the binomial tail, computed below),
  so more than that fails the test; the nightly form makes 1,000 runs against a 0.5% claim.
- a plan: a floor p for its per-run hit rate, well under the measured rate; a class then goes
  unexposed in n runs with probability (1-p)^n, and n is the least with (1-p)^n < 1e-6.  stress
  stops at the first hit (--max-failures 1), so a healthy run takes a few runs, not n.
The classes that only an instrumented build reaches (order_stores, counter, lockfree_stack,
ws_deque) are checked in their -tsan builds under the portfolio's access-noise family; those tests are skipped while
libinject.so has no __tsan_* entry points, and fail if it has them but a -tsan build is missing.
Their plain runs are checked like every class's.
"""

import json
import math
import re

import pytest

from conftest import LIBINJECT, PROGS, ROOT, STRESS, run

CORPUS = ROOT / "tests" / "progs" / "corpus"
BIN = PROGS / "corpus"
BLIND = "--prob 0.2 --delay loguniform:20us:4ms"
ALL = BLIND + " --points all"
N_PLAIN = 100
P_PLAIN = 0.01
FALSE_FAILURE = 1e-6


def classes():
    rows = {}
    for line in (CORPUS / "classes.tsv").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        cls, prog, sig, plain, what = line.split("\t")
        rows[prog] = {"class": int(cls), "signature": sig, "plain": plain, "what": what}
    return rows


CLASSES = classes()

# program -> (plan, measured hits/runs, floor p): the plan that exposes the class in the plain
# build most often (bench/README.md), its rate measured in 200 runs with no early stop
# (2026-12-02, load average 15 to 19 on the 2 CPUs), and a floor about a third of that, below
# the rate's 95% Wilson lower bound.  The bound n = runs_for(p): 132 runs at 0.1, 684 at 0.02.
RATES = {
    "lazy_init": (BLIND, "67/200", 0.1),
    "two_locks": (BLIND, "71/200", 0.1),
    "lock_order": (ALL, "52/200", 0.1),
    "lost_wakeup": (ALL, "13/200", 0.02),
}


# The same for the classes no call-level point reaches, in their instrumented builds
# (NAME-tsan), under the default portfolio's access-level family alone (--plan access-noise:
# each run visits one access in 2^k, k from the seed, and delays half the visits 20us-4ms, at
# most 200 times; injector/plan.c): measured in 400 runs each with no early stop (commit
# b9d5210, 2026-12-02, load average 8 on the 2 CPUs; bench/README.md); each floor is half the
# rate's 95% Wilson lower bound (0.139, 0.072, 0.094, 0.096), so runs_for() gives 191 to 339
# runs, and a healthy class stops at its first hit, a few runs in.
NOISE = "--plan access-noise"
TSAN_RATES = {
    "order_stores": (NOISE, "69/400", 0.07),
    "counter": (NOISE, "39/400", 0.04),
    "lockfree_stack": (NOISE, "49/400", 0.05),
    "ws_deque": (NOISE, "50/400", 0.05),
}


def shim_has_tsan():
    out = run(["nm", "-D", "--defined-only", LIBINJECT]).expect(0).out
    return any(line.split()[-1] == "__tsan_init" for line in out.splitlines() if line.strip())


def runs_for(floor):
    """The least n with (1-floor)^n < FALSE_FAILURE."""
    return math.ceil(math.log(FALSE_FAILURE) / math.log(1 - floor))


def plain_allowance(n=N_PLAIN, p=P_PLAIN):
    """The least k with P(X > k) < FALSE_FAILURE for X ~ Binomial(n, p)."""
    tail = 1.0
    for k in range(n + 1):
        tail -= math.comb(n, k) * p ** k * (1 - p) ** (n - k)
        if tail < FALSE_FAILURE:
            return k
    return n


def stress(tmp_path, prog, *args, name):
    r = run([STRESS, "--results", tmp_path, "--name", name, "--status", "0", "--keep", "1",
             "-p", "2", "--timeout", "2s", "--grace", "1s", *map(str, args), "--", BIN / prog],
            timeout=900)
    m = re.search(r"^results: (.+)$", r.out, re.M)
    assert m, f"stress printed no results path\n{r}"
    job = json.loads(((ROOT / m.group(1).strip()) / "summary.json").read_text())["jobs"][0]
    return r, job


def test_classes_table_is_the_corpus():
    """classes.tsv names each program of the corpus once, with the plain count measured."""
    progs = {p.stem for p in CORPUS.glob("*.c")}
    assert set(CLASSES) == progs, (sorted(CLASSES), sorted(progs))
    assert sorted(c["class"] for c in CLASSES.values()) == list(range(1, 9))
    for prog, c in CLASSES.items():
        k, n = map(int, c["plain"].split("/"))
        assert n >= 1000 and k / n <= P_PLAIN, (prog, c)


@pytest.mark.parametrize("prog", sorted(CLASSES))
def test_plain_runs_rarely_fail(tmp_path, prog):
    c = CLASSES[prog]
    allowed = plain_allowance()
    r, job = stress(tmp_path, prog, "--count", N_PLAIN, "--seed", 1, name=f"{prog}-plain")
    assert job["runs"] == N_PLAIN, f"{job}\n{r}"
    assert job["failures"] <= allowed, \
        f"{prog}: {job['failures']} of {N_PLAIN} plain runs failed (at most {allowed} " \
        f"expected at a 1% rate): {job.get('signatures')}\n{r}"


@pytest.mark.parametrize("prog", sorted(RATES))
def test_plan_exposes_class(tmp_path, prog):
    plan, measured, floor = RATES[prog]
    n = runs_for(floor)
    sig = CLASSES[prog]["signature"]
    r, job = stress(tmp_path, prog, "--count", n, "--max-failures", 1, "--seed", 7000,
                    "--signature", sig, "--inject", plan,
                    name=f"{prog}-plan")
    assert job["reproductions"] >= 1, \
        f"{prog}: no '{sig}' in {job['runs']} runs under {plan!r} (measured {measured}; " \
        f"at the floor {floor} a miss has probability {(1 - floor) ** n:.1e})\n{r}"


@pytest.mark.parametrize("prog", sorted(TSAN_RATES))
def test_access_noise_exposes_class_instrumented(tmp_path, prog):
    if not shim_has_tsan():
        pytest.skip("build/libinject.so has no __tsan_* entry points yet: no -tsan builds")
    assert (BIN / f"{prog}-tsan").exists(), \
        f"libinject.so exports __tsan_init but build/tests/corpus/{prog}-tsan was not built"
    plan, measured, floor = TSAN_RATES[prog]
    n = runs_for(floor)
    sig = CLASSES[prog]["signature"]
    r, job = stress(tmp_path, f"{prog}-tsan", "--count", n, "--max-failures", 1, "--seed", 7000,
                    "--signature", sig, "--inject", plan, name=f"{prog}-tsan")
    assert job["reproductions"] >= 1, \
        f"{prog}-tsan: no '{sig}' in {job['runs']} runs under {plan!r} (measured {measured}; " \
        f"at the floor {floor} a miss has probability {(1 - floor) ** n:.1e})\n{r}"


@pytest.mark.nightly
@pytest.mark.parametrize("prog", sorted(CLASSES))
def test_plain_runs_rarely_fail_long(tmp_path, prog):
    n, p = 1000, 0.005
    allowed = plain_allowance(n, p)
    r, job = stress(tmp_path, prog, "--count", n, "--seed", 2, name=f"{prog}-plain")
    assert job["runs"] == n, f"{job}\n{r}"
    assert job["failures"] <= allowed, \
        f"{prog}: {job['failures']} of {n} plain runs failed (at most {allowed} expected at " \
        f"a {p:.1%} rate): {job.get('signatures')}\n{r}"
