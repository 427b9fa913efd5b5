# nfq-helper: plain GNU make. `make`, `make check`, `make test`, `make demo`.
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/nfq-helper
SYSCONFDIR ?= /etc
DESTDIR ?=
BUILD ?= build

DEPS := libmnl libnftnl libnetfilter_queue
# from git in a clone; from debian/changelog in a release tarball (no .git)
GIT_VERSION = $(if $(wildcard .git),$(shell git describe --tags --always --dirty 2>/dev/null))
DEB_CHANGELOG_VERSION = $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' packaging/debian/changelog)
VERSION ?= $(or $(GIT_VERSION),$(DEB_CHANGELOG_VERSION),0.1.0)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	  -Wmissing-prototypes -Wno-unused-parameter -MMD -MP
CFLAGS += $(shell $(PKG_CONFIG) --cflags $(DEPS))
CPPFLAGS += -DNFQH_VERSION='"$(VERSION)"' -Infq-helper
LDLIBS += $(shell $(PKG_CONFIG) --libs $(DEPS))

HARDEN ?= 1
ifeq ($(HARDEN),1)
CFLAGS += -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-strong \
	  -fstack-clash-protection -fPIE -Werror=format-security
LDFLAGS += -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -Wl,--as-needed
endif
ifeq ($(WERROR),1)
CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

ifneq ($(V),1)
Q = @
q = @printf '  %-7s %s\n' $(1) $(2);
endif

SRCS := $(wildcard nfq-helper/*.c)
OBJS := $(SRCS:%.c=$(BUILD)/obj/%.o)
LIB_OBJS := $(filter-out $(BUILD)/obj/nfq-helper/main.o,$(OBJS))
TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test-*.c))
TOOLS := $(addprefix $(BUILD)/tools/,ikepeer fieldpeer ctget pinwrite sdlisten craftpeer softwire)

all: $(BUILD)/nfq-helper $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call q,CC,$@)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# config.o carries the version: rebuilt when `git describe` changes
$(BUILD)/version: FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
$(BUILD)/obj/nfq-helper/config.o: $(BUILD)/version

$(BUILD)/nfq-helper: $(OBJS)
	$(call q,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB_OBJS)
	@mkdir -p $(@D)
	$(call q,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(BUILD)/obj/tests/tools/peer.o $(LIB_OBJS)
	@mkdir -p $(@D)
	$(call q,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit-tests: $(TESTS)

BENCH_TOOLS := $(BUILD)/tools/ikeload $(BUILD)/tools/mapfill $(BUILD)/tools/ctfill
$(BENCH_TOOLS): $(BUILD)/tools/%: $(BUILD)/obj/tests/bench/%.o $(LIB_OBJS)
	@mkdir -p $(@D)
	$(call q,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the benchmarks (root): the steady-state and distinct-pair tables, CSV and a
# plot in $(BUILD)/bench; QUICK=1 checks the machinery in about a minute
bench: all $(BENCH_TOOLS)
	$(Q)tests/bench/run

# libFuzzer targets (clang): the parsers, FUZZ_SECONDS each
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz-*.c))
$(BUILD)/fuzz/fuzz-ike: nfq-helper/ike.c
$(BUILD)/fuzz/fuzz-packet: nfq-helper/packet.c
$(BUILD)/fuzz/fuzz-ct: nfq-helper/ct.c nfq-helper/netlink.c
$(BUILD)/fuzz/%: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(call q,FUZZ,$@)$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -Infq-helper \
		$(shell $(PKG_CONFIG) --cflags libmnl) -o $@ $^ $(shell $(PKG_CONFIG) --libs libmnl)

fuzz: $(FUZZ_TARGETS)
	$(Q)tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# the inputs that once crashed a target (tests/fuzz/corpus/<target>/), once
fuzz-replay: $(FUZZ_TARGETS)
	$(Q)tests/fuzz/run replay $(FUZZ_TARGETS)

# the shell scripts against shellcheck at warning level
lint:
	$(Q)tests/lint

# unit tests, and the man pages against --help: no root, no network
check: $(TESTS) $(BUILD)/nfq-helper
	$(Q)NFQ_HELPER=$(BUILD)/nfq-helper tests/unit/run $(TESTS) tests/unit/man-options

# the whole suite: unit tests and the network-namespace tests (root)
# what make test runs, built (test-kernels builds it before the VM boots)
test-build: all $(TESTS) $(BENCH_TOOLS)

test: test-build
	$(Q)NFQ_HELPER=$(BUILD)/nfq-helper tests/run-all $(TESTS)

# the README's two commands in a pristine Debian 12 root (root, network)
test-fresh:
	$(Q)BUILD=$(BUILD) tests/fresh/run

# the suite (a part of it: docs/kernels.md) on Debian 12's and 13's own
# kernels, each in a VM of its release (root; Debian's mirror); one of them:
# make test-kernels KERNELS=debian12
KERNELS ?= debian12 debian13
test-kernels:
	$(Q)BUILD=$(BUILD) tests/kernels/run $(KERNELS)

check-netns: all
	$(Q)tests/netns/run

# the field report replayed, without and with the helper
demo: all
	$(Q)tests/testbed/run field-report

testbed: all
	$(Q)tests/testbed/run

install: $(BUILD)/nfq-helper
	install -D -m 0755 $(BUILD)/nfq-helper $(DESTDIR)$(SBINDIR)/nfq-helper
	install -D -m 0644 packaging/nfq-helper.8 $(DESTDIR)$(MANDIR)/man8/nfq-helper.8
	install -D -m 0644 packaging/natt-pin-load.8 $(DESTDIR)$(MANDIR)/man8/natt-pin-load.8
	install -D -m 0644 nft-rules/natt-pin.nft $(DESTDIR)$(DATADIR)/natt-pin.nft
	install -D -m 0755 nft-rules/natt-pin-load $(DESTDIR)$(DATADIR)/natt-pin-load
	install -D -m 0644 nft-rules/cgnat-example.nft $(DESTDIR)$(DATADIR)/cgnat-example.nft
	install -D -m 0644 nft-rules/nftables.conf.example $(DESTDIR)$(DATADIR)/nftables.conf.example
	install -D -m 0644 nft-rules/natt-pin.nft $(DESTDIR)$(SYSCONFDIR)/nfq-helper/natt-pin.nft
	install -D -m 0755 packaging/ha/nfq-helper-notify $(DESTDIR)$(DATADIR)/ha/nfq-helper-notify
	install -D -m 0644 packaging/ha/keepalived.conf $(DESTDIR)$(DATADIR)/ha/keepalived.conf
	install -D -m 0644 packaging/ha/conntrackd.conf $(DESTDIR)$(DATADIR)/ha/conntrackd.conf

# the Debian package, into $(BUILD)/deb: from the files git tracks in a
# clone, from every file but the build's in a release tarball (no .git)
DEB_SRC = $(BUILD)/deb/nfq-helper
DEB_FILES = $(if $(wildcard .git),git ls-files -z,\
	find . \( -path ./build -o -path './$(BUILD)' \) -prune -o -type f -print0)
deb:
	rm -rf $(BUILD)/deb
	mkdir -p $(DEB_SRC)
	$(DEB_FILES) | xargs -0 cp --parents -t $(DEB_SRC)
	cp -r packaging/debian $(DEB_SRC)/debian
	cp packaging/nfq-helper.service packaging/nfq-helper.default $(DEB_SRC)/debian/
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning --info $(BUILD)/deb/*.changes

# the package under a real systemd, in a container per release (root; Debian's
# mirror): SERVICE_RELEASES="debian12 debian13" (the default)
.PHONY: test-service
test-service:
	$(Q)tests/service/run

clean:
	rm -rf $(BUILD)

.PHONY: FORCE all unit-tests check lint test test-build test-fresh test-kernels check-netns demo testbed bench \
	fuzz fuzz-replay install deb clean
.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
