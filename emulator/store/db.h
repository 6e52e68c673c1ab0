/*
 * db.h - helpers shared by the store/<svc>_db.c files (never included outside store/).
 *
 * A per-connection cache of prepared statements keyed by the SQL text's address (SQL is
 * always a string literal), and small binding/stepping helpers that map SQLite results to
 * enum pd_err.
 */
#ifndef PD_STORE_DB_H
#define PD_STORE_DB_H

#include <sqlite3.h>
#include <stdint.h>

#include "store/store.h"

struct pd_arena;

/* The prepared statement for sql (a string literal), reset and cleared. NULL on a prepare
 * error (logged; a bug in our SQL). */
sqlite3_stmt *pd_db_stmt(struct pd_db *db, const char *sql);

/* Map a sqlite3_step/exec result to enum pd_err (SQLITE_CONSTRAINT -> PD_ECONFLICT). */
int pd_db_rc(struct pd_db *db, int sqlite_rc);

/* Run a statement that returns no rows; binds are done by the caller. */
int pd_db_exec_stmt(struct pd_db *db, sqlite3_stmt *st);

/* Column text copied into the arena (NULL stays NULL). */
char *pd_db_col_text(struct pd_arena *a, sqlite3_stmt *st, int col);
/* Step st (bound by the caller) to its end, collecting column 0 of every row as text: an
 * arena array of *OUT_n strings. Resets st. PD_OK or the step's error. */
int pd_db_col_texts(struct pd_db *db, struct pd_arena *a, sqlite3_stmt *st, const char ***OUT,
                    size_t *OUT_n);

sqlite3 *pd_db_handle(struct pd_db *db);

/* Bind helpers: NULL s binds SQL NULL. */
void pd_db_bind_text(sqlite3_stmt *st, int idx, const char *s);

#endif
