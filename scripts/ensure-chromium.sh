#!/usr/bin/env bash
# Install Debian's chromium for the Playwright browser tests when it is missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  apt_get="apt-get"
elif command -v sudo >/dev/null 2>&1; then
  apt_get="sudo apt-get"
else
  echo "chromium is missing and this user cannot install it: the browser tests will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$apt_get install -y -q chromium >/dev/null 2>&1 || { $apt_get update -q >/dev/null && $apt_get install -y -q chromium >/dev/null; }
