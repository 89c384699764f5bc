#!/usr/bin/env bash
# The audit log survives kill -9 under load: signetd is killed while a client has many
# access-token requests in flight on one connection, then restarted. The log must verify
# (hash chain and checkpoint signatures), hold exactly one record for every token the client
# received, and hold no more extra records than were in flight when signetd died (a record
# is made durable before its response is sent, so a crash between the two leaves a record
# whose token never arrived; the reverse must never happen).
#
#   audit_crash_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build="$1"
source_dir="$2"
signetd="$build/tools/signetd/signetd"
signetctl="$build/tools/signetctl/signetctl"
client="$build/tests/audit_crash_client"
python=/usr/bin/python3  # Debian's; the python3 on PATH may be another
window=64

work="$(mktemp -d "${TMPDIR:-/tmp}/signet-crash-XXXXXX")"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

start_signetd() {
  "$signetd" --config "$state/signetd.toml" >>"$work/signetd.log" 2>&1 &
  pid=$!
  local before="$1"
  for _ in $(seq 1 100); do
    if [ "$(grep -c 'event=listen transport=unix' "$work/signetd.log")" -gt "$before" ]; then
      return 0
    fi
    sleep 0.1
  done
  echo "signetd did not start:"
  cat "$work/signetd.log"
  exit 1
}

ipc_port="$(free_port)"
https_port="$(free_port)"
while [ "$https_port" = "$ipc_port" ]; do https_port="$(free_port)"; done
state="$work/state"
"$source_dir/tools/dev-init.sh" --state-dir "$state" --build-dir "$build" \
  --ipc-port "$ipc_port" --https-port "$https_port" >/dev/null
export SOFTHSM2_CONF="$state/softhsm/softhsm2.conf"
# Checkpoint often, so that the crash lands between checkpoints that verify must check.
sed -i 's|^audit_dir = "audit"|audit_dir = "audit"\naudit_checkpoint_records = 100|' \
  "$state/signetd.toml"

start_signetd 0
"$client" "$state/signetctl.toml" 1000000 "$window" >"$work/received.txt" 2>"$work/client.err" &
client_pid=$!
for _ in $(seq 1 300); do
  [ "$(wc -l <"$work/received.txt")" -ge 500 ] && break
  sleep 0.1
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
wait "$client_pid"
received="$(wc -l <"$work/received.txt")"
echo "client: $(cat "$work/client.err")"
[ "$received" -ge 500 ] || { echo "only $received tokens before the kill"; exit 1; }

# Restart: the torn tail (if any) is cut and recorded; then stop cleanly.
start_signetd 1
kill -TERM "$pid"
wait "$pid" || { echo "signetd did not stop cleanly"; cat "$work/signetd.log"; exit 1; }
pid=""

"$signetctl" audit verify --dir "$state/audit" --key "$state/ca/audit.pub.pem" | tee "$work/verify"
grep -qE "checkpoints: [1-9][0-9]* verified, 0 not checked" "$work/verify"

"$signetctl" audit query --dir "$state/audit" --op access_token --principal user:smith \
  >"$work/records.jsonl"
"$python" - "$work/received.txt" "$work/records.jsonl" "$window" <<'PY'
import collections, json, sys
received = [line.strip() for line in open(sys.argv[1]) if line.strip()]
records = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
window = int(sys.argv[3])
logged = collections.Counter(r["jti"] for r in records if r.get("result") == "granted")
missing = [j for j in received if logged[j] == 0]
duplicated = [j for j, n in logged.items() if n > 1]
extra = len(logged) - len(set(received))
assert len(set(received)) == len(received), "the client received a jti twice"
assert not missing, f"{len(missing)} received tokens have no audit record, e.g. {missing[:3]}"
assert not duplicated, f"records duplicated: {duplicated[:3]}"
assert 0 <= extra <= window, f"{extra} records beyond what was received (window {window})"
chains = {tuple(a["sub"] for a in r["act"]) for r in records}
assert chains == {("spiffe://example.org/agent/refunds", "spiffe://example.org/app/support")}, chains
print(f"ok: {len(received)} tokens received, {len(logged)} recorded, {extra} in flight at the kill")
PY

# The first actor of the chain finds the same records: "what went through app/support".
deep="$("$signetctl" audit query --dir "$state/audit" --op access_token \
  --principal spiffe://example.org/app/support | wc -l)"
[ "$deep" -eq "$(wc -l <"$work/records.jsonl")" ] || { echo "principal query: $deep"; exit 1; }
echo "ok: audit log verifies after kill -9 under pipelined load"
