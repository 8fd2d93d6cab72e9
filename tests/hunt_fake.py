"""Helpers the hunt tests share: a simulated stress (so that hunt's driver logic runs in
seconds and does not depend on timing), and reading a hunt's results folder."""

import json
import re
from pathlib import Path

import pytest

from conftest import BUILD, PROGS, ROOT

HUNT = BUILD / "hunt"
RACY = PROGS / "hunt_racy"

FAKE_STRESS = r'''#!/usr/bin/python3
# Stands in for build/stress: runs are simulated.  A run fails (60%, or FAKE_RATE) when
# every site of FAKE_CULPRIT got a delay; else at FAKE_HALF=SITE:R's rate R when SITE got
# one (half of a pair that fails a few runs alone); FAKE_NOISE adds failures that no site
# explains.
# Test knobs: FAKE_ARGV_LOG appends each call's arguments (a JSON list a line);
# FAKE_FAIL_AT=PREFIX makes the campaign whose --name starts so print FAKE_FAIL_SAY and
# exit FAKE_FAIL_CODE without a record; FAKE_SHORT_AT=PREFIX records one run too few;
# FAKE_CONTROL_FAIL=R makes runs of a campaign named *control* fail at rate R whatever
# was delayed; FAKE_NO_DELAY=1 never delays (the sites are still visited).
import fnmatch, json, os, random, shlex, sys
SITES = {"startm+0x5c": 20, "startm+0x120": 20, "schedule+0x40": 300,
         "findrunnable+0x88": 200, "sysmon+0x30": 60, "retake+0x10": 40, "mput+0x22": 10}
env = os.environ.get
a = sys.argv[1:]
if env("FAKE_ARGV_LOG"):
    with open(env("FAKE_ARGV_LOG"), "a") as log:
        log.write(json.dumps(a) + "\n")
opts, cmd = a[:a.index("--")], a[a.index("--") + 1:]
o = dict(zip(opts[0::2], opts[1::2]))
name = o.get("--name", "")
if env("FAKE_FAIL_AT") and name.startswith(env("FAKE_FAIL_AT")):
    print(env("FAKE_FAIL_SAY", "stress: HARNESS ERROR: simulated"))
    sys.exit(int(env("FAKE_FAIL_CODE", "125")))
fl = shlex.split(o.get("--inject", ""))
f = dict(zip(fl[0::2], fl[1::2]))
prob = 0 if env("FAKE_NO_DELAY") else float(f.get("--prob", "0"))
pats = [p for p in f.get("--sites", "").split(",") if p]
inc = [p for p in pats if not p.startswith("!")]
exc = [p[1:] for p in pats if p.startswith("!")]
m = lambda p, s: fnmatch.fnmatchcase(s, p) or fnmatch.fnmatchcase(s.rsplit("+", 1)[0], p)
on = lambda s: (not inc or any(m(p, s) for p in inc)) and not any(m(p, s) for p in exc)
culprits = [c for c in env("FAKE_CULPRIT", "").split(",") if c]
rnd = random.Random(int(o["--seed"]))
count = int(o["--count"])
if env("FAKE_SHORT_AT") and name.startswith(env("FAKE_SHORT_AT")):
    count -= 1
with open(o["--record"], "a") as rec:
    for r in range(count):
        sites = {}
        for s, v in SITES.items():
            d = sum(1 for _ in range(v) if on(s) and rnd.random() < prob)
            sites[s] = {"visits": v, "delays": d, "delay_ns": d * 1e6}
        both = bool(culprits) and all(sites[c]["delays"] for c in culprits)
        fail = both and rnd.random() < float(env("FAKE_RATE", ".6"))
        half, _, rate = env("FAKE_HALF", "").partition(":")
        if half and not both and sites[half]["delays"]:
            fail = rnd.random() < float(rate)
        fail = fail or rnd.random() < float(env("FAKE_NOISE", "0"))
        if "control" in name and env("FAKE_CONTROL_FAIL"):
            fail = rnd.random() < float(env("FAKE_CONTROL_FAIL"))
        rec.write(json.dumps({"run": r, "seed": rnd.randrange(1 << 40),
                              "status": "fail" if fail else "pass",
                              "signature": "fatal: x" if fail else None, "exit": 2 * fail,
                              "signal": None, "seconds": 0.01, "sites": sites}) + "\n")
sys.exit(int(env("FAKE_EXIT", "0")))
'''


@pytest.fixture
def fake_stress(tmp_path):
    p = tmp_path / "fake_stress"
    p.write_text(FAKE_STRESS)
    p.chmod(0o755)
    return p


def hunt_json(result):
    m = re.search(r"^results: (.+)$", result.out, re.M)
    assert m, f"no results line\n{result}"
    d = Path(m.group(1))
    if not d.is_absolute():
        d = ROOT / d
    for f in ("hunt.json", "hunt.txt", "failure-rate.svg"):
        assert (d / f).is_file(), f"{f} missing in {d}\n{result}"
    return d, json.loads((d / "hunt.json").read_text())
