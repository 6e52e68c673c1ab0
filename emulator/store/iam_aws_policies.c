/*
 * iam_aws_policies.c - a small built-in set of AWS managed policies (see iam_db.h).
 *
 * Data, not code: names, paths, default versions, dates and documents as AWS publishes them
 * in the AWS Managed Policy Reference (documents are facts; dates to the minute where the
 * reference gives only minutes). Policy ids are AWS's as recalled from public listings.
 * They can be attached, listed (Scope=AWS) and read (GetPolicy, GetPolicyVersion) in every
 * account; they cannot be changed. Adding one is adding an entry here.
 */
#include <stddef.h>

#include "store/iam_db.h"

const struct pd_iam_aws_policy pd_iam_aws_policies[] = {
    {"AdministratorAccess", "/", "ANPAIWMBCKSKIEE64ZLYK",
     "Provides full access to AWS services and resources.", "v1", 1423247986000LL, 1423247986000LL,
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\","
     "\"Resource\":\"*\"}]}"},
    {"AmazonS3FullAccess", "/", "ANPAIFIR6V6BVTRAHWINE",
     "Provides full access to all buckets via the AWS Management Console.", "v2", 1423248058000LL,
     1632773760000LL,
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:*\","
     "\"s3-object-lambda:*\"],\"Resource\":\"*\"}]}"},
    {"AmazonS3ReadOnlyAccess", "/", "ANPAIZTJ4DXE7G6AGAE6M",
     "Provides read only access to all buckets via the AWS Management Console.", "v3",
     1423248059000LL, 1691703060000LL,
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:Get*\","
     "\"s3:List*\",\"s3:Describe*\",\"s3-object-lambda:Get*\",\"s3-object-lambda:List*\"],"
     "\"Resource\":\"*\"}]}"},
    {"IAMFullAccess", "/", "ANPAI7XKCFMBPM3QQRRVQ",
     "Provides full access to IAM via the AWS Management Console.", "v2", 1423248053000LL,
     1561146000000LL,
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iam:*\","
     "\"organizations:DescribeAccount\",\"organizations:DescribeOrganization\","
     "\"organizations:DescribeOrganizationalUnit\",\"organizations:DescribePolicy\","
     "\"organizations:ListChildren\",\"organizations:ListParents\","
     "\"organizations:ListPoliciesForTarget\",\"organizations:ListRoots\","
     "\"organizations:ListPolicies\",\"organizations:ListTargetsForPolicy\"],"
     "\"Resource\":\"*\"}]}"},
    {"IAMReadOnlyAccess", "/", "ANPAJKSO7NDY4T57MWDSQ",
     "Provides read only access to IAM via the AWS Management Console.", "v4", 1423248044000LL,
     1516907460000LL,
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":["
     "\"iam:GenerateCredentialReport\",\"iam:GenerateServiceLastAccessedDetails\","
     "\"iam:Get*\",\"iam:List*\",\"iam:SimulateCustomPolicy\",\"iam:SimulatePrincipalPolicy\"],"
     "\"Resource\":\"*\"}]}"},
    {"PowerUserAccess", "/", "ANPAJYRXTHIB4FOVS3ZXS",
     "Provides full access to AWS services and resources, but does not allow management of "
     "Users and groups.",
     "v12", 1423247987000LL, 1770919140000LL,
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"NotAction\":["
     "\"iam:*\",\"organizations:*\",\"account:*\"],\"Resource\":\"*\"},{\"Effect\":\"Allow\","
     "\"Action\":[\"account:GetAccountInformation\",\"account:GetGovCloudAccountInformation\","
     "\"account:GetPrimaryEmail\",\"account:ListRegions\",\"iam:CreateServiceLinkedRole\","
     "\"iam:DeleteServiceLinkedRole\",\"iam:ListRoles\","
     "\"organizations:DescribeEffectivePolicy\",\"organizations:DescribeOrganization\"],"
     "\"Resource\":\"*\"}]}"},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL},
};
