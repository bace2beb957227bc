/*
 * json.c - database text to JSON: UTF-8 cleaning, exact integers, numbers
 * (json.h).
 */
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* comm is any bytes but NUL: keep valid UTF-8, replace each other byte
 * with U+FFFD so the JSON stays valid (cJSON escapes control characters). */
void json_clean_utf8(char *dst, size_t cap, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, i = 0;

	while (i < len && o + 4 < cap) {
		unsigned char ch = s[i];
		size_t need = ch < 0x80			 ? 0
			      : ch >= 0xc2 && ch <= 0xdf ? 1
			      : ch >= 0xe0 && ch <= 0xef ? 2
			      : ch >= 0xf0 && ch <= 0xf4 ? 3
							 : 9;
		/* The second byte's range rules out overlong forms, surrogates
		 * and code points above U+10FFFF (Unicode table 3-7). */
		unsigned char lo = ch == 0xe0 ? 0xa0 : ch == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = ch == 0xed ? 0x9f : ch == 0xf4 ? 0x8f : 0xbf;
		size_t k;

		for (k = 1; need != 9 && k <= need && i + k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80 ||
			    (k == 1 && (s[i + 1] < lo || s[i + 1] > hi)))
				break;
		if (need == 9 || k <= need) {
			memcpy(dst + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(dst + o, s + i, need + 1);
		o += need + 1;
		i += need + 1;
	}
	dst[o] = 0;
}

/* Each input byte becomes at most 3 output bytes (U+FFFD), so the whole
 * value fits: a cgroup path is up to 4 KiB. */
cJSON *json_add_bytes_str(cJSON *obj, const char *key, const char *bytes, size_t len)
{
	char small[200], *clean = small;
	size_t cap = 3 * len + 5;
	cJSON *item;

	if (cap > sizeof(small) && !(clean = malloc(cap)))
		return NULL;
	json_clean_utf8(clean, cap > sizeof(small) ? cap : sizeof(small), bytes, len);
	item = cJSON_AddStringToObject(obj, key, clean);
	if (clean != small)
		free(clean);
	return item;
}

/* Nanosecond timestamps (~1.8e18) do not fit a double: emit the decimal
 * digits the database gave, as an exact JSON number. */
cJSON *json_int_raw(const char *digits)
{
	const char *p = digits + (digits[0] == '-');

	if (!*p || strspn(p, "0123456789") != strlen(p))
		return cJSON_CreateNull();
	return cJSON_CreateRaw(digits);
}

void json_add_int_raw(cJSON *obj, const char *key, const char *digits)
{
	cJSON_AddItemToObject(obj, key, json_int_raw(digits));
}

/* Where the database gave decimal digits, they are the JSON number as
 * they stand: no double in between (no rounding above 2^53), and no
 * printf and scanf round trip per number (cJSON's way to print a double,
 * the largest part of the time a page of rows took to format). */
cJSON *json_add_num(cJSON *obj, const char *key, const char *col)
{
	const char *p = col + (col[0] == '-');

	if (!*p || strspn(p, "0123456789") != strlen(p) || (p[0] == '0' && p[1]))
		return cJSON_AddNumberToObject(obj, key, json_num(col));
	return cJSON_AddRawToObject(obj, key, col);
}

double json_num(const char *col)
{
	return col ? strtod(col, NULL) : 0;
}
