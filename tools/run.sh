#!/usr/bin/env bash
# Installs what is missing, builds, provisions a development state directory in var/ on the
# first run (tools/dev-init.sh: SoftHSM token with the CA, JWT and raw keys generated inside
# it, an mTLS PKI, a policy granting the sample identity server everything in example.org),
# then runs signetd in the foreground: IPC on 127.0.0.1:7443 and var/signetd.sock, HTTPS on
# 127.0.0.1:7444. Later runs reuse var/; delete it to start over. Ctrl-C stops signetd.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/tools/deps.sh"

signet_install_deps
signet_build

state="$root/var"
if [ ! -f "$state/signetd.toml" ]; then
  echo "signet: first run: provisioning $state (SoftHSM token, keys, development PKI)" >&2
fi
"$root/tools/dev-init.sh" --state-dir "$state" --build-dir "$root/build" \
  --ipc-port 7443 --https-port 7444
export SOFTHSM2_CONF="$state/softhsm/softhsm2.conf"

cat >&2 <<NEXT

signetd is starting: IPC on 127.0.0.1:7443 and var/signetd.sock (mTLS), HTTPS on
127.0.0.1:7444. In another terminal, from $root:

  export SIGNET_CONFIG=\$PWD/var/signetctl.toml PATH=\$PWD/build/tools/signetctl:\$PATH
  signetctl mint jwt-svid --sub spiffe://example.org/workload/web --aud https://api.example.org
  signetctl mint access-token --sub spiffe://example.org/user/alice --aud https://api.example.org \\
      --client-id support-agent --act spiffe://example.org/agent/refunds
  signetctl jwks
  curl --cacert var/pki/ca.pem https://127.0.0.1:7444/.well-known/jwks.json

README.md has more: X.509-SVIDs from a CSR, raw signatures, verifying what you minted.
Ctrl-C stops signetd.

NEXT
exec "$root/build/tools/signetd/signetd" --config "$state/signetd.toml"
