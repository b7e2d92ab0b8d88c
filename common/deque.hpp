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
// it is busy; this gives the buffer back once it is empty with room for more than `kept` elements,
// so an idle owner does not hold a burst's worth of memory.
template <class T>
void release_if_emptied(Deque<T>& deque, std::size_t kept) {
  if (deque.empty() && deque.capacity() > kept) deque.shrink_to_fit();
}

}  // namespace srudp
