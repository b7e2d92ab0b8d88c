#!/usr/bin/env bash
# The NAT lab's matrix (../shared/natlab.md): two nftables NAT routers and the real `rdv serve` on
# the "internet", with the real `rdv accept` and `rdv dial` on the hosts behind them (lab.sh). For
# every pairing of NAT behaviours it sends 8 MiB each way, checks the bytes, and checks the path
# against the lab's table: direct where it says direct (in use within 5 s), relayed otherwise; in
# every case data flows within 3 s of both peers being present (the dialer starts last, so its time
# to first byte). It prints the matrix.
# Usage: natlab_test.sh RDV_BINARY [NAT_A NAT_B]  (one pairing, for debugging).
set -euo pipefail
source "$(dirname "$0")/lab.sh"
lab_init "$1"
only_a="${2:-}"
only_b="${3:-}"

# ../shared/natlab.md's table.
expected() {
  case "$1:$2" in
    udp_blocked:* | *:udp_blocked) echo relay ;;
    symmetric:symmetric | symmetric:port_restricted | port_restricted:symmetric) echo relay ;;
    bare_masquerade:*|*:bare_masquerade) echo any ;;
    *) echo direct ;;
  esac
}

head -c $((8 * 1024 * 1024)) /dev/urandom >"$work/a"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$work/b"

failures=0
table=$(printf '%-16s   %-16s    %-6s  %-6s  %8s  %8s  %9s  %s' "NAT A" "NAT B" path wanted connect "1st byte" "direct at" verdict)
run_case() {
  local a="$1" b="$2"
  lab_build "$a" "$b"
  lab_start_server
  # stdin stays open 3 s after the file, so the connection lives long enough to move to direct.
  lab_transfer 'cat "$work/a"; sleep 3' 'cat "$work/b"; sleep 3'
  lab_stop_server
  lab_teardown
  lab_read_stderr "$work/a.err"
  local ok=true want
  want=$(expected "$a" "$b")
  [[ $dial_status -eq 0 && $accept_status -eq 0 ]] || ok=false
  lab_bytes_match || ok=false
  [[ $want == any || $want == "$path" ]] || ok=false
  [[ -n "$first_byte_ms" && "$first_byte_ms" -le 3000 ]] || ok=false
  if [[ $direct_at == *s && $direct_at != *ms ]]; then
    awk -v t="${direct_at%s}" 'BEGIN { exit !(t <= 5.0) }' || ok=false
  fi
  local verdict=ok
  if ! $ok; then
    verdict=FAIL
    failures=$((failures + 1))
    echo "---- $a x $b failed: dial $dial_status, accept $accept_status"
    cat "$work/a.err" "$work/b.err" | head -20
  fi
  table+=$'\n'"$(printf '%-16s x %-16s -> %-6s (%-6s) %8s  %8s  %9s  %s' "$a" "$b" "$path" "$want" \
    "${connect_ms:-?}ms" "${first_byte_ms:-?}ms" "$direct_at" "$verdict")"
}

nats=(full_cone addr_restricted port_restricted symmetric udp_blocked bare_masquerade)
if [[ -n "$only_a" ]]; then
  run_case "$only_a" "$only_b"
else
  for a in "${nats[@]}"; do
    for b in "${nats[@]}"; do run_case "$a" "$b"; done
  done
fi
echo "$table"
[[ $failures -eq 0 ]] || { echo "natlab: $failures pairing(s) failed"; exit 1; }
echo "natlab: ok"
