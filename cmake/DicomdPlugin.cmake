# dicomd_add_plugin(NAME SOURCES ... [OUTPUT_DIR DIR] [NO_INSTALL]): a loadable plugin NAME.so placed where
# the host looks for plugins, exporting only its entry point.
function(dicomd_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIR" "SOURCES" ${ARGN})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR ${DICOMD_PLUGIN_OUTPUT_DIR})
  endif()
  set(target dicomd-plugin-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE dicomd::sdk)
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${name}
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR})
  target_link_options(${target} PRIVATE -Wl,--exclude-libs,ALL -Wl,--no-undefined)
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${DICOMD_PLUGIN_SUBDIR})
  endif()
endfunction()
