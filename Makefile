# SPDX-License-Identifier: GPL-2.0
#
# dsm: top-level build. `make help` lists the targets.

DSM_VERSION := $(shell sed -n 's/^DSM_VERSION := //p' Kbuild)
LIB_SOVERSION := 0

# The guest kernel: Debian 12's newest 6.1 unless told otherwise.
KVER ?= $(shell ls /lib/modules 2>/dev/null | grep '^6\.1\.[0-9-]*-amd64$$' | sort -V | tail -1)
KDIR ?= /lib/modules/$(KVER)/build
KDIR_612 ?= $(shell ls -d /lib/modules/6.12.*+deb12-amd64/build 2>/dev/null | sort -V | tail -1)
KSRC_TAR ?= /usr/src/linux-source-6.1.tar.xz

B := build
CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes
CPPFLAGS += -Iuapi -Ilib -D_GNU_SOURCE -DDSM_VERSION='"$(DSM_VERSION)"'
NL_CFLAGS := -I/usr/include/libnl3
NL_LIBS := -lnl-genl-3 -lnl-3 -lpthread -lm
KSFT := $(B)/ksft
UCC = $(CC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
DESTDIR ?=
# dsmctl is static for the guests' busybox initramfs; packages link it
# dynamically (CTL_LDFLAGS=)
CTL_LDFLAGS ?= -static

.PHONY: all module module-612 module-debug lib tools selftests deps check demo bench style sparse install install-user packages clean help

all: module lib tools selftests

help:
	@echo "make [all]        module, libdsm, dsmctl, selftests"
	@echo "make deps         install the Debian packages needed (root)"
	@echo "make check        every test: unit, 6.12 build, guests; one summary line"
	@echo "make demo         boot 3 guests and run a parallel program over dsm"
	@echo "make bench        boot 4 guests and measure dsm against TCP (the ratios)"
	@echo "make style        checkpatch --strict on the kernel and uapi sources"
	@echo "make C=1          build the module with sparse"
	@echo "make module-612   dsm.ko for Debian's 6.12 kernel (build/612/)"
	@echo "make module-debug dsm.ko for the debug kernel (build/debug/; builds it once)"
	@echo "make install      module, dsmctl, libdsm, headers, man pages"
	@echo "make packages     Debian packages (dsm-dkms, dsm-tools, libdsm0, libdsm-dev) in build/pkg, and lintian"
	@echo "variables: KVER=$(KVER) KDIR=$(KDIR)"

deps:
	@scripts/deps.sh

# ---- kernel module ----

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 $(if $(C),C=$(C)) modules

# $(call module-for,NAME,KDIR): dsm.ko for another kernel, in $(B)/NAME/
# (6.1's kbuild cannot put an external module's objects elsewhere).
define module-for
	@test -d "$(2)" || { echo "no kernel tree for $(1) at '$(2)'; run make deps"; exit 1; }
	rm -rf $(B)/$(1) && mkdir -p $(B)/$(1)
	cp -r Kbuild kernel uapi $(B)/$(1)/
	$(MAKE) -C $(2) M=$(CURDIR)/$(B)/$(1) W=1 modules
endef

module-612:
	$(call module-for,612,$(KDIR_612))

# The debug kernel is built (once, cached) by selftests/vm/debug-kernel.sh.
# Its dsm.ko comes with the canary module the debug lane is tested with.
module-debug:
	$(call module-for,debug,$(shell selftests/vm/debug-kernel.sh))
	rm -rf $(B)/canary && cp -r selftests/vm/canary $(B)/canary
	$(MAKE) -C $(shell selftests/vm/debug-kernel.sh) M=$(CURDIR)/$(B)/canary W=1 modules

sparse:
	$(MAKE) module C=2

# ---- userspace: libdsm ----

LIB_SRC := lib/dsm.c lib/sync.c lib/heap.c lib/threads.c
lib: $(B)/libdsm.a $(B)/libdsm.so.$(DSM_VERSION) $(B)/libdsm.pc

$(B)/lib/%.o: lib/%.c lib/libdsm.h uapi/linux/dsm.h
	@mkdir -p $(@D)
	$(UCC) -fPIC -fvisibility=hidden -pthread -c -o $@ $<

$(B)/libdsm.a: $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
	$(AR) rcs $@ $^

$(B)/libdsm.so.$(DSM_VERSION): $(LIB_SRC:lib/%.c=$(B)/lib/%.o) lib/libdsm.map
	$(CC) -shared $(LDFLAGS) -Wl,-soname,libdsm.so.$(LIB_SOVERSION) \
		-Wl,--version-script=lib/libdsm.map -pthread -o $@ $(filter %.o,$^)
	ln -sf libdsm.so.$(DSM_VERSION) $(B)/libdsm.so.$(LIB_SOVERSION)
	ln -sf libdsm.so.$(LIB_SOVERSION) $(B)/libdsm.so

$(B)/libdsm.pc: lib/libdsm.pc.in Kbuild
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(DSM_VERSION)|' $< > $@

# ---- userspace: dsmctl ----

CTL_SRC := tools/dsmctl/dsmctl.c tools/dsmctl/nl.c tools/dsmctl/json.c \
	   tools/dsmctl/parse.c tools/dsmctl/hot.c tools/dsmctl/image.c \
	   tools/dsmctl/save.c
CTL_HDR := $(wildcard tools/dsmctl/*.h) uapi/linux/dsm.h
tools: $(B)/dsmctl $(B)/dsmrun

# dsmrun: hosts programs started on another node (static, for the guests).
$(B)/dsmrun: tools/dsmrun/dsmrun.c $(B)/libdsm.a lib/libdsm.h
	@mkdir -p $(@D)
	$(UCC) $(CTL_LDFLAGS) $(LDFLAGS) -pthread -Ilib -o $@ $< $(B)/libdsm.a

# The demo's parallel program (static, for the guests).
$(B)/selftests/dsm_sor: tools/sor/dsm_sor.c tools/node_stat.h $(B)/libdsm.a lib/libdsm.h
	@mkdir -p $(@D)
	$(UCC) -static -pthread -Ilib -o $@ $< $(B)/libdsm.a -lm

# The benchmark (make bench), static, for the guests.
$(B)/selftests/dsm_bench: tools/bench/dsm_bench.c tools/node_stat.h kernel/coherence/homes.c kernel/coherence/homes.h $(B)/libdsm.a lib/libdsm.h
	@mkdir -p $(@D)
	$(UCC) -static -Ilib -include selftests/unit/kernel_types.h -o $@ $< kernel/coherence/homes.c $(B)/libdsm.a

# Static, so it runs in the guests' busybox initramfs as it is.
$(B)/dsmctl: $(CTL_SRC) $(CTL_HDR)
	@mkdir -p $(@D)
	$(UCC) $(NL_CFLAGS) $(CTL_LDFLAGS) $(LDFLAGS) -o $@ $(CTL_SRC) $(NL_LIBS)

# ---- tests ----

$(KSFT)/kselftest_harness.h:
	@test -f $(KSRC_TAR) || { echo "$(KSRC_TAR) missing; run make deps"; exit 1; }
	@mkdir -p $(KSFT)
	tar -xJf $(KSRC_TAR) -C $(KSFT) --strip-components=4 \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h

GUEST_TESTS := dsm_dev_test dsm_netlink_test dsm_rogue_test dsm_seal_test dsm_fuzz dsm_fill dsm_barrier dsm_coherence dsm_threads dsm_sor dsm_bench \
	dsm_rst
UNIT_TESTS := parse_test json_test hot_test image_test coherence_sim epoch_sim homes_test libdsm_test
# the 6.1 harness is not -Wextra clean
TEST_CC = $(UCC) -Wno-sign-compare -Wno-unused-parameter -Wno-missing-prototypes -I$(KSFT) -Itools/dsmctl $(NL_CFLAGS) -static

selftests: $(GUEST_TESTS:%=$(B)/selftests/%) $(UNIT_TESTS:%=$(B)/unit/%)

$(B)/selftests/dsm_dev_test: selftests/dsm_dev_test.c $(KSFT)/kselftest_harness.h $(B)/libdsm.a lib/libdsm.h
	@mkdir -p $(@D)
	$(TEST_CC) -o $@ $< $(B)/libdsm.a

$(B)/selftests/dsm_fill: selftests/dsm_fill.c $(B)/libdsm.a lib/libdsm.h
	@mkdir -p $(@D)
	$(UCC) -static -o $@ $< $(B)/libdsm.a

$(B)/selftests/dsm_threads: selftests/dsm_threads.c $(B)/libdsm.a lib/libdsm.h
	@mkdir -p $(@D)
	$(UCC) -static -pthread -Ilib -o $@ $< $(B)/libdsm.a

$(B)/selftests/dsm_coherence: selftests/dsm_coherence.c kernel/coherence/homes.c kernel/coherence/homes.h $(B)/libdsm.a lib/libdsm.h
	@mkdir -p $(@D)
	$(UCC) -static -pthread -include selftests/unit/kernel_types.h -o $@ $< kernel/coherence/homes.c $(B)/libdsm.a

$(B)/selftests/dsm_barrier: selftests/dsm_barrier.c
	@mkdir -p $(@D)
	$(UCC) -static -o $@ $<

# Aborts a port's TCP connections as `ss -K` does (the linkreset phase).
$(B)/selftests/dsm_rst: selftests/dsm_rst.c
	@mkdir -p $(@D)
	$(UCC) -static -o $@ $<

$(B)/selftests/dsm_rogue_test: selftests/dsm_rogue_test.c selftests/rogue.h tools/dsmctl/nl.c kernel/net/wire.h kernel/coherence/homes.c kernel/coherence/homes.h $(KSFT)/kselftest_harness.h $(CTL_HDR)
	@mkdir -p $(@D)
	$(TEST_CC) -include selftests/unit/kernel_types.h -o $@ $< tools/dsmctl/nl.c kernel/coherence/homes.c $(NL_LIBS)

# A keyed client sealing its own messages (cluster_test.sh, keyed phase).
$(B)/selftests/dsm_seal_test: selftests/dsm_seal_test.c selftests/rogue.h tools/dsmctl/nl.c kernel/net/wire.h $(KSFT)/kselftest_harness.h $(CTL_HDR)
	@mkdir -p $(@D)
	$(TEST_CC) -o $@ $< tools/dsmctl/nl.c $(NL_LIBS)

# A rogue member sending random messages (run_cluster.sh).
$(B)/selftests/dsm_fuzz: selftests/dsm_fuzz.c selftests/rogue.h tools/dsmctl/nl.c kernel/net/wire.h $(CTL_HDR)
	@mkdir -p $(@D)
	$(TEST_CC) -o $@ $< tools/dsmctl/nl.c $(NL_LIBS)

$(B)/selftests/dsm_netlink_test: selftests/dsm_netlink_test.c tools/dsmctl/nl.c $(KSFT)/kselftest_harness.h $(CTL_HDR)
	@mkdir -p $(@D)
	$(TEST_CC) -o $@ $< tools/dsmctl/nl.c $(NL_LIBS)

$(B)/unit/parse_test: selftests/unit/parse_test.c tools/dsmctl/parse.c $(KSFT)/kselftest_harness.h $(CTL_HDR)
	@mkdir -p $(@D)
	$(TEST_CC) -o $@ $< tools/dsmctl/parse.c

$(B)/unit/hot_test: selftests/unit/hot_test.c tools/dsmctl/hot.c $(KSFT)/kselftest_harness.h $(CTL_HDR)
	@mkdir -p $(@D)
	$(TEST_CC) -o $@ $< tools/dsmctl/hot.c

$(B)/unit/image_test: selftests/unit/image_test.c tools/dsmctl/image.c $(KSFT)/kselftest_harness.h $(CTL_HDR)
	@mkdir -p $(@D)
	$(TEST_CC) -o $@ $< tools/dsmctl/image.c

$(B)/unit/json_test: selftests/unit/json_test.c tools/dsmctl/json.c $(KSFT)/kselftest_harness.h $(CTL_HDR)
	@mkdir -p $(@D)
	$(TEST_CC) -o $@ $< tools/dsmctl/json.c

# The coherence state machine, as plain C, under a randomised simulation.
$(B)/unit/coherence_sim: selftests/unit/coherence_sim.c kernel/coherence/protocol.c kernel/coherence/protocol.h selftests/unit/kernel_types.h
	@mkdir -p $(@D)
	$(UCC) -include selftests/unit/kernel_types.h -o $@ $< kernel/coherence/protocol.c

# The member list's log, as plain C, under a randomised simulation.
$(B)/unit/epoch_sim: selftests/unit/epoch_sim.c kernel/membership_log.c kernel/membership_log.h selftests/unit/kernel_types.h
	@mkdir -p $(@D)
	$(UCC) -include selftests/unit/kernel_types.h -o $@ $< kernel/membership_log.c

$(B)/unit/libdsm_test: selftests/unit/libdsm_test.c $(B)/libdsm.a lib/libdsm.h $(KSFT)/kselftest_harness.h
	@mkdir -p $(@D)
	$(TEST_CC) -pthread -o $@ $< $(B)/libdsm.a

$(B)/unit/homes_test: selftests/unit/homes_test.c kernel/coherence/homes.c kernel/coherence/homes.h selftests/unit/kernel_types.h $(KSFT)/kselftest_harness.h
	@mkdir -p $(@D)
	$(TEST_CC) -include selftests/unit/kernel_types.h -o $@ $< kernel/coherence/homes.c

check: deps
	@$(MAKE) --no-print-directory all module-612 module-debug
	@selftests/check.sh

demo: deps
	@$(MAKE) --no-print-directory all
	selftests/vm/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	selftests/vm/bench.sh

# ---- static checks ----

CHECKPATCH := $(B)/checkpatch/scripts/checkpatch.pl
$(CHECKPATCH):
	@mkdir -p $(B)/checkpatch
	tar -xJf $(KSRC_TAR) -C $(B)/checkpatch --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch

# kernel/trace.h is laid out like include/trace/events/*.h, whose TRACE_EVENT
# macro style --strict flags; it gets the default checks only.
style: $(CHECKPATCH)
	$(CHECKPATCH) --strict --no-tree --terse --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,UAPI_DEFINITION \
		-f $(filter-out kernel/trace.h,$(wildcard kernel/*.[ch] kernel/*/*.[ch])) \
		uapi/linux/dsm.h
	$(CHECKPATCH) --no-tree --terse --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f kernel/trace.h

# ---- install ----

install: all install-user
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install

# Everything but the module (the packages' userspace; dsm-dkms builds the module).
install-user: lib tools
	install -D -m 0755 $(B)/dsmctl $(DESTDIR)$(PREFIX)/sbin/dsmctl
	install -D -m 0755 $(B)/dsmrun $(DESTDIR)$(PREFIX)/bin/dsmrun
	install -D -m 0644 Documentation/dsmrun.1 $(DESTDIR)$(PREFIX)/share/man/man1/dsmrun.1
	install -D -m 0644 $(B)/libdsm.a $(DESTDIR)$(LIBDIR)/libdsm.a
	install -D -m 0644 $(B)/libdsm.so.$(DSM_VERSION) $(DESTDIR)$(LIBDIR)/libdsm.so.$(DSM_VERSION)
	ln -sf libdsm.so.$(DSM_VERSION) $(DESTDIR)$(LIBDIR)/libdsm.so.$(LIB_SOVERSION)
	ln -sf libdsm.so.$(LIB_SOVERSION) $(DESTDIR)$(LIBDIR)/libdsm.so
	install -D -m 0644 lib/libdsm.h $(DESTDIR)$(PREFIX)/include/libdsm.h
	install -D -m 0644 uapi/linux/dsm.h $(DESTDIR)$(PREFIX)/include/linux/dsm.h
	install -D -m 0644 $(B)/libdsm.pc $(DESTDIR)$(LIBDIR)/pkgconfig/libdsm.pc
	install -D -m 0644 Documentation/dsmctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/dsmctl.8
	install -D -m 0644 tools/dsmctl/dsmctl.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/dsmctl
	install -d $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 0644 lib/man/*.3 $(DESTDIR)$(PREFIX)/share/man/man3/
	install -D -m 0644 Documentation/udev/60-dsm.rules $(DESTDIR)/etc/udev/rules.d/60-dsm.rules

# Debian packages from the committed tree (git archive), built in
# $(B)/pkg: dsm-dkms (the module's source; DKMS builds it for every
# installed kernel), dsm-tools, libdsm0, libdsm-dev; then lintian.
packages:
	rm -rf $(B)/pkg && mkdir -p $(B)/pkg
	git archive --prefix=dsm-$(DSM_VERSION)/ HEAD | tar -x -C $(B)/pkg
	cd $(B)/pkg/dsm-$(DSM_VERSION) && dpkg-buildpackage -b -us -uc
	lintian --fail-on error --no-tag-display-limit $(B)/pkg/*.changes

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(B)
