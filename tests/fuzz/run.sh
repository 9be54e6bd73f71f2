#!/bin/sh
# run.sh -- the libFuzzer targets (ASan + UBSan), one after the other.
#
#   tests/fuzz/run.sh explore SECONDS DIR TARGET...   `make fuzz`: each target for
#       SECONDS, new inputs kept in DIR/corpus/TARGET beside the committed seeds
#   tests/fuzz/run.sh smoke RUNS DIR TARGET...        `make fuzz-smoke`: RUNS inputs
#       per target, starting from the committed seeds (tests/fuzz/corpus)
# DIR holds the fuzz_TARGET binaries; logs and crash artifacts go there too.
set -u
mode=$1 n=$2 dir=$3
shift 3
args="-dict=tests/fuzz/json.dict -seed=1 -print_final_stats=1 -artifact_prefix=$dir/"
for t in "$@"; do
	case $mode in
	explore)
		mkdir -p "$dir/corpus/$t"
		echo "== fuzz_$t for $n s"
		# shellcheck disable=SC2086
		"$dir/fuzz_$t" $args -max_total_time="$n" "$dir/corpus/$t" "tests/fuzz/corpus/$t" \
			> "$dir/$t.log" 2>&1
		rc=$?
		grep -E '^(stat::|Done)|ERROR|SUMMARY' "$dir/$t.log"
		[ $rc -eq 0 ] || { echo "fuzz_$t: finding, see $dir/$t.log"; exit 1; } ;;
	smoke)
		rm -rf "$dir/smoke/$t"
		mkdir -p "$dir/smoke/$t"
		# shellcheck disable=SC2086
		"$dir/fuzz_$t" $args -runs="$n" "$dir/smoke/$t" "tests/fuzz/corpus/$t" \
			> "$dir/smoke/$t.log" 2>&1 \
			|| { tail -40 "$dir/smoke/$t.log"; exit 1; }
		echo "fuzz_$t: $n inputs, no finding" ;;
	*) echo "run.sh: explore or smoke, not $mode" >&2; exit 2 ;;
	esac
done
