#!/usr/bin/env bash
# Installs a build into a scratch prefix and builds a consumer program against it, the two ways a
# user would. Steps (one ctest each; the last two need the first):
#   consumer_test.sh install      BUILD_DIR PREFIX
#   consumer_test.sh find_package PREFIX WORK_DIR CXX [LAUNCHER]
#   consumer_test.sh pkg_config   PREFIX WORK_DIR CXX [LAUNCHER]
set -euo pipefail
consumer_dir="$(cd "$(dirname "$0")" && pwd)/consumer"
step="$1"
shift

case "$step" in
  install)
    build="$1" prefix="$2"
    rm -rf "$prefix"  # nothing stale from an earlier install
    cmake --install "$build" --prefix "$prefix" >/dev/null
    config="$(find "$prefix" -name srudpConfig.cmake)"
    pc="$(find "$prefix" -name srudp.pc)"
    [ -n "$config" ] && [ -n "$pc" ] || { echo "no srudpConfig.cmake or srudp.pc under $prefix" >&2; exit 1; }
    [ -f "$prefix/include/srudp/message.hpp" ] && [ -f "$prefix/include/srudp/core/stream/message_codec.hpp" ] \
      && [ -f "$prefix/include/srudp/rdv_client.hpp" ] \
      || { echo "headers missing under $prefix/include" >&2; exit 1; }
    echo "installed into $prefix"
    ;;
  find_package)
    prefix="$1" work="$2" cxx="$3" launcher="${4:-}"
    rm -rf "$work"  # configure from scratch, as a user would
    cmake -S "$consumer_dir" -B "$work" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" \
      ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"} >/dev/null
    cmake --build "$work"
    "$work/srudp_consumer"
    ;;
  pkg_config)
    prefix="$1" work="$2" cxx="$3" launcher="${4:-}"
    pc="$(find "$prefix" -name srudp.pc)"
    export PKG_CONFIG_PATH="$(dirname "$pc")"
    mkdir -p "$work"
    echo "pkg-config --cflags --libs srudp: $(pkg-config --cflags --libs srudp)"
    # Compile and link as separate steps (same flags as one `c++ main.cpp $(pkg-config --cflags
    # --libs srudp)`) so a compiler cache can skip the compile on reruns.
    # shellcheck disable=SC2046 # the flags must split into words
    $launcher "$cxx" -std=c++20 $(pkg-config --cflags srudp) -c "$consumer_dir/main.cpp" -o "$work/main.o"
    # shellcheck disable=SC2046
    "$cxx" "$work/main.o" -o "$work/srudp_consumer" $(pkg-config --libs srudp)
    "$work/srudp_consumer"
    ;;
  *)
    echo "usage: $0 install|find_package|pkg_config ..." >&2
    exit 2
    ;;
esac
