# Warning and sanitizer flags shared by every target of the project.
add_library(globalloc_warnings INTERFACE)
target_compile_options(globalloc_warnings INTERFACE -Wall -Wextra)

# Sized operator delete (C++14) as g++ has it by default: clang leaves it off
# unless asked, so `delete p` would never pass the size to the allocator and
# code that calls ::operator delete(p, size) would not compile.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsized-deallocation>)
endif()

if(GLOBALLOC_SANITIZE STREQUAL "undefined")
  add_compile_options(-fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=undefined)
elseif(GLOBALLOC_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT GLOBALLOC_SANITIZE STREQUAL "")
  message(FATAL_ERROR "GLOBALLOC_SANITIZE must be empty, 'undefined' or 'thread', not '${GLOBALLOC_SANITIZE}'")
endif()

# The allocator core is freestanding C++: no exceptions, no RTTI.
add_library(globalloc_core_flags INTERFACE)
target_compile_options(globalloc_core_flags INTERFACE -fno-exceptions -fno-rtti)
