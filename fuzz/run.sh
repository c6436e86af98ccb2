#!/usr/bin/env bash
# fuzz/run.sh TARGET SECONDS
#
# Runs one cargo-fuzz target (nightly) for SECONDS and appends a line to
# fuzz/LOG.md: executions, executions per second, corpus size and result.
# The working corpus (fuzz/corpus/TARGET, not committed) is seeded from
# fuzz/regressions/TARGET and, for the module targets, from the fixtures
# and the malformed-module corpus. A crashing input is copied to
# fuzz/regressions/TARGET/, where `cargo test` replays it once fixed.
#
#   fuzz/run.sh all SECONDS     runs every target in turn
set -uo pipefail
cd "$(dirname "$0")"
self=$PWD/$(basename "$0")

targets=(kmod_bytes kmod_mutate plist json stat_v1 stat_v2 getopt)
if [ $# -ne 2 ]; then
	echo "usage: $0 TARGET|all SECONDS   (targets: ${targets[*]})" >&2
	exit 2
fi
if [ "$1" = all ]; then
	rc=0
	for t in "${targets[@]}"; do "$self" "$t" "$2" || rc=1; done
	exit $rc
fi
target=$1 secs=$2
case " ${targets[*]} " in *" $target "*) ;; *) echo "unknown target $target" >&2; exit 2 ;; esac

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
corpus=corpus/$target
artifacts=artifacts/$target
mkdir -p "$corpus" "$artifacts"
cp -n regressions/"$target"/* "$corpus"/ 2>/dev/null
if [ "$target" = kmod_bytes ]; then
	for f in ../modobj/tests/fixtures/*/*.kmod ../modobj/tests/fixtures/modules/*/*.kmod \
		../tests/malformed/*.kmod; do
		cp -n "$f" "$corpus/$(basename "$(dirname "$f")")-$(basename "$f")"
	done
fi

cargo +nightly fuzz build -O "$target" >/dev/null 2>&1 || cargo +nightly fuzz build -O "$target" || exit 1
out=$(mktemp)
cargo +nightly fuzz run -O "$target" "$corpus" -- \
	-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$artifacts/" -print_final_stats=1 >"$out" 2>&1
status=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
if [ -z "$execs" ]; then
	# Stopped by a crash before the final statistics: the last status line.
	execs=$(grep -oE '^#[0-9]+' "$out" | tail -1 | tr -d '#')
fi
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out" | tail -1)
size=$(find "$corpus" -type f | wc -l)
crashes=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$out")
result=ok
if [ $status -ne 0 ] || [ -n "$crashes" ]; then
	result="CRASH (exit $status)"
	for c in $crashes; do
		cp "$c" regressions/"$target"/
		result="$result $(basename "$c")"
	done
	grep -E "panicked|ERROR|SUMMARY" "$out" | head -5 >&2
fi

[ -f LOG.md ] || printf '# Fuzzing log\n\nAppended by `fuzz/run.sh TARGET SECONDS`. Crashing inputs are copied to\n`fuzz/regressions/TARGET/` and replayed by `cargo test` (tests/tests/fuzz_regressions.rs).\n\n| date (UTC) | target | seconds | executions | exec/s | corpus | result |\n|---|---|---|---|---|---|---|\n' >LOG.md
line="| $(date -u +%Y-%m-%dT%H:%MZ) | $target | $secs | ${execs:-?} | ${rate:-?} | $size | $result |"
echo "$line" >>LOG.md
echo "$line"
rm -f "$out"
[ "$result" = ok ]
