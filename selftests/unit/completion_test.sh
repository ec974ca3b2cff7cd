#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dsmctl's bash completion (tools/dsmctl/dsmctl.bash), driven the way bash
# drives it: COMP_WORDS and COMP_CWORD set for a command line, the
# function called, COMPREPLY compared. The objects it offers must be
# exactly those `dsmctl help` lists (the built binary). Region keys come
# from `dsmctl -j region`, which needs the module: here a stand-in dsmctl
# prints what the module's answer looks like (the real one is tested in
# the guests, dsmctl_test.sh).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tools/dsmctl/dsmctl.bash"
n=0
failed=0

complete_line() {	# LINE: the command line up to the cursor
	read -ra COMP_WORDS <<< "$1"
	[[ $1 == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_dsmctl
	echo "${COMPREPLY[*]}"
}

check() {	# NAME LINE WANT
	local got
	got=$(complete_line "$2")
	n=$((n + 1))
	if [ "$got" = "$3" ]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1 (got '$got', wanted '$3')"
		failed=$((failed + 1))
	fi
}

echo "TAP version 13"
echo "1..25"
check "objects" "dsmctl " "show node join leave peers stats monitor region hot help"
check "an object by its prefix" "dsmctl re" "region"
check "options are skipped" "dsmctl -j st" "stats"
check "options" "dsmctl -" "-j -p -V -h"
check "node's commands" "dsmctl node " "set limit help"
check "node limit: what" "dsmctl node limit " "mem"
check "node limit mem: or none" "dsmctl node limit mem n" "none"
check "node set: every key" "dsmctl node set " "id addr port cluster dead-timeout key"
check "node set: the keys not given yet" "dsmctl node set id 2 addr 10.0.0.2 " \
	"port cluster dead-timeout key"
check "no guess for a value" "dsmctl node set id " ""
check "key: a file" "dsmctl node set id 2 key $ROOT/Kbu" "$ROOT/Kbuild"
check "key: or none" "dsmctl node set key no" "none"
check "stats: reset" "dsmctl stats " "reset"
check "region's commands" "dsmctl region " "list show save load"
check "hot's options" "dsmctl hot -" "-n -i"

stub=$(mktemp -d)
trap 'rm -rf "$stub"' EXIT
cat > "$stub/dsmctl" <<'STUB'
#!/bin/sh
[ "$*" = "-j region" ] || exit 1
echo '[{"key":24301,"size":65536,"mode":"local","homes":"local","held":16},{"key":3235774641,"size":1048576,"mode":"cluster","homes":"1,2,3","held":0}]'
STUB
chmod +x "$stub/dsmctl"
PATH="$stub:$PATH" check "region show: the keys this node knows, in hex" \
	"dsmctl region show " "0x5eed 0xc0de00b1"
PATH="$stub:$PATH" check "region show: a key by its prefix" "dsmctl region show 0xc" "0xc0de00b1"
PATH="$stub:$PATH" check "region save: a key" "dsmctl region save 0x5" "0x5eed"
check "region save KEY: a file" "dsmctl region save 0x5eed $ROOT/Kbu" "$ROOT/Kbuild"
check "region load: a file" "dsmctl region load $ROOT/Kbu" "$ROOT/Kbuild"
check "region load FILE: the key is new" "dsmctl region load x " ""
PATH="$stub:$PATH" check "hot: a region key" "dsmctl hot -n 5 0x5" "0x5eed"
PATH="$stub:$PATH" check "hot: no key where -i wants seconds" "dsmctl hot -i " ""
printf '#!/bin/sh\nexit 2\n' > "$stub/dsmctl"	# refused: not root
PATH="$stub:$PATH" check "region show: none when dsmctl refuses" "dsmctl region show " ""

n=$((n + 1))
mkdir "$stub/keys" && touch "$stub/keys/my key"
read -ra COMP_WORDS <<< "dsmctl node set key $stub/keys/my"
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_dsmctl
if [ ${#COMPREPLY[@]} = 1 ] && [ "${COMPREPLY[0]}" = "$stub/keys/my key" ]; then
	echo "ok $n key: a file name with a space is one word"
else
	echo "not ok $n key: a file name with a space is one word (${#COMPREPLY[@]}: ${COMPREPLY[*]})"
	failed=$((failed + 1))
fi
n=$((n + 1))
offered=$(complete_line "dsmctl " | tr ' ' '\n' | sort)
listed=$("$ROOT/build/dsmctl" help | grep -oE '^  dsmctl [a-z]+' | awk '{ print $2 }' | sort -u)
if [ -n "$listed" ] && [ "$offered" = "$listed" ]; then
	echo "ok $n the objects offered are those dsmctl help lists"
else
	echo "not ok $n the objects offered ($(echo $offered)) are not those dsmctl help lists ($(echo $listed))"
	failed=$((failed + 1))
fi
n=$((n + 1))
if bash -n "$ROOT/tools/dsmctl/dsmctl.bash"; then
	echo "ok $n the completion script parses"
else
	echo "not ok $n the completion script parses"
	failed=$((failed + 1))
fi
echo "# $((n - failed)) passed, $failed failed"
[ $failed = 0 ]
