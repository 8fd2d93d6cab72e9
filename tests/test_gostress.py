"""stress as a drop-in for Go's x/tools stress (issue 15 item 4): Go's flags,
single dash, with '=' or a space (-count, -failfast, -failure, -ignore, -kill,
-o, -p, -timeout), do what our double-dash flags do; -kill=false leaves a
timed-out run alive for a debugger and waits for it; -o writes each failure's
output to PREFIX plus a unique suffix.

The old stress refused every one of these (`unknown or incomplete flag -c`,
exit 64)."""

import json
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import PROGS, ROOT, STRESS, clean_env, run

EXIT = PROGS / "st_exit"
FLAKY = PROGS / "st_flaky"
HANG = PROGS / "st_hang"

# Fields of a summary that depend on the clock, not on what stress did.
TIMING = {"started", "finished", "runs_per_second", "wall_seconds", "cpu_seconds",
          "duration_ms", "duration_hist", "first_failure", "first_reproduction", "name"}


def stress(tmp, *args, timeout=90):
    return run([STRESS, "--results", tmp / "results", "--status", "0", *args], timeout=timeout)


def what_it_did(r):
    """The exit status, and summary.json without its times and paths."""
    last = r.out.rstrip("\n").splitlines()[-1]
    assert last.startswith("results: "), r
    s = json.loads((Path(last[9:]) / "summary.json").read_text())
    jobs = [{k: v for k, v in j.items() if k not in TIMING} for j in s["jobs"]]
    for j in jobs:
        for sig in j["signatures"].values():
            sig["kept"] = len(sig["kept"])
    return r.rc, {k: v for k, v in s.items() if k not in TIMING and k != "jobs"}, jobs


# Go's spelling, then ours, of the same command line.  Each is deterministic
# for a seed: a count, or stop conditions on one worker.  The command's own flags
# (-test.run=..., -count=5) must reach it untouched.
PAIRS = [
    # the line from the issue, at a test's size
    (["-p", "2", "-count", "6", "-timeout", "2m", EXIT, "0", "-test.run=TestY"],
     ["-p", "2", "--count", "6", "--timeout", "2m", "--", EXIT, "0", "-test.run=TestY"]),
    (["-p=2", "-count=6", "-timeout=2m", EXIT, "3", "-count=5", "-p=4"],
     ["-p2", "--count=6", "--timeout=2m", "--", EXIT, "3", "-count=5", "-p=4"]),
    (["-p", "2", "-count", "6", "-failure", "boom", EXIT, "3", "boom"],
     ["-p", "2", "--count", "6", "--failure", "boom", "--", EXIT, "3", "boom"]),
    (["-p", "2", "-count", "6", "-failure=nomatch", EXIT, "3", "boom"],
     ["-p", "2", "--count", "6", "--failure=nomatch", "--", EXIT, "3", "boom"]),
    (["-p", "2", "-count", "6", "-ignore", "boom", EXIT, "3", "boom"],
     ["-p", "2", "--count", "6", "--ignore", "boom", "--", EXIT, "3", "boom"]),
    (["-p", "1", "-count", "50", "-failfast", FLAKY, "300"],
     ["-p", "1", "--count", "50", "--failfast", "--", FLAKY, "300"]),
    (["-p", "1", "-count", "50", "-failfast=true", FLAKY, "300"],
     ["-p", "1", "--count", "50", "--failfast", "--", FLAKY, "300"]),
    (["-p", "1", "-count", "20", "-failfast=false", FLAKY, "300"],
     ["-p", "1", "--count", "20", "--", FLAKY, "300"]),
    (["-p", "2", "-count", "2", "-timeout", "300ms", HANG],
     ["-p", "2", "--count", "2", "--timeout", "300ms", "--", HANG]),
    # Go's -count 0 is "no limit" (ours: leave --count out); --max-failures stops
    # both, on one worker so that no run is in flight when it does.
    (["-count", "0", "--max-failures", "5", "-p", "1", FLAKY, "500"],
     ["--max-failures", "5", "-p", "1", "--", FLAKY, "500"]),
    (["-count=-1", "--max-failures", "5", "-p", "1", FLAKY, "500"],
     ["--max-failures", "5", "-p", "1", "--", FLAKY, "500"]),
    # Go's flag package takes two dashes too.
    (["--count=4", "--kill=true", "-p", "1", EXIT, "0"],
     ["--count", "4", "-p", "1", "--", EXIT, "0"]),
]


@pytest.mark.parametrize("go,ours", PAIRS, ids=range(len(PAIRS)))
def test_both_spellings_do_the_same(tmp_path, go, ours):
    seed = ["--seed", "12345"]          # the same seeds: the same flaky outcomes
    a = stress(tmp_path / "go", *seed, *go)
    b = stress(tmp_path / "ours", *seed, *ours)
    assert a.rc in (0, 1), a
    assert what_it_did(a) == what_it_did(b), f"Go's spelling:\n{a}\n\nours:\n{b}"


def test_commands_own_flags_reach_it(tmp_path):
    r = stress(tmp_path, "-p=1", "-count=1", EXIT, "3", "-count=5", "-kill=false", "-o=x")
    r.expect(1)
    d = Path(r.out.rstrip("\n").splitlines()[-1][9:])
    kept = next((d / "failures").glob("*/*"))
    out = (kept / "output.txt").read_text()
    assert "-count=5\n-kill=false\n-o=x\n" in out, out


def test_go_count_zero_means_no_limit(tmp_path):
    # Not one run, not refused: runs go on until the third failure.
    r = stress(tmp_path, "--seed", "1", "-count=0", "--max-failures", "3", "-p", "1", FLAKY,
               "300").expect(1)
    _, _, jobs = what_it_did(r)
    assert jobs[0]["failures"] == 3 and jobs[0]["runs"] > 3, r


@pytest.mark.parametrize("args,what", [
    (["-kill", "false", "/bin/true"], "-kill=false"),
    (["--kill", "false", "/bin/true"], "--kill=false"),
    (["-kill=maybe", "/bin/true"], "--kill=maybe"),
    (["-failfast=maybe", "/bin/true"], "-failfast=maybe"),
    (["-count=abc", "/bin/true"], "--count"),
    (["-p=0", "/bin/true"], "-p"),
    (["-timeout=0", "/bin/true"], "--timeout"),
    (["-timeout", "10", "/bin/true"], "--timeout"),
    (["-failure", "(", "/bin/true"], "--failure"),
    (["-seed=3", "/bin/true"], "unknown flag -seed"),
    (["-o", "/nonexistent/dir/x-", "/bin/true"], "-o"),
])
def test_bad_go_flags_are_one_line_64(tmp_path, args, what):
    r = stress(tmp_path, *args).expect(64)
    assert len(r.err.splitlines()) == 1 and r.err.startswith("stress: ") and what in r.err, r
    assert not (tmp_path / "results").exists()


# ---- -kill=false: the hang is left for a debugger ----

def _alive(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("flag", ["-kill=false", "--kill=false", "-kill=0"])
def test_kill_false_leaves_the_hang_alive_and_waits(tmp_path, flag):
    mark = uuid.uuid4().hex
    p = subprocess.Popen([str(STRESS), "--results", str(tmp_path / "results"), "--status", "200ms",
                          "--expect", "pass", flag, "-timeout", "300ms", "-p", "1", "-count", "1",
                          str(HANG), mark],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=clean_env(), cwd=ROOT)
    pid = None
    try:
        lines = []
        deadline = time.monotonic() + 20
        waiting = None
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            assert line, f"stress ended early: {lines} {p.stderr.read()}"
            lines.append(line)
            m = re.match(r"process (\d+) timed out: run 0 left running \(-kill=false\); attach "
                         r"with gdb -p \1; stress waits until it ends$", line)
            if m:
                pid = int(m.group(1))
            if pid and "waiting for 1 timed-out run left alive" in line:
                waiting = line
                break
        assert pid and waiting, lines
        assert f"(pid {pid}, -kill=false)" in waiting, waiting
        # The hang is alive, it is the run, and stress waits for it: well past the
        # timeout, nothing has ended and nothing has been sent.
        time.sleep(1.5)
        assert _alive(pid) and mark.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
        assert p.poll() is None, "stress did not wait for the hang"
        assert "SIGQUIT" not in "".join(lines)
        # A person is done with gdb and ends it: stress finishes, and the run is a timeout.
        os.kill(pid, signal.SIGKILL)
        out, err = p.communicate(timeout=20)
    finally:
        if pid and _alive(pid):
            os.kill(pid, signal.SIGKILL)
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 1, out + err
    s = json.loads((Path(out.rstrip("\n").splitlines()[-1][9:]) / "summary.json").read_text())
    job = s["jobs"][0]
    assert job["signatures"]["timeout"]["count"] == 1 and job["failures"] == 1, out
    assert job["expectation_met"] is False and not s["ok"], "a hang left alive is not a pass"


def test_kill_true_is_the_default(tmp_path):
    # -kill (true) changes nothing: the timeout's SIGQUIT ends the hang.
    r = stress(tmp_path, "-kill", "-timeout=300ms", "-count=1", "-p=1", HANG).expect(1)
    assert "left running" not in r.out, r
    _, _, jobs = what_it_did(r)
    assert jobs[0]["signatures"]["timeout"]["count"] == 1


# ---- -o PREFIX ----

@pytest.mark.parametrize("spelling", [["-o", "{p}"], ["-o={p}"], ["-o{p}"]])
def test_o_writes_each_failure_to_a_unique_file(tmp_path, spelling):
    out = tmp_path / "out"
    out.mkdir()
    prefix = f"{out}/fail-"
    args = [a.format(p=prefix) for a in spelling]
    # 400 permille fail; "-failure" keeps only those that match, as a failure.
    r = stress(tmp_path, "--seed", "7", "-p", "2", "-count", "40", *args, FLAKY, "400")
    _, _, jobs = what_it_did(r)
    n = jobs[0]["failures"]
    assert 0 < n < 40, r
    files = sorted(out.iterdir())
    assert len(files) == n, (files, r)
    for f in files:
        assert re.fullmatch(r"fail-[A-Za-z0-9]{6}", f.name), f.name
        text = f.read_text()
        assert "fatal error: checkdead: runnable g" in text, text
        assert re.search(r"\n\nERROR: exit status 2 \(stress: run \d+, seed \d+, signature "
                         r"\"checkdead: runnable g\"\)\n$", text), text
        assert f"{f}: run " in r.out, r      # each file named on stdout, as Go prints it
    # Passing runs and ignored failures write nothing.
    r2 = stress(tmp_path / "2", "-p", "2", "-count", "5", "-o", f"{out}/pass-", "-ignore", "boom",
                EXIT, "3", "boom").expect(0)
    assert not list(out.glob("pass-*")), r2
