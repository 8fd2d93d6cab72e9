#!/usr/bin/python3
"""Tables and the sweep plot for bench/power.sh (Debian's python3 with matplotlib).

  report.py best OUT      print the inject flags of the sweep's best cell
  report.py report OUT    print tables 1, 2, 3 (iterations) and 5; draw OUT/sweep.png
                          (and copy it to results/bench/sweep.png)
  report.py goals OUT     the goals of issue 6, from OUT and the outputs of
                          bench/stress_rate.sh and bench/shim_overhead.sh saved by
                          bench/run.sh as OUT/stress_rate.txt and OUT/shim_overhead.txt

OUT/index.tsv lists one stress job a line: section, plan, fix, x, inject flags,
summary.json, load average at its start, whole-machine CPU busy fraction during it.
A hit is a run whose signature is the race ("checkdead: runnable g"); a timeout
or any other failure counts as a run without a hit.
"""

import json
import math
import os
import re
import shutil
import statistics
import sys

SIG = "checkdead: runnable g"
Z95 = 1.959963984540054
PLANS = ["none", "blind", "targeted", "best"]
PLAN_TEXT = {
    "none": "no injection",
    "blind": "blind",
    "targeted": "targeted",
    "best": "best of sweep",
    "short": "none, --period 300us",
}


def wilson(h, n, z=Z95):
    if n == 0:
        return (0.0, 1.0)
    p = h / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    w = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - w), min(1.0, c + w))


def ns(dur):
    m = re.fullmatch(r"([0-9.]+)(ns|us|ms|s)", dur)
    return float(m.group(1)) * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[m.group(2)]


class Row:
    def __init__(self, fields):
        (self.sec, self.plan, self.fix, self.x, self.inj, self.path, load, busy) = fields
        self.load = float(load)
        self.busy = float(busy)
        self.job = json.load(open(self.path))["jobs"][0]
        j = self.job
        self.runs = j["runs"]
        self.hits = j["signatures"].get(SIG, {}).get("count", 0)
        self.timeouts = j["signatures"].get("timeout", {}).get("count", 0)
        self.other = j["failures"] - self.hits - self.timeouts
        self.rate = self.hits / self.runs if self.runs else 0.0
        self.ci = wilson(self.hits, self.runs)
        self.rps = j["runs_per_second"]
        self.wall = j["wall_seconds"]


def load(out):
    rows = []
    for line in open(os.path.join(out, "index.tsv")):
        if line.strip():
            rows.append(Row(line.rstrip("\n").split("\t")))
    meta = {}
    p = os.path.join(out, "meta.tsv")
    if os.path.exists(p):
        for line in open(p):
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    return rows, meta


def sel(rows, sec, plan=None, fix=None):
    return [r for r in rows if r.sec == sec and (plan is None or r.plan == plan)
            and (fix is None or r.fix == fix)]


def best_cell(rows):
    """The sweep cell with the most reproductions per second, counted pessimistically."""
    cells = sel(rows, "sweep")
    return max(cells, key=lambda r: (r.ci[0] * r.rps, r.rate))


def fmt_rate(r):
    return f"{r:.3f}" if r >= 0.01 or r == 0 else f"{r:.4f}"


def fmt_hours(h):
    if h is None:
        return "inf"
    if h * 3600 < 10:
        return f"{h * 3600:.1f} s"
    if h < 1 / 60:
        return f"{h * 3600:.0f} s"
    if h < 1:
        return f"{h * 60:.1f} min"
    return f"{h:.1f} h"


def runs_for_99(rate):
    """Clean runs needed to exclude, at 99%, a bug that reproduces at `rate` per run."""
    if rate <= 0:
        return None
    if rate >= 1:
        return 1
    return math.ceil(math.log(0.01) / math.log(1 - rate))


def median_censored(values):
    """values: (x, censored). Median, treating a censored x as 'more than x'."""
    v = sorted(values, key=lambda t: (t[1], t[0]))  # censored ones sort last (they are larger)
    m = v[(len(v) - 1) // 2] if len(v) % 2 else None
    if m is None:
        a, b = v[len(v) // 2 - 1], v[len(v) // 2]
        if a[1] or b[1]:
            return f">{max(a[0], b[0]):.3g}"
        return f"{(a[0] + b[0]) / 2:.3g}"
    return (">" if m[1] else "") + f"{m[0]:.3g}"


def table(headers, data, align=None):
    cols = list(zip(headers, *data))
    w = [max(len(str(c)) for c in col) for col in cols]
    align = align or ["<"] + [">"] * (len(headers) - 1)
    out = []
    for line in [headers] + data:
        out.append("  ".join(f"{str(c):{a}{wi}}" for c, a, wi in zip(line, align, w)).rstrip())
    out.insert(1, "  ".join("-" * wi for wi in w))
    return "\n".join(out)


def cmd_best(out):
    rows, _ = load(out)
    print(best_cell(rows).inj)


def ttf(rows, plan):
    """Per-plan failfast results: (runs, censored) and (seconds, censored) lists."""
    runs, secs = [], []
    for r in sel(rows, "failfast", plan):
        ff = r.job["first_failure"]
        hit = ff is not None and r.hits > 0
        if hit:
            runs.append((ff["run"] + 1, False))  # run indices count from 0
            secs.append((ff["seconds"], False))
        else:
            runs.append((r.runs, True))
            secs.append((r.wall, True))
    return runs, secs


def cmd_report(out):
    rows, meta = load(out)
    busy = [r.busy for r in rows]
    p = meta.get("cpus", "?")
    p_int = int(p) if p.isdigit() else os.cpu_count()
    print(f"# bench/power.sh ({meta.get('mode', '?')} run), {meta.get('started', '?')}, "
          f"{meta.get('machine', '?')}, {p} CPUs")
    print(f"# load average at start {meta.get('load_start', '?')}, at end "
          f"{meta.get('load_end', '?')}; whole-machine CPU busy while jobs ran: median "
          f"{100 * statistics.median(busy):.0f}%, max {100 * max(busy):.0f}% "
          f"(our own runs included); {meta.get('seconds', '?')} s in all")
    print(f"# job: gosched --workload timer-syscall --iterations 20 under build/stress -p {p};"
          f" hit = '{SIG}'")
    plan_inj = {}
    for plan in PLANS:
        rr = sel(rows, "rate", plan)
        if rr:
            plan_inj[plan] = rr[0].inj or "(none: plain stress, as Go's stress tool runs it)"

    bad = [r for r in rows if r.job.get("harness_error")]
    for r in bad:
        print(f"# WARNING: {r.sec} {r.plan} fix {r.fix} {r.x}: harness error after {r.runs} runs:"
              f" {r.job['harness_error']}; its numbers are suspect")

    # 1. Power
    print()
    print("## 1. Reproduction power for #40368, fix off")
    data = []
    for plan in PLANS:
        rr = sel(rows, "rate", plan)
        if not rr:
            continue
        r = rr[0]
        fr, fs = ttf(rows, plan)
        cens = sum(c for _, c in fr)
        data.append([
            PLAN_TEXT[plan], f"{r.hits}/{r.runs}", fmt_rate(r.rate),
            f"{fmt_rate(r.ci[0])}-{fmt_rate(r.ci[1])}",
            median_censored(fr) if fr else "-",
            median_censored(fs) if fs else "-",
            f"{len(fr)}" + (f" ({cens} no fail)" if cens else ""),
            f"{r.rps:.1f}",
            f"{r.rate * r.rps:.2f}",
        ])
    print(table(["plan", "hits/runs", "rate", "95% CI (Wilson)", "runs to 1st",
                 "s to 1st", "failfast campaigns", "runs/s", "hits/s"], data))
    print("runs/s to 1st: medians over `stress --failfast` campaigns with distinct seeds"
          " (runs = index of the first failing run + 1); a campaign with no failure in its"
          " time cap counts as more than its runs/seconds")
    for plan in PLANS:
        if plan in plan_inj:
            print(f"  {PLAN_TEXT[plan]:14s} {plan_inj[plan]}")
    others = [(PLAN_TEXT[r.plan], r.other, r.timeouts) for r in sel(rows, "rate")
              if r.other or r.timeouts]
    for name, o, t in others:
        print(f"  note: {name}: {o} other failures, {t} timeouts (not counted as hits)")

    # 2. Confidence
    print()
    print("## 2. The cost of confidence, fix on: hours of runs to exclude at 99% a bug"
          " that reproduces at the fix-off rate")
    print("   n = ln(0.01)/ln(1-r) clean runs; hours = n / (fix-on runs/s); also at the lower"
          " end of r's 95% interval (the pessimistic count)")
    data = []
    none_on = sel(rows, "fixon", "none")
    for plan in PLANS:
        on = sel(rows, "fixon", plan)
        off = sel(rows, "rate", plan)
        if not on or not off:
            continue
        on, off = on[0], off[0]
        n, nlo = runs_for_99(off.rate), runs_for_99(off.ci[0])
        slow = f"{on.rps / none_on[0].rps:.2f}" if none_on else "-"
        data.append([
            PLAN_TEXT[plan], f"{on.rps:.1f}", slow, f"{on.hits + on.other}/{on.runs}",
            fmt_rate(off.rate), n if n else "inf",
            fmt_hours(n / on.rps / 3600) if n else "inf",
            nlo if nlo else "inf",
            fmt_hours(nlo / on.rps / 3600) if nlo else "inf",
        ])
    if none_on:
        r = 1e-4
        n = runs_for_99(r)
        data.append(["r = 1e-4 (Go issue's production rate)",
                     f"{none_on[0].rps:.1f}", "1.00", "-", "0.0001", n,
                     fmt_hours(n / none_on[0].rps / 3600), "-", "-"])
    print(table(["plan", "fix-on runs/s", "vs none", "fix-on failures", "fix-off r",
                 "runs for 99%", "hours", "runs (r at CI low)", "hours (CI low)"], data))

    # 3. Iterations
    it = sel(rows, "iters")
    if it:
        print()
        print("## 3. Many scenarios per process (fix on): --iterations 1 vs 50")
        data = []
        for plan in ["none", "targeted", "short"]:
            base = [r for r in it if r.plan == plan and r.x == "1"]
            for r in sorted((r for r in it if r.plan == plan), key=lambda r: int(r.x)):
                sc = r.rps * int(r.x)
                data.append([PLAN_TEXT[plan], r.x, r.runs, f"{r.rps:.1f}", f"{sc:.0f}",
                             f"{sc / base[0].rps:.1f}x" if base and base[0].rps else "-",
                             f"{p_int * 1000 / sc:.2f}" if sc else "-"])
        print(table(["plan", "iterations", "runs", "process runs/s", "scenario runs/s",
                     "vs --iterations 1", "ms/scenario/worker"], data))
        print("   the timer-syscall scenario itself waits for a 3 ms timer (--period), so a"
              " scenario cannot take less than ~3 ms per worker however many share a process;"
              " the last rows shorten that wait to 300 us")

    # 5. Sweep
    sw = sel(rows, "sweep")
    if sw:
        scales = []
        for r in sw:
            d = r.x.split("@")[0]
            if d not in scales:
                scales.append(d)
        scales.sort(key=ns)
        print()
        print("## 5. Sweep, fix off: hit rate per run (runs) over a fixed delay, by plan and"
              " probability")
        grid = {}
        for r in sw:
            d, prob = r.x.split("@")
            grid[(r.plan, prob, d)] = r
        keys = []
        for r in sw:
            k = (r.plan, r.x.split("@")[1])
            if k not in keys:
                keys.append(k)
        def grid_table(cell):
            rows = [[f"{plan} p={prob}"] +
                    [cell(c) if (c := grid.get((plan, prob, d))) else "-" for d in scales]
                    for plan, prob in keys]
            print(table(["plan"] + scales, rows))

        grid_table(lambda c: f"{c.rate:.2f} ({c.runs})")
        print()
        print("   hits per second (hit rate x runs/s; what time to failure depends on)")
        grid_table(lambda c: f"{c.rate * c.rps:.2f}")
        tmo = sum(r.timeouts for r in sw)
        if tmo:
            print(f"   {tmo} sweep runs hit the per-run timeout (counted as runs without a hit)")
        b = best_cell(rows)
        print(f"   best cell (max of Wilson-low rate x runs/s): {b.inj}; re-measured in table 1")
        png = plot(out, rows, sw, scales, keys, grid)
        print(f"   plot: {png}")


def plot(out, rows, sw, scales, keys, grid):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True)
    none = sel(rows, "rate", "none")
    for col, plan in enumerate(["blind", "targeted"]):
        probs = [p for (pl, p) in keys if pl == plan]
        for i, prob in enumerate(probs):
            cells = [grid[(plan, prob, d)] for d in scales if (plan, prob, d) in grid]
            shift = 1.06 ** (i - (len(probs) - 1) / 2)  # keep the error bars apart
            x = [ns(c.x.split("@")[0]) / 1e3 * shift for c in cells]
            n = min(c.runs for c in cells)
            y = [c.rate for c in cells]
            lo = [max(0.0, c.rate - c.ci[0]) for c in cells]
            hi = [max(0.0, c.ci[1] - c.rate) for c in cells]
            axes[0][col].errorbar(x, y, yerr=[lo, hi], marker="o", capsize=3,
                                  label=f"prob {prob} (>= {n} runs/cell)")
            axes[1][col].plot(x, [c.rate * c.rps for c in cells], marker="o",
                              label=f"prob {prob}")
        if none:
            n0 = none[0]
            axes[0][col].axhline(n0.rate, color="grey", ls="--",
                                 label=f"no injection ({n0.hits}/{n0.runs})")
            axes[1][col].axhline(n0.rate * n0.rps, color="grey", ls="--", label="no injection")
        where = "every site" if plan == "blind" else "site startm"
        axes[0][col].set_title(f"{plan} ({where}), fix off: hit rate per run, 95% Wilson")
        axes[1][col].set_title(f"{plan}: hits per second (rate x runs/s, -p {os.cpu_count()})")
        axes[0][col].set_ylim(-0.02, 1.02)
        axes[1][col].set_yscale("symlog", linthresh=0.1)
        axes[1][col].set_ylim(bottom=0)
        for ax in (axes[0][col], axes[1][col]):
            ax.set_xscale("log")
            ticks = [ns(d) / 1e3 for d in scales]
            ax.set_xticks(ticks)
            ax.set_xticklabels(scales)
            ax.minorticks_off()
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
        axes[1][col].set_xlabel("fixed delay per injected release (log scale)")
    axes[0][0].set_ylabel("hit rate per run")
    axes[1][0].set_ylabel("hits / s")
    fig.suptitle("golang/go#40368 model, fix off (gosched --workload timer-syscall --iterations 20"
                 f" under stress -p {os.cpu_count()}): hit rate over a fixed injected delay"
                 " and probability", fontsize=10)
    fig.tight_layout()
    png = os.path.join(out, "sweep.png")
    fig.savefig(png, dpi=110)
    latest = os.path.join(os.path.dirname(os.path.abspath(out)), "sweep.png")
    shutil.copyfile(png, latest)
    return png


def read(path):
    try:
        return open(path).read()
    except OSError:
        return ""


def cmd_goals(out):
    rows, meta = load(out)
    data = []

    def verdict(ok):
        return "met" if ok else "NOT met"

    t = sel(rows, "rate", "targeted")
    if t:
        t = t[0]
        data.append(["targeted hit rate >= 0.9 per run",
                     f"{fmt_rate(t.rate)} ({t.hits}/{t.runs}, CI {fmt_rate(t.ci[0])}-"
                     f"{fmt_rate(t.ci[1])})",
                     verdict(t.rate >= 0.9) + ("" if t.ci[0] >= 0.9 or t.rate < 0.9
                                               else " (CI low end below)")])
    _, fs = ttf(rows, "blind")
    if fs:
        m = median_censored(fs)
        ok = not m.startswith(">") and float(m) < 5
        data.append(["blind median time to failure < 5 s", f"{m} s over {len(fs)} campaigns",
                     verdict(ok)])
    n0 = sel(rows, "rate", "none")
    if n0:
        n0 = n0[0]
        data.append([f"no injection: 0 in {n0.runs} expected",
                     f"{n0.hits}/{n0.runs} (rate {fmt_rate(n0.rate)}, CI {fmt_rate(n0.ci[0])}-"
                     f"{fmt_rate(n0.ci[1])})", verdict(n0.hits == 0)])
    it = {(r.plan, r.x): r for r in sel(rows, "iters")}
    for plan in ["targeted", "none", "short"]:
        if (plan, "1") in it and (plan, "50") in it:
            a, b = it[(plan, "1")], it[(plan, "50")]
            if not a.rps:
                continue
            ratio = b.rps * 50 / a.rps
            data.append([f"scenario runs/s, --iterations 50 >= 3x per-process ({PLAN_TEXT[plan]})",
                         f"{ratio:.1f}x ({b.rps * 50:.0f} vs {a.rps:.1f}/s)",
                         verdict(ratio >= 3)])
    sr = read(os.path.join(out, "stress_rate.txt"))
    fl = re.search(r"^posix_spawn\+waitpid loop.*?\s(\d+)\s+1\.00$", sr, re.M)
    s1 = re.search(r"^stress -p 1 -- /bin/true\s+(\d+)", sr, re.M)
    if fl and s1:
        f, s = int(fl.group(1)), int(s1.group(1))
        ov = f / s - 1
        data.append(["driver overhead < 10% over the floor (stress -p 1 vs spawn loop)",
                     f"{100 * ov:+.0f}% per run ({s} vs {f} runs/s)", verdict(ov < 0.10)])
    else:
        data.append(["driver overhead < 10% over the floor", "not measured (no stress_rate.txt)",
                     "-"])
    so = read(os.path.join(out, "shim_overhead.txt"))
    m = re.search(r"^shim, site filter misses\s+\S+\s+([+-][0-9.]+)", so, re.M)
    if m:
        v = float(m.group(1))
        data.append(["shim filter-miss < 15 ns per pair", f"{v:+.2f} ns/pair", verdict(v < 15)])
    else:
        data.append(["shim filter-miss < 15 ns per pair", "not measured (no shim_overhead.txt)",
                     "-"])
    print("## Goals of issue 6 (measured in this run, reported, not asserted)")
    print(table(["goal", "measured", "verdict"], data, ["<", "<", "<"]))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("best", "report", "goals"):
        print(__doc__.strip(), file=sys.stderr)
        return 64
    {"best": cmd_best, "report": cmd_report, "goals": cmd_goals}[sys.argv[1]](sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
