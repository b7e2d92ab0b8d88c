#!/usr/bin/env bash
# `rdv keygen FILE`: prints a 64-hex-digit public key, writes FILE with mode 0600, and refuses to
# replace an existing file (non-zero exit, the file unchanged).
set -euo pipefail
rdv="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

public=$("$rdv" keygen "$dir/node.key")
[[ "$public" =~ ^[0-9a-f]{64}$ ]] || { echo "not a public key: '$public'"; exit 1; }
[[ "$(stat -c %a "$dir/node.key")" == 600 ]] || { echo "mode $(stat -c %a "$dir/node.key")"; exit 1; }
grep -q "^public $public\$" "$dir/node.key" || { echo "file does not hold the printed key"; exit 1; }
before=$(sha256sum "$dir/node.key")
if "$rdv" keygen "$dir/node.key" 2>"$dir/err"; then echo "overwrote an existing key"; exit 1; fi
grep -q "cannot write" "$dir/err" || { echo "no clear message: $(cat "$dir/err")"; exit 1; }
[[ "$(sha256sum "$dir/node.key")" == "$before" ]] || { echo "existing key changed"; exit 1; }
if "$rdv" keygen "$dir/missing/dir/node.key" 2>/dev/null; then echo "wrote into a missing directory"; exit 1; fi
echo "keygen ok"
