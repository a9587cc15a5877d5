#!/usr/bin/env bash
# Runs the JMH benchmarks and writes JMH's JSON to bench/results/jmh-<UTC time>.json, with a .txt beside it
# that records the machine, the JVM, the load and the commit.
#
#   bench/run.sh                         every benchmark (about 20 minutes on 2 cores)
#   bench/run.sh --quick                 seal and open of 1 MiB, crowdbackup against limit and tink, shorter
#                                        measurement (about 3 minutes; a smoke run)
#   bench/run.sh --quick SealBenchmark   any selection, shorter measurement
#   bench/run.sh SealBenchmark -p impl=crowdbackup,limit -p plaintextBytes=1048576
#                                        anything after the options goes to JMH unchanged
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java bench/run.sh OpenBenchmark
#   JAVA_OPTS=-Djmh.ignoreLock=true bench/run.sh ...   options for the JMH host JVM (JMH's forks take -jvmArgs)
#
# The jar (bench/target/benchmarks.jar) is built when missing or older than any source or pom.
set -euo pipefail
cd "$(dirname "$0")/.."

JAR=bench/target/benchmarks.jar
JAVA=${JAVA:-java}
quick=0
if [[ "${1:-}" == "--quick" ]]; then
  quick=1
  shift
fi

stale() {
  [[ ! -f "$JAR" ]] && return 0
  [[ -n "$(find pom.xml api engine engine-jvm server s3 bench -newer "$JAR" \( -name '*.java' -o -name pom.xml \) -not -path '*/target/*' 2>/dev/null | head -1)" ]]
}
if stale; then
  echo "Building $JAR ..." >&2
  mvn -q -Dquick -DskipTests -pl bench -am package
fi

mkdir -p bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
json=bench/results/jmh-$stamp.json

jmh_args=()
if (( quick )); then
  # Warm-up stays long enough for C2 to compile the JDK's AES-GCM intrinsic (see SealBenchmark); only the
  # measurement is cut.
  jmh_args+=(-wi 5 -w 2 -i 2 -r 1)
  if (( $# == 0 )); then
    set -- 'io.crowdbackup.bench.(Seal|Open)Benchmark' -p impl=crowdbackup,limit,tink -p plaintextBytes=1048576
  fi
fi

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') ($(nproc) cores online)"
  echo "cpu flags (crypto): $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'aes|pclmulqdq|sha_ni|avx2|avx512f|vaes|vpclmulqdq' | tr '\n' ' ')"
  echo "memory: $(grep MemTotal /proc/meminfo | awk '{print $2 / 1024 / 1024 " GiB"}')"
  echo "jvm: $("$JAVA" -version 2>&1 | tr '\n' ' ')"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (uncommitted changes)')"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "command: JAVA_OPTS='${JAVA_OPTS:-}' bench/run.sh $([[ $quick == 1 ]] && echo --quick) $*"
} > "${json%.json}.txt"

"$JAVA" ${JAVA_OPTS:-} -jar "$JAR" "${jmh_args[@]}" -rf json -rff "$json" "$@"

if [[ -f "$json" ]]; then
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "${json%.json}.txt"
  echo "Results: $json (tables: python3 bench/summarize.py $json)" >&2
else
  rm -f "${json%.json}.txt" # nothing was measured (-l, -h, or a failure before the first result)
fi
