"""build/stress: counts and stop conditions, timeouts without orphans,
classification, kept traces and their limit, replay, summary.json/junit.xml,
--record, Ctrl-C, usage errors, campaigns, harness errors.

The helper programs are tests/progs/st_*.c (built as build/tests/st_*).
Injection is tested with a fake `inject` launcher placed next to a copy of
stress, so these tests do not depend on the real launcher."""

import json
import math
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import PROGS, ROOT, STRESS, clean_env, run, wilson

EXIT = PROGS / "st_exit"
FLAKY = PROGS / "st_flaky"
HANG = PROGS / "st_hang"
SPAM = PROGS / "st_spam"
SIGNAL = PROGS / "st_signal"
LINGER = PROGS / "st_linger"

STATUS_RE = re.compile(r"^(\d+h)?(\d+m)?\d+s: \d+ runs, \d+ failures \(\d+\.\d\d%\)"
                       r"( \[.+ x\d+(, .+ x\d+)*(, \.\.\.)?\])?, \d+ runs/s$")


def stress(tmp, *args, exe=STRESS, env=None, timeout=90, cwd=None):
    return run([exe, "--results", tmp / "results", *args], env=env, timeout=timeout, cwd=cwd)


def rundir(r):
    """The results path from the last line printed."""
    last = r.out.rstrip("\n").splitlines()[-1]
    assert last.startswith("results: "), f"last line is not the results path\n{r}"
    p = Path(last[len("results: "):])
    assert p.is_dir(), f"{p} is missing\n{r}"
    return p


def summary(r):
    d = rundir(r)
    s = json.loads((d / "summary.json").read_text())
    return d, s


def marked(mark):
    """Pids of live processes whose command line carries mark."""
    pids = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            cmd = (p / "cmdline").read_bytes()
            stat = (p / "stat").read_text()
        except OSError:
            continue
        if mark.encode() in cmd and stat.rsplit(")", 1)[1].split()[0] != "Z":
            pids.append(int(p.name))
    return pids


# ---- counts and stop conditions ----

def test_count_runs_exactly_with_seeds_and_env(tmp_path):
    rec = tmp_path / "runs.jsonl"
    r = stress(tmp_path, "-p", "2", "--count", "37", "--seed", "1000", "--record", rec,
               "--", EXIT, "0").expect(0)
    d, s = summary(r)
    job = s["jobs"][0]
    assert (job["runs"], job["failures"], s["seed_base"], s["ok"]) == (37, 0, 1000, True), r
    lines = [json.loads(x) for x in rec.read_text().splitlines()]
    assert len(lines) == 37
    assert sorted(x["run"] for x in lines) == list(range(37))
    assert all(x["seed"] == 1000 + x["run"] and x["status"] == "pass" for x in lines)
    assert all(set(x) >= {"run", "seed", "status", "signature", "exit", "signal", "seconds",
                          "sites"} for x in lines)
    assert not (d / ".tmp").exists(), "the scratch dir was not cleaned"


def test_failing_runs_see_their_seed(tmp_path):
    r = stress(tmp_path, "--count", "4", "--seed", "500", "--", EXIT, "1").expect(1)
    d, s = summary(r)
    kept = s["jobs"][0]["signatures"]["exit 1"]["kept"]
    assert len(kept) == 4
    for k in kept:
        meta = json.loads((d / k / "meta.json").read_text())
        out = (d / k / "output.txt").read_text()
        assert f"run={meta['run']} seed={500 + meta['run']} inject_seed=-" in out
        assert meta["seed"] == 500 + meta["run"] and meta["exit"] == 1 and meta["signal"] is None
        assert meta["env"] == {"STRESS_RUN": str(meta["run"]), "STRESS_SEED": str(meta["seed"])}


def test_time_limit_stops_starting_runs(tmp_path):
    t = time.monotonic()
    r = stress(tmp_path, "-p", "2", "--time", "1s", "--", EXIT, "0", "--sleep", "50").expect(0)
    wall = time.monotonic() - t
    _, s = summary(r)
    runs = s["jobs"][0]["runs"]
    assert 0.9 < wall < 4, r
    assert 15 <= runs <= 45, r


def test_max_failures_stops(tmp_path):
    r = stress(tmp_path, "-p", "1", "--count", "2000", "--max-failures", "3", "--",
               FLAKY, "300").expect(1)
    _, s = summary(r)
    job = s["jobs"][0]
    assert job["failures"] == 3 and job["runs"] < 2000, r


def test_failfast_stops_at_first_failure(tmp_path):
    r = stress(tmp_path, "-p", "2", "--count", "2000", "--failfast", "--", FLAKY, "200").expect(1)
    _, s = summary(r)
    job = s["jobs"][0]
    assert job["failures"] == 1 and job["runs"] < 2000, r


# ---- timeouts and orphans ----

def test_timeout_asks_for_a_dump_first(tmp_path):
    mark = uuid.uuid4().hex
    r = stress(tmp_path, "-p", "2", "--count", "2", "--timeout", "300ms", "--grace", "5s",
               "--", HANG, mark).expect(1)
    d, s = summary(r)
    sig = s["jobs"][0]["signatures"]
    assert list(sig) == ["timeout"] and sig["timeout"]["count"] == 2, r
    k = d / sig["timeout"]["kept"][0]
    out = (k / "output.txt").read_text()
    assert "hanging" in out and "SIGQUIT: quit" in out and "goroutine 1 [running]:" in out
    meta = json.loads((k / "meta.json").read_text())
    assert meta["timed_out"] and meta["exit"] == 2
    assert meta["duration_ms"] < 3000, "SIGKILL came before the dump could finish"
    assert not marked(mark)


def test_timeout_kills_after_grace_and_leaves_no_orphans(tmp_path):
    mark = uuid.uuid4().hex
    t = time.monotonic()
    r = stress(tmp_path, "-p", "2", "--count", "2", "--timeout", "200ms", "--grace", "400ms",
               "--", HANG, "--ignore-quit", mark).expect(1)
    wall = time.monotonic() - t
    d, s = summary(r)
    sig = s["jobs"][0]["signatures"]
    assert list(sig) == ["timeout"], r
    meta = json.loads((d / sig["timeout"]["kept"][0] / "meta.json").read_text())
    assert meta["signal"] == "SIGKILL" and meta["timed_out"]
    assert 550 <= meta["duration_ms"] < 3000
    assert wall < 10
    assert not marked(mark), "a run outlived stress"


def test_lingering_grandchild_is_killed(tmp_path):
    mark = uuid.uuid4().hex
    t = time.monotonic()
    r = stress(tmp_path, "-p", "2", "--count", "4", "--", LINGER, mark, "0").expect(0)
    assert time.monotonic() - t < 10, f"stress waited for the grandchild\n{r}"
    _, s = summary(r)
    assert s["jobs"][0]["runs"] == 4
    time.sleep(0.2)
    assert not marked(mark), "a grandchild was left behind"


@pytest.mark.parametrize("mode", ["hold", "close"])
def test_daemonized_descendant_is_killed(tmp_path, mode):
    # fork, setsid, fork: the grandchild leaves the run's process group and
    # session, so killing the group missed it; it outlived stress (and, holding
    # the output pipe, cost every run the 1 s drain).
    mark = uuid.uuid4().hex
    t = time.monotonic()
    r = stress(tmp_path, "-p", "2", "--count", "4", "--", PROGS / "st_daemon", mark, mode).expect(0)
    assert time.monotonic() - t < 3, f"stress waited for the daemons\n{r}"
    _, s = summary(r)
    assert s["jobs"][0]["runs"] == 4
    deadline = time.monotonic() + 2
    while marked(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not marked(mark), "a daemonized descendant was left behind"


# ---- classification ----

@pytest.mark.parametrize("argv,signature,slug", [
    ([FLAKY, "1000"], "checkdead: runnable g", "checkdead-runnable-g"),
    ([EXIT, "3", "noise", "panic: runtime error: index out of range", "goroutine 1"],
     "panic: runtime error: index out of range", "panic-runtime-error-index-out-of-range"),
    ([SIGNAL, "6", "st: f.c:3: main: Assertion `x > 0' failed."],
     "Assertion `x > 0' failed.", "assertion-x-0-failed"),
    ([SIGNAL, "11"], "SIGSEGV", "sigsegv"),
    ([SIGNAL, "9"], "SIGKILL", "sigkill"),
    ([EXIT, "3"], "exit 3", "exit-3"),
    ([EXIT, "2", "runtime: x", "fatal error: all goroutines are asleep - deadlock!", "panic: no"],
     "all goroutines are asleep - deadlock!", "all-goroutines-are-asleep-deadlock"),
])
def test_classification(tmp_path, argv, signature, slug):
    r = stress(tmp_path, "--count", "2", "--", *argv).expect(1)
    d, s = summary(r)
    sig = s["jobs"][0]["signatures"]
    assert list(sig) == [signature], r
    assert sig[signature]["count"] == 2
    assert all(k.startswith(f"failures/{slug}/") and (d / k).is_dir() for k in sig[signature]["kept"])


def test_signature_with_invalid_utf8_and_control_bytes(tmp_path):
    # jansson refuses invalid UTF-8: the signature used to vanish from
    # summary.json (failures 2, signatures {}), from meta.json (so --replay
    # refused the kept dir) and from --record.
    script = r"printf 'fatal error: bad \377\376 byte\001 here\033[0m\n' >&2; exit 2"
    rec = tmp_path / "rec.jsonl"
    r = stress(tmp_path, "-p", "1", "--count", "2", "--record", rec, "--", "/bin/sh", "-c",
               script).expect(1)
    d, s = summary(r)
    sigs = s["jobs"][0]["signatures"]
    assert list(sigs) == ["bad ?? byte? here?[0m"] and sigs["bad ?? byte? here?[0m"]["count"] == 2, s
    kept = d / sigs["bad ?? byte? here?[0m"]["kept"][0]
    assert json.loads((kept / "meta.json").read_text())["signature"] == "bad ?? byte? here?[0m"
    assert [json.loads(x)["signature"] for x in rec.read_text().splitlines()] == \
        ["bad ?? byte? here?[0m"] * 2
    ET.parse(d / "junit.xml")
    stress(tmp_path, "--replay", kept, "--count", "1").expect(0)


def test_ok_status(tmp_path):
    r = stress(tmp_path, "--count", "3", "--ok-status", "0,6", "--", EXIT, "6").expect(0)
    assert summary(r)[1]["jobs"][0]["failures"] == 0
    r = stress(tmp_path, "--count", "3", "--ok-status", "0,5", "--", EXIT, "6").expect(1)
    assert summary(r)[1]["jobs"][0]["failures"] == 3


@pytest.mark.parametrize("flags,failures", [
    ([], 3),
    (["--ignore", "^flaky net"], 0),
    (["--failure", "fatal error"], 0),
    (["--failure", "net(work)?$"], 3),
])
def test_failure_and_ignore_regexps(tmp_path, flags, failures):
    r = stress(tmp_path, "--count", "3", *flags, "--", EXIT, "1", "flaky network")
    _, s = summary(r)
    assert s["jobs"][0]["failures"] == failures and s["jobs"][0]["runs"] == 3, r
    r.expect(1 if failures else 0)


# ---- keeping ----

def test_keep_limit_counts_all(tmp_path):
    r = stress(tmp_path, "-p", "2", "--count", "12", "--keep", "3", "--", EXIT, "1").expect(1)
    d, s = summary(r)
    sig = s["jobs"][0]["signatures"]["exit 1"]
    assert sig["count"] == 12 and len(sig["kept"]) == 3
    assert len(list((d / "failures" / "exit-1").iterdir())) == 3
    for k in sig["kept"]:
        for f in ("output.txt", "meta.json", "replay.sh"):
            assert (d / k / f).is_file()
        assert os.access(d / k / "replay.sh", os.X_OK)
    assert not list(d.rglob("*.tmp*")), "a temporary file was left"


def test_huge_output_keeps_head_and_tail(tmp_path):
    r = stress(tmp_path, "--count", "1", "--", SPAM, "30000000").expect(1)
    d, s = summary(r)
    sig = s["jobs"][0]["signatures"]
    assert list(sig) == ["after the spam"], r
    k = d / sig["after the spam"]["kept"][0]
    out = (k / "output.txt").read_text()
    assert out.startswith("first line of the spam")
    assert "last line of the spam" in out and "fatal error: after the spam" in out
    m = re.search(r"\[stress: (\d+) bytes of output dropped here", out)
    assert m and int(m.group(1)) > 25_000_000
    assert len(out) < 1_200_000
    meta = json.loads((k / "meta.json").read_text())
    assert meta["output_bytes"] > 30_000_000 and meta["output_dropped"] == int(m.group(1))


# ---- replay ----

def test_replay_reproduces_a_kept_failure(tmp_path):
    r = stress(tmp_path, "-p", "2", "--count", "40", "--", FLAKY, "300").expect(1)
    d, s = summary(r)
    k = d / s["jobs"][0]["signatures"]["checkdead: runnable g"]["kept"][0]
    rp = run([STRESS, "--replay", k, "--count", "6"]).expect(0)
    assert 'reproduced "checkdead: runnable g" 6 of 6 times' in rp.out, rp
    sh = run([k / "replay.sh"]).expect(2)
    assert "fatal error: checkdead: runnable g" in sh.err
    # The same seed with the bug "fixed" does not reproduce, and says so.
    meta = json.loads((k / "meta.json").read_text())
    meta["command"][-1] = "0"
    (k / "meta.json").write_text(json.dumps(meta))
    rp = run([STRESS, "--replay", k, "--count", "3"]).expect(1)
    assert 'reproduced "checkdead: runnable g" 0 of 3 times' in rp.out, rp


# ---- reports ----

def test_summary_junit_and_record_agree(tmp_path):
    rec = tmp_path / "runs.jsonl"
    r = stress(tmp_path, "-p", "2", "--count", "200", "--record", rec, "--", FLAKY, "250").expect(1)
    d, s = summary(r)
    assert set(s) >= {"name", "started", "finished", "interrupted", "ok", "seed_base", "jobs"}
    assert s["ok"] is False and s["interrupted"] is False
    job = s["jobs"][0]
    lines = [json.loads(x) for x in rec.read_text().splitlines()]
    fails = [x for x in lines if x["status"] == "fail"]
    assert job["runs"] == len(lines) == 200
    assert job["failures"] == len(fails) == sum(v["count"] for v in job["signatures"].values())
    assert 20 < job["failures"] < 100
    assert job["rate"] == pytest.approx(len(fails) / 200)
    lo, hi = wilson(len(fails), 200)
    assert job["rate_ci95"] == pytest.approx([lo, hi], abs=1e-9)
    # Runs finish out of order on two workers: the first failure to finish.
    assert job["first_failure"]["run"] in {x["run"] for x in fails[:2]}
    assert 0 < job["first_failure"]["seconds"] <= job["wall_seconds"]
    dm = job["duration_ms"]
    assert 0 < dm["min"] <= dm["median"] <= dm["max"]
    assert job["wall_seconds"] > 0 and job["runs_per_second"] == pytest.approx(
        200 / job["wall_seconds"], rel=1e-6)
    assert job["expectation_met"] is None and job["harness_error"] is None
    assert all(x["signature"] == "checkdead: runnable g" and x["exit"] == 2 for x in fails)

    root = ET.parse(d / "junit.xml").getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == 1 and cases[0].get("name") == job["name"]
    failure = cases[0].find("failure")
    assert failure is not None and "fatal error: checkdead: runnable g" in failure.text
    assert root.get("tests") == "1" and root.get("failures") == "1"
    md = (d / "report.md").read_text()
    assert f"| {job['runs']} | {job['failures']} |" in md


def test_status_lines(tmp_path):
    r = stress(tmp_path, "--status", "150ms", "-p", "1", "--count", "8", "--",
               EXIT, "1", "--sleep", "60").expect(1)
    lines = [l for l in r.out.splitlines() if re.match(r"^\d+s: ", l)]
    assert len(lines) >= 3, r
    assert all(STATUS_RE.match(l) for l in lines), lines
    assert re.match(r"\d+s: 8 runs, 8 failures \(100\.00%\) \[exit 1 x8\], \d+ runs/s$",
                    lines[-1]), lines


@pytest.mark.parametrize("sigs", [
    [signal.SIGINT], [signal.SIGTERM], [signal.SIGINT, signal.SIGINT],
    # a closed terminal or ssh session: SIGHUP used to kill stress outright,
    # with no summary and both runs left running as orphans
    [signal.SIGHUP],
])
def test_interrupt_still_writes_the_summary(tmp_path, sigs):
    mark = uuid.uuid4().hex
    p = subprocess.Popen([str(STRESS), "--results", str(tmp_path / "results"), "-p", "2",
                          "--", str(HANG), mark], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=clean_env(), cwd=ROOT)
    p.stdout.readline()                      # the seed line: the loop is running
    runs = lambda: [x for x in marked(mark) if x != p.pid]
    for _ in range(50):
        if len(runs()) == 2:
            break
        time.sleep(0.05)
    assert len(runs()) == 2
    for sig in sigs:
        p.send_signal(sig)
    out, err = p.communicate(timeout=15)
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("results: "), out + err
    s = json.loads((Path(last[9:]) / "summary.json").read_text())
    assert s["interrupted"] is True and s["ok"] is False and p.returncode == 1
    assert s["jobs"][0]["runs"] == 0          # the killed runs are not counted
    ET.parse(Path(last[9:]) / "junit.xml")
    deadline = time.monotonic() + 2
    while marked(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not marked(mark)


# ---- usage and harness errors ----

@pytest.mark.parametrize("args", [
    ["--count", "x", "--", "/bin/true"],
    ["-p", "0", "--", "/bin/true"],
    ["--timeout", "5 parsecs", "--", "/bin/true"],
    ["--bogus", "--", "/bin/true"],
    ["--failure", "(", "--", "/bin/true"],
    ["--ok-status", "0,x", "--", "/bin/true"],
    ["--expect", "maybe", "--", "/bin/true"],
    ["--inject", "--sites 'startm", "--", "/bin/true"],
    ["--count", "3"],
    # a status interval so small that next += interval did not move the
    # clock: stress spun forever, deaf to SIGTERM (signals are read in the loop)
    ["--status", "1e-20", "--time", "1s", "--", "/bin/true"],
])
def test_bad_flags(tmp_path, args):
    r = stress(tmp_path, *args).expect(64)
    assert len(r.err.splitlines()) == 1 and r.err.startswith("stress: "), r
    assert not (tmp_path / "results").exists()


def _stress_small_disk(tmp, limit, *args):
    """stress with files capped at limit bytes (RLIMIT_FSIZE, SIGXFSZ ignored):
    every write past it fails with EFBIG, as on a full filesystem."""
    import resource

    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    p = subprocess.run([str(STRESS), "--results", str(tmp / "results"), "--status", "0",
                        *map(str, args)], preexec_fn=pre, restore_signals=False,
                       capture_output=True, text=True, timeout=60, env=clean_env(), cwd=ROOT)
    return p


@pytest.mark.parametrize("limit,argv,what", [
    (100, ["/bin/true"], "cannot write "),
    (100, ["/bin/false"], "cannot keep a failure under "),
])
def test_full_results_filesystem_is_a_harness_error(tmp_path, limit, argv, what):
    # Reports that cannot be written used to exit 0 (or 1) after a line on
    # stderr, and a failure that could not be kept was listed as kept with
    # empty files: nothing to show for the night, and a green status.
    p = _stress_small_disk(tmp_path, limit, "-p", "1", "--count", "3", "--", *argv)
    assert p.returncode == 125, p
    err = p.stderr.splitlines()
    assert len(err) == 1 and err[0].startswith("stress: HARNESS ERROR: ") and what in err[0], p
    assert "File too large" in err[0], p
    for d in (tmp_path / "results").rglob("*"):
        if d.is_dir() and d.parent.name.startswith("exit-"):
            assert (d / "meta.json").stat().st_size > 0, f"{d} kept without its files"


def test_unwritable_record_is_a_harness_error(tmp_path):
    r = stress(tmp_path, "-p", "1", "--count", "3", "--record", "/dev/full", "--", "/bin/true")
    r.expect(125)
    assert "cannot write the --record file: No space left on device" in r.err, r


def test_missing_command_is_a_harness_error(tmp_path):
    r = stress(tmp_path, "--count", "3", "--", tmp_path / "no-such-program").expect(125)
    assert "HARNESS ERROR" in r.err and "no-such-program" in r.err, r
    _, s = summary(r)
    assert s["jobs"][0]["runs"] == 0 and "no-such-program" in s["jobs"][0]["harness_error"]
    assert s["ok"] is False


FAKE_INJECT = r"""#!/bin/sh
# A stand-in for build/inject: logs its argv and environment, writes an
# injection log with S lines, refuses like inject when FAKE_REFUSE is set
# (at launch: --check accepts, as for a value only the program's run finds bad).
if [ "$1" = --check ]; then exit 0; fi
log=
seed=
args="$*"
while [ "$1" != "--" ]; do
    case "$1" in --log) log=$2; shift;; --seed) seed=$2; shift;; esac
    shift
done
shift
if [ -n "$FAKE_REFUSE" ]; then echo "inject: bad --delay: want fixed:D" >&2; exit 125; fi
echo "launcher: $args env INJECT_SEED=$INJECT_SEED"
printf '# inject-log v1 pid=1 seed=%s\nS startm+0x10 7 2 3000\nS stopm+0x4 5 0 0\nS startm+0x10 1 1 500\n# end\n' "$seed" > "$log"
exec "$@"
"""


@pytest.fixture
def fake_bin(tmp_path):
    b = tmp_path / "bin"
    b.mkdir()
    shutil.copy(STRESS, b / "stress")
    (b / "inject").write_text(FAKE_INJECT)
    (b / "inject").chmod(0o755)
    return b


def test_inject_wraps_each_run(tmp_path, fake_bin):
    rec = tmp_path / "runs.jsonl"
    r = stress(tmp_path, "--count", "3", "--seed", "77", "--record", rec,
               "--inject", "--sites startm --delay 'uniform:200us:2ms'",
               "--", EXIT, "1", exe=fake_bin / "stress").expect(1)
    d, s = summary(r)
    assert s["jobs"][0]["inject"] == "--sites startm --delay 'uniform:200us:2ms'"
    for k in s["jobs"][0]["signatures"]["exit 1"]["kept"]:
        meta = json.loads((d / k / "meta.json").read_text())
        seed = meta["seed"]
        out = (d / k / "output.txt").read_text()
        assert re.search(rf"launcher: --sites startm --delay uniform:200us:2ms --seed {seed} "
                         rf"--log \S+/inject.log -- {EXIT} 1 env INJECT_SEED={seed}", out), out
        assert f"run={meta['run']} seed={seed} inject_seed={seed}" in out
        assert (d / k / "inject.log").read_text().startswith(f"# inject-log v1 pid=1 seed={seed}")
        assert meta["env"]["INJECT_SEED"] == str(seed)
        sh = (d / k / "replay.sh").read_text()
        assert f"--seed {seed} --log" in sh and str(fake_bin / "inject") in sh
    lines = [json.loads(x) for x in rec.read_text().splitlines()]
    assert len(lines) == 3
    for x in lines:
        assert x["sites"] == {"startm+0x10": {"visits": 8, "delays": 3, "delay_ns": 3500},
                              "stopm+0x4": {"visits": 5, "delays": 0, "delay_ns": 0}}, x


def test_inject_refusal_is_a_harness_error(tmp_path, fake_bin):
    r = stress(tmp_path, "--count", "5", "--inject", "--delay bogus", "--", EXIT, "0",
               exe=fake_bin / "stress", env=clean_env(FAKE_REFUSE=1)).expect(125)
    assert "HARNESS ERROR" in r.err and "inject: bad --delay" in r.err, r
    d, s = summary(r)
    job = s["jobs"][0]
    assert job["runs"] == 0 and job["failures"] == 0 and "inject:" in job["harness_error"]
    assert not (d / "failures").exists()
    assert ET.parse(d / "junit.xml").getroot().find(".//error") is not None


def test_static_program_under_injection_is_a_harness_error(tmp_path):
    # The real launcher refuses a program the shim cannot enter: the job stops with a harness
    # error instead of counting clean runs that were never injected.
    static = PROGS / "static_hello"
    r = stress(tmp_path, "--count", "5", "--inject", "--prob 0.5", "--", static).expect(125)
    assert "HARNESS ERROR" in r.err and "statically linked" in r.err, r
    job = summary(r)[1]["jobs"][0]
    assert job["runs"] == 0 and "statically linked" in job["harness_error"], job


# ---- campaigns ----

def campaign(tmp_path, text):
    f = tmp_path / "c.ini"
    f.write_text(text)
    return f


def test_campaign_expectations_and_confidence(tmp_path):
    f = campaign(tmp_path, f"""
[repro]
command = {FLAKY} 500
count = 100
expect = fail

[fixed]
command = {FLAKY} 0
count = 400
expect = pass
control = repro
procs = 1
""")
    r = stress(tmp_path, "--campaign", f).expect(0)
    d, s = summary(r)
    assert s["name"] == "c" and s["ok"] is True
    repro, fixed = s["jobs"]
    assert repro["expectation_met"] is True and repro["first_failure"] is not None
    assert fixed["expectation_met"] is True and fixed["runs"] == 400 and fixed["failures"] == 0
    lo = repro["rate_ci95"][0]
    p = 400 * math.log10(1 - lo)
    assert re.match(rf"the repro rate was {repro['rate']:.3g} per run \(95% lower bound "
                    rf"{lo:.3g}\); 400 clean runs would all pass with probability "
                    r"(below 1e-300|[0-9.e+-]+) if the bug were still there", fixed["confidence"])
    if p >= -300:
        shown = float(fixed["confidence"].split("probability ")[1].split()[0])
        assert shown == pytest.approx(10 ** p, rel=0.05)
    kept = repro["signatures"]["checkdead: runnable g"]["kept"]
    assert kept and all(k.startswith("repro/failures/") and (d / k).is_dir() for k in kept)
    assert "## fixed" in r.out and "confidence:" in r.out   # the report is printed
    cases = ET.parse(d / "junit.xml").getroot().findall(".//testcase")
    assert [c.get("name") for c in cases] == ["repro", "fixed"]
    assert all(c.find("failure") is None for c in cases)


def test_campaign_unmet_expectations_fail(tmp_path):
    f = campaign(tmp_path, f"""
[never]
command = {EXIT} 0
count = 20
expect = fail

[breaks]
command = {FLAKY} 500
count = 20
expect = pass
""")
    r = stress(tmp_path, "--campaign", f).expect(1)
    d, s = summary(r)
    assert [j["expectation_met"] for j in s["jobs"]] == [False, False]
    cases = ET.parse(d / "junit.xml").getroot().findall(".//testcase")
    assert all(c.find("failure") is not None for c in cases)
    assert "fatal error: checkdead" in cases[1].find("failure").text


def test_timeouts_are_not_reproductions(tmp_path):
    f = campaign(tmp_path, f"""
[hangs]
command = {HANG}
count = 2
timeout = 200ms
expect = fail
""")
    r = stress(tmp_path, "--campaign", f).expect(1)
    _, s = summary(r)
    job = s["jobs"][0]
    assert job["failures"] == 2 and job["expectation_met"] is False, r
    assert "NOT REPRODUCED" in r.out and "only 2 timeouts" in r.out


@pytest.mark.parametrize("text,line,what", [
    ("[a]\ncommand = /bin/true\ncolour = red\ncount = 1\n", 3, 'unknown key "colour"'),
    ("[a]\ncommand = /bin/true\ncount = many\n", 3, 'bad count "many"'),
    ("[a]\ncommand = /bin/true\ncount = 1\nexpect = maybe\n", 4, 'bad expect "maybe"'),
    ("[a]\ncommand = /bin/true\ntime = soon\n", 3, 'bad time "soon"'),
    ("[a]\ncount = 1\n", 1, "has no command"),
    ("[a]\ncommand = /bin/true\n", 1, "needs count or time"),
    ("count = 1\n[a]\ncommand = /bin/true\n", 1, "outside a [job] section"),
    ("[a]\ncommand = /bin/true\ncount = 1\nthis is not ini\n", 4, "syntax error"),
    ("[a]\ncommand = /bin/true\ncount = 1\n\n[a]\ncount = 2\n", 5, "defined twice"),
    ("[a]\ncommand = /bin/true\ncount = 1\nexpect = pass\ncontrol = b\n", 1, 'control "b"'),
    ("[a]\ncommand = /bin/true 'oops\ncount = 1\n", 2, "bad command"),
    ("; nothing\n", 1, "no jobs"),
    # job names are directories of the run dir: ".." kept failures outside it,
    # ".tmp" had them deleted with the scratch dir, "summary.json" blocked the summary
    ("[ok]\ncommand = /bin/true\ncount = 1\n[..]\ncommand = /bin/false\ncount = 1\n", 4,
     "bad job name [..]"),
    ("[.tmp]\ncommand = /bin/false\ncount = 1\n", 1, "bad job name [.tmp]"),
    ("[summary.json]\ncommand = /bin/false\ncount = 1\n", 1, "bad job name [summary.json]"),
])
def test_bad_campaign_files(tmp_path, text, line, what):
    f = campaign(tmp_path, text)
    r = stress(tmp_path, "--campaign", f).expect(64)
    assert len(r.err.splitlines()) == 1, r
    assert r.err.startswith(f"stress: {f}:{line}: ") and what in r.err, r


def test_missing_campaign_file(tmp_path):
    r = stress(tmp_path, "--campaign", tmp_path / "nope.ini").expect(64)
    assert len(r.err.splitlines()) == 1 and "nope.ini" in r.err


@pytest.mark.parametrize("name", ["default.ini", "nightly.ini"])
def test_shipped_campaigns_parse(tmp_path, name):
    # Run from an empty directory: build/gosched is missing there, so the
    # campaign parses, then stops at once with a harness error.
    r = stress(tmp_path, "--campaign", ROOT / "stress" / "campaigns" / name,
               cwd=tmp_path).expect(125)
    _, s = summary(r)
    names = [j["name"] for j in s["jobs"]]
    extra = {"default.ini": [], "nightly.ini": ["blind-40368", "repro-6070", "stall-38860",
                                                    "fixed-38860"]}[name]
    assert names == ["repro-40368", "fixed-40368", "mixed-blind"] + extra
    assert s["jobs"][1]["control"] == "repro-40368"
    assert "build/gosched" in s["jobs"][0]["harness_error"]


# ---- a killed stress leaves nothing running (issue 10 item 3) ----

def _start_stress(tmp_path, mark, argv, procs=2):
    p = subprocess.Popen([str(STRESS), "--results", str(tmp_path / "results"), "-p", str(procs),
                          "--status", "0", "--", *map(str, argv)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=clean_env(), cwd=ROOT)
    p.stdout.readline()                      # the seed line: the loop is running
    return p


def _wait_for(pred, seconds):
    deadline = time.monotonic() + seconds
    while not pred() and time.monotonic() < deadline:
        time.sleep(0.05)
    return pred()


@pytest.mark.parametrize("shape", ["run", "run-with-children"])
def test_sigkilled_stress_leaves_no_run_behind(tmp_path, shape):
    # SIGKILL gives stress no chance to clean up: its in-flight runs used to live on under
    # init with no timeout.  A run dies with its stress (a parent-death signal set before
    # exec); what a run forked dies too (the sentinel kills each run's process group).
    mark = uuid.uuid4().hex
    if shape == "run":
        argv = [HANG, mark]
    else:
        argv = ["/bin/sh", "-c", f'"$0" {mark} & "$0" {mark} & wait', HANG]
    p = _start_stress(tmp_path, mark, argv)
    want = 2 if shape == "run" else 6     # two runs; or two shells with two hangs each
    assert _wait_for(lambda: len([x for x in marked(mark) if x != p.pid]) >= want, 10), \
        marked(mark)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=10)
    assert _wait_for(lambda: not marked(mark), 3), f"runs outlived their stress: {marked(mark)}"


def test_next_stress_cleans_abandoned_scratch_dirs_only(tmp_path):
    # A live stress in the same results folder keeps its scratch dir; a killed one's goes.
    mark2 = uuid.uuid4().hex
    live = _start_stress(tmp_path, mark2, [HANG, mark2], procs=1)
    try:
        mark = uuid.uuid4().hex
        killed = _start_stress(tmp_path, mark, [HANG, mark])
        assert _wait_for(lambda: len([x for x in marked(mark) if x != killed.pid]) == 2, 10)
        killed.send_signal(signal.SIGKILL)
        killed.communicate(timeout=10)
        scratch = sorted((tmp_path / "results").glob("*/.tmp"))
        assert len(scratch) == 2, scratch
        r = stress(tmp_path, "--count", "1", "--", EXIT, "0").expect(0)
        assert "removed 1 abandoned scratch dir" in r.out, r
        left = list((tmp_path / "results").glob("*/.tmp"))
        assert len(left) == 1 and left[0] in scratch, left
        assert (left[0] / ".owner").read_text() == f"{live.pid}\n"
    finally:
        live.send_signal(signal.SIGTERM)
        live.communicate(timeout=15)
    assert not list((tmp_path / "results").glob("*/.tmp"))


# ---- --record lines are whole; seeds are unsigned 64-bit (issue 10 item 4) ----

def _record_lines(path):
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), f"a torn last line: {data[-80:]!r}"
    return [json.loads(x) for x in data.decode().splitlines()]


def test_record_line_whole_or_not_at_all_at_a_file_size_limit(tmp_path):
    # RLIMIT_FSIZE: a write past the limit is cut short, then fails (EFBIG), as on a full
    # disk.  The line that does not fit must not be left half-written.
    rec = tmp_path / "rec.jsonl"
    p = _stress_small_disk(tmp_path, 1500, "-p", "1", "--count", "40", "--record", rec,
                           "--", "/bin/true")
    assert p.returncode == 125 and "cannot write the --record file" in p.stderr, p
    lines = _record_lines(rec)
    assert 3 <= len(lines) < 40 and all(x["status"] == "pass" for x in lines), lines


@pytest.fixture
def tiny_tmpfs(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        # Leave one page free.
        (mnt / "filler").write_bytes(b"x" * (60 * 1024))
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


def test_record_line_whole_or_not_at_all_on_a_full_filesystem(tmp_path, tiny_tmpfs):
    rec = tiny_tmpfs / "rec.jsonl"
    r = stress(tmp_path, "-p", "2", "--count", "200", "--record", rec, "--", "/bin/true")
    r.expect(125)
    assert "cannot write the --record file: No space left on device" in r.err, r
    lines = _record_lines(rec)
    assert 5 <= len(lines) < 200, len(lines)


def test_record_ends_a_torn_line_before_appending(tmp_path):
    rec = tmp_path / "rec.jsonl"
    rec.write_text('{"run": 0, "statu')
    stress(tmp_path, "--count", "2", "--record", rec, "--", "/bin/true").expect(0)
    lines = rec.read_text().splitlines()
    assert lines[0] == '{"run": 0, "statu' and len(lines) == 3
    assert [json.loads(x)["status"] for x in lines[1:]] == ["pass", "pass"]


@pytest.mark.parametrize("base", [18446744073709551615, 9223372036854775807])
def test_seeds_are_unsigned_64_bit_everywhere(tmp_path, base):
    # 2^63 was written -9223372036854775808 in the record and meta.json while the
    # environment and replay.sh said 9223372036854775808; 2^64-1 was refused.
    rec = tmp_path / "rec.jsonl"
    r = stress(tmp_path, "-p", "1", "--count", "3", "--seed", base, "--record", rec,
               "--", EXIT, "1").expect(1)
    d, s = summary(r)
    assert s["seed_base"] == base, s["seed_base"]
    seeds = {x["run"]: x["seed"] for x in _record_lines(rec)}
    assert seeds == {k: (base + k) % 2**64 for k in range(3)}, seeds
    kept = s["jobs"][0]["signatures"]["exit 1"]["kept"]
    assert len(kept) == 3
    for k in kept:
        meta = json.loads((d / k / "meta.json").read_text())
        want = (base + meta["run"]) % 2**64
        assert meta["seed"] == want and meta["env"]["STRESS_SEED"] == str(want), meta
        assert f"seed={want} " in (d / k / "output.txt").read_text()
        assert f"STRESS_SEED={want}\n" in (d / k / "replay.sh").read_text()
    rp = run([STRESS, "--replay", d / kept[-1], "--count", "2"]).expect(0)
    assert 'reproduced "exit 1" 2 of 2 times' in rp.out, rp
    assert f"seed {(base + 2) % 2**64}" in rp.out, rp
