# Prints a component's requirements (or with -DWHAT=SRCS its sources) as ESP-IDF's early pass reads them
# (tools/cmake/scripts/component_get_requirements.cmake, v5.1–v6.2): IDF_VERSION_* set as version.cmake sets
# them, and idf_component_register a macro that records its arguments and returns from the included file,
# so nothing after it runs and no target exists.
#   cmake -DIDF_VERSION_MAJOR=6 -DIDF_VERSION_MINOR=0 -DIDF_VERSION_PATCH=0 -DCOMPONENT_DIR=<dir> -P requires.cmake
macro(idf_component_register)
  cmake_parse_arguments(_ "WHOLE_ARCHIVE" "KCONFIG;KCONFIG_PROJBUILD"
    "SRCS;SRC_DIRS;EXCLUDE_SRCS;INCLUDE_DIRS;PRIV_INCLUDE_DIRS;LDFRAGMENTS;REQUIRES;PRIV_REQUIRES;REQUIRED_IDF_TARGETS;EMBED_FILES;EMBED_TXTFILES"
    ${ARGN})
  set(__requires ${__REQUIRES} ${__PRIV_REQUIRES})
  set(__srcs ${__SRCS})
  return()
endmacro()
function(requirements_of dir)
  include(${dir}/CMakeLists.txt)
  if(WHAT STREQUAL "SRCS")
    set(__requires ${__srcs})
  endif()
  string(REPLACE ";" " " list "${__requires}")
  execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${list}")
endfunction()
requirements_of(${COMPONENT_DIR})
