#!/bin/sh
# Reproduction power and the cost of confidence for golang/go#40368, measured
# through build/stress exactly as a user runs it, then printed as tables (and a
# sweep plot) by bench/report.py.
#
#   bench/power.sh [OUTDIR]          (default results/bench/<UTC stamp>)
#   BENCH_QUICK=1 bench/power.sh     smoke run, about a minute, wide intervals
#
# What it runs, in this order (all with -p $(nproc), the job
# `gosched --workload timer-syscall --iterations 20`, per-run timeout 10s):
#   sweep     fix off; hit rate over a fixed delay of 10us..10ms x probability
#             0.05/0.2/1, for the blind plan (every site) and the targeted one
#             (startm); each cell is capped by runs and by time
#   best      the sweep cell with the most reproductions per second (Wilson
#             lower bound of the hit rate x runs/s) is re-measured below, so
#             the reported rate is not the sweep's lucky maximum
#   rate      fix off, per plan (none, blind, targeted, best): hit rate, runs/s
#   failfast  fix off, per plan: FF campaigns `stress --failfast` with distinct
#             seeds, each capped in time: runs and seconds to the first failure
#   fixon     fix on, per plan: runs/s (and the failures, which must be 0)
#   iters     fix on, targeted and none (and none with --period 300us):
#             --iterations 1 vs 50, scenario runs/s
# Each job's summary.json is listed in OUTDIR/index.tsv with the load average
# and the whole machine's CPU use while it ran (other engineers share it).
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
B=build
[ -x $B/stress ] && [ -x $B/gosched ] && [ -x $B/inject ] || { echo "power.sh: run make first" >&2; exit 125; }

OUT=${1:-${BENCH_OUT:-results/bench/$(date -u +%Y%m%dT%H%M%SZ)}}
mkdir -p "$OUT/runs"
# Measure a private copy of the binaries: other engineers rebuild build/ while
# this runs, and a run that finds gosched half-written is not a measurement.
# (stress finds inject, and inject the shim, next to itself.)
snapshot() {
	rm -rf "$OUT/bin" && mkdir -p "$OUT/bin" &&
		cp $B/stress $B/inject $B/libinject.so $B/gosched "$OUT/bin/" &&
		"$OUT/bin/gosched" --list-workloads >/dev/null 2>&1 &&
		"$OUT/bin/inject" --seed 1 -- "$OUT/bin/gosched" --iterations 1 >/dev/null 2>&1 &&
		"$OUT/bin/stress" --help >/dev/null 2>&1
}
tries=0
until snapshot; do
	tries=$((tries + 1))
	[ $tries -lt 10 ] || { echo "power.sh: cannot copy working binaries from $B" >&2; exit 125; }
	sleep 3
done
B=$OUT/bin
IDX=$OUT/index.tsv
: >"$IDX"
P=$(nproc)
EXTRA=  # more gosched flags (section 3 only)

TARGETED="--sites startm --delay uniform:200us:2ms"
BLIND="--prob 0.2 --delay loguniform:20us:4ms"
PROBS="0.05 0.2 1"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	MODE=quick
	SCALES="30us 300us 3ms"
	SW_COUNT=12; SW_TIME=1500ms; SW_TIMEOUT=3s
	NONE_N=300; RATE_N=60; FF=3; FF_TIME=5s; FIXON_N=60; ITER_TIME=2s
else
	MODE=full
	SCALES="10us 30us 100us 300us 1ms 3ms 10ms"
	SW_COUNT=60; SW_TIME=4s; SW_TIMEOUT=5s
	NONE_N=5000; RATE_N=400; FF=11; FF_TIME=20s; FIXON_N=300; ITER_TIME=8s
fi

busy() {  # "busy total" jiffies of the whole machine
	head -1 /proc/stat | awk '{t=0; for (i=2; i<=NF; i++) t+=$i; print t-$5-$6, t}'
}
# job SECTION PLAN FIX X INJECT [STRESS OPTIONS...]: run one stress job of the
# gosched job and append a row to the index.  X is the section's variable.
job() {
	sec=$1 plan=$2 fix=$3 x=$4 inj=$5
	shift 5
	iters=20
	[ "$sec" = iters ] && iters=$x
	seed=$(( ($(wc -l <"$IDX") + 1) * 1000000 ))  # distinct per job, also in subshells
	load=$(cut -d' ' -f1 /proc/loadavg)
	b0=$(busy)
	log=$OUT/runs/last.log
	if [ -n "$inj" ]; then
		$B/stress --results "$OUT/runs" --name "$sec-$plan-$fix" --status 0 --keep 1 -p "$P" \
			--seed $seed "$@" --inject "$inj" -- \
			$B/gosched --workload timer-syscall --fix "$fix" --iterations $iters $EXTRA >"$log" 2>&1 || true
	else
		$B/stress --results "$OUT/runs" --name "$sec-$plan-$fix" --status 0 --keep 1 -p "$P" \
			--seed $seed "$@" -- \
			$B/gosched --workload timer-syscall --fix "$fix" --iterations $iters $EXTRA >"$log" 2>&1 || true
	fi
	b1=$(busy)
	res=$(tail -1 "$log" | sed -n 's/^results: //p')
	if [ -z "$res" ] || [ ! -f "$res/summary.json" ]; then
		echo "power.sh: stress failed for $sec $plan fix=$fix x=$x:" >&2
		tail -5 "$log" >&2
		return 1
	fi
	frac=$(echo "$b0 $b1" | awk '{d=$3-$1; t=$4-$2; printf "%.3f", (t > 0 ? d / t : 0)}')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sec" "$plan" "$fix" "$x" "$inj" "$res/summary.json" "$load" "$frac" >>"$IDX"
}

t0=$(date +%s)
printf 'mode\t%s\nstarted\t%s\nmachine\t%s\ncpus\t%s\nload_start\t%s\n' "$MODE" \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -sr) $(uname -m), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
	"$P" "$(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT/meta.tsv"
echo "power.sh: $MODE run, results under $OUT (about $([ $MODE = quick ] && echo 1 || echo 10) minutes)" >&2

# 5. The sweep first: it picks the plan that section 1 measures as "best".
for plan in targeted blind; do
	for p in $PROBS; do
		for d in $SCALES; do
			if [ $plan = targeted ]; then inj="--sites startm --prob $p --delay fixed:$d"
			else inj="--prob $p --delay fixed:$d"; fi
			job sweep $plan off "$d@$p" "$inj" --count $SW_COUNT --time $SW_TIME --timeout $SW_TIMEOUT
		done
	done
done
BEST=$($PY bench/report.py best "$OUT")
echo "power.sh: best sweep cell: $BEST" >&2

# 1. Fix off: hit rate, runs/s, and time to the first failure, per plan.
plans() {  # PLAN INJECT lines
	printf 'none\t\nblind\t%s\ntargeted\t%s\nbest\t%s\n' "$BLIND" "$TARGETED" "$BEST"
}
plans | while IFS="$(printf '\t')" read -r plan inj; do
	n=$RATE_N; [ $plan = none ] && n=$NONE_N
	job rate "$plan" off "$n" "$inj" --count "$n" --timeout 10s
done
plans | while IFS="$(printf '\t')" read -r plan inj; do
	k=1
	while [ $k -le $FF ]; do
		job failfast "$plan" off "$k" "$inj" --failfast --time $FF_TIME --timeout 10s
		k=$((k + 1))
	done
done
# 2. Fix on: what an hour of runs costs, per plan.
plans | while IFS="$(printf '\t')" read -r plan inj; do
	job fixon "$plan" on "$FIXON_N" "$inj" --count "$FIXON_N" --timeout 10s
done
# 3. Many scenarios per process: --iterations 1 vs 50, fix on.  "short" is
# the no-injection job with a 300us timer period instead of 3ms, to show what
# sharing a process saves when the scenario does not wait 3ms for its timer.
for plan in none targeted short; do
	inj=; [ $plan = targeted ] && inj=$TARGETED
	[ $plan = short ] && EXTRA="--period 300us"
	for it in 1 50; do
		job iters $plan on $it "$inj" --time $ITER_TIME --timeout 10s
	done
	EXTRA=
done
printf 'load_end\t%s\nseconds\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" $(($(date +%s) - t0)) >>"$OUT/meta.tsv"
rm -f "$OUT/runs/last.log"
$PY bench/report.py report "$OUT"
