"""Slurm engine: stress/slurm/submit.sh, stress-array.sbatch and stress-merge.sbatch
on a real single-node Slurm (tests/slurm_cluster.py starts munged, slurmctld and
slurmd as root; without root or the Debian packages these tests fail and say why).

stress is replaced here by a stand-in (STRESS=...) that records its arguments,
environment, folder and times, and writes a results folder with summary.json last,
as stress does: these tests prove the Slurm side (array tasks, shard numbering,
shared seed, the merge's dependency and inputs, where results land) independently
of stress's own --shard and merge, which the sharding tests check (tests/test_shard.py).
The last test runs the real build/stress: the default campaign and a deterministic one,
each as 4 shards and merged on the cluster, against the same campaigns run unsharded."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT
from slurm_cluster import ClusterError, SlurmCluster, _pid_gone, slurm_cluster  # noqa: F401

SUBMIT = ROOT / "stress" / "slurm" / "submit.sh"

# The stand-in for build/stress.  `merge --out DIR D...` makes DIR with the list of
# D and its start time; anything else is a shard: a folder under --results with
# argv, env, cwd and start/end times, summary.json last.  FAKE_FAIL_SHARD=K makes
# shard K exit 125 before its summary (a shard that died); FAKE_SLEEP_K (default
# FAKE_SLEEP, 0) holds shard K that many seconds: with one shard much slower than
# the others, a merge not waiting for all of them would start on a free CPU early.
FAKE_STRESS = r"""#!/bin/sh
set -eu
start=$(date +%s.%N)
if [ "$1" = merge ]; then
	[ "$2" = --out ] || { echo "fake stress: merge wants --out DIR" >&2; exit 64; }
	out=$3
	shift 3
	mkdir "$out"
	printf '%s\n' "$@" > "$out/dirs"
	echo "$start" > "$out/start"
	pwd > "$out/cwd"
	echo "fake stress: merged $# folders"
	exit 0
fi
results= shard= prev=
for a; do
	case $prev in --results) results=$a ;; --shard) shard=$a ;; esac
	prev=$a
done
d=$results/fake-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$d"
printf '%s\n' "$@" > "$d/argv"
env > "$d/env"
pwd > "$d/cwd"
if [ "${FAKE_FAIL_SHARD:-}" = "${shard%/*}" ]; then
	echo "fake stress: shard $shard dies before its summary" >&2
	exit 125
fi
k=${shard%/*}
eval "sleep \"\${FAKE_SLEEP_$k:-\${FAKE_SLEEP:-0}}\""
echo "$start $(date +%s.%N)" > "$d/times"
echo "{\"shard\": \"$shard\"}" > "$d/summary.json"
"""

CAMPAIGN = "[job]\ncommand = /bin/true\ncount = 10\n"


@pytest.fixture
def fake(tmp_path):
    exe = tmp_path / "fake-stress"
    exe.write_text(FAKE_STRESS)
    exe.chmod(0o755)
    camp = tmp_path / "tiny.ini"
    camp.write_text(CAMPAIGN)
    return exe, camp


def submit(env, *args, timeout=30):
    return subprocess.run([str(SUBMIT), *map(str, args)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def submitted(r):
    """The array and merge job ids, the run folder and the seed from submit.sh's output."""
    assert r.returncode == 0, f"submit.sh exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    lines = r.stdout.strip().splitlines()
    assert lines[-1].startswith("results: "), r.stdout
    merged = Path(lines[-1][len("results: "):])
    array = re.search(r"shards: job (\d+) ", r.stdout).group(1)
    merge = re.search(r"merge: job (\d+),", r.stdout).group(1)
    seed = re.search(r"seed base (\d+)", r.stdout)
    return array, merge, merged, seed and seed.group(1)


def shard_folder(rundir, k):
    """The one results folder of shard k."""
    dirs = [d for d in (rundir / f"shard-{k}").iterdir() if d.is_dir()]
    assert len(dirs) == 1, f"shard {k}: want one results folder, found {dirs}"
    return dirs[0]


def read_env(path):
    return dict(l.split("=", 1) for l in path.read_text().splitlines() if "=" in l)


def by_task(recs, array):
    tasks = {int(r["ArrayTaskId"]): r for r in recs
             if r.get("ArrayJobId") == array and "ArrayTaskId" in r}
    return tasks


def test_sharded_submission_runs_every_shard_then_merges(slurm_cluster, fake, tmp_path):
    c = slurm_cluster
    exe, camp = fake
    env = dict(c.env, STRESS=str(exe), FAKE_SLEEP="0.5", FAKE_SLEEP_1="3")
    t0 = time.monotonic()
    r = submit(env, "-N", 4, "--campaign", camp, "--results", tmp_path / "res",
               "--", "--keep", "3", "--timeout", "5s")
    array, merge, merged, seed = submitted(r)
    recs = c.wait([array, merge], timeout=60)
    elapsed = time.monotonic() - t0
    print(f"slurm: 4-shard array (shards of 3, 0.5, 0.5, 0.5 s, 1 CPU each) and merge done "
          f"{elapsed:.1f} s after submit.sh started")

    rundir = merged.parent
    assert rundir.parent == tmp_path / "res" and re.fullmatch(r"tiny-\d{8}T\d{6}Z-4shards",
                                                              rundir.name), rundir
    logs = "\n".join(f"--- {p.name}\n{p.read_text()}" for p in sorted((rundir / "logs").iterdir()))
    tasks = by_task(recs, array)
    assert sorted(tasks) == [0, 1, 2, 3], f"{recs}\n{logs}"
    for i, t in tasks.items():
        assert (t["JobState"], t["ExitCode"]) == ("COMPLETED", "0:0"), f"task {i}: {t}\n{logs}"
    m = [x for x in recs if x["JobId"] == merge][0]
    assert (m["JobState"], m["ExitCode"]) == ("COMPLETED", "0:0"), f"{m}\n{logs}"
    # Slurm's own clock: the merge started once the last shard had ended.
    assert m["StartTime"] >= max(t["EndTime"] for t in tasks.values()), recs

    assert seed and len(seed) >= 16, r.stdout      # microseconds since 1970
    ends = []
    for k in (1, 2, 3, 4):
        d = shard_folder(rundir, k)
        assert (d / "argv").read_text().splitlines() == [
            "--campaign", str(camp), "--shard", f"{k}/4", "--results", str(rundir / f"shard-{k}"),
            "-p", "1", "--seed", seed, "--keep", "3", "--timeout", "5s"], f"shard {k}\n{logs}"
        e = read_env(d / "env")
        assert (e["SLURM_ARRAY_JOB_ID"], e["SLURM_ARRAY_TASK_ID"]) == (array, str(k - 1))
        assert (d / "cwd").read_text().strip() == str(ROOT)
        ends.append(float((d / "times").read_text().split()[1]))
        assert f"shard {k}/4 (job {array}_{k - 1} " in (rundir / "logs" / f"task-{k - 1}.out").read_text()

    # The merge got every shard's folder, in shard order, after all of them ended.
    assert (merged / "dirs").read_text().splitlines() == [
        str(shard_folder(rundir, k)) for k in (1, 2, 3, 4)], logs
    assert float((merged / "start").read_text()) >= max(ends)
    assert (merged / "cwd").read_text().strip() == str(ROOT)
    assert "merging 4 of 4 shards" in (rundir / "logs" / "merge.out").read_text()
    assert f"merge: job {merge}" in (rundir / "jobs.txt").read_text()


def test_a_dead_shard_is_named_and_the_merge_still_runs(slurm_cluster, fake, tmp_path):
    c = slurm_cluster
    exe, camp = fake
    env = dict(c.env, STRESS=str(exe), FAKE_FAIL_SHARD="3")
    r = submit(env, "-N", 4, "--campaign", camp, "--results", tmp_path, "--", "--seed", "42")
    array, merge, merged, seed = submitted(r)
    assert seed is None and "seed base given in the stress flags" in r.stdout, r.stdout
    recs = c.wait([array, merge], timeout=60)
    rundir = merged.parent
    logs = "\n".join(f"--- {p.name}\n{p.read_text()}" for p in sorted((rundir / "logs").iterdir()))
    tasks = by_task(recs, array)
    assert {i: (t["JobState"], t["ExitCode"]) for i, t in tasks.items()} == {
        0: ("COMPLETED", "0:0"), 1: ("COMPLETED", "0:0"), 2: ("FAILED", "125:0"),
        3: ("COMPLETED", "0:0")}, f"{recs}\n{logs}"
    m = [x for x in recs if x["JobId"] == merge][0]
    assert m["JobState"] == "COMPLETED", f"{m}\n{logs}"    # afterany: runs after a failure
    for k in (1, 2, 3, 4):
        argv = (shard_folder(rundir, k) / "argv").read_text().splitlines()
        assert argv.count("--seed") == 1 and argv[argv.index("--seed") + 1] == "42", argv
    assert (merged / "dirs").read_text().splitlines() == [
        str(shard_folder(rundir, k)) for k in (1, 2, 4)], logs
    assert "no results (summary.json) from shard(s) 3 of 4" in (rundir / "logs" / "merge.out").read_text()


def test_shards_refused_by_slurm_is_a_harness_error(slurm_cluster, fake, tmp_path):
    """More shards than the cluster's MaxArraySize (1001 by default): sbatch says
    why, submit.sh passes that on in one line and exits 125."""
    exe, camp = fake
    r = submit(dict(slurm_cluster.env, STRESS=str(exe)), "-N", 5000, "--campaign", camp,
               "--results", tmp_path)
    assert r.returncode == 125 and r.stdout == "", r
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert r.stderr.startswith("submit.sh: sbatch refused the shards: sbatch: error: "), r.stderr
    assert "array" in r.stderr.lower(), r.stderr
    # no run folder left behind: nothing was submitted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-stress", "tiny.ini"]
    assert slurm_cluster.run("squeue", "-h").stdout == ""


def test_merge_refused_cancels_the_shards(fake, tmp_path):
    """sbatch accepts the array, then refuses the merge job: the array is cancelled
    (no shards left running with nothing to merge them) and the exit is 125."""
    exe, camp = fake
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    (bin_ / "sbatch").write_text(
        "#!/bin/sh\nfor a; do case $a in --dependency=*) "
        "echo 'sbatch: error: Batch job submission failed: (test)' >&2; exit 1;; esac; done\n"
        "echo '77;cluster'\n")
    (bin_ / "scancel").write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/scancelled\n")
    for f in ("sbatch", "scancel"):
        (bin_ / f).chmod(0o755)
    env = dict(os.environ, STRESS=str(exe), PATH=f"{bin_}:{os.environ['PATH']}")
    r = submit(env, "-N", 3, "--campaign", camp, "--results", tmp_path / "res")
    assert (r.returncode, r.stdout) == (125, ""), r
    assert r.stderr == ("submit.sh: sbatch refused the merge job (sbatch: error: Batch job "
                        "submission failed: (test) ); shard job 77 cancelled\n"), r.stderr
    assert (tmp_path / "scancelled").read_text() == "77\n"


@pytest.mark.parametrize("args,message", [
    ([], "-N SHARDS is required"),
    (["-N", "0", "--campaign", "{camp}"], 'bad -N "0"'),
    (["-N", "x", "--campaign", "{camp}"], 'bad -N "x"'),
    (["-N", "2"], "--campaign FILE is required"),
    (["-N", "2", "--campaign", "/nonexistent.ini"], 'cannot read campaign "/nonexistent.ini"'),
    (["-N", "2", "--campaign", "{camp}", "--bogus"], 'unknown option "--bogus"'),
    (["-N", "2", "--campaign", "{camp}", "--", "--shard", "1/2"], '"--shard" is set by submit.sh'),
    (["-N", "2", "--campaign", "{camp}", "--", "--results=x"], '"--results" is set by submit.sh'),
    (["-N", "2", "--campaign"], "--campaign needs a value"),
])
def test_submit_usage_errors(fake, tmp_path, args, message):
    exe, camp = fake
    r = submit(dict(os.environ, STRESS=str(exe)), *[a.format(camp=camp) for a in args])
    assert r.returncode == 64, f"{r.returncode}\n{r.stdout}\n{r.stderr}"
    assert r.stdout == "" and len(r.stderr.splitlines()) == 1, r.stderr
    assert r.stderr.startswith("submit.sh: " + message), r.stderr


def test_submit_without_sbatch_or_stress_is_a_harness_error(fake, tmp_path):
    exe, camp = fake
    env = dict(os.environ, STRESS=str(exe), PATH="/usr/bin:/bin")
    (tmp_path / "bin").mkdir()
    for tool in ("sh", "date", "dirname", "basename", "mkdir", "tee"):
        os.symlink(f"/usr/bin/{tool}" if os.path.exists(f"/usr/bin/{tool}") else f"/bin/{tool}",
                   tmp_path / "bin" / tool)
    env["PATH"] = str(tmp_path / "bin")
    r = submit(env, "-N", 2, "--campaign", camp, "--results", tmp_path / "res")
    assert (r.returncode, r.stderr) == (125, "submit.sh: sbatch not found: this is not a "
                                             "Slurm submit host\n"), r
    r = submit(dict(os.environ, STRESS=str(tmp_path / "none")), "-N", 2, "--campaign", camp)
    assert r.returncode == 125 and "no stress binary at" in r.stderr, r


def comm(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


@pytest.mark.parametrize("crash", [False, True], ids=["cancel", "slurmctld-crashed"])
def test_cluster_stops_everything_when_the_test_fails(tmp_path, crash):
    """A test that fails with a job still running: leaving the with-block stops the
    daemons and the job's processes (slurmstepd, the script, its sleep), by pid;
    the job is cancelled, or, when slurmctld has crashed and cannot cancel it, its
    processes are found by our SLURM_CONF in their environment and killed.  A
    process that only has our SLURM_CONF (not a job's) is left alone."""
    c = SlurmCluster(smoke=False)
    with pytest.raises(RuntimeError, match="the test failed"):
        with c:
            print(c.describe())
            job = c.run("sbatch", "--parsable", "-o", tmp_path / "out", "--wrap",
                        "sleep 300").stdout.strip()
            t0 = time.monotonic()
            while True:
                strays = {comm(p): p for p in c._strays()}
                if c.jobs(job)[0]["JobState"] == "RUNNING" and {"slurmstepd", "sleep"} <= set(strays):
                    break
                assert time.monotonic() - t0 < 30, (c.jobs(job), strays)
                time.sleep(0.1)
            strays = [strays["slurmstepd"], strays["sleep"]]
            daemons = dict(c.pids)
            # Someone using the cluster by hand: SLURM_CONF exported, no job.
            user = subprocess.Popen(["sleep", "60"], env=c.env)
            if crash:
                c.daemons["slurmctld"].kill()
                c.daemons["slurmctld"].wait()
            raise RuntimeError("the test failed")
    print("\n".join("slurm: " + l for l in c.stop_report))
    try:
        assert user.poll() is None, "the stop killed a process that only had SLURM_CONF"
    finally:
        user.kill()
        user.wait()
    assert set(daemons) == {"munged", "slurmctld", "slurmd"}
    for pid in [*daemons.values(), *strays]:
        assert _pid_gone(pid), f"pid {pid} survived: {c.stop_report}"
    if crash:
        killed = [l for l in c.stop_report if l.startswith("killed job processes left behind")]
        assert killed and set(strays) <= set(map(int, re.findall(r"\d+", killed[0]))), \
            c.stop_report
    else:
        assert any(l.startswith(f"cancelled jobs {job}") for l in c.stop_report), c.stop_report
    assert not c.dir.exists()


def test_a_daemon_that_dies_at_start_is_named_with_its_log(tmp_path, monkeypatch):
    """slurmd that exits at once (a stand-in that still answers `slurmd -C`):
    start fails naming it, its status and its output, and stops munged and slurmctld."""
    fake = tmp_path / "slurmd"
    real = SlurmCluster()
    real._programs()
    fake.write_text(f'#!/bin/sh\n[ "$1" = -C ] && exec {real.bin["slurmd"]} -C\n'
                    'echo "slurmd: fatal: cannot run here (test)" >&2\nexit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    c = SlurmCluster()
    with pytest.raises(ClusterError) as e:
        c.start()
    msg = str(e.value)
    assert re.match(r"slurmd \(pid \d+\) exited with status 1 while starting", msg), msg
    assert "slurmd: fatal: cannot run here (test)" in msg, msg
    assert set(c.pids) == {"munged", "slurmctld", "slurmd"}
    assert all(_pid_gone(p) for p in c.pids.values()), c.stop_report
    assert not c.dir.exists()


# The real thing: build/stress itself as the shards and the merge (issue 14).
# det.ini's commands fail by their seed alone (STRESS_SEED modulo a prime), so its
# counts and kept failures must be the unsharded run's exactly; the default
# campaign's gosched runs are timing-dependent, so for it the run indices and seeds
# must match and the merged counts must be those of the shards' runs.
DET_INI = """
[ctl]
command = sh -c 'exit $(( STRESS_SEED % 3 == 0 ))'
signature = ^exit 1$
count = 24
expect = fail

[fix]
command = /bin/true
count = 40
expect = pass
control = ctl

[multi]
command = sh -c 'exit $(( STRESS_SEED % 7 == 3 ? 1 : STRESS_SEED % 11 == 5 ? 2 : 0 ))'
count = 61
keep = 2
"""
# default.ini at 2% of its counts: repro-40368 4 runs, fixed-40368 40, mixed-blind 10;
# about 15 s of one CPU here (a run of each ~1 s, 0.2 s, 0.25 s), far inside each job's
# time cap (15 s, 30 s, 15 s) even beside two busy loops, so counts decide the runs.
DEFAULT_SCALE = "0.02"


def _records(path):
    import json
    return [json.loads(l) for l in Path(path).read_text().splitlines()]


def test_default_campaign_as_4_real_shards_merges_to_the_unsharded_run(slurm_cluster, tmp_path):
    import json
    from conftest import STRESS, run
    c = slurm_cluster
    det = tmp_path / "det.ini"
    det.write_text(DET_INI)
    default = ROOT / "stress" / "campaigns" / "default.ini"
    seed = "4242"
    env = dict(c.env)
    env.pop("STRESS", None)
    t0 = time.monotonic()
    subs = {}
    for name, camp, extra in (("default", default, ["--scale", DEFAULT_SCALE]), ("det", det, [])):
        r = submit(env, "-N", 4, "--campaign", camp, "--results", tmp_path / f"res-{name}", "--",
                   "--seed", seed, "--status", "0", "--record", tmp_path / f"{name}-shards.jsonl",
                   *extra)
        subs[name] = submitted(r)
    # Meanwhile, the same campaigns unsharded, one worker as each shard has.
    whole = {}
    for name, camp, extra in (("default", default, ["--scale", DEFAULT_SCALE]), ("det", det, [])):
        w = run([STRESS, "--campaign", camp, "--seed", seed, "-p", "1", "--status", "0",
                 "--results", tmp_path / f"whole-{name}", "--record",
                 tmp_path / f"{name}-whole.jsonl", *extra], timeout=300)
        assert w.rc in (0, 1), w
        whole[name] = Path(w.out.rstrip().splitlines()[-1][len("results: "):])
    ids = [i for s in subs.values() for i in s[:2]]
    recs = c.wait(ids, timeout=300)
    print(f"\nslurm: default.ini (--scale {DEFAULT_SCALE}) and det.ini as 4 shards each, merged, "
          f"{time.monotonic() - t0:.1f} s from the first submit (unsharded runs alongside)")

    for name, (array, merge, merged, _) in subs.items():
        rundir = merged.parent
        logs = "\n".join(f"--- {p.name}\n{p.read_text()}" for p in sorted((rundir / "logs").iterdir()))
        tasks = by_task(recs, array)
        assert sorted(tasks) == [0, 1, 2, 3], f"{recs}\n{logs}"
        for i, t in tasks.items():   # a shard exits 0 or 1 (its own verdict), never 64/125
            assert t["ExitCode"] in ("0:0", "1:0"), f"{name} task {i}: {t}\n{logs}"
        assert (merged / "summary.json").exists(), logs
        m = json.loads((merged / "summary.json").read_text())
        w = json.loads((whole[name] / "summary.json").read_text())
        mj = [x for x in recs if x["JobId"] == merge][0]
        want = "0:0" if m["ok"] else "1:0"
        assert mj["ExitCode"] == want, f"{mj}\n{logs}"
        assert "merging 4 of 4 shards" in (rundir / "logs" / "merge.out").read_text()
        assert m["shard"]["present"] == [1, 2, 3, 4] and m["shard"]["missing"] == []
        assert m["seed_base"] == w["seed_base"] == int(seed)
        # The same runs: run indices and seeds, job by job; each run on its shard.
        shard_runs = _records(tmp_path / f"{name}-shards.jsonl")
        whole_runs = _records(tmp_path / f"{name}-whole.jsonl")
        key = lambda x: (x["job"], x["run"], x["seed"])
        assert sorted(map(key, shard_runs)) == sorted(map(key, whole_runs)), name
        assert all(x["seed"] == int(seed) + x["run"] for x in shard_runs)
        for k in (1, 2, 3, 4):
            s = json.loads((shard_folder(rundir, k) / "summary.json").read_text())
            assert s["shard"]["index"] == k and s["shard"]["of"] == 4
        for mjob, wjob in zip(m["jobs"], w["jobs"]):
            assert (mjob["name"], mjob["runs"]) == (wjob["name"], wjob["runs"]), name
            mine = [x for x in shard_runs if x["job"] == mjob["name"]]
            fails = sorted((x for x in mine if x["status"] == "fail"), key=lambda x: x["run"])
            assert mjob["failures"] == len(fails)
            if fails:
                assert mjob["first_failure"]["run"] == fails[0]["run"]
            else:
                assert mjob["first_failure"] is None
            for sig, v in mjob["signatures"].items():
                want_kept = [x["seed"] for x in fails if x["signature"] == sig][:mjob["keep"]]
                assert [int(Path(p).name) for p in v["kept"]] == want_kept, (name, sig)
                for p in v["kept"]:
                    assert (merged / p / "replay.sh").exists()
            if mjob["injection"]:
                inj = mjob["injection"]
                assert inj["reached"] + inj["untouched"] + inj["lost"] == mjob["runs"]
            if name == "det":
                for k in ("runs", "failures", "reproductions", "signatures", "rate_ci95",
                          "expectation_met", "confidence"):
                    assert mjob[k] == wjob[k], (k, mjob[k], wjob[k])
                assert (mjob["first_failure"] or {}).get("run") == \
                    (wjob["first_failure"] or {}).get("run")
            print(f"slurm: {name} merged {mjob['name']}: {mjob['verdict']}"
                  + (f"; confidence: {mjob['confidence']}" if mjob["confidence"] else ""))
            print(f"slurm: {name} unsharded {wjob['name']}: {wjob['verdict']}"
                  + (f"; confidence: {wjob['confidence']}" if wjob["confidence"] else ""))
        if name == "det":
            assert m["ok"] == w["ok"]
