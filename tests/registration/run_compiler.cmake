# Compiles (and links, and runs) a few sources with the project's compiler
# outside CMake's targets, and checks that it succeeds or fails as expected
# and that the output says what it must. Used by the registration tests to
# prove that mistakes fail the build with words a person can act on.
#
#   cmake -DCXX=<compiler> -DINCLUDE_DIR=<include> -DSOURCES=<a.cpp,b.cpp>
#         [-DCORE_LIB=<libgloballoc_core.a>] [-DDEFINES=<X=1,Y>]
#         -DMODE=<compile_fails|compile_succeeds|link_fails|link_succeeds>
#         [-DEXPECT=<text the output must contain>] -DWORK_DIR=<scratch folder>
#         -P run_compiler.cmake
cmake_minimum_required(VERSION 3.20)

foreach(required CXX INCLUDE_DIR SOURCES MODE WORK_DIR)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "run_compiler.cmake: ${required} is not set")
  endif()
endforeach()

string(REPLACE "," ";" source_list "${SOURCES}")
set(define_flags)
if(DEFINED DEFINES AND NOT DEFINES STREQUAL "")
  string(REPLACE "," ";" define_list "${DEFINES}")
  foreach(define ${define_list})
    list(APPEND define_flags "-D${define}")
  endforeach()
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

set(command "${CXX}" -std=c++20 -Wall -Wextra "-I${INCLUDE_DIR}" ${define_flags})
if(MODE MATCHES "^compile_")
  list(APPEND command -fsyntax-only ${source_list})
else()
  if(NOT DEFINED CORE_LIB)
    message(FATAL_ERROR "run_compiler.cmake: MODE ${MODE} needs CORE_LIB")
  endif()
  list(APPEND command ${source_list} "${CORE_LIB}" -lpthread -ldl -o "${WORK_DIR}/program")
endif()

execute_process(COMMAND ${command}
  WORKING_DIRECTORY "${WORK_DIR}"
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output
  TIMEOUT 120)

set(failure "")
if(MODE MATCHES "_fails$")
  if(result EQUAL 0)
    set(failure "expected the ${MODE} case to fail, but the compiler succeeded")
  elseif(NOT result MATCHES "^[0-9]+$")
    set(failure "the compiler did not run: ${result}")
  endif()
else()
  if(NOT result EQUAL 0)
    set(failure "expected success, the compiler returned ${result}")
  endif()
endif()

if(failure STREQUAL "" AND DEFINED EXPECT AND NOT EXPECT STREQUAL "")
  string(FIND "${output}" "${EXPECT}" position)
  if(position EQUAL -1)
    set(failure "the output does not contain `${EXPECT}`")
  endif()
endif()

# A program that links must also run.
if(failure STREQUAL "" AND MODE STREQUAL "link_succeeds")
  execute_process(COMMAND "${WORK_DIR}/program" RESULT_VARIABLE run_result
    OUTPUT_VARIABLE run_output ERROR_VARIABLE run_output TIMEOUT 60)
  if(NOT run_result EQUAL 0)
    set(failure "the linked program failed (${run_result}):\n${run_output}")
  endif()
endif()

file(REMOVE_RECURSE "${WORK_DIR}")

if(NOT failure STREQUAL "")
  string(REPLACE ";" " " command_text "${command}")
  message(FATAL_ERROR "${failure}\ncommand: ${command_text}\noutput:\n${output}")
endif()
message(STATUS "ok: ${MODE}")
