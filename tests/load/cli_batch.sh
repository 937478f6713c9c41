#!/usr/bin/env bash
# `microcred issue --recipients` of a large CSV against the same binary's single-thread
# batch-sign rate, measured in the same run (release build, a real directory on disk).
#
#   bash tests/load/cli_batch.sh                 # 50,000 rows, 3 runs each
#   ROWS=10000 RUNS=1 bash tests/load/cli_batch.sh
#   SUITE=eddsa-jcs-2022 OUT_BASE=/dev/shm bash tests/load/cli_batch.sh
#   FRESH_EXT4=1 bash tests/load/cli_batch.sh    # root: each batch on a new ext4 (loop device)
#
# For each run: the single-thread rate (`--dry-run --jobs 1`: every row built, checked and
# signed on one thread, nothing written), then the real batch on every core (files written in
# chunks, one sync per chunk) into a fresh directory, with its peak memory. Target (issue
# #11): batch rate >= 0.8 x cores x single-thread rate, peak memory < 100 MB.
#
# Each run also times the file system alone (one thread creating, writing and renaming as many
# 5 KB files, no signing): on a disk where creating a file costs more kernel time than
# signing a credential, that, not signing, bounds the batch.
#
# FRESH_EXT4=1 writes each batch to a newly made ext4 file system (a 3 GB image on a loop
# device, mounted for that run): on a long-lived file system, inode allocation slows down where
# many files were deleted recently (ext4's recently_deleted scan), so figures there depend on
# the disk's history; a fresh one gives repeatable figures.
#
# Runs alternate single-thread and batch so that other work on the machine weighs on both
# alike; the load average before each run is printed (compare runs taken when it was low).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-50000}
RUNS=${RUNS:-3}
SUITE=${SUITE:-eddsa-rdfc-2022}
OUT_BASE=${OUT_BASE:-${TMPDIR:-/tmp}}
CORES=$(nproc)

cargo build --release --locked -q -p microcred-cli
bin=target/release/microcred

work=$(mktemp -d "$OUT_BASE/mc-cli-batch.XXXXXX")
trap 'mountpoint -q "$work/ext4" 2>/dev/null && umount "$work/ext4"; rm -rf "$work"' EXIT

"$bin" keygen --out "$work/key.json" >/dev/null
python3 - "$work/cohort.csv" "$ROWS" <<'EOF'
import sys
path, rows = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("recipient,result:final-assessment,credits_earned\n")
    for i in range(rows):
        # Half DIDs, half e-mail addresses (hashed with a salt each).
        who = f"did:example:learner{i}" if i % 2 == 0 else f"learner{i}@example.org"
        f.write(f"{who},{60 + i % 40},{1 + i % 3}\n")
EOF

common=(issue --key "$work/key.json" --achievement examples/achievements/df-101.json
        --issuer examples/issuer-profile.json --suite "$SUITE"
        --recipients "$work/cohort.csv")

# Runs "$@" and prints its stdout, then "peak_kib=N" (the child's peak resident memory).
peak() {
  python3 - "$@" <<'EOF'
import resource, subprocess, sys
out = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
sys.stdout.write(out.stdout.decode())
print(f"peak_kib={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
EOF
}

echo "== $ROWS rows, $SUITE, $CORES cores, output under $OUT_BASE ($(df -T "$work" | awk 'NR==2{print $2}'))"
singles=()
batches=()
for run in $(seq 1 "$RUNS"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  single=$("$bin" "${common[@]}" --out-dir "$work/none" --dry-run --jobs 1 |
    sed -n 's/.* signed \([0-9]*\) credentials\/s.*/\1/p')
  # A fresh directory each run (deleting the last one's files would weigh on this run), and
  # the file system's dirty data written out before it starts.
  out="$work/out$run"
  if [ -n "${FRESH_EXT4:-}" ]; then
    mnt="$work/ext4"
    mkdir -p "$mnt"
    mountpoint -q "$mnt" && umount "$mnt"
    rm -f "$work/ext4.img"
    truncate -s 3G "$work/ext4.img"
    mkfs.ext4 -q -F "$work/ext4.img"
    mount -o loop "$work/ext4.img" "$mnt"
    out="$mnt/out$run"
  fi
  sync
  t0=$(date +%s.%N)
  report=$(peak "$bin" "${common[@]}" --out-dir "$out")
  t1=$(date +%s.%N)
  issued=$(sed -n 's/^batch: \([0-9]*\) issued.*/\1/p' <<<"$report")
  kib=$(sed -n 's/^peak_kib=//p' <<<"$report")
  files=$(find "$out" -name '*.json' | wc -l)
  fs_dir="$work/fs$run"
  [ -n "${FRESH_EXT4:-}" ] && fs_dir="$mnt/fs$run"
  # What the file system allows: the same number of 5 KB files written by one thread with no
  # signing, the way the batch writes them (anonymous files linked after one sync per 512; a
  # temporary name and a rename where O_TMPFILE is missing).
  fs_rate=$(python3 - "$fs_dir" "$ROWS" <<'EOF'
import ctypes, os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
os.mkdir(d)
libc = ctypes.CDLL(None, use_errno=True)
def link(fd, to):  # linkat(AT_FDCWD, /proc/self/fd/N, AT_FDCWD, to, AT_SYMLINK_FOLLOW)
    if libc.linkat(-100, f"/proc/self/fd/{fd}".encode(), -100, to.encode(), 0x400) != 0:
        raise OSError(ctypes.get_errno(), to)
data = b"x" * 5000
anonymous = hasattr(os, "O_TMPFILE")
t = time.time()
for start in range(0, n, 512):
    names = range(start, min(n, start + 512))
    fds = []
    for i in names:
        if anonymous:
            fd = os.open(d, os.O_TMPFILE | os.O_WRONLY, 0o600)
        else:
            fd = os.open(f"{d}/.t{i}.tmp", os.O_CREAT | os.O_WRONLY, 0o600)
        os.write(fd, data)
        fds.append((i, fd))
    os.sync()
    for i, fd in fds:
        if anonymous:
            link(fd, f"{d}/{i:020x}.json")
        else:
            os.rename(f"{d}/.t{i}.tmp", f"{d}/{i:020x}.json")
        os.close(fd)
print(round(n / (time.time() - t)))
EOF
)
  if [ -n "${FRESH_EXT4:-}" ]; then umount "$mnt"; fi
  rate=$(python3 -c "print(round($issued / ($t1 - $t0)))")
  ratio=$(python3 -c "print(f'{$rate / ($CORES * $single):.2f}')")
  echo "run $run (load $load): single-thread $single/s; batch $issued issued ($files files) in $(python3 -c "print(f'{$t1 - $t0:.2f}')") s = $rate/s (whole command); ratio $ratio x cores x single; peak $((kib / 1024)) MiB; file system alone $fs_rate files/s"
  [ "$issued" = "$ROWS" ] && [ "$files" = "$ROWS" ] || { echo "FAIL: $issued issued, $files files, $ROWS rows"; exit 1; }
  singles+=("$single"); batches+=("$rate")
done
python3 - "$CORES" "${singles[*]}" "${batches[*]}" <<'EOF'
import statistics, sys
cores = int(sys.argv[1])
s = [float(x) for x in sys.argv[2].split()]
b = [float(x) for x in sys.argv[3].split()]
ratios = [bb / (cores * ss) for ss, bb in zip(s, b)]
print(f"median: single-thread {statistics.median(s):.0f}/s ({min(s):.0f}-{max(s):.0f}), "
      f"batch {statistics.median(b):.0f}/s ({min(b):.0f}-{max(b):.0f}), "
      f"ratio {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}); target >= 0.80")
EOF
