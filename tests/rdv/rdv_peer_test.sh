#!/usr/bin/env bash
# `rdv dial` and `rdv accept` through a real `rdv serve` on loopback: files both ways at once,
# byte-exact, under every path policy (relayed or direct as the policy says), each side's "peer
# connected" line, exit 0 on both; an empty stdin; -v (logs and the connection's figures on stderr
# only); and the failures a user meets (server unreachable, nobody came before the lobby timeout,
# bad arguments) as a message and exit 1 (2).
set -euo pipefail
rdv="$1"
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT

source "$(dirname "$0")/rdv_server.bash"
stun_port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_rdv_server "$dir/serve.log" --lobby-timeout 2s --stun-ports "$stun_port,0"
pids+=("$rdv_pid")
url="http://127.0.0.1:$rdv_port"

# Runs one pair: accept with $1 as stdin, dial with $2, more options after; outputs in
# $dir/{accept,dial}.{out,err}.
pair() {
  local token accept_in="$1" dial_in="$2"
  shift 2
  token=$("$rdv" token)
  timeout 30 "$rdv" accept "$url" "$token" --stun-port "$stun_port" "$@" <"$accept_in" >"$dir/accept.out" \
    2>"$dir/accept.err" &
  local accept_pid=$!
  pids+=("$accept_pid")
  local dial_status=0 accept_status=0
  timeout 30 "$rdv" dial "$url" "$token" --stun-port "$stun_port" "$@" <"$dial_in" >"$dir/dial.out" \
    2>"$dir/dial.err" || dial_status=$?
  wait "$accept_pid" || accept_status=$?
  if [[ $dial_status -ne 0 || $accept_status -ne 0 ]]; then
    echo "exit status: dial $dial_status, accept $accept_status"
    cat "$dir/dial.err" "$dir/accept.err"
    exit 1
  fi
  for side in dial accept; do
    grep -Eq '^peer connected relay=(true|false) addr=[^ ]+ dur=[0-9]+ms$' "$dir/$side.err" ||
      { echo "no 'peer connected' line from $side:"; cat "$dir/$side.err"; exit 1; }
  done
}

head -c 3000000 /dev/urandom >"$dir/a"
head -c 2000001 /dev/urandom >"$dir/b"
# Each policy; the path each side reports must be the one the policy leads to on loopback.
for policy in relay-only direct-only wait=1s fast; do
  pair "$dir/b" "$dir/a" --include-loopback --policy "$policy"
  cmp "$dir/a" "$dir/accept.out" || { echo "$policy: dial -> accept differs"; exit 1; }
  cmp "$dir/b" "$dir/dial.out" || { echo "$policy: accept -> dial differs"; exit 1; }
  case "$policy" in
    relay-only) want="relay=true" ;;
    direct-only | wait=*) want="relay=false" ;;
    *) want="relay=" ;;
  esac
  for side in dial accept; do
    grep -q "^peer connected $want" "$dir/$side.err" || { echo "$policy: $side not $want:"; cat "$dir/$side.err"; exit 1; }
  done
  echo "$policy: $(grep -h 'peer connected' "$dir/dial.err")"
done
pair "$dir/b" "$dir/a" -r
grep -q "^peer connected relay=true" "$dir/dial.err" || { echo "-r did not relay"; exit 1; }

: >"$dir/empty"
pair "$dir/empty" "$dir/a" --include-loopback
cmp "$dir/a" "$dir/accept.out" || { echo "dial -> accept differs (empty stdin on the other side)"; exit 1; }
[[ ! -s "$dir/dial.out" ]] || { echo "output from an empty stdin"; exit 1; }

# -v: debug logs on stderr only (stdout stays the peer's bytes), ending with the connection's figures.
pair "$dir/b" "$dir/a" --include-loopback -v
cmp "$dir/a" "$dir/accept.out" || { echo "-v: dial -> accept differs"; exit 1; }
cmp "$dir/b" "$dir/dial.out" || { echo "-v: accept -> dial differs"; exit 1; }
for side in dial accept; do
  grep -Eq 'connection: sent [1-9][0-9]* packets \([0-9]+ bytes\), received [1-9][0-9]*, lost [0-9]+ \([0-9]+ spurious\), [0-9]+ stream bytes resent, srtt [0-9]+ us \(min [0-9]+\), cwnd [1-9][0-9]* bytes, path MTU [1-9][0-9]*$' \
    "$dir/$side.err" || { echo "-v: no connection figures from $side:"; tail -5 "$dir/$side.err"; exit 1; }
done

# Failures: a message and exit status 1, in bounded time.
expect_failure() {  # expected message, then the command
  local expected="$1"
  shift
  local status=0
  timeout 20 "$@" </dev/null >/dev/null 2>"$dir/fail.err" || status=$?
  [[ $status -eq 1 ]] || { echo "exit status $status for: $*"; cat "$dir/fail.err"; exit 1; }
  grep -q "$expected" "$dir/fail.err" || { echo "want '$expected', got:"; cat "$dir/fail.err"; exit 1; }
}
free_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_failure "refused" "$rdv" dial "http://127.0.0.1:$free_port" "$("$rdv" token)" -v
expect_failure "no peer came" "$rdv" accept "$url" "$("$rdv" token)"
expect_failure "bad server URL" "$rdv" dial "ftp://127.0.0.1" "$("$rdv" token)"
status=0
"$rdv" dial "$url" "$("$rdv" token)" --policy sometimes </dev/null 2>"$dir/fail.err" || status=$?
[[ $status -eq 2 ]] && grep -q "bad --policy" "$dir/fail.err" || { echo "bad policy accepted"; exit 1; }
echo "ok"
