# tools/ - memprobe-cat: records of a capture source as text, on the
# capture library alone (no daemon, no database; model/options.c for its
# command line).

$(BUILD)/tools:
	@mkdir -p $@

$(BUILD)/tools/%.o: tools/%.c capture/*.h model/options.h include/memprobe_abi.h | $(BUILD)/tools
	$(CC) $(MP_CFLAGS) -c $< -o $@

$(BUILD)/memprobe-cat: $(BUILD)/tools/memprobe_cat.o $(CAPTURE_OBJ) $(BUILD)/model/options.o
	$(CC) $(CFLAGS) $^ -o $@ $(CAPTURE_LIBS)

all: $(BUILD)/memprobe-cat
RUN_BUILD += $(BUILD)/memprobe-cat
