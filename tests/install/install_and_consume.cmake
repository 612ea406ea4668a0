# Installs the build into a scratch prefix and builds an outside project
# against it, then runs that project's programs.
#   PART=cmake      find_package(globalloc) in tests/install/consumer
#   PART=pkgconfig  pkg-config --cflags --libs globalloc, then a compile with
#                   exactly those flags (skipped when pkg-config is absent)
# The scratch folder is removed at the end, whether the test passed or not.
#
#   cmake -DPART=<cmake|pkgconfig> -DBUILD_DIR=<build tree> -DSCRATCH=<folder>
#         -DCONSUMER_SOURCE=<tests/install/consumer> -DCXX=<compiler>
#         [-DGENERATOR=<generator>] [-DPKG_CONFIG=<pkg-config>] -P install_and_consume.cmake
cmake_minimum_required(VERSION 3.20)
foreach(required PART BUILD_DIR SCRATCH CONSUMER_SOURCE CXX)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "install_and_consume.cmake: ${required} is not set")
  endif()
endforeach()

set(prefix "${SCRATCH}/prefix")
set(failure "")

# Runs a command; on failure records the message and the output.
macro(step name)
  if(failure STREQUAL "")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE step_result OUTPUT_VARIABLE step_output
      ERROR_VARIABLE step_output TIMEOUT 200)
    if(NOT step_result EQUAL 0)
      string(REPLACE ";" " " step_command "${ARGN}")
      set(failure "${name} failed (${step_result})\ncommand: ${step_command}\n${step_output}")
    else()
      message(STATUS "ok: ${name}")
      if("${name}" MATCHES "^run" AND NOT step_output STREQUAL "")
        message("${step_output}")
      endif()
    endif()
  endif()
endmacro()

file(REMOVE_RECURSE "${SCRATCH}")
file(MAKE_DIRECTORY "${SCRATCH}")

step("install into ${prefix}" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")

if(PART STREQUAL "cmake")
  set(generator_args)
  if(DEFINED GENERATOR AND NOT GENERATOR STREQUAL "")
    set(generator_args -G "${GENERATOR}")
  endif()
  step("configure the consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE}" -B "${SCRATCH}/build" ${generator_args}
    "-DCMAKE_PREFIX_PATH=${prefix}" "-DEXPECTED_PREFIX=${prefix}" "-DCMAKE_CXX_COMPILER=${CXX}"
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
  step("build the consumer" "${CMAKE_COMMAND}" --build "${SCRATCH}/build" --parallel 2)
  step("run the consumer that registers its own counting allocator" "${SCRATCH}/build/globalloc_consumer_counting")
  step("run the consumer linked with globalloc_link()" "${SCRATCH}/build/globalloc_consumer_default")
elseif(PART STREQUAL "pkgconfig")
  if(NOT PKG_CONFIG)
    message(STATUS "pkg-config is not installed: nothing to check")
  else()
    set(pc_path "${prefix}/lib/pkgconfig")
    if(NOT EXISTS "${pc_path}/globalloc.pc")
      file(GLOB_RECURSE found_pc "${prefix}/*/globalloc.pc")
      set(failure "globalloc.pc is not in ${pc_path} (found: ${found_pc})")
    endif()
    if(failure STREQUAL "")
      execute_process(COMMAND "${CMAKE_COMMAND}" -E env "PKG_CONFIG_PATH=${pc_path}" "${PKG_CONFIG}"
                              --cflags --libs globalloc
        RESULT_VARIABLE pc_result OUTPUT_VARIABLE pc_flags ERROR_VARIABLE pc_errors OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(NOT pc_result EQUAL 0)
        set(failure "pkg-config --cflags --libs globalloc failed (${pc_result}): ${pc_errors}")
      else()
        message(STATUS "pkg-config --cflags --libs globalloc: ${pc_flags}")
        # The flags must point into the installed prefix, wherever it is.
        file(REAL_PATH "${prefix}" real_prefix)
        separate_arguments(checked_flags UNIX_COMMAND "${pc_flags}")
        set(include_ok FALSE)
        set(lib_ok FALSE)
        foreach(flag ${checked_flags})
          if(flag MATCHES "^-([IL])(.+)$")
            set(flag_kind "${CMAKE_MATCH_1}")
            set(flag_path "${CMAKE_MATCH_2}")
            if(EXISTS "${flag_path}")
              file(REAL_PATH "${flag_path}" flag_path)
              if(flag_kind STREQUAL "I" AND flag_path STREQUAL "${real_prefix}/include")
                set(include_ok TRUE)
              elseif(flag_kind STREQUAL "L" AND flag_path STREQUAL "${real_prefix}/lib")
                set(lib_ok TRUE)
              endif()
            endif()
          endif()
        endforeach()
        if(NOT include_ok OR NOT lib_ok OR NOT pc_flags MATCHES "-lgloballoc_core")
          set(failure "pkg-config flags `${pc_flags}` do not point into ${prefix} (-I${prefix}/include, -L${prefix}/lib, -lgloballoc_core): globalloc.pc does not describe the prefix it was installed into")
        endif()
      endif()
    endif()
    if(failure STREQUAL "")
      separate_arguments(flag_list UNIX_COMMAND "${pc_flags}")
      step("compile the counting consumer with the pkg-config flags"
        "${CXX}" -O2 -fno-builtin "${CONSUMER_SOURCE}/counting.cpp" ${flag_list} -o "${SCRATCH}/counting_pc")
      step("run it" "${SCRATCH}/counting_pc")
    endif()
  endif()
else()
  set(failure "PART must be cmake or pkgconfig, not '${PART}'")
endif()

file(REMOVE_RECURSE "${SCRATCH}")
if(NOT failure STREQUAL "")
  message(FATAL_ERROR "${failure}")
endif()
