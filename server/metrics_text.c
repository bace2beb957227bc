/*
 * metrics_text.c - the Prometheus text format's pieces (metrics_text.h):
 * a growing buffer, escaped label values, HELP/TYPE heads.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "metrics_text.h"

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0 || b->oom)
			return;
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += n;
			return;
		}
		b->cap = (b->cap + n + 1) * 2;
		char *np = realloc(b->p, b->cap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
	}
}

/* Label values: valid UTF-8 with \\, \" and \n escaped (the only escapes
 * the text format knows); a comm may hold any byte. */
void sb_label(struct sbuf *b, const char *v, size_t len)
{
	char clean[1024]; /* the longest value: a group name, 255 bytes */

	json_clean_utf8(clean, sizeof(clean), v, len);
	for (const char *s = clean; *s; s++) {
		if (*s == '\\' || *s == '"')
			sb_printf(b, "\\%c", *s);
		else if (*s == '\n')
			sb_printf(b, "\\n");
		else
			sb_printf(b, "%c", *s);
	}
}

void sb_head(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int mlines_add(struct mlines *m, const double *val, int n_val)
{
	if (!(m->n % 64)) {
		size_t *o = realloc(m->off, (m->n + 64) * sizeof(*o));
		double(*v)[MLINES_VALUES] = o ? realloc(m->val, (m->n + 64) * sizeof(*v)) : NULL;

		if (o)
			m->off = o;
		if (v)
			m->val = v;
		if (!o || !v)
			return -ENOMEM;
	}
	m->off[m->n] = m->lab.len;
	for (int i = 0; i < MLINES_VALUES; i++)
		m->val[m->n][i] = i < n_val ? val[i] : 0;
	m->n++;
	return 0;
}

int mlines_end(struct mlines *m)
{
	sb_printf(&m->lab, "%c", 0);
	return m->lab.oom ? -ENOMEM : 0;
}

void mlines_write(struct sbuf *b, const struct mlines *m, int col, const char *name,
		  const char *type, const char *help)
{
	sb_head(b, name, type, help);
	for (size_t i = 0; i < m->n; i++)
		sb_printf(b, "%s{%s} %.0f\n", name, m->lab.p + m->off[i], m->val[i][col]);
}

void mlines_free(struct mlines *m)
{
	free(m->lab.p);
	free(m->off);
	free(m->val);
}
