#!/bin/sh
# tools/deps.sh check|install PACKAGE...
#   check:   exit 0 when every Debian package is installed, 1 otherwise (names the missing ones)
#   install: apt-get install the missing ones when root; otherwise print the command and fail
set -u
mode=$1; shift
missing=""
for p in "$@"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
case "$mode" in
check)
	echo "deps: missing Debian packages:$missing" >&2
	exit 1 ;;
install)
	if [ "$(id -u)" -eq 0 ]; then
		echo "deps: installing$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
		exit $?
	fi
	echo "deps: run as root:  apt-get update && apt-get install -y$missing" >&2
	exit 1 ;;
*)
	echo "usage: tools/deps.sh check|install PACKAGE..." >&2
	exit 64 ;;
esac
