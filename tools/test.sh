#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
# Exits non-zero when any test fails. Hardware tests (SoftHSM2, swtpm) always run:
# a missing device is a failure, never a skip.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/tools/deps.sh"

signet_install_deps
signet_build -DSIGNET_WERROR=ON
cd "$root/build"
ctest --output-on-failure -j "$(nproc)" "$@"
