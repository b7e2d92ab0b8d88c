// Boost.Beast support: the customization points websocket::stream<srudp::Stream> calls: teardown
// after the closing handshake, beast_close_socket when it gives up on a failed connection.
// Include this where a Beast websocket stream runs over srudp.
//
// Teardown sends our FIN (the peer reads eof) and completes; closing the handle (or dropping it)
// does the rest, as with a TCP socket's shutdown and close.
#pragma once

#include <utility>

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/system/error_code.hpp>

#include "srudp/stream.hpp"

namespace srudp {

inline void beast_close_socket(Stream& stream) { stream.close(); }

inline void teardown(boost::beast::role_type, Stream& stream, boost::system::error_code& ec) {
  ec = stream.shutdown_send();
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type, Stream& stream, TeardownHandler&& handler) {
  boost::system::error_code ec = stream.shutdown_send();
  // Never inline: the handler runs through its own executor, as after any Asio operation.
  boost::asio::post(stream.get_executor(), boost::beast::bind_front_handler(std::forward<TeardownHandler>(handler), ec));
}

}  // namespace srudp
