# globalloc_link(target [ALLOCATOR name])
#
# The artifact decides the default, as in Rust's original allocator design:
#   - an executable gets the fast allocator (the system allocator in builds
#     without it) as the global allocator of the whole process;
#   - a static or shared library gets none of its own: it is a guest in
#     someone else's process and uses whatever the host has.
# ALLOCATOR picks another one by name (system, fast, and every allocator this
# build or installation provides), or `none`: the target then only gets the
# headers and the explicit allocator APIs.
function(globalloc_link target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "ALLOCATOR" "")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "globalloc_link(${target}): unexpected arguments '${ARG_UNPARSED_ARGUMENTS}'; usage: globalloc_link(target [ALLOCATOR name])")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "globalloc_link: '${target}' is not a target")
  endif()
  get_target_property(type ${target} TYPE)
  if(NOT ARG_ALLOCATOR)
    if(type STREQUAL "EXECUTABLE")
      set(ARG_ALLOCATOR ${GLOBALLOC_DEFAULT_EXECUTABLE_ALLOCATOR})
    else()
      set(ARG_ALLOCATOR none)
    endif()
  endif()

  target_link_libraries(${target} PRIVATE globalloc::globalloc)
  if(ARG_ALLOCATOR STREQUAL "none")
    return()
  endif()

  get_property(known GLOBAL PROPERTY GLOBALLOC_ALLOCATORS)
  if(NOT ARG_ALLOCATOR IN_LIST known)
    string(REPLACE ";" ", " known_text "${known}")
    message(FATAL_ERROR "globalloc_link(${target}): unknown allocator '${ARG_ALLOCATOR}'; known: ${known_text}, none")
  endif()
  if(type STREQUAL "STATIC_LIBRARY" OR type STREQUAL "OBJECT_LIBRARY" OR type STREQUAL "INTERFACE_LIBRARY")
    message(FATAL_ERROR "globalloc_link(${target}): a ${type} cannot own the global allocator; "
                        "the executable or shared library that links it chooses one")
  endif()
  target_link_libraries(${target} PRIVATE globalloc::${ARG_ALLOCATOR})
  set_property(TARGET ${target} PROPERTY GLOBALLOC_ALLOCATOR ${ARG_ALLOCATOR})
endfunction()
