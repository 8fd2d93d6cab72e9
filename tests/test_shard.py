"""stress --shard K/N and stress merge (issue 14): the union of the shards of a
count-bounded job is exactly the unsharded job (run indices, seeds, outcomes for a
deterministic command), a time-bounded job runs its time on every shard, and the
merge of the shards is the unsharded result (counts, signatures, first failures,
intervals, verdicts, the control-based confidence, the kept failures) whichever
way it is grouped; inputs that are not shards of one campaign are refused, and
missing shards make a PARTIAL result that holds no expectation.

The commands are deterministic: whether a run fails depends only on its seed
(STRESS_SEED modulo a small prime), so the same seeds give the same outcomes on
any machine in any order."""

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import ROOT, STRESS, clean_env, run, wilson

SEED = 1000
# Fails with exit 1 when seed % 7 == 3, exit 2 when seed % 11 == 5: two signatures.
TWO_SIGS = "exit $(( STRESS_SEED % 7 == 3 ? 1 : STRESS_SEED % 11 == 5 ? 2 : 0 ))"
CAMPAIGN = f"""
[ctl]
command = sh -c 'exit $(( STRESS_SEED % 3 == 0 ))'
signature = ^exit 1$
count = 30
expect = fail

[fix]
command = /bin/true
count = 40
expect = pass
control = ctl

[multi]
command = sh -c '{TWO_SIGS}'
count = 61
keep = 2
"""


def results_of(r):
    last = r.out.rstrip("\n").splitlines()[-1]
    assert last.startswith("results: "), f"no results line\n{r}"
    return Path(last[len("results: "):])


def load(d):
    return json.loads((Path(d) / "summary.json").read_text())


def records(path):
    return [json.loads(l) for l in Path(path).read_text().splitlines()]


def stress(*args, timeout=120):
    return run([STRESS, *args], timeout=timeout)


def merge(out, *dirs, rc=None):
    r = stress("merge", "--out", out, *dirs)
    if rc is not None:
        r.expect(rc)
    return r


@pytest.fixture(scope="module")
def camp(tmp_path_factory):
    """The campaign unsharded and as 3 shards, with the same base seed, -p 1 (so
    that each keeps its failures in run order), each with its --record."""
    t = tmp_path_factory.mktemp("shard")
    ini = t / "det.ini"
    ini.write_text(CAMPAIGN)
    common = ["--campaign", ini, "--seed", SEED, "-p", "1", "--status", "0"]
    whole = stress(*common, "--results", t / "whole", "--record", t / "whole.jsonl")
    shards = []
    for k in (1, 2, 3):
        r = stress(*common, "--shard", f"{k}/3", "--results", t / f"s{k}",
                   "--record", t / f"s{k}.jsonl")
        assert r.rc in (0, 1), r
        assert f"shard {k}/3 (run indices {k - 1}, {k + 2}, ...)" in r.out, r
        shards.append(results_of(r))
    return t, whole, results_of(whole), shards


def strip_times(v):
    """A verdict without its seconds (shards run at their own pace)."""
    return re.sub(r"after [0-9.]+ s", "after T s", re.sub(r"\([0-9.]+ s\)", "(T s)", v))


def same_job(a, b):
    for k in ("name", "command", "inject", "expect", "control", "signature", "runs", "failures",
              "reproductions", "unexpected", "rate", "rate_ci95", "signatures",
              "expectation_met", "confidence", "harness_error", "count", "keep"):
        assert a[k] == b[k], (k, a[k], b[k])
    for k in ("first_failure", "first_reproduction"):
        assert (a[k] or {}).get("run") == (b[k] or {}).get("run"), (k, a[k], b[k])
    assert strip_times(a["verdict"]) == strip_times(b["verdict"])


def test_union_of_shards_is_the_unsharded_runs(camp):
    t, whole, wdir, shards = camp
    every = {(x["job"], x["run"]): x for x in records(t / "whole.jsonl")}
    assert len(every) == 30 + 40 + 61
    for x in every.values():
        assert x["seed"] == SEED + x["run"], x
    union = {}
    for k in (1, 2, 3):
        for x in records(t / f"s{k}.jsonl"):
            key = (x["job"], x["run"])
            assert key not in union, f"run {key} made by two shards"
            assert x["run"] % 3 == k - 1, f"shard {k} made run {x['run']}"
            union[key] = x
    assert set(union) == set(every)
    for key, x in every.items():
        y = union[key]
        assert (y["seed"], y["status"], y["signature"]) == (x["seed"], x["status"], x["signature"])
    # The deterministic outcomes are what the commands say they are.
    multi = [x for x in every.values() if x["job"] == "multi"]
    assert sum(x["signature"] == "exit 1" for x in multi) == sum(
        (SEED + i) % 7 == 3 for i in range(61))


def test_merge_is_the_unsharded_result(camp, tmp_path):
    t, whole, wdir, shards = camp
    r = merge(tmp_path / "m", *shards, rc=whole.rc)
    m, w = load(tmp_path / "m"), load(wdir)
    assert m["ok"] == w["ok"] and m["seed_base"] == SEED == w["seed_base"]
    assert m["shard"]["present"] == [1, 2, 3] and m["shard"]["missing"] == []
    assert [j["name"] for j in m["jobs"]] == ["ctl", "fix", "multi"]
    for a, b in zip(m["jobs"], w["jobs"]):
        same_job(a, b)
        lo, hi = wilson(a["failures"], a["runs"])
        assert a["rate_ci95"] == pytest.approx([lo, hi], abs=1e-12)
        # Summed over the shards: CPU, and runs/s as one machine would show them.
        shard_jobs = [next(j for j in load(d)["jobs"] if j["name"] == a["name"]) for d in shards]
        assert a["cpu_seconds"] == pytest.approx(sum(j["cpu_seconds"] for j in shard_jobs))
        assert a["runs_per_second"] == pytest.approx(sum(j["runs_per_second"] for j in shard_jobs))
        assert a["duration_ms"]["min"] == min(j["duration_ms"]["min"] for j in shard_jobs if j["runs"])
        assert a["duration_ms"]["max"] == max(j["duration_ms"]["max"] for j in shard_jobs if j["runs"])
    fix = m["jobs"][1]
    assert fix["confidence"].startswith("the ctl rate was 0.333 per run"), fix["confidence"]
    # multi keeps 2 of each signature: the first two by run index, as unsharded.
    multi = m["jobs"][2]
    assert set(multi["signatures"]) == {"exit 1", "exit 2"}
    for sig, v in multi["signatures"].items():
        assert len(v["kept"]) == 2
        runs = [json.loads((tmp_path / "m" / k / "meta.json").read_text())["run"] for k in v["kept"]]
        code = 1 if sig == "exit 1" else 2
        want = [i for i in range(61) if (SEED + i) % 7 == 3 or (code == 2 and (SEED + i) % 11 == 5)]
        want = [i for i in want if ((SEED + i) % 7 == 3) == (code == 1)][:2]
        assert runs == want, (sig, runs, want)
    report = (tmp_path / "m" / "report.md").read_text()
    assert "Merged from all 3 shards (1, 2, 3)." in report, report
    x = ET.parse(tmp_path / "m" / "junit.xml").getroot()
    wx = ET.parse(wdir / "junit.xml").getroot()
    assert {k: x.get(k) for k in ("tests", "failures", "errors")} == \
        {k: wx.get(k) for k in ("tests", "failures", "errors")}
    # The kept folders hold the whole evidence.
    for v in multi["signatures"].values():
        for k in v["kept"]:
            assert {p.name for p in (tmp_path / "m" / k).iterdir()} == {
                "output.txt", "meta.json", "replay.sh", "trace.json"}


def test_each_shard_says_what_merge_needs(camp):
    t, whole, wdir, shards = camp
    s = load(shards[1])
    assert s["shard"] == {"index": 2, "of": 3, "present": [2], "missing": [], "seed_base": str(SEED)}
    assert s["campaign"] == str(t / "det.ini")
    ids = {}
    for name, path in (("stress", STRESS), ("inject", ROOT / "build" / "inject"),
                       ("libinject.so", ROOT / "build" / "libinject.so"),
                       ("sh", shutil.which("sh"))):
        out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
        ids[name] = re.search(r"Build ID: ([0-9a-f]+)", out).group(1)
    for name in ("stress", "inject", "libinject.so"):
        assert s["binaries"][name]["build_id"] == ids[name], (name, s["binaries"])
    ctl = s["jobs"][0]
    assert ctl["program"]["build_id"] == ids["sh"], ctl["program"]
    assert (ctl["count"], ctl["keep"], ctl["ran"]) == (30, 5, True)
    assert "Shard 2 of 3: run indices 1, 4, ..." in (shards[1] / "report.md").read_text()


def test_merge_is_associative(camp, tmp_path):
    t, whole, wdir, shards = camp
    s1, s2, s3 = shards
    merge(tmp_path / "all", s1, s2, s3)
    merge(tmp_path / "12", s1, s2)
    merge(tmp_path / "12-3", tmp_path / "12", s3)
    merge(tmp_path / "23", s3, s2)
    merge(tmp_path / "1-23", tmp_path / "23", s1)
    a = load(tmp_path / "all")
    for other in ("12-3", "1-23"):
        b = load(tmp_path / other)
        assert b["shard"]["present"] == [1, 2, 3] and b["ok"] == a["ok"]
        for x, y in zip(a["jobs"], b["jobs"]):
            same_job(x, y)
            assert x["verdict"] == y["verdict"]
            assert x["duration_ms"] == y["duration_ms"] and x["duration_hist"] == y["duration_hist"]
            assert x["runs_per_second"] == pytest.approx(y["runs_per_second"])
            assert x["cpu_seconds"] == pytest.approx(y["cpu_seconds"])
        files = lambda d: sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())
        assert files(tmp_path / "all") == files(tmp_path / other)
        strip = lambda s: re.sub(r"started \S+, finished \S+", "", s)
        assert strip((tmp_path / "all" / "report.md").read_text()) == \
            strip((tmp_path / other / "report.md").read_text())


def test_missing_shard_is_partial_never_a_pass(camp, tmp_path):
    t, whole, wdir, shards = camp
    r = merge(tmp_path / "p", shards[0], shards[2], rc=1)
    assert "stress merge: PARTIAL: shard 2 of 3 missing" in r.out, r
    s = load(tmp_path / "p")
    assert s["ok"] is False and s["shard"]["missing"] == [2], s["shard"]
    for j in s["jobs"]:
        assert j["verdict"].startswith("PARTIAL (shard 2 of 3 missing): "), j["verdict"]
        assert j["expectation_met"] is False, j
    # The pass job's runs were all clean, and still no pass, no confidence.
    fix = s["jobs"][1]
    assert fix["failures"] == 0 and "passed" in fix["verdict"], fix
    assert fix["confidence"].startswith("not applicable: PARTIAL"), fix["confidence"]
    report = (tmp_path / "p" / "report.md").read_text()
    assert report.splitlines()[2].startswith("FAIL: "), report
    assert "PARTIAL: merged from shards 1, 3 of 3; shard 2 missing" in report, report
    x = ET.parse(tmp_path / "p" / "junit.xml").getroot()
    assert x.get("failures") == "3", ET.tostring(x)
    # The missing shard merged in later completes it.
    merge(tmp_path / "full", tmp_path / "p", shards[1], rc=whole.rc)
    for a, b in zip(load(tmp_path / "full")["jobs"], load(wdir)["jobs"]):
        same_job(a, b)


def test_replay_from_the_merged_folder(camp, tmp_path):
    t, whole, wdir, shards = camp
    merge(tmp_path / "m", *shards)
    multi = load(tmp_path / "m")["jobs"][2]
    kept = tmp_path / "m" / multi["signatures"]["exit 2"]["kept"][0]
    meta = json.loads((kept / "meta.json").read_text())
    assert kept.name == str(meta["seed"]) and meta["seed"] == SEED + meta["run"]
    r = subprocess.run([kept / "replay.sh"], capture_output=True, text=True, cwd="/",
                       env=clean_env())
    assert r.returncode == 2, r
    r = stress("--replay", kept, "--count", 3)
    assert r.rc == 0 and 'reproduced "exit 2" 3 of 3 times' in r.out, r


def test_time_bounded_job_runs_its_time_on_every_shard(tmp_path):
    for k in (1, 3):
        rec = tmp_path / f"r{k}.jsonl"
        r = stress("--shard", f"{k}/3", "--time", "1s", "--seed", 5, "-p", "2", "--status", "0",
                   "--results", tmp_path, "--record", rec, "--", "/bin/true").expect(0)
        s = load(results_of(r))["jobs"][0]
        runs = sorted(x["run"] for x in records(rec))
        # Each shard its own residue class, from its first index on, without a gap.
        assert runs == [k - 1 + 3 * i for i in range(len(runs))], runs
        assert s["runs"] == len(runs) >= 5 and s["wall_seconds"] >= 1.0, s
        assert all(x["seed"] == 5 + x["run"] for x in records(rec))


def test_shard_beyond_a_small_count_runs_nothing(tmp_path):
    dirs = []
    for k in (1, 2, 3, 4):
        r = stress("--shard", f"{k}/4", "--count", 2, "--seed", 9, "--status", "0",
                   "--results", tmp_path / f"s{k}", "--", "/bin/true")
        dirs.append(results_of(r))
        assert load(dirs[-1])["jobs"][0]["runs"] == (1 if k <= 2 else 0)
    merge(tmp_path / "m", *dirs, rc=0)
    j = load(tmp_path / "m")["jobs"][0]
    assert j["runs"] == 2 and j["verdict"] == "no failures in 2 runs", j


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Shards 1/2 and 2/2 of a small job, and a maker of variants of shard 2."""
    t = tmp_path_factory.mktemp("refuse")

    def shard(k, n=2, seed=7, count=6, name="job", cmd=("sh", "-c", "exit 0"), sub="x"):
        r = stress("--shard", f"{k}/{n}", "--seed", seed, "--count", count, "--name", name,
                   "--status", "0", "--results", t / sub, "--", *cmd)
        return results_of(r)
    return t, shard(1, sub="a"), shard(2, sub="b"), shard


@pytest.mark.parametrize("variant,message", [
    (dict(seed=8), "have different base seeds (7 and 8)"),
    (dict(cmd=("sh", "-c", "exit  0")), "ran different commands (job job: "),
    (dict(name="other"), "are results of different campaigns (job and other)"),
    (dict(count=7), "are results of different campaigns (job job: count 6 and 7)"),
    (dict(n=3), "are shards of different shard counts (of 2 and of 3)"),
    (dict(k=1), "shard 1 of 2 listed twice"),
    ("same-dir", "shard 1 of 2 listed twice"),
    ("build-id", "ran different binaries (inject build id "),
    ("program", "ran different binaries (job job's program, build id "),
    ("not-results", "no readable summary.json"),
])
def test_merge_refuses_what_is_not_one_campaign(pair, tmp_path, variant, message):
    t, a, b, shard = pair
    if variant == "same-dir":
        other = a
    elif variant in ("build-id", "program"):
        other = tmp_path / "copy"
        shutil.copytree(b, other)
        s = load(other)
        if variant == "build-id":
            s["binaries"]["inject"]["build_id"] = "00" * 20
        else:
            s["jobs"][0]["program"]["build_id"] = "11" * 20
        (other / "summary.json").write_text(json.dumps(s))
    elif variant == "not-results":
        other = tmp_path
    else:
        kw = dict(k=2, sub=f"v{len(list(t.iterdir()))}")
        kw.update(variant)
        other = shard(**kw)
    r = merge(tmp_path / "out", a, other)
    assert r.rc == 125, r
    assert r.out == "" and len(r.err.splitlines()) == 1, r
    assert r.err.startswith("stress merge: ") and message in r.err, r
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if "merging" in p.name]


def test_merge_accepts_the_pair(pair, tmp_path):
    t, a, b, shard = pair
    merge(tmp_path / "out", a, b, rc=0)
    assert load(tmp_path / "out")["jobs"][0]["runs"] == 6


@pytest.mark.parametrize("args,message", [
    (["--shard", "0/3"], 'bad --shard "0/3"'),
    (["--shard", "4/3"], 'bad --shard "4/3"'),
    (["--shard", "1/0"], 'bad --shard "1/0"'),
    (["--shard", "x"], 'bad --shard "x"'),
    (["--shard", "1/2/3"], 'bad --shard "1/2/3"'),
    (["--shard", "1/2", "--replay", "/nonexistent"], "--replay takes a kept failure's directory"),
    (["merge", "/tmp"], "--out DIR is required"),
    (["merge", "--out", "/tmp/x-never"], "no shard folders to merge"),
    (["merge", "--out", "/tmp", "/tmp"], "--out /tmp exists"),
    (["merge", "--bogus", "--out", "x", "y"], "unknown flag --bogus"),
])
def test_usage_errors(tmp_path, args, message):
    r = stress(*args, *([] if args[0] == "merge" else ["--", "/bin/true"]))
    assert r.rc == 64 and len(r.err.splitlines()) == 1 and message in r.err, r


@pytest.mark.parametrize("sites,warned", [("startm", False), ("no_such_site", True)])
def test_injection_reach_and_warnings_are_merged(tmp_path, sites, warned):
    """Under the real launcher: reach sums over the shards, and the warnings, made again
    from the merged tallies, are the unsharded run's (a plan that matches nothing)."""
    opts = ["--count", 4, "--seed", 3, "-p", 2, "--status", "0", "--inject",
            f"--sites {sites} --delay fixed:100us"]
    cmd = ["--", ROOT / "build" / "gosched", "--fix", "on", "--iterations", "20"]
    whole = results_of(stress(*opts, "--results", tmp_path / "w", *cmd))
    dirs = [results_of(stress(*opts, "--shard", f"{k}/2", "--results", tmp_path / f"s{k}", *cmd))
            for k in (1, 2)]
    merge(tmp_path / "m", *dirs)
    m, w = load(tmp_path / "m")["jobs"][0], load(whole)["jobs"][0]
    assert m["runs"] == w["runs"] == 4 and m["failures"] == w["failures"] == 0, (m, w)
    assert m["injection_sites"]["fielded"] == 4, m["injection_sites"]
    shard_inj = [load(d)["jobs"][0]["injection"] for d in dirs]
    for k in ("reached", "untouched", "lost"):
        assert m["injection"][k] == sum(i[k] for i in shard_inj), k
    assert (m["warnings"] != []) == warned and len(m["warnings"]) == len(w["warnings"])
    if warned:
        assert "matched none of the sites" in m["warnings"][0], m["warnings"]
        assert m["warnings"] == w["warnings"]
        assert m["injection"]["reached"] == 0 and m["verdict"].startswith("no failures in 4 runs")
