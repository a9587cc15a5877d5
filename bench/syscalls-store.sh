#!/usr/bin/env bash
# Syscalls per durable put (and per delete) of the custody store and of the naive verified store, from
# strace -f (io.crowdbackup.bench.store.StorePutSyscalls): evidence that does not depend on the machine's load.
# Usage: CROWDBACKUP_BENCH_DIR=DIR bench/syscalls-store.sh [crowdbackup|file-per-blob-verified] [bytes] [puts]
# Build first: mvn -o -Dquick -pl bench -am package -DskipTests   (never `mvn install`)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CROWDBACKUP_BENCH_DIR:?set CROWDBACKUP_BENCH_DIR to a directory on the disk to measure}"
export CROWDBACKUP_BENCH_DIR
impl=${1:-crowdbackup}
bytes=${2:-65536}
puts=${3:-40}
trace=$(mktemp)
trap 'rm -f "$trace"' EXIT
strace -f -qq -e trace=file,desc,fsync,fdatasync,read,write,pwrite64,writev -o "$trace" \
  java -cp bench/target/benchmarks.jar io.crowdbackup.bench.store.StorePutSyscalls "$impl" 200 "$puts" "$bytes"
# Calls of the putting thread between its markers, each once (an interrupted call at its start); a put from
# 4 MiB also writes on a writer thread, which this does not count.
awk -v puts="$puts" '
  /CROWDBACKUP-MARK-put-start/ { phase[$1] = "put"; next }
  /CROWDBACKUP-MARK-put-end/ { phase[$1] = "delete"; next }
  /CROWDBACKUP-MARK-delete-end/ { phase[$1] = ""; next }
  $2 ~ /^<\.\.\./ { next }
  phase[$1] != "" { split($2, a, "("); n[phase[$1] " " a[1]]++ }
  END { for (k in n) printf "%s %.2f\n", k, n[k] / puts }' "$trace" | sort
