#!/usr/bin/env bash
# Install what is missing from Debian's packages: `setup.sh build` for the
# build, `setup.sh test` for build + tests (every scripts/packages.d/*.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-build}
if [ "$kind" = build ]; then
	lists=(scripts/packages.d/build.txt)
else
	lists=(scripts/packages.d/*.txt)
fi
want=$(grep -hv '^\s*#' "${lists[@]}" | awk 'NF{print $1}' | sort -u)
missing=()
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "runlet setup: missing packages: ${missing[*]} (run as root, or install them with apt-get)" >&2
	exit 1
fi
echo "runlet setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d keeps services from being started by package scripts: runlet's
# own scripts start what tests need, on loopback.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
