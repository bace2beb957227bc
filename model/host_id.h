/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * host_id.h - what a host id (the name a lector writes its rows under,
 * `host_id` in lector.conf, `?host=` in the API) may be made of: the one
 * definition.  lector's config, every server handler that takes ?host=,
 * the fuzz model and the dashboard (frontend/vite-abi.js reads this
 * file) use these two.
 */
#ifndef MEMPROBE_HOST_ID_H
#define MEMPROBE_HOST_ID_H

/* Characters of a host id, and its longest length in bytes. */
#define MP_HOST_ID_CHARSET "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"
#define MP_HOST_ID_MAX     64

#endif /* MEMPROBE_HOST_ID_H */
