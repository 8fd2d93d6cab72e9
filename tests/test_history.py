"""stress history (issue 15 item 3): the newest night of a campaign against its
earlier nights.  Synthetic nights (summary.json files written here, in the
schema of docs/interfaces.md) pin each judgement: a new signature, one that
vanished, a rate that moved, a steady one, and what "last week" pools; then
two real runs with --history."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import PROGS, ROOT, STRESS, run, wilson

EXIT = PROGS / "st_exit"
NEWEST = datetime(2026, 12, 2, 1, 0, 0, tzinfo=timezone.utc)


def night(root, when, jobs, name="nightly", interrupted=False):
    """A results folder whose summary.json holds JOBS: (job, runs, {signature: count})."""
    d = Path(root) / f"{name}-{when.strftime('%Y%m%dT%H%M%SZ')}"
    d.mkdir(parents=True)
    js = []
    for jn, runs, sigs in jobs:
        f = sum(sigs.values())
        lo, hi = wilson(f, runs)
        js.append({"name": jn, "runs": runs, "failures": f, "rate": f / runs if runs else 0,
                   "rate_ci95": [lo, hi],
                   "signatures": {k: {"count": v, "reproduces": False, "kept": []}
                                  for k, v in sigs.items()}})
    (d / "summary.json").write_text(json.dumps({
        "name": name, "started": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "interrupted": interrupted, "ok": True,
        "seed_base": 2**64 - 1,          # above 2^63-1, as a real summary may hold
        "jobs": js}))
    return d


def history(*args):
    return run([STRESS, "history", *args], timeout=30)


@pytest.fixture
def week(tmp_path):
    """Six nights a day apart, one ten days old, and the newest (NEWEST)."""
    r = tmp_path / "results"
    # Ten days before the newest: outside the window.  Its 100,000 runs at rate
    # 0.2 would, pooled, make "moving" look steady; its signature "ancient"
    # still counts as seen before.
    night(r, NEWEST - timedelta(days=10), [("moving", 100000, {"exit 3": 20000}),
                                           ("newsig", 1000, {"ancient": 3})])
    for k in range(6, 0, -1):
        night(r, NEWEST - timedelta(days=k),
              [("steady", 1000, {"exit 3": 100}), ("moving", 1000, {"exit 3": 10}),
               ("newsig", 1000, {"timeout": 1}), ("vanish", 1000, {"exit 7": 50, "exit 8": 1})])
    night(r, NEWEST, [("steady", 1000, {"exit 3": 95}), ("moving", 1000, {"exit 3": 200}),
                      ("newsig", 1000, {"SIGSEGV": 2, "ancient": 1}),
                      ("vanish", 1000, {"exit 8": 1})])
    return sorted(r.iterdir())


def test_new_vanished_moving_and_steady(week):
    # Arguments in any order: the nights are ordered by their start time.
    r = history(*reversed(week)).expect(1)
    lines = r.out.splitlines()
    # The new signature is named first, before any job's section.
    first_job = next(i for i, l in enumerate(lines) if l.startswith("== "))
    new_at = lines.index("NEW SIGNATURES (in no earlier night):")
    assert new_at < first_job, r
    assert lines[new_at + 1] == "  newsig: `SIGSEGV` x2 in 1000 runs", r
    # "ancient" was seen ten days ago: not new, though outside last week.
    assert "ancient" not in r.out, r
    job = {l.split(":")[0][3:]: l for l in lines if l.startswith("== ")}
    assert job["steady"].endswith("over 6 nights: steady (the intervals overlap)"), r
    assert "RATE UP" in job["moving"], r
    assert "RATE DOWN" in job["vanish"], r
    assert "   gone: `exit 7` (x300 last week; 50 expected tonight at last week's rate)" in lines, r
    assert "exit 8" not in r.out, r         # in both: neither new nor gone
    assert lines[-1] == "history: 1 new signature, 2 gone, 2 rates moved", r


def test_json_for_plots(week):
    r = history("--json", *week).expect(1)
    h = json.loads(r.out)
    assert h["campaign"] == "nightly" and h["window_seconds"] == 7 * 24 * 3600
    assert [n["in_last_week"] for n in h["nights"]] == [False] + [True] * 6 + [False]
    assert h["newest"] == str(week[-1])
    jobs = {j["name"]: j for j in h["jobs"]}
    m = jobs["moving"]
    # One point per night the job ran, oldest first, with its interval: what a plot draws.
    assert [p["night"] for p in m["nights"]] == list(range(8))
    assert [p["runs"] for p in m["nights"]] == [100000] + [1000] * 7
    lo, hi = wilson(200, 1000)
    assert m["newest"]["rate_ci95"] == pytest.approx([lo, hi])
    # Last week pools the six nights inside the window, not the one ten days old.
    assert (m["last_week"]["runs"], m["last_week"]["failures"], m["last_week"]["nights"]) == \
        (6000, 60, 6)
    assert m["last_week"]["rate_ci95"] == pytest.approx(list(wilson(60, 6000)))
    assert m["rate_change"] == "up" and jobs["steady"]["rate_change"] == "steady"
    assert jobs["vanish"]["rate_change"] == "down"
    assert jobs["newsig"]["new_signatures"] == [{"signature": "SIGSEGV", "count": 2}]
    g = jobs["vanish"]["gone_signatures"]
    assert g == [{"signature": "exit 7", "last_week_count": 300, "expected": 50.0}]
    assert (h["new_signatures"], h["gone_signatures"], h["rates_moved"], h["exit"]) == \
        (1, 2, 2, 1)


def test_window_flag_widens_last_week(week):
    # With an 11-day window the old night is pooled: 20,060 failures in 106,000 runs,
    # whose interval overlaps tonight's 0.2.
    h = json.loads(history("--json", "--window", "264h", *week).expect(1).out)
    m = {j["name"]: j for j in h["jobs"]}["moving"]
    assert (m["last_week"]["runs"], m["last_week"]["nights"]) == (106000, 7)
    assert m["rate_change"] == "steady"


def test_nothing_new_exits_0(tmp_path):
    r = tmp_path / "r"
    a = night(r, NEWEST - timedelta(days=1), [("j", 100, {"exit 3": 5})])
    b = night(r, NEWEST, [("j", 100, {"exit 3": 4})])
    out = history(a, b / "summary.json").expect(0).out    # a summary.json path works too
    assert out.splitlines()[-1] == "history: 0 new signatures, 0 gone, 0 rates moved", out


def test_one_night_has_nothing_to_compare(tmp_path):
    a = night(tmp_path / "r", NEWEST, [("j", 100, {"exit 3": 5})])
    out = history(a).expect(0).out
    assert "only one night: nothing to compare it with" in out, out


def test_a_new_job_and_an_old_one_not_run(tmp_path):
    r = tmp_path / "r"
    a = night(r, NEWEST - timedelta(days=1), [("old", 100, {})])
    b = night(r, NEWEST, [("fresh", 10, {"exit 1": 1})])
    out = history(a, b).expect(1).out
    assert "  fresh: `exit 1` x1 in 10 runs (a new job)" in out, out
    assert "== old: not run in the newest night" in out, out


@pytest.mark.parametrize("case", ["empty-dir", "missing", "bad-json", "no-jobs", "mixed",
                                  "no-args", "bad-flag", "bad-window"])
def test_bad_input_is_one_line_64(tmp_path, case):
    r = tmp_path / "r"
    good = night(r, NEWEST, [("j", 10, {})])
    args = {"empty-dir": [good, tmp_path], "missing": [good, tmp_path / "nope"],
            "no-args": [], "bad-flag": ["--bogus", good],
            "bad-window": ["--window", "10", good]}.get(case)
    if case == "bad-json":
        d = tmp_path / "broken"
        d.mkdir()
        (d / "summary.json").write_text('{"name": "nightly", ')
        args = [good, d]
    elif case == "no-jobs":
        d = tmp_path / "other"
        d.mkdir()
        (d / "summary.json").write_text('{"name": "nightly"}')
        args = [good, d]
    elif case == "mixed":
        args = [good, night(r, NEWEST - timedelta(days=1), [("j", 10, {})], name="default")]
    res = history(*args).expect(64)
    assert len(res.err.splitlines()) == 1 and res.err.startswith("stress: history: "), res
    assert res.out == "", res


def test_history_after_real_runs(tmp_path):
    # Two runs of one name: the second fails differently.  Its own verdict holds (it
    # was expected to fail), but the new signature makes the exit status 1, and the
    # comparison goes into the run's history.json; "results:" stays the last line.
    res = tmp_path / "results"
    base = [STRESS, "--results", res, "--name", "hist", "--status", "0", "--expect", "fail",
            "--count", "4", "-p", "2", "--history", res, "--"]
    r1 = run(base + [EXIT, "3"]).expect(0)
    assert "only one night: nothing to compare it with" in r1.out, r1
    r2 = run(base + [EXIT, "4"]).expect(1)
    lines = r2.out.rstrip("\n").splitlines()
    assert lines[-1].startswith("results: "), r2
    assert "  hist: `exit 4` x4 in 4 runs" in lines, r2
    assert "   gone: `exit 3` (x4 last week; 4 expected tonight at last week's rate)" in lines, r2
    d = Path(lines[-1][len("results: "):])
    h = json.loads((d / "history.json").read_text())
    assert h["exit"] == 1 and len(h["nights"]) == 2 and h["newest"] == str(d)
    # A run that passes, in a folder with other names' results only: nothing compared.
    r3 = run([STRESS, "--results", res, "--name", "other", "--status", "0", "--count", "2",
              "--history", res, "--", "/bin/true"]).expect(0)
    assert "only one night" in r3.out, r3


def test_history_flag_needs_a_folder(tmp_path):
    r = run([STRESS, "--results", tmp_path / "results", "--history", tmp_path / "nope",
             "--count", "1", "--", "/bin/true"]).expect(64)
    assert len(r.err.splitlines()) == 1 and "--history" in r.err, r
    assert not (tmp_path / "results").exists()


def test_interrupted_newest_night_is_said(tmp_path):
    r = tmp_path / "r"
    a = night(r, NEWEST - timedelta(days=1), [("j", 100, {"exit 3": 5})])
    b = night(r, NEWEST, [("j", 40, {"exit 3": 2})], interrupted=True)
    out = history(a, b).expect(0).out
    assert "the newest night was interrupted: its counts cover the runs that finished" in out, out


def test_history_flag_is_refused_with_replay(tmp_path):
    r = run([STRESS, "--replay", tmp_path, "--history", tmp_path]).expect(64)
    assert len(r.err.splitlines()) == 1 and "--history" in r.err, r
