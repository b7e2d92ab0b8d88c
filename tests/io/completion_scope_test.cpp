#include "io/completion_scope.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "io/pending_operation.hpp"

namespace srudp::io {
namespace {

namespace asio = boost::asio;
using Operation = PendingOperation<int>;
using Handler = Operation::Handler;

struct Closes {
  int count = 0;
  static void on_close(void* owner) noexcept { ++static_cast<Closes*>(owner)->count; }
};

// Runs `body` as a handler of `io`, as the endpoint's events run.
template <class Body>
void in_handler(asio::io_context& io, Body body) {
  asio::post(io, body);
  io.run();
  io.restart();
}

TEST(CompletionScope, CompletionWaitsForRunThenRunsInlineOnTheHandlersThread) {
  asio::io_context io;
  std::vector<std::string> order;
  in_handler(io, [&] {
    Closes closes;
    CompletionScope scope(&closes, &Closes::on_close);
    ASSERT_EQ(CompletionScope::current(), &scope);
    Operation op(Handler([&](boost::system::error_code, int value) { order.push_back("handler " + std::to_string(value)); }),
                 io.get_executor());
    op.complete({}, 7);
    order.push_back("completed");
    EXPECT_TRUE(scope.run());
    order.push_back("ran");
    EXPECT_FALSE(scope.run());
  });
  EXPECT_EQ(order, (std::vector<std::string>{"completed", "handler 7", "ran"}));
  EXPECT_EQ(CompletionScope::current(), nullptr);
}

TEST(CompletionScope, NestedScopeIsInertAndTheOuterOneRunsWhatHappenedUnderIt) {
  asio::io_context io;
  Closes outer_closes, inner_closes;
  int calls = 0;
  in_handler(io, [&] {
    CompletionScope outer(&outer_closes, &Closes::on_close);
    {
      CompletionScope inner(&inner_closes, &Closes::on_close);
      EXPECT_FALSE(inner.owning());
      EXPECT_EQ(CompletionScope::current(), &outer);
      Operation op(Handler([&](boost::system::error_code, int) { ++calls; }), io.get_executor());
      op.complete({}, 1);
      EXPECT_FALSE(inner.run());  // not its list
    }
    EXPECT_EQ(inner_closes.count, 0);  // an inert scope tells nobody
    EXPECT_EQ(calls, 0);
    EXPECT_TRUE(outer.run());
    EXPECT_EQ(calls, 1);
  });
  EXPECT_EQ(outer_closes.count, 1);
}

TEST(CompletionScope, CompletionsAddedWhileRunningWaitForTheNextRun) {
  asio::io_context io;
  std::vector<int> order;
  in_handler(io, [&] {
    Closes closes;
    CompletionScope scope(&closes, &Closes::on_close);
    Operation second(Handler([&](boost::system::error_code, int v) { order.push_back(v); }), io.get_executor());
    Operation first(Handler([&](boost::system::error_code, int v) {
                      order.push_back(v);
                      second.complete({}, 2);  // what the first handler's own calls complete
                    }),
                    io.get_executor());
    first.complete({}, 1);
    EXPECT_TRUE(scope.run());
    EXPECT_EQ(order, std::vector<int>{1});
    EXPECT_TRUE(scope.run());
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
  });
}

TEST(CompletionScope, WhatAScopeDidNotRunIsPostedWhenItCloses) {
  asio::io_context io;
  Closes closes;
  bool called = false;
  in_handler(io, [&] {
    CompletionScope scope(&closes, &Closes::on_close);
    Operation op(Handler([&](boost::system::error_code, int) { called = true; }), io.get_executor());
    op.complete({}, 1);
  });  // in_handler's io.run() goes on to run what the scope posted
  EXPECT_TRUE(called);
  EXPECT_EQ(closes.count, 1);
}

TEST(CompletionScope, AHandlerThatThrowsStopsNeitherTheOthersNorTheScope) {
  // Asio's executor keeps a handler's exception for run() to throw once the current handler is
  // done, as it does for any handler it runs inline.
  asio::io_context io;
  Closes closes;
  bool second_called = false;
  asio::post(io, [&] {
    CompletionScope scope(&closes, &Closes::on_close);
    Operation first(Handler([](boost::system::error_code, int) { throw std::runtime_error("application"); }),
                    io.get_executor());
    Operation second(Handler([&](boost::system::error_code, int) { second_called = true; }), io.get_executor());
    first.complete({}, 1);
    second.complete({}, 2);
    EXPECT_TRUE(scope.run());
    EXPECT_TRUE(second_called);
  });
  EXPECT_THROW(io.run(), std::runtime_error);
  EXPECT_TRUE(second_called);
  EXPECT_EQ(closes.count, 1);
  EXPECT_EQ(CompletionScope::current(), nullptr);
}

TEST(CompletionScope, AStrandHandlerRunsOnItsStrand) {
  asio::io_context io;
  auto strand = asio::make_strand(io);
  bool on_strand = false;
  in_handler(io, [&] {
    Closes closes;
    CompletionScope scope(&closes, &Closes::on_close);
    Operation op(Handler(asio::bind_executor(strand, [&](boost::system::error_code, int) {
                   on_strand = strand.running_in_this_thread();
                 })),
                 io.get_executor());
    op.complete({}, 1);
    scope.run();
  });
  EXPECT_TRUE(on_strand);
}

TEST(CompletionScope, AHandlerOnAnotherContextIsQueuedThereAndKeepsItBusyMeanwhile) {
  asio::io_context io, handler_io;
  bool called = false;
  Operation op(Handler(asio::bind_executor(handler_io, [&](boost::system::error_code, int) { called = true; })),
               io.get_executor());
  Closes closes;
  std::optional<CompletionScope> scope;
  in_handler(io, [&] {
    scope.emplace(&closes, &Closes::on_close);
    op.complete({}, 1);
    // Deferred in the scope: the handler's context still has the work counted, so it does not
    // return for lack of work.
    const auto start = std::chrono::steady_clock::now();
    handler_io.run_for(std::chrono::milliseconds(30));
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(25));
    EXPECT_FALSE(called);
    scope->run();  // not this thread's context: queued there, not run here
    EXPECT_FALSE(called);
    scope.reset();
  });
  handler_io.restart();
  handler_io.run();
  EXPECT_TRUE(called);
}

}  // namespace
}  // namespace srudp::io
