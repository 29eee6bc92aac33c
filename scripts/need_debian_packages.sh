#!/usr/bin/env bash
# Makes sure the Debian packages named as arguments are installed (`make test` needs chromium for
# the browser test, `make bench` needs wrk): installs the missing ones through apt-get when run as
# root, else says which are missing (the browser test then skips outside CI; the benchmark stops).
set -euo pipefail
missing=()
for package in "$@"; do
  command -v "$package" >/dev/null || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "note: install the Debian packages ${missing[*]} (apt-get install ${missing[*]})" >&2
fi
