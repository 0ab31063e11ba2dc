# vmdeck build.  `make` builds bin/vmdeck, `make check` runs every test tier
# this machine can run, `make bench` the benchmarks, `make run` opens the TUI.
#
# Every target that compiles or runs something depends on `deps`, which
# installs the Debian packages that are missing (see DEBS below), so the two
# commands in the README work on a fresh Debian 12 machine.

VERSION := 0.1.0

# Debian packages the build, the tests and `make run` need.
DEBS := build-essential pkg-config clang libclang-rt-14-dev \
	libpng-dev tigervnc-viewer x11-apps \
	libncurses-dev libvirt-dev libvncserver-dev libslirp-dev libglib2.0-dev \
	libcmocka-dev libjson-c-dev zlib1g-dev \
	qemu-utils qemu-system-x86 acpica-tools busybox-static cpio xz-utils \
	tshark tmux xvfb
# Libraries found with pkg-config.
PKGS := ncursesw libvirt libvncserver libvncclient slirp glib-2.0 json-c zlib libpng
TEST_PKGS := cmocka

SANITIZE ?=
ifeq ($(SANITIZE),1)
BUILD ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build/out
SANFLAGS :=
endif
BINDIR := $(if $(filter 1,$(SANITIZE)),$(BUILD)/bin,bin)
VMDECK := $(BINDIR)/vmdeck
DEPS_STAMP := build/.deps-ok

CC ?= cc
V ?=
Q := $(if $(V),,@)
OPT ?= -O2 -g
CFLAGS_BASE := -std=gnu11 $(OPT) -Wall -Wextra -Wno-unused-parameter -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
	-D_GNU_SOURCE -DVMDECK_VERSION='"$(VERSION)"' -I. -MMD -MP $(SANFLAGS)
LDFLAGS_BASE := $(SANFLAGS) -Wl,--as-needed -pthread

# pkg-config results are cached in a generated makefile so that a fresh
# machine installs the packages first and pkg-config runs once per build.
PKG_MK := build/pkg.mk
NODEPS_GOALS := clean distclean help
ifeq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
else
-include $(PKG_MK)
endif

PRODUCT_DIRS := src vmm net disk ui
PRODUCT_SRCS := $(sort $(foreach d,$(PRODUCT_DIRS),$(wildcard $(d)/*.c)))
MAIN_SRC := src/main.c
LIB_SRCS := $(filter-out $(MAIN_SRC),$(PRODUCT_SRCS))
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
MAIN_OBJ := $(BUILD)/obj/src/main.o
LIBVMDECK := $(BUILD)/libvmdeck.a

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
KVM_SRCS := $(sort $(wildcard tests/kvm/test_*.c))
KVM_BINS := $(patsubst tests/kvm/%.c,$(BUILD)/tests/kvm/%,$(KVM_SRCS))
SYS_SRCS := $(sort $(wildcard tests/system/test_*.c))
SYS_BINS := $(patsubst tests/system/%.c,$(BUILD)/tests/system/%,$(SYS_SRCS))
TESTLIB_SRCS := $(sort $(wildcard tests/lib/*.c))
TESTLIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(TESTLIB_SRCS))
BENCH_SRCS := $(sort $(wildcard tests/bench/bench_*.c))
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/tests/bench/%,$(BENCH_SRCS))

# Tiny freestanding guests for the host KVM tier (tests/guest/g_*.c, each
# linked with the kit's start.S and lib.c).
GUEST_SRCS := $(sort $(wildcard tests/guest/g_*.c))
GUEST_ELFS := $(patsubst tests/guest/%.c,build/guest/%.elf,$(GUEST_SRCS)) build/guest/g_hello.bz \
	build/guest/g_vga.bz
GUEST_KIT := tests/guest/start.S tests/guest/lib.c tests/guest/virtio.c
GUEST_CFLAGS := -m64 -O2 -ffreestanding -fno-pic -no-pie -nostdlib -static -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables -Wall -Wextra \
	-Wno-unused-parameter -Itests/guest -Wl,--build-id=none -Wl,-z,noexecstack \
	-Wl,-z,max-page-size=0x1000 -Wl,--no-warn-rwx-segments

.PHONY: guests all deps check unit-check bench run fuzz clean distclean help install-man
all: $(VMDECK)

help:
	@echo "make            build bin/vmdeck"
	@echo "make deps       install the missing Debian packages"
	@echo "make check      run every test tier this machine can run (SANITIZE=1 for ASan+UBSan)"
	@echo "make bench      run the benchmarks"
	@echo "make run        create the demo VM the first time and open the TUI"
	@echo "make fuzz       build the libFuzzer targets"

# ---- dependencies -----------------------------------------------------------
deps: $(DEPS_STAMP)
$(DEPS_STAMP): Makefile
	@mkdir -p build
	@missing=$$(for p in $(DEBS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing missing Debian packages:" $$missing; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing || \
		{ $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; } || \
		{ echo "make deps: could not install:" $$missing >&2; exit 1; }; \
	fi
	@touch $@

$(PKG_MK): $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@{ echo "PKG_CFLAGS := $$(pkg-config --cflags $(PKGS))"; \
	   echo "PKG_LIBS := $$(pkg-config --libs $(PKGS))"; \
	   echo "TEST_CFLAGS := $$(pkg-config --cflags $(TEST_PKGS))"; \
	   echo "TEST_LIBS := $$(pkg-config --libs $(TEST_PKGS))"; } > $@.tmp && mv $@.tmp $@

# ---- product ----------------------------------------------------------------
CFLAGS_ALL = $(CFLAGS_BASE) $(PKG_CFLAGS) $(CFLAGS)

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(LIBVMDECK): $(LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(VMDECK): $(MAIN_OBJ) $(LIBVMDECK)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $(MAIN_OBJ) $(LIBVMDECK) $(PKG_LIBS) -lm

# ---- tests ------------------------------------------------------------------
TEST_LINK = $(Q)$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $< $(TESTLIB_OBJS) $(LIBVMDECK) $(TEST_LIBS) $(PKG_LIBS) -lm

$(BUILD)/obj/tests/%.o: tests/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TESTLIB_OBJS) $(LIBVMDECK)
	@mkdir -p $(dir $@)
	$(TEST_LINK)

build/guest/%.elf: tests/guest/%.c $(GUEST_KIT) tests/guest/guest.ld $(wildcard tests/guest/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GUEST   $@")
	$(Q)$(CC) $(GUEST_CFLAGS) -Wl,-T,tests/guest/guest.ld -o $@ $(GUEST_KIT) $<

build/guest/%.bz: tests/guest/%.c $(GUEST_KIT) tests/guest/bzheader.S tests/guest/guest_bz.ld $(wildcard tests/guest/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GUEST   $@")
	$(Q)$(CC) $(GUEST_CFLAGS) -Wl,-T,tests/guest/guest_bz.ld -o $@.elf tests/guest/bzheader.S $(GUEST_KIT) $<
	$(Q)objcopy -O binary $@.elf $@

guests: $(GUEST_ELFS)

TEST_BINS := $(UNIT_BINS) $(KVM_BINS) $(SYS_BINS)
# Keep test objects between runs (they are intermediates of pattern rules).
.SECONDARY:

check: $(VMDECK) $(TEST_BINS) $(GUEST_ELFS)
	@VMDECK_BIN=$(abspath $(VMDECK)) VMDECK_GUESTS=$(abspath build/guest) \
		VMDECK_SANITIZE=$(SANITIZE) \
		tests/run-tests.sh $(UNIT_BINS) $(KVM_BINS) $(SYS_BINS)

unit-check: $(UNIT_BINS)
	@tests/run-tests.sh $(UNIT_BINS)

bench: $(VMDECK) $(BENCH_BINS) $(GUEST_ELFS)
	@VMDECK_BIN=$(abspath $(VMDECK)) VMDECK_GUESTS=$(abspath build/guest) \
		tests/bench/run-bench.sh $(BENCH_BINS)

run: $(VMDECK)
	@share/demo-vm.sh $(abspath $(VMDECK))

# ---- fuzzing (clang libFuzzer) ---------------------------------------------
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -g -O1
fuzz: $(FUZZ_BINS)
build/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	clang $(filter-out -MMD -MP $(SANFLAGS),$(CFLAGS_BASE)) $(FUZZ_FLAGS) $(PKG_CFLAGS) \
		-o $@ $< $(LIB_SRCS) $(PKG_LIBS) -lm

clean:
	rm -rf build/out build/san build/guest build/fuzz build/pkg.mk bin
distclean: clean
	rm -rf build .cache

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
