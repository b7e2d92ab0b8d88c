// `rdv token`: a fresh random token (160 bits, base32) for a pair of peers to share.
#include <cstdio>

#include "common/random.hpp"
#include "rendezvous/token.hpp"
#include "tools/rdv/commands.hpp"

namespace srudp::tools {

void add_token_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("token", "print a fresh random token (160 bits)");
  command->callback([&exit_code] {
    SystemRandom random;
    std::printf("%s\n", rendezvous::make_token(random).c_str());
    exit_code = 0;
  });
}

}  // namespace srudp::tools
