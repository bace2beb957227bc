# capture/ - the capture library: the two sources (the SystemTap ring file,
# the eBPF ring buffer) and the synthetic one (a simulated host) behind one
# interface (source.h), used by lector and by memprobe-cat (tools/).

CAPTURE_SRC  := capture/source.c capture/source_ring.c capture/ring_file.c capture/source_bpf.c \
		capture/source_synth.c capture/synth_gen.c
CAPTURE_OBJ  := $(patsubst capture/%.c,$(BUILD)/capture/%.o,$(CAPTURE_SRC))
CAPTURE_LIBS := -lbpf -lelf -lz -lm

$(BUILD)/capture:
	@mkdir -p $@

$(BUILD)/capture/%.o: capture/%.c capture/*.h include/memprobe_abi.h $(BPF_SKEL) | $(BUILD)/capture
	$(CC) $(MP_CFLAGS) -I$(BUILD)/bpf -c $< -o $@
