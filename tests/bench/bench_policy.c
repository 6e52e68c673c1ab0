/*
 * bench_policy.c - decisions per second of the policy engine on one core.
 *
 * A role session with 5 identity policies (40 statements, most with conditions), a
 * permissions boundary, a session policy and a bucket policy, and a request context of ~30
 * keys. Reports several request shapes: allowed early, allowed by the last statement,
 * implicitly denied (every statement scanned), explicitly denied, and the same with the
 * context rebuilt per request. Not a test: run by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/policy.h"
#include "core/arena.h"

static const char *const policies[5] = {
    /* 1: S3 with ABAC and home folders */
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Sid\":\"List\",\"Effect\":\"Allow\",\"Action\":[\"s3:ListAllMyBuckets\","
    "\"s3:GetBucketLocation\"],\"Resource\":\"arn:aws:s3:::*\"},"
    "{\"Sid\":\"Home\",\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":"
    "\"arn:aws:s3:::corp-data\",\"Condition\":{\"StringLike\":{\"s3:prefix\":[\"\",\"home/\","
    "\"home/${aws:username}/*\"]}}},"
    "{\"Sid\":\"HomeObjects\",\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],"
    "\"Resource\":\"arn:aws:s3:::corp-data/home/${aws:username}/*\"},"
    "{\"Sid\":\"Team\",\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":"
    "\"arn:aws:s3:::corp-data/teams/*\",\"Condition\":{\"StringEquals\":{\"aws:ResourceTag/team\":"
    "\"${aws:PrincipalTag/team}\"}}},"
    "{\"Sid\":\"TLS\",\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":"
    "{\"Bool\":{\"aws:SecureTransport\":\"false\"}}},"
    "{\"Sid\":\"Logs\",\"Effect\":\"Deny\",\"Action\":\"s3:Delete*\",\"Resource\":"
    "\"arn:aws:s3:::*log*\"},"
    "{\"Sid\":\"Region\",\"Effect\":\"Allow\",\"Action\":\"s3:Get*\",\"Resource\":"
    "\"arn:aws:s3:::public-*/*\",\"Condition\":{\"StringEquals\":{\"aws:RequestedRegion\":"
    "[\"us-east-1\",\"eu-west-1\"]}}},"
    "{\"Sid\":\"Tags\",\"Effect\":\"Allow\",\"Action\":\"s3:PutObjectTagging\",\"Resource\":\"*\","
    "\"Condition\":{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":[\"env\",\"team\"]}}}]}",
    /* 2: EC2 */
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Effect\":\"Allow\",\"Action\":\"ec2:Describe*\",\"Resource\":\"*\"},"
    "{\"Effect\":\"Allow\",\"Action\":\"ec2:RunInstances\",\"Resource\":\"*\",\"Condition\":"
    "{\"StringLikeIfExists\":{\"ec2:InstanceType\":[\"t3.*\",\"m5.*\"]}}},"
    "{\"Effect\":\"Allow\",\"Action\":[\"ec2:StartInstances\",\"ec2:StopInstances\"],\"Resource\":"
    "\"arn:aws:ec2:*:111122223333:instance/*\",\"Condition\":{\"StringEquals\":"
    "{\"aws:ResourceTag/owner\":\"${aws:username}\"}}},"
    "{\"Effect\":\"Deny\",\"Action\":\"ec2:TerminateInstances\",\"Resource\":\"*\",\"Condition\":"
    "{\"BoolIfExists\":{\"aws:MultiFactorAuthPresent\":\"false\"}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"ec2:CreateTags\",\"Resource\":\"*\",\"Condition\":"
    "{\"StringEquals\":{\"ec2:CreateAction\":\"RunInstances\"}}},"
    "{\"Effect\":\"Deny\",\"Action\":\"ec2:*\",\"Resource\":\"*\",\"Condition\":{"
    "\"StringNotEquals\":"
    "{\"aws:RequestedRegion\":[\"us-east-1\",\"us-west-2\"]}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"ec2:*Volume*\",\"Resource\":\"*\",\"Condition\":"
    "{\"NumericLessThanEquals\":{\"ec2:VolumeSize\":\"100\"}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"ec2:*SecurityGroup*\",\"Resource\":\"*\",\"Condition\":"
    "{\"ArnLike\":{\"ec2:Vpc\":\"arn:aws:ec2:*:111122223333:vpc/vpc-*\"}}}]}",
    /* 3: DynamoDB and KMS */
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Effect\":\"Allow\",\"Action\":[\"dynamodb:GetItem\",\"dynamodb:Query\"],\"Resource\":"
    "\"arn:aws:dynamodb:*:111122223333:table/Thread\",\"Condition\":{\"ForAllValues:StringLike\":"
    "{\"dynamodb:requestedAttributes\":[\"PostDateTime\",\"Message\",\"Tags\"]}}},"
    "{\"Effect\":\"Deny\",\"Action\":\"dynamodb:PutItem\",\"Resource\":\"*\",\"Condition\":"
    "{\"ForAnyValue:StringLike\":{\"dynamodb:requestedAttributes\":[\"ID\",\"PostDateTime\"]}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"dynamodb:*\",\"Resource\":"
    "\"arn:aws:dynamodb:*:*:table/${aws:username}-*\"},"
    "{\"Effect\":\"Allow\",\"Action\":[\"kms:Decrypt\",\"kms:GenerateDataKey*\"],\"Resource\":\"*"
    "\","
    "\"Condition\":{\"StringEquals\":{\"kms:ViaService\":\"s3.us-east-1.amazonaws.com\"}}},"
    "{\"Effect\":\"Deny\",\"Action\":\"kms:ScheduleKeyDeletion\",\"Resource\":\"*\"},"
    "{\"Effect\":\"Allow\",\"Action\":\"kms:Describe*\",\"Resource\":\"*\",\"Condition\":"
    "{\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01T00:00:00Z\"}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"dynamodb:List*\",\"Resource\":\"*\",\"Condition\":"
    "{\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"192.0.2.0/24\"]}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"kms:Encrypt\",\"Resource\":\"*\",\"Condition\":"
    "{\"Null\":{\"kms:EncryptionContext:app\":\"false\"}}}]}",
    /* 4: IAM self-service */
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Effect\":\"Allow\",\"Action\":[\"iam:GetUser\",\"iam:ChangePassword\"],\"Resource\":"
    "\"arn:aws:iam::*:user/${aws:username}\"},"
    "{\"Effect\":\"Allow\",\"Action\":\"iam:*AccessKey*\",\"Resource\":"
    "\"arn:aws:iam::*:user/${aws:username}\",\"Condition\":{\"Bool\":"
    "{\"aws:MultiFactorAuthPresent\":\"true\"}}},"
    "{\"Effect\":\"Allow\",\"Action\":[\"iam:List*\",\"iam:Get*\"],\"Resource\":\"*\","
    "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}},"
    "{\"Effect\":\"Deny\",\"Action\":\"iam:*Report\",\"Resource\":\"*\"},"
    "{\"Effect\":\"Deny\",\"NotAction\":[\"iam:ChangePassword\",\"iam:GetUser\",\"sts:*\","
    "\"s3:*\",\"ec2:*\",\"dynamodb:*\",\"kms:*\",\"logs:*\",\"iam:*\"],\"Resource\":\"*\"},"
    "{\"Effect\":\"Allow\",\"Action\":\"iam:PassRole\",\"Resource\":\"arn:aws:iam::*:role/app-*\","
    "\"Condition\":{\"StringEquals\":{\"iam:PassedToService\":\"ec2.amazonaws.com\"}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"iam:TagUser\",\"Resource\":\"*\",\"Condition\":"
    "{\"ForAllValues:StringNotLike\":{\"aws:TagKeys\":\"aws:*\"}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"iam:CreateServiceLinkedRole\",\"Resource\":\"*\","
    "\"Condition\":{\"StringLike\":{\"iam:AWSServiceName\":\"*.amazonaws.com\"}}}]}",
    /* 5: logs, sts and the rest */
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Effect\":\"Allow\",\"Action\":\"logs:*\",\"Resource\":\"arn:aws:logs:*:*:log-group:/app/"
    "*\"},"
    "{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"arn:aws:iam::*:role/x-*\","
    "\"Condition\":{\"StringEquals\":{\"aws:PrincipalTag/team\":\"red\"}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"sts:TagSession\",\"Resource\":\"*\",\"Condition\":"
    "{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":\"project\"}}},"
    "{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{\"DateGreaterThan\":"
    "{\"aws:TokenIssueTime\":\"2099-01-01T00:00:00Z\"}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"cloudwatch:PutMetricData\",\"Resource\":\"*\","
    "\"Condition\":{\"StringEquals\":{\"cloudwatch:namespace\":\"App\"}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"sqs:*\",\"Resource\":\"arn:aws:sqs:*:*:${aws:username}-*\"}"
    ","
    "{\"Effect\":\"Allow\",\"Action\":\"sns:Publish\",\"Resource\":\"*\",\"Condition\":"
    "{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:sns:us-east-1:111122223333:t\"}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::corp-data/"
    "shared/*\",\"Condition\":{\"StringEqualsIgnoreCase\":{\"aws:PrincipalTag/dept\":"
    "\"ENGINEERING\"}}}]}",
};

static const char *boundary_doc =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:*\","
    "\"ec2:*\",\"dynamodb:*\",\"kms:*\",\"iam:*\",\"logs:*\",\"sts:*\",\"sqs:*\",\"sns:*\","
    "\"cloudwatch:*\"],\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Action\":\"iam:CreateUser\","
    "\"Resource\":\"*\"}]}";
static const char *session_doc =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"NotAction\":\"iam:*\","
    "\"Resource\":\"*\"}]}";
static const char *bucket_doc =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"TLS\",\"Effect\":\"Deny\",\"Principal\":"
    "\"*\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::corp-data\","
    "\"arn:aws:s3:::corp-data/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}},"
    "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::444455556666:root\"},\"Action\":"
    "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::corp-data/shared/*\"}]}";

static struct pd_policy *compile(const char *t, enum pd_policy_kind k)
{
    char err[256];
    const char *msg;
    struct pd_policy *p;
    if (pd_policy_compile(t, strlen(t), k, err, sizeof err, &p, &msg)) {
        fprintf(stderr, "bench policy does not compile: %s\n", msg);
        exit(1);
    }
    return p;
}

static void build_ctx(struct pd_ctx *c, struct pd_arena *a)
{
    static const char *const kv[][2] = {
        {"aws:username", "alice"},
        {"aws:userid", "AROAEXAMPLEAPPROLE001:alice"},
        {"aws:PrincipalArn", "arn:aws:iam::111122223333:role/app"},
        {"aws:PrincipalAccount", "111122223333"},
        {"aws:PrincipalType", "AssumedRole"},
        {"aws:PrincipalTag/team", "blue"},
        {"aws:PrincipalTag/dept", "engineering"},
        {"aws:SourceIp", "203.0.113.7"},
        {"aws:SecureTransport", "true"},
        {"aws:CurrentTime", "2026-11-26T10:00:00Z"},
        {"aws:EpochTime", "1795687200"},
        {"aws:TokenIssueTime", "2026-11-26T09:00:00Z"},
        {"aws:MultiFactorAuthPresent", "false"},
        {"aws:RequestedRegion", "us-east-1"},
        {"aws:UserAgent", "aws-cli/2.15.0"},
        {"aws:ResourceTag/team", "blue"},
        {"aws:ResourceAccount", "111122223333"},
        {"aws:ViaAWSService", "false"},
        {"aws:CalledVia", "s3.amazonaws.com"},
        {"aws:SourceVpc", "vpc-1"},
        {"s3:prefix", "home/alice/"},
        {"s3:max-keys", "100"},
        {"s3:x-amz-acl", "private"},
        {"s3:signatureversion", "AWS4-HMAC-SHA256"},
        {"s3:authType", "REST-HEADER"},
        {"s3:TlsVersion", "1.3"},
        {"s3:x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
        {"aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:t"},
    };
    pd_ctx_init(c, a);
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        pd_ctx_add(c, kv[i][0], PD_CTX_STRING, kv[i][1], (size_t)-1);
    pd_ctx_add(c, "aws:TagKeys", PD_CTX_STRING, "env", (size_t)-1);
    pd_ctx_add(c, "aws:TagKeys", PD_CTX_STRING, "team", (size_t)-1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct shape {
    const char *name, *action, *resource;
    enum pd_decision want;
};

int main(int argc, char **argv)
{
    long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    struct pd_policy *p[5];
    struct pd_policy_ref id[5];
    size_t nstmt = 0;
    for (int i = 0; i < 5; i++) {
        p[i] = compile(policies[i], PD_POLICY_MANAGED);
        id[i] = (struct pd_policy_ref){p[i], "policy", PD_SRC_CUSTOMER_MANAGED};
        nstmt += pd_policy_statement_count(p[i]);
    }
    struct pd_policy *bp = compile(boundary_doc, PD_POLICY_BOUNDARY);
    struct pd_policy *sp = compile(session_doc, PD_POLICY_SESSION);
    struct pd_policy *rp = compile(bucket_doc, PD_POLICY_RESOURCE);
    struct pd_policy_ref bref = {bp, "boundary", PD_SRC_BOUNDARY};
    struct pd_policy_ref sref = {sp, "session", PD_SRC_SESSION};
    struct pd_policy_ref rref = {rp, "bucket", PD_SRC_RESOURCE};
    printf("role with %d identity policies, %zu statements; boundary, session policy, bucket "
           "policy; %ld iterations each\n",
           5, nstmt, iters);

    static const struct shape shapes[] = {
        {"allowed (home folder, policy 1)", "s3:GetObject",
         "arn:aws:s3:::corp-data/home/alice/a.txt", PD_DECISION_ALLOW},
        {"allowed (last statement, policy 5)", "s3:GetObject", "arn:aws:s3:::corp-data/shared/x",
         PD_DECISION_ALLOW},
        {"implicit deny (all statements)", "s3:GetObject", "arn:aws:s3:::corp-data/home/bob/a",
         PD_DECISION_IMPLICIT_DENY},
        {"explicit deny (iam:*Report)", "iam:GenerateCredentialReport", "*",
         PD_DECISION_EXPLICIT_DENY},
    };
    struct pd_arena a;
    pd_arena_init(&a);
    struct pd_ctx ctx;
    build_ctx(&ctx, &a);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        for (int with_ctx = 0; with_ctx < 2; with_ctx++) {
            struct pd_authz q;
            memset(&q, 0, sizeof q);
            q.action = shapes[s].action;
            q.resources = &shapes[s].resource;
            q.nresources = 1;
            q.who.type = PD_PRINCIPAL_ROLE_SESSION;
            q.who.arn = "arn:aws:sts::111122223333:assumed-role/app/alice";
            q.who.account = "111122223333";
            q.who.role_arn = "arn:aws:iam::111122223333:role/app";
            q.who.unique_id = "AROAEXAMPLEAPPROLE001:alice";
            q.identity = id;
            q.nidentity = 5;
            q.boundary = &bref;
            q.session = &sref;
            q.nsession = 1;
            q.resource_policy = &rref;
            q.ctx = &ctx;
            struct pd_arena ra;
            pd_arena_init(&ra);
            struct pd_authz_result r;
            double t0 = now();
            for (long i = 0; i < iters; i++) {
                if (with_ctx) {
                    struct pd_ctx c2;
                    build_ctx(&c2, &ra);
                    q.ctx = &c2;
                    pd_policy_authorize(&ra, &q, &r);
                    pd_arena_cleanup(&ra);
                } else {
                    pd_policy_authorize(&ra, &q, &r);
                    if ((i & 1023) == 0)
                        pd_arena_cleanup(&ra);
                }
            }
            double dt = now() - t0;
            pd_arena_cleanup(&ra);
            if (r.decision != shapes[s].want) {
                fprintf(stderr, "%s: unexpected decision %s\n", shapes[s].name,
                        pd_decision_name(r.decision));
                return 1;
            }
            printf("%-38s %-14s %s %10.0f decisions/s (%.0f ns each)\n", shapes[s].name,
                   pd_decision_name(r.decision), with_ctx ? "+ctx build" : "          ",
                   (double)iters / dt, dt / (double)iters * 1e9);
        }
    }
    pd_arena_cleanup(&a);
    for (int i = 0; i < 5; i++)
        pd_policy_free(p[i]);
    pd_policy_free(bp);
    pd_policy_free(sp);
    pd_policy_free(rp);
    return 0;
}
