#!/bin/sh
# run.sh -- `make test-unit`: run each cmocka suite; stop at the first failure.
#
#   tests/unit/run.sh BINARY...
set -eu
for t in "$@"; do
	echo "== $t"
	"$t"
done
