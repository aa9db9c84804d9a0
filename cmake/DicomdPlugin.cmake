# dicomd_add_plugin(NAME SOURCES ... [OUTPUT_DIR DIR] [NO_INSTALL]): a loadable
# plugin NAME.so, exporting only its entry point (dicomd-plugin.map), placed
# where the host looks for plugins. Used in the source tree and, through the
# installed package (find_package(dicomd-sdk)), by plugins built out of tree.
set(_DICOMD_PLUGIN_MAP "${CMAKE_CURRENT_LIST_DIR}/dicomd-plugin.map")
if(NOT DEFINED DICOMD_PLUGIN_SUBDIR)
  set(DICOMD_PLUGIN_SUBDIR "lib/dicomd/plugins")
endif()

function(dicomd_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIR" "SOURCES" ${ARGN})
  if(NOT ARG_OUTPUT_DIR)
    if(DICOMD_PLUGIN_OUTPUT_DIR)
      set(ARG_OUTPUT_DIR ${DICOMD_PLUGIN_OUTPUT_DIR})
    else()
      set(ARG_OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR})
    endif()
  endif()
  set(target dicomd-plugin-${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE dicomd::sdk)
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${name}
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS ${_DICOMD_PLUGIN_MAP}
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR})
  target_link_options(${target} PRIVATE -Wl,--exclude-libs,ALL -Wl,--version-script=${_DICOMD_PLUGIN_MAP})
  if(NOT DICOMD_TSAN)
    # Every symbol resolved at link time. Not under clang's ThreadSanitizer,
    # whose runtime is linked into the executable and found there at load.
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
  endif()
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${DICOMD_PLUGIN_SUBDIR})
  endif()
endfunction()
