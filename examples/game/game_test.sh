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
  # The seconds in which the other side sent at 30% loss: at least 20 states a second in each, and
  # in one of them a measured loss of about that. Under that loss the path checks may miss three
  # in a row and move the game to the relay (TCP, which loses nothing) within the second, so the
  # line may already say "at relay": a second that measured 10-55% loss spent time on the direct
  # path whatever the label.
  grep '^t=' "$dir/$side.out" | awk -v side="$side" '
    / \(sending at 30% loss\)$/ {
      match($0, / state loss [0-9.]+%/); loss = substr($0, RSTART + 12, RLENGTH - 13) + 0
      match($0, / states [0-9]+\/s/); rate = substr($0, RSTART + 8, RLENGTH - 10) + 0
      seconds++
      if (rate < 20) { print "FAIL: " side ": " rate " states/s at 30% loss"; bad = 1 }
      if (loss >= 10 && loss <= 55) measured = 1
    }
    END {
      if (seconds == 0) { print "FAIL: " side ": no report in the 30% phase"; exit 1 }
      if (!measured) { print "FAIL: " side ": no second measured about 30% loss"; exit 1 }
      exit bad
    }' || exit 1
done
echo "game: ok"
