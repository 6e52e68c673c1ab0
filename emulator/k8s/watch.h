/*
 * watch.h - the per-cluster event log of the Kubernetes API and the watches that read it
 * (STYLE.md §15; reference/kubernetes-access-facts.md §5).
 *
 * Every stored change of a cluster's objects is an event (ADDED, MODIFIED, DELETED) with the
 * resourceVersion its write took: a transaction collects its events (struct
 * pd_k8s_pending, filled by the generic store path in objects.c) and pd_k8s_commit
 * publishes them when the transaction commits, in commit order, under the hub's lock. Each
 * cluster keeps the latest events in a bounded ring; a watch is a cursor into its cluster's
 * ring plus filters (resource, namespace, label and field selectors), rendered into its
 * response as the client reads (stream.h): nothing is queued per watch, so a watch that is
 * never read costs no memory and is dropped by the server's idle timeout. A watch whose
 * cursor fell out of the ring, or whose cluster changed outside the API (reset, import,
 * deletion), gets one ERROR event (410 Expired) and ends, as kube-apiserver's cacher does.
 *
 * The hub also tells listeners (the controllers) that a cluster changed, and runs a timer
 * thread that wakes watches for bookmarks and timeouts.
 */
#ifndef PD_K8S_WATCH_H
#define PD_K8S_WATCH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct pd_env;
struct pd_db;
struct pd_k8s_res;
struct pd_k8s_ctx;
struct pd_k8s_hub;
struct pd_k8s_ev;

/* Bounds: events kept per cluster (count and bytes), watches open per process. */
#define PD_K8S_LOG_EVENTS 8192
#define PD_K8S_LOG_BYTES (32u << 20)
#define PD_K8S_WATCHES_MAX 4096
/* A watch without timeoutSeconds ends after this long (kube-apiserver: 30 to 60 minutes). */
#define PD_K8S_WATCH_DEFAULT_S 1800
#define PD_K8S_WATCH_MAX_S 86400
/* allowWatchBookmarks: a bookmark this often while nothing else is sent. */
#define PD_K8S_BOOKMARK_MS 60000

enum pd_k8s_evtype { PD_K8S_ADDED = 1, PD_K8S_MODIFIED, PD_K8S_DELETED };

/* The events a transaction made, in order; published by pd_k8s_commit. */
struct pd_k8s_pending {
    struct pd_k8s_ev **v;
    size_t n, cap;
};

/* Make env->k8s (no threads yet) / free it. PD_OK. */
int pd_k8s_hub_init(struct pd_env *env);
void pd_k8s_hub_cleanup(struct pd_env *env);
/* Start / stop the timer thread (bookmarks, timeouts). Without it watches still stream
 * events but end only when their client goes. */
int pd_k8s_hub_start(struct pd_env *env);
void pd_k8s_hub_stop(struct pd_env *env);

/* Record a change of res in p: obj is the object as stored now (for DELETED: the last state
 * with the deletion's resourceVersion), old the previous state for MODIFIED (else NULL).
 * Both are copied. */
void pd_k8s_pending_add(struct pd_k8s_pending *p, enum pd_k8s_evtype type,
                        const struct pd_k8s_res *res, int64_t rv, const json_t *obj,
                        const json_t *old);
void pd_k8s_pending_clear(struct pd_k8s_pending *p);

/* Commit db's open transaction and publish p's events for cluster (then cleared). PD_OK or
 * the commit's error (p is cleared either way). Without a hub it only commits. */
int pd_k8s_commit(struct pd_env *env, struct pd_db *db, const char *cluster,
                  struct pd_k8s_pending *p);

/* The cluster's state changed behind the API's back (reset, import, deletion): its watches
 * end with 410 Expired and its log restarts. cluster NULL: every cluster. */
void pd_k8s_hub_invalidate(struct pd_env *env, const char *cluster);

/* Called after events of a cluster are published (outside the hub's lock), to wake the
 * controllers: only for changes they look at (apps and batch kinds, pods, nodes, and any
 * deletion). One listener. */
void pd_k8s_hub_listen(struct pd_env *env, void (*fn)(void *arg, const char *cluster), void *arg);

/* Serve x (a GET of a collection, or of one object, with watch=true) as a watch: validate
 * the list options, read the starting state, and answer 200 with a streamed body
 * (r->resp.stream), or a Status error. PD_OK / PD_EAWS with the answer set. */
int pd_k8s_serve_watch(struct pd_k8s_ctx *x);

/* How many watches are open (tests, the soak check). */
size_t pd_k8s_hub_watches(struct pd_env *env);

#endif
