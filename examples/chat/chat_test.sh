#!/usr/bin/env bash
# srudp_chat end to end through a local rdv server: alice talks with bob and with carol (a token
# per pair). What alice types before anyone is there reaches both; bob's line and his typing
# notice reach alice only; when alice leaves, both see it and exit.
#   chat_test.sh RDV_BINARY CHAT_BINARY
set -euo pipefail
chat="$2"
source "$(dirname "$0")/../example_test.bash"
example_setup "$1"
t1=$("$rdv" token)
t2=$("$rdv" token)
# start_chat NAME FEED OPTIONS...: runs srudp_chat in the background with FEED (a shell command)
# writing its stdin through a FIFO, so waiting for the chat does not wait for the feed; sets pid.
start_chat() {
  local name="$1" feed="$2"
  shift 2
  mkfifo "$dir/$name.in"
  (eval "$feed") >"$dir/$name.in" &
  timeout 30 "$chat" "$url" --name "$name" --stun-port "$stun_port" --include-loopback "$@" \
    <"$dir/$name.in" >"$dir/$name.out" 2>"$dir/$name.err" &
  pid=$!
}

start_chat bob 'sleep 1.5; echo "hi from bob"; exec sleep 30' --accept "$t1"
bob=$pid
start_chat carol 'exec sleep 30' --accept "$t2"
carol=$pid
start_chat alice 'echo "hello everyone"; sleep 3' --dial "$t1" --dial "$t2"
alice=$pid
status=0
for p in "$alice" "$bob" "$carol"; do wait "$p" || status=$?; done

for name in alice bob carol; do echo "== $name"; cat "$dir/$name.out" "$dir/$name.err"; done
expect() {  # name, line: the line is in name's output
  grep -qxF -- "$2" "$dir/$1.out" || { echo "FAIL: $1 did not print: $2"; status=1; }
}
expect alice "* bob joined"
expect alice "* carol joined"
expect alice "* bob is typing"
expect alice "[bob] hi from bob"
expect bob "* alice joined"
expect bob "[alice] hello everyone"
expect bob "* alice left"
expect bob "* nobody left to talk to"
expect carol "[alice] hello everyone"
expect carol "* alice left"
if grep -q "hi from bob" "$dir/carol.out"; then echo "FAIL: carol got bob's line"; status=1; fi
[[ $status -eq 0 ]] && echo "chat: ok"
exit "$status"
