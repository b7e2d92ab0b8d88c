# Sourced by the examples' tests: example_setup RDV_BINARY [RDV_SERVE_ARGS...] makes a work
# directory ($dir, removed at exit with every child process), starts `rdv serve` on an ephemeral
# loopback port with a STUN port the clients are told ($stun_port), and sets $url and $rdv.
source "$(dirname "${BASH_SOURCE[0]}")/../tests/rdv/rdv_server.bash"

# Under set -e a failing command in an EXIT trap becomes the script's exit status: a pkill that
# finds nothing left to kill would fail a test that passed. Every step here may fail harmlessly.
example_cleanup() {
  if [[ -n "${rdv_pid:-}" ]]; then kill "$rdv_pid" 2>/dev/null || true; fi
  pkill -P $$ 2>/dev/null || true
  rm -rf "$dir"
}

example_setup() {
  rdv="$1"
  shift
  dir=$(mktemp -d)
  rdv_pid=""
  trap example_cleanup EXIT
  stun_port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  start_rdv_server "$dir/serve.log" --stun-ports "$stun_port,0" "$@"
  url="http://127.0.0.1:$rdv_port"
}
