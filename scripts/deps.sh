#!/bin/bash
# Install every Debian package the build, the guests and the tests need.
# Does nothing (and needs no network) when they are all there.
set -euo pipefail

pkgs=(build-essential kmod cpio xz-utils busybox-static qemu-system-x86 iproute2
      python3 sparse linux-image-amd64 linux-headers-amd64 linux-source-6.1
      libnl-3-dev libnl-genl-3-dev flex bison bc libelf-dev libssl-dev
      git pkg-config dkms dh-dkms debhelper lintian)

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q 'ok installed'
}

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
# Debian 12 also ships 6.12 kernels, without a meta-package: take the newest
# image and headers unless a matching pair is already installed.
have612=""
for d in /lib/modules/6.12.*+deb12-amd64; do
	[ -e "$d/build" ] && [ -e "/boot/vmlinuz-${d##*/}" ] && have612=${d##*/}
done

[ ${#missing[@]} -eq 0 ] && [ -n "$have612" ] && exit 0

[ "$(id -u)" -eq 0 ] || { echo "deps: run as root to install: ${missing[*]}" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ -z "$have612" ]; then
	v612=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' |
	       sed -n 's/^linux-image-\([^ ]*\) .*/\1/p' | sort -V | tail -1)
	[ -n "$v612" ] && missing+=("linux-image-$v612" "linux-headers-$v612")
fi
echo "deps: installing ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
