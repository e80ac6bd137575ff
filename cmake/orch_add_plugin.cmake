# orch_add_plugin(<target> SOURCES <files...> [OUTPUT_DIRECTORY <dir>] [NO_INSTALL])
#
# Builds an orch plugin: a MODULE library linked to orch::sdk, with hidden symbols so
# that two plugins never see each other's classes, and no "lib" prefix. Works inside the
# orch tree and from a project that did find_package(orch).
function(orch_add_plugin target)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "orch_add_plugin(${target}): SOURCES is required")
  endif()
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE orch::sdk)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  elseif(DEFINED ORCH_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ORCH_PLUGIN_OUTPUT_DIR})
  endif()
  # Inside the orch tree, reuse the one precompiled torch header instead of paying ~20 s.
  if(TARGET orch_torch_pch)
    target_precompile_headers(${target} REUSE_FROM orch_torch_pch)
  endif()
  if(NOT ARG_NO_INSTALL AND DEFINED ORCH_PLUGIN_INSTALL_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION ${ORCH_PLUGIN_INSTALL_DIR})
  endif()
endfunction()
