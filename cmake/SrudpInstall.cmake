# `cmake --install` support: the library `srudp` (the Asio layer), the rdv client
# `srudp_rdv_client`, and every project library they link (the sans-IO core, the generated protobuf code), the public headers (include/srudp/), the
# core headers under include/srudp/core/ (they include each other as "common/x.hpp", so that
# directory is on the installed targets' include path), a CMake package (find_package(srudp),
# targets srudp::srudp, srudp::transport, ...) and a pkg-config file (srudp.pc).
# Included at the end of the top-level CMakeLists.txt, once every target exists.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SRUDP_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/srudp")
set(SRUDP_INSTALL_CORE_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}/srudp/core")

# Project libraries reachable from `target` through its link interface, in an order that suits a
# static link line (every library before the libraries it uses). Imported targets (Boost, libsodium,
# protobuf ...) are left out: the package finds those itself.
function(srudp_link_closure target out_var)
  set(visited "")
  set(order "")
  srudp_link_closure_visit(${target})
  list(REVERSE order)
  set(${out_var} ${order} PARENT_SCOPE)
endfunction()
macro(srudp_link_closure_visit node)
  # A macro so `visited` and `order` are shared by the whole walk (recursion is by name).
  list(APPEND visited ${node})
  get_target_property(_srudp_deps_${node} ${node} INTERFACE_LINK_LIBRARIES)
  if(_srudp_deps_${node})
    foreach(_srudp_dep_${node} IN LISTS _srudp_deps_${node})
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" _srudp_dep "${_srudp_dep_${node}}")
      if(TARGET "${_srudp_dep}")
        get_target_property(_srudp_alias "${_srudp_dep}" ALIASED_TARGET)
        if(_srudp_alias)
          set(_srudp_dep "${_srudp_alias}")
        endif()
        get_target_property(_srudp_imported "${_srudp_dep}" IMPORTED)
        if(NOT _srudp_imported AND NOT _srudp_dep IN_LIST visited)
          srudp_link_closure_visit(${_srudp_dep})
        endif()
      endif()
    endforeach()
  endif()
  list(APPEND order ${node})
endmacro()

if(NOT TARGET srudp)
  message(STATUS "srudp install: no library `srudp` yet (io/ has no sources); nothing to install")
  return()
endif()

# The rdv client (srudp::rdv_client, include/srudp/rdv_client.hpp) sits on top of srudp: its
# closure holds everything.
if(TARGET srudp_rdv_client)
  srudp_link_closure(srudp_rdv_client SRUDP_INSTALL_TARGETS)
else()
  srudp_link_closure(srudp SRUDP_INSTALL_TARGETS)
endif()

# Exported as srudp::srudp, srudp::transport, srudp::common ... ; the core needs C++20 from users.
foreach(target IN LISTS SRUDP_INSTALL_TARGETS)
  string(REGEX REPLACE "^srudp_" "" export_name "${target}")
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  target_compile_features(${target} PUBLIC cxx_std_20)
endforeach()
target_include_directories(srudp PUBLIC
  "$<INSTALL_INTERFACE:${SRUDP_INSTALL_CORE_INCLUDEDIR}>" "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")

install(TARGETS ${SRUDP_INSTALL_TARGETS} EXPORT srudpTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")

# Headers: the public API, every core header (the core libraries are installed and usable on their
# own, as the README's sans-IO example shows), and the generated protobuf headers.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/srudp" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.hpp")
foreach(dir IN LISTS SRUDP_CORE_DIRS)
  get_filename_component(area "${dir}" NAME)
  install(DIRECTORY "${dir}/" DESTINATION "${SRUDP_INSTALL_CORE_INCLUDEDIR}/${area}"
    FILES_MATCHING PATTERN "*.hpp")
endforeach()
if(TARGET srudp_wire_proto)
  install(DIRECTORY "${PROJECT_BINARY_DIR}/proto/wire/" DESTINATION "${SRUDP_INSTALL_CORE_INCLUDEDIR}/wire"
    FILES_MATCHING PATTERN "*.pb.h")
endif()

# CMake package.
install(EXPORT srudpTargets NAMESPACE srudp:: DESTINATION "${SRUDP_INSTALL_CMAKEDIR}")
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/srudpConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/srudpConfig.cmake" INSTALL_DESTINATION "${SRUDP_INSTALL_CMAKEDIR}")
# 0.x: a new minor version may break the API.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/srudpConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/srudpConfig.cmake" "${PROJECT_BINARY_DIR}/srudpConfigVersion.cmake"
  DESTINATION "${SRUDP_INSTALL_CMAKEDIR}")

# pkg-config. The libraries are static (unless BUILD_SHARED_LIBS), so a plain `pkg-config --libs`
# must already list everything they use: the dependencies go in Requires/Libs, not the .private
# fields (which only `--static` reads). The prefix is found from the .pc file's own location, so
# `cmake --install --prefix ANYWHERE` gives a working file.
file(RELATIVE_PATH SRUDP_PC_PREFIX_FROM_PCFILEDIR "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" SRUDP_PC_PREFIX_FROM_PCFILEDIR "${SRUDP_PC_PREFIX_FROM_PCFILEDIR}")
set(SRUDP_PC_DEPS "libsodium >= 1.0.18" "protobuf")
if(TARGET spdlog::spdlog)
  list(APPEND SRUDP_PC_DEPS "spdlog")
endif()
list(JOIN SRUDP_PC_DEPS ", " SRUDP_PC_DEPS)
set(SRUDP_PC_LIBS "")
foreach(target IN LISTS SRUDP_INSTALL_TARGETS)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "STATIC_LIBRARY" OR type STREQUAL "SHARED_LIBRARY")
    string(APPEND SRUDP_PC_LIBS " -l${target}")
  endif()
endforeach()
string(APPEND SRUDP_PC_LIBS " -pthread")
set(SRUDP_PC_CFLAGS "")
if(Boost_INCLUDE_DIRS AND NOT Boost_INCLUDE_DIRS IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
  foreach(dir IN LISTS Boost_INCLUDE_DIRS)
    string(APPEND SRUDP_PC_CFLAGS " -I${dir}")
  endforeach()
endif()
if(BUILD_SHARED_LIBS)
  set(SRUDP_PC_REQUIRES "")
  set(SRUDP_PC_REQUIRES_PRIVATE "${SRUDP_PC_DEPS}")
else()
  set(SRUDP_PC_REQUIRES "${SRUDP_PC_DEPS}")
  set(SRUDP_PC_REQUIRES_PRIVATE "")
endif()
if(SRUDP_SANITIZE)
  # Built with ASan+UBSan: whoever links these libraries needs the sanitizer runtimes.
  string(APPEND SRUDP_PC_LIBS " -fsanitize=address,undefined")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/srudp.pc.in" "${PROJECT_BINARY_DIR}/srudp.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/srudp.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
