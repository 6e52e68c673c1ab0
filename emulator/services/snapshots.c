/* snapshots.c - named snapshots of the whole state (see snapshots.h). */
#include "services/snapshots.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/secrets.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "env.h"
#include "req.h"
#include "services/s3/s3.h"
#include "store/s3_db.h"
#include "store/snapshot.h"
#include "store/store.h"

#define NAME_MAX_LEN 64
#define MAX_SNAPSHOTS 1000

static int reply_error(struct pd_req *r, int status, const char *code, const char *msg)
{
    return pd_req_reply_json(r, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

int pd_snapshots_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > NAME_MAX_LEN || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* snprintf for paths: a path that does not fit becomes "" (which names nothing that exists,
 * so the operation using it fails cleanly). */
static void pathf(char *out, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= n)
        out[0] = '\0';
}

static const char *bad_name =
    "a snapshot name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'";

/* STATE.snapshots[/NAME[/FILE]] into buf. */
static const char *where(struct pd_req *r, char *buf, size_t n, const char *name, const char *file)
{
    pathf(buf, n, "%s.snapshots%s%s%s%s", pd_store_path(r->env->store), name ? "/" : "",
          name ? name : "", file ? "/" : "", file ? file : "");
    return buf;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void remove_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Copy a file (when a hard link cannot be made: another file system, no links). */
static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return PD_EIO;
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return PD_EIO;
    }
    char buf[64 * 1024];
    ssize_t k;
    int rc = PD_OK;
    while (rc == PD_OK && (k = read(in, buf, sizeof buf)) != 0) {
        if (k < 0 || write(out, buf, (size_t)k) != k)
            rc = PD_EIO;
    }
    close(in);
    if (close(out) != 0)
        rc = PD_EIO;
    if (rc)
        unlink(to);
    return rc;
}

/* to becomes the file from is (a link, else a copy), replacing whatever to was. Creates
 * to's folder. */
static int place(const char *from, const char *to)
{
    char dir[PATH_MAX], tmp[PATH_MAX];
    pathf(dir, sizeof dir, "%s", to);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        mkdir(dir, 0700);
    }
    struct stat a, b;
    if (stat(from, &a) == 0 && stat(to, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        return PD_OK; /* already that very file */
    pathf(tmp, sizeof tmp, "%s.snap-%ld", to, (long)getpid());
    unlink(tmp);
    if (link(from, tmp) != 0 && copy_file(from, tmp) != PD_OK)
        return PD_EIO;
    if (rename(tmp, to) != 0) {
        unlink(tmp);
        return PD_EIO;
    }
    return PD_OK;
}

struct file_walk {
    const char *from_root, *to_root;
    size_t n;
    long long bytes;
    int failed;
};

static void place_one(void *arg, const char *file)
{
    struct file_walk *w = arg;
    if (w->failed)
        return;
    char from[PATH_MAX], to[PATH_MAX];
    pathf(from, sizeof from, "%s/%s", w->from_root, file);
    pathf(to, sizeof to, "%s/%s", w->to_root, file);
    struct stat st;
    if (place(from, to) != PD_OK) {
        pd_log(PD_LOG_ERROR, "snapshot: cannot place object file %s: %s", file, strerror(errno));
        w->failed = 1;
        return;
    }
    if (stat(to, &st) == 0)
        w->bytes += st.st_size;
    w->n++;
}

static json_t *generation_json(const struct pd_generation *g)
{
    json_t *lin = json_array();
    for (int i = 0; i < g->n; i++)
        json_array_append_new(lin, json_integer(g->lineage[i]));
    return json_pack("{s:I, s:o}", "current", (json_int_t)g->current, "lineage", lin);
}

static void generation_from(const json_t *j, struct pd_generation *OUT)
{
    memset(OUT, 0, sizeof *OUT);
    OUT->current = json_integer_value(json_object_get(j, "current"));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(j, "lineage"), i, v)
    {
        if (OUT->n < PD_SECRETS_LINEAGE)
            OUT->lineage[OUT->n++] = json_integer_value(v);
    }
}

/* The body's "name", or NULL (with the answer written). */
static const char *body_name(struct pd_req *r, json_t **OUT_doc)
{
    json_error_t jerr;
    json_t *in = json_loadb(r->body.p ? r->body.p : "", r->body.len, 0, &jerr);
    const char *name = json_string_value(json_object_get(in, "name"));
    if (!json_is_object(in) || !name || json_object_size(in) != 1) {
        json_decref(in);
        reply_error(r, 400, "BadRequest", "expected {\"name\": \"NAME\"}");
        return NULL;
    }
    if (!pd_snapshots_name_ok(name)) {
        json_decref(in);
        reply_error(r, 400, "InvalidName", bad_name);
        return NULL;
    }
    *OUT_doc = in;
    return name;
}

static int64_t elapsed_us(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
}

static int write_meta(const char *path, json_t *meta)
{
    return json_dump_file(meta, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? PD_OK : PD_EIO;
}

int pd_snapshots_save(struct pd_req *r)
{
    json_t *in = NULL;
    const char *name = body_name(r, &in);
    if (!name)
        return PD_OK;
    struct pd_env *env = r->env;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char root[PATH_MAX], tmp[PATH_MAX], final[PATH_MAX], path[PATH_MAX], old[PATH_MAX];
    where(r, root, sizeof root, NULL, NULL);
    where(r, final, sizeof final, name, NULL);
    pathf(tmp, sizeof tmp, "%s/.tmp-%s", root, name);
    pathf(old, sizeof old, "%s/.old-%s", root, name);
    char *err = NULL;
    int rc = PD_OK, status = 500, in_txn = 0;
    const char *code = "SnapshotFailed";
    struct pd_generation before, next;
    struct file_walk w = {pd_store_objects_dir(env->store), NULL, 0, 0, 0};
    json_t *meta = NULL;

    pd_statelock_write(&env->state_lock);
    mkdir(root, 0700);
    remove_tree(tmp);
    if (mkdir(tmp, 0700) != 0) {
        err = pd_xstrdup("cannot create the snapshot's folder");
        rc = PD_EIO;
        goto out;
    }
    rc = pd_db_begin(r->db, 1); /* no write lands while the copy and the links are made */
    if (rc) {
        err = pd_xstrdup("the state is busy");
        status = 503;
        code = "ServiceUnavailable";
        goto out;
    }
    in_txn = 1;
    pathf(path, sizeof path, "%s/state.db", tmp);
    rc = pd_store_copy_to(r->db, path, env->cfg.sync_full, &err);
    if (rc)
        goto out;
    pathf(path, sizeof path, "%s/objects", tmp);
    mkdir(path, 0700);
    w.to_root = path;
    rc = pd_s3_db_files(r->db, place_one, &w);
    if (!rc && w.failed)
        rc = PD_EIO;
    if (rc) {
        err = pd_xstrdup("cannot link the object files into the snapshot");
        goto out;
    }
    /* sessions minted from now on belong to a new generation, which the snapshot does not
     * keep: restoring it ends them (snapshots.h) */
    pd_secrets_generation_get(env->secrets, &before);
    rc = pd_secrets_generation_begin(r->db, env->secrets, &before, &next);
    if (rc) {
        err = pd_xstrdup("cannot store the session generation");
        goto out;
    }
    char iso[32];
    int64_t now = pd_clock_now_ms(&env->clock);
    pd_time_iso8601(now, 1, iso);
    meta = json_pack("{s:s, s:s, s:I, s:I, s:o, s:I, s:I}", "name", name, "created", iso,
                     "created_ms", (json_int_t)now, "clock_offset_ms",
                     (json_int_t)atomic_load(&env->clock.offset_ms), "generation",
                     generation_json(&before), "object_files", (json_int_t)w.n, "object_bytes",
                     (json_int_t)w.bytes);
    pathf(path, sizeof path, "%s/snapshot.json", tmp);
    rc = write_meta(path, meta);
    if (rc) {
        err = pd_xstrdup("cannot write snapshot.json");
        goto out;
    }
    rc = pd_db_commit(r->db);
    in_txn = 0;
    if (rc) {
        err = pd_xstrdup("cannot commit the session generation");
        goto out;
    }
    pd_secrets_generation_publish(env->secrets, &next);
    /* the new snapshot replaces one of the same name */
    remove_tree(old);
    if (rename(final, old) != 0 && errno != ENOENT) {
        err = pd_xstrdup("cannot replace the snapshot of that name");
        rc = PD_EIO;
        goto out;
    }
    if (rename(tmp, final) != 0) {
        err = pd_xstrdup("cannot move the snapshot into place");
        rc = PD_EIO;
        goto out;
    }
    remove_tree(old);
out:
    if (in_txn)
        pd_db_rollback(r->db);
    if (rc)
        remove_tree(tmp);
    pd_statelock_write_done(&env->state_lock, 0);
    if (rc) {
        reply_error(r, status, code, err ? err : pd_strerror(rc));
    } else {
        int64_t us = elapsed_us(&t0);
        json_object_set_new(meta, "ms", json_real((double)us / 1000.0));
        pd_log_req(PD_LOG_INFO, r->request_id, "snapshot %s saved: %zu object file(s), %lld us",
                   name, w.n, (long long)us);
        pd_req_reply_json(r, 201, json_incref(meta));
    }
    free(err);
    json_decref(meta);
    json_decref(in);
    return PD_OK;
}

static json_t *read_meta(struct pd_req *r, const char *name)
{
    char path[PATH_MAX];
    where(r, path, sizeof path, name, "snapshot.json");
    return json_load_file(path, 0, NULL);
}

int pd_snapshots_restore(struct pd_req *r, const char *name)
{
    if (!pd_snapshots_name_ok(name))
        return reply_error(r, 400, "InvalidName", bad_name);
    struct pd_env *env = r->env;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char dir[PATH_MAX], path[PATH_MAX], objects[PATH_MAX];
    where(r, dir, sizeof dir, name, NULL);
    where(r, path, sizeof path, name, "state.db");
    pathf(objects, sizeof objects, "%s/objects", dir);
    char *err = NULL;
    int rc = PD_OK, status = 500, open_txn = 0;
    const char *code = "RestoreFailed";
    struct pd_generation keep, next;
    struct file_walk w = {objects, pd_store_objects_dir(env->store), 0, 0, 0};

    pd_statelock_write(&env->state_lock);
    json_t *meta = read_meta(r, name);
    if (!meta || access(path, R_OK) != 0) {
        pd_statelock_write_done(&env->state_lock, 0);
        json_decref(meta);
        char msg[200];
        snprintf(msg, sizeof msg, "no snapshot named %s (GET /_podiam/snapshots lists them)", name);
        return reply_error(r, 404, "NoSuchSnapshot", msg);
    }
    rc = pd_store_restore_begin(r->db, path, &err);
    if (rc) {
        status = rc == PD_EINVAL ? 409 : rc == PD_EBUSY ? 503 : 500;
        goto out;
    }
    open_txn = 1;
    /* the object files the snapshot's rows name, in place before those rows are visible */
    rc = pd_s3_db_files(r->db, place_one, &w);
    if (!rc && w.failed)
        rc = PD_EIO;
    if (rc) {
        err = pd_xstrdup("cannot put the snapshot's object files back");
        goto out;
    }
    generation_from(json_object_get(meta, "generation"), &keep);
    rc = pd_secrets_generation_begin(r->db, env->secrets, &keep, &next);
    if (!rc)
        rc = pd_s3_sweep_unreferenced(env, r->db); /* files only the old state named */
    if (rc) {
        err = pd_xstrdup("cannot finish the restore");
        goto out;
    }
    open_txn = 0;
    rc = pd_store_restore_end(r->db, 1);
    if (rc) {
        err = pd_xstrdup("cannot commit the restore");
        goto out;
    }
    pd_secrets_generation_publish(env->secrets, &next);
    atomic_store(&env->clock.offset_ms,
                 (int64_t)json_integer_value(json_object_get(meta, "clock_offset_ms")));
out:
    if (open_txn)
        pd_store_restore_end(r->db, 0);
    pd_statelock_write_done(&env->state_lock, rc == PD_OK);
    if (rc) {
        reply_error(r, status, code, err ? err : pd_strerror(rc));
    } else {
        int64_t us = elapsed_us(&t0);
        pd_log_req(PD_LOG_INFO, r->request_id, "snapshot %s restored: %zu object file(s), %lld us",
                   name, w.n, (long long)us);
        pd_req_reply_json(r, 200,
                          json_pack("{s:s, s:s, s:O?, s:I, s:f}", "status", "restored", "name",
                                    name, "created", json_object_get(meta, "created"),
                                    "object_files", (json_int_t)w.n, "ms", (double)us / 1000.0));
    }
    free(err);
    json_decref(meta);
    return PD_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
                  json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

int pd_snapshots_list(struct pd_req *r)
{
    char root[PATH_MAX];
    where(r, root, sizeof root, NULL, NULL);
    json_t *items[MAX_SNAPSHOTS];
    size_t n = 0;
    DIR *d = opendir(root);
    struct dirent *e;
    while (d && (e = readdir(d)) && n < MAX_SNAPSHOTS) {
        if (!pd_snapshots_name_ok(e->d_name))
            continue;
        json_t *m = read_meta(r, e->d_name);
        if (json_is_object(m) && json_is_string(json_object_get(m, "name")))
            items[n++] = m;
        else
            json_decref(m);
    }
    if (d)
        closedir(d);
    qsort(items, n, sizeof *items, by_name);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_object_del(items[i], "generation");
        json_array_append_new(list, items[i]);
    }
    return pd_req_reply_json(r, 200, json_pack("{s:o, s:s}", "snapshots", list, "folder", root));
}

int pd_snapshots_delete(struct pd_req *r, const char *name)
{
    if (!pd_snapshots_name_ok(name))
        return reply_error(r, 400, "InvalidName", bad_name);
    char dir[PATH_MAX], gone[PATH_MAX];
    where(r, dir, sizeof dir, name, NULL);
    pathf(gone, sizeof gone, "%s.snapshots/.del-%s", pd_store_path(r->env->store), name);
    /* under the write lock: never while the same snapshot is being restored */
    pd_statelock_write(&r->env->state_lock);
    int found = rename(dir, gone) == 0;
    pd_statelock_write_done(&r->env->state_lock, 0);
    if (!found) {
        char msg[200];
        snprintf(msg, sizeof msg, "no snapshot named %s", name);
        return reply_error(r, 404, "NoSuchSnapshot", msg);
    }
    remove_tree(gone);
    return pd_req_reply_json(r, 200, json_pack("{s:s, s:s}", "status", "deleted", "name", name));
}
