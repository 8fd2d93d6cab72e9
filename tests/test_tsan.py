"""Programs compiled with -fsanitize=thread, their __tsan_* calls linked to the
shim (preload/tsan.c, issue 13 item 1): every access and atomic is an
injection point (`access`, `atomic`), named by its caller, filtered by
--sites, decided by the seeded policy; atomics keep their exact semantics;
inject refuses a program whose entry points the shim cannot serve.

The programs are tests/progs/tsan/*.c, built three ways (tests/progs/module.mk):
build/tests/tsan/ (gcc, instrumented), tsan-clang/ (clang), tsan-plain/ (not
instrumented)."""

import re
import subprocess

import pytest

from conftest import INJECT, LIBINJECT, PROGS, clean_env, run
from injlog import fn, parse_log

GCC, CLANG, PLAIN = PROGS / "tsan", PROGS / "tsan-clang", PROGS / "tsan-plain"


def inject(tmp_path, prog, *flags, name="log", rc=0, timeout=120):
    """Run prog under the launcher with flags; its Result and log blocks."""
    log = tmp_path / name
    r = run([INJECT, *flags, "--log", log, "--", *prog], timeout=timeout)
    if rc is not None:
        r.expect(rc)
    return r, parse_log(log) if log.exists() else []


def entry_points():
    """Every __tsan_* function gcc 12 or clang 14 (or newer LLVM's memintrinsics)
    may call (preload/README.md, "Instrumented programs")."""
    names = {"__tsan_init", "__tsan_func_entry", "__tsan_func_exit",
             "__tsan_ignore_thread_begin", "__tsan_ignore_thread_end",
             "__tsan_read_range", "__tsan_write_range", "__tsan_vptr_update",
             "__tsan_vptr_read", "__tsan_memcpy", "__tsan_memmove", "__tsan_memset",
             "__tsan_atomic_thread_fence", "__tsan_atomic_signal_fence"}
    for kind in ["read", "write", "unaligned_read", "unaligned_write", "volatile_read",
                 "volatile_write", "unaligned_volatile_read", "unaligned_volatile_write",
                 "read_write", "unaligned_read_write"]:
        names |= {f"__tsan_{kind}{n}" for n in (1, 2, 4, 8, 16)}
    for bits in (8, 16, 32, 64, 128):
        for op in ["load", "store", "exchange", "fetch_add", "fetch_sub", "fetch_and",
                   "fetch_or", "fetch_xor", "fetch_nand", "compare_exchange_strong",
                   "compare_exchange_weak", "compare_exchange_val"]:
            names.add(f"__tsan_atomic{bits}_{op}")
    return names


def test_every_entry_point_exported():
    out = subprocess.run(["nm", "-D", "--defined-only", LIBINJECT], capture_output=True,
                         text=True, check=True).stdout
    names = {l.split()[-1] for l in out.splitlines() if "__tsan_" in l}
    assert names == entry_points(), names ^ entry_points()
    assert len(names) == 124


def test_programs_call_only_exported_entry_points():
    """What the compilers actually emitted for our programs is served."""
    for prog in [GCC / "atomics", CLANG / "atomics", GCC / "order", CLANG / "order"]:
        out = subprocess.run(["nm", "-D", "--undefined-only", prog], capture_output=True,
                             text=True, check=True).stdout
        called = {l.split()[-1] for l in out.splitlines() if "__tsan_" in l}
        assert called and called <= entry_points(), (prog, called - entry_points())


# ------------------------------------------------------------------ (1) the order violation

# tests/progs/tsan/order.c: set() does a = 1; b = -1; check() must see both or
# neither.  Measured on the 2-core machine (load average 7-20, 2026-12-02), one
# setter and one checker per run:
#   instrumented, under inject --points access --sites set,check
#     --delay uniform:200us:2ms                   55/200, 84/400: 139/600 (0.23)
#   the same, not instrumented (the tsan-plain build)               0/200
#   not instrumented, --points all --prob 1 --sites set,check      0/1200
#   instrumented, no launcher (entry points pass through)          0/1300
#   not instrumented, no launcher                                  0/1300
#   instrumented, --points access --sample 1 --prob 0.1 (blind)     4/200
# Bound: at a per-run rate of 0.1 (below the measured 95% interval,
# 0.20-0.27), no hit in 150 runs has probability 0.9**150 = 1.4e-7 < 1e-6.
ORDER_FLAGS = ["--points", "access", "--sites", "set,check", "--delay", "uniform:200us:2ms"]
ORDER_RUNS = 150


def test_order_violation_exposed_only_through_instrumented_accesses(tmp_path):
    hits, lines = 0, set()
    for seed in range(1, ORDER_RUNS + 1):
        r, blocks = inject(tmp_path, [GCC / "order"], "--seed", seed, *ORDER_FLAGS,
                           name=f"l{seed}", rc=None)
        assert r.rc in (0, 1), r
        if r.rc == 1:
            hits += 1
            lines.add(r.err.strip())
            (b,) = blocks
            assert {fn(e[3]) for e in b["events"]} <= {"set", "check"}, b["events"]
            assert {e[2] for e in b["events"]} == {"access"}, b["events"]
    assert hits >= 1, f"no order violation in {ORDER_RUNS} instrumented runs"
    assert lines <= {"order violation: a=1 b=0", "order violation: a=0 b=-1"}, lines
    # The plain build reaches no access point: nothing for the shim to split.
    r, (b,) = inject(tmp_path, [PLAIN / "order"], "--seed", 1, *ORDER_FLAGS, name="plain")
    assert b["events"] == [] and not any(fn(s) in ("set", "check") for s in b["sites"]), b


# ------------------------------------------------------------------ (2) atomics exact

HEAVY = ["--points", "access,atomic", "--sample", "1", "--prob", "0.2", "--delay",
         "fixed:1us", "--action", "yield"]


@pytest.mark.parametrize("build", [GCC, CLANG], ids=["gcc", "clang"])
def test_atomics_exact_under_heavy_injection(tmp_path, build):
    """Every width, op and order with known results, CAS write-back, and three
    counters under contention (fetch_add, weak-CAS loop, a test_and_set
    spinlock over a plain counter), with a delay at one in five atomics and
    accesses.  A shim whose fetch_add returned the new value fails 10+ checks
    here (tried), one whose _val CAS returned the desired value hangs clang's
    CAS loop."""
    r, (b,) = inject(tmp_path, [build / "atomics", 4, 20000], "--seed", 7, *HEAVY)
    assert r.out == "counter=80000 cas=80000 plain=80000 fails=0\n", r
    points = {e[2] for e in b["events"]}
    assert points == {"access", "atomic"}, points
    # Delays landed inside the contended loop, not just in the sequential part.
    assert any(fn(e[3]) == "worker" and e[2] == "atomic" for e in b["events"])
    assert b["end"]["matched_visits"] > 400000, b["end"]


def test_atomics_plain_build_agrees():
    r = run([PLAIN / "atomics", 4, 20000]).expect(0)
    assert r.out == "counter=80000 cas=80000 plain=80000 fails=0\n", r


def disassembly(symbol):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", LIBINJECT],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(rf"^[0-9a-f]+ <{re.escape(symbol)}>:\n(.*?)\n\n", out, re.S | re.M)
    assert m, symbol
    return m[1]


@pytest.mark.parametrize("bits", [8, 16, 32, 64])
def test_store_orders_not_strengthened(bits):
    """A release or relaxed store stays a plain mov (x86 lets it pass a later
    load: the store-buffering reordering a bug may need); only seq_cst is an
    xchg.  Passing the run-time order to the builtin, as KCSAN does, makes
    every store an xchg (measured: the store-buffering outcome then never
    shows, 0 in 300,000 rounds against 338-4059)."""
    body = disassembly(f"__tsan_atomic{bits}_store")
    assert re.search(r"\txchg ", body), body
    assert re.search(r"\tmov[bwlq]? +%[a-z0-9]+,(0x0)?\(%r", body), body


def test_fence_orders_kept():
    """Only a seq_cst fence is a fence instruction on x86."""
    body = disassembly("__tsan_atomic_thread_fence")
    assert re.search(r"\t(mfence|lock or)", body), body
    assert body.count("ret") >= 1


# ------------------------------------------------------------------ (3) refusals

def one_line(r):
    lines = r.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("inject: "), r
    return lines[0]


def test_missing_entry_point_refused_naming_it(tmp_path):
    """needs_newer was linked against a shim with one more entry point
    (__tsan_future_entry) than build/libinject.so."""
    prog = GCC / "needs_newer"
    r = run([INJECT, "--", prog]).expect(125)
    line = one_line(r)
    assert "__tsan_future_entry" in line and str(LIBINJECT) in line, line
    assert "needs_newer ran" not in r.out
    r = run([INJECT, "--list-sites", "--", prog]).expect(125)
    assert "__tsan_future_entry" in one_line(r)
    # Without the launcher's check the loader stops it (it is linked -z now).
    r = run([prog], env=clean_env(LD_PRELOAD=LIBINJECT, INJECT_SEED=1)).expect(127)
    assert "undefined symbol: __tsan_future_entry" in r.err and "ran" not in r.out, r


def test_libtsan_program_refused():
    r = run([INJECT, "--", PROGS / "tsan-libtsan" / "order"]).expect(125)
    assert "needs libtsan.so" in one_line(r)


def test_own_runtime_program_refused():
    """clang -fsanitize=thread at link time puts its runtime in the program:
    a preloaded shim would then bind nothing."""
    r = run([INJECT, "--", PROGS / "tsan-clangrt" / "order"]).expect(125)
    assert re.search(r"defines __tsan_\w+ itself", one_line(r))


# An instrumented library under a plain program (tests/progs/tsan/extra/lib.c,
# uses_lib.c): the launcher looks at every object the program loads, found as
# the loader finds it, and names the library it refuses.
LIBS = PROGS / "tsan-lib"


def lib_refused(kind):
    lib = LIBS / kind / "libtlib.so"
    r = run([INJECT, "--", LIBS / kind / "uses_lib"]).expect(125)
    line = one_line(r)
    assert f"it loads {lib}, which " in line and r.out == "", r
    return line


def test_library_needing_libtsan_refused():
    """Linked with -fsanitize=thread, the library needs libtsan.so: run, the
    shim's __tsan_* would take its calls beside libtsan's interceptors (the
    old launcher ran it, status 0)."""
    assert re.search(r"which needs libtsan\.so\.\d+ \(linked with -fsanitize=thread",
                     lib_refused("libtsan"))


def test_library_calling_missing_entry_point_refused():
    """The library calls __tsan_future_entry, which build/libinject.so lacks:
    without the check the loader stops it, in its own words."""
    line = lib_refused("future")
    assert f"which calls __tsan_future_entry, which the shim {LIBINJECT} does not" in line
    r = run([LIBS / "future" / "uses_lib"], env=clean_env(LD_PRELOAD=LIBINJECT, INJECT_SEED=1))
    r.expect(127)
    assert "undefined symbol: __tsan_future_entry" in r.err, r


def test_library_with_own_runtime_refused():
    """own_rt.c defines __tsan_init, __tsan_func_entry and __tsan_func_exit in
    the library: the preloaded shim's would be bound instead (the old launcher
    ran it, status 0)."""
    assert re.search(r"which defines __tsan_func_(entry|exit) itself", lib_refused("ownrt"))


def test_library_refused_through_ld_library_path(tmp_path):
    """Found where the loader finds it: a copy of the libtsan library in a
    directory on LD_LIBRARY_PATH is taken before the program's own RUNPATH."""
    d = tmp_path / "dir"
    d.mkdir()
    (d / "libtlib.so").write_bytes((LIBS / "libtsan" / "libtlib.so").read_bytes())
    r = run([INJECT, "--", LIBS / "ok" / "uses_lib"],
            env=clean_env(LD_LIBRARY_PATH=f"/nonexistent:{d}")).expect(125)
    assert f"it loads {d}/libtlib.so, which needs libtsan" in one_line(r)
    r = run([INJECT, "--", LIBS / "ok" / "uses_lib"], env=clean_env(LD_LIBRARY_PATH="/nonexistent"))
    assert r.expect(0).out == "lib_work=2000\n"


def test_instrumented_library_runs(tmp_path):
    """The library linked against the shim, as the corpus -tsan programs are:
    it runs, its accesses are points, and the launcher counts the program as
    instrumented (access-noise among its portfolio's families, seeds 1-40 as
    in test_portfolio.py; the old launcher never drew it: only the program's
    own symbols were read)."""
    prog = LIBS / "ok" / "uses_lib"
    r, (b,) = inject(tmp_path, [prog], "--seed", 1, "--points", "access,atomic", "--sample", 1,
                     "--prob", 0.5, "--delay", "fixed:1us")
    assert r.out == "lib_work=2000\n", r
    assert {fn(s) for s in b["sites"]} >= {"lib_worker"}, b["sites"]
    plans = set()
    for seed in range(1, 41):
        _, (b,) = inject(tmp_path, [prog], "--seed", seed, name=f"p{seed}")
        plans.add(b["header"]["plan"])
    assert "access-noise" in plans, plans


def test_plain_stripped_and_missing_libraries(tmp_path):
    """A program with no __tsan_* anywhere runs as before; a stripped library
    is read from what strip keeps (.dynamic, .dynsym); a library the loader
    will not find is left to the loader, which says so (status 127)."""
    assert run([INJECT, "--", "/bin/true"]).expect(0).err == ""
    for kind, rc in [("ok", 0), ("libtsan", 125)]:
        d = tmp_path / kind
        d.mkdir()
        subprocess.run(["strip", "-o", d / "libtlib.so", LIBS / kind / "libtlib.so"], check=True)
        r = run([INJECT, "--", LIBS / "ok" / "uses_lib"], env=clean_env(LD_LIBRARY_PATH=str(d)))
        r.expect(rc)
        assert rc == 0 or f"it loads {d}/libtlib.so, which needs libtsan" in one_line(r)
    prog = tmp_path / "uses_missing"
    prog.write_bytes((LIBS / "libtsan" / "uses_lib").read_bytes().replace(b"libtlib.so",
                                                                         b"libtlix.so"))
    prog.chmod(0o755)
    r = run([INJECT, "--", prog]).expect(127)
    assert "libtlix.so: cannot open shared object file" in r.err and "inject" not in r.err, r


def test_entry_points_before_the_constructor(tmp_path):
    """libearly.so's constructor makes 1000 plain accesses, fetch_adds and
    CASes; under the launcher it runs before the preloaded shim's constructor
    (the loader initialises preloaded objects last), so the entry points run
    on zero state: each atomic right, nothing visited yet; main's accesses,
    after the constructor, are visits."""
    r, (b,) = inject(tmp_path, [GCC / "uses_early"], "--seed", 1, "--points", "access,atomic",
                     "--sample", 1, "--prob", 1, "--delay", "fixed:1us")
    assert r.out == "early ok late=4950\n", r
    assert {fn(s) for s in b["sites"]} == {"main"}, b["sites"]


def test_instrumented_program_runs_without_injection():
    """Linked against the shim but run without INJECT_*: every entry point
    passes through."""
    r = run([GCC / "atomics", 2, 1000]).expect(0)
    assert r.out == "counter=2000 cas=2000 plain=2000 fails=0\n", r
    r = run([CLANG / "lineage"]).expect(0)
    assert r.out == "sum=12000\n"


# ------------------------------------------------------------------ (4) determinism, (5) --sites

def per_lineage(block):
    seqs = {}
    for e in block["events"]:
        seqs.setdefault(e[1], []).append(e[2:])
    return seqs


def test_same_seed_same_decisions(tmp_path):
    """lineage.c's threads make fixed sequences of accesses: the sampled
    visits and the delays of each thread are the same in every run with one
    seed, and differ with another seed."""
    flags = ["--points", "access,atomic", "--sample", "20", "--prob", "0.1", "--delay",
             "fixed:1us"]
    runs = []
    for i, seed in enumerate([5, 5, 5, 6]):
        r, (b,) = inject(tmp_path, [GCC / "lineage"], "--seed", seed, *flags, name=f"l{i}")
        assert r.out == "sum=12000\n"
        runs.append(per_lineage(b))
    assert set(runs[0]) == {"0.1", "0.2", "0.3", "0.1.1", "0.2.1", "0.3.1"}, sorted(runs[0])
    assert {e[0] for s in runs[0].values() for e in s} == {"access", "atomic"}
    assert runs[0] == runs[1] == runs[2]
    assert runs[3] != runs[0]


def test_fork_child_replays(tmp_path):
    """A forked child re-derives its seed: its sampled visits (lineage 0 of
    its own block) are the same in every run with one seed; errno survives
    every visit (the program checks)."""
    flags = ["--points", "access,atomic", "--sample", "10", "--prob", "0.2", "--delay",
             "fixed:1us"]
    children = []
    for i in range(2):
        r, blocks = inject(tmp_path, [GCC / "lineage", 2, 1000, "fork"], "--seed", 11, *flags,
                           name=f"f{i}")
        assert r.out == "sum=4000\n", r
        assert len(blocks) == 2, blocks
        child = next(b for b in blocks if b["header"]["pid"] != blocks[-1]["header"]["pid"])
        assert child["events"], child
        children.append(per_lineage(child))
    assert set(children[0]) == {"0"} and children[0] == children[1]


def test_signal_handler_accesses(tmp_path):
    """A timer signal's handler makes instrumented accesses and atomics while
    the main thread is in its own, or inside the shim (delayed): they count
    right, errno survives, and the handler's accesses are visits too."""
    r, (b,) = inject(tmp_path, [GCC / "signals", 200000], "--seed", 3, "--points",
                     "access,atomic", "--sample", 2, "--prob", 0.01, "--delay", "fixed:20us")
    assert r.out == "signals=some ok\n", r
    assert any(fn(s) == "on_alarm" for s in b["sites"]), b["sites"]


def test_sites_filter_access_sites(tmp_path):
    """--sites names functions: only their accesses are delayed; with --sites
    every access is a visit (--sample defaults to 1), so writer's one store
    is visited exactly once per call: 6 threads x 2000."""
    r, (b,) = inject(tmp_path, [GCC / "lineage"], "--seed", 3, "--points", "access,atomic",
                     "--sites", "writer", "--prob", "0.05", "--delay", "fixed:1us")
    assert {fn(e[3]) for e in b["events"]} == {"writer"}, b["events"][:5]
    writer = [v for s, v in b["sites"].items() if fn(s) == "writer"]
    assert [v[0] for v in writer] == [12000], b["sites"]
    assert any(fn(s) == "reader" for s in b["sites"])       # seen, never delayed
    r, (b,) = inject(tmp_path, [GCC / "lineage"], "--seed", 3, "--points", "access,atomic",
                     "--sites", "!writer", "--prob", "0.05", "--delay", "fixed:1us",
                     "--sample", "4", name="excl")
    assert b["events"] and "writer" not in {fn(e[3]) for e in b["events"]}


def test_list_sites_shows_access_sites(tmp_path):
    r = run([INJECT, "--points", "access,atomic", "--list-sites", "--", GCC / "lineage"])
    r.expect(0)
    sites = dict(l.split("\t")[::-1] for l in r.out.splitlines()[1:])
    assert {fn(s) for s in sites} >= {"writer", "reader", "work"}, r.out


def test_sample_flag_checked_and_logged(tmp_path):
    r = run([INJECT, "--help"]).expect(0)
    for word in ["--sample", "INJECT_SAMPLE", "access", "atomic", "-fsanitize=thread"]:
        assert word in r.out, word
    for bad in ["0", "-1", "1.5", "1e3", "0x10", "1000000001"]:
        r = run([INJECT, "--check", "--sample", bad]).expect(64)
        assert one_line(r).startswith(f'inject: INJECT_SAMPLE: bad value "{bad}"'), r
    run([INJECT, "--check", "--sample", "1000000000"]).expect(0)
    # The header says which sampling made the visits: the default, and 1
    # when --sites names a site.
    _, (b,) = inject(tmp_path, [GCC / "lineage", 1, 10], "--points", "access", name="a")
    assert b["header"]["sample"] == "1000", b["header"]
    _, (b,) = inject(tmp_path, [GCC / "lineage", 1, 10], "--points", "access", "--sites",
                     "writer", name="b")
    assert b["header"]["sample"] == "1", b["header"]
