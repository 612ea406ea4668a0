#!/usr/bin/env bash
# Installs what globalloc needs on Debian 12 that is not there yet: the
# toolchain, GoogleTest and Google Benchmark, the peer allocators the
# benchmarks compare against, and the real programs the tests run under the
# preload library. Runs apt-get only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake g++ clang pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev libclang-rt-14-dev
  python3 sqlite3 git perl xz-utils nodejs valgrind doxygen
  libpython3.11-testsuite
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
