# tools/ - memprobe-cat: records of a capture source as text, on the
# capture library alone (no daemon, no database).

$(BUILD)/tools:
	@mkdir -p $@

$(BUILD)/tools/%.o: tools/%.c capture/*.h include/memprobe_abi.h | $(BUILD)/tools
	$(CC) $(MP_CFLAGS) -c $< -o $@

$(BUILD)/memprobe-cat: $(BUILD)/tools/memprobe_cat.o $(patsubst capture/%.c,$(BUILD)/capture/%.o,$(CAPTURE_SRC))
	$(CC) $(CFLAGS) $^ -o $@ $(CAPTURE_LIBS)

all: $(BUILD)/memprobe-cat
RUN_BUILD += $(BUILD)/memprobe-cat
