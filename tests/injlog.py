"""Reading the shim's injection log (format: docs/interfaces.md) and running a
program under the shim, for the tests of the shim (test_inject*.py)."""

import re

from conftest import LIBINJECT, clean_env, run


def parse_log(path):
    """Blocks of an injection log: dicts with header, events, sites, end."""
    blocks, cur = [], None
    for line in open(path).read().splitlines():
        if line.startswith("# inject-log v1 "):
            cur = {"header": dict(kv.split("=", 1) for kv in line.split()[3:]),
                   "events": [], "sites": {}, "end": None}
            blocks.append(cur)
        elif line.startswith("E "):
            _, t, lin, point, site, visit, delay = line.split()
            cur["events"].append((int(t), lin, point, site, int(visit), int(delay)))
        elif line.startswith("S "):
            _, site, visits, delays, total = line.split()
            cur["sites"][site] = (int(visits), int(delays), int(total))
        elif line.startswith("# end "):
            cur["end"] = parse_end(line)
    return blocks


END_FIELDS = ["pid", "events", "dropped", "unnamed", "sites", "matched", "matched_visits",
              "full"]


def parse_end(line):
    """The end line: its numeric fields in their documented order, then reason
    (the last field, which may contain a space: "signal 6")."""
    m = re.match(r"# end ((?:\w+=\d+ )*)reason=(.*)$", line)
    assert m, f"bad end line: {line!r}"
    fields = [kv.split("=") for kv in m[1].split()]
    assert [k for k, _ in fields] == END_FIELDS, f"end line fields: {line!r}"
    end = {k: int(v) for k, v in fields}
    end["reason"] = m[2]
    return end


def plan(block):
    """The deterministic part of the events: all but the time."""
    return [e[1:] for e in block["events"]]


def fn(site):
    return site.split("+", 1)[0]


def shim_env(log=None, **inject):
    """Environment with the shim preloaded by hand and INJECT_* set."""
    env = clean_env(LD_PRELOAD=LIBINJECT, **{f"INJECT_{k.upper()}": v for k, v in inject.items()})
    if log is not None:
        env["INJECT_LOG"] = str(log)
    return env


def injected(tmp_path, argv, name="log", rc=0, timeout=60, **inject):
    """Run argv under the shim; check its exit status; return (result, blocks)."""
    log = tmp_path / name
    if log.exists():
        log.unlink()
    r = run(argv, env=shim_env(log, **inject), timeout=timeout).expect(rc)
    assert log.exists(), f"no log written\n{r}"
    return r, parse_log(log)
