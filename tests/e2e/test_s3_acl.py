"""S3 ACLs, Object Ownership and Block Public Access with boto3, the aws CLI and s3cmd:
the 2023 defaults of a new bucket (BucketOwnerEnforced, all four blocks on) and what they
refuse, canned ACLs and grants on buckets and objects, ACL grants deciding anonymous and
cross-account access, objects owned by another account, IgnorePublicAcls,
RestrictPublicBuckets, BlockPublicPolicy, GetBucketPolicyStatus, and `s3cmd setacl`."""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

import botocore.exceptions

from podiam_harness import Podiam

A, B = "000000000000", "111111111111"
ALL = "http://acs.amazonaws.com/groups/global/AllUsers"


def canonical(acct):
    return hashlib.sha256(("podiam-canonical-user:%s" % acct).encode()).hexdigest()


FIXTURES = {"iam": {"accounts": [
    {"id": A, "users": [
        {"name": "acl-a", "access_keys": [{"id": "AKIAACLA000000000001", "secret": "s-a"}],
         "inline_policies": {"p": {"Version": "2012-10-17", "Statement": [
             {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}},
        {"name": "acl-a0", "access_keys": [{"id": "AKIAACLA000000000000", "secret": "s-a0"}]}]},
    {"id": B, "users": [
        {"name": "acl-b", "access_keys": [{"id": "AKIAACLB000000000001", "secret": "s-b"}],
         "inline_policies": {"p": {"Version": "2012-10-17", "Statement": [
             {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}}]}]}}


def code(cm):
    return cm.exception.response["Error"]["Code"]


class Acl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.home = tempfile.mkdtemp(prefix="podiam-acl-")
        fx = os.path.join(cls.home, "fx.json")
        with open(fx, "w") as f:
            json.dump(FIXTURES, f)
        cls.pd = Podiam.start("--fixtures", fx)
        cls.s3 = cls.pd.boto3("s3")
        cls.a = cls.pd.boto3("s3", key="AKIAACLA000000000001", secret="s-a")
        cls.a0 = cls.pd.boto3("s3", key="AKIAACLA000000000000", secret="s-a0")
        cls.b = cls.pd.boto3("s3", key="AKIAACLB000000000001", secret="s-b")

    @classmethod
    def tearDownClass(cls):
        cls.pd.stop()
        shutil.rmtree(cls.home, ignore_errors=True)

    def anon(self, bucket, key):
        try:
            with urllib.request.urlopen("%s/%s/%s" % (self.pd.endpoint, bucket, key)) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def writer_bucket(self, name):
        """A bucket with ACLs enabled and no public access block."""
        self.s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
        self.s3.delete_public_access_block(Bucket=name)
        return name

    def test_new_bucket_defaults(self):
        self.s3.create_bucket(Bucket="acl-defaults")
        oc = self.s3.get_bucket_ownership_controls(Bucket="acl-defaults")["OwnershipControls"]
        self.assertEqual(oc["Rules"], [{"ObjectOwnership": "BucketOwnerEnforced"}])
        pab = self.s3.get_public_access_block(Bucket="acl-defaults")
        self.assertEqual(set(pab["PublicAccessBlockConfiguration"].values()), {True})
        acl = self.s3.get_bucket_acl(Bucket="acl-defaults")
        self.assertEqual(acl["Owner"]["ID"], canonical(A))
        self.assertEqual([g["Permission"] for g in acl["Grants"]], ["FULL_CONTROL"])
        for call in (lambda: self.s3.put_bucket_acl(Bucket="acl-defaults", ACL="private"),
                     lambda: self.s3.put_object(Bucket="acl-defaults", Key="k", Body=b"x",
                                                ACL="public-read")):
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                call()
            self.assertEqual(code(cm), "AccessControlListNotSupported")
        # the bucket owner's full control, or no ACL, is what such a bucket takes
        self.s3.put_object(Bucket="acl-defaults", Key="k", Body=b"x",
                           ACL="bucket-owner-full-control")
        self.s3.put_object(Bucket="acl-defaults", Key="k2", Body=b"x")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.create_bucket(Bucket="acl-enforced-public", ACL="public-read")
        self.assertEqual(code(cm), "InvalidBucketAclWithObjectOwnership")
        self.s3.delete_bucket_ownership_controls(Bucket="acl-defaults")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_bucket_ownership_controls(Bucket="acl-defaults")
        self.assertEqual(code(cm), "OwnershipControlsNotFoundError")
        self.s3.delete_public_access_block(Bucket="acl-defaults")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_public_access_block(Bucket="acl-defaults")
        self.assertEqual(code(cm), "NoSuchPublicAccessBlockConfiguration")

    def test_block_public_access(self):
        b = "acl-bpa"
        self.s3.create_bucket(Bucket=b, ObjectOwnership="ObjectWriter")
        public = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::%s/*" % b}]})
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_bucket_policy(Bucket=b, Policy=public)
        self.assertEqual(code(cm), "AccessDenied")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_object(Bucket=b, Key="k", Body=b"x", ACL="public-read")
        self.assertEqual(code(cm), "AccessDenied")
        self.s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "IgnorePublicAcls": True})
        self.s3.put_object(Bucket=b, Key="pub", Body=b"x", ACL="public-read")
        self.assertEqual(self.anon(b, "pub"), 403)  # IgnorePublicAcls: the grant counts not
        self.s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={})
        self.assertEqual(self.anon(b, "pub"), 200)
        self.s3.put_bucket_policy(Bucket=b, Policy=public)
        self.assertTrue(self.s3.get_bucket_policy_status(Bucket=b)["PolicyStatus"]["IsPublic"])
        self.s3.put_object(Bucket=b, Key="priv", Body=b"x")
        self.assertEqual(self.anon(b, "priv"), 200)  # through the public policy
        self.s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={
            "RestrictPublicBuckets": True})
        self.assertEqual(self.anon(b, "priv"), 403)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.b.get_object(Bucket=b, Key="priv")
        self.assertEqual(code(cm), "AccessDenied")
        self.assertEqual(self.a0.get_object(Bucket=b, Key="priv")["Body"].read(), b"x")

    def test_canned_and_explicit_grants(self):
        b = self.writer_bucket("acl-grants")
        self.s3.put_object(Bucket=b, Key="o", Body=b"o", ACL="public-read")
        grants = self.s3.get_object_acl(Bucket=b, Key="o")["Grants"]
        self.assertIn({"Grantee": {"Type": "Group", "URI": ALL}, "Permission": "READ"}, grants)
        self.assertEqual(self.anon(b, "o"), 200)
        self.s3.put_object_acl(Bucket=b, Key="o", ACL="private")
        self.assertEqual(self.anon(b, "o"), 403)
        # explicit XML grants: READ to account B
        owner = {"ID": canonical(A)}
        self.s3.put_object_acl(Bucket=b, Key="o", AccessControlPolicy={
            "Owner": owner, "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": canonical(A)},
                 "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "CanonicalUser", "ID": canonical(B)}, "Permission": "READ"}]})
        self.assertEqual(self.b.get_object(Bucket=b, Key="o")["Body"].read(), b"o")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.b.put_object(Bucket=b, Key="o2", Body=b"x")
        self.assertEqual(code(cm), "AccessDenied")
        # grant headers on the bucket: WRITE and READ to B
        self.s3.put_bucket_acl(Bucket=b, GrantWrite='id="%s"' % canonical(B),
                               GrantRead='id="%s"' % canonical(B),
                               GrantFullControl='id="%s"' % canonical(A))
        self.b.put_object(Bucket=b, Key="from-b", Body=b"b's")
        self.assertIn("from-b", [o["Key"] for o in self.b.list_objects_v2(Bucket=b)["Contents"]])
        # an object B wrote belongs to B: A reads it only when B grants it
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=b, Key="from-b")
        self.assertEqual(code(cm), "AccessDenied")
        self.assertEqual(self.b.get_object_acl(Bucket=b, Key="from-b")["Owner"]["ID"],
                         canonical(B))
        self.b.put_object(Bucket=b, Key="from-b2", Body=b"x", ACL="bucket-owner-full-control")
        self.assertEqual(self.s3.get_object(Bucket=b, Key="from-b2")["Body"].read(), b"x")
        self.s3.delete_object(Bucket=b, Key="from-b")  # the bucket owner may delete it
        # unknown grantees
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_bucket_acl(Bucket=b, GrantRead='id="%s"' % ("0" * 64))
        self.assertEqual(code(cm), "InvalidArgument")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_bucket_acl(Bucket=b, GrantRead='emailAddress="x@example.com"')
        self.assertEqual(code(cm), "UnresolvableGrantByEmailAddress")
        # no BucketOwnerEnforced while others are granted
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_bucket_ownership_controls(Bucket=b, OwnershipControls={
                "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        self.assertEqual(code(cm), "InvalidBucketAclWithObjectOwnership")

    def test_authenticated_read_and_explicit_deny(self):
        b = self.writer_bucket("acl-authread")
        self.s3.put_object(Bucket=b, Key="o", Body=b"o", ACL="authenticated-read")
        self.assertEqual(self.anon(b, "o"), 403)
        self.assertEqual(self.a0.get_object(Bucket=b, Key="o")["Body"].read(), b"o")
        # an explicit deny in the bucket policy wins over the grant
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::%s:user/acl-a0" % A},
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % b}]}))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.a0.get_object(Bucket=b, Key="o")
        self.assertIn("explicit deny", cm.exception.response["Error"]["Message"])

    def test_aws_cli_put_object_acl(self):
        b = self.writer_bucket("acl-cli")
        self.s3.put_object(Bucket=b, Key="k", Body=b"cli")
        self.pd.aws("s3api", "put-object-acl", "--bucket", b, "--key", "k", "--acl",
                    "public-read")
        _, out, _ = self.pd.aws("s3api", "get-object-acl", "--bucket", b, "--key", "k")
        self.assertIn("READ", [g["Permission"] for g in out["Grants"]])
        self.assertEqual(self.anon(b, "k"), 200)


    def s3cmd(self, *args):
        host = urllib.parse.urlsplit(self.pd.endpoint).netloc
        cfg = os.path.join(self.home, "s3cfg")
        with open(cfg, "w") as f:
            f.write("[default]\naccess_key = test\nsecret_key = test\nhost_base = %s\n"
                    "host_bucket = %s\nuse_https = False\n" % (host, host))
        p = subprocess.run(["s3cmd", "-c", cfg] + list(args), capture_output=True,
                           text=True, env=dict(os.environ, HOME=self.home), timeout=120)
        if p.returncode != 0:
            raise AssertionError("s3cmd %s: %s\n%s" % (" ".join(args), p.stdout, p.stderr))
        return p.stdout

    @unittest.skipUnless(shutil.which("s3cmd"), "s3cmd needed")
    def test_s3cmd_setacl(self):
        self.s3.create_bucket(Bucket="s3cmd-acl", ObjectOwnership="BucketOwnerPreferred")
        self.s3.delete_public_access_block(Bucket="s3cmd-acl")
        src = os.path.join(self.home, "f")
        with open(src, "w") as f:
            f.write("acl me")
        self.s3cmd("put", src, "s3://s3cmd-acl/f")
        self.s3cmd("setacl", "--acl-public", "s3://s3cmd-acl/f")
        self.assertIn("*anon*: READ", self.s3cmd("info", "s3://s3cmd-acl/f"))
        self.assertEqual(self.anon("s3cmd-acl", "f"), 200)
        self.s3cmd("setacl", "--acl-private", "s3://s3cmd-acl/f")
        self.assertNotIn("*anon*", self.s3cmd("info", "s3://s3cmd-acl/f"))
        self.assertEqual(self.anon("s3cmd-acl", "f"), 403)
        self.s3cmd("setacl", "--acl-grant=read:%s" % canonical(B), "s3://s3cmd-acl/f")
        grants = self.s3.get_object_acl(Bucket="s3cmd-acl", Key="f")["Grants"]
        self.assertIn({"Grantee": {"Type": "CanonicalUser", "ID": canonical(B)},
                       "Permission": "READ"}, grants)
        self.assertEqual(self.b.get_object(Bucket="s3cmd-acl", Key="f")["Body"].read(),
                         b"acl me")


if __name__ == "__main__":
    unittest.main()
