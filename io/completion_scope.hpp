// io::CompletionScope: completions that happen while one of our event handlers runs (socket
// readable, timer, a deferred drive) are collected and run when that handler has finished its own
// work, instead of each being posted to the executor.
//
// A posted completion costs a trip through the io_context's queue, and while it waits there Asio
// polls the reactor once more (an epoll_wait that finds nothing). For a 64-byte ping-pong that was
// two such calls per message on each side. Here the handler's own executor still decides: run()
// dispatches each completion to it, which runs it at once when this thread is already running that
// executor (as Asio's own sockets do from the reactor), and queues it otherwise (another thread, a
// strand held elsewhere).
//
// Never inside an initiating function: a completion raised by an application call (a write that
// fits at once) is deferred to the scope too, so it runs after that call has returned.
//
// One scope per thread at a time: a scope opened while another is open on the thread is inert, and
// what happens under it goes to the outer one. What a scope has not run when it is destroyed (its
// owner stopped early, or an application handler threw) is posted as before.
#pragma once

#include <cstddef>
#include <deque>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>

namespace srudp::io {

class CompletionScope {
 public:
  using Completion = boost::asio::any_completion_handler<void()>;
  // Called when the owning scope closes, so its owner can post what it still wanted to do.
  using OnClose = void (*)(void* owner) noexcept;

  CompletionScope(void* owner, OnClose on_close) noexcept;
  ~CompletionScope();
  CompletionScope(const CompletionScope&) = delete;
  CompletionScope& operator=(const CompletionScope&) = delete;

  // The scope open on this thread, if any.
  static CompletionScope* current() noexcept;

  // Whether this scope is the open one (not nested inside another).
  bool owning() const noexcept { return owning_; }
  void* owner() const noexcept { return owner_; }

  // `completion` runs on its associated executor; `io_executor` (the operation's) is where it is
  // posted if this scope closes before running it.
  void add(const boost::asio::any_io_executor& io_executor, Completion completion);
  // Dispatches the completions waiting now, in order (those they add wait for the next call).
  // Returns whether there were any; an inert scope has none.
  bool run();

 private:
  struct Pending {
    boost::asio::any_io_executor io_executor;
    Completion completion;
  };
  // The owning scope's list: one per thread, kept between scopes so an event allocates nothing
  // for it. Entries before `next_` have been taken by run(). A deque used only at its ends, so no
  // element is ever move-assigned: any_completion_handler's move assignment (Boost 1.81) hands an
  // lvalue to its converting constructor, which wraps the handler in itself without end (erasing
  // from a std::vector did that).
  static std::deque<Pending>& pending();

  void* owner_;
  OnClose on_close_;
  bool owning_;
  std::size_t next_ = 0;
};

}  // namespace srudp::io
