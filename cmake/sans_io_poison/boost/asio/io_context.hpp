#error "srudp protocol core must not include Boost.Asio (boost/asio/io_context.hpp)"
