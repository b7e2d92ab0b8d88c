#!/bin/sh
# Runs srudp_echo_server and srudp_echo_client as two processes on loopback and checks the echo.
#   echo_test.sh SERVER CLIENT [ADDRESS]
set -eu
server=$1
client=$2
address=${3:-127.0.0.1}
psk=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
dir=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

case $address in *:*) listen="[$address]:0" ;; *) listen="$address:0" ;; esac
"$server" --listen "$listen" --psk "$psk" --once >"$dir/server.out" 2>&1 &
pid=$!

# The server says where it listens once bound (port 0 picks one); wait up to 10 s.
bound=
for _ in $(seq 100); do
  bound=$(sed -n 's/^listening on //p' "$dir/server.out")
  [ -n "$bound" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$bound" ]; then
  echo "server did not start:"; cat "$dir/server.out"; exit 1
fi
echo "server listening on $bound"

"$client" --connect "$bound" --psk "$psk" --streams 4 --bytes 300000 --datagrams 5

# --once: the server exits when the client's connection has closed.
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  echo "server still running after the client left:"; cat "$dir/server.out"; exit 1
fi
wait "$pid"
pid=
cat "$dir/server.out"
