# Fails when an object of a static library has a C++ dynamic initializer
# (a _GLOBAL__sub_I_* function): the allocator's globals must be
# constant-initialised, since its first call may come before any static
# constructor runs (from a .preinit_array function) and such a constructor
# would then wipe what that call set up (docs/fast-allocator.md, "Fast paths").
# usage: cmake -DNM=<nm> -DLIBRARY=<archive> -P no_static_initializers.cmake
execute_process(COMMAND "${NM}" -A "${LIBRARY}" OUTPUT_VARIABLE symbols ERROR_VARIABLE errors RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${NM} ${LIBRARY} failed: ${errors}")
endif()
string(REGEX MATCHALL "[^\n]*_GLOBAL__sub_I[^\n]*" found "${symbols}")
if(found)
  string(REPLACE ";" "\n  " found "${found}")
  message(FATAL_ERROR "static initializers in ${LIBRARY}:\n  ${found}")
endif()
message(STATUS "no static initializers in ${LIBRARY}")
