/*
 * store.h - the state: one SQLite database (WAL) plus a directory for S3 object bytes.
 *
 * One connection per worker thread (opened on first use, closed by pd_store_close), so
 * requests never share a connection. Writes run in BEGIN IMMEDIATE transactions: a handler's
 * changes are all visible or none. With --state :memory: the database and objects live in a
 * temporary directory removed at close. This folder (store/) is the only one that includes
 * <sqlite3.h>; services call the typed functions of store/<svc>_db.h.
 */
#ifndef PD_STORE_STORE_H
#define PD_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct pd_store;
struct pd_db;
struct pd_arena;

/* Open (creating and migrating as needed). path: a file, or ":memory:". sync_full: fsync
 * every commit (synchronous=FULL); otherwise an acknowledged commit survives a process
 * crash but not a power cut. OUT_err: a message on failure (static or malloc'd, caller
 * frees with free() when *OUT_err_owned). Returns PD_OK or PD_EIO. */
int pd_store_open(const char *path, int sync_full, struct pd_store **OUT, char **OUT_err);
void pd_store_close(struct pd_store *s);

/* The calling thread's connection (opened on first use). Never NULL: failure to open a
 * connection to an already-open database aborts. */
struct pd_db *pd_store_db(struct pd_store *s);

/* Directory holding S3 object files (created at open). */
const char *pd_store_objects_dir(const struct pd_store *s);
/* Directory holding the database (and temporary files). */
const char *pd_store_dir(const struct pd_store *s);

/* Transactions. write = 1: BEGIN IMMEDIATE (waits for other writers up to the busy
 * timeout), else a deferred read transaction. Returns PD_OK, PD_EBUSY or PD_EIO. */
int pd_db_begin(struct pd_db *db, int write);
int pd_db_commit(struct pd_db *db);
void pd_db_rollback(struct pd_db *db);
int pd_db_in_txn(const struct pd_db *db);

/* Server metadata (keys, CA): get into the arena, or put. Returns PD_OK / PD_ENOTFOUND /
 * PD_EIO. Values are text (PEM, base64). */
int pd_db_meta_get(struct pd_db *db, struct pd_arena *a, const char *key, char **OUT);
int pd_db_meta_put(struct pd_db *db, const char *key, const char *value);

/* Remove every row of the user-visible state (all tables but meta). Run inside a write
 * transaction. Returns PD_OK or PD_EIO. */
int pd_db_wipe(struct pd_db *db);

/* The last SQLite error text of this connection (for logs). */
const char *pd_db_errmsg(struct pd_db *db);

#endif
