#!/bin/sh
# Run a stress campaign on Slurm as N shards and merge them into one result.
#
#   stress/slurm/submit.sh -N SHARDS --campaign FILE [--results DIR] [--sbatch "OPTS"]
#                          [-- STRESS FLAGS...]
#
# Makes RUNDIR = DIR/<campaign name>-<UTC stamp>-<N>shards (DIR defaults to results),
# submits stress-array.sbatch as a job array 0..N-1 (task I runs `stress --shard I+1/N`
# into RUNDIR/shard-<I+1>) and stress-merge.sbatch with --dependency=afterany on the
# array (it runs `stress merge --out RUNDIR/merged` over the shards' folders), prints
# the job ids and, last, `results: RUNDIR/merged`, and exits without waiting.
#
# Every shard runs with the same --seed (chosen here from the clock unless the
# stress flags give one), as merge requires.  --sbatch OPTS are extra sbatch options
# for the shard tasks (e.g. "--exclusive" or "--cpus-per-task=8 --time=2:00:00");
# SBATCH_PARTITION, SBATCH_ACCOUNT and the other SBATCH_* variables apply to both
# jobs.  The jobs run in this repository's folder (--chdir), which, like DIR, must
# be the same path on every node (a shared filesystem).  STRESS overrides the stress
# binary (default: build/stress of this repository).
#
# Exit status: 0 submitted, 64 usage error, 125 nothing could be submitted (no sbatch,
# no stress binary, sbatch refused).  See docs/scaling.md.
set -eu
me=submit.sh
usage_line='usage: stress/slurm/submit.sh -N SHARDS --campaign FILE [--results DIR] [--sbatch "OPTS"] [-- STRESS FLAGS...]'
usage() {
	echo "$me: $*; $usage_line" >&2
	exit 64
}
fail() {
	echo "$me: $*" >&2
	exit 125
}

n='' campaign='' results=results sbopts=''
while [ $# -gt 0 ]; do
	case $1 in
	-N | --campaign | --results | --sbatch)
		[ $# -ge 2 ] || usage "$1 needs a value"
		case $1 in
		-N) n=$2 ;;
		--campaign) campaign=$2 ;;
		--results) results=$2 ;;
		--sbatch) sbopts=$2 ;;
		esac
		shift 2 ;;
	-N?*) n=${1#-N}; shift ;;
	--campaign=*) campaign=${1#*=}; shift ;;
	--results=*) results=${1#*=}; shift ;;
	--sbatch=*) sbopts=${1#*=}; shift ;;
	-h | --help) echo "$usage_line"; exit 0 ;;
	--) shift; break ;;
	*) usage "unknown option \"$1\" (stress flags go after --)" ;;
	esac
done
[ -n "$n" ] || usage "-N SHARDS is required"
case $n in *[!0-9]* | 0*) usage "bad -N \"$n\": want a whole number from 1" ;; esac
[ -n "$campaign" ] || usage "--campaign FILE is required"
if ! [ -f "$campaign" ] || ! [ -r "$campaign" ]; then
	usage "cannot read campaign \"$campaign\""
fi
[ -n "$results" ] || usage "--results needs a folder"

# The stress flags are the shards' own; the ones this script sets may not be in them.
seed_given=
for a in "$@"; do
	case $a in
	--shard | --shard=* | --results | --results=* | --campaign | --campaign=* | --replay | --replay=*)
		usage "\"${a%%=*}\" is set by submit.sh for each shard; leave it out of the stress flags" ;;
	--seed | --seed=*) seed_given=1 ;;
	esac
done

root=$(cd "$(dirname "$0")/../.." && pwd)
abspath() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
campaign=$(cd "$(dirname "$campaign")" && pwd)/$(basename "$campaign")
STRESS=$(abspath "${STRESS:-$root/build/stress}")
export STRESS
[ -x "$STRESS" ] || fail "no stress binary at $STRESS: run make (or set STRESS)"
command -v sbatch >/dev/null 2>&1 || fail "sbatch not found: this is not a Slurm submit host"

if [ -z "$seed_given" ]; then
	seed=$(date +%s%6N)
	case $seed in *N*) seed=$(date +%s)000000 ;; esac
	set -- --seed "$seed" "$@"
else
	seed="given in the stress flags"
fi

name=$(basename "$campaign")
name=${name%.ini}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$results" || fail "cannot create $results"
results=$(cd "$results" && pwd)
rundir=$results/$name-$stamp-${n}shards
k=2
while ! mkdir "$rundir" 2>/dev/null; do
	[ "$k" -le 100 ] || fail "cannot create $rundir"
	rundir=$results/$name-$stamp-${n}shards-$k
	k=$((k + 1))
done
mkdir "$rundir/logs"

# sbatch --parsable prints "JOBID" or "JOBID;CLUSTER" on stdout; its warnings and
# errors go to stderr, kept in logs/sbatch.err.
err=$rundir/logs/sbatch.err
jobid() {
	id=${1%%;*}
	case $id in '' | *[!0-9]*) return 1 ;; esac
	echo "$id"
}
set -f  # --sbatch OPTS are split into words, never globbed
# shellcheck disable=SC2086
if ! out=$(sbatch --parsable --array="0-$((n - 1))" --job-name="stress-$name" \
	--chdir="$root" --output="$rundir/logs/task-%a.out" $sbopts \
	"$root/stress/slurm/stress-array.sbatch" "$n" "$rundir" "$campaign" "$@" 2>>"$err") ||
	! array=$(jobid "$out"); then
	why=$(tr '\n' ' ' <"$err")
	rm -rf "$rundir"  # nothing was submitted
	fail "sbatch refused the shards: $why$out"
fi
set +f
if ! out=$(sbatch --parsable --dependency="afterany:$array" --job-name="stress-$name-merge" \
	--chdir="$root" --output="$rundir/logs/merge.out" \
	"$root/stress/slurm/stress-merge.sbatch" "$n" "$rundir" 2>>"$err") ||
	! merge=$(jobid "$out"); then
	scancel "$array" 2>/dev/null || true
	fail "sbatch refused the merge job ($(tr '\n' ' ' <"$err")$out); shard job $array cancelled"
fi
[ -s "$err" ] || rm -f "$err"

{
	echo "$me: $campaign as $n shards, seed base $seed"
	echo "$me: shards: job $array (array 0-$((n - 1)): task I runs shard I+1/$n), logs in $rundir/logs"
	echo "$me: merge: job $merge, after every shard has ended (afterany)"
	echo "$me: stress flags: $*"
} | tee "$rundir/jobs.txt"
echo "results: $rundir/merged"
