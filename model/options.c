/*
 * options.c - one table of options (options.h) -> getopt_long.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <string.h>

#include "options.h"

int options_parse(const struct opt_row *rows, size_t n_rows, int argc, char **argv, void *out,
		  int *first_arg)
{
	struct option lo[OPTIONS_MAX + 1];
	char *base = out;
	int c, rc;

	if (n_rows > OPTIONS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n_rows; i++)
		lo[i] = (struct option){rows[i].name, rows[i].arg ? required_argument : no_argument,
					NULL, rows[i].kind == OPT_HELP ? 'h' : 256 + (int)i};
	lo[n_rows] = (struct option){0};
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		const struct opt_row *r = c >= 256 && c < 256 + (int)n_rows ? &rows[c - 256] : NULL;

		if (c == 'h')
			return OPTIONS_HELP;
		if (!r)
			return -ENOENT; /* getopt_long said what */
		if (r->kind == OPT_FLAG)
			*(bool *)(base + r->offset) = true;
		else if (r->kind == OPT_STRING)
			*(const char **)(base + r->offset) = optarg;
		else if ((rc = r->call(r->arg ? optarg : NULL, out)) < 0)
			return rc;
	}
	*first_arg = optind;
	return 0;
}

void options_help(FILE *f, const struct opt_row *rows, size_t n_rows, int help_col)
{
	for (size_t i = 0; i < n_rows; i++) {
		const char *h = rows[i].help;
		int len;

		if (!h)
			continue;
		len = fprintf(f, "  --%s%s%s", rows[i].name, rows[i].arg ? "=" : "",
			      rows[i].arg ? rows[i].arg : "");
		fprintf(f, "%*s", len + 2 > help_col ? 2 : help_col - len, "");
		for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, help_col, "");
		fprintf(f, "%s\n", h);
	}
}
