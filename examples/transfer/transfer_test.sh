#!/usr/bin/env bash
# srudp_send and srudp_receive end to end through a local rdv server:
#   1. a 24 MiB file, rate-limited, interrupted (both killed) part way: its partial file stays;
#   2. it and two more files (100 KB, empty) in parallel: the big one resumes where it stopped and
#      verifies; the 100 KB one meets a planted partial file with wrong bytes: SHA-256 mismatch;
#   3. the 100 KB one again: now it arrives whole.
#   transfer_test.sh RDV_BINARY SEND_BINARY RECEIVE_BINARY
set -euo pipefail
send="$2"
receive="$3"
source "$(dirname "$0")/../example_test.bash"
example_setup "$1" --relay-rate 0
mkdir "$dir/in" "$dir/out"
head -c $((24 * 1024 * 1024)) /dev/urandom >"$dir/in/big"
head -c 100000 /dev/urandom >"$dir/in/small"
: >"$dir/in/empty"
common=(--stun-port "$stun_port" --include-loopback)
fail() { echo "FAIL: $*"; for f in "$dir"/*.err; do echo "== $f"; cat "$f"; done; exit 1; }

# 1. Interrupted: 4 MB/s, both killed once 2 MiB arrived (no `timeout` wrapper here: kill -9
#    must hit the programs themselves; the loop below bounds the run).
token=$("$rdv" token)
"$receive" "$url" "$token" --dir "$dir/out" "${common[@]}" 2>"$dir/r1.err" &
r=$!
"$send" "$url" "$token" "$dir/in/big" --max-rate 4 "${common[@]}" 2>"$dir/s1.err" &
s=$!
part=""
for _ in $(seq 300); do
  part=$(find "$dir/out" -name '.big.*.part' -size +2048k | head -1)
  [[ -n "$part" ]] && break
  sleep 0.05
done
kill -9 "$r" "$s" 2>/dev/null || true
wait "$r" "$s" 2>/dev/null || true  # (bash reports the kills)
[[ -n "$part" && ! -e "$dir/out/big" ]] || fail "run 1 was not interrupted part way"
kept=$(stat -c %s "$part")
echo "run 1: interrupted with $kept bytes of big kept"

# 2. Resume big, plant a wrong partial file for small.
small_sha=$(sha256sum "$dir/in/small" | cut -c1-16)
head -c 1000 /dev/urandom >"$dir/out/.small.$small_sha.part"
token=$("$rdv" token)
timeout 60 "$receive" "$url" "$token" --dir "$dir/out" "${common[@]}" 2>"$dir/r2.err" &
r=$!
status=0
timeout 60 "$send" "$url" "$token" "$dir/in/big" "$dir/in/small" "$dir/in/empty" "${common[@]}" 2>"$dir/s2.err" ||
  status=$?
wait "$r" && fail "run 2: the receiver accepted a file with wrong bytes"
[[ $status -ne 0 ]] || fail "run 2: the sender did not report the mismatch"
grep -q "^big: resuming at $kept bytes" "$dir/s2.err" || fail "run 2: big did not resume at $kept"
grep -q "^small: sha256 mismatch" "$dir/r2.err" || fail "run 2: no sha256 mismatch for small"
cmp "$dir/in/big" "$dir/out/big" || fail "run 2: big differs"
cmp "$dir/in/empty" "$dir/out/empty" || fail "run 2: empty differs"
[[ ! -e "$dir/out/small" ]] || fail "run 2: small was kept"
echo "run 2: big resumed and verified, empty verified, small refused (sha256 mismatch)"

# 3. small again.
token=$("$rdv" token)
timeout 60 "$receive" "$url" "$token" --dir "$dir/out" "${common[@]}" 2>"$dir/r3.err" &
r=$!
timeout 60 "$send" "$url" "$token" "$dir/in/small" "${common[@]}" 2>"$dir/s3.err" || fail "run 3: send failed"
wait "$r" || fail "run 3: receive failed"
cmp "$dir/in/small" "$dir/out/small" || fail "run 3: small differs"
[[ -z "$(find "$dir/out" -name '*.part')" ]] || fail "partial files left"
cat "$dir/s2.err" "$dir/r2.err"
echo "transfer: ok"
