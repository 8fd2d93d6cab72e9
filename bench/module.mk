# bench/: benchmarks.  shim_overhead measures what libinject.so adds to an
# uncontended lock/unlock pair (run bench/shim_overhead.sh for the table).
BENCH_BINS := $(BUILD)/bench/shim_overhead
BINS += $(BENCH_BINS)
$(BUILD)/bench/shim_overhead: $(BUILD)/obj/bench/shim_overhead.o
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(BASE_LDFLAGS) $(LDFLAGS) -o $@ $<
