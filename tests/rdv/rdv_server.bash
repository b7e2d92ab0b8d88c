# Sourced by the rdv tool tests: start_rdv_server LOG [ARGS...] runs `$rdv serve ARGS` on an ephemeral
# loopback port with its output in LOG, and sets rdv_pid and rdv_port (fails after 10 s).
start_rdv_server() {
  local log="$1"
  shift
  "$rdv" serve --listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
  rdv_pid=$!
  rdv_port=""
  for _ in $(seq 100); do
    rdv_port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$log" | cut -d: -f2 || true)
    [[ -n "$rdv_port" ]] && return 0
    sleep 0.1
  done
  echo "rdv serve printed no listening line:"
  cat "$log"
  return 1
}
