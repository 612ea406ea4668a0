# Documentation: the API reference (target `docs`, not part of `all`) built
# with Doxygen from include/globalloc/, and the man page of the command.
#
#   cmake --build build --target docs     ->  build/docs/api/html/index.html
#
# Doxygen runs with WARN_IF_UNDOCUMENTED and WARN_AS_ERROR (docs/Doxyfile.in):
# a public name without a doc comment fails the target.
find_program(GLOBALLOC_DOXYGEN NAMES doxygen DOC "Doxygen, for the API reference (target docs)")
set(GLOBALLOC_DOCS_OUTPUT ${PROJECT_BINARY_DIR}/docs/api)
if(GLOBALLOC_DOXYGEN)
  configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PROJECT_BINARY_DIR}/docs/Doxyfile @ONLY)
  file(GLOB_RECURSE globalloc_public_headers CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/include/globalloc/*.hpp ${PROJECT_SOURCE_DIR}/include/globalloc/*.h)
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E make_directory ${GLOBALLOC_DOCS_OUTPUT}
    COMMAND ${GLOBALLOC_DOXYGEN} ${PROJECT_BINARY_DIR}/docs/Doxyfile
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}/docs
    DEPENDS ${PROJECT_BINARY_DIR}/docs/Doxyfile ${globalloc_public_headers}
    COMMENT "API reference with Doxygen: ${GLOBALLOC_DOCS_OUTPUT}/html/index.html"
    VERBATIM)
else()
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E echo "globalloc: doxygen not found (Debian: apt install doxygen); no API reference"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
endif()

# The man page of the `globalloc` command.
install(FILES ${PROJECT_SOURCE_DIR}/docs/globalloc.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
