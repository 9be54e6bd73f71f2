#!/bin/sh
# run.sh -- `make ct-check`: memcheck finds no branch or index on a secret in
# the release-like build, and does catch the planted early-exit compare
# (the check's own test: without it, a blind check would pass).
#
#   tests/ct/run.sh DIR     (holds ct_check and ct_check_early_exit)
set -u
dir=$1
valgrind -q --error-exitcode=99 "$dir/ct_check" || exit 1
valgrind -q --error-exitcode=99 "$dir/ct_check_early_exit" > "$dir/early_exit.log" 2>&1
rc=$?
if [ $rc -eq 99 ] && grep -q 'depends on uninitialised' "$dir/early_exit.log"; then
	echo "ct-check: the early-exit comparison is caught, as it must be"
else
	echo "ct-check: the early-exit comparison went unnoticed (exit $rc)"
	exit 1
fi
