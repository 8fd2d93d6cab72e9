#!/usr/bin/python3
"""Tables for bench/corpus.sh (issue 13's corpus of bug classes).

  corpus_report.py OUT    print the tables from OUT/index.tsv and OUT/meta.tsv

OUT/index.tsv lists one stress job a line: class, program, build (plain or tsan),
plan, inject flags, summary.json (or "-" for a build that was not made, "ERROR"
for a job stress could not run), load average at its start.  A hit is a failure
whose signature matches the program's (stress --signature, so `reproductions`);
any other failure is counted as "other" beside it.
"""

import json
import sys


def read_tsv(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


class Cell:
    def __init__(self, fields):
        (self.cls, self.prog, self.build, self.plan, self.inj, self.path, self.load) = fields
        self.job = None
        self.error = self.path == "ERROR"
        if self.path not in ("-", "ERROR"):
            self.job = json.load(open(self.path))["jobs"][0]

    @property
    def made(self):
        return self.path != "-"

    def hits(self):
        j = self.job
        if self.error or j is None:
            return "error" if self.error else "-"
        if j.get("harness_error"):
            return "harness error"
        s = f"{j['reproductions']}/{j['runs']}"
        if j["unexpected"]:
            s += f" +{j['unexpected']} other"
        return s

    def first(self):
        j = self.job
        if j is None or not j.get("first_reproduction"):
            return "-"
        f = j["first_reproduction"]
        return f"{f['run'] + 1} / {f['seconds']:.2f} s"

    def reached(self):
        j = self.job
        if j is None or j.get("injection") is None:
            return "-"
        return f"{j['injection']['reached']}/{j['runs']}"

    def families(self):
        """Each family that hit: name hits/runs (stress's per-family tally)."""
        fams = (self.job or {}).get("families") or {}
        hit = [f"{n} {f['reproductions']}/{f['runs']}" for n, f in
               sorted(fams.items(), key=lambda kv: -kv[1]["reproductions"])
               if f["reproductions"]]
        return ", ".join(hit) or "-"

    def seconds(self):
        j = self.job
        return "-" if j is None else f"{j['wall_seconds']:.0f} s"

    def hit(self):
        return bool(self.job and self.job["reproductions"] > 0)


def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip(),
           "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    return "\n".join(out)


def main(out):
    meta = dict(read_tsv(f"{out}/meta.tsv"))
    cells = [Cell(f) for f in read_tsv(f"{out}/index.tsv")]
    plans, inj = [], {}
    for c in cells:
        if c.made and c.plan not in plans:
            plans.append(c.plan)
            inj[c.plan] = c.inj
    keys = []
    by = {}
    for c in cells:
        k = (c.cls, c.prog, c.build)
        if k not in by:
            keys.append(k)
            by[k] = {}
        by[k][c.plan] = c
    made = [k for k in keys if any(c.made for c in by[k].values())]
    missing = [k for k in keys if k not in made]

    print(f"# bench/corpus.sh ({meta['mode']} run), {meta['started']}, {meta['machine']}, "
          f"{meta['cpus']} CPUs")
    print(f"# load average at start {meta['load_start']}, at end {meta.get('load_end', '?')}; "
          f"{meta.get('seconds', '?')} s in all (the machine is shared: compare within a run)")
    print("# build/stress -p " + meta["cpus"] + ", per-run timeout 2 s; 'none' runs every run, "
          "a plan stops at its first few failures (--max-failures) or its time cap (--time)")
    print()
    print("## Hits / runs, per class and plan")
    rows = []
    for k in made:
        row = [k[0], k[1], k[2]] + [by[k][p].hits() if p in by[k] else "" for p in plans]
        row.append(", ".join(p for p in plans if p != "none" and p in by[k] and by[k][p].hit())
                   or "no plan")
        rows.append(row)
    print(table(["class", "program", "build"] + plans + ["reached by"], rows))
    print()
    print("## Runs / seconds to the first hit (runs counted from 1; a hang's seconds include "
          "the 2 s timeout)")
    rows = [[k[0], k[1], k[2]] + [by[k][p].first() if p in by[k] else "" for p in plans]
            for k in made]
    print(table(["class", "program", "build"] + plans, rows))
    print()
    print("## Runs a plan reached (a delay injected, or a visit the plan may delay) / runs")
    iplans = [p for p in plans if p != "none"]
    rows = [[k[0], k[1], k[2]] + [by[k][p].reached() if p in by[k] else "" for p in iplans]
            for k in made]
    print(table(["class", "program", "build"] + iplans, rows))
    if "portfolio" in plans:
        print()
        print(f"## The default portfolio ({meta.get('portfolio', '?')}): the families that hit "
              "(hits/runs of that family)")
        rows = [[k[0], k[1], k[2], by[k]["portfolio"].hits(), by[k]["portfolio"].first(),
                 by[k]["portfolio"].seconds(), by[k]["portfolio"].families()]
                for k in made if "portfolio" in by[k]]
        print(table(["class", "program", "build", "hits/runs", "first hit (run / s)",
                     "cell time", "families that hit"], rows))
    print()
    print("plans:")
    for p in plans:
        print(f"  {p:<13} {inj[p] or '(no launcher, no shim)'}"
              + ("  (each run's family drawn from its seed)" if p == "portfolio" else ""))
    if missing:
        names = " ".join(k[1] for k in missing)
        print(f"instrumented builds not made (libinject.so exports no __tsan_init yet): {names}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: corpus_report.py OUT")
    main(sys.argv[1])
