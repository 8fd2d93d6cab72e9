"""Issue 13, item 3: blind injection is a seeded portfolio of plan families.

With no plan given (none of --prob, --delay, --sites, --points, --action), each
run draws its family from its seed; the log's header names it; every family
can be named with --plan; one-cpu puts every thread on one CPU.  Checked
against the injection logs the shim writes (docs/interfaces.md)."""

import re
import subprocess

from conftest import INJECT, PROGS, clean_env, run
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
    # seeds 1-40 reach every family of this build.
    assert set(seen) == set(fams), seen
    # Same seed, same family (replay); the header equals the named family's.
    for fam, seeds in seen.items():
        s = str(seeds[0])
        again = header(tmp_path, f"again-{fam}", "--seed", s)
        named = header(tmp_path, f"named-{fam}", "--seed", s, "--plan", fam)
        del again["pid"], named["pid"]
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
