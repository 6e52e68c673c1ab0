"""S3 authorization: identity policies, bucket policies (allow naming a user or a role,
explicit deny), anonymous access through a public bucket policy, cross-account access
(both sides must allow), per-key DeleteObjects decisions, the copy source's s3:GetObject,
S3's AccessDenied wording, and NoSuchKey hidden from callers who may not list."""
import json
import os
import tempfile
import unittest
import urllib.error
import urllib.request

import botocore.exceptions

from podiam_harness import Podiam

A = "000000000000"
B = "111111111111"


def user(name, key, policies=None):
    u = {"name": name, "access_keys": [{"id": key, "secret": "secret-" + name}]}
    if policies:
        u["inline_policies"] = {"p": {"Version": "2012-10-17", "Statement": policies}}
    return u


def allow(actions, resources):
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


FIXTURES = {
    "iam": {"accounts": [
        {"id": A, "users": [
            user("nobody", "AKIAS3NOBODY00000001"),
            user("reader", "AKIAS3READER00000001",
                 [allow(["s3:GetObject", "s3:ListBucket"],
                        ["arn:aws:s3:::idp-bucket", "arn:aws:s3:::idp-bucket/*"])]),
            user("bpuser", "AKIAS3BPUSER00000001"),
            user("everything", "AKIAS3EVERYTHING0001", [allow("s3:*", "*")]),
            user("tmpdeleter", "AKIAS3TMPDELETER0001",
                 [allow(["s3:DeleteObject"], "arn:aws:s3:::idp-bucket/tmp/*")]),
            user("assumer", "AKIAS3ASSUMER0000001", [allow("sts:AssumeRole", "*")]),
            user("homeuser", "AKIAS3HOMEUSER000001", [
                {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::idp-bucket",
                 "Condition": {"StringLike": {"s3:prefix": "home/*"}}},
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::idp-bucket/*",
                 "Condition": {"StringEquals": {"s3:ExistingObjectTag/class": "open"}}},
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::idp-bucket/*",
                 "Condition": {"StringEquals": {"s3:RequestObjectTag/class": "open"}}},
                {"Effect": "Allow", "Action": "s3:PutObjectTagging",
                 "Resource": "arn:aws:s3:::idp-bucket/*"},
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"},
                               "StringEquals": {"s3:authType": "REST-QUERY-STRING"}}}]),
            user("copier", "AKIAS3COPIER00000001",
                 [allow(["s3:PutObject"], "arn:aws:s3:::idp-bucket/copies/*")]),
        ], "roles": [
            {"name": "bprole",
             "trust_policy": {"Version": "2012-10-17", "Statement": [{
                 "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % A},
                 "Action": "sts:AssumeRole"}]}},
        ]},
        {"id": B, "users": [
            user("xuser", "AKIAS3XUSER000000001", [allow("s3:GetObject", "*")]),
            user("xnopolicy", "AKIAS3XNOPOLICY00001"),
        ]},
    ]},
    "s3": {"buckets": [
        {"name": "idp-bucket", "objects": [{"key": "k", "text": "identity"},
                                           {"key": "home/tagged", "text": "t",
                                            "tags": {"class": "open"}},
                                           {"key": "home/untagged", "text": "u"},
                                           {"key": "tmp/a", "text": "a"},
                                           {"key": "keep/b", "text": "b"}]},
        {"name": "bp-bucket",
         "policy": {"Version": "2012-10-17", "Statement": [
             {"Effect": "Allow",
              "Principal": {"AWS": ["arn:aws:iam::%s:user/bpuser" % A,
                                    "arn:aws:iam::%s:role/bprole" % A]},
              "Action": ["s3:GetObject", "s3:PutObject"],
              "Resource": "arn:aws:s3:::bp-bucket/*"},
             {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
              "Resource": "arn:aws:s3:::bp-bucket/secret/*"}]},
         "objects": [{"key": "open", "text": "open"}, {"key": "secret/x", "text": "x"}]},
        {"name": "public-bucket",
         "policy": {"Version": "2012-10-17", "Statement": [{
             "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::public-bucket/*"}]},
         "objects": [{"key": "hello.txt", "text": "hello", "content_type": "text/plain"}]},
        {"name": "private-bucket", "objects": [{"key": "p", "text": "p"}]},
        {"name": "cross-bucket",
         "policy": {"Version": "2012-10-17", "Statement": [{
             "Effect": "Allow",
             "Principal": {"AWS": ["arn:aws:iam::%s:user/xuser" % B,
                                   "arn:aws:iam::%s:user/xnopolicy" % B]},
             "Action": "s3:GetObject", "Resource": "arn:aws:s3:::cross-bucket/*"}]},
         "objects": [{"key": "shared", "text": "shared"}]},
        {"name": "acct-b-bucket", "account": B},
    ]},
}


class S3AuthzTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="podiam-s3authz-")
        path = os.path.join(cls.tmp, "fixtures.json")
        with open(path, "w") as f:
            json.dump(FIXTURES, f)
        cls.p = Podiam.start("--fixtures", path)

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def client(self, name, key):
        return self.p.boto3("s3", key=key, secret="secret-" + name)

    def denied(self, fn, **kw):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(**kw)
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], "AccessDenied", err)
        return err.get("Message", "")

    def test_identity_policy(self):
        s3 = self.client("reader", "AKIAS3READER00000001")
        self.assertEqual(s3.get_object(Bucket="idp-bucket", Key="k")["Body"].read(), b"identity")
        msg = self.denied(s3.put_object, Bucket="idp-bucket", Key="k", Body=b"no")
        self.assertEqual(msg, 'User: arn:aws:iam::000000000000:user/reader is not authorized to '
                              'perform: s3:PutObject on resource: "arn:aws:s3:::idp-bucket/k" '
                              'because no identity-based policy allows the s3:PutObject action')
        nobody = self.client("nobody", "AKIAS3NOBODY00000001")
        self.denied(nobody.get_object, Bucket="idp-bucket", Key="k")
        msg = self.denied(nobody.list_buckets)
        self.assertEqual(msg, "User: arn:aws:iam::000000000000:user/nobody is not authorized to "
                              "perform: s3:ListAllMyBuckets because no identity-based policy "
                              "allows the s3:ListAllMyBuckets action")

    def test_bucket_policy_names_user_and_role(self):
        s3 = self.client("bpuser", "AKIAS3BPUSER00000001")
        self.assertEqual(s3.get_object(Bucket="bp-bucket", Key="open")["Body"].read(), b"open")
        s3.put_object(Bucket="bp-bucket", Key="new", Body=b"n")
        self.denied(s3.delete_object, Bucket="bp-bucket", Key="new")
        msg = self.denied(s3.get_object, Bucket="bp-bucket", Key="secret/x")
        self.assertIn("with an explicit deny in a resource-based policy", msg)
        # the account's root is denied by the explicit deny too
        root = self.p.boto3("s3")
        self.denied(root.get_object, Bucket="bp-bucket", Key="secret/x")
        # a role session named in the bucket policy (by its role ARN)
        sts = self.p.boto3("sts", key="AKIAS3ASSUMER0000001", secret="secret-assumer")
        c = sts.assume_role(RoleArn="arn:aws:iam::%s:role/bprole" % A,
                            RoleSessionName="sess")["Credentials"]
        rs3 = self.p.boto3("s3", key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                           token=c["SessionToken"])
        self.assertEqual(rs3.get_object(Bucket="bp-bucket", Key="open")["Body"].read(), b"open")
        self.denied(rs3.get_object, Bucket="idp-bucket", Key="k")

    def test_explicit_deny_beats_identity_allow(self):
        s3 = self.client("everything", "AKIAS3EVERYTHING0001")
        s3.get_object(Bucket="bp-bucket", Key="open")
        msg = self.denied(s3.get_object, Bucket="bp-bucket", Key="secret/x")
        self.assertIn("explicit deny in a resource-based policy", msg)

    def test_anonymous(self):
        with urllib.request.urlopen(self.p.endpoint + "/public-bucket/hello.txt") as r:
            self.assertEqual(r.read(), b"hello")
            self.assertEqual(r.headers["Content-Type"], "text/plain")
        # virtual-host style names the same object
        req = urllib.request.Request(self.p.endpoint + "/hello.txt",
                                     headers={"Host": "public-bucket.s3.localhost"})
        with urllib.request.urlopen(req) as r:
            self.assertEqual(r.read(), b"hello")
        for url, method in [("/private-bucket/p", "GET"), ("/public-bucket/hello.txt", "PUT"),
                            ("/public-bucket?list-type=2", "GET")]:
            req = urllib.request.Request(self.p.endpoint + url, method=method,
                                         data=b"x" if method == "PUT" else None)
            with self.assertRaises(urllib.error.HTTPError, msg=url) as cm:
                urllib.request.urlopen(req)
            self.assertEqual(cm.exception.code, 403, url)
            body = cm.exception.read()
            self.assertIn(b"<Code>AccessDenied</Code><Message>Access Denied</Message>", body)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(self.p.endpoint + "/no-such-bucket-here/k")
        self.assertEqual(cm.exception.code, 404)

    def test_cross_account(self):
        x = self.client("xuser", "AKIAS3XUSER000000001")
        self.assertEqual(x.get_object(Bucket="cross-bucket", Key="shared")["Body"].read(),
                         b"shared")
        # the bucket policy allows, but the caller's own account does not
        xn = self.client("xnopolicy", "AKIAS3XNOPOLICY00001")
        self.denied(xn.get_object, Bucket="cross-bucket", Key="shared")
        # the caller's account allows, but the bucket owner does not
        self.denied(x.get_object, Bucket="private-bucket", Key="p")
        # bucket names are global
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.p.boto3("s3").create_bucket(Bucket="acct-b-bucket")
        self.assertEqual(cm.exception.response["Error"]["Code"], "BucketAlreadyExists")

    def test_delete_objects_per_key(self):
        s3 = self.client("tmpdeleter", "AKIAS3TMPDELETER0001")
        r = s3.delete_objects(Bucket="idp-bucket", Delete={"Objects": [{"Key": "tmp/a"},
                                                                       {"Key": "keep/b"}]})
        self.assertEqual([d["Key"] for d in r["Deleted"]], ["tmp/a"])
        self.assertEqual([(e["Key"], e["Code"]) for e in r["Errors"]],
                         [("keep/b", "AccessDenied")])
        root = self.p.boto3("s3")
        root.head_object(Bucket="idp-bucket", Key="keep/b")

    def test_no_such_key_needs_list_permission(self):
        reader = self.client("reader", "AKIAS3READER00000001")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            reader.get_object(Bucket="idp-bucket", Key="missing")
        self.assertEqual(cm.exception.response["Error"]["Code"], "NoSuchKey")
        bp = self.client("bpuser", "AKIAS3BPUSER00000001")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            bp.get_object(Bucket="bp-bucket", Key="missing")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")

    def test_copy_needs_source_read(self):
        s3 = self.client("copier", "AKIAS3COPIER00000001")
        msg = self.denied(s3.copy_object, Bucket="idp-bucket", Key="copies/k",
                          CopySource="idp-bucket/k")
        self.assertIn("s3:GetObject", msg)
        self.assertIn('"arn:aws:s3:::idp-bucket/k"', msg)

    def test_condition_keys(self):
        s3 = self.client("homeuser", "AKIAS3HOMEUSER000001")
        r = s3.list_objects_v2(Bucket="idp-bucket", Prefix="home/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["home/tagged", "home/untagged"])
        self.denied(s3.list_objects_v2, Bucket="idp-bucket", Prefix="other/")
        self.denied(s3.list_objects_v2, Bucket="idp-bucket")
        self.assertEqual(s3.get_object(Bucket="idp-bucket", Key="home/tagged")["Body"].read(),
                         b"t")
        self.denied(s3.get_object, Bucket="idp-bucket", Key="home/untagged")
        s3.put_object(Bucket="idp-bucket", Key="home/new", Body=b"n", Tagging="class=open")
        self.denied(s3.put_object, Bucket="idp-bucket", Key="home/new2", Body=b"n",
                    Tagging="class=secret")
        self.denied(s3.put_object, Bucket="idp-bucket", Key="home/new3", Body=b"n")
        # a presigned URL over http is denied by the aws:SecureTransport + s3:authType rule
        import botocore.config
        import boto3
        c = boto3.session.Session(aws_access_key_id="AKIAS3HOMEUSER000001",
                                  aws_secret_access_key="secret-homeuser",
                                  region_name="us-east-1").client(
            "s3", endpoint_url=self.p.endpoint,
            config=botocore.config.Config(signature_version="s3v4"))
        url = c.generate_presigned_url("get_object", Params={"Bucket": "idp-bucket",
                                                             "Key": "home/tagged"})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(url)
        self.assertEqual(cm.exception.code, 403)
        self.assertIn(b"explicit deny in an identity-based policy", cm.exception.read())

    def test_expected_bucket_owner(self):
        root = self.p.boto3("s3")
        root.head_object(Bucket="idp-bucket", Key="k", ExpectedBucketOwner=A)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            root.get_object(Bucket="idp-bucket", Key="k", ExpectedBucketOwner=B)
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")

    def test_decision_header(self):
        nobody = self.client("nobody", "AKIAS3NOBODY00000001")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            nobody.get_object(Bucket="idp-bucket", Key="k")
        hdrs = cm.exception.response["ResponseMetadata"]["HTTPHeaders"]
        self.assertIn("x-podiam-decision-id", hdrs)


class S3FixturesTest(unittest.TestCase):
    """The s3 fixtures section: loaded at start, exported, restored by a reset (which also
    drops the object files of the wiped state)."""

    def test_export_and_reset(self):
        tmp = tempfile.mkdtemp(prefix="podiam-s3fx-")
        path = os.path.join(tmp, "fixtures.json")
        with open(path, "w") as f:
            json.dump({"s3": {"buckets": [
                {"name": "fx-bucket", "tags": {"t": "1"},
                 "objects": [{"key": "a.txt", "text": "alpha", "content_type": "text/plain",
                              "metadata": {"Who": "fixture"}, "checksum": "SHA256"},
                             {"key": "b.bin", "base64": "AAEC"}]}]}}, f)
        p = Podiam.start("--fixtures", path)
        try:
            s3 = p.boto3("s3")
            g = s3.get_object(Bucket="fx-bucket", Key="a.txt", ChecksumMode="ENABLED")
            self.assertEqual(g["Body"].read(), b"alpha")
            self.assertEqual(g["ContentType"], "text/plain")
            self.assertEqual(g["Metadata"], {"who": "fixture"})
            self.assertIn("ChecksumSHA256", g)
            self.assertEqual(s3.get_object(Bucket="fx-bucket", Key="b.bin")["Body"].read(),
                             b"\0\1\2")
            state = p.admin("GET", "state")
            b = state["s3"]["buckets"][0]
            self.assertEqual(b["name"], "fx-bucket")
            self.assertEqual(b["tags"], {"t": "1"})
            self.assertEqual([(o["key"], o.get("text"), o.get("base64")) for o in b["objects"]],
                             [("a.txt", "alpha", None), ("b.bin", None, "AAEC")])
            s3.put_object(Bucket="fx-bucket", Key="new", Body=b"x")
            s3.create_bucket(Bucket="fx-other")
            p.reset()
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket="fx-bucket")["Contents"]]
            self.assertEqual(keys, ["a.txt", "b.bin"])
            self.assertNotIn("fx-other", [x["Name"] for x in s3.list_buckets()["Buckets"]])
        finally:
            p.stop()
        with open(path, "w") as f:
            json.dump({"s3": {"buckets": [{"name": "Bad_Name"}]}}, f)
        with self.assertRaises(RuntimeError) as cm:
            Podiam.start("--fixtures", path)
        self.assertIn("InvalidBucketName", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
