/*
 * options.h - command-line options as one table: each row is an option's
 * name, its argument, its help and how it is stored.  options_parse()
 * walks argv (getopt_long underneath) and fills the caller's struct;
 * options_help() prints the option lines of --help from the same rows.
 * What the values mean (defaults, the config file) is the caller's, after
 * parsing.  Used by lector (lector/main.c) and memprobe-cat
 * (tools/memprobe_cat.c).
 */
#ifndef MEMPROBE_OPTIONS_H
#define MEMPROBE_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

enum opt_kind {
	OPT_FLAG,   /* no argument: the bool at offset becomes true */
	OPT_STRING, /* the const char * at offset points to the argument */
	OPT_CALL,   /* call(argument or NULL, the whole struct): 0, or -EINVAL said */
	OPT_HELP,   /* --help, -h: options_parse returns OPTIONS_HELP */
};

struct opt_row {
	const char *name; /* long name, without "--" */
	const char *arg;  /* its argument in the help ("FILE"), NULL: none */
	enum opt_kind kind;
	size_t offset; /* OPT_FLAG, OPT_STRING: offsetof the field */
	int (*call)(const char *arg, void *out);
	const char *help; /* '\n' starts a continuation line; NULL: not listed */
};

#define OPTIONS_MAX  32 /* rows in one table */
#define OPTIONS_HELP 1

/* Parse argv[1..] into out, in order.  Returns 0 with *first_arg the
 * index of the first argument that is not an option (argc: none);
 * OPTIONS_HELP as soon as --help or -h comes; -ENOENT after an unknown
 * option or a missing argument (getopt_long said which); a call's own
 * negative value when it refused its argument (the call said why). */
int options_parse(const struct opt_row *rows, size_t n_rows, int argc, char **argv, void *out,
		  int *first_arg);

/* The rows' help: "  --name=ARG", padded to help_col (at least two
 * spaces), the help, continuation lines indented to help_col. */
void options_help(FILE *f, const struct opt_row *rows, size_t n_rows, int help_col);

#endif
