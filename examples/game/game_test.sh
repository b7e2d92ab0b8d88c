#!/usr/bin/env bash
# srudp_game end to end through a local rdv server: two players for 6 s while each side's
# simulated loss goes 0% -> 15% -> 30%. Every event arrives, in order; states keep coming in the
# 30% phase, and the loss the game measures there is about what was simulated.
#   game_test.sh RDV_BINARY GAME_BINARY
set -euo pipefail
game="$2"
source "$(dirname "$0")/../example_test.bash"
example_setup "$1"
token=$("$rdv" token)
common=(--seconds 6 --loss 0,15,30 --stun-port "$stun_port" --include-loopback)
timeout 30 "$game" "$url" "$token" --host "${common[@]}" >"$dir/host.out" 2>&1 &
host=$!
status=0
timeout 30 "$game" "$url" "$token" --join "${common[@]}" >"$dir/guest.out" 2>&1 || status=$?
wait "$host" || status=$?
for side in host guest; do echo "== $side"; cat "$dir/$side.out"; done
[[ $status -eq 0 ]] || { echo "FAIL: a player failed"; exit 1; }
for side in host guest; do
  grep -q '^summary: .*, all in order$' "$dir/$side.out" || { echo "FAIL: $side: events missing"; exit 1; }
  lines=$(grep -c '^t=' "$dir/$side.out")
  [[ $lines -ge 5 ]] || { echo "FAIL: $side: $lines report lines"; exit 1; }
  # The last full second: the other side sends at 30% loss.
  last=$(grep '^t=' "$dir/$side.out" | tail -1)
  loss=$(sed -n 's/.* state loss \([0-9.]*\)%.*/\1/p' <<<"$last")
  rate=$(sed -n 's/.* states \([0-9]*\)\/s .*/\1/p' <<<"$last")
  awk -v l="$loss" -v r="$rate" 'BEGIN { exit !(l >= 10 && l <= 55 && r >= 20) }' ||
    { echo "FAIL: $side: at 30% simulated loss it measured $loss% and $rate states/s"; exit 1; }
done
echo "game: ok"
