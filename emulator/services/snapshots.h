/*
 * snapshots.h - named snapshots of the whole state: save, restore, list, delete.
 *
 * A snapshot is a folder STATE.snapshots/NAME/ beside the state (in the temporary folder of
 * a :memory: state): state.db, a consistent copy of the database (IAM, STS keys, S3 metadata
 * and small objects, EKS clusters and their issuers' keys, Kubernetes objects, the server's
 * keys), objects/, hard links to the object files it names (copies where links cannot be
 * made), and snapshot.json (name, time, clock offset, session generation, sizes). Saving and
 * restoring hold the state's write lock (statelock.h), so requests see the state before or
 * after, never a mix. Restoring is a kind of reset: the rows and object files become the
 * snapshot's, the clock offset too; sessions minted before the snapshot was taken open
 * again, those minted after it do not (auth/secrets.h). On-disk snapshots survive restarts.
 * The admin API's handlers; routes are in admin.c.
 */
#ifndef PD_SERVICES_SNAPSHOTS_H
#define PD_SERVICES_SNAPSHOTS_H

struct pd_req;

/* POST /_podiam/snapshots {"name": N} */
int pd_snapshots_save(struct pd_req *r);
/* GET /_podiam/snapshots */
int pd_snapshots_list(struct pd_req *r);
/* POST /_podiam/snapshots/NAME/restore, DELETE /_podiam/snapshots/NAME: name from the path */
int pd_snapshots_restore(struct pd_req *r, const char *name);
int pd_snapshots_delete(struct pd_req *r, const char *name);

/* 1 when name is a valid snapshot name: 1 to 64 of A-Z a-z 0-9 . _ -, not starting with a
 * dot (so never a path, "." or ".."). */
int pd_snapshots_name_ok(const char *name);

#endif
