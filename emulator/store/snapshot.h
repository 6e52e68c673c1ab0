/*
 * snapshot.h - the database side of named snapshots: copy the whole database to a file, and
 * replace the state's rows with a copy's in one transaction.
 *
 * The copy is made with SQLite's online backup from the caller's connection while it holds
 * its transaction, so it is one consistent state; it is a self-contained file (rollback
 * journal, not WAL). Restoring attaches the copy and, inside one write transaction, deletes
 * every row of every table but meta and inserts the copy's: readers in WAL mode see the old
 * rows or the new ones, never some of each. Object files are the caller's
 * (services/snapshots.c). Only same-schema copies are taken back.
 */
#ifndef PD_STORE_SNAPSHOT_H
#define PD_STORE_SNAPSHOT_H

struct pd_db;
struct pd_store;

/* The state's database file (":memory:" states have one in their temporary directory). */
const char *pd_store_path(const struct pd_store *s);

/* Copy db's database to a new file at path (mode 0600). db must hold the write lock (a
 * write transaction), so the copy is the state as it stands.
 * sync_full: fsync the copy (--sync full). Returns PD_OK or PD_EIO with *OUT_err (malloc'd). */
int pd_store_copy_to(struct pd_db *db, const char *path, int sync_full, char **OUT_err);

/* Start a restore: attach the copy at path, check it has this schema version, begin a write
 * transaction and replace every table's rows (meta's excepted) with the copy's. On PD_OK
 * the transaction is open: finish with pd_store_restore_end. On error nothing changed and
 * *OUT_err (malloc'd) says why (PD_EINVAL: not a copy this podiam can take; PD_EBUSY). */
int pd_store_restore_begin(struct pd_db *db, const char *path, char **OUT_err);
/* Commit (commit = 1) or roll back the restore's transaction, then detach the copy.
 * Returns the commit's result. */
int pd_store_restore_end(struct pd_db *db, int commit);

#endif
