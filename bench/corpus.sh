#!/bin/sh
# Issue 13's corpus (tests/progs/corpus/): for each bug class, how often the bug
# shows in plain runs and under each injection plan, and how soon, measured
# through build/stress as a user runs it; bench/corpus_report.py prints the
# tables (bench/README.md keeps the last full run).
#
#   bench/corpus.sh [OUTDIR]          (default results/bench/<UTC stamp>/corpus,
#                                      or $BENCH_OUT/corpus under bench/run.sh)
#   BENCH_QUICK=1 bench/corpus.sh     smoke run: 100 runs or 8 s a cell, the portfolio 1,000 or 30 s
#   CORPUS_ONLY="counter lazy_init"   only these programs
#   CORPUS_BUILDS=tsan                only these builds (default "plain tsan")
#   CORPUS_PLANS="portfolio access"  only these plans (default: all of them)
#   CORPUS_PLANS_EXTRA='name<TAB>inject flags' lines: more plans, after ours
#
# Each program runs plain (build/tests/corpus/NAME) and, when it was built
# (libinject.so exports the __tsan_* entry points), instrumented
# (NAME-tsan); each build under every plan of PLANS below.  "none" runs the
# program with no launcher, RUNS times, all of them (the plain failure count
# is the claim).  Every injection plan runs RUNS times, until MAXF failures
# (--max-failures) or for CAP (--time; the table shows the runs made),
# whichever comes first, with a per-run timeout of 2 s (a
# hang is the failure of the deadlock and lost-wakeup classes).  The default
# portfolio is the plan issue 13 judges: every class exposed within 10,000
# runs; its cell runs up to P_RUNS = 10,000 runs, stopping at P_MAXF = 3 hits
# or after P_CAP = 300 s (these programs make 18 to 30 runs/s here, so the
# cap stops a cell only after 5,000 or more runs without a hit; the table
# shows the runs made, and nothing is claimed past them).  A hit is a
# failure whose signature is the program's own (tests/progs/corpus/classes.tsv);
# anything else is counted apart.
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
B=build
CLASSES=tests/progs/corpus/classes.tsv
[ -x $B/stress ] && [ -x $B/inject ] && [ -f $B/libinject.so ] || {
	echo "corpus.sh: run make first" >&2
	exit 125
}

if [ $# -gt 0 ]; then OUT=$1
elif [ -n "${BENCH_OUT:-}" ]; then OUT=$BENCH_OUT/corpus
else OUT=results/bench/$(date -u +%Y%m%dT%H%M%SZ)/corpus; fi
mkdir -p "$OUT/runs"

if [ "${BENCH_QUICK:-0}" = 1 ]; then MODE=quick RUNS=100 MAXF=2 CAP=8s P_RUNS=1000 P_MAXF=2 P_CAP=30s
else MODE=full RUNS=1000 MAXF=5 CAP=60s P_RUNS=10000 P_MAXF=3 P_CAP=300s; fi
P=$(nproc)
TAB=$(printf '\t')

# The plans of today's shim (issue 13): the documented blind plan, the same
# with every point or with thread starts only, and a short delay at every
# lock release; and the default blind portfolio (--plan portfolio: each run's
# family drawn from its seed; access-noise among them for the -tsan builds).
BLIND="--prob 0.2 --delay loguniform:20us:4ms"
PLANS="none$TAB
blind$TAB$BLIND
all$TAB$BLIND --points all
thread_start$TAB$BLIND --points thread_start
short$TAB--prob 1 --delay fixed:20us
portfolio$TAB--plan portfolio"
[ -n "${CORPUS_PLANS_EXTRA:-}" ] && PLANS="$PLANS
$CORPUS_PLANS_EXTRA"
# The instrumented builds have one more: every access and atomic a point
# (--sample 1: each one a visit), at a lower probability since they are many.
ACCESS="--prob 0.05 --delay loguniform:20us:4ms --points all,access,atomic --sample 1"
# And the portfolio's own access-level family alone (injector/plan.c).
TSAN_PLANS="$PLANS
access$TAB$ACCESS
access-noise$TAB--plan access-noise"
# only PLANS-LIST: the lines of PLANS whose name is in $CORPUS_PLANS.
only() {
	[ -z "${CORPUS_PLANS:-}" ] && { echo "$1"; return; }
	echo "$1" | while IFS="$TAB" read -r plan inj; do
		case " $CORPUS_PLANS " in *" $plan "*) printf '%s\t%s\n' "$plan" "$inj" ;; esac
	done
}
PLANS=$(only "$PLANS")
TSAN_PLANS=$(only "$TSAN_PLANS")

# Measure a private copy: build/ may be rebuilt while this runs.  The layout
# keeps the -tsan binaries' rpath ($ORIGIN/../..) pointing at the copied shim.
rm -rf "$OUT/bin" && mkdir -p "$OUT/bin/tests/corpus"
cp $B/stress $B/inject $B/libinject.so "$OUT/bin/"
cp $B/tests/corpus/* "$OUT/bin/tests/corpus/"
B=$OUT/bin

IDX=$OUT/index.tsv
: >"$IDX"
t0=$(date +%s)
printf 'portfolio\t%s runs, stopping at %s hits or after %s\n' $P_RUNS $P_MAXF $P_CAP >"$OUT/meta.tsv"
printf 'mode\t%s\nstarted\t%s\nmachine\t%s\ncpus\t%s\nload_start\t%s\n' "$MODE" \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	"$(uname -sr) $(uname -m), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
	"$P" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/meta.tsv"
echo "corpus.sh: $MODE run ($RUNS runs a cell), results under $OUT" >&2

# job CLASS PROGRAM BUILD SIGNATURE PLAN INJECT: one stress job, one index line.
job() {
	cls=$1 prog=$2 build=$3 sig=$4 plan=$5 inj=$6
	bin=$B/tests/corpus/$prog
	[ "$build" = tsan ] && bin=$bin-tsan
	seed=$(( ($(wc -l <"$IDX") + 1) * 1000000 ))
	load=$(cut -d' ' -f1 /proc/loadavg)
	log=$OUT/runs/last.log
	n=$RUNS
	[ "$plan" = portfolio ] && n=$P_RUNS
	set -- --results "$OUT/runs" --name "$prog-$build-$plan" --status 0 --keep 1 -p "$P" \
		--seed $seed --count "$n" --timeout 2s --grace 1s --signature "$sig"
	if [ "$plan" = portfolio ]; then
		$B/stress "$@" --max-failures "$P_MAXF" --time "$P_CAP" \
			--inject "$inj" -- "$bin" >"$log" 2>&1 || true
	elif [ -n "$inj" ]; then
		$B/stress "$@" --max-failures "$MAXF" --time "$CAP" --inject "$inj" -- "$bin" \
			>"$log" 2>&1 || true
	else
		$B/stress "$@" -- "$bin" >"$log" 2>&1 || true
	fi
	res=$(tail -1 "$log" | sed -n 's/^results: //p')
	if [ -z "$res" ] || [ ! -f "$res/summary.json" ]; then
		echo "corpus.sh: stress failed for $prog ($build) under $plan:" >&2
		tail -5 "$log" >&2
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cls" "$prog" "$build" "$plan" "$inj" ERROR "$load" >>"$IDX"
		return 0
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cls" "$prog" "$build" "$plan" "$inj" \
		"$res/summary.json" "$load" >>"$IDX"
}

grep -v "^#" "$CLASSES" | while IFS="$TAB" read -r cls prog sig plain what; do
	if [ -n "${CORPUS_ONLY:-}" ]; then
		case " $CORPUS_ONLY " in *" $prog "*) ;; *) continue ;; esac
	fi
	for build in ${CORPUS_BUILDS:-plain tsan}; do
		if [ $build = tsan ] && [ ! -x "$B/tests/corpus/$prog-tsan" ]; then
			printf '%s\t%s\ttsan\t-\t-\t-\t-\n' "$cls" "$prog" >>"$IDX"
			continue
		fi
		plans=$PLANS
		[ $build = tsan ] && plans=$TSAN_PLANS
		echo "$plans" | while IFS="$TAB" read -r plan inj; do
			job "$cls" "$prog" $build "$sig" "$plan" "$inj"
		done
	done
done
printf 'load_end\t%s\nseconds\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" $(($(date +%s) - t0)) >>"$OUT/meta.tsv"
rm -f "$OUT/runs/last.log"
$PY bench/corpus_report.py "$OUT"
