#include "io/completion_scope.hpp"

#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace srudp::io {
namespace {

thread_local CompletionScope* open_scope = nullptr;

}  // namespace

std::deque<CompletionScope::Pending>& CompletionScope::pending() {
  thread_local std::deque<Pending> list;
  return list;
}

CompletionScope::CompletionScope(void* owner, OnClose on_close) noexcept
    : owner_(owner), on_close_(on_close), owning_(open_scope == nullptr) {
  if (owning_) open_scope = this;
}

CompletionScope::~CompletionScope() {
  if (!owning_) return;
  open_scope = nullptr;
  std::deque<Pending>& list = pending();
  try {
    for (std::size_t i = next_; i < list.size(); ++i) {
      boost::asio::post(list[i].io_executor, std::move(list[i].completion));
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory while unwinding; nothing better to do
  }
  list.clear();
  if (on_close_ != nullptr) on_close_(owner_);
}

CompletionScope* CompletionScope::current() noexcept { return open_scope; }

void CompletionScope::add(const boost::asio::any_io_executor& io_executor, Completion completion) {
  pending().push_back({io_executor, std::move(completion)});
}

bool CompletionScope::run() {
  if (!owning_) return false;  // the list is the outer scope's
  std::deque<Pending>& list = pending();
  const std::size_t end = list.size();
  if (next_ == end) return false;
  // Those added meanwhile go behind `end`, for the next call.
  while (next_ < end) {
    Completion completion = std::move(list[next_].completion);
    ++next_;  // taken, even if it throws
    boost::asio::dispatch(std::move(completion));
  }
  for (std::size_t i = 0; i < end; ++i) list.pop_front();
  next_ = 0;
  return true;
}

}  // namespace srudp::io
