/*
 * eks_internal.h - what the files of the EKS service share (eks.c: clusters, updates, tags,
 * authorization, fixtures; eks_access.c: access entries, access policies, authentication
 * modes' side effects). Not for other services: they use eks.h.
 */
#ifndef PD_SERVICES_EKS_INTERNAL_H
#define PD_SERVICES_EKS_INTERNAL_H

#include <jansson.h>

#include "services/service.h"
#include "store/eks_db.h"

struct pd_req;
struct pd_authz_need;

extern const struct pd_awserr pd_eks_ResourceInUse;    /* 409 */
extern const struct pd_awserr pd_eks_ResourceNotFound; /* 404 */
extern const struct pd_awserr pd_eks_InvalidParameter; /* 400 */
extern const struct pd_awserr pd_eks_InvalidRequest;   /* 400 */
extern const struct pd_awserr pd_eks_NotFound;         /* 404 */
extern const struct pd_awserr pd_eks_BadRequest;       /* 400 */

/* The request's region (its SigV4 scope's, else the configured one). */
const char *pd_eks_region(struct pd_req *r);
/* String member of r->in, or NULL. */
const char *pd_eks_in_str(struct pd_req *r, const char *member);
/* arn:aws:eks:REGION:ACCOUNT:cluster/NAME (arena). */
const char *pd_eks_cluster_arn(struct pd_arena *a, const char *region, const char *account,
                               const char *name);
/* The cluster named name in the caller's account and region; PD_OK, or PD_EAWS with
 * ResourceNotFoundException "No cluster found for name: NAME." set. */
int pd_eks_load(struct pd_req *r, const char *name, struct pd_eks_db_cluster *OUT);
/* text parsed as a JSON object (a new empty object when it is not one). New reference. */
json_t *pd_eks_parse_obj(const char *text);
/* text parsed as a JSON array of strings (a new empty array when it is not one). */
json_t *pd_eks_parse_arr(const char *text);
/* Compact JSON text of v, in the arena. */
char *pd_eks_dump(struct pd_arena *a, const json_t *v);
/* The authentication mode stored in a cluster's config ("CONFIG_MAP" when none). */
const char *pd_eks_cluster_mode(const struct pd_eks_db_cluster *c);

/* ---- eks_access.c ---- */

/* The access entry and access policy operations (handlers), for eks.c's table. */
int pd_eks_create_access_entry(struct pd_req *r);
int pd_eks_describe_access_entry(struct pd_req *r);
int pd_eks_list_access_entries(struct pd_req *r);
int pd_eks_update_access_entry(struct pd_req *r);
int pd_eks_delete_access_entry(struct pd_req *r);
int pd_eks_associate_access_policy(struct pd_req *r);
int pd_eks_disassociate_access_policy(struct pd_req *r);
int pd_eks_list_associated_access_policies(struct pd_req *r);
int pd_eks_list_access_policies(struct pd_req *r);

/* The authz hook's part for the access entry operations: 1 when op is one of them (need
 * filled: action on the cluster or access entry ARN, the eks:* keys, resource tags), 0 when
 * not. */
int pd_eks_access_authz(struct pd_req *r, struct pd_authz_need *need);

/* Give cluster c's creator an access entry with AmazonEKSClusterAdminPolicy at cluster
 * scope, as EKS does when bootstrapClusterCreatorAdminPermissions is on and the mode admits
 * entries (at CreateCluster, or when the mode leaves CONFIG_MAP). A creator that is not an
 * IAM user, role (or session of one) or root, or no longer exists, gets none (logged).
 * PD_OK or PD_EAWS (error set). */
int pd_eks_bootstrap_creator(struct pd_req *r, const struct pd_eks_db_cluster *c);

/* The condition keys of access entry e of cluster c (eks:accessEntryType, eks:clusterName,
 * eks:kubernetesGroups, eks:principalArn, eks:username, aws:ResourceTag/…). */
void pd_eks_entry_keys(struct pd_req *r, struct pd_authz_need *need,
                       const struct pd_eks_db_cluster *c, const struct pd_eks_db_entry *e);

/* An access entry ARN given to TagResource & co: the entry, PD_OK; PD_ENOTFOUND when the
 * ARN names none in the caller's account. */
int pd_eks_entry_by_arn(struct pd_req *r, const char *arn, struct pd_eks_db_cluster *OUT_c,
                        struct pd_eks_db_entry *OUT_e);
/* The ARN of entry e of cluster c (arena). */
const char *pd_eks_entry_arn(struct pd_arena *a, const struct pd_eks_db_cluster *c,
                             const struct pd_eks_db_entry *e);

/* Fixtures: make cluster c's access entries exactly list (a JSON array of entries as
 * docs/fixtures.md describes; NULL: leave them). PD_OK, or PD_EINVAL with *OUT_why (arena). */
int pd_eks_access_fixtures_load(struct pd_req *r, const struct pd_eks_db_cluster *c,
                                const json_t *list, const char **OUT_why);
/* Cluster c's access entries as a fixtures list (new reference). */
json_t *pd_eks_access_fixtures_export(struct pd_db *db, struct pd_arena *a,
                                      const struct pd_eks_db_cluster *c);

/* ---- eks_podid.c ---- */

/* The Pod Identity association operations (handlers), for eks.c's table. */
int pd_eks_create_podid(struct pd_req *r);
int pd_eks_describe_podid(struct pd_req *r);
int pd_eks_list_podid(struct pd_req *r);
int pd_eks_update_podid(struct pd_req *r);
int pd_eks_delete_podid(struct pd_req *r);
/* The authz hook's part for them: 1 when op is one (need filled: the action on the cluster
 * or association ARN, eks:clusterName, resource tags, iam:PassRole on the role and target
 * role with iam:PassedToService pods.eks.amazonaws.com), 0 when not. */
int pd_eks_podid_authz(struct pd_req *r, struct pd_authz_need *need);

#endif
