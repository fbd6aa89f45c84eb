#!/usr/bin/env bash
# Two hosts on this machine, for real: two network namespaces (each with a host name of its own) joined by a veth
# pair with addresses from 198.18.0.0/15 (reserved for network tests; no traffic leaves the pair), the link shaped
# by tc, and `mpirun --hostfile` across them over Open MPI's TCP transport, with a launch agent that starts the
# remote daemon inside the other namespace. dtrain itself launches nothing remote: this is Open MPI's own path.
#
#   launch/two-hosts.sh PROGRAM [ARGS...]      one rank per host; the ranks' output and mpirun's status
#
# TWO_HOSTS_RATE (default 10gbit; none leaves the link unshaped) and TWO_HOSTS_DELAY (default 50us) shape both
# directions; a kernel without netem gets the rate alone (tbf), and the script says so. Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN). Exits 3,
# with one line saying why, when the machine does not permit network namespaces.
set -euo pipefail

if (($# < 1)); then
    echo "usage: $0 PROGRAM [ARGS...]" >&2
    exit 2
fi
rate=${TWO_HOSTS_RATE:-10gbit} delay=${TWO_HOSTS_DELAY:-50us}
id=$$
a=dtrain$id-a b=dtrain$id-b
address_a=198.18.0.1 address_b=198.18.0.2
scratch=$(mktemp -d)

cleanup() {
    for ns in "$a" "$b"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$scratch"
}
trap cleanup EXIT

if ! error=$(ip netns add "$a" 2>&1 && ip netns add "$b" 2>&1); then
    echo "two-hosts: this machine does not permit network namespaces (ip netns add: $error); the two-host run cannot happen here" >&2
    exit 3
fi
ip link add "dt${id}a" type veth peer name "dt${id}b"
ip link set "dt${id}a" netns "$a"
ip link set "dt${id}b" netns "$b"
ip -n "$a" addr add "$address_a/24" dev "dt${id}a"
ip -n "$b" addr add "$address_b/24" dev "dt${id}b"
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set "dt${id}a" up
ip -n "$b" link set "dt${id}b" up
shaping="$rate and $delay each way (netem)"
[[ $rate == none ]] && shaping="nothing (TWO_HOSTS_RATE=none)"
for side in a b; do
    [[ $rate == none ]] && break
    ns=$([[ $side == a ]] && echo "$a" || echo "$b")
    if ! ip netns exec "$ns" tc qdisc add dev "dt${id}$side" root netem delay "$delay" rate "$rate" 2>/dev/null; then
        ip netns exec "$ns" tc qdisc add dev "dt${id}$side" root tbf rate "$rate" burst 1mb latency 10ms
        shaping="$rate each way (tbf); this kernel has no netem, so the $delay delay is NOT added"
    fi
done
echo "two-hosts: hosts dtrain-a ($address_a) and dtrain-b ($address_b), link shaped to $shaping" >&2

# Open MPI calls the agent as `agent HOST COMMAND...`, as it would call ssh; the command runs inside HOST's
# namespace under its host name, parsed by a shell as ssh's remote side would.
cat >"$scratch/agent" <<AGENT
#!/bin/sh
host=\$1
shift
case \$host in
    $address_a) ns=$a name=dtrain-a ;;
    $address_b) ns=$b name=dtrain-b ;;
    *) echo "two-hosts agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" unshare --uts sh -c "hostname \$name && exec \$*"
AGENT
chmod +x "$scratch/agent"
printf '%s slots=1\n%s slots=1\n' "$address_a" "$address_b" >"$scratch/hostfile"

# The two hosts share this machine's cores: Open MPI's busy polling would keep the kernel's network processing
# (ksoftirqd) off them for a scheduler tick per message (a 1-float allreduce took 5.9 ms here), so idle ranks yield
# (mpi_yield_when_idle: 20-26 us).
status=0
ip netns exec "$a" unshare --uts sh -c 'hostname dtrain-a && exec "$@"' sh \
    mpirun --allow-run-as-root --hostfile "$scratch/hostfile" -n 2 --map-by node \
    --mca plm_rsh_agent "$scratch/agent" --mca btl tcp,self --mca mpi_yield_when_idle 1 \
    --mca btl_tcp_if_include 198.18.0.0/24 --mca oob_tcp_if_include 198.18.0.0/24 \
    -x OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" ${OPENBLAS_CORETYPE:+-x OPENBLAS_CORETYPE} \
    "$@" || status=$?
exit "$status"
