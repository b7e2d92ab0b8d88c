#!/usr/bin/env bash
# `rdv serve` on loopback: it answers /metrics, and SIGTERM stops it gracefully (a client waiting in
# the lobby gets 503, the process exits 0), all within deadlines.
set -euo pipefail
rdv="$1"
log=$(mktemp)
trap 'kill -9 "$pid" 2>/dev/null || true; rm -f "$log"' EXIT

source "$(dirname "$0")/rdv_server.bash"
start_rdv_server "$log" --stun-ports 0,0
pid=$rdv_pid
port=$rdv_port

exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' >&3
metrics=$(timeout 5 cat <&3)
exec 3>&-
grep -q '^rdv_lobby_waiting 0' <<<"$metrics" || { echo "bad metrics: $metrics"; exit 1; }

exec 4<>"/dev/tcp/127.0.0.1/$port"
printf 'DIAL /tok HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: rdv/1\r\n\r\n' >&4
sleep 0.3
kill -TERM "$pid"
answer=$(timeout 5 cat <&4)
exec 4>&-
grep -q '^HTTP/1.1 503' <<<"$answer" || { echo "no 503 on shutdown: $answer"; exit 1; }

status=0
timeout 10 tail --pid="$pid" -f /dev/null || { echo "did not exit"; exit 1; }
wait "$pid" || status=$?
[[ $status -eq 0 ]] || { echo "exit status $status"; cat "$log"; exit 1; }
grep -q 'rdv: stopped' "$log" || { echo "no 'stopped' line"; cat "$log"; exit 1; }
echo "ok: port $port, graceful exit"
