# Reads the dynamic symbols a shared library defines (nm -D --defined-only)
# and checks that it defines none of the allocation functions (MODE absent:
# the library brought no global allocator of its own) or all of them
# (MODE present: the control, a library that did register one).
#
#   cmake -DNM=<nm> -DLIBRARY=<lib.so> -DMODE=<absent|present> -P check_dynamic_symbols.cmake
cmake_minimum_required(VERSION 3.20)
foreach(required NM LIBRARY MODE)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "check_dynamic_symbols.cmake: ${required} is not set")
  endif()
endforeach()

execute_process(COMMAND "${NM}" -D --defined-only "${LIBRARY}"
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors TIMEOUT 60)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${NM} -D --defined-only ${LIBRARY} failed (${result}): ${errors}")
endif()

set(defined)
string(REPLACE "\n" ";" lines "${output}")
foreach(line ${lines})
  if(line MATCHES "[ \t]([^ \t@]+)(@.*)?$")
    list(APPEND defined "${CMAKE_MATCH_1}")
  endif()
endforeach()
if(NOT defined)
  message(FATAL_ERROR "${LIBRARY} defines no dynamic symbols at all: is it the library?")
endif()

# malloc, free, calloc, realloc, operator new/new[]/delete (plain and aligned).
set(allocation_symbols malloc free calloc realloc posix_memalign _Znwm _Znam _ZdlPv _ZdaPv _ZnwmSt11align_val_t)
set(found)
set(missing)
foreach(symbol ${allocation_symbols})
  if(symbol IN_LIST defined)
    list(APPEND found ${symbol})
  else()
    list(APPEND missing ${symbol})
  endif()
endforeach()

if(MODE STREQUAL "absent" AND found)
  message(FATAL_ERROR "${LIBRARY} defines allocation functions it should have left to its host: ${found}")
elseif(MODE STREQUAL "present" AND missing)
  message(FATAL_ERROR "${LIBRARY} should define every allocation function but lacks: ${missing}")
elseif(NOT MODE MATCHES "^(absent|present)$")
  message(FATAL_ERROR "MODE must be absent or present, not '${MODE}'")
endif()
message(STATUS "ok: allocation functions ${MODE} in ${LIBRARY}")
