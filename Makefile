# One entry point for the project.  `make help` lists the targets.
#
# Each component lists its own sources and binaries in <dir>/module.mk, so that
# the components can grow without touching this file.  Everything built goes
# under build/.  `make V=1` shows full commands; changing CFLAGS, LDFLAGS or CC
# rebuilds everything (the flags are recorded in build/.flags).

CC      ?= gcc
PYTHON  := /usr/bin/python3
BUILD   := build
V       ?= 0

# Assertions stay on in every build: no -DNDEBUG anywhere.
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -fno-omit-frame-pointer -pthread -MMD -MP
LDFLAGS ?=
# GNU build ids (Debian's gcc adds them already; said here so that no toolchain drops
# them): a shard's summary names its binaries by them and stress merge refuses shards
# whose binaries differ.
BASE_LDFLAGS := -pthread -Wl,--build-id

ifeq ($(V),1)
Q :=
else
Q := @
endif

# The Debian packages the project needs: compiler, libraries, test tools.
# clang builds the instrumented test programs a second way (its __tsan_* calls
# differ from gcc's: tests/test_tsan.py); libatomic comes with gcc.
# tools/deps.sh installs them (as root) or prints the apt-get command.
# munge and the Slurm daemons are for the test that starts a private single-node
# Slurm (tests/slurm_cluster.py): it runs its own munged, slurmctld and slurmd on
# its own socket, ports and files, so it needs no system service and ignores one.
# Installing them starts nothing without systemd (invoke-rc.d finds no runlevel);
# under systemd munge.service starts, harmlessly, and slurmctld/slurmd stay down
# (their units need /etc/slurm/slurm.conf, which we never write).
# chromium is the real browser tests/test_report_html.py opens report.html in
# (headless; as root with --no-sandbox).
DEB_PACKAGES := gcc g++ clang binutils make pkg-config libc6-dev libunwind-dev libdw-dev libelf-dev \
                libjansson-dev libinih-dev python3 python3-pytest python3-matplotlib python3-yaml \
                xz-utils pigz coreutils procps \
                munge slurmctld slurmd slurm-client chromium

BINS :=
LIBS :=
TEST_PROGS :=

.PHONY: all
all:

include common/module.mk
include runtime/module.mk
include preload/module.mk
include injector/module.mk
include stress/module.mk
include tests/progs/module.mk
include tests/progs/corpus/module.mk
-include bench/module.mk
-include hunt/module.mk

all: $(BINS) $(LIBS) $(TEST_PROGS)

# Rebuild everything when the compiler or flags change.
FLAGS_LINE := $(CC) $(CFLAGS) $(BASE_CFLAGS) $(LDFLAGS)
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@if [ "$$(cat $@ 2>/dev/null)" != '$(FLAGS_LINE)' ]; then echo '$(FLAGS_LINE)' > $@; fi

$(BUILD)/obj/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(BASE_CFLAGS) $(CFLAGS_$(firstword $(subst /, ,$<))) -c $< -o $@

$(BUILD)/pic/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC -fPIC $<"
	$(Q)$(CC) $(CFLAGS) $(BASE_CFLAGS) -fPIC $(CFLAGS_$(firstword $(subst /, ,$<))) -c $< -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

.PHONY: deps deps-check
deps:  ## install the Debian packages the project needs (apt-get, as root)
	@tools/deps.sh install $(DEB_PACKAGES)

deps-check:  # install the packages only if one is missing
	@tools/deps.sh check $(DEB_PACKAGES) || tools/deps.sh install $(DEB_PACKAGES)

.PHONY: run
run: deps-check  ## build, then run the default campaign and print where the results are
	@$(MAKE) --no-print-directory all
	@$(BUILD)/stress --campaign stress/campaigns/default.ini --results results

.PHONY: nightly
nightly: deps-check  ## the long campaign and the nightly-marked tests; SHARDS=N: as N shards on Slurm
	@$(MAKE) --no-print-directory all
ifeq ($(SHARDS),)
	@$(BUILD)/stress --campaign stress/campaigns/nightly.ini --results results --history results
else
	@if command -v sbatch >/dev/null 2>&1; then \
		stress/slurm/submit.sh -N '$(SHARDS)' --campaign stress/campaigns/nightly.ini --results results; \
	else \
		echo "make nightly SHARDS=$(SHARDS): no sbatch here (not a Slurm submit host), so nothing was submitted; make nightly without SHARDS runs the campaign on this machine" >&2; \
		exit 125; \
	fi
endif
	$(PYTHON) -m pytest --nightly -m nightly

.PHONY: test
test: deps-check  ## build, then run the pytest suite (JUnit XML under results/)
	@$(MAKE) --no-print-directory all
	@mkdir -p results
	$(PYTHON) -m pytest --junitxml=results/pytest-junit.xml $(PYTEST_ARGS)

.PHONY: bench
bench: deps-check  ## run the benchmarks and print their tables (plots under results/bench/)
	@$(MAKE) --no-print-directory all
	@bench/run.sh

.PHONY: clean
clean:  ## remove build/
	rm -rf $(BUILD)

.PHONY: help
help:  ## list the targets
	@echo "make          build everything under build/"
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /make \1\t/' | expand -t 14
	@echo "V=1           show full commands"

# Keep object files that pattern chains would otherwise delete as intermediates.
.SECONDARY:

.PHONY: FORCE
FORCE:
