// The rdv tool's subcommands. Each add_*_command registers itself on the app; its callback runs
// the command and stores the process exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>

namespace srudp::tools {

void add_serve_command(CLI::App& app, int& exit_code);
void add_token_command(CLI::App& app, int& exit_code);
void add_keygen_command(CLI::App& app, int& exit_code);
void add_peer_commands(CLI::App& app, int& exit_code);  // dial, accept

}  // namespace srudp::tools
