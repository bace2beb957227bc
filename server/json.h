/*
 * json.h - JSON and text helpers every part of the server uses to turn
 * database columns (text) into answers: bytes made valid UTF-8, exact
 * integers, numbers.  No request, no connection: pure functions.
 */
#ifndef MEMPROBE_SERVER_JSON_H
#define MEMPROBE_SERVER_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* comm and host columns are any bytes but NUL: valid UTF-8 kept, every
 * other byte replaced with U+FFFD; dst holds at most cap - 1 bytes. */
void json_clean_utf8(char *dst, size_t cap, const char *src, size_t len);
cJSON *json_add_bytes_str(cJSON *obj, const char *key, const char *bytes, size_t len);
/* A decimal column as an exact JSON number (null if not digits). */
cJSON *json_int_raw(const char *digits);
void json_add_int_raw(cJSON *obj, const char *key, const char *digits);
/* A numeric column as a JSON number: its digits as they are when it is
 * an integer, else through a double (json_num). */
cJSON *json_add_num(cJSON *obj, const char *key, const char *col);
/* A numeric column as a double; NULL (a LEFT JOIN's missing row) is 0. */
double json_num(const char *col);

#endif
