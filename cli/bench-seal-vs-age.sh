#!/usr/bin/env bash
# Whole-process timing of `crowdbackup seal` against `age -r` on the same file, sealed to an X25519
# recipient: median wall time of N runs (hyperfine), with mean user and system CPU time.
#
#   cli/bench-seal-vs-age.sh [WORKDIR [SIZE_MIB [RUNS]]]     (defaults: /tmp/cb-bench 1024 5)
#
# Needs: the built jar (mvn -pl cli -am package), age and age-keygen, hyperfine (Debian: apt-get install
# age hyperfine), python3, and 2 x SIZE of free disk in WORKDIR. The input is named clip.mp4 so that
# `--compress auto` skips LZ4, as it would for a real video; one row shows --compress on for comparison.
# Run it under `nice` on a shared machine and say so next to the numbers.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${1:-/tmp/cb-bench}"
size_mib="${2:-1024}"
runs="${3:-5}"
jar="${CROWDBACKUP_JAR:-$here/target/crowdbackup.jar}"
launcher="$here/crowdbackup"
mkdir -p "$work"
cd "$work"
if [[ ! -f clip.mp4 || $(stat -c %s clip.mp4) -ne $((size_mib * 1048576)) ]]; then
  head -c $((size_mib * 1048576)) /dev/urandom > clip.mp4
fi
[[ -f age.key ]] || age-keygen -o age.key 2>/dev/null
recipient="$(grep -o 'age1[0-9a-z]*' age.key)"
[[ -f keys/destination.card ]] || java -jar "$jar" keygen --out keys --locator https://home.example/inbox >/dev/null
cat clip.mp4 > /dev/null # warm the page cache: every command reads from memory

seal="$launcher seal --to keys/destination.card --out out clip.mp4"
# Not in the list, measured once and far slower (see docs/cli.md): --chunk-size 1MiB (the AES-GCM and GHASH
# intrinsics need ~600 calls before C2 compiles them: 600 MiB at 1 MiB chunks) and -XX:TieredStopAtLevel=1
# (C1 has no AES-GCM intrinsic at all: over 120 s for 1 GiB).
hyperfine --runs "$runs" --warmup 1 --export-json results.json --prepare 'rm -rf out; mkdir out' \
  -n 'age -r' "age -r $recipient -o out/clip.age clip.mp4" \
  -n 'age -r, then sync (fsync) the output' "age -r $recipient -o out/clip.age clip.mp4 && sync out/clip.age" \
  -n 'crowdbackup seal (launcher defaults: 2 threads, 64 KiB chunks, SerialGC)' "$seal" \
  -n 'seal --threads 1' "$seal --threads 1" \
  -n 'seal --chunk-size 16KiB' "$seal --chunk-size 16KiB" \
  -n 'seal --chunk-size 256KiB' "$seal --chunk-size 256KiB" \
  -n 'seal, JVM -XX:CompileThresholdScaling=0.1' "CROWDBACKUP_JAVA_OPTS=-XX:CompileThresholdScaling=0.1 $seal" \
  -n 'seal, JVM -XX:+UseParallelGC' "CROWDBACKUP_JAVA_OPTS='-XX:-UseSerialGC -XX:+UseParallelGC' $seal" \
  -n 'seal via plain java -jar (G1, no launcher)' "java -jar $jar seal --to keys/destination.card --out out clip.mp4" \
  -n 'seal --compress on (LZ4 tried on every chunk)' "$seal --compress on"
python3 - <<'PY'
import json, statistics
r = json.load(open("results.json"))["results"]
print("| command | median wall s | min–max s | mean user s | mean sys s |")
print("|---|---:|---:|---:|---:|")
for x in r:
    t = x["times"]
    print(f"| {x['command']} | {statistics.median(t):.2f} | {min(t):.2f}–{max(t):.2f} | {x['user']:.2f} | {x['system']:.2f} |")
PY
