#!/bin/sh
# Module lifecycle: rmmod with a live mapping is refused; a load/use/unload
# loop leaks neither regions nor pages; dsmctl reports a missing module.
# Runs last in a guest: it unloads and reloads dsm.ko.
. ktap.sh
plan 8
KO=/lib/modules/dsm.ko
LOOPS=20
MB=8

dsm_fill hold 0x401d $((4096 * 4)) > /tmp/hold.out &
holder=$!
for _ in $(seq 50); do grep -q holding /tmp/hold.out && break; sleep 0.1; done
expect "rmmod refused while a region is mapped" 1 rmmod dsm
kill $holder; wait $holder 2>/dev/null
expect "rmmod once the mapping is gone" 0 rmmod dsm

expect "dsmctl without the module exits 3" 3 dsmctl show
expect_output "and says so" "module is not loaded"

# Each round creates an 8 MiB region, fills it and unloads with the region
# still present: unload must free it. Leaked pages would show as lost memory
# (LOOPS * MB in all); leaked objects as unpaired created/destroyed lines.
avail() { awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo; }
dmesg -c > /dev/null
before=$(avail)
loop_ok=1
for i in $(seq $LOOPS); do
	insmod $KO dyndbg=+p || loop_ok=0
	dsm_fill fill $((0x5000 + i)) $((MB << 20)) $i || loop_ok=0
	dsm_fill verify $((0x5000 + i)) $i || loop_ok=0
	rmmod dsm || loop_ok=0
done
after=$(avail)
[ $loop_ok = 1 ] && ok "load/fill/verify/unload x$LOOPS" || not_ok "load/fill/verify/unload x$LOOPS"

unpaired=$(unpaired_objects)
echo "$unpaired" | grep '^#'
regions=$(dmesg | grep -c 'dsm: region .* created')
[ "$regions" = $LOOPS ] && ! echo "$unpaired" | grep -q unpaired &&
	ok "every object created was destroyed ($regions regions)" ||
	not_ok "every object created was destroyed: $regions regions; $unpaired"

echo "# MemAvailable before ${before} MiB, after ${after} MiB; the loop touched $((LOOPS * MB)) MiB"
[ $((before - after)) -lt $((LOOPS * MB / 4)) ] && ok "no pages leaked" ||
	not_ok "no pages leaked (lost $((before - after)) MiB)"

expect "reload" 0 insmod $KO
finish
