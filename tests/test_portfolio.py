"""Issue 13, item 3: blind injection is a seeded portfolio of plan families.

With no plan given (none of --prob, --delay, --sites, --points, --action), each
run draws its family from its seed; the log's header names it; every family
can be named with --plan; one-cpu puts every thread on one CPU.  Checked
against the injection logs the shim writes (docs/interfaces.md)."""

import json
import re
import shlex
import subprocess

import pytest

from conftest import INJECT, PROGS, STRESS, clean_env, run
from hunt_fake import HUNT, RACY, fake_stress, hunt_json  # noqa: F401 (fake_stress: a fixture)
from injlog import parse_log

BASIC = PROGS / "inj_basic"
THREADS = PROGS / "inj_threads"


def families():
    """The families this build offers, from inject --help."""
    text = run([INJECT, "--help"]).expect(0).out
    block = text[text.index("  --plan NAME "):text.index("  --list-sites ")]
    names = [m[1] for m in re.finditer(r"^ {34}([a-z-]+) ", block, re.M)]
    assert len(names) >= 6, block
    # Usable in this build: the launcher accepts the name.
    return [n for n in names
            if subprocess.run([INJECT, "--check", "--plan", n]).returncode == 0]


def header(tmp_path, name, *flags, prog=(BASIC, 5)):
    log = tmp_path / name
    run([INJECT, *flags, "--log", log, "--", *prog]).expect(0)
    (b,) = parse_log(log)
    return b["header"]


def test_blind_default_draws_every_family_from_the_seed(tmp_path):
    fams = families()
    assert {"release-short", "release-mid", "release-long", "all-points", "start-skew",
            "one-cpu"} <= set(fams), fams
    seen = {}
    for seed in range(1, 41):
        h = header(tmp_path, f"s{seed}", "--seed", str(seed))
        seen.setdefault(h["plan"], []).append(seed)
    # The draw is a fixed hash of the seed, so this is exact, not a chance:
    # seeds 1-40 reach every family of this build that can reach a plain
    # program (access-noise delays only where -fsanitize=thread put points).
    assert set(seen) == set(fams) - {"access-noise"}, seen
    # Same seed, same family (replay); the header equals the named family's.
    for fam, seeds in seen.items():
        s = str(seeds[0])
        again = header(tmp_path, f"again-{fam}", "--seed", s)
        named = header(tmp_path, f"named-{fam}", "--seed", s, "--plan", fam)
        for k in ("pid", "t0"):        # the process and its clock, not the plan
            del again[k], named[k]
        assert again == named, (again, named)


def test_a_flag_given_makes_the_plan_custom_or_overrides_the_family(tmp_path):
    h = header(tmp_path, "p", "--seed", "3", "--prob", "0.5")
    assert (h["plan"], h["prob"], h["delay"], h["points"]) == \
        ("custom", "0.5", "loguniform:1us:1ms", "mutex_unlock"), h
    h = header(tmp_path, "s", "--seed", "3", "--sites", "site_alpha")
    assert (h["plan"], h["prob"]) == ("custom", "1"), h
    h = header(tmp_path, "o", "--seed", "3", "--plan", "release-long", "--prob", "0.5")
    assert (h["plan"], h["prob"], h["delay"]) == ("release-long", "0.5", "loguniform:1ms:30ms")
    h = header(tmp_path, "z", "--seed", "3", "--prob", "0")
    assert h["plan"] == "custom" and h["prob"] == "0", h


def test_one_cpu_pins_every_thread(tmp_path):
    for seed in (1, 2, 3, 4):
        log = tmp_path / f"l{seed}"
        r = run([INJECT, "--plan", "one-cpu", "--seed", str(seed), "--log", log, "--",
                 "grep", "Cpus_allowed_list", "/proc/self/status"]).expect(0)
        (b,) = parse_log(log)
        cpu = b["header"]["cpu"]
        assert r.out.split() == ["Cpus_allowed_list:", cpu], (r, b["header"])
    # What the program starts stays there: a child of a shell, pinned again
    # (same seed) to the same CPU; its log block says so too.
    log = tmp_path / "t"
    r = run([INJECT, "--plan", "one-cpu", "--seed", "1", "--log", log, "--",
             "sh", "-c", "grep Cpus_allowed_list /proc/self/status; true"]).expect(0)
    cpus = {b["header"]["cpu"] for b in parse_log(log)}
    assert len(cpus) == 1 and r.out.split() == ["Cpus_allowed_list:", *cpus], (r, cpus)
    # Any other family leaves the affinity alone.
    r = run([INJECT, "--plan", "release-mid", "--seed", "1", "--", "grep", "Cpus_allowed_list",
             "/proc/self/status"]).expect(0)
    whole = subprocess.run(["grep", "Cpus_allowed_list", "/proc/self/status"],
                           capture_output=True, text=True).stdout
    assert r.out == whole, r


def test_bad_plan_is_refused(tmp_path):
    r = run([INJECT, "--plan", "fastest", "--", BASIC, 1]).expect(125)
    assert r.err.startswith('inject: INJECT_PLAN: bad value "fastest": expected portfolio '
                            'or a plan family: release-short, ') and r.err.count("\n") == 1, r
    r = run([INJECT, "--check", "--plan", "fastest"]).expect(64)
    r = run([BASIC, 1], env=clean_env(LD_PRELOAD=str(PROGS.parent / "libinject.so"),
                                      INJECT_PLAN="fastest")).expect(125)
    assert "INJECT_PLAN" in r.err


# ------------------------------------------------------------ plan lists

def plan_of(tmp_path, name, seed, *flags, prog=("true",)):
    """The family the shim's log header names for one run (tests/progs/tsan/order may
    fail: its race)."""
    log = tmp_path / name
    r = run([INJECT, "--seed", str(seed), *flags, "--log", log, "--", *prog])
    assert r.rc in (0, 1), r
    (b,) = parse_log(log)
    return b["header"]["plan"]


def test_a_list_draws_among_its_families_by_the_portfolios_pick(tmp_path):
    # --plan A,B,C: each run draws one of A, B, C from its seed.  The draw is
    # a fixed hash of the seed, so every assertion here is exact, not a chance
    # (200 seeds over 3 families: each family's share is near a third).
    members = ["release-long", "start-skew", "one-cpu"]
    lst = ",".join(members)
    got = {seed: plan_of(tmp_path, f"l{seed}", seed, "--plan", lst) for seed in range(1, 201)}
    counts = {f: sum(1 for v in got.values() if v == f) for f in set(got.values())}
    assert set(counts) == set(members), counts
    assert min(counts.values()) >= 40, counts
    # Same seed, same family (replay); the order of the names does not matter
    # (a list is a set of families); and the run is the named family's whole
    # plan (points, delay, CPU), as if named alone.
    for seed in (1, 2, 3, 4, 5, 6):
        assert plan_of(tmp_path, f"a{seed}", seed, "--plan", lst) == got[seed]
        assert plan_of(tmp_path, f"r{seed}", seed, "--plan", ",".join(reversed(members))) \
            == got[seed]
        again = header(tmp_path, f"h{seed}", "--seed", str(seed), "--plan", lst)
        named = header(tmp_path, f"n{seed}", "--seed", str(seed), "--plan", got[seed])
        for k in ("pid", "t0"):
            del again[k], named[k]
        assert again == named, (again, named)
    # A list of one name is that family, whatever the seed.
    assert {plan_of(tmp_path, f"o{seed}", seed, "--plan", "release-mid")
            for seed in range(1, 11)} == {"release-mid"}


def test_a_list_of_every_family_is_the_portfolio(tmp_path):
    # The same salted pick over the same families in the same order: a list
    # naming every family a plain program can be reached by (any order) draws
    # exactly what the blind portfolio and --plan portfolio draw, seed by seed.
    fams = [f for f in families() if f != "access-noise"]
    lst = ",".join(sorted(fams))
    for seed in range(1, 31):
        blind = plan_of(tmp_path, f"b{seed}", seed)
        assert plan_of(tmp_path, f"p{seed}", seed, "--plan", "portfolio") == blind
        assert plan_of(tmp_path, f"l{seed}", seed, "--plan", lst) == blind, seed
    # The same over an instrumented program, where access-noise is drawn too.
    order = PROGS / "tsan" / "order"
    every = ",".join(families())
    for seed in range(1, 21):
        blind = plan_of(tmp_path, f"tb{seed}", seed, prog=(order,))
        assert plan_of(tmp_path, f"tl{seed}", seed, "--plan", every, prog=(order,)) == blind


@pytest.mark.parametrize("value,why", [
    ("release-mid,fastest", '(no family "fastest" in this build)'),
    ("release-mid,,one-cpu", "(an empty name in the list)"),
    ("release-mid,", "(an empty name in the list)"),
    (",release-mid", "(an empty name in the list)"),
    ("one-cpu,release-mid,one-cpu", '("one-cpu" twice)'),
    ("portfolio,one-cpu", "(portfolio is every family: it is no name in a list)"),
    (",".join(["release-mid"] * 30), "(359 characters; at most 255)"),
])
def test_bad_plan_lists_are_refused_in_one_line(tmp_path, value, why):
    def one_line(r, start):
        assert r.err.startswith(start) and r.err.endswith(why + "\n") and \
            r.err.count("\n") == 1, r
    shown = value if len(value) <= 255 else value[:40] + "..."
    line = f'inject: INJECT_PLAN: bad value "{shown}": expected portfolio or a plan family: '
    one_line(run([INJECT, "--check", "--plan", value]).expect(64), line)
    one_line(run([INJECT, "--plan", value, "--", BASIC, 1]).expect(125), line)
    # The shim without the launcher, and the two callers of inject --check.
    r = run([BASIC, 1], env=clean_env(LD_PRELOAD=str(PROGS.parent / "libinject.so"),
                                      INJECT_PLAN=value)).expect(125)
    assert line in r.err and why in r.err, r
    one_line(run([STRESS, "--count", "1", "--results", tmp_path, "--inject",
                  f"--plan {value}", "--", BASIC, 1]).expect(64), "stress: bad --inject ")
    r = run([HUNT, "--plan", value, "--results", tmp_path, "--", RACY], timeout=30).expect(64)
    assert line in r.err and r.err.endswith(why + "\n") and r.err.count("\n") == 1, r


def test_a_list_draws_access_noise_only_for_an_instrumented_program(tmp_path):
    # As the portfolio: access-noise is one of a list's families only where the
    # launcher found the program instrumented; elsewhere the list draws among
    # the rest; a plan of access-level families alone would delay nothing in a
    # plain program, and the launcher refuses it (one line, 125) instead of
    # running it undelayed.
    lst = "access-noise,release-mid"
    got = {plan_of(tmp_path, f"t{s}", s, "--plan", lst, prog=(PROGS / "tsan" / "order",))
           for s in range(1, 21)}
    assert got == {"access-noise", "release-mid"}, got
    got = {plan_of(tmp_path, f"p{s}", s, "--plan", lst, prog=(PROGS / "tsan-plain" / "order",))
           for s in range(1, 21)}
    assert got == {"release-mid"}, got
    for value in ("access-noise",):
        r = run([INJECT, "--plan", value, "--", BASIC, 1]).expect(125)
        assert r.err == (f'inject: INJECT_PLAN: bad value "{value}" for {BASIC}: its families '
                         "delay only at -fsanitize=thread accesses, and it has none (no run "
                         "would be delayed)\n"), r
    # Without the launcher the shim cannot tell, and gives the family named.
    log = tmp_path / "by-hand"
    run([BASIC, 1], env=clean_env(LD_PRELOAD=str(PROGS.parent / "libinject.so"),
                                  INJECT_PLAN="access-noise", INJECT_LOG=str(log))).expect(0)
    assert parse_log(log)[0]["header"]["plan"] == "access-noise"


def test_hunt_takes_a_plan_list(fake_stress, tmp_path):
    """hunt --plan A,B: every delaying campaign carries the list (each run then draws
    its family from its seed), checked by the launcher before anything runs."""
    log = tmp_path / "argv.jsonl"
    r = run([HUNT, "-q", "-p", "2", "--seed", "3", "--plan", "release-mid,one-cpu",
             "--max-runs", "20", "--stress", fake_stress, "--results", tmp_path / "res",
             "--", RACY],
            env=clean_env(FAKE_CULPRIT="startm+0x5c", FAKE_ARGV_LOG=str(log)), timeout=180)
    assert r.rc in (0, 1), r
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    words = [shlex.split(a[a.index("--inject") + 1]) for a in calls]
    runs = [w for w in words if w[:2] != ["--prob", "0"]]
    assert runs and all(w[2:4] == ["--plan", "release-mid,one-cpu"] for w in runs), runs
    d, j = hunt_json(r)
    assert j["family"] == "release-mid,one-cpu", j


# ------------------------------------------------------------------ stress

FLAKY = PROGS / "st_flaky"


def stress_json(tmp_path, *args):
    res = tmp_path / "res"
    r = run([STRESS, "--status", "0", "--results", res, *args])
    assert r.rc in (0, 1), r
    (d,) = [p for p in res.iterdir() if p.is_dir()]
    return r, d, json.loads((d / "summary.json").read_text())


def test_stress_tallies_each_family_and_replay_gives_it_back(tmp_path):
    # st_flaky fails by its seed alone (300 in 1000): the tallies are about
    # bookkeeping, checked against the kept failures' own logs.
    r, d, s = stress_json(tmp_path, "-p", "2", "--count", "40", "--seed", "100", "--keep",
                          "100", "--inject", "--plan portfolio", "--", FLAKY, "300")
    (job,) = s["jobs"]
    fams = job["families"]
    assert sum(f["runs"] for f in fams.values()) == job["runs"] == 40, fams
    assert sum(f["failures"] for f in fams.values()) == job["failures"] > 0, fams
    assert len(fams) >= 4 and set(fams) <= set(families()), fams
    kept = [d / k for g in job["signatures"].values() for k in g["kept"]]
    assert len(kept) == job["failures"]
    by_plan = {}
    for k in kept:
        plan = parse_log(k / "inject.log")[0]["header"]["plan"]
        by_plan[plan] = by_plan.get(plan, 0) + 1
    assert by_plan == {n: f["failures"] for n, f in fams.items() if f["failures"]}, \
        (by_plan, fams)
    assert "- plan families (failed/runs): " in r.out, r.out
    # The family follows from the seed: --replay and replay.sh give it back.
    k = kept[0]
    plan = parse_log(k / "inject.log")[0]["header"]["plan"]
    rr = run([STRESS, "--replay", k, "--count", "2"]).expect(0)
    assert any(l.endswith(f"; plan family {plan} x2") for l in rr.out.splitlines()), rr
    log = tmp_path / "replay.log"
    subprocess.run(["bash", k / "replay.sh"], env=clean_env(INJECT_REPLAY_LOG=str(log)),
                   capture_output=True)
    assert parse_log(log)[0]["header"]["plan"] == plan


def test_stress_credits_the_family_each_run_drew_from_a_list(tmp_path):
    # --inject "--plan A,B": the tallies are per family drawn (the log
    # header's plan=), never under the list's own text; the same seeds give
    # the same families again.
    args = ("-p", "2", "--count", "30", "--seed", "100", "--keep", "100", "--inject",
            "--plan release-mid,one-cpu", "--", FLAKY, "300")
    r, d, s = stress_json(tmp_path / "a", *args)
    (job,) = s["jobs"]
    fams = job["families"]
    assert set(fams) == {"release-mid", "one-cpu"}, fams
    assert sum(f["runs"] for f in fams.values()) == job["runs"] == 30, fams
    assert sum(f["failures"] for f in fams.values()) == job["failures"], fams
    for g in job["signatures"].values():
        for k in g["kept"]:
            assert parse_log(d / k / "inject.log")[0]["header"]["plan"] in fams
    _, _, s2 = stress_json(tmp_path / "b", *args)
    assert {n: f["runs"] for n, f in s2["jobs"][0]["families"].items()} == \
        {n: f["runs"] for n, f in fams.items()}


def test_shim_only_control_is_reported_beside_the_delays(tmp_path):
    # A program that fails as often without a delay: the control's rate is
    # reported beside the delays', and the verdict warns that the failures
    # are no credit to the delays.
    r, d, s = stress_json(tmp_path, "-p", "2", "--count", "30", "--seed", "7",
                          "--shim-control", "30", "--inject", "--plan release-mid", "--",
                          FLAKY, "500")
    (job,) = s["jobs"]
    ctl = job["shim_only"]
    assert ctl["runs"] == 30 and 0 < ctl["failures"] < 30, ctl
    assert job["runs"] == 30, job
    assert any("with the shim loaded and no delay (--prob 0)" in w for w in job["warnings"]), job
    assert "- without delays (the shim loaded, --prob 0): " in r.out, r.out
    # Without the option there is no control, and a job without --inject refuses it.
    _, _, s = stress_json(tmp_path / "b", "--count", "2", "--inject", "--prob 0.1", "--",
                          FLAKY, "0")
    assert s["jobs"][0]["shim_only"] is None
    r = run([STRESS, "--count", "2", "--shim-control", "2", "--results", tmp_path / "c", "--",
             FLAKY, "0"]).expect(64)
    assert "needs --inject" in r.err and r.err.count("\n") == 1, r
    r = run([STRESS, "--count", "2", "--shim-control", "0", "--", FLAKY, "0"]).expect(64)


def test_access_noise_is_drawn_for_instrumented_programs_only(tmp_path):
    # The launcher tells the shim whether the program calls __tsan_* entry
    # points; only then is access-noise among the portfolio's families.  Seeds
    # 1-40 over an instrumented program reach it (a fixed hash: exact), and
    # none of them does over the plain build of the same source.
    def plan(prog, seed):       # the program may fail (its race): only the header counts
        log = tmp_path / f"{prog.parent.name}-{seed}"
        r = run([INJECT, "--seed", str(seed), "--log", log, "--", prog])
        assert r.rc in (0, 1), r
        (b,) = parse_log(log)
        return b["header"]["plan"]
    got = {plan(PROGS / "tsan" / "order", seed) for seed in range(1, 41)}
    assert "access-noise" in got, got
    got_plain = {plan(PROGS / "tsan-plain" / "order", seed) for seed in range(1, 41)}
    assert "access-noise" not in got_plain and len(got_plain) >= 6, got_plain


def test_access_noise_draws_its_sample_per_run_and_bounds_its_delays(tmp_path):
    # access-noise visits one access in 2^k, k drawn from the seed (0..10),
    # so that programs with few accesses (the corpus: 18 to 738 a run) and
    # with many are both reached; same seed, same sample (replay).  The hash
    # is fixed, so seeds 1-40 giving at least 6 of the 11 values is exact.
    order = PROGS / "tsan" / "order"

    def hdr(name, *flags):
        log = tmp_path / name
        r = run([INJECT, *flags, "--log", log, "--", order])
        assert r.rc in (0, 1), r
        (b,) = parse_log(log)
        return b["header"]
    samples = {}
    for seed in range(1, 41):
        h = hdr(f"n{seed}", "--plan", "access-noise", "--seed", str(seed))
        assert h["plan"] == "access-noise" and h["prob"] == "0.5", h
        samples[seed] = int(h["sample"])
    assert set(samples.values()) <= {2 ** k for k in range(11)}, samples
    assert len(set(samples.values())) >= 6 and 1 in samples.values(), samples
    for seed in (1, 2):
        assert int(hdr(f"again{seed}", "--plan", "access-noise", "--seed",
                       str(seed))["sample"]) == samples[seed]
    # The portfolio gives the same sample as the named family (seed 1-40 reach it).
    for seed in range(1, 41):
        h = hdr(f"p{seed}", "--seed", str(seed))
        if h["plan"] == "access-noise":
            assert int(h["sample"]) == samples[seed], (seed, h)
    # A --sample given keeps its value over the draw.
    assert hdr("fixed", "--plan", "access-noise", "--seed", "1", "--sample", "7")["sample"] == "7"
    # At most 200 delays a process: 10^6 iterations of two accesses at
    # sample 1 would otherwise make 10^6 delays (about 750 s of sleep).
    loop = PROGS.parent / "bench" / "tsan_overhead"
    seed = next(s for s, n in samples.items() if n == 1)
    for flags, bound in (((), 200), (("--max", "5"), 5)):
        log = tmp_path / f"loop{bound}"
        run([INJECT, "--plan", "access-noise", "--seed", str(seed), *flags, "--log", log, "--",
             loop, "access", "1000000", "1"], timeout=120).expect(0)
        (b,) = parse_log(log)
        assert b["header"]["sample"] == "1" and len(b["events"]) == bound, \
            (b["header"], len(b["events"]))
