#!/usr/bin/env bash
# The custody-store benchmarks of issue 3 (io.crowdbackup.bench.store), results as JMH JSON in bench/results/.
# Usage: CROWDBACKUP_BENCH_DIR=/dir/on/the/disk/to/measure bench/run-store.sh [put|many|index|index-open|open] [open-blobs]
# Build first: mvn -o -Dquick -pl bench -am package -DskipTests   (never `mvn install`)
# Extra JMH arguments in JMH_ARGS (e.g. "-f 3"), extra JVM flags of the JMH runner in JAVA_OPTS (e.g.
# "-Djmh.ignoreLock=true" when another helper's JMH run holds /tmp/jmh.lock on a shared machine).
# The directory must not be a tmpfs (fsync would be free); the open fixture stays there for re-runs
# (store-open-N/, delete it by hand).
set -euo pipefail
# shellcheck disable=SC2086  # JAVA_OPTS, JMH_ARGS and CHRONICLE_FLAGS are word lists on purpose
cd "$(dirname "$0")/.."
: "${CROWDBACKUP_BENCH_DIR:?set CROWDBACKUP_BENCH_DIR to a directory on the disk to measure}"
export CROWDBACKUP_BENCH_DIR
if [ "$(df --output=fstype "$CROWDBACKUP_BENCH_DIR" | tail -1)" = tmpfs ]; then
  echo "$CROWDBACKUP_BENCH_DIR is a tmpfs: fsync costs nothing there; pick a directory on a real disk" >&2
  exit 2
fi
JAR=bench/target/benchmarks.jar
CHRONICLE_FLAGS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED \
--add-exports=java.base/sun.nio.ch=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED \
--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED --add-exports=java.base/jdk.internal.util=ALL-UNNAMED \
-Dchronicle.analytics.disable=true"
what=${1:-all}
blobs=${2:-100000}
mkdir -p bench/results
if [ "$what" = all ] || [ "$what" = put ]; then
  nice -n 5 java ${JAVA_OPTS:-} -jar "$JAR" StorePutBenchmark ${JMH_ARGS:-} -rf json -rff bench/results/store-put.json
fi
if [ "$what" = all ] || [ "$what" = many ]; then
  nice -n 5 java ${JAVA_OPTS:-} -jar "$JAR" StoreManyWritersBenchmark ${JMH_ARGS:-} -rf json -rff bench/results/store-many.json
fi
if [ "$what" = all ] || [ "$what" = index ]; then
  nice -n 5 java ${JAVA_OPTS:-} -jar "$JAR" IndexBenchmark ${JMH_ARGS:-} -rf json -rff bench/results/store-index.json
fi
if [ "$what" = all ] || [ "$what" = index-open ]; then
  nice -n 5 java ${JAVA_OPTS:-} -jar "$JAR" IndexOpenBenchmark ${JMH_ARGS:-} -rf json -rff bench/results/store-index-open.json
fi
if [ "$what" = all ] || [ "$what" = open ]; then
  nice -n 5 java $CHRONICLE_FLAGS -cp "$JAR" io.crowdbackup.bench.store.StoreOpenFixture "$blobs"
  nice -n 5 java ${JAVA_OPTS:-} -jar "$JAR" StoreOpenBenchmark -p blobs="$blobs" ${JMH_ARGS:-} -rf json -rff "bench/results/store-open-$blobs.json"
fi
