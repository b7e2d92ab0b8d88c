#error "srudp protocol core must not include Boost.Asio (boost/asio/steady_timer.hpp)"
