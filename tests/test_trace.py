"""trace.json, a kept failure's timeline in the Chrome Trace Event format (docs/interfaces.md):
checked against the format on real kept failures, and on the #40368 failure for what a reader
must see there: sysmon held in startm across the window while an M parks and checkdead throws,
with the shim's delays and gosched's own events on one clock."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import PROGS, REPRO_40368, ROOT, STRESS, TARGETED_40368, run

TARGETED, REPRO = TARGETED_40368, REPRO_40368

# Phases the writer may use and what each needs besides ph/ts/pid/tid/name.
PHASES = {"X": ["dur"], "i": ["s"], "M": ["args"], "B": [], "E": []}


def validate(doc):
    """Check a trace against the Trace Event format; return {(pid, tid): track name} and the
    events that are not metadata, in file order."""
    assert isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list), doc.keys()
    names, evs, last, depth = {}, [], {}, {}
    for e in doc["traceEvents"]:
        for k in ("ph", "ts", "pid", "tid", "name"):
            assert k in e, f"event without {k}: {e}"
        assert e["ph"] in PHASES, f"unknown phase: {e}"
        for k in PHASES[e["ph"]]:
            assert k in e, f"{e['ph']} event without {k}: {e}"
        assert isinstance(e["ts"], (int, float)) and isinstance(e["pid"], int) \
            and isinstance(e["tid"], int) and isinstance(e["name"], str), e
        key = (e["pid"], e["tid"])
        if e["ph"] == "M":
            if e["name"] == "thread_name":
                assert isinstance(e["args"]["name"], str) and e["args"]["name"], e
                names[key] = e["args"]["name"]
            continue
        if e["ph"] == "X":
            assert e["dur"] >= 0, e
        if e["ph"] == "i":
            assert e["s"] in ("t", "p", "g"), e
        # Timestamps never go back on a track.
        assert e["ts"] >= last.get(key, float("-inf")), f"ts went back on {key}: {e}"
        last[key] = e["ts"]
        if e["ph"] in "BE":
            depth[key] = depth.get(key, 0) + (1 if e["ph"] == "B" else -1)
            assert depth[key] >= 0, f"E without B on {key}: {e}"
        evs.append(e)
    assert all(d == 0 for d in depth.values()), f"B without E: {depth}"
    for e in evs:
        assert (e["pid"], e["tid"]) in names, f"a track without a thread_name: {e}"
    return names, evs


def kept(out):
    return sorted(p.parent for p in Path(out).glob("**/failures/*/*/meta.json"))


def stress(tmp_path, *args):
    r = run([STRESS, "--results", tmp_path, "--status", "0", *map(str, args)], timeout=600)
    m = re.search(r"^results: (.+)$", r.out, re.M)
    assert m, f"stress printed no results path\n{r}"
    return r, Path(m.group(1))


@pytest.fixture(scope="module")
def repro40368(tmp_path_factory):
    """Real #40368 failures (fix off, the targeted plan), kept with their traces.
    Bound: test_mission.py measured 0.98 per run for this command (0.87 with two busy loops)
    and takes p >= 0.3 as the floor; 60 runs give fewer than two failures with probability
    0.7**60 + 60 * 0.3 * 0.7**59 = 1.3e-8."""
    tmp = tmp_path_factory.mktemp("trace40368")
    r, out = stress(tmp, "-p", "2", "--count", "60", "--max-failures", "2", "--keep", "2",
                    "--seed", "4000", "--timeout", "20s", "--inject", TARGETED, "--", *REPRO)
    dirs = kept(out)
    assert len(dirs) >= 2, f"wanted two kept failures\n{r}"
    return r, out, dirs


def test_kept_40368_trace_is_valid_and_complete(repro40368):
    r, out, dirs = repro40368
    for d in dirs:
        assert {"trace.json", "events.txt", "inject.log", "output.txt"} <= set(os.listdir(d)), d
        doc = json.loads((d / "trace.json").read_text())
        names, evs = validate(doc)
        assert doc["otherData"]["signature"] == "checkdead: runnable g", doc["otherData"]
        assert all(doc["otherData"]["sources"].values()), doc["otherData"]
        # Tracks by M and role, and by lineage where the shim saw the thread.
        assert any(n.startswith("M0") for n in names.values()), names
        assert any(re.fullmatch(r"M\d+ sysmon \(thread 0(\.\d+)+\)", n) for n in names.values()), names
        assert "driver (thread 0)" in names.values(), names
        # Every delay of the log is a slice with its site, point and length.
        delays = [e for e in evs if e["ph"] == "X"]
        log_delays = [ln.split() for ln in (d / "inject.log").read_text().splitlines()
                      if ln.startswith("E ")]
        assert len(delays) == len(log_delays) > 0, (len(delays), len(log_delays))
        for e, ln in zip(sorted(delays, key=lambda e: (e["args"]["delay_ns"], e["ts"])),
                         sorted(log_delays, key=lambda l: (int(l[6]), int(l[1])))):
            assert e["args"] == {"site": ln[4], "point": ln[3], "delay_ns": int(ln[6]),
                                 "visit": int(ln[5])}, (e, ln)
            assert abs(e["dur"] - int(ln[6]) / 1e3) < 1e-3, (e, ln)
        # The gosched events of the events file are all there.
        nev = sum(1 for ln in (d / "events.txt").read_text().splitlines() if ln.startswith("E "))
        assert sum(1 for e in evs if e.get("cat") == "gosched") == nev


def track_of(names, role):
    return next(k for k, n in names.items() if re.match(role, n))


def test_40368_trace_shows_the_window(repro40368):
    """What a reader must see: sysmon took the last P with no idle M and its startm unlock was
    delayed (the window opens); an M parks (stopm: mput) and checkdead throws while sysmon has
    not come back from newm; the throw carries its stack.  The order of the shim's delay
    against gosched's events on sysmon's own thread (event, then delay, then the next event
    after the delay has ended) holds only when both are on one clock."""
    r, out, dirs = repro40368
    for d in dirs:
        names, evs = validate(json.loads((d / "trace.json").read_text()))
        sysmon = track_of(names, r"M\d+ sysmon")
        end = [e for e in evs if e.get("cat") == "end"]
        assert len(end) == 1, end
        throw = end[0]
        assert throw["name"] == "fatal error: checkdead: runnable g", throw
        stack = throw["args"]["stack"]
        assert re.match(r"throw\+0x[0-9a-f]+\n.*\ncheckdead\+", stack), stack
        thrower = names[(throw["pid"], throw["tid"])]
        assert re.match(r"M[02]\b", thrower), thrower
        mine = [e for e in evs if (e["pid"], e["tid"]) == sysmon]
        ds = [i for i, e in enumerate(mine) if e["ph"] == "X" and e["ts"] <= throw["ts"]]
        assert ds, f"no delay on sysmon's track before the throw\n{mine}"
        i = ds[-1]
        window = mine[i]
        before = [e for e in mine[:i] if e.get("cat") == "gosched"]
        assert before and before[-1]["name"] == "startm: took a P; found an idle M" \
            and before[-1]["args"]["arg"] == 0, before[-3:]
        assert before[-1]["ts"] <= window["ts"]
        after = [e for e in mine[i + 1:] if e.get("cat") == "gosched"]
        for e in after:
            assert e["ts"] >= window["ts"] + window["dur"] - 1e-3, (window, e)
            # Sysmon never finished newm before the throw: it is held across the window.
            assert e["name"] != "newm: new M" or e["ts"] > throw["ts"], (window, e)
        # An M parked inside the window, and checkdead ran on the thrower just before.
        parks = [e for e in evs if e["name"].startswith("stopm: mput")
                 and window["ts"] <= e["ts"] <= throw["ts"]]
        assert parks, f"no M parked between the delay at {window['ts']} and the throw"
        on_thrower = [e for e in evs if (e["pid"], e["tid"]) == (throw["pid"], throw["tid"])
                      and e.get("cat") == "gosched" and e["ts"] <= throw["ts"]]
        assert on_thrower[-1]["name"].startswith("checkdead:"), on_thrower[-3:]
        # Sysmon's stack at the throw is on its track: inside startm's newm.
        st = [e for e in mine if e.get("cat") == "dump"]
        assert st and "startm+" in st[0]["args"]["stack"], st


def test_trace_of_a_program_without_its_own_events(tmp_path):
    """A plain pthread program (no STRESS_EVENTS support): tracks by lineage, the delays, and
    its exit as an instant at the moment stress reaped it."""
    r, out = stress(tmp_path, "-p", "1", "--count", "1", "--seed", "7", "--inject",
                    "--prob 0.2 --delay fixed:20us", "--", PROGS / "inj_threads", "throw")
    dirs = kept(out)
    assert len(dirs) == 1, r
    doc = json.loads((dirs[0] / "trace.json").read_text())
    names, evs = validate(doc)
    assert not (dirs[0] / "events.txt").exists()
    assert {"thread 0.1", "thread 0.2"} <= set(names.values()), names
    delays = [e for e in evs if e["ph"] == "X"]
    assert delays and all(e["args"]["point"] and e["args"]["site"] for e in delays), delays[:3]
    end = [e for e in evs if e.get("cat") == "end"]
    # It prints a Go-shaped "fatal error:" line, then exits 2: the instant is named by it.
    sig = json.loads((dirs[0] / "meta.json").read_text())["signature"]
    assert len(end) == 1 and end[0]["name"] == f"fatal error: {sig}", (sig, end)
    assert names[(end[0]["pid"], end[0]["tid"])] == "thread 0", end
    assert "reaped" in end[0]["args"]["time"], end
    # On one clock: the exit comes after every delay began.
    assert end[0]["ts"] >= max(e["ts"] for e in delays), end


def test_replay_sh_writes_a_trace(repro40368, tmp_path):
    """REPLAY_TRACE=DIR sh replay.sh: the same run again, its files in DIR, DIR/trace.json
    drawn from them; the script still exits with the program's status."""
    r, out, dirs = repro40368
    dest = tmp_path / "replayed"
    env = dict(os.environ, REPLAY_TRACE=str(dest))
    p = subprocess.run(["sh", dirs[0] / "replay.sh"], env=env, capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    assert p.returncode in (0, 2), p.stderr
    assert (dest / "output.txt").exists() and (dest / "inject.log").exists(), p.stderr
    names, evs = validate(json.loads((dest / "trace.json").read_text()))
    if p.returncode == 2:
        assert (dest / "events.txt").exists(), p.stderr
        assert any(e.get("cat") == "end" and "fatal error" in e["name"] for e in evs), evs[-3:]
    assert any(e["ph"] == "X" for e in evs), "no delay in the replay's trace"


def test_trace_json_usage(tmp_path):
    r = run([STRESS, "--trace-json", tmp_path], timeout=30)
    assert r.rc == 64 and r.err.count("\n") == 1 and "no output.txt" in r.err, r


def test_replay_keeps_a_trace(repro40368, tmp_path):
    """stress --replay DIR keeps the first rerun of each signature as a failure is kept, its
    trace.json with it, in a folder under TMPDIR that it names."""
    r, out, dirs = repro40368
    p = subprocess.run([STRESS, "--replay", dirs[0], "--count", "4", "-p", "2"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, TMPDIR=str(tmp_path)))
    assert p.returncode in (0, 1), p.stderr
    kept = re.findall(r'^replay: "(.+)" kept, with its trace\.json: (.+)$', p.stdout, re.M)
    if p.returncode == 0:
        assert "checkdead: runnable g" in [s for s, _ in kept], p.stdout
    for sig, d in kept:
        assert Path(d).is_relative_to(tmp_path), d
        names, evs = validate(json.loads((Path(d) / "trace.json").read_text()))
        assert any(e.get("cat") == "end" for e in evs), d
    assert not list(tmp_path.glob("stress-replay.*/.tmp")), "the scratch dir was left behind"
