#!/usr/bin/env bash
# Creates a development state directory for signetd: a SoftHSM token holding the CA, JWT and
# raw-signing keys (generated inside the token by signet-provision), a development PKI for
# mTLS made with the openssl command line, a policy granting the sample identity server
# everything in the trust domain, signetd.toml and signetctl.toml.
#
#   tools/dev-init.sh --state-dir DIR --build-dir BUILD [--ipc-port 7443] [--https-port 7444]
#
# Used by tools/run.sh (state in var/) and by the end-to-end test (state in a temporary
# directory). Does nothing when DIR/signetd.toml already exists. Development only: the PKI
# keys are plain files and every PIN is random and kept in a 0600 file beside the token.
set -euo pipefail

state_dir=""
build_dir=""
ipc_port=7443
https_port=7444
trust_domain="example.org"
softhsm_module="/usr/lib/softhsm/libsofthsm2.so"

while [ $# -gt 0 ]; do
  case "$1" in
    --state-dir) state_dir="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    --ipc-port) ipc_port="$2"; shift 2 ;;
    --https-port) https_port="$2"; shift 2 ;;
    *) echo "dev-init.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [ -z "$state_dir" ] || [ -z "$build_dir" ]; then
  echo "usage: dev-init.sh --state-dir DIR --build-dir BUILD [--ipc-port N] [--https-port N]" >&2
  exit 2
fi
if [ -f "$state_dir/signetd.toml" ]; then
  exit 0
fi
for tool in softhsm2-util openssl; do
  if ! command -v "$tool" >/dev/null; then
    echo "dev-init.sh: '$tool' is missing; run tools/deps.sh (package softhsm2 / openssl)" >&2
    exit 1
  fi
done
if [ ! -f "$softhsm_module" ]; then
  echo "dev-init.sh: $softhsm_module is missing; install the softhsm2 package" >&2
  exit 1
fi

# A half-made state directory (an earlier run stopped midway) is started over.
rm -rf "$state_dir/softhsm" "$state_dir/ca" "$state_dir/pki" "$state_dir/state"
mkdir -p "$state_dir"
chmod 700 "$state_dir"
state_dir="$(cd "$state_dir" && pwd)"
umask 077

# --- SoftHSM token -------------------------------------------------------------------------
mkdir -p "$state_dir/softhsm/tokens"
cat >"$state_dir/softhsm/softhsm2.conf" <<CONF
directories.tokendir = $state_dir/softhsm/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
export SOFTHSM2_CONF="$state_dir/softhsm/softhsm2.conf"
openssl rand -hex 16 >"$state_dir/softhsm/pin"
openssl rand -hex 16 >"$state_dir/softhsm/so-pin"
# softhsm2-util takes PINs only as arguments; acceptable for a development token on this host.
softhsm2-util --init-token --free --label signet-dev \
  --pin "$(cat "$state_dir/softhsm/pin")" --so-pin "$(cat "$state_dir/softhsm/so-pin")" >/dev/null

# --- keys and CA certificates inside the token ---------------------------------------------
refs="$("$build_dir/tools/provision/signet-provision" dev-init \
  --module "$softhsm_module" --token signet-dev --pin-file "$state_dir/softhsm/pin" \
  --trust-domain "$trust_domain" --out "$state_dir/ca")"
ref_of() { awk -v label="$1" '$1 == label { print $2 }' <<<"$refs"; }
root_ref="$(ref_of dev-root-ca)"
intermediate_ref="$(ref_of dev-intermediate-ca)"
jwt_ref="$(ref_of jwt-es256-1)"
raw_ref="$(ref_of raw-es256-1)"
audit_ref="$(ref_of audit-es256-1)"

# --- development PKI for mTLS (openssl CLI) ------------------------------------------------
pki="$state_dir/pki"
mkdir -p "$pki"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 3650 \
  -subj "/O=signet development/CN=signet dev mTLS CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>/dev/null

# issue NAME SUBJECT_CN SAN EKU
issue() {
  local name="$1" cn="$2" san="$3" eku="$4"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$pki/$name.key" -out "$pki/$name.csr" -subj "/O=signet development/CN=$cn" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' \
    >"$pki/$name.ext"
  printf 'extendedKeyUsage=%s\nsubjectAltName=%s\n' "$eku" "$san" >>"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 825 -out "$pki/$name.pem" -extfile "$pki/$name.ext" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}
issue server localhost "DNS:localhost,IP:127.0.0.1" serverAuth
issue caller identity-server "URI:spiffe://$trust_domain/identity-server" clientAuth
issue custodian custodian "URI:spiffe://$trust_domain/custodian" clientAuth
chmod 644 "$pki"/*.pem

# --- signetd.toml: paths are relative to this file ------------------------------------------
cat >"$state_dir/signetd.toml.tmp" <<TOML
# signetd development configuration written by tools/dev-init.sh.
# Every key is documented in docs/configuration.md.
trust_domain = "$trust_domain"
audit_dir = "audit"
# The key catalogue and the deny list. The [[key]] entries below are imported into the
# catalogue at the first start; from then on custodians change keys with signetctl.
state_dir = "state"

[log]
level = "info"

# The SoftHSM token under softhsm/ (signetd needs SOFTHSM2_CONF=softhsm/softhsm2.conf).
[[backend]]
name = "hsm"
type = "pkcs11"
module = "$softhsm_module"
token = "signet-dev"
pin_file = "softhsm/pin"

[[key]]
id = "jwt-es256-1"
backend = "hsm"
purpose = "jwt"
ref = "$jwt_ref"

[[key]]
id = "dev-root-ca"
backend = "hsm"
purpose = "x509-ca"
ref = "$root_ref"
certificate = "ca/root.pem"

[[key]]
id = "dev-intermediate-ca"
backend = "hsm"
purpose = "x509-ca"
ref = "$intermediate_ref"
certificate = "ca/intermediate.pem"
chain = "ca/root.pem"

[[key]]
id = "raw-es256-1"
backend = "hsm"
purpose = "raw"
ref = "$raw_ref"

# Signs the audit log's checkpoints.
[[key]]
id = "audit-es256-1"
backend = "hsm"
purpose = "audit"
ref = "$audit_ref"

[minter]
jwt_key = "jwt-es256-1"
x509_ca_key = "dev-intermediate-ca"
issuer = "https://127.0.0.1:$https_port"

# A new JWT key is prepared at half of the active key's lifetime and signs from its last sixth.
[rotation]
interval = "10s"

[rotation.jwt]
lifetime = "24h"
algorithm = "ES256"
backend = "hsm"

[ipc]
listen = "127.0.0.1:$ipc_port"
unix_socket = "signetd.sock"
certificate = "pki/server.pem"
private_key = "pki/server.key"
client_ca = "pki/ca.pem"

[https]
listen = "127.0.0.1:$https_port"

# The sample identity server may ask for everything in $trust_domain.
[[caller]]
id = "spiffe://$trust_domain/identity-server"
operations = ["jwt_svid", "access_token", "x509_svid", "raw_sign"]
subjects = ["spiffe://$trust_domain/*"]
principals = ["user:*"]
actors = ["spiffe://$trust_domain/*"]
audiences = ["*"]
max_act_depth = 8
raw_keys = ["raw-es256-1"]

[caller.max_ttl]
jwt_svid = 86400
access_token = 86400
x509_svid = 604800

# The custodian runs the key, deny-list and CA commands (signetctl --config custodian.toml).
[[caller]]
id = "spiffe://$trust_domain/custodian"
operations = ["admin"]
TOML

cat >"$state_dir/signetctl.toml" <<TOML
# signetctl client configuration written by tools/dev-init.sh (see docs/configuration.md).
endpoints = ["127.0.0.1:$ipc_port", "unix:signetd.sock"]
certificate = "pki/caller.pem"
private_key = "pki/caller.key"
ca = "pki/ca.pem"
server_name = "localhost"
timeout = "10s"
TOML
sed -e 's|pki/caller|pki/custodian|g' -e 's|^# signetctl client|# signetctl custodian client|' \
  "$state_dir/signetctl.toml" >"$state_dir/custodian.toml"
chmod 600 "$state_dir/signetctl.toml" "$state_dir/custodian.toml"

# signetd.toml last: its presence marks the state directory as complete.
mv "$state_dir/signetd.toml.tmp" "$state_dir/signetd.toml"
