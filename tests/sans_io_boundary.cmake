# Fails when a protocol-core source file reaches for I/O, a clock or a thread.
# Usage: cmake -DDIRS="dir1;dir2" -P sans_io_boundary.cmake
set(forbidden
  "boost/asio" "<sys/socket.h>" "<netinet/" "<arpa/inet.h>" "<thread>" "<mutex>"
  "steady_clock::now" "system_clock::now" "high_resolution_clock::now" "<ctime>" "time(nullptr)"
  "std::random_device" "<fstream>" "<fcntl.h>" "<unistd.h>" "<sys/stat.h>")
set(failures 0)
set(checked 0)
foreach(dir IN LISTS DIRS)
  file(GLOB_RECURSE files "${dir}/*.cpp" "${dir}/*.hpp")
  foreach(f IN LISTS files)
    file(READ "${f}" text)
    math(EXPR checked "${checked} + 1")
    foreach(pattern IN LISTS forbidden)
      string(FIND "${text}" "${pattern}" pos)
      if(NOT pos EQUAL -1)
        message(SEND_ERROR "${f}: protocol core must not use ${pattern}")
        math(EXPR failures "${failures} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()
if(checked EQUAL 0)
  message(FATAL_ERROR "sans_io_boundary: no core sources found in '${DIRS}'")
endif()
message(STATUS "sans_io_boundary: ${checked} core files checked, ${failures} violations")
if(failures GREATER 0)
  message(FATAL_ERROR "sans-IO boundary violated")
endif()
