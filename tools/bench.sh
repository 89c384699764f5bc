#!/usr/bin/env bash
# The signet benchmark suite in one run, on a 2-core machine: signetd pinned to core 0,
# signet-bench to core 1. Every figure is printed next to a limit measured in the same run
# (an in-process reference loop on core 0, right before and right after the load, while
# signetd idles), as
#
#   RATIO <name> <measured>/<limit> = <value> (target >= T)
#
# State (SoftHSM token, keys, dev PKI) is provisioned in a temporary directory with
# tools/dev-init.sh, plus software keys and extra caller certificates made with openssl.
# These are targets reported for people to read; nothing here fails on a slow figure.
#
# Each throughput and latency case runs in several rounds (alternating with its reference, or
# with the run it is compared to) and the RATIO line shows the median round; the rounds are
# listed on the line before it.
#
#   tools/bench.sh [--seconds S] [--rounds R]   S: length of each measured run (default 3)
#                                                R: rounds per case (default 3)
#   SIGNET_BENCH_NO_BUILD=1 tools/bench.sh   skip deps + build (build/ already up to date)
#   SIGNET_BENCH_KEEP=1 tools/bench.sh       keep the state directory (to profile by hand)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds=3
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "bench.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

if [ -z "${SIGNET_BENCH_NO_BUILD:-}" ]; then
  source "$root/tools/deps.sh"
  signet_install_deps
  signet_build >/dev/null
fi
build="$root/build"
signetd="$build/tools/signetd/signetd"
bench="$build/tools/bench/signet-bench"
python=/usr/bin/python3
for tool in "$signetd" "$bench"; do
  [ -x "$tool" ] || { echo "bench.sh: $tool is missing; build first" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/signet-bench-XXXXXX")"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
cleanup() {
  stop_server
  if [ -n "${SIGNET_BENCH_KEEP:-}" ]; then
    echo "bench.sh: state kept in $work (configs: state/*.toml)" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}
json_field() {  # json_field FILE FIELD: the field of the last JSON line in FILE
  "$python" -c 'import json, sys
print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])[sys.argv[2]])' "$1" "$2"
}
ratio() {  # ratio NAME MEASURED LIMIT OP TARGET
  "$python" - "$@" <<'PY'
import sys
name, op = sys.argv[1], sys.argv[4]
measured, limit, target = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[5])
value = measured / limit if limit > 0 else float("nan")
ok = value >= target if op == ">=" else value <= target
sign = "≥" if op == ">=" else "≤"
print(f"RATIO {name} {measured:.0f}/{limit:.0f} = {value:.3f} (target {sign} {target:g})"
      f"{'' if ok else '  MISSED'}")
PY
}

# rounds_ratio NAME OP TARGET: the RATIO line of the median round in $work/NAME.rounds, whose
# lines are "<measured> <limit>", after a line listing every round's ratio.
rounds_ratio() {
  local summary
  summary="$("$python" - "$work/$1.rounds" <<'PY'
import sys
rows = [[float(x) for x in line.split()] for line in open(sys.argv[1]) if line.strip()]
value = lambda row: row[0] / row[1] if row[1] > 0 else float("nan")
median = sorted(rows, key=value)[len(rows) // 2]
print(" ".join(f"{value(row):.2f}" for row in rows))
print(f"{median[0]:.3f} {median[1]:.3f}")
PY
)"
  echo "# $1 rounds: $(head -1 <<<"$summary") (the median round below)"
  # shellcheck disable=SC2046 # two numbers
  ratio "$1" $(tail -1 <<<"$summary") "$2" "$3"
}

# --- provision --------------------------------------------------------------------------------
ipc_port="$(free_port)"
https_port="$(free_port)"
state="$work/state"
"$root/tools/dev-init.sh" --state-dir "$state" --build-dir "$build" \
  --ipc-port "$ipc_port" --https-port "$https_port"
export SOFTHSM2_CONF="$state/softhsm/softhsm2.conf"
pki="$state/pki"
umask 077

# Software keys (development backend) and a software CA certificate, made with openssl.
mkdir -p "$state/swkeys"
for label in jwt-sw raw-sw ca-sw; do
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$state/swkeys/$label.pem"
done
openssl req -x509 -new -key "$state/swkeys/ca-sw.pem" -out "$state/swca.pem" -days 30 \
  -subj "/O=signet bench/CN=bench software CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectAltName=URI:spiffe://example.org" 2>/dev/null

# Four more callers for the idle case: the server caps connections per caller at 256.
for n in 1 2 3 4; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$pki/idle$n.key" \
    -out "$pki/idle$n.csr" -subj "/O=signet bench/CN=idle$n" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' >"$pki/idle.ext"
  printf 'extendedKeyUsage=clientAuth\nsubjectAltName=URI:spiffe://example.org/bench-idle/%s\n' \
    "$n" >>"$pki/idle.ext"
  openssl x509 -req -in "$pki/idle$n.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 2 -out "$pki/idle$n.pem" -extfile "$pki/idle.ext" 2>/dev/null
done

# The dev-init config signs with SoftHSM keys; the others swap the [[backend]]/[[key]] tables.
policy="$(sed -n '/^\[\[caller\]\]/,$p' "$state/signetd.toml" | sed '/^# The custodian/,$d' |
  sed 's/raw_keys = .*/raw_keys = ["raw-es256-1", "raw-sw", "raw-slow"]/')"
write_config() {  # write_config FILE AUDIT(yes/no) BACKEND_TOML
  {
    echo 'trust_domain = "example.org"'
    [ "$2" = yes ] && echo 'audit_dir = "audit"'
    echo "$3"
    cat <<TOML
[ipc]
listen = "127.0.0.1:$ipc_port"
certificate = "pki/server.pem"
private_key = "pki/server.key"
client_ca = "pki/ca.pem"

$policy
TOML
  } >"$1"
}
software_tables='[[backend]]
name = "sw"
type = "software"
key_dir = "swkeys"

[[key]]
id = "jwt-sw"
backend = "sw"
purpose = "jwt"
ref = "software:label=jwt-sw;alg=ES256"

[[key]]
id = "raw-sw"
backend = "sw"
purpose = "raw"
ref = "software:label=raw-sw;alg=ES256"

[[key]]
id = "ca-sw"
backend = "sw"
purpose = "x509-ca"
ref = "software:label=ca-sw;alg=ES256"
certificate = "swca.pem"
allow_software = true

[minter]
jwt_key = "jwt-sw"
x509_ca_key = "ca-sw"
issuer = "https://127.0.0.1:7444"
'
slow_tables='# TEST backend: a simulated network HSM, 2 ms per signature, 32 sessions.
[[backend]]
name = "slow"
type = "slow-test"
latency_us = 2000
sessions = 32

[[key]]
id = "jwt-slow"
backend = "slow"
purpose = "jwt"
ref = "slow-test:label=jwt-slow;alg=ES256"

[[key]]
id = "raw-slow"
backend = "slow"
purpose = "raw"
ref = "slow-test:label=raw-slow;alg=ES256"

[minter]
jwt_key = "jwt-slow"
'
write_config "$state/sw.toml" no "$software_tables"
write_config "$state/sw-audit.toml" yes "$software_tables"
write_config "$state/slow.toml" no "$slow_tables"
td=example.org
for n in 1 2 3 4; do
  echo "$policy" |
    sed "s|^id = \"spiffe://$td/identity-server\"|id = \"spiffe://$td/bench-idle/$n\"|" \
      >>"$state/sw.toml"
done
grep -v '^audit_dir' "$state/signetd.toml" >"$state/hsm.toml"
jwt_hsm_ref="$(awk '/^id = "jwt-es256-1"/ { found = 1 }
  found && /^ref = / { gsub(/"/, "", $3); print $3; exit }' "$state/signetd.toml")"

# --- running signetd and the load -----------------------------------------------------------
start_server() {  # start_server CONFIG
  stop_server
  taskset -c 0 "$signetd" --config "$1" 2>>"$work/signetd.log" &
  server_pid=$!
  for _ in $(seq 100); do
    if taskset -c 1 "$bench" idle "${client[@]}" --connections 1 --hold 0 >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench.sh: signetd did not start with $1:" >&2
  tail -20 "$work/signetd.log" >&2
  exit 1
}
client=(--endpoint "127.0.0.1:$ipc_port" --cert "$pki/caller.pem" --key "$pki/caller.key"
  --ca "$pki/ca.pem" --server-name localhost)
# One second of the same load, unrecorded, comes first: a signetd's first second under load
# (heap growth, page faults, signing contexts being prepared) ran up to a fifth slower.
load() {  # load OUT ARGS...: one signet-bench load run on core 1, JSON to OUT, table to stdout
  local out="$1"
  shift
  taskset -c 1 "$bench" load "${client[@]}" --seconds 1 "$@" >/dev/null
  taskset -c 1 "$bench" load "${client[@]}" --server-pid "$server_pid" --seconds "$seconds" \
    --json "$@" >"$work/$out.json"
  cat "$work/$out.json"
}
limit() {  # limit OUT ARGS...: a reference loop on core 0 (signetd idle or stopped)
  local out="$1"
  shift
  taskset -c 0 "$bench" limit "$@" --seconds 2 --json >"$work/$out.json"
  cat "$work/$out.json"
}
# The machine's speed drifts by a fifth within a minute, so a case's reference loop runs right
# before and right after each round's load (signetd idle meanwhile; neighbouring rounds share
# a loop), and the load is compared with the mean of the two.
bracketed() {  # bracketed NAME "LIMIT ARGS" LOAD ARGS...: rounds to $work/NAME.rounds
  local name="$1" limit_args i
  read -r -a limit_args <<<"$2"
  shift 2
  limit "${name}_limit_0" "${limit_args[@]}"
  : >"$work/$name.rounds"
  for i in $(seq "$rounds"); do
    load "${name}_$i" "$@"
    limit "${name}_limit_$i" "${limit_args[@]}"
    echo "$(f "${name}_$i" items_per_second) $(mean_of "${name}_limit_$((i - 1))" \
      "${name}_limit_$i" per_second)" >>"$work/$name.rounds"
  done
}
f() { json_field "$work/$1.json" "$2"; }
mean_of() {  # mean_of OUT1 OUT2 FIELD
  "$python" -c "print(($(f "$1" "$3") + $(f "$2" "$3")) / 2)"
}
heavy=(--connections 4 --in-flight 16 --batch 16)

echo "# signet benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $seconds s per run, $rounds rounds"
echo "# server: taskset -c 0 signetd; load: taskset -c 1 signet-bench; limits: taskset -c 0"

# --- software key: JWT-SVID, digest, X.509-SVID, latency ---------------------------------------
start_server "$state/sw.toml"
bracketed jwt_svid_software "jwt" --mix jwt "${heavy[@]}"
bracketed raw_digest_software "digest" --mix digest --raw-key raw-sw "${heavy[@]}"
bracketed x509_svid_software "x509" --mix x509 "${heavy[@]}"

# Latency: p99 at half of the single-request maximum against an idle server's median.
: >"$work/p99_at_half_load_vs_idle_p50.rounds"
for i in $(seq "$rounds"); do
  load "idle_latency_$i" --mix jwt --connections 1 --in-flight 1 --batch 1
  load "max_single_$i" --mix jwt --connections 4 --in-flight 32 --batch 1
  half="$("$python" -c "print(int($(f "max_single_$i" items_per_second) / 2))")"
  load "half_load_$i" --mix jwt --connections 4 --in-flight 256 --batch 1 --rate "$half"
  echo "$(f "half_load_$i" p99_us) $(f "idle_latency_$i" p50_us)" \
    >>"$work/p99_at_half_load_vs_idle_p50.rounds"
done

# Durable audit on, each round between two runs without it.
load audit_off_0 --mix jwt "${heavy[@]}"
: >"$work/durable_audit.rounds"
for i in $(seq "$rounds"); do
  start_server "$state/sw-audit.toml"
  load "audit_on_$i" --mix jwt "${heavy[@]}"
  start_server "$state/sw.toml"
  load "audit_off_$i" --mix jwt "${heavy[@]}"
  echo "$(f "audit_on_$i" items_per_second) $(mean_of "audit_off_$((i - 1))" "audit_off_$i" \
    items_per_second)" >>"$work/durable_audit.rounds"
done

# --- 1,000 idle connections: signetd's resident memory ----------------------------------------
idle_pids=()
for n in 1 2 3 4; do
  taskset -c 1 "$bench" idle --endpoint "127.0.0.1:$ipc_port" --cert "$pki/idle$n.pem" \
    --key "$pki/idle$n.key" --ca "$pki/ca.pem" --server-name localhost --connections 250 \
    --hold 6 --server-pid "$server_pid" --json >"$work/idle$n.json" 2>&1 &
  idle_pids+=($!)
done
rss_max=0
for _ in $(seq 120); do
  rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")"
  rss_max=$((rss > rss_max ? rss : rss_max))
  sleep 0.1
done
idle_ok=1
for pid in "${idle_pids[@]}"; do wait "$pid" || idle_ok=0; done
cat "$work"/idle?.json
connected=0
for n in 1 2 3 4; do
  connected=$((connected + $(json_field "$work/idle$n.json" connected 2>/dev/null || echo 0)))
done
printf '{"mode":"idle-total","connected":%d,"server_rss_peak_mib":%d}\n' "$connected" \
  "$((rss_max / 1024))"

# --- SoftHSM key --------------------------------------------------------------------------------
start_server "$state/hsm.toml"
bracketed jwt_svid_softhsm "csign --module /usr/lib/softhsm/libsofthsm2.so --key-uri $jwt_hsm_ref \
--pin-file $state/softhsm/pin" --mix jwt "${heavy[@]}"

# --- slow device: 2 ms per signature, 32 sessions -----------------------------------------------
start_server "$state/slow.toml"
load slow --mix digest --raw-key raw-slow --connections 4 --in-flight 32 --batch 8
stop_server

# --- ratios ---------------------------------------------------------------------------------------
echo
rounds_ratio jwt_svid_software ">=" 0.75
rounds_ratio jwt_svid_softhsm ">=" 0.85
rounds_ratio raw_digest_software ">=" 0.80
rounds_ratio x509_svid_software ">=" 0.70
ratio slow_device_2ms_32_sessions "$(f slow items_per_second)" 16000 ">=" 0.90
rounds_ratio durable_audit ">=" 0.90
if [ "$connected" -eq 1000 ] && [ "$idle_ok" -eq 1 ]; then
  ratio idle_1000_connections_rss_mib "$((rss_max / 1024))" 100 "<=" 1
else
  echo "RATIO idle_1000_connections_rss_mib: only $connected of 1000 connections opened"
fi
rounds_ratio p99_at_half_load_vs_idle_p50 "<=" 5
