#!/usr/bin/env python3
"""Goldens for podiam's protocol codecs (emulator/proto), recorded with botocore itself.

Two directions, so the C unit test (tests/unit/test_proto_codec.c) runs without Python:

  requests/<case>.json   botocore's own serializers (botocore.serialize.create_serializer)
                         turn representative parameters into wire bytes: method, path,
                         query, headers, body. The file also holds the input JSON our
                         decoder must produce (timestamps as epoch milliseconds, blobs as
                         their bytes).
  responses/<case>.json  an output (or error) as a handler fills it, the wire bytes our
                         encoder produced for it ("wire", written by the C test when
                         PODIAM_CODEC_REGEN=1), and what botocore's parsers
                         (botocore.parsers.create_parser) must read back ("expect").

Re-recording, from the repository root:
  python3 tests/data/codec/record.py write       # (re)write every case file; keeps "wire"
  PODIAM_CODEC_REGEN=1 ctest --test-dir build -R proto_codec   # C encoder fills "wire"
  python3 tests/data/codec/record.py check       # botocore parses each "wire" == "expect"
  ctest --test-dir build -R proto_codec          # the goldens now pin the encoder
Review the diff of responses/ before committing: "check" is what proves them right.
"""
import base64
import datetime
import json
import os
import sys
import urllib.parse

import botocore.session
from botocore import handlers, parsers, serialize
from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.model import ServiceModel

HERE = os.path.dirname(os.path.abspath(__file__))
ENDPOINTS = {
    "iam": "https://iam.amazonaws.com",
    "sts": "https://sts.amazonaws.com",
    "eks": "https://eks.us-east-1.amazonaws.com",
    "eks-auth": "https://eks-auth.us-east-1.api.aws",
    "s3": "https://s3.us-east-1.amazonaws.com",
    "organizations": "https://organizations.us-east-1.amazonaws.com",
}
_models = {}


def model(service):
    if service not in _models:
        loader = botocore.session.get_session().get_component("data_loader")
        _models[service] = ServiceModel(loader.load_service_model(service, "service-2"), service)
    return _models[service]


def T(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S%z")


def to_json(v):
    """Parameters as podiam's decoder gives them: datetimes -> epoch ms, bytes -> text."""
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, datetime.datetime):
        return int(v.timestamp() * 1000)
    if isinstance(v, bytes):
        return v.decode("utf-8")
    return v


POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                     "Condition": {"StringEquals": {"aws:PrincipalTag/team": "a&b <c>"}}}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
    "Federated": "arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/AB"},
    "Action": "sts:AssumeRoleWithWebIdentity"}]})

# (case, service, operation, params, streaming body the decoder leaves out)
REQUESTS = [
    ("iam_create_role", "iam", "CreateRole", {
        "Path": "/app/", "RoleName": "app-role", "AssumeRolePolicyDocument": TRUST,
        "Description": "Role for the app = 1 + 1 & more", "MaxSessionDuration": 7200,
        "PermissionsBoundary": "arn:aws:iam::000000000000:policy/boundary",
        "Tags": [{"Key": "team", "Value": "platform"}, {"Key": "env", "Value": "dev ü"}]}),
    ("iam_put_role_policy", "iam", "PutRolePolicy", {
        "RoleName": "app-role", "PolicyName": "s3-read", "PolicyDocument": POLICY}),
    ("iam_simulate_custom_policy", "iam", "SimulateCustomPolicy", {
        "PolicyInputList": [POLICY], "ActionNames": ["s3:GetObject", "s3:PutObject"],
        "ResourceArns": ["arn:aws:s3:::b/k"], "CallerArn": "arn:aws:iam::000000000000:user/u",
        "ContextEntries": [
            {"ContextKeyName": "aws:PrincipalTag/team", "ContextKeyValues": ["a&b <c>"],
             "ContextKeyType": "string"},
            {"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": ["2026-01-01T00:00:00Z"],
             "ContextKeyType": "date"}],
        "MaxItems": 50}),
    ("iam_list_roles", "iam", "ListRoles", {"PathPrefix": "/app/", "MaxItems": 10,
                                            "Marker": "abc=="}),
    ("iam_get_user_empty", "iam", "GetUser", {}),
    ("iam_create_oidc_provider", "iam", "CreateOpenIDConnectProvider", {
        "Url": "https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF",
        "ClientIDList": ["sts.amazonaws.com"],
        "ThumbprintList": ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]}),
    ("sts_assume_role", "sts", "AssumeRole", {
        "RoleArn": "arn:aws:iam::000000000000:role/app-role", "RoleSessionName": "sess-1",
        "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
                       {"arn": "arn:aws:iam::000000000000:policy/p2"}],
        "Policy": POLICY, "DurationSeconds": 900,
        "Tags": [{"Key": "project", "Value": "x"}], "TransitiveTagKeys": ["project"],
        "ExternalId": "ext-id", "SourceIdentity": "alice"}),
    ("sts_assume_role_web_identity", "sts", "AssumeRoleWithWebIdentity", {
        "RoleArn": "arn:aws:iam::000000000000:role/app-role", "RoleSessionName": "pod",
        "WebIdentityToken": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzIn0.c2ln"}),
    ("sts_get_caller_identity", "sts", "GetCallerIdentity", {}),
    ("eks_create_cluster", "eks", "CreateCluster", {
        "name": "demo", "version": "1.31", "roleArn": "arn:aws:iam::000000000000:role/eks",
        "resourcesVpcConfig": {"subnetIds": ["subnet-1", "subnet-2"],
                               "securityGroupIds": ["sg-1"], "endpointPublicAccess": True,
                               "endpointPrivateAccess": False},
        "logging": {"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]},
        "tags": {"team": "platform", "cost center": "42"},
        "clientRequestToken": "token-1",
        "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"}}),
    ("eks_list_clusters", "eks", "ListClusters", {"maxResults": 20, "nextToken": "n/x+y=",
                                                  "include": ["all", "other"]}),
    ("eks_describe_cluster", "eks", "DescribeCluster", {"name": "demo"}),
    ("eks_tag_resource", "eks", "TagResource", {
        "resourceArn": "arn:aws:eks:us-east-1:000000000000:cluster/demo",
        "tags": {"a": "1"}}),
    ("eks_untag_resource", "eks", "UntagResource", {
        "resourceArn": "arn:aws:eks:us-east-1:000000000000:cluster/demo",
        "tagKeys": ["a", "b c"]}),
    ("eks_list_updates", "eks", "ListUpdates", {"name": "demo", "nodegroupName": "ng",
                                                "maxResults": 5}),
    ("eksauth_assume_role_pod", "eks-auth", "AssumeRoleForPodIdentity", {
        "clusterName": "demo", "token": "aaa.bbb.ccc"}),
    ("s3_put_object", "s3", "PutObject", {
        "Bucket": "bkt", "Key": "dir/a b+c%.txt", "Body": b"hello",
        "ContentType": "text/plain", "CacheControl": "no-cache",
        "Metadata": {"owner": "alice", "note": "x y"}, "ACL": "private",
        "StorageClass": "STANDARD", "Tagging": "a=1&b=2", "ContentLength": 5,
        "ObjectLockRetainUntilDate": T("2027-01-01T00:00:00+0000")}),
    ("s3_get_object", "s3", "GetObject", {
        "Bucket": "bkt", "Key": "k", "Range": "bytes=0-9",
        "IfModifiedSince": T("2026-01-02T03:04:05+0000"), "VersionId": "v1",
        "ResponseContentType": "application/json"}),
    ("s3_head_object", "s3", "HeadObject", {"Bucket": "bkt", "Key": "a/b/c"}),
    ("s3_copy_object", "s3", "CopyObject", {
        "Bucket": "bkt", "Key": "dst", "CopySource": "src-bkt/src/key",
        "MetadataDirective": "REPLACE", "Metadata": {"k": "v"}}),
    ("s3_create_multipart", "s3", "CreateMultipartUpload", {"Bucket": "bkt", "Key": "big"}),
    ("s3_upload_part", "s3", "UploadPart", {
        "Bucket": "bkt", "Key": "big", "UploadId": "up-1", "PartNumber": 2, "Body": b"xx"}),
    ("s3_upload_part_copy", "s3", "UploadPartCopy", {
        "Bucket": "bkt", "Key": "big", "UploadId": "up-1", "PartNumber": 3,
        "CopySource": "src/k", "CopySourceRange": "bytes=0-4"}),
    ("s3_complete_multipart", "s3", "CompleteMultipartUpload", {
        "Bucket": "bkt", "Key": "big", "UploadId": "up-1",
        "MultipartUpload": {"Parts": [{"ETag": "\"e1\"", "PartNumber": 1},
                                      {"ETag": "\"e2\"", "PartNumber": 2}]}}),
    ("s3_list_parts", "s3", "ListParts", {"Bucket": "bkt", "Key": "big", "UploadId": "up-1"}),
    ("s3_delete_objects", "s3", "DeleteObjects", {
        "Bucket": "bkt", "Delete": {"Objects": [{"Key": "a"}, {"Key": "b&c", "VersionId": "v"}],
                                    "Quiet": True}}),
    ("s3_list_objects_v2", "s3", "ListObjectsV2", {
        "Bucket": "bkt", "Prefix": "dir/", "Delimiter": "/", "MaxKeys": 100,
        "ContinuationToken": "tok+/=", "StartAfter": "dir/a", "FetchOwner": True}),
    ("s3_list_objects", "s3", "ListObjects", {"Bucket": "bkt", "Marker": "m"}),
    ("s3_list_buckets", "s3", "ListBuckets", {}),
    ("s3_create_bucket", "s3", "CreateBucket", {
        "Bucket": "bkt", "ACL": "private",
        "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}),
    ("s3_put_bucket_policy", "s3", "PutBucketPolicy", {"Bucket": "bkt", "Policy": POLICY}),
    ("s3_put_object_tagging", "s3", "PutObjectTagging", {
        "Bucket": "bkt", "Key": "k", "Tagging": {"TagSet": [{"Key": "a", "Value": "1"},
                                                            {"Key": "b", "Value": "2"}]}}),
    ("s3_get_bucket_location", "s3", "GetBucketLocation", {"Bucket": "bkt"}),
    ("s3_delete_object", "s3", "DeleteObject", {"Bucket": "bkt", "Key": "k", "VersionId": "v"}),
    ("org_create_policy", "organizations", "CreatePolicy", {
        "Content": POLICY, "Description": "deny outside eu & <more>", "Name": "region-deny",
        "Type": "SERVICE_CONTROL_POLICY", "Tags": [{"Key": "team", "Value": "sec"}]}),
    ("org_attach_policy", "organizations", "AttachPolicy", {
        "PolicyId": "p-abcd1234", "TargetId": "ou-ab12-11111111"}),
    ("org_list_policies_for_target", "organizations", "ListPoliciesForTarget", {
        "TargetId": "111122223333", "Filter": "RESOURCE_CONTROL_POLICY", "MaxResults": 5,
        "NextToken": "t/+="}),
    ("org_describe_organization", "organizations", "DescribeOrganization", {}),
    ("s3_put_bucket_acl", "s3", "PutBucketAcl", {
        "Bucket": "bkt", "AccessControlPolicy": {
            "Owner": {"ID": "owner-id"},
            "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "id-1"},
                        "Permission": "READ"}]}}),
]

STREAMING = {("s3", "PutObject"): "Body", ("s3", "UploadPart"): "Body"}


def record_request(case, service, opname, params):
    m = model(service)
    op = m.operation_model(opname)
    ser = serialize.create_serializer(m.metadata["protocol"], include_validation=True)
    req = ser.serialize_to_request(params, op)
    prepare_request_dict(req, endpoint_url=ENDPOINTS[service])
    prep = create_request_object(req).prepare()
    url = urllib.parse.urlsplit(prep.url)
    body = prep.body or b""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if hasattr(body, "read"):
        body = body.read()
    expected = to_json(params)
    # header-bound members the HTTP layer adds by itself (Content-Length, Content-MD5)
    for name, member in op.input_shape.members.items() if op.input_shape else []:
        hdr = member.serialization.get("name")
        if (member.serialization.get("location") == "header" and name not in params
                and hdr in prep.headers):
            v = prep.headers[hdr]
            expected[name] = int(v) if member.type_name in ("integer", "long") else v
    stream = STREAMING.get((service, opname))
    if stream:
        expected.pop(stream, None)
    return {
        "service": service, "operation": opname, "method": prep.method,
        "path": url.path or "/", "query": url.query,
        "headers": [[k, v if isinstance(v, str) else v.decode()] for k, v in prep.headers.items()],
        "body": body.decode("utf-8"),
        "expected": expected,
    }


# Responses: (case, service, operation, handler output, what botocore must parse)
ROLE = {"Path": "/app/", "RoleName": "app-role", "RoleId": "AROAAAAAAAAAAAAAAAAAA",
        "Arn": "arn:aws:iam::000000000000:role/app/app-role", "CreateDate": 1767225600000,
        "AssumeRolePolicyDocument": urllib.parse.quote(TRUST), "MaxSessionDuration": 3600,
        "Tags": [{"Key": "team", "Value": "a<b>&c"}],
        "RoleLastUsed": {"LastUsedDate": 1767312000123, "Region": "us-east-1"}}
ROLE_P = dict(ROLE, CreateDate="2026-01-01T00:00:00+00:00",
              RoleLastUsed={"LastUsedDate": "2026-01-02T00:00:00+00:00", "Region": "us-east-1"})
CLUSTER = {"name": "demo", "arn": "arn:aws:eks:us-east-1:000000000000:cluster/demo",
           "createdAt": 1767225600500, "version": "1.31", "status": "ACTIVE",
           "endpoint": "https://ABC.gr7.us-east-1.eks.amazonaws.com",
           "roleArn": "arn:aws:iam::000000000000:role/eks",
           "identity": {"oidc": {"issuer": "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"}},
           "certificateAuthority": {"data": "TFMwdExTMUNSVWRKVGc9PQ=="},
           "resourcesVpcConfig": {"subnetIds": ["subnet-1"], "endpointPublicAccess": True},
           "tags": {"team": "platform"}}
CLUSTER_P = dict(CLUSTER, createdAt="2026-01-01T00:00:00.500000+00:00")

RESPONSES = [
    ("iam_create_role", "iam", "CreateRole", {"Role": ROLE}, {"Role": ROLE_P}),
    ("iam_list_roles", "iam", "ListRoles",
     {"Roles": [ROLE, dict(ROLE, RoleName="r2", Tags=[])], "IsTruncated": True, "Marker": "m1"},
     {"Roles": [ROLE_P, dict(ROLE_P, RoleName="r2", Tags=[])], "IsTruncated": True,
      "Marker": "m1"}),
    ("iam_put_role_policy", "iam", "PutRolePolicy", None, {}),
    ("iam_get_role_policy", "iam", "GetRolePolicy",
     {"RoleName": "r", "PolicyName": "p", "PolicyDocument": urllib.parse.quote(POLICY)},
     {"RoleName": "r", "PolicyName": "p", "PolicyDocument": urllib.parse.quote(POLICY)}),
    ("iam_simulate_custom_policy", "iam", "SimulateCustomPolicy",
     {"EvaluationResults": [{
         "EvalActionName": "s3:GetObject", "EvalResourceName": "arn:aws:s3:::b/k",
         "EvalDecision": "allowed",
         "MatchedStatements": [{"SourcePolicyId": "PolicyInputList.1",
                                "StartPosition": {"Line": 1, "Column": 2},
                                "EndPosition": {"Line": 1, "Column": 200}}],
         "MissingContextValues": [],
         "EvalDecisionDetails": {"IAM Policy": "allowed"}}],
      "IsTruncated": False},
     {"EvaluationResults": [{
         "EvalActionName": "s3:GetObject", "EvalResourceName": "arn:aws:s3:::b/k",
         "EvalDecision": "allowed",
         "MatchedStatements": [{"SourcePolicyId": "PolicyInputList.1",
                                "StartPosition": {"Line": 1, "Column": 2},
                                "EndPosition": {"Line": 1, "Column": 200}}],
         "MissingContextValues": [],
         "EvalDecisionDetails": {"IAM Policy": "allowed"}}],
      "IsTruncated": False}),
    ("iam_get_credential_report", "iam", "GetCredentialReport",
     {"Content": "user,arn\nroot,arn:aws:iam::000000000000:root\n", "ReportFormat": "text/csv",
      "GeneratedTime": 1767225600000},
     {"Content": "user,arn\nroot,arn:aws:iam::000000000000:root\n", "ReportFormat": "text/csv",
      "GeneratedTime": "2026-01-01T00:00:00+00:00"}),
    ("sts_assume_role", "sts", "AssumeRole",
     {"Credentials": {"AccessKeyId": "ASIAAAAAAAAAAAAAAAAA", "SecretAccessKey": "s/e+c=",
                      "SessionToken": "tok", "Expiration": 1767229200000},
      "AssumedRoleUser": {"AssumedRoleId": "AROAAAAAAAAAAAAAAAAAA:sess-1",
                          "Arn": "arn:aws:sts::000000000000:assumed-role/app-role/sess-1"},
      "PackedPolicySize": 6, "SourceIdentity": "alice"},
     {"Credentials": {"AccessKeyId": "ASIAAAAAAAAAAAAAAAAA", "SecretAccessKey": "s/e+c=",
                      "SessionToken": "tok", "Expiration": "2026-01-01T01:00:00+00:00"},
      "AssumedRoleUser": {"AssumedRoleId": "AROAAAAAAAAAAAAAAAAAA:sess-1",
                          "Arn": "arn:aws:sts::000000000000:assumed-role/app-role/sess-1"},
      "PackedPolicySize": 6, "SourceIdentity": "alice"}),
    ("sts_get_caller_identity", "sts", "GetCallerIdentity",
     {"UserId": "AIDAAAAAAAAAAAAAAAAAA", "Account": "000000000000",
      "Arn": "arn:aws:iam::000000000000:user/u"},
     {"UserId": "AIDAAAAAAAAAAAAAAAAAA", "Account": "000000000000",
      "Arn": "arn:aws:iam::000000000000:user/u"}),
    ("eks_create_cluster", "eks", "CreateCluster", {"cluster": CLUSTER}, {"cluster": CLUSTER_P}),
    ("eks_list_clusters", "eks", "ListClusters", {"clusters": ["a", "b"], "nextToken": "n"},
     {"clusters": ["a", "b"], "nextToken": "n"}),
    ("eks_delete_cluster", "eks", "DeleteCluster", {"cluster": {"name": "demo",
                                                                "status": "DELETING"}},
     {"cluster": {"name": "demo", "status": "DELETING"}}),
    ("eksauth_assume_role_pod", "eks-auth", "AssumeRoleForPodIdentity",
     {"subject": {"namespace": "ns", "serviceAccount": "sa"},
      "audience": "pods.eks.amazonaws.com",
      "podIdentityAssociation": {"associationArn": "arn:a", "associationId": "a-1"},
      "assumedRoleUser": {"arn": "arn:aws:sts::000000000000:assumed-role/r/s",
                          "assumeRoleId": "AROA:s"},
      "credentials": {"sessionToken": "t", "secretAccessKey": "k", "accessKeyId": "ASIA",
                      "expiration": 1767229200000}},
     {"subject": {"namespace": "ns", "serviceAccount": "sa"},
      "audience": "pods.eks.amazonaws.com",
      "podIdentityAssociation": {"associationArn": "arn:a", "associationId": "a-1"},
      "assumedRoleUser": {"arn": "arn:aws:sts::000000000000:assumed-role/r/s",
                          "assumeRoleId": "AROA:s"},
      "credentials": {"sessionToken": "t", "secretAccessKey": "k", "accessKeyId": "ASIA",
                      "expiration": "2026-01-01T01:00:00+00:00"}}),
    ("s3_list_objects_v2", "s3", "ListObjectsV2",
     {"IsTruncated": True, "Name": "bkt", "Prefix": "dir/", "Delimiter": "/", "MaxKeys": 2,
      "KeyCount": 2, "NextContinuationToken": "nct", "EncodingType": "url",
      "Contents": [{"Key": "dir/a&b", "LastModified": 1767225600000, "ETag": "\"e1\"",
                    "Size": 5, "StorageClass": "STANDARD",
                    "Owner": {"ID": "o1", "DisplayName": "alice"}},
                   {"Key": "dir/c", "LastModified": 1767225600123, "ETag": "\"e2\"",
                    "Size": 0, "StorageClass": "STANDARD"}],
      "CommonPrefixes": [{"Prefix": "dir/sub/"}]},
     {"IsTruncated": True, "Name": "bkt", "Prefix": "dir/", "Delimiter": "/", "MaxKeys": 2,
      "KeyCount": 2, "NextContinuationToken": "nct", "EncodingType": "url",
      "Contents": [{"Key": "dir/a&b", "LastModified": "2026-01-01T00:00:00+00:00",
                    "ETag": "\"e1\"", "Size": 5, "StorageClass": "STANDARD",
                    "Owner": {"ID": "o1", "DisplayName": "alice"}},
                   {"Key": "dir/c", "LastModified": "2026-01-01T00:00:00.123000+00:00",
                    "ETag": "\"e2\"", "Size": 0, "StorageClass": "STANDARD"}],
      "CommonPrefixes": [{"Prefix": "dir/sub/"}]}),
    ("s3_get_object", "s3", "GetObject",
     {"ContentLength": 5, "ContentType": "text/plain", "ETag": "\"e1\"",
      "LastModified": 1767225600000, "Metadata": {"owner": "alice"}, "VersionId": "v1",
      "AcceptRanges": "bytes", "Body": "hello"},
     {"ContentLength": 5, "ContentType": "text/plain", "ETag": "\"e1\"",
      "LastModified": "2026-01-01T00:00:00+00:00", "Metadata": {"owner": "alice"},
      "VersionId": "v1", "AcceptRanges": "bytes"}),
    ("s3_head_object", "s3", "HeadObject",
     {"ContentLength": 5, "ETag": "\"e1\"", "LastModified": 1767225600000,
      "Metadata": {"a": "1", "b": "2"}, "StorageClass": "STANDARD_IA"},
     {"ContentLength": 5, "ETag": "\"e1\"", "LastModified": "2026-01-01T00:00:00+00:00",
      "Metadata": {"a": "1", "b": "2"}, "StorageClass": "STANDARD_IA"}),
    ("s3_put_object", "s3", "PutObject", {"ETag": "\"e1\"", "VersionId": "v2"},
     {"ETag": "\"e1\"", "VersionId": "v2"}),
    ("s3_create_multipart", "s3", "CreateMultipartUpload",
     {"Bucket": "bkt", "Key": "big", "UploadId": "up-1"},
     {"Bucket": "bkt", "Key": "big", "UploadId": "up-1"}),
    ("s3_complete_multipart", "s3", "CompleteMultipartUpload",
     {"Location": "http://bkt.s3.localhost/big", "Bucket": "bkt", "Key": "big",
      "ETag": "\"e-2\"", "VersionId": "v3"},
     {"Location": "http://bkt.s3.localhost/big", "Bucket": "bkt", "Key": "big",
      "ETag": "\"e-2\"", "VersionId": "v3"}),
    ("s3_delete_objects", "s3", "DeleteObjects",
     {"Deleted": [{"Key": "a"}, {"Key": "b", "VersionId": "v", "DeleteMarker": True}],
      "Errors": [{"Key": "c", "Code": "AccessDenied", "Message": "Access Denied"}]},
     {"Deleted": [{"Key": "a"}, {"Key": "b", "VersionId": "v", "DeleteMarker": True}],
      "Errors": [{"Key": "c", "Code": "AccessDenied", "Message": "Access Denied"}]}),
    ("s3_list_buckets", "s3", "ListBuckets",
     {"Buckets": [{"Name": "a", "CreationDate": 1767225600000, "BucketRegion": "us-east-1"},
                  {"Name": "b", "CreationDate": 1767225601000}],
      "Owner": {"ID": "o1", "DisplayName": "root"}},
     {"Buckets": [{"Name": "a", "CreationDate": "2026-01-01T00:00:00+00:00",
                   "BucketRegion": "us-east-1"},
                  {"Name": "b", "CreationDate": "2026-01-01T00:00:01+00:00"}],
      "Owner": {"ID": "o1", "DisplayName": "root"}}),
    ("s3_get_bucket_location", "s3", "GetBucketLocation", {"LocationConstraint": "eu-west-1"},
     {"LocationConstraint": "eu-west-1"}),
    ("s3_get_object_tagging", "s3", "GetObjectTagging",
     {"VersionId": "v1", "TagSet": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]},
     {"VersionId": "v1", "TagSet": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}),
    ("s3_copy_object", "s3", "CopyObject",
     {"CopyObjectResult": {"ETag": "\"e1\"", "LastModified": 1767225600000},
      "VersionId": "v9"},
     {"CopyObjectResult": {"ETag": "\"e1\"", "LastModified": "2026-01-01T00:00:00+00:00"},
      "VersionId": "v9"}),
    ("s3_get_bucket_policy", "s3", "GetBucketPolicy", {"Policy": POLICY}, {"Policy": POLICY}),
    ("s3_get_bucket_acl", "s3", "GetBucketAcl",
     {"Owner": {"ID": "o1"},
      "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "o1"},
                  "Permission": "FULL_CONTROL"},
                 {"Grantee": {"Type": "Group",
                              "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                  "Permission": "READ"}]},
     {"Owner": {"ID": "o1"},
      "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "o1"},
                  "Permission": "FULL_CONTROL"},
                 {"Grantee": {"Type": "Group",
                              "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                  "Permission": "READ"}]}),
    ("s3_delete_object", "s3", "DeleteObject", {"DeleteMarker": True, "VersionId": "v"},
     {"DeleteMarker": True, "VersionId": "v"}),
    ("org_list_accounts", "organizations", "ListAccounts",
     {"Accounts": [{"Id": "111122223333", "Arn": "arn:aws:organizations::111122223333:account/"
                    "o-aa111bb222/111122223333", "Email": "a@example.com", "Name": "mgmt",
                    "Status": "ACTIVE", "JoinedMethod": "CREATED",
                    "JoinedTimestamp": 1767225600250}],
      "NextToken": "2"},
     {"Accounts": [{"Id": "111122223333", "Arn": "arn:aws:organizations::111122223333:account/"
                    "o-aa111bb222/111122223333", "Email": "a@example.com", "Name": "mgmt",
                    "Status": "ACTIVE", "JoinedMethod": "CREATED",
                    "JoinedTimestamp": "2026-01-01T00:00:00.250000+00:00"}],
      "NextToken": "2"}),
    ("org_describe_policy", "organizations", "DescribePolicy",
     {"Policy": {"PolicySummary": {"Id": "p-FullAWSAccess", "Arn": "arn:aws:organizations::aws:"
                                   "policy/service_control_policy/p-FullAWSAccess",
                                   "Name": "FullAWSAccess", "Description": "Allows access to "
                                   "every operation", "Type": "SERVICE_CONTROL_POLICY",
                                   "AwsManaged": True},
                 "Content": POLICY}},
     {"Policy": {"PolicySummary": {"Id": "p-FullAWSAccess", "Arn": "arn:aws:organizations::aws:"
                                   "policy/service_control_policy/p-FullAWSAccess",
                                   "Name": "FullAWSAccess", "Description": "Allows access to "
                                   "every operation", "Type": "SERVICE_CONTROL_POLICY",
                                   "AwsManaged": True},
                 "Content": POLICY}}),
    ("org_attach_policy", "organizations", "AttachPolicy", None, {}),
]

# Errors: (case, service, fault, what botocore must parse into response["Error"])
ERRORS = [
    ("err_iam_no_such_entity", "iam",
     {"code": "NoSuchEntity", "message": "The role with name x cannot be found.", "status": 404,
      "sender": True},
     {"Code": "NoSuchEntity", "Message": "The role with name x cannot be found.",
      "Type": "Sender"}),
    ("err_sts_validation", "sts",
     {"code": "ValidationError", "status": 400, "sender": True,
      "message": "1 validation error detected: Value 'a' at 'roleSessionName' failed to "
                 "satisfy constraint: Member must have length greater than or equal to 2"},
     {"Code": "ValidationError", "Type": "Sender",
      "Message": "1 validation error detected: Value 'a' at 'roleSessionName' failed to "
                 "satisfy constraint: Member must have length greater than or equal to 2"}),
    ("err_iam_internal", "iam",
     {"code": "ServiceFailure", "message": "Internal <failure> & more", "status": 500,
      "sender": False},
     {"Code": "ServiceFailure", "Message": "Internal <failure> & more", "Type": "Receiver"}),
    ("err_eks_not_found", "eks",
     {"code": "ResourceNotFoundException", "message": "No cluster found for name: demo.",
      "status": 404, "sender": True, "extra": {"clusterName": "demo"}},
     {"Code": "ResourceNotFoundException", "Message": "No cluster found for name: demo."}),
    ("err_eks_invalid_parameter", "eks",
     {"code": "InvalidParameterException", "message": "bad", "status": 400, "sender": True},
     {"Code": "InvalidParameterException", "Message": "bad"}),
    ("err_eksauth_expired", "eks-auth",
     {"code": "ExpiredTokenException", "message": "token expired", "status": 400,
      "sender": True},
     {"Code": "ExpiredTokenException", "Message": "token expired"}),
    ("err_org_constraint", "organizations",
     {"code": "ConstraintViolationException", "status": 400, "sender": True,
      "message": "You have exceeded the maximum policy size.",
      "extra": {"Reason": "POLICY_CONTENT_LIMIT_EXCEEDED"}},
     {"Code": "ConstraintViolationException",
      "Message": "You have exceeded the maximum policy size."}),
    ("err_s3_no_such_key", "s3",
     {"code": "NoSuchKey", "message": "The specified key does not exist.", "status": 404,
      "sender": True, "extra": {"Key": "a&b"}, "host_id": "hostid"},
     {"Code": "NoSuchKey", "Message": "The specified key does not exist.", "Key": "a&b"}),
    ("err_s3_signature", "s3",
     {"code": "SignatureDoesNotMatch", "status": 403, "sender": True,
      "message": "The request signature we calculated does not match the signature you "
                 "provided. Check your key and signing method.",
      "extra": {"AWSAccessKeyId": "AKIA", "StringToSign": "AWS4-HMAC-SHA256\n2026",
                "SignatureProvided": "abc"}, "host_id": "h"},
     {"Code": "SignatureDoesNotMatch",
      "Message": "The request signature we calculated does not match the signature you "
                 "provided. Check your key and signing method.",
      "AWSAccessKeyId": "AKIA", "StringToSign": "AWS4-HMAC-SHA256\n2026",
      "SignatureProvided": "abc"}),
]


def path(kind, case):
    return os.path.join(HERE, kind, case + ".json")


def dump(p, doc):
    with open(p, "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write("\n")


def write():
    for case, service, opname, params in REQUESTS:
        dump(path("requests", case), record_request(case, service, opname, params))
    for case, service, opname, output, expect in RESPONSES:
        doc = {"service": service, "operation": opname, "output": output,
               "request_id": "11111111-2222-3333-4444-555555555555", "expect": expect}
        old = path("responses", case)
        if os.path.exists(old):
            with open(old) as f:
                wire = json.load(f).get("wire")
            if wire:
                doc["wire"] = wire
        dump(old, doc)
    for case, service, fault, expect in ERRORS:
        doc = {"service": service, "error": fault,
               "request_id": "11111111-2222-3333-4444-555555555555", "expect": expect}
        old = path("responses", case)
        if os.path.exists(old):
            with open(old) as f:
                wire = json.load(f).get("wire")
            if wire:
                doc["wire"] = wire
        dump(old, doc)
    print("wrote %d request and %d response cases" % (len(REQUESTS),
                                                       len(RESPONSES) + len(ERRORS)))


def normalise(v):
    if isinstance(v, dict):
        return {k: normalise(x) for k, x in v.items() if k != "ResponseMetadata"}
    if isinstance(v, list):
        return [normalise(x) for x in v]
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.decode("utf-8")
    return v


class FakeHTTP:
    def __init__(self, body):
        self.raw = True
        self.content = body


def check():
    bad = 0
    n = 0
    for name in sorted(os.listdir(os.path.join(HERE, "responses"))):
        with open(os.path.join(HERE, "responses", name)) as f:
            doc = json.load(f)
        wire = doc.get("wire")
        if not wire:
            print("MISSING wire:", name)
            bad += 1
            continue
        n += 1
        m = model(doc["service"])
        parser = parsers.create_parser(m.metadata["protocol"])
        headers = HeadersDict()
        for k, v in wire["headers"]:
            headers[k] = v
        resp = {"status_code": wire["status"], "headers": headers,
                "body": wire["body"].encode("utf-8")}
        if "error" in doc:
            parsed = parser.parse(resp, None)
            got = parsed.get("Error", {})
            want = doc["expect"]
            got = {k: got.get(k) for k in want}
            rid = parsed.get("ResponseMetadata", {}).get("RequestId")
            if rid != doc["request_id"]:
                print("FAIL", name, "request id", rid)
                bad += 1
        else:
            op = m.operation_model(doc["operation"])
            shape = op.output_shape
            if shape is not None and shape.serialization.get("payload"):
                pm = shape.members[shape.serialization["payload"]]
                if pm.type_name == "blob":
                    resp["body"] = b""  # streamed by the caller, not in "wire"
            parsed = parser.parse(resp, shape)
            if doc["operation"] == "GetBucketLocation":
                handlers.parse_get_bucket_location(parsed, FakeHTTP(resp["body"]))
            got = normalise(parsed)
            want = doc["expect"]
            if "Body" in got:
                got.pop("Body")
            rid = parsed.get("ResponseMetadata", {}).get("RequestId")
            if rid != doc["request_id"]:
                print("FAIL", name, "request id", rid)
                bad += 1
        if got != want:
            print("FAIL", name)
            print("  got: ", json.dumps(got, sort_keys=True))
            print("  want:", json.dumps(want, sort_keys=True))
            bad += 1
    print("%d response cases checked with botocore %s, %d failed"
          % (n, botocore.__version__, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("write", "check"):
        sys.exit(__doc__)
    if sys.argv[1] == "write":
        write()
    else:
        sys.exit(check())
