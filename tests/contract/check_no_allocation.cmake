# The no-allocation rule: the allocator core may not use anything that
# allocates. Reads the undefined symbols of a built library (nm -u) and fails
# when it references the malloc family, any form of operator new, or the
# machinery of a C++ throw (which allocates the exception object).
#
#   cmake -DNM=<nm> -DLIBRARY=<libgloballoc_core.a> -P check_no_allocation.cmake
cmake_minimum_required(VERSION 3.20)
foreach(required NM LIBRARY)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "check_no_allocation.cmake: ${required} is not set")
  endif()
endforeach()
if(NOT EXISTS "${LIBRARY}")
  message(FATAL_ERROR "${LIBRARY} does not exist")
endif()

execute_process(COMMAND "${NM}" -u "${LIBRARY}"
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors TIMEOUT 60)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${NM} -u ${LIBRARY} failed (${result}): ${errors}")
endif()

set(forbidden_names malloc calloc realloc free reallocarray posix_memalign aligned_alloc memalign valloc pvalloc
    strdup strndup __cxa_allocate_exception __cxa_throw __cxa_allocate_dependent_exception)
set(undefined)
set(offending)
string(REPLACE "\n" ";" lines "${output}")
foreach(line ${lines})
  # "                 U malloc" or "U malloc@GLIBC_2.2.5"; member headers end in ':'.
  if(line MATCHES "^[ \t]*U[ \t]+([^ \t@]+)")
    set(symbol "${CMAKE_MATCH_1}")
    list(APPEND undefined "${symbol}")
    # _Znwm, _Znam and every overload of them (nothrow, align_val_t, ...).
    if(symbol IN_LIST forbidden_names OR symbol MATCHES "^_Zn[wa]m")
      list(APPEND offending "${symbol}")
    endif()
  endif()
endforeach()

if(NOT undefined)
  message(FATAL_ERROR "nm -u found no undefined symbol at all in ${LIBRARY}: is it the library?\n${output}")
endif()
if(offending)
  list(REMOVE_DUPLICATES offending)
  string(REPLACE ";" ", " offending_text "${offending}")
  message(FATAL_ERROR "${LIBRARY} references functions that allocate: ${offending_text}")
endif()
list(REMOVE_DUPLICATES undefined)
list(LENGTH undefined count)
message(STATUS "ok: ${LIBRARY} references ${count} undefined symbols, none of which allocates")
