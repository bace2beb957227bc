/*
 * db_columns.h - a table's columns written once, as an X-macro, and the
 * SQL pieces made from it at compile time, so a column list, its
 * placeholders and its bindings can never disagree in count or order.
 *
 * A table is   #define T(X) X(name, kind, value, UPD, ...) ...   where
 * kind, value and what follows UPD are the user's (how to bind or read
 * the column) and UPD says what an upsert does with an existing row's
 * column: KEEP, SET (the new value), MAX (the greater) or ADD (the sum).
 *   DB_COLUMNS(T)      ", a, b, c" (to follow other columns)
 *   DB_COLUMN_LIST(T)  "a, b, c"
 *   DB_MARKS(T)        ",?,?,?"    DB_MARK_LIST(T)    "?,?,?"
 *   DB_UPDATE_LIST(T)  "b=VALUES(b), ..." (KEEP columns left out; at
 *                      least one column must not be KEEP)
 *   DB_NCOLS(T)        3
 * Column indexes: the user's own enum, from its own X.
 */
#ifndef MEMPROBE_DB_COLUMNS_H
#define MEMPROBE_DB_COLUMNS_H

#define DB_COL_NAME_(name, ...)			 ", " #name
#define DB_COL_MARK_(name, ...)			 ",?"
#define DB_COL_ONE_(name, ...)			 +1
#define DB_COL_UPD_(name, kind, value, upd, ...) DB_UPD_##upd(name)

#define DB_UPD_KEEP(c) ""
#define DB_UPD_SET(c)  ", " #c "=VALUES(" #c ")"
#define DB_UPD_MAX(c)  ", " #c "=GREATEST(" #c ", VALUES(" #c "))"
#define DB_UPD_ADD(c)  ", " #c "=" #c "+VALUES(" #c ")"

#define DB_COLUMNS(T)	  (T(DB_COL_NAME_))
#define DB_COLUMN_LIST(T) (&DB_COLUMNS(T)[2])
#define DB_MARKS(T)	  (T(DB_COL_MARK_))
#define DB_MARK_LIST(T)	  (&DB_MARKS(T)[1])
#define DB_UPDATE_LIST(T) (&(T(DB_COL_UPD_))[2])
#define DB_NCOLS(T)	  (0 T(DB_COL_ONE_))

#endif
