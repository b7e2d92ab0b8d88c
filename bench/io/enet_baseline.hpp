// ENet (Debian libenet, reliable channel, unencrypted): the transport game developers would pick
// instead of srudp, measured by the bench programs in the same run. Each side is an ENet host on
// loopback (or in the namespaces of a bench::Placement) serviced by its own thread, as two
// processes would be.
#pragma once

#include <enet/enet.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "placement.hpp"

namespace enet_baseline {

using Clock = std::chrono::steady_clock;

class Library {
 public:
  Library() {
    if (enet_initialize() != 0) throw std::runtime_error("enet_initialize");
  }
  ~Library() { enet_deinitialize(); }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
};

// A server host on the receiver's address (port picked by the system) and a client host
// connected to it.
class Pair {
 public:
  explicit Pair(const bench::Placement& placement) {
    ENetAddress address{};
    enet_address_set_host(&address, placement.receiver_ip.c_str());
    address.port = 0;
    placement.enter_receiver();
    server_ = enet_host_create(&address, 1, 1, 0, 0);
    placement.enter_sender();
    client_ = enet_host_create(nullptr, 1, 1, 0, 0);
    placement.go_home();
    if (!server_ || !client_) throw std::runtime_error("enet_host_create");
    address.port = server_->address.port;
    ENetPeer* peer = enet_host_connect(client_, &address, 1, 0);
    if (!peer) throw std::runtime_error("enet_host_connect");
    ENetEvent event;
    bool client_up = false, server_up = false;
    for (int i = 0; i < 1000 && !(client_up && server_up); ++i) {
      while (enet_host_service(server_, &event, 1) > 0) server_up = server_up || event.type == ENET_EVENT_TYPE_CONNECT;
      while (enet_host_service(client_, &event, 1) > 0) client_up = client_up || event.type == ENET_EVENT_TYPE_CONNECT;
    }
    if (!client_up || !server_up) throw std::runtime_error("enet connect");
    client_peer_ = peer;
  }
  ~Pair() {
    enet_host_destroy(client_);
    enet_host_destroy(server_);
  }
  Pair(const Pair&) = delete;
  Pair& operator=(const Pair&) = delete;

  ENetHost* server() { return server_; }
  ENetHost* client() { return client_; }
  ENetPeer* client_peer() { return client_peer_; }

 private:
  ENetHost* server_ = nullptr;
  ENetHost* client_ = nullptr;
  ENetPeer* client_peer_ = nullptr;
};

// Seconds to move `bytes` client -> server in reliable packets of `packet` bytes; nullopt when it
// did not finish within two minutes.
inline std::optional<double> bulk_seconds(const bench::Placement& placement, std::size_t bytes,
                                          std::size_t packet = 1200) {
  Library library;
  Pair pair(placement);
  std::atomic<bool> finished{false};
  bool complete = false;  // written by the receiver before `finished`
  Clock::time_point end{};
  std::thread receiver([&] {
    std::size_t received = 0;
    ENetEvent event;
    const auto deadline = Clock::now() + std::chrono::minutes(2);
    while (received < bytes && Clock::now() < deadline) {
      if (enet_host_service(pair.server(), &event, 10) > 0 && event.type == ENET_EVENT_TYPE_RECEIVE) {
        received += event.packet->dataLength;
        enet_packet_destroy(event.packet);
      }
    }
    end = Clock::now();
    complete = received >= bytes;
    finished = true;
  });
  const std::vector<enet_uint8> payload(packet, 0x5a);
  const auto start = Clock::now();
  ENetEvent event;
  for (std::size_t sent = 0; sent < bytes; sent += packet) {
    const std::size_t n = std::min(packet, bytes - sent);
    enet_peer_send(pair.client_peer(), 0, enet_packet_create(payload.data(), n, ENET_PACKET_FLAG_RELIABLE));
    // Keep the queue moving, as a real sender's loop would (every 8 packets served ENet best here).
    if ((sent / packet) % 8 == 0) {
      while (enet_host_service(pair.client(), &event, 0) > 0) {
      }
    }
  }
  while (!finished) enet_host_service(pair.client(), &event, 1);
  receiver.join();
  if (!complete) return std::nullopt;
  return std::chrono::duration<double>(end - start).count();
}

// Round trips of a `size`-byte reliable message (echoed by the server's thread), in microseconds.
inline std::vector<double> round_trips(const bench::Placement& placement, int warmup, int count,
                                       std::size_t size = 64) {
  Library library;
  Pair pair(placement);
  std::atomic<bool> stop{false};
  std::thread echoer([&] {
    ENetEvent event;
    while (!stop) {
      if (enet_host_service(pair.server(), &event, 10) > 0 && event.type == ENET_EVENT_TYPE_RECEIVE) {
        enet_peer_send(event.peer, 0,
                       enet_packet_create(event.packet->data, event.packet->dataLength, ENET_PACKET_FLAG_RELIABLE));
        enet_packet_destroy(event.packet);
        enet_host_flush(pair.server());
      }
    }
  });
  const std::vector<enet_uint8> message(size, 0x5a);
  std::vector<double> rtts;
  for (int i = 0; i < warmup + count; ++i) {
    const auto start = Clock::now();
    enet_peer_send(pair.client_peer(), 0, enet_packet_create(message.data(), message.size(), ENET_PACKET_FLAG_RELIABLE));
    enet_host_flush(pair.client());
    ENetEvent event;
    bool echoed = false;
    while (!echoed) {
      if (enet_host_service(pair.client(), &event, 100) > 0 && event.type == ENET_EVENT_TYPE_RECEIVE) {
        enet_packet_destroy(event.packet);
        echoed = true;
      }
      if (Clock::now() - start > std::chrono::seconds(10)) throw std::runtime_error("enet echo lost");
    }
    if (i >= warmup) rtts.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  stop = true;
  echoer.join();
  return rtts;
}

}  // namespace enet_baseline
