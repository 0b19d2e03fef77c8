#!/usr/bin/env bash
# Install the Debian fonts the PDF recap embeds (hubbub/chat/pdf_fonts.py) when missing.
set -euo pipefail
packages="fonts-dejavu-core fonts-droid-fallback fonts-nanum fonts-symbola"
missing=""
for p in $packages; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  apt_get="apt-get"
elif command -v sudo >/dev/null 2>&1; then
  apt_get="sudo apt-get"
else
  echo "fonts missing ($missing) and this user cannot install them: PDF recap tests will fail" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$apt_get install -y -q $missing >/dev/null 2>&1 || { $apt_get update -q >/dev/null && $apt_get install -y -q $missing >/dev/null; }
