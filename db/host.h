/*
 * host.h - the hosts table (migrations/): each lector writes under one
 * host id, found by its name (model/host_id.h says what a name may be).
 */
#ifndef MEMPROBE_DB_HOST_H
#define MEMPROBE_DB_HOST_H

#include <stddef.h>
#include <mysql.h>

/* This host's row, found or made, with its memory sizes updated;
 * committed.  0 or -errno, err saying why. */
int db_host_register(MYSQL *db, const char *name, unsigned int *host_id, char *err, size_t errlen);
/* A registered host's id: 1 found, 0 not registered (yet), -errno. */
int db_host_find(MYSQL *db, const char *name, unsigned int *host_id, char *err, size_t errlen);

#endif
