# lector/ - capture sources, memprobe-cat (and later the lector daemon).

LECTOR_SRC_COMMON := lector/source.c lector/source_ring.c lector/source_bpf.c
LECTOR_LIBS       := -lbpf -lelf -lz

$(BUILD)/lector:
	@mkdir -p $@

$(BUILD)/lector/%.o: lector/%.c lector/*.h include/memprobe_abi.h $(BPF_SKEL) | $(BUILD)/lector
	$(CC) $(MP_CFLAGS) -I$(BUILD)/bpf -c $< -o $@

$(BUILD)/memprobe-cat: $(patsubst lector/%.c,$(BUILD)/lector/%.o,$(LECTOR_SRC_COMMON) lector/memprobe_cat.c)
	$(CC) $(CFLAGS) $^ -o $@ $(LECTOR_LIBS)

all: $(BUILD)/memprobe-cat
