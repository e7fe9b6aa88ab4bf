# Installation, the exported CMake package and the Debian package (docs/embedding.md).
#
#   <prefix>/bin/accelvp                          the CLI
#   <prefix>/include/accelvp/{abi,tlm,platform}/  the public headers (#include <accelvp/platform/chip/chip.h>;
#                                                 the headers' own "tlm/core/..." includes resolve too)
#   <prefix>/lib/libaccelvp_*.a                   the libraries (position-independent)
#   <prefix>/lib/cmake/accelvp/                   find_package(accelvp): the target accelvp::accelvp
#   <prefix>/share/accelvp/{configs,firmware,tools,benchmarks}   found at run time (tlm/core/data_dir.h)
#
# A file added to configs/, tools/ (the Python tools), benchmarks/suites|sweeps|baselines or a
# header under abi/, tlm/, platform/ is installed by the globs below with nothing to add; a new
# library under tlm/, platform/ or rtl-models/ is exported automatically (accelvp_collect_libraries).
# A new program or a new kind of data file needs its own install() line here.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ACCELVP_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/accelvp)
set(ACCELVP_INSTALL_DATADIR ${CMAKE_INSTALL_DATADIR}/accelvp)

# Every static and interface library of these folders (and the two top-level interface ones):
# whatever accelvp::accelvp links must be in the export set.
function(accelvp_collect_libraries out)
  set(libs accelvp_warnings accelvp_abi)
  foreach(dir tlm platform rtl-models)
    if(NOT IS_DIRECTORY ${PROJECT_SOURCE_DIR}/${dir})
      continue()
    endif()
    get_property(added DIRECTORY ${PROJECT_SOURCE_DIR} PROPERTY SUBDIRECTORIES)
    if(NOT "${PROJECT_SOURCE_DIR}/${dir}" IN_LIST added)
      continue()
    endif()
    get_property(targets DIRECTORY ${PROJECT_SOURCE_DIR}/${dir} PROPERTY BUILDSYSTEM_TARGETS)
    foreach(t ${targets})
      get_target_property(type ${t} TYPE)
      if(type STREQUAL "STATIC_LIBRARY" OR type STREQUAL "INTERFACE_LIBRARY")
        list(APPEND libs ${t})
      endif()
    endforeach()
  endforeach()
  set(${out} ${libs} PARENT_SCOPE)
endfunction()

# The embedding target: the whole platform (chip, host, workloads, simulation).
add_library(accelvp_lib INTERFACE)
target_link_libraries(accelvp_lib INTERFACE accelvp_platform)
set_target_properties(accelvp_lib PROPERTIES EXPORT_NAME accelvp)
add_library(accelvp::accelvp ALIAS accelvp_lib)

# <accelvp/...> includes from a build tree (add_subdirectory): build/include/accelvp is the
# source tree; from an installation, include/accelvp holds the headers.
file(MAKE_DIRECTORY ${PROJECT_BINARY_DIR}/include)
file(CREATE_LINK ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/include/accelvp SYMBOLIC)
target_include_directories(accelvp_lib INTERFACE $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
                                                 $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

# Verilator's verilate() adds its build-tree include directories as PUBLIC; nobody outside
# rtl-models/ includes them, so they are for the build tree only.
if(TARGET accelvp_rtl_mxu)
  get_target_property(inc accelvp_rtl_mxu INTERFACE_INCLUDE_DIRECTORIES)
  list(TRANSFORM inc PREPEND "$<BUILD_INTERFACE:")
  list(TRANSFORM inc APPEND ">")
  set_target_properties(accelvp_rtl_mxu PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${inc}")
endif()
if(TARGET accelvp_rtl)
  get_target_property(inc accelvp_rtl INTERFACE_INCLUDE_DIRECTORIES)
  if(inc)
    list(TRANSFORM inc PREPEND "$<BUILD_INTERFACE:")
    list(TRANSFORM inc APPEND ">")
    set_target_properties(accelvp_rtl PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${inc}")
  endif()
endif()

option(ACCELVP_INSTALL "install rules, the CMake package and the Debian package" ${PROJECT_IS_TOP_LEVEL})
if(NOT ACCELVP_INSTALL)
  return()
endif()

accelvp_collect_libraries(ACCELVP_EXPORTED_LIBS)
install(TARGETS ${ACCELVP_EXPORTED_LIBS} accelvp_lib EXPORT accelvpTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/accelvp ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT accelvpTargets NAMESPACE accelvp:: DESTINATION ${ACCELVP_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/accelvpConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/accelvpConfig.cmake INSTALL_DESTINATION ${ACCELVP_INSTALL_CMAKEDIR}
  PATH_VARS ACCELVP_INSTALL_DATADIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/accelvpConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/accelvpConfig.cmake ${PROJECT_BINARY_DIR}/cmake/accelvpConfigVersion.cmake
  DESTINATION ${ACCELVP_INSTALL_CMAKEDIR})

foreach(dir abi tlm platform)
  install(DIRECTORY ${dir} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/accelvp FILES_MATCHING PATTERN "*.h")
endforeach()

install(TARGETS accelvp RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY configs/ DESTINATION ${ACCELVP_INSTALL_DATADIR}/configs FILES_MATCHING PATTERN "*.yaml")
if(ACCELVP_FIRMWARE)
  install(FILES ${ACCELVP_FIRMWARE} ${ACCELVP_FIRMWARE_SRIOV} ${ACCELVP_SOC_APP} DESTINATION ${ACCELVP_INSTALL_DATADIR}/firmware)
endif()
# The Python tools `accelvp bench|sweep|plot|report` run, and what they read.
install(PROGRAMS tools/bench.py tools/sweep.py tools/plot.py tools/report.py tools/gen_mem_trace.py
  DESTINATION ${ACCELVP_INSTALL_DATADIR}/tools)
install(DIRECTORY tools/accelvp_tools DESTINATION ${ACCELVP_INSTALL_DATADIR}/tools FILES_MATCHING PATTERN "*.py")
foreach(dir suites sweeps baselines)
  install(DIRECTORY benchmarks/${dir} DESTINATION ${ACCELVP_INSTALL_DATADIR}/benchmarks)
endforeach()

# cpack -G DEB (run in the build directory): one package with the CLI, the libraries, the
# headers and the data. Run-time dependencies come from dpkg-shlibdeps; what find_package(accelvp)
# needs to compile against the headers is recommended.
set(CPACK_PACKAGE_NAME accelvp)
set(CPACK_PACKAGE_VENDOR "accelvp")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SystemC/TLM-2.0 virtual platform of a compute accelerator")
set(CPACK_PACKAGE_CONTACT "accelvp maintainers <accelvp@localhost>")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "python3, python3-yaml")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
    "cmake, pkg-config, libsystemc-dev, libyaml-cpp-dev, libfmt-dev, nlohmann-json3-dev, libcli11-dev, python3-matplotlib")
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
include(CPack)
