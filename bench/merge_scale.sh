#!/bin/sh
# bench/merge_scale.sh [SHARDS...]: what `stress merge` costs as shards grow.
#
# For each N (default: 1 10 100 1000) the real stress makes the N shards of one small
# campaign (bench/merge_scale.ini: a fail job, a pass job with it as control, a job with
# two failure signatures; 2 runs of each job per shard, failures decided by the seed, so
# every shard keeps a failure or two), then `stress merge` merges the N folders, REPEAT
# times (default 3), into a fresh folder each time.  Prints per N: runs, kept failures
# merged, the median merge wall time and CPU time (user + system, GNU time: steadier
# than wall on a busy machine) and each per 100 shards.
# Making the shards costs far more than merging them (a stress start per shard): about
# 5 minutes for 1000 on the busy 2-core VM.  STRESS overrides build/stress; WORK keeps the shards
# (default: a temporary folder, removed).
set -eu
cd "$(dirname "$0")/.."
STRESS=${STRESS:-build/stress}
REPEAT=${REPEAT:-3}
[ -x "$STRESS" ] || { echo "merge_scale.sh: no $STRESS: run make" >&2; exit 125; }
if [ -n "${WORK:-}" ]; then
	work=$WORK
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/merge-scale.XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi
# A private copy of the binaries: build/ may be rebuilt meanwhile (by make, by others),
# and shards made by two builds are rightly refused by merge.
mkdir -p "$work/bin"
cp "$STRESS" "$work/bin/stress"
for f in inject libinject.so; do
	[ -e "$(dirname "$STRESS")/$f" ] && cp "$(dirname "$STRESS")/$f" "$work/bin/"
done
STRESS=$work/bin/stress
ms() { echo $(( $(date +%s%N) / 1000000 )); }
printf '%-7s %-7s %-5s %-10s %-14s %-9s %-13s %s\n' shards runs kept "wall (ms)" "wall/100 (ms)" \
	"CPU (ms)" "CPU/100 (ms)" "make shards (s)"
for n in ${*:-1 10 100 1000}; do
	d=$work/$n
	rm -rf "$d"
	mkdir -p "$d"
	t0=$(ms)
	# Each shard: 2 runs of each job (--scale N on counts of 2).
	seq 1 "$n" | xargs -P 4 -I K sh -c '
		"$1" --campaign bench/merge_scale.ini --scale "$2" --shard "K/$2" --seed 1 -p 1 \
			--status 0 --results "$3/shard-K" >/dev/null
		[ $? -le 1 ]' sh "$STRESS" "$n" "$d" ||
		{ echo "merge_scale.sh: a shard of $n failed" >&2; exit 125; }
	made=$(( $(ms) - t0 ))
	set -- "$d"/shard-*/*/
	walls= cpus=
	for r in $(seq 1 "$REPEAT"); do
		rm -rf "$d/merged"
		rc=0
		/usr/bin/time -o "$d/time" -f '%e %U %S' "$STRESS" merge --out "$d/merged" "$@" \
			>/dev/null || rc=$?
		[ "$rc" -le 1 ] || { echo "merge_scale.sh: stress merge exit $rc" >&2; exit 125; }
		walls="$walls $(awk 'END {printf "%d", $1 * 1000}' "$d/time")"
		cpus="$cpus $(awk 'END {printf "%d", ($2 + $3) * 1000}' "$d/time")"
	done
	mid=$(( (REPEAT + 1) / 2 ))
	med=$(printf '%s\n' $walls | sort -n | sed -n "${mid}p")
	cpu=$(printf '%s\n' $cpus | sort -n | sed -n "${mid}p")
	runs=$(grep -o '"runs": [0-9]*' "$d/merged/summary.json" | awk '{s += $2} END {print s}')
	kept=$(find "$d/merged" -name meta.json | wc -l)
	per() { awk -v t="$1" -v n="$n" 'BEGIN {printf "%.1f", t * 100 / n}'; }
	printf '%-7s %-7s %-5s %-10s %-14s %-9s %-13s %s\n' "$n" "$runs" "$kept" "$med" \
		"$(per "$med")" "$cpu" "$(per "$cpu")" "$(awk -v t="$made" 'BEGIN {printf "%.1f", t / 1000}')"
done
