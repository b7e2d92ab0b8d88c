// io::PendingOperation: one waiting asynchronous operation of the public API. It holds the
// type-erased completion handler, outstanding work on the handler's executor (so that executor's
// context does not run out of work while we wait), and hooks the handler's cancellation slot.
//
// Completion never calls the handler inline. Inside one of the endpoint's event handlers it goes
// to that handler's CompletionScope, which dispatches it to the handler's own executor once the
// event's work is done (completion_scope.hpp); elsewhere (an application call that completes at
// once, data already buffered) it is posted to the endpoint's executor and from there dispatched
// to the handler's executor. Either way it runs after the call that completed it has returned.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <utility>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/system/error_code.hpp>

#include "io/completion_scope.hpp"

namespace srudp::io {

template <class... Results>
class PendingOperation {
 public:
  using Handler = boost::asio::any_completion_handler<void(boost::system::error_code, Results...)>;

  PendingOperation() = default;
  PendingOperation(Handler handler, const boost::asio::any_io_executor& io_executor)
      : handler_(std::move(handler)),
        io_executor_(io_executor),
        work_(boost::asio::prefer(boost::asio::get_associated_executor(handler_, io_executor),
                                  boost::asio::execution::outstanding_work.tracked)) {}
  // any_completion_handler's move assignment does not compile in Boost 1.81: swap instead.
  PendingOperation(PendingOperation&& other) noexcept
      : handler_(std::move(other.handler_)), io_executor_(std::move(other.io_executor_)), work_(std::move(other.work_)) {}
  PendingOperation& operator=(PendingOperation&& other) noexcept {
    handler_.swap(other.handler_);
    std::swap(io_executor_, other.io_executor_);
    std::swap(work_, other.work_);
    return *this;
  }
  ~PendingOperation() {
    // Destroyed uncompleted (the implementation is going away): the slot must not call back.
    if (handler_) clear_slot();
  }

  explicit operator bool() const noexcept { return static_cast<bool>(handler_); }

  // `on_cancel(type)` runs when the handler's cancellation slot is emitted. Asio requires the
  // emitter to run on the operation's executor, so it may touch our state directly.
  template <class OnCancel>
  void on_cancel(OnCancel on_cancel) {
    auto slot = handler_.get_cancellation_slot();
    if (slot.is_connected()) {
      slot.assign([f = std::move(on_cancel)](boost::asio::cancellation_type type) mutable {
        if (type == boost::asio::cancellation_type::none) return;
        // Completing clears the slot, destroying this very closure: run from a local copy.
        OnCancel run = std::move(f);
        run(type);
      });
    }
  }

  void complete(boost::system::error_code ec, Results... results) {
    if (!handler_) return;
    clear_slot();
    Handler handler(std::move(handler_));
    // The handler's executor, with the work we count on it: released once the handler has run.
    boost::asio::any_completion_executor handler_executor = std::move(work_);
    work_ = boost::asio::any_completion_executor();
    auto completion = boost::asio::bind_executor(
        std::move(handler_executor),
        [h = std::move(handler), ec, ... r = std::move(results)]() mutable { std::move(h)(ec, std::move(r)...); });
    if (CompletionScope* scope = CompletionScope::current()) {
      scope->add(io_executor_, std::move(completion));
    } else {
      boost::asio::post(io_executor_, std::move(completion));
    }
  }

 private:
  void clear_slot() {
    auto slot = handler_.get_cancellation_slot();
    if (slot.is_connected()) slot.clear();
  }

  Handler handler_;
  boost::asio::any_io_executor io_executor_;
  boost::asio::any_completion_executor work_;
};

// Waiting operations of one kind in arrival order, each with an id its cancellation names.
template <class Entry>
class WaitQueue {
 public:
  std::uint64_t push(Entry entry) {
    const std::uint64_t id = next_id_++;
    entries_.emplace_back(id, std::move(entry));
    return id;
  }
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  Entry& front() { return entries_.front().second; }
  Entry& back() { return entries_.back().second; }
  Entry pop_front() {
    Entry e = std::move(entries_.front().second);
    entries_.pop_front();
    return e;
  }
  std::optional<Entry> take(std::uint64_t id) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first == id) {
        std::optional<Entry> e(std::move(it->second));
        entries_.erase(it);
        return e;
      }
    }
    return std::nullopt;
  }
  // Takes every entry (for completing them all with one error).
  std::list<std::pair<std::uint64_t, Entry>> take_all() { return std::exchange(entries_, {}); }

 private:
  std::list<std::pair<std::uint64_t, Entry>> entries_;
  std::uint64_t next_id_ = 1;
};

}  // namespace srudp::io
