#!/usr/bin/env bash
# Installs the Debian 12 packages signet needs to build and test, when any is missing.
# Idempotent and quick when everything is present. Sourced by run.sh and test.sh.
set -euo pipefail

SIGNET_PACKAGES=(
  build-essential cmake pkg-config
  libcli11-dev
  libssl-dev openssl
  libboost1.81-dev libboost-json1.81-dev
  libp11-dev libp11-kit-dev softhsm2 opensc
  swtpm swtpm-tools libtss2-dev tpm2-tools
  catch2
  python3 python3-jwt python3-cryptography
  protobuf-compiler libprotobuf-dev curl
  libtomlplusplus-dev
  libspdlog-dev
)

signet_install_deps() {
  local missing=()
  local pkg
  for pkg in "${SIGNET_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  echo "signet: installing missing packages: ${missing[*]}" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# Configures and builds into build/ with the given extra CMake arguments.
signet_build() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$root/build" -j "$(nproc)"
}
