#!/usr/bin/env bash
# The NAT lab (../shared/natlab.md): network namespaces joined by veth pairs, two nftables NAT
# routers, and the real `rdv serve` on the "internet", with the real `rdv accept` and `rdv dial`
# on the hosts behind them. For every pairing of NAT behaviours it sends 8 MiB each way, checks
# the bytes, and checks the path against the lab's table: direct where it says direct (in use
# within 5 s), relayed otherwise (data within 3 s of both peers being present). It prints the
# matrix. Usage: natlab_test.sh RDV_BINARY [NAT_A NAT_B]  (one pairing, for debugging).
#
#   hostA 10.0.1.2 -- natA (lan 10.0.1.1 | wan 203.0.113.1) --+
#                                                             +-- inet: bridge br0, rdv server
#   hostB 10.0.2.2 -- natB (lan 10.0.2.1 | wan 203.0.113.2) --+   203.0.113.10 (TCP 8080, UDP 3478/3479)
#
# Needs root. Without it: skipped (exit 77) on a developer machine, a failure when CI is set.
set -euo pipefail
rdv="$(realpath "$1")"
only_a="${2:-}"
only_b="${3:-}"
prefix="srl$$"
work=$(mktemp -d)
cleanup() {
  for ns in inet natA natB hostA hostB; do ip netns del "$prefix$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if ! ip netns add "${prefix}probe" 2>/dev/null; then
  if [[ -n "${CI:-}" ]]; then echo "natlab: cannot create network namespaces (need root) but CI is set"; exit 1; fi
  echo "natlab: skipped (cannot create network namespaces: not root?)"
  exit 77
fi
ip netns del "${prefix}probe"

in_ns() { local ns="$1"; shift; ip netns exec "$prefix$ns" "$@"; }

ruleset() {  # behaviour -> nftables ruleset for a router whose host is $2
  local host="$2"
  local masq='table ip nat { chain post { type nat hook postrouting priority srcnat; policy accept; oifname "wan" masquerade; }; }'
  local input_drop='table ip filt { chain input { type filter hook input priority filter; policy accept; iifname "wan" ct state new drop; }; }'
  case "$1" in
    port_restricted) echo "$masq"; echo "$input_drop" ;;
    full_cone)
      echo "$masq"; echo "$input_drop"
      echo "table ip nat { chain pre { type nat hook prerouting priority dstnat; policy accept; iifname \"wan\" udp dport 1024-65535 dnat to $host; }; }" ;;
    addr_restricted)
      echo "$masq"; echo "$input_drop"
      echo "table ip nat { chain pre { type nat hook prerouting priority dstnat; policy accept; iifname \"wan\" udp dport 1024-65535 dnat to $host; }; }"
      cat <<'NFT'
table ip filt {
  set contacted { type ipv4_addr; flags dynamic,timeout; timeout 120s; }
  chain forward { type filter hook forward priority filter; policy accept;
    iifname "lan" meta l4proto udp update @contacted { ip daddr }
    iifname "wan" ct state new ip saddr != @contacted drop; }; }
NFT
      ;;
    symmetric)
      echo 'table ip nat { chain post { type nat hook postrouting priority srcnat; policy accept; oifname "wan" masquerade random; }; }'
      echo "$input_drop" ;;
    udp_blocked)
      echo "$masq"
      echo 'table ip filt { chain forward { type filter hook forward priority filter; policy accept; iifname "lan" meta l4proto udp drop; }; }' ;;
    bare_masquerade) echo "$masq" ;;
  esac
}

# Builds the topology with router behaviours $1 (A) and $2 (B).
build() {
  for ns in inet natA natB hostA hostB; do
    ip netns add "$prefix$ns"
    in_ns "$ns" ip link set lo up
  done
  in_ns inet ip link add br0 type bridge
  in_ns inet ip addr add 203.0.113.10/24 dev br0
  in_ns inet ip link set br0 up
  local n=1
  for side in A B; do
    ip link add "up$side" netns "${prefix}inet" type veth peer name wan netns "${prefix}nat$side"
    in_ns inet ip link set "up$side" master br0
    in_ns inet ip link set "up$side" up
    in_ns "nat$side" ip addr add "203.0.113.$n/24" dev wan
    in_ns "nat$side" ip link set wan up
    ip link add lan netns "${prefix}nat$side" type veth peer name eth0 netns "${prefix}host$side"
    in_ns "nat$side" ip addr add "10.0.$n.1/24" dev lan
    in_ns "nat$side" ip link set lan up
    in_ns "nat$side" sysctl -qw net.ipv4.ip_forward=1
    in_ns "host$side" ip addr add "10.0.$n.2/24" dev eth0
    in_ns "host$side" ip link set eth0 up
    in_ns "host$side" ip route add default via "10.0.$n.1"
    local behaviour="$1"
    [[ $side == B ]] && behaviour="$2"
    ruleset "$behaviour" "10.0.$n.2" | in_ns "nat$side" nft -f -
    n=$((n + 1))
  done
}

teardown() {
  for ns in inet natA natB hostA hostB; do ip netns del "$prefix$ns" 2>/dev/null || true; done
}

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
table="NAT A \\ NAT B -> path (expected), connect time, time to direct, 8 MiB each way"
run_case() {
  local a="$1" b="$2"
  build "$a" "$b"
  in_ns inet "$rdv" serve --listen 203.0.113.10:8080 --stun-ports 3478,3479 --relay-rate 0 \
    >"$work/serve.log" 2>&1 &
  local server=$!
  for _ in $(seq 50); do grep -q 'listening on' "$work/serve.log" && break; sleep 0.1; done
  local token
  token=$("$rdv" token)
  local url=http://203.0.113.10:8080
  # stdin stays open 3 s after the file, so the connection lives long enough to move to direct.
  ( (cat "$work/b"; sleep 3) | in_ns hostB timeout 60 "$rdv" accept "$url" "$token" >"$work/b.out" 2>"$work/b.err" ) &
  local acceptor=$!
  local dial_status=0 accept_status=0
  (cat "$work/a"; sleep 3) | in_ns hostA timeout 60 "$rdv" dial "$url" "$token" >"$work/a.out" 2>"$work/a.err" ||
    dial_status=$?
  wait "$acceptor" || accept_status=$?
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  teardown
  local ok=true
  [[ $dial_status -eq 0 && $accept_status -eq 0 ]] || ok=false
  cmp -s "$work/a" "$work/b.out" || ok=false
  cmp -s "$work/b" "$work/a.out" || ok=false
  local connect direct_at path
  connect=$(grep -o '^peer connected relay=[a-z]* addr=[^ ]* dur=[0-9]*ms' "$work/a.err" | head -1 || true)
  path=relay
  direct_at="-"
  if grep -q '^peer connected relay=false' "$work/a.err"; then
    path=direct
    direct_at=$(sed -n 's/^peer connected .* dur=\([0-9]*\)ms/\1/p' "$work/a.err" | head -1)ms
  fi
  if grep -q '^path relay=false' "$work/a.err"; then
    path=direct
    direct_at=$(sed -n 's/^path relay=false .* after=\([0-9.]*\)s/\1/p' "$work/a.err" | head -1)s
  fi
  local want
  want=$(expected "$a" "$b")
  [[ $want == any || $want == "$path" ]] || ok=false
  local connect_ms
  connect_ms=$(sed -n 's/.* dur=\([0-9]*\)ms/\1/p' <<<"$connect")
  [[ -n "$connect_ms" && "$connect_ms" -le 3000 ]] || ok=false
  if [[ $path == direct && $direct_at == *s ]]; then
    awk -v t="${direct_at%s}" 'BEGIN { exit !(t <= 5.0) }' || ok=false
  fi
  local verdict=ok
  if ! $ok; then
    verdict=FAIL
    failures=$((failures + 1))
    echo "---- $a x $b failed: dial $dial_status, accept $accept_status"
    cat "$work/a.err" "$work/b.err" | head -20
  fi
  table+=$'\n'"$(printf '%-16s x %-16s -> %-6s (%-6s) connect %6s, direct at %6s, %s' "$a" "$b" "$path" "$want" \
    "${connect_ms:-?}ms" "$direct_at" "$verdict")"
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
