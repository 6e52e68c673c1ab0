/*
 * arn.h - Amazon Resource Names: split and build.
 *
 * arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, where RESOURCE may itself hold ':' and '/'.
 * Depends on libc and arena.h only.
 */
#ifndef PD_CORE_ARN_H
#define PD_CORE_ARN_H

struct pd_arena;

struct pd_arn {
    const char *partition, *service, *region, *account, *resource; /* arena-owned */
};

/* Split s. Returns PD_OK or PD_EINVAL (fewer than six fields or not starting "arn:"). */
int pd_arn_parse(struct pd_arena *a, const char *s, struct pd_arn *OUT);

/* For "role/path/name" style resources: the type ("role"), the path ("/path/") and the last
 * segment ("name"). Any OUT may be NULL. Returns PD_OK or PD_EINVAL. */
int pd_arn_resource_split(struct pd_arena *a, const char *resource, const char **OUT_type,
                          const char **OUT_path, const char **OUT_name);

#endif
