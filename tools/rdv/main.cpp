// rdv: the rendezvous server and tools. `rdv serve`, `rdv dial`, `rdv accept`, `rdv token`,
// `rdv keygen`; see commands.hpp.
#include <spdlog/spdlog.h>

#include "tools/rdv/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"rdv: rendezvous for srudp (rdv/1 server, STUN, tokens)"};
  app.require_subcommand(1);
  app.fallthrough();  // subcommands inherit it: `rdv dial URL TOKEN -v` works as `rdv -v dial ...`
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "debug logs on stderr");
  app.parse_complete_callback([&verbose] {
    spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  });
  int exit_code = 0;
  srudp::tools::add_serve_command(app, exit_code);
  srudp::tools::add_token_command(app, exit_code);
  srudp::tools::add_keygen_command(app, exit_code);
  srudp::tools::add_peer_commands(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
