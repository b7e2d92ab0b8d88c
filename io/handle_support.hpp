// What the public handles (Endpoint, Connection, Stream) share: starting an operation on the
// implementation's executor, and failing one on an empty handle.
#pragma once

#include <memory>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/system_executor.hpp>

#include "io/pending_operation.hpp"

namespace srudp::io {

// Runs `start` on `executor`: inline when already there (so an operation started from a handler
// begins at once, in order), else queued. Initiations may thus come from any thread.
template <class Start>
void run_on(const boost::asio::any_io_executor& executor, Start&& start) {
  boost::asio::dispatch(executor, std::forward<Start>(start));
}

// An operation on an empty (default-constructed or moved-from) handle: bad_descriptor, delivered
// through the handler's own executor like any other completion.
template <class... Results, class Handler>
void fail_on_empty_handle(Handler handler, Results... empty) {
  PendingOperation<Results...> op(std::move(handler), boost::asio::any_io_executor(boost::asio::system_executor()));
  op.complete(boost::asio::error::bad_descriptor, std::move(empty)...);
}

}  // namespace srudp::io
