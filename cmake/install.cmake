include(CMakePackageConfigHelpers)

install(DIRECTORY sdk/include/orch DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS orch_sdk EXPORT orchTargets)
install(EXPORT orchTargets NAMESPACE orch:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/orch)

configure_package_config_file(cmake/orchConfig.cmake.in
  ${PROJECT_BINARY_DIR}/orchConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/orch)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/orchConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/orchConfig.cmake
  ${PROJECT_BINARY_DIR}/orchConfigVersion.cmake
  cmake/orch_add_plugin.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/orch)
