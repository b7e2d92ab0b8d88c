#error "srudp protocol core must not include Boost.Asio (boost/asio/ip/tcp.hpp)"
