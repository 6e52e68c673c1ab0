"""S3 versioning with boto3: PutBucketVersioning (Enabled, Suspended, never back), versions
and delete markers, Get/Head/Delete/CopyObject with versionId, the null version of a
suspended bucket, ListObjectVersions paging (key and version-id markers, prefixes), S3's
errors (InvalidArgument, NoSuchVersion, 404 and 405 on delete markers with
x-amz-delete-marker), and the version actions of authorization."""
import unittest

import botocore.exceptions

from podiam_harness import Podiam


def code(cm):
    return cm.exception.response["Error"]["Code"]


def status(cm):
    return cm.exception.response["ResponseMetadata"]["HTTPStatusCode"]


class Versioning(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pd = Podiam.shared()
        cls.s3 = cls.pd.boto3("s3")

    def bucket(self, name, status="Enabled"):
        self.s3.create_bucket(Bucket=name)
        if status:
            self.s3.put_bucket_versioning(Bucket=name,
                                          VersioningConfiguration={"Status": status})
        return name

    def versions(self, b, **kw):
        v = self.s3.list_object_versions(Bucket=b, **kw)
        return ([(x["Key"], x["VersionId"], x["IsLatest"]) for x in v.get("Versions", [])],
                [(x["Key"], x["VersionId"], x["IsLatest"]) for x in v.get("DeleteMarkers", [])])

    def test_states(self):
        b = self.bucket("ver-states", None)
        out = self.s3.get_bucket_versioning(Bucket=b)
        self.assertNotIn("Status", out)
        r = self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        self.assertNotIn("VersionId", r)  # never versioned: no version ids at all
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=b)["Status"], "Enabled")
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=b)["Status"], "Suspended")
        # the object written before versioning is the null version
        self.assertEqual(self.s3.head_object(Bucket=b, Key="k")["VersionId"], "null")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Off"})
        self.assertEqual(status(cm), 400)

    def test_versions_and_markers(self):
        b = self.bucket("ver-enabled")
        v1 = self.s3.put_object(Bucket=b, Key="k", Body=b"one")["VersionId"]
        v2 = self.s3.put_object(Bucket=b, Key="k", Body=b"two" * 30000)["VersionId"]
        self.assertNotEqual(v1, v2)
        self.assertEqual(len(v1), 32)
        self.assertEqual(self.s3.get_object(Bucket=b, Key="k")["Body"].read()[:3], b"two")
        got = self.s3.get_object(Bucket=b, Key="k", VersionId=v1)
        self.assertEqual((got["Body"].read(), got["VersionId"]), (b"one", v1))
        self.assertEqual(self.s3.head_object(Bucket=b, Key="k", VersionId=v1)["ContentLength"], 3)
        d = self.s3.delete_object(Bucket=b, Key="k")
        self.assertTrue(d["DeleteMarker"])
        marker = d["VersionId"]
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=b, Key="k")
        self.assertEqual(code(cm), "NoSuchKey")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPHeaders"]
                         ["x-amz-delete-marker"], "true")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.head_object(Bucket=b, Key="k", VersionId=marker)
        self.assertEqual(status(cm), 405)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=b, Key="k", VersionId=marker)
        self.assertEqual(code(cm), "MethodNotAllowed")
        self.assertEqual(self.s3.list_objects_v2(Bucket=b)["KeyCount"], 0)
        vers, markers = self.versions(b)
        self.assertEqual(vers, [("k", v2, False), ("k", v1, False)])
        self.assertEqual(markers, [("k", marker, True)])
        # removing the marker brings the newest version back
        d = self.s3.delete_object(Bucket=b, Key="k", VersionId=marker)
        self.assertTrue(d["DeleteMarker"])
        self.assertEqual(d["VersionId"], marker)
        self.assertEqual(self.s3.get_object(Bucket=b, Key="k")["VersionId"], v2)
        # removing a noncurrent version
        self.s3.delete_object(Bucket=b, Key="k", VersionId=v1)
        self.assertEqual(self.versions(b), ([("k", v2, True)], []))
        # a delete marker for a key that never existed
        d = self.s3.delete_object(Bucket=b, Key="ghost")
        self.assertTrue(d["DeleteMarker"])
        # a bucket holding versions or markers is not empty
        self.s3.delete_object(Bucket=b, Key="k")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.delete_bucket(Bucket=b)
        self.assertEqual(code(cm), "BucketNotEmpty")

    def test_bad_version_ids(self):
        b = self.bucket("ver-bad")
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=b, Key="k", VersionId="not-a-version")
        self.assertEqual((status(cm), code(cm)), (400, "InvalidArgument"))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=b, Key="k", VersionId="A" * 32)
        self.assertEqual((status(cm), code(cm)), (404, "NoSuchVersion"))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=b, Key="k", VersionId="null")
        self.assertEqual(code(cm), "NoSuchVersion")

    def test_suspended_null_version(self):
        b = self.bucket("ver-suspended")
        v1 = self.s3.put_object(Bucket=b, Key="k", Body=b"real")["VersionId"]
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
        r = self.s3.put_object(Bucket=b, Key="k", Body=b"null-1")
        self.assertEqual(r["VersionId"], "null")
        self.s3.put_object(Bucket=b, Key="k", Body=b"null-2")  # replaces the null version
        vers, _ = self.versions(b)
        self.assertEqual(vers, [("k", "null", True), ("k", v1, False)])
        self.assertEqual(self.s3.get_object(Bucket=b, Key="k", VersionId="null")["Body"].read(),
                         b"null-2")
        d = self.s3.delete_object(Bucket=b, Key="k")  # a null marker replaces the null version
        self.assertEqual((d["DeleteMarker"], d["VersionId"]), (True, "null"))
        vers, markers = self.versions(b)
        self.assertEqual(vers, [("k", v1, False)])
        self.assertEqual(markers, [("k", "null", True)])
        # enabling again keeps the null marker as a version
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        v3 = self.s3.put_object(Bucket=b, Key="k", Body=b"three")["VersionId"]
        vers, markers = self.versions(b)
        self.assertEqual(vers, [("k", v3, True), ("k", v1, False)])
        self.assertEqual(markers, [("k", "null", False)])

    def test_copy_with_version_id(self):
        b = self.bucket("ver-copy")
        v1 = self.s3.put_object(Bucket=b, Key="src", Body=b"first")["VersionId"]
        self.s3.put_object(Bucket=b, Key="src", Body=b"second")
        r = self.s3.copy_object(Bucket=b, Key="dst",
                                CopySource={"Bucket": b, "Key": "src", "VersionId": v1})
        self.assertEqual(r["CopySourceVersionId"], v1)
        self.assertEqual(self.s3.get_object(Bucket=b, Key="dst")["Body"].read(), b"first")
        # restoring an old version onto its own key
        self.s3.copy_object(Bucket=b, Key="src",
                            CopySource={"Bucket": b, "Key": "src", "VersionId": v1})
        self.assertEqual(self.s3.get_object(Bucket=b, Key="src")["Body"].read(), b"first")
        self.assertEqual(len(self.versions(b, Prefix="src")[0]), 3)

    def test_list_versions_paging(self):
        b = self.bucket("ver-paging")
        want = []
        for key in ["a", "b/1", "b/2", "c"]:
            for i in range(3):
                want.append((key, self.s3.put_object(Bucket=b, Key=key, Body=b"%d" % i)
                             ["VersionId"]))
        self.s3.delete_object(Bucket=b, Key="c")
        seen, km, vm, pages = [], None, None, 0
        while True:
            kw = {"MaxKeys": 2}
            if km:
                kw.update(KeyMarker=km, VersionIdMarker=vm)
            p = self.s3.list_object_versions(Bucket=b, **kw)
            entries = p.get("Versions", []) + p.get("DeleteMarkers", [])
            self.assertLessEqual(len(entries), 2)
            seen += [(x["Key"], x["VersionId"]) for x in p.get("Versions", [])]
            pages += 1
            if not p["IsTruncated"]:
                break
            km, vm = p["NextKeyMarker"], p["NextVersionIdMarker"]
        self.assertEqual(sorted(seen), sorted(want))
        self.assertEqual(pages, 7)  # 12 versions and a marker, two a page
        # newest first within a key
        self.assertEqual([v for k, v in seen if k == "a"], [v for k, v in want if k == "a"][::-1])
        # delimiter and prefix
        p = self.s3.list_object_versions(Bucket=b, Delimiter="/")
        self.assertEqual([c["Prefix"] for c in p["CommonPrefixes"]], ["b/"])
        p = self.s3.list_object_versions(Bucket=b, Prefix="b/", MaxKeys=0)
        self.assertFalse(p["IsTruncated"])
        self.assertNotIn("Versions", p)

    def test_delete_objects_with_versions(self):
        b = self.bucket("ver-multi")
        v1 = self.s3.put_object(Bucket=b, Key="k", Body=b"1")["VersionId"]
        v2 = self.s3.put_object(Bucket=b, Key="k", Body=b"2")["VersionId"]
        r = self.s3.delete_objects(Bucket=b, Delete={"Objects": [
            {"Key": "k", "VersionId": v1}, {"Key": "k"}, {"Key": "k", "VersionId": "bad"}]})
        deleted = {(d["Key"], d.get("VersionId")): d for d in r["Deleted"]}
        self.assertIn(("k", v1), deleted)
        marker = deleted[("k", None)]
        self.assertTrue(marker["DeleteMarker"])
        self.assertEqual(len(marker["DeleteMarkerVersionId"]), 32)
        self.assertEqual([e["Code"] for e in r["Errors"]], ["InvalidArgument"])
        self.assertEqual(self.versions(b), ([("k", v2, False)],
                                            [("k", marker["DeleteMarkerVersionId"], True)]))


class VersionAuthorization(unittest.TestCase):
    """A user allowed s3:GetObject but not s3:GetObjectVersion reads the current version
    only; s3:DeleteObject does not delete versions."""

    @classmethod
    def setUpClass(cls):
        cls.pd = Podiam.shared()
        cls.s3 = cls.pd.boto3("s3")
        iam = cls.pd.boto3("iam")
        iam.create_user(UserName="ver-user")
        iam.put_user_policy(UserName="ver-user", PolicyName="p", PolicyDocument=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":'
            '["s3:GetObject","s3:DeleteObject","s3:ListBucket"],"Resource":"*"}]}'))
        k = iam.create_access_key(UserName="ver-user")["AccessKey"]
        cls.user = cls.pd.boto3("s3", key=k["AccessKeyId"], secret=k["SecretAccessKey"])

    def test_version_actions(self):
        b = "ver-authz"
        self.s3.create_bucket(Bucket=b)
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        v1 = self.s3.put_object(Bucket=b, Key="k", Body=b"1")["VersionId"]
        self.s3.put_object(Bucket=b, Key="k", Body=b"2")
        self.assertEqual(self.user.get_object(Bucket=b, Key="k")["Body"].read(), b"2")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.user.get_object(Bucket=b, Key="k", VersionId=v1)
        self.assertEqual(code(cm), "AccessDenied")
        self.assertIn("s3:GetObjectVersion", cm.exception.response["Error"]["Message"])
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.user.delete_object(Bucket=b, Key="k", VersionId=v1)
        self.assertIn("s3:DeleteObjectVersion", cm.exception.response["Error"]["Message"])
        self.assertTrue(self.user.delete_object(Bucket=b, Key="k")["DeleteMarker"])


if __name__ == "__main__":
    unittest.main()
