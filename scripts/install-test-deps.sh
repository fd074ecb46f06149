#!/usr/bin/env bash
# Installs the system packages the tests need (redis-server, chromium, nginx) with apt-get when
# they are missing. The README's test command runs it before `npm ci && npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-get not found: install ${need[*]} with your package manager, then run this again" >&2
    exit 1
  fi
  # Debian's packages start their services on install (nginx on port 80, redis on 6379);
  # the tests start their own on free ports, so keep apt from starting any.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
  if [ -n "$policy" ]; then $SUDO rm -f "$policy"; fi
fi
