# Install rules: headers, libraries, the registration objects, a CMake
# package (find_package(globalloc) -> globalloc::globalloc, globalloc::<allocator>)
# and a pkg-config file.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/globalloc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

get_property(GLOBALLOC_INSTALLED_ALLOCATORS GLOBAL PROPERTY GLOBALLOC_ALLOCATORS)
set(registration_targets)
foreach(name ${GLOBALLOC_INSTALLED_ALLOCATORS})
  list(APPEND registration_targets globalloc_register_${name})
endforeach()

install(TARGETS globalloc globalloc_headers globalloc_core ${registration_targets}
  EXPORT globallocTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  OBJECTS DESTINATION ${CMAKE_INSTALL_LIBDIR}/globalloc/objects)
foreach(extra globalloc_preload globalloc_preload_system globalloc_preload_hardened globalloc_preload_unchecked)
  if(TARGET ${extra})
    install(TARGETS ${extra} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  endif()
endforeach()

install(EXPORT globallocTargets NAMESPACE globalloc:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/globalloc)
configure_package_config_file(cmake/globallocConfig.cmake.in
  ${PROJECT_BINARY_DIR}/globallocConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/globalloc)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/globallocConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/globallocConfig.cmake ${PROJECT_BINARY_DIR}/globallocConfigVersion.cmake
  cmake/GloballocLink.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/globalloc)

configure_file(cmake/globalloc.pc.in ${PROJECT_BINARY_DIR}/globalloc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/globalloc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
