#!/bin/sh
# Print the ns per memory access (and per atomic) that the shim's __tsan_*
# entry points add to a program compiled with -fsanitize=thread
# (bench/tsan_overhead.c; recipe in preload/README.md), for: the loop not
# instrumented; instrumented with no INJECT_* (every entry point passes
# through); access/atomic points on, sampled at the default 1 in 1000, with a
# decision at each visit that never fires (prob 1e-9); every access a visit
# (--sample 1) with the same decisions, and with prob 0 (counted, not
# decided); libtsan itself.  Each configuration runs ROUNDS times, interleaved
# with the others; the table shows the median of the per-run best.
#   bench/tsan_overhead.sh [ROUNDS] [ITERATIONS]
set -eu
cd "$(dirname "$0")/.."
if [ "${BENCH_QUICK:-0}" = 1 ]; then R=3 N=2000000; else R=7 N=10000000; fi
ROUNDS=${1:-$R}
N=${2:-$N}
B=build/bench/tsan_overhead
[ -x "$B" ] && [ -x "$B-plain" ] && [ -x "$B-libtsan" ] ||
	{ echo "tsan_overhead.sh: run make first" >&2; exit 125; }
CONFIGS="plain idle sampled every every0 libtsan"
run() {  # config mode
	case $1 in
	plain)   env -u LD_PRELOAD "$B-plain" "$2" "$N" 5 ;;
	idle)    env -u LD_PRELOAD "$B" "$2" "$N" 5 ;;
	sampled) env -u LD_PRELOAD INJECT_POINTS=access,atomic INJECT_PROB=1e-9 "$B" "$2" "$N" 5 ;;
	every)   env -u LD_PRELOAD INJECT_POINTS=access,atomic INJECT_PROB=1e-9 INJECT_SAMPLE=1 \
			"$B" "$2" "$N" 5 ;;
	every0)  env -u LD_PRELOAD INJECT_POINTS=access,atomic INJECT_PROB=0 INJECT_SAMPLE=1 \
			"$B" "$2" "$N" 5 ;;
	libtsan) env -u LD_PRELOAD TSAN_OPTIONS=report_bugs=0 "$B-libtsan" "$2" "$N" 5 ;;
	esac
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while [ $i -lt "$ROUNDS" ]; do
	for c in $CONFIGS; do
		run $c access >>"$tmp/$c.access"
		run $c atomic >>"$tmp/$c.atomic"
	done
	i=$((i + 1))
done
med() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "# __tsan_* entry points: ns per access and per atomic ($(nproc) CPUs, $(uname -m)," \
	"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | sed 's/ *$//'))," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# median of $ROUNDS runs, each the best of 5 x $N iterations (thread CPU time);" \
	"access: arr[i & 1023] += i, a read and a write; atomic: a relaxed fetch_add"
printf '%-46s %9s %9s %9s %9s\n' configuration access added atomic added
ba=$(med "$tmp/plain.access"); bt=$(med "$tmp/plain.atomic")
for c in $CONFIGS; do
	case $c in
	plain)   d="not instrumented" ;;
	idle)    d="instrumented, no INJECT_* (pass-through)" ;;
	sampled) d="points on, sample 1000, prob 1e-9 (default)" ;;
	every)   d="points on, sample 1 (every access decided)" ;;
	every0)  d="points on, sample 1, prob 0 (counted only)" ;;
	libtsan) d="libtsan (the race detector), for reference" ;;
	esac
	a=$(med "$tmp/$c.access"); t=$(med "$tmp/$c.atomic")
	printf '%-46s %9s %9s %9s %9s\n' "$d" "$a" "$(echo "$a $ba" | awk '{printf "%+.2f", $1 - $2}')" \
		"$t" "$(echo "$t $bt" | awk '{printf "%+.2f", $1 - $2}')"
done
