// srudp::Stream: the public handle over io::StreamCore.
#include "srudp/stream.hpp"

#include <boost/asio/post.hpp>

#include "io/handle_support.hpp"
#include "io/stream_core.hpp"

namespace srudp {

Stream::Stream() noexcept = default;

Stream::Stream(std::shared_ptr<io::StreamCore> core, std::shared_ptr<io::ConnectionUser> connection) noexcept
    : core_(std::move(core)), connection_(std::move(connection)) {}

Stream::~Stream() {
  if (!core_) return;
  // Dropped, possibly on another thread: close on the executor.
  try {
    const executor_type executor = core_->executor();
    boost::asio::post(executor, [core = std::move(core_)] { core->close(); });
  } catch (...) {  // NOLINT(bugprone-empty-catch): nothing sensible to do in a destructor
  }
}

Stream::Stream(Stream&& other) noexcept = default;

Stream& Stream::operator=(Stream&& other) noexcept {
  if (this != &other) {
    Stream dropped(std::move(*this));  // closes what this handle held
    core_ = std::move(other.core_);
    connection_ = std::move(other.connection_);
  }
  return *this;
}

Stream::executor_type Stream::get_executor() const noexcept { return core_ ? core_->executor() : executor_type(); }

bool Stream::is_open() const noexcept { return core_ && core_->is_open(); }

std::uint64_t Stream::id() const noexcept { return core_ ? core_->id() : 0; }

void Stream::start_read(const std::shared_ptr<io::StreamCore>& core,
                        const detail::BufferList<boost::asio::mutable_buffer>& buffers, IoHandler handler) {
  if (!core) return io::fail_on_empty_handle<std::size_t>(std::move(handler), std::size_t{0});
  io::run_on(core->executor(), [core, buffers, h = std::move(handler)]() mutable {
    core->read(buffers, io::StreamCore::IoOperation(std::move(h), core->executor()));
  });
}

void Stream::start_write(const std::shared_ptr<io::StreamCore>& core,
                         const detail::BufferList<boost::asio::const_buffer>& buffers, IoHandler handler) {
  if (!core) return io::fail_on_empty_handle<std::size_t>(std::move(handler), std::size_t{0});
  io::run_on(core->executor(), [core, buffers, h = std::move(handler)]() mutable {
    core->write(buffers, io::StreamCore::IoOperation(std::move(h), core->executor()));
  });
}

boost::system::error_code Stream::shutdown_send() {
  return core_ ? core_->shutdown_send() : boost::asio::error::bad_descriptor;
}

boost::system::error_code Stream::reset(std::uint64_t app_error) {
  return core_ ? core_->reset(app_error) : boost::asio::error::bad_descriptor;
}

boost::system::error_code Stream::stop_sending(std::uint64_t app_error) {
  return core_ ? core_->stop_sending(app_error) : boost::asio::error::bad_descriptor;
}

boost::system::error_code Stream::set_priority(int urgency) {
  return core_ ? core_->set_priority(urgency) : boost::asio::error::bad_descriptor;
}

void Stream::close() {
  if (core_) core_->close();
}

}  // namespace srudp
