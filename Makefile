# klaxon — see README.md. `make` builds build/klaxon, `make test` runs every test (plain, then
# under AddressSanitizer + UBSan), `make bench` the benchmarks, `make demo` the demonstration.
# Each target first makes sure the Debian packages it needs are installed (tests/deps.sh).

CC ?= cc
PYTHON ?= /usr/bin/python3
PKGS := libuv libwebsockets libcurl sqlite3 libpq libcjson yaml-0.1 openssl libical
SYSTEMD := $(shell pkg-config --exists libsystemd 2>/dev/null && echo 1)
ifeq ($(SYSTEMD),1)
PKGS += libsystemd
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -I. $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP \
  -DKLAXON_VERSION='"$(VERSION)"' -DKLAXON_SRCDIR='"$(CURDIR)"' $(if $(SYSTEMD),-DHAVE_SYSTEMD=1)
LDLIBS_ALL = $(PKG_LIBS) -lm

# The test targets build on every core unless make itself was given -j (`.ci/run` is a plain
# `make test`, which built one file at a time).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PAR = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(JOBS))
# End-to-end tests run E2E_JOBS at a time (tests/e2e/run.py -j; those that bound real time from
# above run alone). E2E_JOBS=1: one at a time.
E2E_JOBS ?= 2

# The sanitizer build lives in its own tree, so both can exist side by side.
B ?= build
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# Sources are found recursively: a new room (bot/twilio/, commands/status/) needs no Makefile edit.
LIB_SRC := $(sort $(shell find lib storage commands bot -name '*.c'))
LIB_SRC := $(filter-out bot/main.c,$(LIB_SRC))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o)
# Unit tests mirror the source tree (tests/unit/commands/oncall/test_rota.c); binaries are flat.
UNIT_SRC := $(sort $(shell find tests/unit -name 'test_*.c'))
UNIT_BIN := $(addprefix $(B)/tests/,$(notdir $(UNIT_SRC:.c=)))
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)

.PHONY: all deps deps-test test unit e2e test-plain test-asan test-fuzz bench demo fuzz clean format lint layout tidy

# The packages go in before anything is compiled or pkg-config is asked (under make -j a
# prerequisite list runs side by side), so each target installs first and then builds in a
# sub-make that reads the flags of what is now installed.
all: deps
	@$(MAKE) --no-print-directory $(B)/klaxon

deps:
	@tests/deps.sh build

deps-test:
	@tests/deps.sh test
	@tests/node.sh

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libklaxon.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/klaxon: $(B)/obj/bot/main.o $(B)/libklaxon.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_ALL)

vpath test_%.c $(sort $(dir $(UNIT_SRC)))
$(B)/tests/%: %.c $(B)/libklaxon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libklaxon.a $(LDLIBS_ALL) -lcmocka

$(B)/bench/%: tests/bench/%.c $(B)/libklaxon.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libklaxon.a $(LDLIBS_ALL)

# test: the whole suite, plain and then under ASan+UBSan (clang), then the unit suites on
# PostgreSQL, then every fuzz target once over its seed corpus under ASan+UBSan (regressions).
# The engines: the plain pass runs on SQLite; the sanitizer pass's end-to-end tests run every bot
# on PostgreSQL (a throwaway cluster, tests/e2e/pg.py; the tests of the SQLite file itself on
# SQLite), so each test runs on both builds and the bots on both engines. The runner prints a
# summary.
test: deps-test
	@tests/layout.sh
	@st=0; $(MAKE) --no-print-directory test-plain || st=1; \
	  $(MAKE) --no-print-directory test-asan || st=1; \
	  $(MAKE) --no-print-directory test-pg || st=1; \
	  $(MAKE) --no-print-directory test-fuzz || st=1; \
	  if [ $$st -eq 0 ]; then echo "make test: all passed (plain on SQLite, ASan+UBSan on PostgreSQL, unit on both, fuzz corpora)"; \
	  else echo "make test: FAILED (see the summaries above)"; fi; exit $$st

test-plain:
	@$(MAKE) --no-print-directory $(PAR) B=build build/klaxon $(patsubst $(B)/%,build/%,$(UNIT_BIN))
	@KLAXON_E2E_JOBS=$(E2E_JOBS) tests/run.sh build plain

test-asan:
	@$(MAKE) --no-print-directory $(PAR) B=build/asan CC=clang CFLAGS="-O1 -g $(SAN_FLAGS)" \
	  build/asan/klaxon $(patsubst $(B)/%,build/asan/%,$(UNIT_BIN))
	@KLAXON_E2E_ENGINE=postgres KLAXON_E2E_JOBS=$(E2E_JOBS) tests/run.sh build/asan asan

# test-pg: the unit suites with every ":memory:" database on PostgreSQL (KLAXON_TEST_DATABASE_URL),
# plain and (when test-asan built them) under ASan+UBSan. (The end-to-end suite runs on
# PostgreSQL in test-asan; KLAXON_E2E_ENGINE=postgres make e2e runs it plain.)
test-pg:
	@$(MAKE) --no-print-directory $(PAR) B=build build/klaxon $(patsubst $(B)/%,build/%,$(UNIT_BIN))
	@st=0; $(PYTHON) tests/e2e/pg.py run tests/run.sh build pg unit || st=1; \
	  if [ -d build/asan/tests ]; then \
	    $(PYTHON) tests/e2e/pg.py run tests/run.sh build/asan pg-asan unit || st=1; fi; exit $$st

# ha: the chaos run of several instances on PostgreSQL (tests/e2e/test_ha.py test_ha_chaos) for
# HA_SECONDS (default 600; make test runs 25); HA_SEED picks the run. Prints the failover figures.
.PHONY: ha test-pg
ha: deps-test
	@$(MAKE) --no-print-directory $(B)/klaxon
	@HA_SECONDS=$${HA_SECONDS:-600} KLAXON_BIN=$(B)/klaxon $(PYTHON) tests/e2e/run.py -k test_ha.py::test_ha_chaos

# test-fuzz: each tests/fuzz/fuzz_*.c linked against the ASan+UBSan library and run once over
# tests/fuzz/seeds/<target>/ (seconds; `make fuzz` is the long, exploring run).
test-fuzz:
	@$(MAKE) --no-print-directory $(PAR) B=build/asan CC=clang CFLAGS="-O1 -g $(SAN_FLAGS)" \
	  build/asan/libklaxon.a
	@tests/fuzz/regress.sh build/asan

unit: deps-test
	@$(MAKE) --no-print-directory $(PAR) $(B)/klaxon $(UNIT_BIN)
	@tests/run.sh $(B) plain unit

e2e: deps-test
	@$(MAKE) --no-print-directory $(B)/klaxon
	@KLAXON_E2E_JOBS=$(E2E_JOBS) tests/run.sh $(B) plain e2e

bench: deps-test
	@$(MAKE) --no-print-directory $(PAR) $(B)/klaxon $(BENCH_BIN)
	@tests/bench/run.sh $(B)

demo: deps-test
	@$(MAKE) --no-print-directory $(B)/klaxon
	@$(B)/klaxon demo

fuzz: deps-test
	@tests/fuzz/run.sh

# soak: SOAK_WEEKS simulated weeks (default 4) in SOAK_SECONDS real seconds (default 600) of
# alerts, storms, pages, incidents, overrides, handoffs and restarts (tests/e2e/test_soak.py;
# `make e2e` runs a one-week, one-minute version). Prints RSS and database figures.
.PHONY: soak
soak: deps-test
	@$(MAKE) --no-print-directory $(B)/klaxon
	@SOAK_WEEKS=$${SOAK_WEEKS:-4} SOAK_SECONDS=$${SOAK_SECONDS:-600} KLAXON_BIN=$(B)/klaxon \
	  $${PYTHON:-/usr/bin/python3} tests/e2e/run.py -k test_soak.py::test_soak

format:
	clang-format -i $(shell find lib storage commands bot tests/unit tests/fuzz tests/bench -name '*.[ch]')

# lint: the layout's rules (the arrows between folders, *_internal.h kept in its room, the
# 800-line ceiling), then clang-tidy. tests/layout.sh prints each line that breaks a rule.
lint: layout
	clang-tidy $(LIB_SRC) bot/main.c -- -std=c11 -D_GNU_SOURCE -I. $(PKG_CFLAGS) -DKLAXON_VERSION='"$(VERSION)"' -DKLAXON_SRCDIR='"$(CURDIR)"'

layout:
	@tests/layout.sh

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(B)/obj/bot/main.d
