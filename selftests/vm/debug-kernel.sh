#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh: build (once) the debug guest kernel and print its build
# directory. allnoconfig from Debian's linux-source-6.1 plus debug.config:
# KASAN, UBSAN, lockdep, kmemleak, DEBUG_VM, lockup and hung-task detectors.
#
# The build is cached outside the clone, in $DSM_CACHE (default
# /var/cache/dsm), keyed by the fragment and the source package's version,
# so only the first run pays for it (about 9 minutes on 2 cores).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FRAG=$ROOT/selftests/vm/debug.config
TAR=/usr/src/linux-source-6.1.tar.xz
CACHE=${DSM_CACHE:-/var/cache/dsm}

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (cat "$FRAG"; echo "$srcver") | sha256sum | cut -c1-12)
SRC=$CACHE/linux-source-$srcver
OUT=$CACHE/kernel-debug-$key

if [ -f "$OUT/.dsm-done" ]; then
	echo "$OUT"
	exit 0
fi
mkdir -p "$CACHE"
exec 9> "$CACHE/.lock"
flock 9	# one builder at a time
if [ -f "$OUT/.dsm-done" ]; then
	echo "$OUT"
	exit 0
fi
if [ ! -f "$SRC/.dsm-done" ]; then
	echo "debug-kernel: unpacking $TAR" >&2
	rm -rf "$SRC" && mkdir -p "$SRC"
	tar -xJf "$TAR" -C "$SRC" --strip-components=1
	touch "$SRC/.dsm-done"
fi
echo "debug-kernel: building in $OUT (about 9 minutes on 2 cores)" >&2
mkdir -p "$OUT"
{
	make -C "$SRC" O="$OUT" allnoconfig
	"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" "$FRAG"
	make -C "$SRC" O="$OUT" olddefconfig
	# every option of the fragment must have survived olddefconfig
	missing=$(grep '^CONFIG_' "$FRAG" | while read -r l; do
		grep -qx "$l" "$OUT/.config" || echo "$l"; done)
	[ -z "$missing" ] || { echo "debug-kernel: not taken: $missing" >&2; exit 1; }
	# `modules` (none are configured) leaves the Module.symvers that
	# out-of-tree modules link against
	make -C "$SRC" O="$OUT" -j"$(nproc)" bzImage modules_prepare modules
} > "$OUT/build.log" 2>&1 || {
	tail -30 "$OUT/build.log" >&2
	exit 1
}
touch "$OUT/.dsm-done"
echo "$OUT"
