"""S3 through boto3 (over http and over https with podiam's CA): buckets, objects, conditional
and ranged reads, checksums, copies, tagging, listing, multipart uploads, error shapes."""
import base64
import hashlib
import os
import unittest
import urllib.request
import zlib

import botocore.exceptions

from podiam_harness import Podiam, botocore_checksum_missing, botocore_has, too_old


def code_of(cm):
    return cm.exception.response["Error"]["Code"]


class S3Base(unittest.TestCase):
    tls = False

    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.shared()
        cls.s3 = cls.p.boto3("s3", tls=cls.tls)
        cls.bucket = "api-%s" % ("tls" if cls.tls else "http")
        try:
            cls.s3.create_bucket(Bucket=cls.bucket)
        except botocore.exceptions.ClientError:
            pass


class BucketTest(S3Base):
    def test_create_head_list_location(self):
        self.s3.create_bucket(Bucket="bk-one")
        self.s3.head_bucket(Bucket="bk-one")
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        self.assertIn("bk-one", names)
        self.assertIsNone(self.s3.get_bucket_location(Bucket="bk-one")["LocationConstraint"])
        # us-east-1 answers 200 to the owner creating it again
        self.s3.create_bucket(Bucket="bk-one")
        self.s3.delete_bucket(Bucket="bk-one")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.head_bucket(Bucket="bk-one")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

    def test_location_constraint(self):
        s3 = self.p.boto3("s3", region_name="eu-west-1") if False else None
        import boto3
        import botocore.config
        s = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                  region_name="eu-west-1")
        s3 = s.client("s3", endpoint_url=self.p.endpoint,
                      config=botocore.config.Config(retries={"max_attempts": 1}))
        s3.create_bucket(Bucket="bk-eu",
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.assertEqual(s3.get_bucket_location(Bucket="bk-eu")["LocationConstraint"],
                         "eu-west-1")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            s3.create_bucket(Bucket="bk-eu",
                             CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.assertEqual(code_of(cm), "BucketAlreadyOwnedByYou")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            s3.create_bucket(Bucket="bk-eu2")
        self.assertEqual(code_of(cm), "IllegalLocationConstraintException")
        s3.delete_bucket(Bucket="bk-eu")

    def test_invalid_names(self):
        for name in ["ab", "Upper-case", "a..b", "192.168.5.4", "-start", "xn--bucket",
                     "bucket-s3alias", "a" * 64]:
            with self.assertRaises(botocore.exceptions.ClientError, msg=name) as cm:
                self.s3.create_bucket(Bucket=name)
            self.assertEqual(code_of(cm), "InvalidBucketName", name)

    def test_not_empty_and_no_such_bucket(self):
        self.s3.create_bucket(Bucket="bk-full")
        self.s3.put_object(Bucket="bk-full", Key="k", Body=b"x")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.delete_bucket(Bucket="bk-full")
        self.assertEqual(code_of(cm), "BucketNotEmpty")
        self.s3.delete_object(Bucket="bk-full", Key="k")
        self.s3.delete_bucket(Bucket="bk-full")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.list_objects_v2(Bucket="bk-full")
        self.assertEqual(code_of(cm), "NoSuchBucket")
        self.assertEqual(cm.exception.response["Error"]["BucketName"], "bk-full")

    def test_policy_tagging_versioning(self):
        b = self.bucket
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_bucket_policy(Bucket=b)
        self.assertEqual(code_of(cm), "NoSuchBucketPolicy")
        pol = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
               '"Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/pub/*"}]}' % b)
        # a new bucket's BlockPublicPolicy refuses a public policy until it is lifted
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_bucket_policy(Bucket=b, Policy=pol)
        self.assertEqual(code_of(cm), "AccessDenied")
        self.s3.delete_public_access_block(Bucket=b)
        self.s3.put_bucket_policy(Bucket=b, Policy=pol)
        self.assertEqual(self.s3.get_bucket_policy(Bucket=b)["Policy"], pol)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_bucket_policy(Bucket=b, Policy='{"Statement":[{"Effect":"Allow"}]}')
        self.assertEqual(code_of(cm), "MalformedPolicy")
        self.s3.delete_bucket_policy(Bucket=b)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_bucket_tagging(Bucket=b)
        self.assertEqual(code_of(cm), "NoSuchTagSet")
        self.s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "team", "Value": "a"}]})
        self.assertEqual(self.s3.get_bucket_tagging(Bucket=b)["TagSet"],
                         [{"Key": "team", "Value": "a"}])
        self.s3.delete_bucket_tagging(Bucket=b)
        v = self.s3.get_bucket_versioning(Bucket=b)
        self.assertNotIn("Status", v)


class ObjectTest(S3Base):
    def test_put_get_metadata_and_content_headers(self):
        b = self.bucket
        r = self.s3.put_object(Bucket=b, Key="dir/a b+c.txt", Body=b"hello world",
                               ContentType="text/plain", ContentEncoding="identity",
                               ContentDisposition="attachment", CacheControl="no-cache",
                               ContentLanguage="en", Expires="Thu, 01 Dec 2044 16:00:00 GMT",
                               Metadata={"Owner": "me", "x": "1"})
        etag = '"%s"' % hashlib.md5(b"hello world").hexdigest()
        self.assertEqual(r["ETag"], etag)
        g = self.s3.get_object(Bucket=b, Key="dir/a b+c.txt")
        self.assertEqual(g["Body"].read(), b"hello world")
        self.assertEqual(g["ETag"], etag)
        self.assertEqual(g["ContentType"], "text/plain")
        self.assertEqual(g["ContentEncoding"], "identity")
        self.assertEqual(g["ContentDisposition"], "attachment")
        self.assertEqual(g["CacheControl"], "no-cache")
        self.assertEqual(g["ContentLanguage"], "en")
        self.assertEqual(g["Metadata"], {"owner": "me", "x": "1"})
        self.assertEqual(g["ContentLength"], 11)
        h = self.s3.head_object(Bucket=b, Key="dir/a b+c.txt")
        self.assertEqual(h["ContentLength"], 11)
        self.assertEqual(h["ETag"], etag)
        self.assertEqual(h["AcceptRanges"], "bytes")

    def test_default_content_type_and_empty_object(self):
        self.s3.put_object(Bucket=self.bucket, Key="empty", Body=b"")
        g = self.s3.get_object(Bucket=self.bucket, Key="empty")
        self.assertEqual(g["Body"].read(), b"")
        self.assertEqual(g["ContentType"], "binary/octet-stream")
        self.assertEqual(g["ETag"], '"d41d8cd98f00b204e9800998ecf8427e"')

    def test_no_such_key(self):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=self.bucket, Key="nope/none")
        self.assertEqual(code_of(cm), "NoSuchKey")
        self.assertEqual(cm.exception.response["Error"]["Key"], "nope/none")
        self.assertTrue(cm.exception.response["ResponseMetadata"]["HostId"])

    def test_range(self):
        b = self.bucket
        data = bytes(range(256)) * 4
        self.s3.put_object(Bucket=b, Key="range", Body=data)
        g = self.s3.get_object(Bucket=b, Key="range", Range="bytes=10-19")
        self.assertEqual(g["Body"].read(), data[10:20])
        self.assertEqual(g["ContentRange"], "bytes 10-19/1024")
        self.assertEqual(g["ResponseMetadata"]["HTTPStatusCode"], 206)
        g = self.s3.get_object(Bucket=b, Key="range", Range="bytes=-5")
        self.assertEqual(g["Body"].read(), data[-5:])
        g = self.s3.get_object(Bucket=b, Key="range", Range="bytes=1000-")
        self.assertEqual(g["Body"].read(), data[1000:])
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=b, Key="range", Range="bytes=2000-3000")
        self.assertEqual(code_of(cm), "InvalidRange")
        self.assertEqual(cm.exception.response["Error"]["ActualObjectSize"], "1024")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 416)

    def test_conditional(self):
        b = self.bucket
        r = self.s3.put_object(Bucket=b, Key="cond", Body=b"v1")
        etag = r["ETag"]
        self.s3.get_object(Bucket=b, Key="cond", IfMatch=etag)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=b, Key="cond", IfMatch='"0000"')
        self.assertEqual(code_of(cm), "PreconditionFailed")
        self.assertEqual(cm.exception.response["Error"]["Condition"], "If-Match")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=b, Key="cond", IfNoneMatch=etag)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 304)
        import datetime
        future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
        past = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=b, Key="cond", IfModifiedSince=future)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 304)
        self.s3.get_object(Bucket=b, Key="cond", IfModifiedSince=past)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=b, Key="cond", IfUnmodifiedSince=past)
        self.assertEqual(code_of(cm), "PreconditionFailed")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.head_object(Bucket=b, Key="cond", IfMatch='"zz"')
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 412)
        # conditional writes
        with self.subTest("PutObject If-None-Match: *"):
            if not botocore_has(self.s3, "PutObject", "IfNoneMatch"):
                self.skipTest(too_old("PutObject IfNoneMatch",
                                      "tests/e2e/js/s3.test.mjs (conditional writes)"))
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                self.s3.put_object(Bucket=b, Key="cond", Body=b"v2", IfNoneMatch="*")
            self.assertEqual(code_of(cm), "PreconditionFailed")

    def test_response_overrides(self):
        self.s3.put_object(Bucket=self.bucket, Key="ovr", Body=b"x", ContentType="text/plain")
        g = self.s3.get_object(Bucket=self.bucket, Key="ovr", ResponseContentType="image/png",
                               ResponseContentDisposition="inline",
                               ResponseCacheControl="max-age=1")
        self.assertEqual(g["ContentType"], "image/png")
        self.assertEqual(g["ContentDisposition"], "inline")
        self.assertEqual(g["CacheControl"], "max-age=1")

    def test_checksums_every_algorithm(self):
        b = self.bucket
        data = os.urandom(3000)
        for alg in ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"]:
            with self.subTest(alg):
                why = botocore_checksum_missing(alg)  # Debian 12's botocore: no CRC64NVME
                if why:
                    self.skipTest(why + "; tests/e2e/js/s3.test.mjs (every checksum "
                                  "algorithm) covers it")
                r = self.s3.put_object(Bucket=b, Key="ck-" + alg, Body=data,
                                       ChecksumAlgorithm=alg)
                self.assertIn("Checksum" + alg, r)
                g = self.s3.get_object(Bucket=b, Key="ck-" + alg, ChecksumMode="ENABLED")
                self.assertEqual(g["Body"].read(), data)
                self.assertEqual(g["Checksum" + alg], r["Checksum" + alg])
                h = self.s3.head_object(Bucket=b, Key="ck-" + alg, ChecksumMode="ENABLED")
                self.assertEqual(h["Checksum" + alg], r["Checksum" + alg])
        crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        self.assertEqual(self.s3.head_object(Bucket=b, Key="ck-CRC32",
                                             ChecksumMode="ENABLED")["ChecksumCRC32"], crc)
        attrs = self.s3.get_object_attributes(Bucket=b, Key="ck-SHA256",
                                              ObjectAttributes=["ETag", "Checksum", "ObjectSize"])
        self.assertEqual(attrs["ObjectSize"], 3000)
        self.assertEqual(attrs["ETag"], hashlib.md5(data).hexdigest())
        self.assertEqual(attrs["Checksum"]["ChecksumSHA256"],
                         base64.b64encode(hashlib.sha256(data).digest()).decode())

    def test_bad_digests(self):
        b = self.bucket
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_object(Bucket=b, Key="bad", Body=b"abc", ChecksumCRC32="AAAAAA==")
        self.assertEqual(code_of(cm), "BadDigest")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_object(Bucket=b, Key="bad", Body=b"abc",
                               ContentMD5=base64.b64encode(b"0" * 16).decode())
        self.assertEqual(code_of(cm), "BadDigest")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_object(Bucket=b, Key="bad", Body=b"abc", ContentMD5="nope")
        self.assertEqual(code_of(cm), "InvalidDigest")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_object(Bucket=b, Key="bad", Body=b"abc", ChecksumSHA256="short")
        self.assertEqual(code_of(cm), "InvalidRequest")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.head_object(Bucket=b, Key="bad")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        md5 = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
        self.s3.put_object(Bucket=b, Key="good", Body=b"abc", ContentMD5=md5)

    def test_delete_and_delete_objects(self):
        b = self.bucket
        for i in range(5):
            self.s3.put_object(Bucket=b, Key="del/%d" % i, Body=b"x")
        self.s3.delete_object(Bucket=b, Key="del/0")
        self.s3.delete_object(Bucket=b, Key="del/never")  # 204 either way
        r = self.s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "del/1"},
                                                                 {"Key": "del/2"}]})
        self.assertEqual(sorted(d["Key"] for d in r["Deleted"]), ["del/1", "del/2"])
        r = self.s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "del/3"},
                                                                 {"Key": "del/4"}],
                                                     "Quiet": True})
        self.assertNotIn("Deleted", r)
        self.assertNotIn("Contents", self.s3.list_objects_v2(Bucket=b, Prefix="del/"))

    def test_copy(self):
        b = self.bucket
        self.s3.put_object(Bucket=b, Key="src", Body=b"copy me", ContentType="text/x",
                           Metadata={"a": "1"}, Tagging="t=1")
        r = self.s3.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": b, "Key": "src"})
        self.assertEqual(r["CopyObjectResult"]["ETag"],
                         '"%s"' % hashlib.md5(b"copy me").hexdigest())
        g = self.s3.get_object(Bucket=b, Key="dst")
        self.assertEqual(g["Body"].read(), b"copy me")
        self.assertEqual(g["Metadata"], {"a": "1"})
        self.assertEqual(g["ContentType"], "text/x")
        self.assertEqual(self.s3.get_object_tagging(Bucket=b, Key="dst")["TagSet"],
                         [{"Key": "t", "Value": "1"}])
        self.s3.copy_object(Bucket=b, Key="dst2", CopySource="%s/src" % b,
                            MetadataDirective="REPLACE", Metadata={"b": "2"},
                            ContentType="text/y")
        g = self.s3.head_object(Bucket=b, Key="dst2")
        self.assertEqual(g["Metadata"], {"b": "2"})
        self.assertEqual(g["ContentType"], "text/y")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.copy_object(Bucket=b, Key="src", CopySource="%s/src" % b)
        self.assertEqual(code_of(cm), "InvalidRequest")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.copy_object(Bucket=b, Key="dst3", CopySource="%s/src" % b,
                                CopySourceIfMatch='"nomatch"')
        self.assertEqual(code_of(cm), "PreconditionFailed")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.copy_object(Bucket=b, Key="dst3", CopySource="%s/missing" % b)
        self.assertEqual(code_of(cm), "NoSuchKey")

    def test_tagging(self):
        b = self.bucket
        self.s3.put_object(Bucket=b, Key="tagged", Body=b"x", Tagging="a=1&b=two%20words")
        self.assertEqual(self.s3.get_object_tagging(Bucket=b, Key="tagged")["TagSet"],
                         [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"}])
        self.assertEqual(self.s3.get_object(Bucket=b, Key="tagged")["TagCount"], 2)
        self.s3.put_object_tagging(Bucket=b, Key="tagged",
                                   Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
        self.assertEqual(self.s3.get_object_tagging(Bucket=b, Key="tagged")["TagSet"],
                         [{"Key": "c", "Value": "3"}])
        self.s3.delete_object_tagging(Bucket=b, Key="tagged")
        self.assertEqual(self.s3.get_object_tagging(Bucket=b, Key="tagged")["TagSet"], [])
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_object_tagging(Bucket=b, Key="tagged", Tagging={"TagSet": [
                {"Key": "k%d" % i, "Value": "v"} for i in range(11)]})
        self.assertEqual(code_of(cm), "InvalidTag")

    def test_versions_on_unversioned_bucket(self):
        b = self.bucket
        self.s3.put_object(Bucket=b, Key="ver/a", Body=b"x")
        g = self.s3.get_object(Bucket=b, Key="ver/a", VersionId="null")
        self.assertEqual(g["Body"].read(), b"x")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_object(Bucket=b, Key="ver/a", VersionId="3HL4kqtJlcpXroDTDmjVBH40Nrjfkd")
        self.assertEqual(code_of(cm), "InvalidArgument")
        v = self.s3.list_object_versions(Bucket=b, Prefix="ver/")
        self.assertEqual([(x["Key"], x["VersionId"], x["IsLatest"]) for x in v["Versions"]],
                         [("ver/a", "null", True)])


class ListTest(S3Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lb = "list-" + ("tls" if cls.tls else "http")
        cls.s3.create_bucket(Bucket=cls.lb)
        cls.keys = ["a", "b/1", "b/2", "b/c/3", "c d", "d+e", "e/", "f\u00e9", "g/x/y"]
        for k in cls.keys:
            cls.s3.put_object(Bucket=cls.lb, Key=k, Body=k.encode())

    def test_v2_all_and_pagination(self):
        r = self.s3.list_objects_v2(Bucket=self.lb)
        self.assertEqual([o["Key"] for o in r["Contents"]], sorted(self.keys, key=lambda k:
                                                                   k.encode()))
        self.assertEqual(r["KeyCount"], len(self.keys))
        got, token = [], None
        while True:
            kw = {"ContinuationToken": token} if token else {}
            r = self.s3.list_objects_v2(Bucket=self.lb, MaxKeys=2, **kw)
            got += [o["Key"] for o in r.get("Contents", [])]
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        self.assertEqual(got, sorted(self.keys, key=lambda k: k.encode()))
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.lb,
                                                                  PaginationConfig={
                                                                      "PageSize": 3})
        self.assertEqual(sum(len(p.get("Contents", [])) for p in pages), len(self.keys))

    def test_delimiter_prefix_start_after(self):
        r = self.s3.list_objects_v2(Bucket=self.lb, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["b/", "e/", "g/"])
        self.assertEqual([o["Key"] for o in r["Contents"]], ["a", "c d", "d+e", "f\u00e9"])
        r = self.s3.list_objects_v2(Bucket=self.lb, Prefix="b/", Delimiter="/")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["b/1", "b/2"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["b/c/"])
        r = self.s3.list_objects_v2(Bucket=self.lb, StartAfter="b/2")
        self.assertEqual(r["Contents"][0]["Key"], "b/c/3")
        # common prefixes across pages are not repeated
        seen, token = [], None
        while True:
            kw = {"ContinuationToken": token} if token else {}
            r = self.s3.list_objects_v2(Bucket=self.lb, Delimiter="/", MaxKeys=1, **kw)
            seen += [o["Key"] for o in r.get("Contents", [])]
            seen += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        self.assertEqual(seen, ["a", "b/", "c d", "d+e", "e/", "f\u00e9", "g/"])

    def test_v1_marker(self):
        r = self.s3.list_objects(Bucket=self.lb, Marker="c d", MaxKeys=2)
        self.assertEqual([o["Key"] for o in r["Contents"]], ["d+e", "e/"])
        self.assertTrue(r["IsTruncated"])
        r = self.s3.list_objects(Bucket=self.lb, Delimiter="/", MaxKeys=2)
        self.assertEqual(r["NextMarker"], "b/")
        r = self.s3.list_objects(Bucket=self.lb, Delimiter="/", Marker="b/")
        self.assertEqual(r["Contents"][0]["Key"], "c d")

    def test_url_encoding(self):
        # boto3 asks for encoding-type=url and decodes the answer itself
        r = self.s3.list_objects_v2(Bucket=self.lb, Prefix="c")
        self.assertEqual([o["Key"] for o in r["Contents"]], ["c d"])
        # asked for explicitly, boto3 leaves the encoded keys as they came
        raw = self.s3.list_objects_v2(Bucket=self.lb, EncodingType="url", Prefix="d")
        self.assertEqual(raw["Contents"][0]["Key"], "d%2Be")
        raw = self.s3.list_objects_v2(Bucket=self.lb, EncodingType="url", Prefix="c")
        self.assertEqual(raw["Contents"][0]["Key"], "c%20d")

    def test_max_keys_zero_and_bad_token(self):
        r = self.s3.list_objects_v2(Bucket=self.lb, MaxKeys=0)
        self.assertNotIn("Contents", r)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.list_objects_v2(Bucket=self.lb, ContinuationToken="garbage!")
        self.assertEqual(code_of(cm), "InvalidArgument")


class MultipartTest(S3Base):
    def test_upload_complete_with_checksums(self):
        b = self.bucket
        part1 = os.urandom(5 * 1024 * 1024)
        part2 = os.urandom(1234)
        u = self.s3.create_multipart_upload(Bucket=b, Key="mp", ChecksumAlgorithm="CRC32",
                                            Metadata={"m": "1"}, ContentType="app/x")
        uid = u["UploadId"]
        self.assertEqual(u["ChecksumAlgorithm"], "CRC32")
        r1 = self.s3.upload_part(Bucket=b, Key="mp", UploadId=uid, PartNumber=1, Body=part1,
                                 ChecksumAlgorithm="CRC32")
        r2 = self.s3.upload_part(Bucket=b, Key="mp", UploadId=uid, PartNumber=2, Body=part2,
                                 ChecksumAlgorithm="CRC32")
        parts = self.s3.list_parts(Bucket=b, Key="mp", UploadId=uid)["Parts"]
        self.assertEqual([(p["PartNumber"], p["Size"]) for p in parts],
                         [(1, len(part1)), (2, len(part2))])
        ups = self.s3.list_multipart_uploads(Bucket=b)["Uploads"]
        self.assertIn(uid, [x["UploadId"] for x in ups])
        c = self.s3.complete_multipart_upload(
            Bucket=b, Key="mp", UploadId=uid,
            MultipartUpload={"Parts": [
                {"PartNumber": 1, "ETag": r1["ETag"], "ChecksumCRC32": r1["ChecksumCRC32"]},
                {"PartNumber": 2, "ETag": r2["ETag"], "ChecksumCRC32": r2["ChecksumCRC32"]}]})
        md5s = hashlib.md5(hashlib.md5(part1).digest() + hashlib.md5(part2).digest()).hexdigest()
        self.assertEqual(c["ETag"], '"%s-2"' % md5s)
        comp = base64.b64encode(zlib.crc32(base64.b64decode(r1["ChecksumCRC32"]) +
                                           base64.b64decode(r2["ChecksumCRC32"]))
                                .to_bytes(4, "big")).decode()
        self.assertEqual(c["ChecksumCRC32"], comp + "-2")
        g = self.s3.get_object(Bucket=b, Key="mp")
        self.assertEqual(g["Body"].read(), part1 + part2)
        self.assertEqual(g["Metadata"], {"m": "1"})
        self.assertEqual(g["ContentType"], "app/x")
        g = self.s3.get_object(Bucket=b, Key="mp", PartNumber=2)
        self.assertEqual(g["Body"].read(), part2)
        self.assertEqual(g["PartsCount"], 2)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.list_parts(Bucket=b, Key="mp", UploadId=uid)
        self.assertEqual(code_of(cm), "NoSuchUpload")

    def test_errors(self):
        b = self.bucket
        uid = self.s3.create_multipart_upload(Bucket=b, Key="mperr")["UploadId"]
        r1 = self.s3.upload_part(Bucket=b, Key="mperr", UploadId=uid, PartNumber=1, Body=b"a")
        r2 = self.s3.upload_part(Bucket=b, Key="mperr", UploadId=uid, PartNumber=2, Body=b"b")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.complete_multipart_upload(Bucket=b, Key="mperr", UploadId=uid,
                                              MultipartUpload={"Parts": [
                                                  {"PartNumber": 1, "ETag": r1["ETag"]},
                                                  {"PartNumber": 2, "ETag": r2["ETag"]}]})
        self.assertEqual(code_of(cm), "EntityTooSmall")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.complete_multipart_upload(Bucket=b, Key="mperr", UploadId=uid,
                                              MultipartUpload={"Parts": [
                                                  {"PartNumber": 2, "ETag": r2["ETag"]},
                                                  {"PartNumber": 1, "ETag": r1["ETag"]}]})
        self.assertEqual(code_of(cm), "InvalidPartOrder")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.complete_multipart_upload(Bucket=b, Key="mperr", UploadId=uid,
                                              MultipartUpload={"Parts": [
                                                  {"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)}]})
        self.assertEqual(code_of(cm), "InvalidPart")
        # a single small part is fine (the last part may be small)
        c = self.s3.complete_multipart_upload(Bucket=b, Key="mperr", UploadId=uid,
                                              MultipartUpload={"Parts": [
                                                  {"PartNumber": 1, "ETag": r1["ETag"]}]})
        self.assertTrue(c["ETag"].endswith('-1"'))
        self.assertEqual(self.s3.get_object(Bucket=b, Key="mperr")["Body"].read(), b"a")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.upload_part(Bucket=b, Key="mperr", UploadId=uid, PartNumber=1, Body=b"z")
        self.assertEqual(code_of(cm), "NoSuchUpload")
        uid = self.s3.create_multipart_upload(Bucket=b, Key="mpabort")["UploadId"]
        self.s3.upload_part(Bucket=b, Key="mpabort", UploadId=uid, PartNumber=1, Body=b"a")
        self.s3.abort_multipart_upload(Bucket=b, Key="mpabort", UploadId=uid)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.abort_multipart_upload(Bucket=b, Key="mpabort", UploadId=uid)
        self.assertEqual(code_of(cm), "NoSuchUpload")

    def test_upload_part_copy(self):
        b = self.bucket
        src = os.urandom(6 * 1024 * 1024)
        self.s3.put_object(Bucket=b, Key="pcsrc", Body=src)
        uid = self.s3.create_multipart_upload(Bucket=b, Key="pcdst")["UploadId"]
        p1 = self.s3.upload_part_copy(Bucket=b, Key="pcdst", UploadId=uid, PartNumber=1,
                                      CopySource={"Bucket": b, "Key": "pcsrc"},
                                      CopySourceRange="bytes=0-5242879")
        p2 = self.s3.upload_part_copy(Bucket=b, Key="pcdst", UploadId=uid, PartNumber=2,
                                      CopySource={"Bucket": b, "Key": "pcsrc"},
                                      CopySourceRange="bytes=5242880-%d" % (len(src) - 1))
        self.s3.complete_multipart_upload(Bucket=b, Key="pcdst", UploadId=uid,
                                          MultipartUpload={"Parts": [
                                              {"PartNumber": 1,
                                               "ETag": p1["CopyPartResult"]["ETag"]},
                                              {"PartNumber": 2,
                                               "ETag": p2["CopyPartResult"]["ETag"]}]})
        self.assertEqual(self.s3.get_object(Bucket=b, Key="pcdst")["Body"].read(), src)


class PresignTest(S3Base):
    def test_presigned_get_put_and_expiry(self):
        import time
        import boto3
        import botocore.config
        b = self.bucket
        sess = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                     region_name="us-east-1")
        s3 = sess.client("s3", endpoint_url=self.p.tls_endpoint if self.tls else self.p.endpoint,
                         config=botocore.config.Config(signature_version="s3v4"))
        put = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "ps"},
                                             ExpiresIn=60)
        req = urllib.request.Request(put, data=b"presigned body", method="PUT")
        ctx = None
        if self.tls:
            import ssl
            ctx = ssl.create_default_context(cafile=self.p.ca_file())
        with urllib.request.urlopen(req, context=ctx) as r:
            self.assertEqual(r.status, 200)
        get = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "ps"},
                                             ExpiresIn=60)
        with urllib.request.urlopen(get, context=ctx) as r:
            self.assertEqual(r.read(), b"presigned body")
        short = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "ps"},
                                               ExpiresIn=1)
        # with curl as well (it sends the URL as given; an upload with -T)
        import subprocess
        import tempfile
        curl = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}"]
        if self.tls:
            curl += ["--cacert", self.p.ca_file()]
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"from curl")
            f.flush()
            put2 = s3.generate_presigned_url("put_object", Params={"Bucket": b, "Key": "curl"},
                                             ExpiresIn=60)
            out = subprocess.run(curl + ["-T", f.name, put2], capture_output=True, check=True)
            self.assertTrue(out.stdout.endswith(b"200"), out.stdout)
        get2 = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "curl"},
                                         ExpiresIn=60)
        out = subprocess.run(curl + [get2], capture_output=True, check=True)
        self.assertEqual(out.stdout, b"from curl\n200")
        time.sleep(2.1)
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(short, context=ctx)
        self.assertEqual(cm.exception.code, 403)
        self.assertIn(b"Request has expired", cm.exception.read())


class TlsObjectTest(ObjectTest):
    """The same over https: boto3 then sends bodies aws-chunked with a trailing checksum
    (STREAMING-UNSIGNED-PAYLOAD-TRAILER): by default from botocore 1.36, and when a checksum
    algorithm is asked for in older ones (Debian 12's 1.29)."""
    tls = True

    def test_trailer_form_is_used(self):
        seen = []

        def capture(request, **kw):
            seen.append(dict(request.headers))
        self.s3.meta.events.register("before-send.s3.PutObject", capture)
        try:
            data = os.urandom(70000)
            self.s3.put_object(Bucket=self.bucket, Key="trailer", Body=data,
                               ChecksumAlgorithm="CRC32")
        finally:
            self.s3.meta.events.unregister("before-send.s3.PutObject", capture)
        h = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in seen[0].items()}
        self.assertEqual(h["x-amz-content-sha256"], "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        self.assertEqual(h["x-amz-trailer"], "x-amz-checksum-crc32")
        g = self.s3.get_object(Bucket=self.bucket, Key="trailer", ChecksumMode="ENABLED")
        self.assertEqual(g["Body"].read(), data)
        self.assertEqual(g["ChecksumCRC32"],
                         base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode())


class TlsMultipartTest(MultipartTest):
    tls = True


class TlsPresignTest(PresignTest):
    tls = True


import urllib.error  # noqa: E402

if __name__ == "__main__":
    unittest.main()
