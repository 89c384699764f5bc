#!/usr/bin/env bash
# Smoke test for signet-bench: it drives a real signetd (state from tools/dev-init.sh, plus a
# slow-test backend) for a fraction of a second and every request must succeed. It asserts
# that the tool works, never a rate.
#
#   bench_smoke_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"
source_dir="$2"
signetd="$build/tools/signetd/signetd"
bench="$build/tools/bench/signet-bench"
python=/usr/bin/python3

work="$(mktemp -d "${TMPDIR:-/tmp}/signet-bench-smoke-XXXXXX")"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')"
state="$work/state"
"$source_dir/tools/dev-init.sh" --state-dir "$state" --build-dir "$build" --ipc-port "$port" \
  --https-port 0
export SOFTHSM2_CONF="$state/softhsm/softhsm2.conf"

# Add a slow-test backend holding one raw key, and grant it; no audit, no HTTPS.
sed -i -e '/^audit_dir/d' -e '/^\[https\]/,/^listen/d' \
  -e 's/^raw_keys = .*/raw_keys = ["raw-es256-1", "raw-slow"]/' "$state/signetd.toml"
cat >"$work/slow.toml" <<'TOML'
[[backend]]
name = "slow"
type = "slow-test"
latency_us = 1000
sessions = 4

[[key]]
id = "raw-slow"
backend = "slow"
purpose = "raw"
ref = "slow-test:label=raw-slow;alg=ES256"

TOML
awk -v extra="$work/slow.toml" '/^\[minter\]/ { while ((getline line < extra) > 0) print line }
  { print }' "$state/signetd.toml" >"$work/with-slow.toml"
mv "$work/with-slow.toml" "$state/signetd.toml"

"$signetd" --config "$state/signetd.toml" 2>"$work/signetd.log" &
pid=$!
client=(--endpoint "127.0.0.1:$port" --cert "$state/pki/caller.pem" --key "$state/pki/caller.key"
  --ca "$state/pki/ca.pem" --server-name localhost)
for _ in $(seq 100); do
  "$bench" idle "${client[@]}" --connections 1 --hold 0 >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/signetd.log"; exit 1; }
  sleep 0.1
done

check_load() {  # check_load ARGS...: every request answered, every item signed
  local out
  out="$("$bench" load "${client[@]}" --server-pid "$pid" --seconds 0.3 --warmup 0.1 --json "$@")"
  echo "$out"
  "$python" - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["requests"] > 0, r
assert r["item_errors"] == 0 and r["request_errors"] == 0, r
assert r["items"] == r["requests"] * r["batch"], r
assert r["server_cpu_seconds"] >= 0, r
PY
}
check_load --mix jwt,token,x509,digest --connections 2 --in-flight 4 --batch 2
check_load --mix digest --raw-key raw-slow --connections 1 --in-flight 8 --batch 1
"$bench" limit jwt --seconds 0.1 --json | grep -q '"per_second"'
echo "signet-bench smoke: ok"
