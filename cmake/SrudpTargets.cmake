# Helpers shared by every directory's CMakeLists.txt.

set(SRUDP_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wimplicit-fallthrough)

# GCC 12 reports -Wrestrict false positives inside libstdc++'s std::string at -O3 (GCC bug 105329),
# and -Wstringop-overread ones inside boost::container::small_vector's copy of its inline storage
# (it cannot see that the size it copies is at most the capacity). An LTO link (SRUDP_LTO)
# optimises again and needs the same exceptions.
set(SRUDP_WARNING_EXCEPTIONS "")
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  set(SRUDP_WARNING_EXCEPTIONS -Wno-restrict -Wno-stringop-overread)
endif()
list(APPEND SRUDP_WARNINGS ${SRUDP_WARNING_EXCEPTIONS})

function(srudp_warnings target)
  target_compile_options(${target} PRIVATE ${SRUDP_WARNINGS})
  if(SRUDP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# A protocol-core library: crypto, wire, transport, stream and the rendezvous state machines.
# They take bytes and time as arguments and never touch sockets, clocks or threads. The build
# enforces the Boost.Asio part twice: a poisoned <boost/asio.hpp> shadows the real one for these
# targets (an #include fails to compile), and linking anything Boost is a configure error.
# tests/sans_io_boundary.cmake checks the sources for the rest (sockets, clocks, threads).
set(SRUDP_CORE_DIRS "" CACHE INTERNAL "")
# Core headers are included by path from the project root ("common/address.hpp"); installed, they
# live under include/srudp/core/ (see cmake/SrudpInstall.cmake).
include(GNUInstallDirs)
set(SRUDP_CORE_INCLUDE_DIRS
  "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>" "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>"
  "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/srudp/core>"
  "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
function(srudp_core_library target)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)  # an area with headers only (so far)
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${SRUDP_CORE_INCLUDE_DIRS})
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(${target} STATIC ${ARG_SOURCES})
  target_include_directories(${target} BEFORE PRIVATE "${PROJECT_SOURCE_DIR}/cmake/sans_io_poison")
  target_include_directories(${target} PUBLIC ${SRUDP_CORE_INCLUDE_DIRS})
  target_link_libraries(${target} PUBLIC ${ARG_DEPS})
  srudp_warnings(${target})
  foreach(dep IN LISTS ARG_DEPS)
    if(dep MATCHES "[Bb]oost|asio")
      message(FATAL_ERROR "${target} is protocol core (sans-IO) and must not link ${dep}")
    endif()
  endforeach()
  set(SRUDP_CORE_DIRS ${SRUDP_CORE_DIRS} "${CMAKE_CURRENT_SOURCE_DIR}" CACHE INTERNAL "")
endfunction()

# One GoogleTest executable per area; every TEST becomes its own ctest entry.
function(srudp_test target)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    return()
  endif()
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_include_directories(${target} PRIVATE "${PROJECT_SOURCE_DIR}" "${PROJECT_SOURCE_DIR}/tests")
  srudp_warnings(${target})
  # Tests link the libraries' machine code (SRUDP_LTO builds fat objects): an LTO link of every
  # test program would double the release build for speed nobody measures there.
  set_property(TARGET ${target} PROPERTY INTERPROCEDURAL_OPTIMIZATION OFF)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS unit)
endfunction()

# A libFuzzer target, with its seed corpus in fuzz/corpus/<name>.
function(srudp_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  srudp_warnings(${name})
endfunction()

function(srudp_bench target)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} benchmark::benchmark_main)
  srudp_warnings(${target})
endfunction()
