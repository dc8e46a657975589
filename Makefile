# Thin wrapper: meson does the building, these targets are the README's.
BUILD ?= build
IMAGE ?= vblkd.img
SOCK ?= vblkd.sock
MESON_FLAGS ?= $(if $(CI),--werror,)

.PHONY: all deps test-deps build run check clean format bench bench-downtime
.PHONY: all deps test-deps build run check clean format bench-downtime soak
.PHONY: all deps test-deps build run check clean format bench-downtime fuzz

all: build

deps:
	bash scripts/install-deps.sh build

test-deps:
	bash scripts/install-deps.sh test

$(BUILD)/build.ninja:
	meson setup $(MESON_FLAGS) $(BUILD)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: deps
	$(MAKE) build
	bash scripts/run.sh $(BUILD)/vblkd $(IMAGE) $(SOCK)

check: test-deps
	$(MAKE) build
	bash scripts/check.sh $(BUILD)

# Not part of check: IOPS, latency, CPU and memory against qemu-storage-daemon
# (docs/performance.md); about 17 minutes on 2 CPUs. Refuses (exit 3) when the
# machine is not quiet; BENCH_FORCE=1 measures anyway and the results say so.
# BENCH_QUICK=1 (about 11 minutes): only the 4 KiB one-queue rows at QD 1 and
# 32 (no QD128, 70/30 mix, two-queue or 64 KiB rows), many disks with N = 1
# and 16, one VDUSE repetition.
BENCH_RUNTIME_MS ?= 500
BENCH_QUICK ?= 0

bench: test-deps
	$(MAKE) build
	bash bench/bench.sh $(BUILD) $(BENCH_REPS) $(BENCH_RUNTIME_MS) $(BENCH_QUICK)

# Not part of check: migration downtime, drain vs capture (docs/performance.md).
# QEMU=1 adds the QEMU 11.1 matrix (root, trixie chroot; ~10 min at QEMU_REPS=3).
BENCH_REPS ?= 5
QEMU ?= 0
QEMU_REPS ?= 3

bench-downtime: deps
	$(MAKE) build
	bash bench/bench-downtime.sh $(BUILD) $(BENCH_REPS) $(QEMU) $(QEMU_REPS)

# Not part of check (the host suite runs a 10 s smoke of it): I/O with
# migrations and kill -9 for DURATION seconds, then every block verified
# (docs/soak.md). Figures in $(BUILD)/soak.json; SOAK_FLAGS adds options.
DURATION ?= 60
SOAK_FLAGS ?=

soak:
	$(MAKE) build
	$(BUILD)/selftests/soak/soak --vblkd $(BUILD)/vblkd --duration $(DURATION) \
		--json $(BUILD)/soak.json $(SOAK_FLAGS)
# Not part of check (which gives each 30 s): every libFuzzer target for
# DURATION seconds, two at a time, in the clang tree $(BUILD)-fuzz; what
# each finds stays in $(BUILD)-fuzz/selftests/fuzz/<target>-corpus.
DURATION ?= 60

fuzz:
	bash scripts/fuzz-build.sh $(BUILD)-fuzz $(MESON_FLAGS)
	meson test -C $(BUILD)-fuzz --no-rebuild --print-errorlogs --num-processes 2 \
		--timeout-multiplier 0 --suite fuzz --test-args=-max_total_time=$(DURATION)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(BUILD)-meson-new $(BUILD)-fuzz
