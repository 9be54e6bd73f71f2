#!/bin/sh
# help.sh -- `make help`: each target with its ## note, then the Makefile's
# configuration comment.
#
#   scripts/help.sh MAKEFILE
set -eu
grep -E '^[a-z][a-z0-9-]*:.*## ' "$1" | sed 's/:.*## /|/' \
	| awk -F'|' '{ printf "  make %-12s %s\n", $1, $2 }'
echo
sed -n '/^# Configuration/,/^$/p' "$1" | sed 's/^# \{0,1\}//'
