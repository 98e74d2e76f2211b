# jobkit: plain GNU make.  `make`, `make check`, `make demo`, `make bench`.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
SYSTEMDUSERDIR ?= $(PREFIX)/lib/systemd/user
DESTDIR ?=

CC ?= cc
B ?= build
VERSION := 0.1.0
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wno-unused-parameter
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ilibcommon \
	-DJOBKIT_VERSION='"$(VERSION)"'
PKG = $(shell pkg-config --cflags --libs $(1) 2>/dev/null)

# What each tool links with: only what it needs.  sqlite, jansson and
# libyaml (job files of other systems) are linked statically: a tool run
# once per job spends a fifth of its life in the dynamic loader otherwise
# (2.8 ms -> 2.2 ms per job-submit).  Not libcrypto: its CPU probe, run
# before main, cost each job-submit 30 us (cpuid traps in a virtual
# machine), so the store hashes with sha256.c.
STORE_LIBS = -Wl,-Bstatic -ljansson -lyaml -lsqlite3 -Wl,-Bdynamic \
	-lz -lpthread -ldl
LIBS_job-submit = $(STORE_LIBS)
LIBS_job-describe = $(STORE_LIBS)
LIBS_run-query = $(STORE_LIBS)
LIBS_exec-run = $(STORE_LIBS)
LIBS_task-keepalive = $(STORE_LIBS)
# Transfers and archives: libcurl, libarchive and libcrypto (digests of
# downloads), linked dynamically (they pull in TLS, compressors and
# resolvers of their own).
FETCH_LIBS = -lcurl -larchive -lcrypto
LIBS_artifact-fetch = $(STORE_LIBS) $(FETCH_LIBS)

TOOLS = job-submit job-describe run-query exec-run task-keepalive \
	artifact-fetch
LIB_SRCS = $(wildcard libcommon/*.c)
LIB_OBJS = $(LIB_SRCS:libcommon/%.c=$(B)/lib/%.o)
UNIT_SRCS = $(wildcard tests/unit/*.c)
UNITS = $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
# Programs the shell tests run as jobs (a memory hog, many threads).
HELPER_SRCS = $(wildcard tests/helpers/*.c)
HELPERS = $(HELPER_SRCS:tests/helpers/%.c=$(B)/tests/%)
# Libraries the shell tests preload into a tool (a disk whose syncs hang).
PRELOAD_SRCS = $(wildcard tests/preload/*.c)
PRELOADS = $(PRELOAD_SRCS:tests/preload/%.c=$(B)/tests/%.so)
# Instruments of make bench that reach into the store (bench/claim-once).
BENCH_SRCS = $(wildcard bench/*.c)
BENCHES = $(BENCH_SRCS:bench/%.c=$(B)/bench/%)
MANS = $(wildcard man/*.[157])

.PHONY: all deps check check-plain check-asan demo bench install uninstall \
	clean lint format

all: deps-build $(TOOLS:%=$(B)/bin/%) $(UNITS) $(HELPERS) $(PRELOADS) \
	$(BENCHES)

deps-build:
	@scripts/deps.sh build
.PHONY: deps-build

$(B)/lib/%.o: libcommon/%.c libcommon/*.h | $(B)/lib
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags jansson sqlite3) -c $< -o $@

$(B)/libcommon.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/bin/%: cmd/%.c $(B)/libcommon.a libcommon/*.h | $(B)/bin
	$(CC) $(ALL_CFLAGS) $< -o $@ $(B)/libcommon.a $(LIBS_$*) -lm

$(B)/tests/%: tests/unit/%.c tests/unit/tap.h $(B)/libcommon.a | $(B)/tests
	$(CC) $(ALL_CFLAGS) -Itests/unit $< -o $@ $(B)/libcommon.a \
		$(STORE_LIBS) $(FETCH_LIBS) -lm

$(B)/tests/%: tests/helpers/%.c | $(B)/tests
	$(CC) -O2 -g -Wall -Wextra -pthread $< -o $@

$(B)/tests/%.so: tests/preload/%.c | $(B)/tests
	$(CC) -O2 -g -Wall -Wextra -shared -fPIC $< -o $@

$(B)/bench/%: bench/%.c $(B)/libcommon.a libcommon/*.h | $(B)/bench
	$(CC) $(ALL_CFLAGS) $< -o $@ $(B)/libcommon.a $(STORE_LIBS) -lm

# Every compile waits for the build packages, also under make -j.
$(B)/lib $(B)/bin $(B)/tests $(B)/bench: | deps-build
	mkdir -p $@

# The suite runs twice: as built, and built with AddressSanitizer and
# UBSan (in build/asan), so `make check` proves both.
check: all
	@scripts/deps.sh test
	$(MAKE) --no-print-directory check-asan-build
	@echo "== tests (plain build)"
	JOBKIT_BIN=$(CURDIR)/$(B)/bin JOBKIT_UNITS=$(CURDIR)/$(B)/tests \
		JOBKIT_HELPERS=$(CURDIR)/$(B)/tests prove -j2 tests/*.t
	@echo "== tests (ASan + UBSan build)"
	JOBKIT_BIN=$(CURDIR)/$(B)/asan/bin \
		JOBKIT_UNITS=$(CURDIR)/$(B)/asan/tests JOBKIT_ASAN=1 \
		JOBKIT_HELPERS=$(CURDIR)/$(B)/tests \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99 \
		prove -j2 tests/*.t

check-asan-build:
	$(MAKE) --no-print-directory B=$(B)/asan \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		$(TOOLS:%=$(B)/asan/bin/%) $(UNIT_SRCS:tests/unit/%.c=$(B)/asan/tests/%)
.PHONY: check-asan-build

demo: all
	@scripts/demo.sh $(CURDIR)/$(B)/bin

bench: all
	@scripts/deps.sh bench
	@bench/run.sh $(CURDIR)/$(B)/bin

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(FISHCOMPDIR)
	install -m 755 $(TOOLS:%=$(B)/bin/%) $(DESTDIR)$(BINDIR)
	for m in $(MANS); do \
		s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; done
	for t in $(TOOLS); do \
		install -m 644 completions/jobkit.bash $(DESTDIR)$(BASHCOMPDIR)/$$t; \
		install -m 644 completions/$$t.fish $(DESTDIR)$(FISHCOMPDIR)/$$t.fish; \
	done
	install -m 644 completions/jobkit-common.fish $(DESTDIR)$(FISHCOMPDIR)
	install -m 644 completions/jobkit.zsh $(DESTDIR)$(ZSHCOMPDIR)/_jobkit
	$(MAKE) --no-print-directory install-units

# The systemd user unit of a worker that is always there (jobkit(7)); no
# build needed, so that a test can install it alone.
install-units:
	install -d $(DESTDIR)$(SYSTEMDUSERDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/jobkit-worker@.service.in \
		>$(DESTDIR)$(SYSTEMDUSERDIR)/jobkit-worker@.service
	chmod 644 $(DESTDIR)$(SYSTEMDUSERDIR)/jobkit-worker@.service
.PHONY: install-units

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t \
		$(DESTDIR)$(BASHCOMPDIR)/$$t $(DESTDIR)$(FISHCOMPDIR)/$$t.fish; done
	for m in $(MANS); do s=$${m##*.}; \
		rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m#man/}; done
	rm -f $(DESTDIR)$(ZSHCOMPDIR)/_jobkit \
		$(DESTDIR)$(FISHCOMPDIR)/jobkit-common.fish \
		$(DESTDIR)$(SYSTEMDUSERDIR)/jobkit-worker@.service

lint:
	mandoc -Tlint -Wwarning $(MANS)
	clang-format --dry-run --Werror cmd/*.c libcommon/*.c libcommon/*.h \
		tests/unit/*.c tests/unit/*.h tests/preload/*.c

format:
	clang-format -i cmd/*.c libcommon/*.c libcommon/*.h tests/unit/*.c \
		tests/unit/*.h tests/preload/*.c

clean:
	rm -rf $(B)
