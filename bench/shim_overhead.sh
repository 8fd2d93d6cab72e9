#!/bin/sh
# Print the ns that libinject.so adds to an uncontended lock/unlock pair, for:
# no shim; shim with nothing configured; a site filter that does not match;
# a matching site with probability 0.  Each configuration runs ROUNDS times,
# interleaved with the others; the table shows the median of the per-run best.
#   bench/shim_overhead.sh [ROUNDS] [PAIRS]
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-7}
PAIRS=${2:-2000000}
B=build/bench/shim_overhead
S=$PWD/build/libinject.so
[ -x "$B" ] && [ -f "$S" ] || { echo "shim_overhead.sh: run make first" >&2; exit 125; }
run() {  # name env...
	env -u LD_PRELOAD "$@" "$B" "$PAIRS" 5
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
while [ $i -lt "$ROUNDS" ]; do
	run >>"$tmp/none"
	run LD_PRELOAD="$S" >>"$tmp/idle"
	run LD_PRELOAD="$S" INJECT_SITES=no_such_site >>"$tmp/miss"
	run LD_PRELOAD="$S" INJECT_SITES=bench_pairs INJECT_PROB=0 >>"$tmp/prob0"
	i=$((i + 1))
done
med() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(med "$tmp/none")
echo "# shim overhead per uncontended lock/unlock pair ($(nproc) CPUs, $(uname -m), median of $ROUNDS runs, each the best of 5 x $PAIRS pairs)"
printf '%-34s %10s %10s\n' configuration ns/pair added
for c in none idle miss prob0; do
	case $c in
	none)  d="no shim" ;;
	idle)  d="shim, nothing configured" ;;
	miss)  d="shim, site filter misses" ;;
	prob0) d="shim, site matches, prob 0" ;;
	esac
	m=$(med "$tmp/$c")
	printf '%-34s %10s %10s\n' "$d" "$m" "$(echo "$m $base" | awk '{printf "%+.2f", $1 - $2}')"
done
