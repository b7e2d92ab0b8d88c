// `rdv keygen FILE`: a fresh long-term X25519 identity, written to FILE (mode 0600, never over an
// existing file); prints the public key, which the peer pins (64 hex digits).
#include <cstdio>
#include <string>

#include "common/random.hpp"
#include "crypto/keypair.hpp"
#include "io/identity_file.hpp"
#include "tools/rdv/commands.hpp"

namespace srudp::tools {

void add_keygen_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("keygen", "write a new identity key to FILE and print its public key");
  auto path = std::make_shared<std::string>();
  command->add_option("file", *path, "where to write the key (mode 0600; an existing file is never replaced)")
      ->required();
  command->callback([&exit_code, path] {
    SystemRandom random;
    const crypto::KeyPair identity = crypto::KeyPair::generate(random);
    if (const std::error_code ec = io::save_identity(*path, identity)) {
      std::fprintf(stderr, "rdv keygen: cannot write %s: %s\n", path->c_str(), ec.message().c_str());
      exit_code = 1;
      return;
    }
    std::printf("%s\n", io::to_hex(identity.public_key).c_str());
    exit_code = 0;
  });
}

}  // namespace srudp::tools
