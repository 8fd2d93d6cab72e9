# bench/: benchmarks.  shim_overhead measures what libinject.so adds to an
# uncontended lock/unlock pair (run bench/shim_overhead.sh for the table).
BENCH_BINS := $(BUILD)/bench/shim_overhead
BINS += $(BENCH_BINS)
$(BUILD)/bench/shim_overhead: $(BUILD)/obj/bench/shim_overhead.o
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $<

# tsan_overhead: the same loop three ways: not instrumented, compiled with
# -fsanitize=thread and linked to the shim's entry points (the recipe,
# preload/README.md), and with libtsan itself for comparison.
BENCH_BINS += $(BUILD)/bench/tsan_overhead $(BUILD)/bench/tsan_overhead-plain \
              $(BUILD)/bench/tsan_overhead-libtsan
BINS += $(BUILD)/bench/tsan_overhead $(BUILD)/bench/tsan_overhead-plain \
        $(BUILD)/bench/tsan_overhead-libtsan
$(BUILD)/bench/tsan_overhead: $(BUILD)/obj-tsan/bench/tsan_overhead.o $(BUILD)/libinject.so
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $< $(TSAN_LDFLAGS)
$(BUILD)/bench/tsan_overhead-plain: $(BUILD)/obj/bench/tsan_overhead.o
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $<
$(BUILD)/bench/tsan_overhead-libtsan: $(BUILD)/obj-tsan/bench/tsan_overhead.o
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@ (libtsan)"
	$(Q)$(CC) -fsanitize=thread $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $<
