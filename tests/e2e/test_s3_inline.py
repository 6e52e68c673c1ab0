"""S3 objects up to the inline threshold (--s3-inline-max, 64 KiB by default) are stored in
SQLite with their row; bigger ones are files. Clients must not be able to tell: these tests
cross the threshold (threshold - 1, threshold, threshold + 1 bytes) with puts, overwrites
both ways, copies both ways, UploadPartCopy from an inline source, ranged and conditional
reads, checksums, presigned GETs, fixtures and a restart, and check where the bytes went
(object files on disk, rows of s3_object_bodies)."""
import base64
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import unittest
import urllib.request

import botocore.exceptions

from podiam_harness import Podiam, botocore_has, js_put_object, js_sdk_missing, too_old

T = 64 * 1024  # the default threshold
SIZES = [0, 1, T - 1, T, T + 1]


def md5(b):
    return '"%s"' % hashlib.md5(b).hexdigest()


def sha256_b64(b):
    return base64.b64encode(hashlib.sha256(b).digest()).decode()


class InlineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="podiam-inline-")
        cls.state = os.path.join(cls.dir, "state.db")
        big = os.urandom(T + 10)
        cls.fixture_big = big
        fixtures = {"s3": {"buckets": [{"name": "fx-inline", "objects": [
            {"key": "small.txt", "text": "hello inline", "content_type": "text/plain"},
            {"key": "big.bin", "base64": base64.b64encode(big).decode(),
             "checksum": "SHA256"}]}]}}
        cls.fixtures = os.path.join(cls.dir, "fx.json")
        with open(cls.fixtures, "w") as f:
            json.dump(fixtures, f)
        cls.start()
        cls.s3.create_bucket(Bucket="inl")

    @classmethod
    def start(cls):
        cls.p = Podiam.start("--state", cls.state, "--fixtures", cls.fixtures)
        cls.s3 = cls.p.boto3("s3")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def files(self):
        root = self.state + ".objects"
        return sum(len(fs) for d, _, fs in os.walk(root) if not d.endswith("/tmp"))

    def bodies(self, bucket="inl", key=None):
        db = sqlite3.connect("file:%s?mode=ro" % self.state, uri=True)
        try:
            if key is None:
                q = db.execute("SELECT count(*) FROM s3_object_bodies WHERE bucket = ?",
                               (bucket,))
            else:
                q = db.execute("SELECT count(*) FROM s3_object_bodies WHERE bucket = ? AND "
                               "key = ?", (bucket, key))
            return q.fetchone()[0]
        finally:
            db.close()

    def put(self, key, data, **kw):
        before = self.files()
        r = self.s3.put_object(Bucket="inl", Key=key, Body=data, **kw)
        self.assertEqual(r["ETag"], md5(data))
        return before, r

    def check(self, key, data):
        g = self.s3.get_object(Bucket="inl", Key=key)
        self.assertEqual(g["Body"].read(), data, key)
        self.assertEqual(g["ETag"], md5(data))
        self.assertEqual(g["ContentLength"], len(data))
        return g

    def test_sizes_across_the_threshold(self):
        for n in SIZES:
            data = os.urandom(n)
            key = "size-%d" % n
            before, r = self.put(key, data, ChecksumAlgorithm="SHA256")
            self.assertEqual(r["ChecksumSHA256"], sha256_b64(data))
            self.assertEqual(self.files() - before, 1 if n > T else 0, n)
            self.assertEqual(self.bodies(key=key), 0 if n > T else 1, n)
            self.check(key, data)
            g = self.s3.get_object(Bucket="inl", Key=key, ChecksumMode="ENABLED")
            self.assertEqual(g["ChecksumSHA256"], sha256_b64(data))
            h = self.s3.head_object(Bucket="inl", Key=key, ChecksumMode="ENABLED")
            self.assertEqual(h["ContentLength"], n)
            self.assertEqual(h["ETag"], md5(data))
            self.assertEqual(h["ChecksumSHA256"], sha256_b64(data))

    def test_same_headers_inline_and_file(self):
        kw = dict(ContentType="text/x-test", CacheControl="no-cache",
                  ContentDisposition="inline", Metadata={"colour": "blue"},
                  Tagging="a=1&b=2")
        self.put("hdr-small", b"s" * T, **kw)
        self.put("hdr-big", b"b" * (T + 1), **kw)
        heads = []
        for key in ("hdr-small", "hdr-big"):
            for op in (self.s3.get_object, self.s3.head_object):
                h = op(Bucket="inl", Key=key)["ResponseMetadata"]["HTTPHeaders"]
                heads.append({k: v for k, v in h.items()
                              if k not in ("x-amz-request-id", "x-amz-id-2", "date", "etag",
                                           "content-length", "last-modified",
                                           "x-podiam-decision-id")
                              and not k.startswith("x-amz-checksum-crc")})
                self.assertEqual(h.get("x-amz-tagging-count"), "2")  # GET and HEAD
        self.assertEqual(heads[0], heads[2])  # GET: inline and file
        self.assertEqual(heads[1], heads[3])  # HEAD
        self.assertEqual(heads[0]["content-type"], "text/x-test")
        self.assertEqual(heads[0]["x-amz-meta-colour"], "blue")

    def test_overwrite_small_by_large_and_back(self):
        small, large = os.urandom(100), os.urandom(T + 1)
        before, _ = self.put("ow", small)
        self.assertEqual(self.files(), before)
        self.put("ow", large)
        self.assertEqual(self.files(), before + 1)
        self.assertEqual(self.bodies(key="ow"), 0)
        self.check("ow", large)
        self.put("ow", small)
        self.assertEqual(self.files(), before)  # the large object's file is gone
        self.assertEqual(self.bodies(key="ow"), 1)
        self.check("ow", small)
        self.s3.delete_object(Bucket="inl", Key="ow")
        self.assertEqual(self.bodies(key="ow"), 0)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket="inl", Key="ow")
        self.assertEqual(cm.exception.response["Error"]["Code"], "NoSuchKey")

    def conditional_put(self, body, **cond):
        """PutObject with If-None-Match / If-Match: through boto3 when its botocore knows
        them, else through the pinned JS SDK (Debian 12's botocore 1.29 does not). Returns
        None or the error code."""
        if all(botocore_has(self.s3, "PutObject", k) for k in cond):
            try:
                self.s3.put_object(Bucket="inl", Key="cond", Body=body, **cond)
                return None
            except botocore.exceptions.ClientError as e:
                return e.response["Error"]["Code"]
        why = js_sdk_missing()
        if why:
            self.skipTest(too_old("PutObject " + "/".join(cond), "the JS SDK") +
                          ", but " + why)
        r = js_put_object(self.p.endpoint, Bucket="inl", Key="cond", Body=body.decode(), **cond)
        return None if r["ok"] else r["code"]

    def test_conditional_put_and_delete_on_inline(self):
        data = b"conditional"
        self.put("cond", data)
        self.assertEqual(self.conditional_put(b"x", IfNoneMatch="*"), "PreconditionFailed")
        self.check("cond", data)
        self.assertIsNone(self.conditional_put(b"y", IfMatch=md5(data)))
        self.check("cond", b"y")
        self.s3.delete_objects(Bucket="inl", Delete={"Objects": [{"Key": "cond"}]})
        self.assertEqual(self.bodies(key="cond"), 0)

    def test_copy_across_the_threshold(self):
        small, large = os.urandom(T), os.urandom(T + 1)
        self.put("c-small", small)
        self.put("c-large", large)
        # small -> small (new key), with a checksum: no file
        before = self.files()
        r = self.s3.copy_object(Bucket="inl", Key="c-s2", CopySource="inl/c-small",
                                ChecksumAlgorithm="SHA256")["CopyObjectResult"]
        self.assertEqual(r["ETag"], md5(small))
        self.assertEqual(r["ChecksumSHA256"], sha256_b64(small))
        self.assertEqual(self.files(), before)
        self.check("c-s2", small)
        # small over a large object: the large file goes
        self.s3.copy_object(Bucket="inl", Key="c-l2", CopySource="inl/c-large")
        self.assertEqual(self.files(), before + 1)
        self.s3.copy_object(Bucket="inl", Key="c-l2", CopySource="inl/c-small")
        self.assertEqual(self.files(), before)
        self.check("c-l2", small)
        # large over a small object: a file again, the inline body goes
        self.s3.copy_object(Bucket="inl", Key="c-s2", CopySource="inl/c-large")
        self.assertEqual(self.files(), before + 1)
        self.assertEqual(self.bodies(key="c-s2"), 0)
        self.check("c-s2", large)
        # across buckets, metadata replaced
        self.s3.create_bucket(Bucket="inl-other")
        self.s3.copy_object(Bucket="inl-other", Key="x", CopySource="inl/c-small",
                            MetadataDirective="REPLACE", Metadata={"k": "v"})
        g = self.s3.get_object(Bucket="inl-other", Key="x")
        self.assertEqual(g["Body"].read(), small)
        self.assertEqual(g["Metadata"], {"k": "v"})
        self.assertEqual(self.bodies("inl-other"), 1)

    def test_upload_part_copy_from_inline_source(self):
        src = os.urandom(3000)
        self.put("upc-src", src)
        big = os.urandom(5 * 1024 * 1024)
        up = self.s3.create_multipart_upload(Bucket="inl", Key="upc")["UploadId"]
        p1 = self.s3.upload_part(Bucket="inl", Key="upc", UploadId=up, PartNumber=1, Body=big)
        p2 = self.s3.upload_part_copy(Bucket="inl", Key="upc", UploadId=up, PartNumber=2,
                                      CopySource="inl/upc-src",
                                      CopySourceRange="bytes=100-1099")["CopyPartResult"]
        self.assertEqual(p2["ETag"], md5(src[100:1100]))
        self.s3.complete_multipart_upload(
            Bucket="inl", Key="upc", UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]},
                                       {"PartNumber": 2, "ETag": p2["ETag"]}]})
        g = self.s3.get_object(Bucket="inl", Key="upc")
        self.assertEqual(g["Body"].read(), big + src[100:1100])
        # a small multipart object is a file: overwriting it with a small put removes it
        before = self.files()
        self.put("upc", b"tiny")
        self.assertEqual(self.files(), before - 1)
        self.check("upc", b"tiny")

    def test_range_and_conditions_on_inline(self):
        data = os.urandom(T)
        self.put("rng", data)
        for hdr, want in [("bytes=10-99", data[10:100]), ("bytes=-5", data[-5:]),
                          ("bytes=%d-" % (T - 3), data[-3:]), ("bytes=0-0", data[:1]),
                          ("bytes=100-999999", data[100:])]:
            g = self.s3.get_object(Bucket="inl", Key="rng", Range=hdr)
            self.assertEqual(g["Body"].read(), want, hdr)
            self.assertEqual(g["ResponseMetadata"]["HTTPStatusCode"], 206)
            self.assertEqual(g["ContentLength"], len(want))
            self.assertTrue(g["ContentRange"].endswith("/%d" % T))
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket="inl", Key="rng", Range="bytes=%d-" % T)
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidRange")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket="inl", Key="rng", IfNoneMatch=md5(data))
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 304)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket="inl", Key="rng", IfMatch='"0000"')
        self.assertEqual(cm.exception.response["Error"]["Code"], "PreconditionFailed")
        g = self.s3.get_object(Bucket="inl", Key="rng", IfMatch=md5(data),
                               ResponseContentType="application/x-over")
        self.assertEqual(g["ContentType"], "application/x-over")
        self.assertEqual(g["Body"].read(), data)

    def test_presigned_get(self):
        data = b"presigned inline bytes"
        self.put("pre", data)
        import boto3
        import botocore.config
        sess = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                     region_name="us-east-1")
        s3 = sess.client("s3", endpoint_url=self.p.endpoint,
                         config=botocore.config.Config(signature_version="s3v4"))
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "inl", "Key": "pre"},
                                        ExpiresIn=60)
        with urllib.request.urlopen(url) as resp:
            self.assertEqual(resp.read(), data)
            self.assertEqual(resp.headers["ETag"], md5(data))
            self.assertEqual(resp.headers["Content-Length"], str(len(data)))

    def test_tagging_and_attributes(self):
        self.put("tag", b"tagged")
        self.s3.put_object_tagging(Bucket="inl", Key="tag",
                                   Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
        self.assertEqual(self.s3.get_object_tagging(Bucket="inl", Key="tag")["TagSet"],
                         [{"Key": "k", "Value": "v"}])
        a = self.s3.get_object_attributes(Bucket="inl", Key="tag",
                                          ObjectAttributes=["ObjectSize", "ETag"])
        self.assertEqual(a["ObjectSize"], 6)
        self.check("tag", b"tagged")

    def test_fixtures_and_export(self):
        g = self.s3.get_object(Bucket="fx-inline", Key="small.txt")
        self.assertEqual(g["Body"].read(), b"hello inline")
        self.assertEqual(g["ContentType"], "text/plain")
        g = self.s3.get_object(Bucket="fx-inline", Key="big.bin", ChecksumMode="ENABLED")
        self.assertEqual(g["Body"].read(), self.fixture_big)
        self.assertEqual(g["ChecksumSHA256"], sha256_b64(self.fixture_big))
        self.assertEqual(self.bodies("fx-inline"), 1)
        exported = self.p.admin("GET", "state")
        objs = {o["key"]: o for b in exported["s3"]["buckets"] if b["name"] == "fx-inline"
                for o in b["objects"]}
        self.assertEqual(objs["small.txt"]["text"], "hello inline")
        self.assertEqual(base64.b64decode(objs["big.bin"]["base64"]), self.fixture_big)

    def test_zz_restart_keeps_inline_objects(self):
        data = {n: os.urandom(n) for n in SIZES}
        for n, d in data.items():
            self.put("keep-%d" % n, d)
        type(self).p.stop()
        type(self).start()
        for n, d in data.items():
            self.check("keep-%d" % n, d)


class ThresholdFlagTest(unittest.TestCase):
    """--s3-inline-max 0 keeps every object a file; a bigger threshold takes bigger ones."""

    def run_with(self, flag, size, want_files):
        d = tempfile.mkdtemp(prefix="podiam-inline-flag-")
        state = os.path.join(d, "state.db")
        p = Podiam.start("--state", state, "--s3-inline-max", flag)
        try:
            s3 = p.boto3("s3")
            s3.create_bucket(Bucket="bkt")
            data = os.urandom(size)
            s3.put_object(Bucket="bkt", Key="k", Body=data)
            self.assertEqual(s3.get_object(Bucket="bkt", Key="k")["Body"].read(), data)
            files = sum(len(fs) for dd, _, fs in os.walk(state + ".objects")
                        if not dd.endswith("/tmp"))
            self.assertEqual(files, want_files)
        finally:
            p.stop()
            shutil.rmtree(d, ignore_errors=True)

    def test_zero_disables(self):
        self.run_with("0", 0, 1)

    def test_larger_threshold(self):
        self.run_with("262144", 200000, 0)
        self.run_with("262144", 262145, 1)


if __name__ == "__main__":
    unittest.main()
