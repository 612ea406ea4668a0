#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what is missing, build,
# run every test with CTest; then the conformance suite and the fast
# allocator's tests again in UndefinedBehaviorSanitizer and ThreadSanitizer
# builds (build-ubsan/, build-tsan/). GLOBALLOC_SKIP_SANITIZERS=1 skips those.
# The UBSan build uses clang++ (the main build and TSan's use g++), so the
# core compiles and passes with both compilers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
jobs=$(nproc 2>/dev/null || echo 2)
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

if [ "${GLOBALLOC_SKIP_SANITIZERS:-0}" != 1 ]; then
  for sanitizer in undefined thread; do
    dir=build-${sanitizer/undefined/ubsan}
    dir=${dir/thread/tsan}
    echo "== conformance and fast allocator tests under -fsanitize=$sanitizer ($dir)"
    compilers=()
    [ "$sanitizer" = undefined ] && compilers=(-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang)
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGLOBALLOC_SANITIZE="$sanitizer" "${compilers[@]}" \
      -DGLOBALLOC_BUILD_BENCH=OFF -DGLOBALLOC_BUILD_EXAMPLES=OFF > /dev/null
    cmake --build "$dir" -j "$jobs" --target globalloc_conformance_test fast_allocator_tests
    # Under TSan only the fast allocator's suite: the system allocator calls
    # glibc's internal entry points, which TSan does not see, so it would
    # report glibc's own reuse of memory as races.
    suites='^conformance\.'
    [ "$sanitizer" = thread ] && suites='^conformance\.Fast'
    TSAN_OPTIONS=allocator_may_return_null=1 \
      ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 -R "$suites"
    TSAN_OPTIONS=allocator_may_return_null=1 \
      ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 -L '^fast$'
  done
fi
