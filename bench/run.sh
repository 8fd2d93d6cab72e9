#!/bin/sh
# `make bench`: run every benchmark script in bench/ (bench/*.sh but this one)
# and print their tables, one after another.  Each script can also be run alone.
set -u
cd "$(dirname "$0")/.."
status=0
for s in bench/*.sh; do
	[ "$s" = bench/run.sh ] && continue
	echo "== $s"
	sh "$s" || status=1
	echo
done
exit $status
