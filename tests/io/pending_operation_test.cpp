#include "io/pending_operation.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace srudp::io {
namespace {

namespace asio = boost::asio;
using Operation = PendingOperation<int>;
using Handler = Operation::Handler;

TEST(PendingOperation, CompletesLaterNeverInsideComplete) {
  asio::io_context io;
  int result = 0;
  Operation op(Handler([&](boost::system::error_code ec, int value) { result = ec ? -1 : value; }), io.get_executor());
  EXPECT_TRUE(op);
  op.complete({}, 42);
  EXPECT_FALSE(op);
  EXPECT_EQ(result, 0);  // not yet: the handler is posted
  io.run();
  EXPECT_EQ(result, 42);
}

TEST(PendingOperation, RunsOnTheHandlersOwnExecutor) {
  asio::io_context io;
  auto strand = asio::make_strand(io);
  bool on_strand = false;
  Operation op(Handler(asio::bind_executor(strand, [&](boost::system::error_code, int) {
                 on_strand = strand.running_in_this_thread();
               })),
               io.get_executor());
  op.complete({}, 1);
  io.run();
  EXPECT_TRUE(on_strand);
}

TEST(PendingOperation, KeepsTheHandlersContextBusyWhileWaiting) {
  asio::io_context io, handler_io;
  bool called = false;
  Operation op(Handler(asio::bind_executor(handler_io, [&](boost::system::error_code, int) { called = true; })),
               io.get_executor());
  // Outstanding work: run_for returns only at its deadline, not because the context is idle.
  const auto start = std::chrono::steady_clock::now();
  handler_io.run_for(std::chrono::milliseconds(30));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(25));
  op.complete({}, 1);
  io.run();
  handler_io.restart();
  handler_io.run();
  EXPECT_TRUE(called);
}

TEST(PendingOperation, CancellationSlotCallsOnCancelAndCompletionDetachesIt) {
  asio::io_context io;
  asio::cancellation_signal signal;
  boost::system::error_code result;
  Operation op(Handler(asio::bind_cancellation_slot(signal.slot(),
                                                    [&](boost::system::error_code ec, int) { result = ec; })),
               io.get_executor());
  int cancels = 0;
  op.on_cancel([&](asio::cancellation_type) {
    ++cancels;
    op.complete(asio::error::operation_aborted, 0);
  });
  signal.emit(asio::cancellation_type::partial);
  EXPECT_EQ(cancels, 1);
  signal.emit(asio::cancellation_type::terminal);  // completed: the slot no longer calls us
  EXPECT_EQ(cancels, 1);
  io.run();
  EXPECT_EQ(result, asio::error::operation_aborted);
}

TEST(PendingOperation, WaitQueueTakesByIdInOrder) {
  WaitQueue<int> queue;
  const auto a = queue.push(1);
  const auto b = queue.push(2);
  queue.push(3);
  EXPECT_EQ(queue.take(b), 2);
  EXPECT_FALSE(queue.take(b));
  EXPECT_EQ(queue.pop_front(), 1);
  EXPECT_FALSE(queue.take(a));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.take_all().size(), 1u);
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace srudp::io
