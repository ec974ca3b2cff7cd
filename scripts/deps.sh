#!/bin/bash
# Install every Debian package the build, the guests and the tests need.
# Does nothing (and needs no network) when they are all there.
set -euo pipefail

pkgs=(build-essential kmod cpio busybox-static qemu-system-x86 iproute2
      python3 sparse linux-image-amd64 linux-headers-amd64 linux-source-6.1
      libnl-3-dev libnl-genl-3-dev)

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q 'ok installed'
}

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
# Debian 12 also ships 6.12 kernels, without a meta-package: take the newest
# headers unless some 6.12 headers are already installed.
have612=$(ls -d /lib/modules/6.12.*+deb12-amd64/build 2>/dev/null | head -1 || true)

[ ${#missing[@]} -eq 0 ] && [ -n "$have612" ] && exit 0

[ "$(id -u)" -eq 0 ] || { echo "deps: run as root to install: ${missing[*]}" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ -z "$have612" ]; then
	h612=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
	       awk '{print $1}' | sort -V | tail -1)
	[ -n "$h612" ] && missing+=("$h612")
fi
echo "deps: installing ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
