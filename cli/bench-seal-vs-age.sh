#!/usr/bin/env bash
# Whole process, paired runs: `crowdbackup seal` against `age -r` on the same file (issue 11's goal: no
# slower than age, peak memory at most 128 MiB). Prints, for each command, the median wall time, CPU time
# (user + sys) and peak RSS over RUNS runs, and the median of the per-pair ratios crowdbackup / age; then
# the start-up: time to the first sealed byte on disk and the time until sealing runs at steady speed.
#
#   cli/bench-seal-vs-age.sh [WORKDIR [SIZE_MIB [RUNS]]]     (defaults: a new temp folder, 1024, 5)
#
# Needs: the built jar (mvn -pl cli -am package -Dquick -DskipTests), age and age-keygen (Debian: apt-get
# install age), GNU time (/usr/bin/time, Debian package `time`), python3, and 2 x SIZE free in WORKDIR.
# The input is named clip.mp4 so that compression (auto) skips LZ4, as it would for a real video. Pairs run
# in alternating order (age first, then crowdbackup first) so that drift on a shared machine hits both; on a
# shared machine say so beside the numbers and prefer the ratios.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${1:-$(mktemp -d)}"
size_mib="${2:-1024}"
runs="${3:-5}"
jar="${CROWDBACKUP_JAR:-$here/target/crowdbackup.jar}"
launcher="$here/crowdbackup"
[[ -f $jar ]] || { echo "build the jar first: mvn -pl cli -am package -Dquick -DskipTests" >&2; exit 3; }
mkdir -p "$work"
cd "$work"
if [[ ! -f clip.mp4 || $(stat -c %s clip.mp4) -ne $((size_mib * 1048576)) ]]; then
  head -c $((size_mib * 1048576)) /dev/urandom > clip.mp4
fi
[[ -f age.key ]] || age-keygen -o age.key 2>/dev/null
recipient="$(grep -o 'age1[0-9a-z]*' age.key)"
[[ -f keys/destination.card ]] || CROWDBACKUP_NO_CDS=1 "$launcher" keygen --out keys \
  --locator https://home.example/inbox >/dev/null
cat clip.mp4 > /dev/null # warm the page cache: every command reads from memory
# The CDS archive is written by the first launcher run after a build: make that happen outside the timings.
rm -rf out && mkdir out && "$launcher" seal --to keys/destination.card --out out clip.mp4 >/dev/null

export WORK="$work" RUNS="$runs" RECIPIENT="$recipient" LAUNCHER="$launcher" JAR="$jar"
python3 - <<'PY'
import os, statistics, subprocess, shutil, time, glob

work, runs = os.environ["WORK"], int(os.environ["RUNS"])
age = f"age -r {os.environ['RECIPIENT']} -o out/clip.age clip.mp4"
seal = f"{os.environ['LAUNCHER']} seal --to keys/destination.card --out out clip.mp4"
commands = {
    "age -r": age,
    "crowdbackup seal (launcher: 2 threads, 64 KiB chunks, SerialGC, AppCDS)": seal,
    "crowdbackup seal, no class-data sharing archive": "CROWDBACKUP_NO_CDS=1 " + seal,
    "crowdbackup seal --threads 1": seal + " --threads 1",
}

def once(cmd):
    shutil.rmtree("out", ignore_errors=True); os.mkdir("out")
    r = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "bash", "-c", cmd],
                       capture_output=True, text=True, cwd=work)
    if r.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{r.stderr}")
    wall, user, sys_, rss_kb = r.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(sys_), int(rss_kb) / 1024

results = {name: [] for name in commands}
names = list(commands)
for i in range(runs):
    order = names if i % 2 == 0 else names[::-1]
    for name in order:
        results[name].append(once(commands[name]))

print(f"| command ({runs} paired runs) | median wall s | median CPU s | median peak RSS MiB | wall / age (median of pairs) |")
print("|---|---:|---:|---:|---:|")
for name in names:
    rs = results[name]
    ratios = [r[0] / a[0] for r, a in zip(rs, results["age -r"])]
    print(f"| {name} | {statistics.median(r[0] for r in rs):.2f} | {statistics.median(r[1] for r in rs):.2f} | "
          f"{statistics.median(r[2] for r in rs):.0f} | {statistics.median(ratios):.2f} |")

def startup(cmd, label):
    """Time to the first sealed byte on disk, and until the output grows at 90 % of its final rate."""
    shutil.rmtree("out", ignore_errors=True); os.mkdir("out")
    t0 = time.monotonic()
    p = subprocess.Popen(["bash", "-c", cmd], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = []
    first = None
    while p.poll() is None:
        size = sum(os.path.getsize(f) for f in glob.glob(os.path.join(work, "out", "*")) + glob.glob(os.path.join(work, "out", ".*")))
        now = time.monotonic() - t0
        if size > 0 and first is None:
            first = now
        samples.append((now, size))
        time.sleep(0.01)
    total = time.monotonic() - t0
    # steady: the first 250 ms window whose rate reaches 90 % of the rate over the last half of the run
    half = [s for s in samples if s[0] >= total / 2]
    final_rate = (half[-1][1] - half[0][1]) / max(1e-9, half[-1][0] - half[0][0]) if len(half) > 1 else 0
    steady = None
    for i, (t, s) in enumerate(samples):
        j = next((k for k in range(i, len(samples)) if samples[k][0] >= t + 0.25), None)
        if j is None:
            break
        if (samples[j][1] - s) / (samples[j][0] - t) >= 0.9 * final_rate:
            steady = t
            break
    return first, steady, total

print()
print("| start-up (median of 3) | first sealed byte s | steady speed from s | total s |")
print("|---|---:|---:|---:|")
for name in names:
    rows = [startup(commands[name], name) for _ in range(3)]
    med = lambda k: statistics.median(r[k] for r in rows if r[k] is not None) if any(r[k] is not None for r in rows) else float("nan")
    print(f"| {name} | {med(0):.2f} | {med(1):.2f} | {med(2):.2f} |")
PY
