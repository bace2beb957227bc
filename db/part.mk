# db/ - the one MariaDB layer (db_core: connect, prepare, typed binds,
# rows; db_columns.h: column lists from one X-macro per table), the hosts
# table, and the schema migrations compiled in.  Used by lector (sinks,
# retention, --migrate) and by the server's pool (server/db.c).

DB_SRC := db/db_core.c db/host.c db/migrate.c
DB_OBJ := $(patsubst db/%.c,$(BUILD)/db/%.o,$(DB_SRC)) $(BUILD)/db/migrations_gen.o
MIGRATIONS := $(sort $(wildcard migrations/[0-9][0-9][0-9]_*.sql))

$(BUILD)/db:
	@mkdir -p $@

$(BUILD)/db/%.o: db/%.c db/*.h model/*.h | $(BUILD)/db
	$(CC) $(MP_CFLAGS) $(MARIADB_CFLAGS) -c $< -o $@

# Migrations are compiled in: a binary knows exactly the schema it speaks.
$(BUILD)/db/migrations_gen.c: $(MIGRATIONS) migrations/embed.sh | $(BUILD)/db
	migrations/embed.sh $@ $(MIGRATIONS)

$(BUILD)/db/migrations_gen.o: $(BUILD)/db/migrations_gen.c db/migrate.h
	$(CC) $(MP_CFLAGS) $(MARIADB_CFLAGS) -c $< -o $@
