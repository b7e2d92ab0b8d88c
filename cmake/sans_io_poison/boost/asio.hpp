// This header shadows the real <boost/asio.hpp> for the protocol-core targets (see
// cmake/SrudpTargets.cmake). The core is sans-IO: it takes bytes and time as arguments.
#error "srudp protocol core must not include Boost.Asio; do I/O in the Asio layer"
