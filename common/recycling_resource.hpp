// srudp::RecyclingResource: a memory resource for one node-based container (a std::pmr::map)
// that keeps the blocks the container frees and hands them out again, so a container whose size
// goes up and down by a few elements a packet allocates from the heap only to grow past its
// largest size so far.
//
// It recycles blocks of the first size it is asked for (a map only ever asks for its node size)
// and keeps at most max_spare of them; anything else goes straight to the upstream heap. Not
// thread-safe, like the container it serves. Chosen over std::pmr::unsynchronized_pool_resource,
// which costs an idle connection several KB of pool bookkeeping and more instructions per
// allocation than glibc's malloc.
#pragma once

#include <cstddef>
#include <memory_resource>

namespace srudp {

class RecyclingResource final : public std::pmr::memory_resource {
 public:
  explicit RecyclingResource(std::size_t max_spare) : max_spare_(max_spare) {}
  RecyclingResource(const RecyclingResource&) = delete;
  RecyclingResource& operator=(const RecyclingResource&) = delete;
  ~RecyclingResource() override {
    while (spare_ != nullptr) {
      Block* next = spare_->next;
      upstream()->deallocate(spare_, block_size_, block_align_);
      spare_ = next;
    }
  }

  std::size_t spare_blocks() const noexcept { return spare_count_; }

 private:
  struct Block {
    Block* next;
  };

  static std::pmr::memory_resource* upstream() noexcept { return std::pmr::new_delete_resource(); }

  bool recyclable(std::size_t bytes, std::size_t align) noexcept {
    if (block_size_ == 0 && bytes >= sizeof(Block) && align >= alignof(Block)) {
      block_size_ = bytes;
      block_align_ = align;
    }
    return bytes == block_size_ && align == block_align_;
  }

  void* do_allocate(std::size_t bytes, std::size_t align) override {
    if (spare_ != nullptr && bytes == block_size_ && align == block_align_) {
      Block* block = spare_;
      spare_ = block->next;
      --spare_count_;
      return block;
    }
    return upstream()->allocate(bytes, align);
  }

  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
    if (spare_count_ < max_spare_ && recyclable(bytes, align)) {
      spare_ = ::new (p) Block{spare_};
      ++spare_count_;
      return;
    }
    upstream()->deallocate(p, bytes, align);
  }

  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  std::size_t max_spare_;
  std::size_t block_size_ = 0;  // 0 until the first block comes back
  std::size_t block_align_ = 0;
  Block* spare_ = nullptr;
  std::size_t spare_count_ = 0;
};

}  // namespace srudp
