#!/usr/bin/env bash
# Interim: installs what is missing, builds, provisions a SoftHSM2 token under var/softhsm/
# on the first run, and runs signet-demo (an ES256 key in the token signs a message that the
# openssl CLI verifies). Will be replaced by starting signetd.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/tools/deps.sh"

signet_install_deps
signet_build

softhsm="$root/var/softhsm"
label="signet-demo"
module="/usr/lib/softhsm/libsofthsm2.so"
export SOFTHSM2_CONF="$softhsm/softhsm2.conf"

if [ ! -f "$SOFTHSM2_CONF" ]; then
  echo "signet: provisioning SoftHSM token '$label' in $softhsm" >&2
  mkdir -p "$softhsm/tokens"
  chmod 700 "$softhsm"
  cat >"$SOFTHSM2_CONF" <<CONF
directories.tokendir = $softhsm/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
  (
    umask 077
    openssl rand -hex 16 >"$softhsm/user.pin"
    openssl rand -hex 16 >"$softhsm/so.pin"
  )
  # Known shortcoming: softhsm2-util takes the PINs as arguments (visible in ps while it runs,
  # once, at provisioning); it has no option to read them from a file.
  softhsm2-util --init-token --free --label "$label" \
    --so-pin "$(cat "$softhsm/so.pin")" --pin "$(cat "$softhsm/user.pin")" >/dev/null
fi

"$root/build/tools/signet-demo" "$module" "$label" "$softhsm/user.pin" "$softhsm"
