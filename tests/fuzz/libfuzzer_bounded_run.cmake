# fuzz.libfuzzer_bounded_run: builds the libFuzzer target in a separate clang
# build of the project and runs it for a bounded time with a fixed seed.
#   cmake -DSOURCE_DIR=... -DBUILD_DIR=... [-DCLANGXX=clang++] [-DCLANG=clang]
#         [-DRUNS=200000] [-DMAX_TOTAL_TIME=60] [-DJOBS=2] [-DEXTRA_FLAGS=...]
#         -P libfuzzer_bounded_run.cmake
# Prints "allocator_fuzz: SKIPPED" (the test's skip expression) when clang++
# or its libFuzzer runtime is missing. A crash leaves its input in
# BUILD_DIR/artifacts/; replay it with fuzz_replay FILE or allocator_fuzzer FILE.
cmake_minimum_required(VERSION 3.20)

foreach(required SOURCE_DIR BUILD_DIR)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "libfuzzer_bounded_run.cmake: -D${required}=... is required")
  endif()
endforeach()
if(NOT DEFINED RUNS)
  set(RUNS 200000)
endif()
if(NOT DEFINED MAX_TOTAL_TIME)
  set(MAX_TOTAL_TIME 60)
endif()
if(NOT DEFINED JOBS)
  set(JOBS 2)
endif()

if(NOT CLANGXX OR NOT EXISTS "${CLANGXX}")
  find_program(CLANGXX NAMES clang++ clang++-14)
endif()
if(NOT CLANG OR NOT EXISTS "${CLANG}")
  find_program(CLANG NAMES clang clang-14)
endif()
if(NOT CLANGXX OR NOT CLANG)
  message("allocator_fuzz: SKIPPED: clang/clang++ not found, no libFuzzer run")
  return()
endif()

# Does this clang have the libFuzzer runtime (libclang-rt-*-dev)?
file(MAKE_DIRECTORY "${BUILD_DIR}/probe")
file(WRITE "${BUILD_DIR}/probe/probe.cpp"
     "#include <cstddef>\n#include <cstdint>\nextern \"C\" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }\n")
execute_process(COMMAND "${CLANGXX}" -fsanitize=fuzzer "${BUILD_DIR}/probe/probe.cpp" -o "${BUILD_DIR}/probe/probe"
                RESULT_VARIABLE probe_result OUTPUT_VARIABLE probe_output ERROR_VARIABLE probe_output)
if(NOT probe_result EQUAL 0)
  message("allocator_fuzz: SKIPPED: ${CLANGXX} cannot link -fsanitize=fuzzer (install libclang-rt-dev):\n${probe_output}")
  return()
endif()

# Extra compile flags for the whole clang build (none by default).
if(NOT DEFINED EXTRA_FLAGS)
  set(EXTRA_FLAGS "")
endif()

string(TIMESTAMP started "%s")
# The whole project is built with coverage (fuzzer-no-link) so that libFuzzer
# sees the allocators' branches, and with UBSan (GLOBALLOC_SANITIZE=undefined,
# which aborts on the first report).
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BUILD_DIR}"
          "-DCMAKE_CXX_COMPILER=${CLANGXX}" "-DCMAKE_C_COMPILER=${CLANG}"
          -DCMAKE_BUILD_TYPE=Release
          "-DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link -g ${EXTRA_FLAGS}"
          -DGLOBALLOC_SANITIZE=undefined
          -DGLOBALLOC_FUZZ=ON
          -DGLOBALLOC_BUILD_TESTS=ON -DGLOBALLOC_BUILD_BENCH=OFF -DGLOBALLOC_BUILD_EXAMPLES=OFF
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "allocator_fuzz: configuring the clang build in ${BUILD_DIR} failed")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target allocator_fuzzer --parallel ${JOBS}
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "allocator_fuzz: building allocator_fuzzer failed")
endif()
string(TIMESTAMP built "%s")
math(EXPR build_seconds "${built} - ${started}")
message("allocator_fuzz: clang build took ${build_seconds} s")

set(fuzzer "${BUILD_DIR}/bin/allocator_fuzzer")
set(corpus "${BUILD_DIR}/corpus")
file(REMOVE_RECURSE "${corpus}")
file(MAKE_DIRECTORY "${corpus}" "${BUILD_DIR}/artifacts")
execute_process(
  COMMAND "${fuzzer}" -seed=1 -runs=${RUNS} -max_total_time=${MAX_TOTAL_TIME} -max_len=4096 -timeout=30
          -rss_limit_mb=4096 -print_final_stats=1 "-artifact_prefix=${BUILD_DIR}/artifacts/" "${corpus}"
  RESULT_VARIABLE result)
string(TIMESTAMP finished "%s")
math(EXPR run_seconds "${finished} - ${built}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "allocator_fuzz: allocator_fuzzer failed (${result}) after ${run_seconds} s; "
                      "the input is in ${BUILD_DIR}/artifacts/ (replay: fuzz_replay FILE)")
endif()
message("allocator_fuzz: libFuzzer run passed in ${run_seconds} s (-seed=1 -runs=${RUNS} -max_total_time=${MAX_TOTAL_TIME})")
