# The NAT lab's building blocks (../shared/natlab.md), sourced by the lab's tests: namespaces,
# nftables routers, the rdv server, one transfer between the hosts and what its stderr says.
#
#   hostA 10.0.1.2 -- natA (lan 10.0.1.1 | wan 203.0.113.1) --+
#                                                             +-- inet: bridge br0, rdv server
#   hostB 10.0.2.2 -- natB (lan 10.0.2.1 | wan 203.0.113.2) --+   203.0.113.10 (TCP 8080, UDP 3478/3479)
#
# Variants: both hosts on natA's LAN (lab_build_one_lan), and IPv6 without NAT behind stateful
# firewalls (lab_build_ipv6). Needs root: without it lab_init exits 77 (skipped) on a developer
# machine and 1 when CI is set, so the lab never silently skips in CI.

lab_namespaces=(inet natA natB hostA hostB)

# lab_init RDV_BINARY: checks root, makes the work directory, arms the clean-up.
lab_init() {
  rdv="$(realpath "$1")"
  prefix="srl$$"
  work=$(mktemp -d)
  trap lab_cleanup EXIT
  if ! ip netns add "${prefix}probe" 2>/dev/null; then
    if [[ -n "${CI:-}" ]]; then echo "natlab: cannot create network namespaces (need root) but CI is set"; exit 1; fi
    echo "natlab: skipped (cannot create network namespaces: not root?)"
    exit 77
  fi
  ip netns del "${prefix}probe"
}

lab_teardown() {
  for ns in "${lab_namespaces[@]}"; do ip netns del "$prefix$ns" 2>/dev/null || true; done
}

lab_cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  lab_teardown
  rm -rf "$work"
}

in_ns() { local ns="$1"; shift; ip netns exec "$prefix$ns" "$@"; }

# nat_ruleset BEHAVIOUR HOST_ADDRESS: the router's nftables ruleset, one table per concern.
nat_ruleset() {
  local host="$2"
  local masq='table ip nat { chain post { type nat hook postrouting priority srcnat; policy accept; oifname "wan" masquerade; }; }'
  local input_drop='table ip filt { chain input { type filter hook input priority filter; policy accept; iifname "wan" ct state new drop; }; }'
  local full_cone="table ip nat { chain pre { type nat hook prerouting priority dstnat; policy accept; iifname \"wan\" udp dport 1024-65535 dnat to $host; }; }"
  case "$1" in
    port_restricted) echo "$masq"; echo "$input_drop" ;;
    full_cone) echo "$masq"; echo "$input_drop"; echo "$full_cone" ;;
    addr_restricted)
      echo "$masq"; echo "$input_drop"; echo "$full_cone"
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
    *) echo "natlab: unknown NAT behaviour $1" >&2; return 1 ;;
  esac
}

lab_add_namespaces() {
  for ns in "${lab_namespaces[@]}"; do
    ip netns add "$prefix$ns"
    in_ns "$ns" ip link set lo up
    # No duplicate address detection: it would hold every new link-local address (and so
    # neighbour discovery, and so the first IPv6 packet) back for a second or two.
    in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  done
  in_ns inet ip link add br0 type bridge
  in_ns inet ip link set br0 up
}

# lab_add_router SIDE N: natSIDE with wan 203.0.113.N on the internet bridge and lan 10.0.N.1/24.
lab_add_router() {
  local side="$1" n="$2"
  ip link add "up$side" netns "${prefix}inet" type veth peer name wan netns "${prefix}nat$side"
  in_ns inet ip link set "up$side" master br0
  in_ns inet ip link set "up$side" up
  in_ns "nat$side" ip addr add "203.0.113.$n/24" dev wan
  in_ns "nat$side" ip link set wan up
  in_ns "nat$side" sysctl -qw net.ipv4.ip_forward=1
}

# lab_add_host HOST ROUTER_NS LAN_DEVICE ADDRESS GATEWAY: a veth from the router's LAN side.
lab_add_host() {
  local host="$1" router="$2" device="$3" address="$4" gateway="$5"
  ip link add "$device" netns "$prefix$router" type veth peer name eth0 netns "$prefix$host"
  in_ns "$host" ip addr add "$address" dev eth0
  # One datagram per packet on the wire, as a real NIC sends them: otherwise a UDP GSO batch (up
  # to 64 datagrams) crosses the routers as one packet, and nftables drops or measures it whole.
  in_ns "$host" ip link set eth0 gso_max_segs 1
  in_ns "$host" ip link set eth0 up
  in_ns "$host" ip route add default via "$gateway"
}

# lab_build BEHAVIOUR_A BEHAVIOUR_B: the two-router topology above.
lab_build() {
  lab_add_namespaces
  in_ns inet ip addr add 203.0.113.10/24 dev br0
  local n=1 behaviour
  for side in A B; do
    lab_add_router "$side" "$n"
    lab_add_host "host$side" "nat$side" lan "10.0.$n.2/24" "10.0.$n.1"
    in_ns "nat$side" ip addr add "10.0.$n.1/24" dev lan
    in_ns "nat$side" ip link set lan up
    behaviour="$1"
    [[ $side == B ]] && behaviour="$2"
    nat_ruleset "$behaviour" "10.0.$n.2" | in_ns "nat$side" nft -f -
    n=$((n + 1))
  done
}

# lab_build_one_lan BEHAVIOUR: hostA 10.0.1.2 and hostB 10.0.1.3 on one LAN (a bridge in natA).
lab_build_one_lan() {
  lab_add_namespaces
  in_ns inet ip addr add 203.0.113.10/24 dev br0
  lab_add_router A 1
  in_ns natA ip link add lan type bridge
  in_ns natA ip addr add 10.0.1.1/24 dev lan
  in_ns natA ip link set lan up
  lab_add_host hostA natA portA 10.0.1.2/24 10.0.1.1
  lab_add_host hostB natA portB 10.0.1.3/24 10.0.1.1
  for port in portA portB; do
    in_ns natA ip link set "$port" master lan
    in_ns natA ip link set "$port" up
  done
  nat_ruleset "$1" 10.0.1.2 | in_ns natA nft -f -
}

# lab_build_ipv6: no NAT; each host has a global address behind a router whose stateful firewall
# drops new inbound flows (what an IPv6 home router does). The server is [2001:db8::10].
lab_build_ipv6() {
  lab_add_namespaces
  in_ns inet ip -6 addr add 2001:db8::10/64 dev br0 nodad
  local n=1 other
  for side in A B; do
    other=$((3 - n))
    ip link add "up$side" netns "${prefix}inet" type veth peer name wan netns "${prefix}nat$side"
    in_ns inet ip link set "up$side" master br0
    in_ns inet ip link set "up$side" up
    in_ns inet ip -6 route add "2001:db8:$n::/64" via "2001:db8::$n"
    in_ns "nat$side" ip -6 addr add "2001:db8::$n/64" dev wan nodad
    in_ns "nat$side" ip link set wan up
    in_ns "nat$side" ip -6 route add "2001:db8:$other::/64" via "2001:db8::$other"
    lab_add_host "host$side" "nat$side" lan "2001:db8:$n::2/64" "2001:db8:$n::1"
    in_ns "nat$side" ip -6 addr add "2001:db8:$n::1/64" dev lan nodad
    in_ns "nat$side" ip link set lan up
    in_ns "nat$side" sysctl -qw net.ipv6.conf.all.forwarding=1
    in_ns "nat$side" nft -f - <<<'table ip6 filt { chain forward { type filter hook forward priority filter; policy accept; iifname "wan" ct state new drop; }; }'
    n=$((n + 1))
  done
}

# lab_start_server [LISTEN]: the real rdv server in the internet namespace; sets server_url.
lab_start_server() {
  local listen="${1:-203.0.113.10:8080}"
  in_ns inet "$rdv" serve --listen "$listen" --stun-ports 3478,3479 --relay-rate 0 >"$work/serve.log" 2>&1 &
  server_pid=$!
  server_url="http://$listen"
  for _ in $(seq 50); do grep -q 'listening on' "$work/serve.log" && return 0; sleep 0.1; done
  echo "natlab: the rdv server did not start"; cat "$work/serve.log"
  return 1
}

lab_stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}

# lab_transfer FEED_A FEED_B: `rdv accept` on hostB, then `rdv dial` on hostA, each fed by the
# stdout of its FEED (a shell command). Their stdout goes to $work/a.out and b.out, stderr to
# a.err and b.err; sets dial_status and accept_status. RDV_ARGS (e.g. -v) go to both.
lab_transfer() {
  local feed_a="$1" feed_b="$2" token
  token=$("$rdv" token)
  ( (eval "$feed_b") | in_ns hostB timeout 60 "$rdv" accept "$server_url" "$token" ${RDV_ARGS:-} >"$work/b.out" 2>"$work/b.err" ) &
  local acceptor=$!
  dial_status=0
  accept_status=0
  (eval "$feed_a") | in_ns hostA timeout 60 "$rdv" dial "$server_url" "$token" ${RDV_ARGS:-} >"$work/a.out" 2>"$work/a.err" ||
    dial_status=$?
  wait "$acceptor" || accept_status=$?
}

# lab_read_stderr FILE: what one side's stderr says. Sets connect_ms (to an established
# connection), path (direct if it ever went direct, else relay), direct_at ("-", "NNms" when it
# connected directly, "N.Ns" when it moved to direct later), address (the last path's),
# first_byte_ms, rate (MB/s it received at, from the first byte on), fell_back (moved from direct
# to the relay) and returned (moved back to direct after that).
lab_read_stderr() {
  local file="$1"
  connect_ms=$(sed -n 's/^peer connected .* dur=\([0-9]*\)ms$/\1/p' "$file" | head -1)
  first_byte_ms=$(sed -n 's/^first byte after=\([0-9]*\)ms$/\1/p' "$file" | head -1)
  rate=$(sed -n 's/^received bytes=[0-9]* in=[0-9.]*s rate=\([0-9.]*\)MB\/s$/\1/p' "$file" | head -1)
  address=$(sed -n 's/^\(peer connected\|path\) relay=[a-z]* addr=\([^ ]*\) .*/\2/p' "$file" | tail -1)
  path=relay
  direct_at="-"
  if grep -q '^peer connected relay=false' "$file"; then
    path=direct
    direct_at="${connect_ms}ms"
  elif grep -q '^path relay=false' "$file"; then
    path=direct
    direct_at=$(sed -n 's/^path relay=false .* after=\([0-9.]*\)s$/\1/p' "$file" | head -1)s
  fi
  # The path lines in order, as d (direct) and r (relay), starting with how it connected.
  local moves
  moves=$(sed -n 's/^\(peer connected\|path\) relay=\([a-z]*\) .*/\2/p' "$file" | sed 's/true/r/; s/false/d/' | tr -d '\n')
  fell_back=false
  returned=false
  [[ $moves == *dr* ]] && fell_back=true
  [[ $moves == *dr*d* ]] && returned=true
  return 0
}

# lab_bytes_match: both directions arrived byte-exact ($work/a -> b.out, $work/b -> a.out).
lab_bytes_match() {
  cmp -s "$work/a" "$work/b.out" && cmp -s "$work/b" "$work/a.out"
}
