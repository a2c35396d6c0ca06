# sudobox: `make demo` and `make test` do all set-up on a fresh Debian 12
# machine (as root).  meson + ninja do the building.

BUILD ?= build
ASAN_BUILD ?= build-asan
PREFIX ?= /usr/local
DESTDIR ?=

# Debian packages: building, testing, benchmarking.
BUILD_DEPS = meson ninja-build pkg-config gcc libjson-c-dev libseccomp-dev libcap-dev \
             libsqlite3-dev libfuse3-dev libmnl-dev libarchive-dev libglib2.0-dev dpkg-dev musl-tools
RUN_DEPS = mmdebstrap passt uidmap fuse3 qemu-system-x86 qemu-utils linux-image-amd64 e2fsprogs cpio
TEST_DEPS = bats procps util-linux python3 python3-yaml runc crun bubblewrap clang libclang-rt-14-dev binutils tmux \
            podman buildah containerd docker.io lxcfs busybox-static slirp4netns
STAMP = .cache/deps-installed
SLIRP_SRC = subprojects/libslirp

.PHONY: all deps build build-asan test unit integration demo demo-runc bench fuzz install uninstall clean format

all: build

$(STAMP):
	./tools/install-deps.sh $(BUILD_DEPS) $(RUN_DEPS) $(TEST_DEPS)
	mkdir -p .cache && touch $@

deps: $(STAMP) $(SLIRP_SRC)

# libslirp's Debian source (Debian ships only the shared library), built
# static into sudobox-net by meson as a subproject.
$(SLIRP_SRC): | $(STAMP)
	./tools/fetch-source.sh libslirp $@

$(BUILD)/build.ninja: | $(STAMP) $(SLIRP_SRC)
	meson setup $(BUILD) --prefix=$(PREFIX)

$(ASAN_BUILD)/build.ninja: | $(STAMP) $(SLIRP_SRC)
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

build-asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

# Every test, one TAP stream, one prove summary at the end.
test: build build-asan
	BUILD=$(BUILD) ASAN_BUILD=$(ASAN_BUILD) ./tests/run.sh

unit: build build-asan
	BUILD=$(BUILD) ASAN_BUILD=$(ASAN_BUILD) ./tests/run.sh unit

integration: build
	BUILD=$(BUILD) ./tests/run.sh integration

demo: build
	./tools/demo.sh $(BUILD)/src/sudobox/sudobox

demo-runc: build
	./tools/demo-runc.sh $(BUILD)/src/runc/sudobox-runc

bench: build
	BUILD=$(BUILD) ./bench/run.sh

fuzz: | $(STAMP)
	./tests/fuzz/run.sh $(or $(FUZZ_SECONDS),60)

install: build
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild

uninstall:
	ninja -C $(BUILD) uninstall

format:
	clang-format -i src/*/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c tests/security/*.[ch]

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
