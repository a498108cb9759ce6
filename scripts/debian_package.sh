#!/usr/bin/env bash
# debian_package.sh <command> <package> <what for>: install the Debian package when the command is missing.
set -euo pipefail
command -v "$1" >/dev/null && exit 0
echo "Installing $2 (Debian package) for $3 ..."
if [ "$(id -u)" = 0 ]; then APT=(apt-get); else APT=(sudo apt-get); fi
"${APT[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${APT[@]}" install -y -qq "$2" >/dev/null
