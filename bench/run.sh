#!/bin/sh
# `make bench`: run every benchmark script in bench/ and print their tables,
# one after another, then the goals of issue 6 as measured in this run.
# Each script can also be run alone.  Order: power.sh (reproduction power,
# cost of confidence, --iterations, the sweep plot), stress_rate.sh (the
# driver against the spawn floor), shim_overhead.sh, then any other bench/*.sh.
# Every output is also saved under results/bench/<UTC stamp>/.
#   BENCH_QUICK=1 make bench   a ~2-minute smoke run (fewer runs, wide intervals)
set -u
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
status=0
BENCH_OUT=results/bench/$(date -u +%Y%m%dT%H%M%SZ)
export BENCH_OUT
mkdir -p "$BENCH_OUT"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	args_stress_rate=1000; args_shim_overhead="3 1000000"; mode="quick (BENCH_QUICK=1)"
else
	args_stress_rate=; args_shim_overhead=; mode=full
fi
t0=$(date +%s)
echo "# make bench, $mode: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -sr) $(uname -m), $(nproc) CPUs," \
	"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; compare ratios within this run)"
echo "# outputs under $BENCH_OUT"
echo
run() {  # run SCRIPT ARGS...: print its output and keep a copy
	s=$1; shift
	echo "== $s"
	name=$(basename "$s" .sh)
	{ sh "$s" "$@" || echo "$s: exit status $?" >&2; } 2>&1 | tee "$BENCH_OUT/$name.txt"
	grep -q "^$s: exit status" "$BENCH_OUT/$name.txt" && status=1
	echo
}
run bench/power.sh
# shellcheck disable=SC2086  # the quick arguments are meant to split
run bench/stress_rate.sh $args_stress_rate
# shellcheck disable=SC2086
run bench/shim_overhead.sh $args_shim_overhead
for s in bench/*.sh; do
	case $s in bench/run.sh|bench/power.sh|bench/stress_rate.sh|bench/shim_overhead.sh) continue ;; esac
	run "$s"
done
$PY bench/report.py goals "$BENCH_OUT" | tee "$BENCH_OUT/goals.txt" || status=1
echo
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg); make bench took $(($(date +%s) - t0)) s"
echo "# plot: results/bench/sweep.png (this run's copy: $BENCH_OUT/sweep.png)"
exit $status
