#!/usr/bin/env bash
# The NAT lab's impairments (../shared/natlab.md), each through the kernel with the real rdv server
# and tool (lab.sh), each with its pass criterion:
#   mapping_timeout  routers forget a UDP mapping after 3 s: the direct path holds through 10 s idle
#   wan_loss_5       5% random UDP loss at router A: 8 MiB each way arrive, direct
#   rate_10mbit      tbf 10 Mbit/s both ways at router A: goodput >= 70% of it each way (one at a time), direct
#   mtu_blackhole    router A drops UDP packets over 1252 bytes: 8 MiB each way arrive, direct
# (Those three use --policy direct-only, so that they measure the UDP path, not the relay.)
#   blackout_3s      the direct path goes dark for 3 s mid-transfer: relay, then direct again
#   one_lan          both hosts behind one router: direct, over their private addresses
#   ipv6_firewalls   IPv6, no NAT, stateful firewalls on both sides: direct
# Usage: [RDV_ARGS=-v] natlab_impairments.sh RDV_BINARY [SCENARIO...]
set -euo pipefail
source "$(dirname "$0")/lab.sh"
lab_init "$1"
shift
scenarios=("$@")
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(mapping_timeout wan_loss_5 rate_10mbit mtu_blackhole blackout_3s one_lan ipv6_firewalls)

mib=$((1024 * 1024))
head -c $((8 * mib)) /dev/urandom >"$work/a"
head -c $((8 * mib)) /dev/urandom >"$work/b"

# Each scenario sets ok (true/false) and detail (what it measured).
scenario_mapping_timeout() {
  lab_build port_restricted port_restricted
  for side in A B; do
    in_ns "nat$side" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=3 net.netfilter.nf_conntrack_udp_timeout_stream=3
  done
  lab_start_server
  # In the middle of the silence: the largest time any UDP mapping of router A has left, which
  # shows the short lifetime is in force (and so that only our traffic keeps the path open).
  ( sleep 6; in_ns natA awk '$3 == "udp" { print $5 }' /proc/net/nf_conntrack | sort -n | tail -1 >"$work/ct" ) &
  local probe=$!
  # 1 MiB, 10 s of silence, the rest: the second part must still go direct.
  lab_transfer 'head -c $mib "$work/a"; sleep 10; tail -c +$((mib + 1)) "$work/a"; sleep 1' 'cat "$work/b"'
  wait "$probe" || true
  local left
  left=$(cat "$work/ct")
  lab_read_stderr "$work/a.err"
  [[ $path == direct && $fell_back == false && -n "$left" && "$left" -le 3 ]] || ok=false
  detail="direct at $direct_at, fell back to the relay: $fell_back, mapping lifetime left mid-idle ${left:-?}s"
}

# router_a_drops MATCH...: router A drops forwarded packets that match any (nftables), both ways.
router_a_drops() {
  local rules="" match
  for match in "$@"; do rules+=" $match drop;"; done
  in_ns natA nft -f - <<<"table ip impair { chain forward { type filter hook forward priority -10; policy accept;$rules }; }"
}

# direct_leg FEED_A FEED_B: one transfer, direct only (so that it measures the UDP path, not the
# relay); the scenario fails unless both sides exit 0 and the path was direct. Sets
# received_by_a and received_by_b (MB/s, empty when nothing came), and the dialer's stderr facts.
direct_leg() {
  RDV_ARGS="--policy direct-only ${RDV_ARGS:-}" lab_transfer "$1" "$2"
  [[ $dial_status -eq 0 && $accept_status -eq 0 ]] || ok=false
  lab_read_stderr "$work/b.err"
  received_by_b="$rate"
  lab_read_stderr "$work/a.err"
  received_by_a="$rate"
  [[ $path == direct ]] || ok=false
}

# direct_transfer: $work/a and $work/b both ways at once; sets rate_ab and rate_ba (MB/s).
direct_transfer() {
  lab_start_server
  direct_leg 'cat "$work/a"' 'cat "$work/b"'
  rate_ab="$received_by_b"
  rate_ba="$received_by_a"
  detail="direct at $direct_at, A->B $rate_ab MB/s, B->A $rate_ba MB/s"
}

scenario_wan_loss_5() {
  lab_build port_restricted port_restricted
  router_a_drops 'meta l4proto udp numgen random mod 100 < 5'
  direct_transfer
}

scenario_rate_10mbit() {
  lab_build port_restricted port_restricted
  # A's uplink (wan egress) and downlink (lan egress), 10 Mbit/s each.
  for dev in wan lan; do in_ns natA tc qdisc add dev "$dev" root tbf rate 10mbit burst 32kbit latency 50ms; done
  head -c $((4 * mib)) /dev/urandom >"$work/a"
  head -c $((4 * mib)) /dev/urandom >"$work/b"
  lab_start_server
  # One direction at a time. With both at once, each side's ACKs queue behind the other side's
  # data, and BBR v1, which has no model of a queue on the reverse path, gets one direction only
  # 60-95% of the link (docs/PERFORMANCE.md); the simulator covers that case
  # (CongestionSimulation.TwoWayBulkOnATenMegabitLink).
  direct_leg 'cat "$work/a"' 'true'
  rate_ab="$received_by_b"
  mv "$work/b.out" "$work/b.out.first"
  direct_leg 'true' 'cat "$work/b"'
  rate_ba="$received_by_a"
  mv "$work/b.out.first" "$work/b.out"  # what the loop checks: a -> b.out (first), b -> a.out
  detail="direct at $direct_at, A->B $rate_ab MB/s, B->A $rate_ba MB/s"
  # 70% of 10 Mbit/s is 0.875 MB/s of payload.
  awk -v x="$rate_ab" -v y="$rate_ba" 'BEGIN { exit !(x >= 0.875 && y >= 0.875) }' || ok=false
  detail+=" (of 1.25; >= 0.875 wanted)"
}

scenario_mtu_blackhole() {
  lab_build port_restricted port_restricted
  router_a_drops 'meta l4proto udp meta length > 1252'
  direct_transfer
}

scenario_blackout_3s() {
  lab_build port_restricted port_restricted
  lab_start_server
  # Router A drops all UDP between the two routers (not the STUN server's) from 2 s to 5 s.
  (
    sleep 2
    router_a_drops 'ip daddr 203.0.113.2 meta l4proto udp' 'ip saddr 203.0.113.2 meta l4proto udp'
    sleep 3
    in_ns natA nft delete table ip impair
  ) &
  local blackout=$!
  # 8 MiB in 64 KiB pieces every 50 ms: about 6.4 s of data, around the blackout.
  lab_transfer 'for i in $(seq 0 127); do dd if="$work/a" bs=64K skip=$i count=1 status=none; sleep 0.05; done; sleep 1' 'cat "$work/b"'
  wait "$blackout" || ok=false
  lab_read_stderr "$work/a.err"
  [[ $fell_back == true && $returned == true ]] || ok=false
  detail="$(grep -E '^(peer connected|path) ' "$work/a.err" | sed 's/ addr=[^ ]*//' | tr '\n' ';')"
}

scenario_one_lan() {
  lab_build_one_lan port_restricted
  lab_start_server
  lab_transfer 'cat "$work/a"; sleep 3' 'cat "$work/b"; sleep 3'
  lab_read_stderr "$work/a.err"
  [[ $path == direct && $address == 10.0.1.* ]] || ok=false
  detail="direct at $direct_at, over $address"
}

scenario_ipv6_firewalls() {
  lab_build_ipv6
  lab_start_server '[2001:db8::10]:8080'
  lab_transfer 'cat "$work/a"; sleep 3' 'cat "$work/b"; sleep 3'
  lab_read_stderr "$work/a.err"
  [[ $path == direct && $address == *2001:db8:2::2* ]] || ok=false
  detail="direct at $direct_at, over $address"
}

failures=0
table=$(printf '%-16s  %-7s  %8s  %8s  %s' scenario verdict connect "1st byte" detail)
for scenario in "${scenarios[@]}"; do
  ok=true
  detail=""
  "scenario_$scenario"
  lab_stop_server
  lab_teardown
  [[ $dial_status -eq 0 && $accept_status -eq 0 ]] || ok=false
  lab_bytes_match || ok=false
  lab_read_stderr "$work/a.err"
  [[ -n "$first_byte_ms" && "$first_byte_ms" -le 3000 ]] || ok=false
  verdict=ok
  if ! $ok; then
    verdict=FAIL
    failures=$((failures + 1))
    echo "---- $scenario failed: dial $dial_status, accept $accept_status"
    cat "$work/a.err" "$work/b.err" | head -30
  fi
  table+=$'\n'"$(printf '%-16s  %-7s  %8s  %8s  %s' "$scenario" "$verdict" "${connect_ms:-?}ms" "${first_byte_ms:-?}ms" "$detail")"
  # Scenarios may replace the inputs; start the next one from fresh data.
  head -c $((8 * mib)) /dev/urandom >"$work/a"
  head -c $((8 * mib)) /dev/urandom >"$work/b"
done
echo "$table"
[[ $failures -eq 0 ]] || { echo "natlab: $failures scenario(s) failed"; exit 1; }
echo "natlab: ok"
