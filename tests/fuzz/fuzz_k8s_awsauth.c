/*
 * fuzz_k8s_awsauth.c - libFuzzer target: the aws-auth ConfigMap reader (emulator/k8s/awsauth.c,
 * libyaml) and the identity mapping over what it read (emulator/k8s/identity.c).
 *
 * The input is up to three texts separated by NUL bytes: mapRoles, mapUsers, mapAccounts.
 * Invariants beyond "no crash": every usable line has a non-empty ARN and username and
 * non-empty groups within the bounds; no two lines of a key share an ARN (case-insensitive);
 * issues stay within their bound; parsing is deterministic; a caller mapped by an aws-auth
 * line has that line's ARN as its canonical ARN.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "k8s/awsauth.h"
#include "k8s/identity.h"

static void check_lines(const struct pd_awsauth_line *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!v[i].arn || !*v[i].arn || !v[i].username || !*v[i].username)
            abort();
        if (v[i].ngroups > PD_AWSAUTH_MAX_GROUPS)
            abort();
        for (size_t g = 0; g < v[i].ngroups; g++)
            if (!v[i].groups[g] || !*v[i].groups[g])
                abort();
        for (size_t j = i + 1; j < n; j++)
            if (strcasecmp(v[i].arn, v[j].arn) == 0)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pd_awsauth_text t[3] = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
    const char *p = (const char *)data, *end = p + size;
    for (int k = 0; k < 3 && p <= end; k++) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        t[k].p = p;
        t[k].n = nul ? (size_t)(nul - p) : (size_t)(end - p);
        if (!nul)
            break;
        p = nul + 1;
    }
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_awsauth m, m2;
    pd_awsauth_parse(&a, t[0], t[1], t[2], &m);
    pd_awsauth_parse(&a, t[0], t[1], t[2], &m2);
    if (m.nroles != m2.nroles || m.nusers != m2.nusers || m.naccounts != m2.naccounts ||
        m.nissues != m2.nissues)
        abort();
    if (m.nissues > PD_AWSAUTH_MAX_ISSUES)
        abort();
    check_lines(m.roles, m.nroles);
    check_lines(m.users, m.nusers);
    for (size_t i = 0; i < m.nissues; i++)
        if (!pd_awsauth_issue_str(&a, &m.issues[i]))
            abort();
    /* map a caller named by the first role line (as a session) and one by the first user */
    for (size_t k = 0; k < 2; k++) {
        const struct pd_awsauth_line *l =
            k == 0 ? (m.nroles ? &m.roles[0] : NULL) : (m.nusers ? &m.users[0] : NULL);
        if (!l)
            continue;
        const char *name = strrchr(l->arn, '/');
        struct pd_eks_caller c = {
            k == 0 ? pd_arena_printf(&a, "arn:aws:sts::111122223333:assumed-role/%s/s@x",
                                     name ? name + 1 : "r")
                   : l->arn,
            "111122223333", k == 0 ? "AROAFUZZ:s@x" : "AIDAFUZZ", "ASIAFUZZ"};
        struct pd_eks_identity_in in = {
            .mode = PD_EKS_MODE_API_AND_CONFIG_MAP, .caller = &c, .aws_auth = &m};
        struct pd_eks_identity id;
        if (pd_eks_identity_map(&a, &in, &id) != 0)
            abort();
        if (id.by == PD_EKS_BY_AWS_AUTH &&
            (!id.line || !id.canonical_arn || strcasecmp(id.line->arn, id.canonical_arn) != 0 ||
             !id.username))
            abort();
        if (id.by == PD_EKS_NOT_MAPPED && id.username)
            abort();
    }
    pd_arena_cleanup(&a);
    return 0;
}
