// srudp::Deque: the double-ended sequence the protocol core keeps its queues and sorted records
// in (events, path responses, ACK ranges, declared losses, PMTUD records).
//
// Not std::deque: libstdc++'s allocates a 512-byte block and its map when it is constructed, empty
// or not, and an idle connection holds about a dozen of them, most empty for its whole life (8.7
// of the 26.4 KB an idle connection cost, docs/PERFORMANCE.md). boost::container::devector
// allocates on the first element, grows at either end in amortized constant time, and when used
// as a FIFO moves its elements back to the front of its buffer instead of growing without bound.
// Unlike std::deque, growing it invalidates references to its elements: do not hold one across a
// push.
#pragma once

#include <cstddef>

#include <boost/container/devector.hpp>

namespace srudp {

template <class T>
using Deque = boost::container::devector<T>;

// A Deque used as a FIFO keeps its buffer when it empties, which is what saves allocations while
// it is busy; this trades the buffer for one of about `kept` elements once it is empty with room
// for more than twice that, so an idle owner does not hold a burst's worth of memory. The next
// burst then grows from `kept` (a reallocation or two) rather than from a single element (one per
// doubling, each moving what is there): on a bulk path that empties between bursts, that was
// several reallocations per burst. (The allocator may round `kept` up, hence the factor two.)
template <class T>
void release_if_emptied(Deque<T>& deque, std::size_t kept) {
  if (!deque.empty() || deque.capacity() <= 2 * kept) return;
  Deque<T> smaller;
  smaller.reserve(kept);
  deque.swap(smaller);
}

}  // namespace srudp
