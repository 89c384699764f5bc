#!/usr/bin/env bash
# End to end, as a newcomer would use signet: provision a state directory with the same
# tools/dev-init.sh that tools/run.sh uses (SoftHSM token, keys generated inside it, dev PKI),
# start signetd on free loopback ports, and drive it with signetctl. Tokens are verified with
# python3-jwt against the JWKS fetched over HTTPS, certificates with `openssl verify`.
#
#   e2e_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build="$1"
source_dir="$2"
signetd="$build/tools/signetd/signetd"
signetctl="$build/tools/signetctl/signetctl"
verify_py="$source_dir/tests/tools/e2e_verify.py"
python=/usr/bin/python3  # Debian's, with python3-jwt; the python3 on PATH may lack it

work="$(mktemp -d "${TMPDIR:-/tmp}/signet-e2e-XXXXXX")"
signetd_pid=""
cleanup() {
  if [ -n "$signetd_pid" ] && kill -0 "$signetd_pid" 2>/dev/null; then
    kill -TERM "$signetd_pid" 2>/dev/null || true
    wait "$signetd_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {  # check NAME COMMAND...: runs the command, counts and reports the outcome
  local name="$1"
  shift
  if "$@" >"$work/check.out" 2>&1; then
    passed=$((passed + 1))
    echo "ok: $name"
  else
    failed=$((failed + 1))
    echo "FAILED: $name"
    sed 's/^/    /' "$work/check.out"
  fi
}

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# --- provision, exactly as run.sh does ------------------------------------------------------
ipc_port="$(free_port)"
https_port="$(free_port)"
while [ "$https_port" = "$ipc_port" ]; do https_port="$(free_port)"; done
state="$work/state"
"$source_dir/tools/dev-init.sh" --state-dir "$state" --build-dir "$build" \
  --ipc-port "$ipc_port" --https-port "$https_port"
export SOFTHSM2_CONF="$state/softhsm/softhsm2.conf"

# Narrow the sample grant to two subtrees so that a subject outside them is refused.
narrow='subjects = ["spiffe://example.org/workload/*", "spiffe://example.org/user/*"]'
sed -i "s|^subjects = \\[\"spiffe://example.org/\\*\"\\]|$narrow|" \
  "$state/signetd.toml"
grep -q 'example.org/workload/\*' "$state/signetd.toml"

# --- config errors: signetd refuses to start and says why ------------------------------------
config_error() {  # config_error FILE EXPECTED_TEXT [FORBIDDEN_TEXT]
  local out rc=0
  out="$("$signetd" --config "$1" 2>&1)" || rc=$?
  [ "$rc" -ne 0 ] || { echo "signetd started with $1"; return 1; }
  grep -qF -- "$2" <<<"$out" || { echo "expected '$2' in: $out"; return 1; }
  if [ -n "${3:-}" ] && grep -qF -- "$3" <<<"$out"; then
    echo "'$3' must not appear in: $out"
    return 1
  fi
}
check "signetd names a missing config file" \
  config_error "$work/absent.toml" "$work/absent.toml: no such config file"
sed 's|^pin_file = .*|pin = "4711-secret"|' "$state/signetd.toml" >"$work/pin.toml"
check "signetd refuses a PIN written in the config text" \
  config_error "$work/pin.toml" "backend[0].pin: secrets are never written in the config" \
  "4711-secret"
sed 's|^\[https\]|[https]\nlisten_port = 1|' "$state/signetd.toml" >"$work/badkey.toml"
check "signetd refuses an unknown key and names it" \
  config_error "$work/badkey.toml" "badkey.toml: https.listen_port: unknown key"

check_config() {
  "$signetd" --check-config --config "$state/signetd.toml" | grep -qF "$state/signetd.toml: ok"
}
check "signetd --check-config accepts the development config" check_config

# --- start signetd ---------------------------------------------------------------------------
"$signetd" --config "$state/signetd.toml" >"$work/signetd.log" 2>&1 &
signetd_pid=$!
for _ in $(seq 1 100); do
  if grep -q 'event=listen transport=unix' "$work/signetd.log"; then break; fi
  if ! kill -0 "$signetd_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if ! grep -q 'event=listen transport=unix' "$work/signetd.log"; then
  echo "signetd did not start:"
  cat "$work/signetd.log"
  exit 1
fi

export SIGNET_CONFIG="$state/signetctl.toml"
jwks_url="https://127.0.0.1:$https_port/.well-known/jwks.json"
issuer="https://127.0.0.1:$https_port"

# --- JWT-SVID --------------------------------------------------------------------------------
jwt_svid() {
  local token
  token="$("$signetctl" mint jwt-svid --sub spiffe://example.org/workload/web \
    --aud https://api.example.org --aud https://other.example.org --ttl 5m)"
  printf '%s' "$token" >"$work/token.txt"
  "$python" "$verify_py" jwt-svid "$jwks_url" "$state/pki/ca.pem" "$token" \
    spiffe://example.org/workload/web https://api.example.org
}
check "a JWT-SVID verifies against the JWKS served over HTTPS" jwt_svid

# --- access token with two act levels --------------------------------------------------------
access_token() {
  local token
  token="$("$signetctl" mint access-token --sub spiffe://example.org/user/alice \
    --aud https://api.example.org --client-id support-agent --scope orders:read \
    --act spiffe://example.org/agent/refunds --act spiffe://example.org/agent/planner \
    --ttl 60s)"
  "$python" "$verify_py" access-token "$jwks_url" "$state/pki/ca.pem" "$token" \
    spiffe://example.org/user/alice https://api.example.org support-agent "$issuer" \
    spiffe://example.org/agent/refunds spiffe://example.org/agent/planner
}
check "an access token carries the nested act chain, current actor outermost" access_token

# --- X.509-SVID from a CSR made with openssl -------------------------------------------------
x509_svid() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/web.key" -subj "/CN=web" -out "$work/web.csr" 2>/dev/null
  "$signetctl" --config "$state/signetctl.toml" mint x509-svid --csr "$work/web.csr" \
    --sub spiffe://example.org/workload/web --ttl 1h >"$work/svid.pem"
  awk -v dir="$work" '/BEGIN CERTIFICATE/ { n++ } { print > (dir "/svid-" n ".pem") }' \
    "$work/svid.pem"
  openssl verify -x509_strict -CAfile "$state/ca/root.pem" -untrusted "$work/svid-2.pem" \
    "$work/svid-1.pem"
  openssl x509 -in "$work/svid-1.pem" -noout -ext subjectAltName |
    grep -qF "URI:spiffe://example.org/workload/web"
}
check "an X.509-SVID chains to the development root under openssl verify -x509_strict" x509_svid

# --- raw signature, checked with the key's public half read from the token -------------------
raw_sign() {
  printf 'release-1.2.3' >"$work/message"
  local digest
  digest="$(sha256sum "$work/message" | cut -d' ' -f1)"
  "$signetctl" sign --key raw-es256-1 --digest "$digest" |
    "$python" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read()))' \
      >"$work/sig.der"
  pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label signet-dev \
    --read-object --type pubkey --label raw-es256-1 -o "$work/raw.pub.der" >/dev/null 2>&1
  openssl pkey -pubin -inform DER -in "$work/raw.pub.der" -out "$work/raw.pub.pem"
  openssl dgst -sha256 -verify "$work/raw.pub.pem" -signature "$work/sig.der" "$work/message"
}
check "a raw digest signature verifies with the token's public key" raw_sign

# --- refusals --------------------------------------------------------------------------------
refused() {  # refused EXPECTED_STATUS EXPECTED_TEXT signetctl-args...
  local want_rc="$1" want_text="$2" rc=0
  shift 2
  "$signetctl" "$@" >"$work/refused.out" 2>"$work/refused.err" || rc=$?
  [ "$rc" -eq "$want_rc" ] || { echo "exit $rc, want $want_rc"; cat "$work/refused.err"; return 1; }
  [ ! -s "$work/refused.out" ] || { echo "printed a credential"; return 1; }
  grep -qF -- "$want_text" "$work/refused.err" || { cat "$work/refused.err"; return 1; }
}
check "a subject outside the grant is refused with permission_denied and exit 3" \
  refused 3 "permission_denied" mint jwt-svid --sub spiffe://example.org/admin --aud x
check "a custodian, granted only admin, may not mint" \
  refused 3 "operation 'jwt_svid' is not granted" --config "$state/custodian.toml" \
  mint jwt-svid --sub spiffe://example.org/workload/web --aud x
check "a malformed duration is refused before connecting" \
  refused 2 "--ttl '5x': unknown unit 'x'" mint jwt-svid --sub spiffe://example.org/w --aud x \
  --ttl 5x
check "the refusal is logged as caller_refused" \
  grep -qF "event=caller_refused caller=spiffe://example.org/identity-server \
op=mint_jwt_svid sub=spiffe://example.org/admin" \
  "$work/signetd.log"

# --- audit log: every mint and refusal above is recorded, and the chain verifies ----------
audit_log() {
  "$signetctl" audit verify --dir "$state/audit"
  "$signetctl" audit query --dir "$state/audit" --principal spiffe://example.org/agent/planner \
    >"$work/query.out"
  grep -qF '"subject":"spiffe://example.org/user/alice"' "$work/query.out"
  "$signetctl" audit query --dir "$state/audit" --subject spiffe://example.org/admin \
    >"$work/refused.out"
  grep -qF '"granted":false' "$work/refused.out"
  ! grep -qF "$(cat "$work/token.txt")" "$state"/audit/*
}
check "the audit log records mints and refusals, verifies, and holds no token" audit_log

# --- documents -------------------------------------------------------------------------------
documents() {
  "$signetctl" jwks | "$python" -c 'import json, sys
keys = json.load(sys.stdin)["keys"]
assert any(k["kid"] == "jwt-es256-1" for k in keys), keys'
  "$signetctl" bundle | "$python" -c 'import json, sys
uses = {k["use"] for k in json.load(sys.stdin)["keys"]}
assert uses == {"jwt-svid", "x509-svid"}, uses'
}
check "jwks and bundle hold the JWT key and the X.509 authority" documents

# --- custodians: rotation, termination, and no admin for identity servers --------------------
custodian() { "$signetctl" --config "$state/custodian.toml" "$@"; }
kid_of() {  # kid_of TOKEN
  "$python" -c 'import jwt, sys; print(jwt.get_unverified_header(sys.argv[1])["kid"])' "$1"
}
rotate_jwt_key() {
  local old_token new_token new_kid
  old_token="$(cat "$work/token.txt")"
  [ "$(kid_of "$old_token")" = jwt-es256-1 ]
  custodian key rotate --purpose jwt --json >"$work/rotate.json"
  new_kid="$("$python" -c 'import json, sys
print(next(t["kid"] for t in json.load(open(sys.argv[1])) if t["to"] == "active"))' \
    "$work/rotate.json")"
  new_token="$("$signetctl" mint jwt-svid --sub spiffe://example.org/workload/web \
    --aud https://api.example.org --ttl 5m)"
  [ "$(kid_of "$new_token")" = "$new_kid" ] ||
    { echo "signed by $(kid_of "$new_token")"; return 1; }
  "$python" "$verify_py" jwt-svid "$jwks_url" "$state/pki/ca.pem" "$new_token" \
    spiffe://example.org/workload/web https://api.example.org
  "$python" "$verify_py" jwt-svid "$jwks_url" "$state/pki/ca.pem" "$old_token" \
    spiffe://example.org/workload/web https://api.example.org
  custodian key list | grep -E '^jwt-es256-1 +jwt .* retired '
  custodian key destroy jwt-es256-1 --yes >"$work/destroy.out" 2>&1 && return 1
  grep -qF "failed_precondition" "$work/destroy.out"
}
check "key rotate: the next token has the new kid, the old token still verifies" rotate_jwt_key

prepared_key_published() {
  custodian key generate --purpose jwt --json >"$work/generate.json"
  local kid token
  kid="$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["kid"])' \
    "$work/generate.json")"
  curl -sf --cacert "$state/pki/ca.pem" "$jwks_url" | grep -qF "\"kid\":\"$kid\""
  token="$("$signetctl" mint jwt-svid --sub spiffe://example.org/workload/web --aud x)"
  [ "$(kid_of "$token")" != "$kid" ] || { echo "a prepared key signed"; return 1; }
}
check "key generate: a prepared key is in the JWKS before it signs anything" \
  prepared_key_published

deny_stops_minting() {
  local rogue=spiffe://example.org/workload/rogue
  "$signetctl" mint jwt-svid --sub "$rogue" --aud x >/dev/null
  custodian deny add "$rogue" --reason "compromised"
  custodian deny list | grep -qF "$rogue"
  refused 3 "is terminated (deny list)" mint jwt-svid --sub "$rogue" --aud x
  refused 3 "is terminated (deny list)" mint access-token --sub spiffe://example.org/user/bob \
    --aud x --client-id c --act "$rogue"
  custodian deny remove "$rogue"
  "$signetctl" mint jwt-svid --sub "$rogue" --aud x >/dev/null
}
check "deny add stops minting for the subject at once, also inside an act chain" \
  deny_stops_minting

ceremony_through_signetd() {
  custodian ca issue-intermediate --backend hsm --cn "signet e2e intermediate" \
    --trust-domain example.org --ttl 720h --path-length 0 --json >"$work/issue.json"
  local kid
  kid="$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["kid"])' \
    "$work/issue.json")"
  custodian key activate "$kid" >/dev/null
  custodian key show "$kid" | grep -E '^state +active$'
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/api.key" -subj "/CN=api" -out "$work/api.csr" 2>/dev/null
  "$signetctl" mint x509-svid --csr "$work/api.csr" --sub spiffe://example.org/workload/api \
    --ttl 1h >"$work/api.pem"
  awk -v dir="$work" '/BEGIN CERTIFICATE/ { n++ } { print > (dir "/api-" n ".pem") }' \
    "$work/api.pem"
  openssl x509 -in "$work/api-2.pem" -noout -subject | grep -qF "signet e2e intermediate"
  openssl verify -x509_strict -CAfile "$state/ca/root.pem" -untrusted "$work/api-2.pem" \
    "$work/api-1.pem"
  custodian status | grep -E "^x509-ca/intermediate +$kid "
}
check "the CA ceremony through signetd: a new intermediate issues X.509-SVIDs" \
  ceremony_through_signetd

check "an identity server may not run custodian commands" \
  refused 3 "operation 'admin' is not granted" key rotate --purpose jwt
check "an identity server may not lift a termination" \
  refused 3 "permission_denied" deny remove spiffe://example.org/workload/rogue

check "an offline change is refused while signetd holds the audit log" \
  refused 4 "another process has it open" --daemon-config "$state/signetd.toml" \
  --state-dir "$state/state" deny add spiffe://example.org/workload/other

custodian_actions_recorded() {
  "$signetctl" audit verify --dir "$state/audit"
  "$signetctl" audit query --dir "$state/audit" --op key.activate >"$work/q.out"
  grep -qF '"caller":"spiffe://example.org/custodian"' "$work/q.out"
  "$signetctl" audit query --dir "$state/audit" --op key.retire | grep -qF '"key":"jwt-es256-1"'
  "$signetctl" audit query --dir "$state/audit" --op deny.add |
    grep -qF '"subject":"spiffe://example.org/workload/rogue"'
  "$signetctl" audit query --dir "$state/audit" --op key.rotate |
    grep -qF '"caller":"spiffe://example.org/identity-server"'
}
check "key transitions, deny-list changes and refused admin commands are in the audit log" \
  custodian_actions_recorded
remote_verify() {
  custodian audit verify --signetd >"$work/remote.out"
  grep -E '^OK: [0-9]+ records in 1 segments' "$work/remote.out"
}
check "signetd verifies its own audit log for a custodian" remote_verify
check "an identity server may not ask signetd to verify its log" \
  refused 3 "permission_denied" audit verify --signetd

# --- reload and stop -------------------------------------------------------------------------
reload() {
  kill -HUP "$signetd_pid"
  for _ in $(seq 1 50); do
    if grep -q 'event=config_reload' "$work/signetd.log"; then return 0; fi
    sleep 0.1
  done
  return 1
}
check "SIGHUP reloads the config" reload
policy_changes_recorded() {
  local loaded reloaded
  loaded="$("$signetctl" audit query --dir "$state/audit" --op policy.load)"
  reloaded="$("$signetctl" audit query --dir "$state/audit" --op policy.reload)"
  grep -q '"caller":"signetd"' <<<"$loaded"
  grep -q '"result":"granted"' <<<"$reloaded"
}
check "the policy loaded at start and reloaded on SIGHUP is recorded in the audit log" \
  policy_changes_recorded
health_serving() {
  curl -sf --cacert "$state/pki/ca.pem" "https://127.0.0.1:$https_port/healthz"
  local metrics
  metrics="$(curl -sf --cacert "$state/pki/ca.pem" "https://127.0.0.1:$https_port/metrics")"
  grep -q '^signet_audit_writable 1' <<<"$metrics"
  grep -q '^signet_credentials_total{op="mint_jwt_svid",kid="jwt-es256-1"} [1-9]' <<<"$metrics"
  grep -q '^signet_credentials_total{op="sign_digest",kid="raw-es256-1"} [1-9]' <<<"$metrics"
  grep -q '^signet_item_errors_total{op="mint_jwt_svid",code="permission_denied"} [1-9]' \
    <<<"$metrics"
  grep -q '^signet_backend_queue_depth{backend="hsm"} 0' <<<"$metrics"
}
check "health is serving; metrics count credentials by key, errors by code, queue depth" \
  health_serving
stop() {
  kill -TERM "$signetd_pid"
  local rc=0
  wait "$signetd_pid" || rc=$?
  signetd_pid=""
  [ "$rc" -eq 0 ] && grep -q 'event=stop' "$work/signetd.log"
}
check "SIGTERM stops signetd cleanly" stop
no_pin_in_log() {
  ! grep -qF -- "$(cat "$state/softhsm/pin")" "$work/signetd.log"
}
check "no PIN reaches the log" no_pin_in_log

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
