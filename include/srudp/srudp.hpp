// The srudp public API in one include: Endpoint (a UDP socket carrying connections), Connection
// (streams and datagrams to one peer), Stream (an Asio AsyncReadStream/AsyncWriteStream), their
// options, statistics and error codes. See docs/API.md.
#pragma once

#include "srudp/connection.hpp"
#include "srudp/endpoint.hpp"
#include "srudp/error.hpp"
#include "srudp/options.hpp"
#include "srudp/stats.hpp"
#include "srudp/stream.hpp"
