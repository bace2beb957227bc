# model/ - what lector and the server share: the accounting rules (acct),
# the range set (range, range_tree), the configuration file (config), the
# host id charset and the clocks.  No threads, no database, no capture.

MODEL_SRC := model/acct.c model/range.c model/range_tree.c model/config.c model/options.c
MODEL_OBJ := $(patsubst model/%.c,$(BUILD)/model/%.o,$(MODEL_SRC))

$(BUILD)/model:
	@mkdir -p $@

$(BUILD)/model/%.o: model/%.c model/*.h include/memprobe_abi.h | $(BUILD)/model
	$(CC) $(MP_CFLAGS) -c $< -o $@
