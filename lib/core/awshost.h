/*
 * awshost.h - the AWS endpoint host names podiam answers for, as a pure grammar.
 *
 * Recognises the hosts clients dial when nobody tells them podiam's address: the STS, IAM,
 * EKS, Organizations and S3 endpoints (global, regional, FIPS, dual-stack and S3's legacy dash
 * forms), S3 virtual-hosted buckets in front of every S3 form, the EKS OIDC issuer host
 * oidc.eks.REGION.amazonaws.com and eks-auth.REGION.api.aws. REGION must look like a region
 * name (us-east-1, us-gov-west-1, ap-southeast-5), so "s3-echoer-demo" is no legacy
 * "s3-REGION" endpoint. Used for SNI certificates, the proxy's allow list and S3 addressing.
 *
 * Must not: allocate, look anything up, know other hosts (loopback names, hosted issuers:
 * names.c); depends on libc only.
 */
#ifndef PD_CORE_AWSHOST_H
#define PD_CORE_AWSHOST_H

#include <stddef.h>

#define PD_AWSHOST_MAX 253 /* longest DNS name */

enum pd_awshost_svc {
    PD_AWSHOST_NONE = 0,
    PD_AWSHOST_STS,
    PD_AWSHOST_IAM,
    PD_AWSHOST_EKS,
    PD_AWSHOST_EKS_AUTH,
    PD_AWSHOST_S3,
    PD_AWSHOST_OIDC,          /* oidc.eks.REGION.amazonaws.com */
    PD_AWSHOST_ORGANIZATIONS, /* organizations.REGION.amazonaws.com (us-east-1 in aws) */
};

struct pd_awshost {
    enum pd_awshost_svc svc;
    size_t bucket_len; /* S3 virtual-hosted: the bucket is host[0, bucket_len); 0: none */
    size_t region_off; /* the region the host names is host[region_off, +region_len) */
    size_t region_len; /* 0: a global endpoint (sts.amazonaws.com, s3.amazonaws.com) */
    int fips;          /* a FIPS endpoint */
    int dualstack;     /* an S3 dual-stack endpoint */
};

/* Classify the first n bytes of host (ASCII case-insensitive; no port, no trailing dot).
 * Returns the service (also in OUT->svc, OUT may be NULL), PD_AWSHOST_NONE for anything
 * else. A bucket, when there is one, is one or more non-empty DNS labels; its S3 naming
 * rules are not checked here. */
enum pd_awshost_svc pd_awshost_parse(const char *host, size_t n, struct pd_awshost *OUT);

/* Does s[0, n) look like a region name: two letters, one to three words of letters, then a
 * number of one or two digits, joined by single dashes (lower case)? 1 / 0. */
int pd_awshost_region_ok(const char *s, size_t n);

#endif
