#!/usr/bin/env bash
# Runs a real fuzzing campaign (JAZZER_FUZZ=1) on one target, niced, on the same small heap as `mvn test`.
#
#   fuzz/run.sh EnvelopeOpenFuzzTest#openMutated 10m        # duration: 30s, 10m, 1h ...
#   fuzz/run.sh KeyFileFuzzTest#roundTrip 5m --strict       # also enforce the checks masked in Known.java
#
# Jazzer writes a crashing input into the target's inputs directory (src/test/resources/io/crowdbackup/
# fuzz/<Class>Inputs/<method>/crash-<sha1>); this script moves every new crash file to
# fuzz/findings/<Class>/<method>/ instead, which `mvn test` does not replay, so an unfixed finding does not
# break CI. Inputs that reached new coverage accumulate in fuzz/.cifuzz-corpus/ (not committed).
# The full log, with libFuzzer's execution count ("Done N runs in S second(s)"), goes to
# fuzz/target/fuzz-logs/. Environment: FUZZ_UNMASK (e.g. "F2": enforce only these masked checks),
# MVN_FLAGS (default "-o -q"), RSS_LIMIT_MB (default 2048),
# TIMEOUT_S (per input, default 10), NICE (default 15).
set -euo pipefail

if [[ $# -lt 2 || "$1" != *#* ]]; then
  echo "usage: $0 <TestClass>#<method> <duration, e.g. 10m> [--strict]" >&2
  exit 2
fi
target="$1"
duration="$2"
strict=false
if [[ "${3:-}" == "--strict" ]]; then
  strict=true
fi
class="${target%%#*}"
method="${target##*#}"

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
inputs="$here/src/test/resources/io/crowdbackup/fuzz/${class}Inputs/${method}"
findings="$here/findings/${class}/${method}"
logs="$here/target/fuzz-logs"
mkdir -p "$logs" "$inputs"
log="$logs/${class}-${method}-$(date -u +%Y%m%dT%H%M%SZ).log"

before="$(mktemp)"
ls "$inputs" | sort > "$before"

echo "fuzzing $target for $duration (log: $log)"
set +e
(
  cd "$root"
  JAZZER_FUZZ=1 JAZZER_MAX_DURATION="$duration" nice -n "${NICE:-15}" mvn ${MVN_FLAGS:--o -q} -Dquick -pl fuzz -am test \
    -Dtest="$target" -Dsurefire.failIfNoSpecifiedTests=false \
    -Djazzer.max_duration="$duration" \
    -Dfuzz.strict="$strict" \
    -Dfuzz.unmask="${FUZZ_UNMASK:-}" \
    -Dfuzz.junit.timeout.mode=disabled \
    -Djazzer.internal.arg.0=fake_argv0 \
    -Djazzer.internal.arg.1=-rss_limit_mb="${RSS_LIMIT_MB:-2048}" \
    -Djazzer.internal.arg.2=-timeout="${TIMEOUT_S:-10}" \
    -Djazzer.internal.arg.3=-print_final_stats=1
) > "$log" 2>&1
status=$?
set -e

moved=0
while IFS= read -r f; do
  mkdir -p "$findings"
  mv "$inputs/$f" "$findings/$f"
  echo "finding: fuzz/findings/${class}/${method}/$f"
  moved=$((moved + 1))
done < <(ls "$inputs" | sort | comm -13 "$before" - | grep -E '^(crash|timeout|oom|leak|slow-unit)-' || true)
rm -f "$before"

grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' "$log" || true
echo "exit status $status, findings moved: $moved"
exit "$status"
