"""S3 bucket configurations with boto3 and the aws CLI: what a bucket that never had one
answers (NoSuchCORSConfiguration, NoSuchLifecycleConfiguration, Payer BucketOwner, SSE-S3,
...), CORS put/get/delete with the browser's preflight and the CORS headers of ordinary
answers, lifecycle rules expiring objects, versions and uploads as podiam's clock moves,
default encryption on new objects, and the configurations kept as documents."""
import json
import unittest
import urllib.error
import urllib.request

import botocore.exceptions

from podiam_harness import Podiam

DAY = 86400 * 1000


def code(cm):
    return cm.exception.response["Error"]["Code"]


class Config(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pd = Podiam.shared()
        cls.s3 = cls.pd.boto3("s3")

    def bucket(self, name):
        self.s3.create_bucket(Bucket=name)
        return name

    def test_unset_configurations(self):
        b = self.bucket("cfg-unset")
        missing = {
            "get_bucket_cors": "NoSuchCORSConfiguration",
            "get_bucket_lifecycle_configuration": "NoSuchLifecycleConfiguration",
            "get_bucket_website": "NoSuchWebsiteConfiguration",
            "get_bucket_replication": "ReplicationConfigurationNotFoundError",
            "get_object_lock_configuration": "ObjectLockConfigurationNotFoundError",
            "get_bucket_policy": "NoSuchBucketPolicy",
            "get_bucket_tagging": "NoSuchTagSet",
        }
        for call, want in missing.items():
            with self.assertRaises(botocore.exceptions.ClientError, msg=call) as cm:
                getattr(self.s3, call)(Bucket=b)
            self.assertEqual(code(cm), want, call)
            self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        for call in ("get_bucket_analytics_configuration", "get_bucket_metrics_configuration",
                     "get_bucket_inventory_configuration",
                     "get_bucket_intelligent_tiering_configuration"):
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                getattr(self.s3, call)(Bucket=b, Id="x")
            self.assertEqual(code(cm), "NoSuchConfiguration")
        self.assertFalse(self.s3.list_bucket_metrics_configurations(Bucket=b)["IsTruncated"])
        self.assertEqual(self.s3.get_bucket_request_payment(Bucket=b)["Payer"], "BucketOwner")
        enc = self.s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]
        self.assertEqual(enc["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
                         "AES256")
        self.assertNotIn("Status", self.s3.get_bucket_accelerate_configuration(Bucket=b))
        self.assertNotIn("LoggingEnabled", self.s3.get_bucket_logging(Bucket=b))
        n = self.s3.get_bucket_notification_configuration(Bucket=b)
        self.assertNotIn("TopicConfigurations", n)

    def test_documents_round_trip(self):
        b = self.bucket("cfg-docs")
        self.s3.put_bucket_request_payment(Bucket=b, RequestPaymentConfiguration={
            "Payer": "Requester"})
        self.assertEqual(self.s3.get_bucket_request_payment(Bucket=b)["Payer"], "Requester")
        web = {"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "err.html"}}
        self.s3.put_bucket_website(Bucket=b, WebsiteConfiguration=web)
        got = self.s3.get_bucket_website(Bucket=b)
        self.assertEqual((got["IndexDocument"], got["ErrorDocument"]),
                         (web["IndexDocument"], web["ErrorDocument"]))
        self.s3.delete_bucket_website(Bucket=b)
        with self.assertRaises(botocore.exceptions.ClientError):
            self.s3.get_bucket_website(Bucket=b)
        self.s3.put_bucket_accelerate_configuration(Bucket=b, AccelerateConfiguration={
            "Status": "Enabled"})
        self.assertEqual(self.s3.get_bucket_accelerate_configuration(Bucket=b)["Status"],
                         "Enabled")
        # replication needs versioning
        repl = {"Role": "arn:aws:iam::000000000000:role/r", "Rules": [{
            "ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {},
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": "arn:aws:s3:::elsewhere"}}]}
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_bucket_replication(Bucket=b, ReplicationConfiguration=repl)
        self.assertEqual(code(cm), "InvalidRequest")
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_bucket_replication(Bucket=b, ReplicationConfiguration=repl)
        got = self.s3.get_bucket_replication(Bucket=b)["ReplicationConfiguration"]
        self.assertEqual(got["Rules"][0]["ID"], "all")

    def test_default_encryption_of_objects(self):
        b = self.bucket("cfg-sse")
        self.assertEqual(self.s3.put_object(Bucket=b, Key="a", Body=b"a")["ServerSideEncryption"],
                         "AES256")
        self.assertEqual(self.s3.head_object(Bucket=b, Key="a")["ServerSideEncryption"], "AES256")
        self.s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                   "KMSMasterKeyID": "alias/k"}}]})
        h = self.s3.put_object(Bucket=b, Key="b", Body=b"b")
        self.assertEqual((h["ServerSideEncryption"], h["SSEKMSKeyId"]), ("aws:kms", "alias/k"))
        self.s3.delete_bucket_encryption(Bucket=b)
        self.assertEqual(self.s3.put_object(Bucket=b, Key="c", Body=b"c")["ServerSideEncryption"],
                         "AES256")

    def preflight(self, path, headers):
        req = urllib.request.Request(self.pd.endpoint + path, method="OPTIONS", headers=headers)
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def test_cors(self):
        b = self.bucket("cfg-cors")
        st, _, body = self.preflight("/cfg-cors/k", {"Origin": "https://a.example",
                                                     "Access-Control-Request-Method": "GET"})
        self.assertEqual(st, 403)
        self.assertIn(b"CORS is not enabled for this bucket", body)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": [{
                "AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]})
        self.assertEqual(code(cm), "InvalidRequest")
        rules = [{"AllowedOrigins": ["https://*.example"], "AllowedMethods": ["GET", "PUT"],
                  "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"],
                  "MaxAgeSeconds": 600},
                 {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]
        self.s3.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": rules})
        self.assertEqual(self.s3.get_bucket_cors(Bucket=b)["CORSRules"][0]["AllowedOrigins"],
                         ["https://*.example"])
        st, h, _ = self.preflight("/cfg-cors/k", {
            "Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"})
        self.assertEqual(st, 200)
        self.assertEqual(h["Access-Control-Allow-Origin"], "https://app.example")
        self.assertEqual(h["Access-Control-Allow-Methods"], "GET, PUT")
        self.assertEqual(h["Access-Control-Allow-Headers"], "content-type, x-amz-date")
        self.assertEqual(h["Access-Control-Max-Age"], "600")
        self.assertEqual(h["Access-Control-Allow-Credentials"], "true")
        # a header the rule does not allow; a method only the "*" rule has
        st, _, body = self.preflight("/cfg-cors/k", {
            "Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization-x"})
        self.assertEqual(st, 403)
        st, h, _ = self.preflight("/cfg-cors/k", {"Origin": "https://other.org",
                                                  "Access-Control-Request-Method": "GET"})
        self.assertEqual((st, h["Access-Control-Allow-Origin"]), (200, "*"))
        self.assertNotIn("Access-Control-Allow-Credentials", h)
        st, _, body = self.preflight("/cfg-cors/k", {"Access-Control-Request-Method": "GET"})
        self.assertEqual(st, 400)
        st, _, _ = self.preflight("/cfg-cors/k", {"Origin": "https://app.example"})
        self.assertEqual(st, 400)
        # ordinary answers carry the headers of the matching rule
        self.s3.put_object(Bucket=b, Key="k", Body=b"x")
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "k"})
        req = urllib.request.Request(url, headers={"Origin": "https://app.example"})
        with urllib.request.urlopen(req) as r:
            self.assertEqual(r.headers["Access-Control-Allow-Origin"], "https://app.example")
            self.assertEqual(r.headers["Access-Control-Expose-Headers"], "ETag")
        with urllib.request.urlopen(url) as r:  # no Origin: no CORS headers
            self.assertIsNone(r.headers["Access-Control-Allow-Origin"])
        self.s3.delete_bucket_cors(Bucket=b)
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.get_bucket_cors(Bucket=b)
        self.assertEqual(code(cm), "NoSuchCORSConfiguration")

    def test_lifecycle_on_podiams_clock(self):
        b = self.bucket("cfg-lifecycle")
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            self.s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={
                "Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}}]})
        self.assertEqual(code(cm), "InvalidArgument")  # no action
        self.s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
             "Expiration": {"Days": 1}, "AbortIncompleteMultipartUpload": {
                 "DaysAfterInitiation": 2}},
            {"ID": "big", "Status": "Enabled", "Filter": {"And": {
                "Tags": [{"Key": "class", "Value": "scratch"}], "ObjectSizeGreaterThan": 5}},
             "Expiration": {"Days": 3}},
            {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": ""},
             "Expiration": {"Days": 1}}]})
        rules = self.s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
        self.assertEqual([r["ID"] for r in rules], ["tmp", "big", "off"])
        put = self.s3.put_object(Bucket=b, Key="tmp/a", Body=b"a")
        self.assertIn('rule-id="tmp"', put["Expiration"])
        self.s3.put_object(Bucket=b, Key="keep/b", Body=b"b")
        self.s3.put_object(Bucket=b, Key="s/big", Body=b"0123456789", Tagging="class=scratch")
        self.s3.put_object(Bucket=b, Key="s/small", Body=b"01", Tagging="class=scratch")
        self.s3.create_multipart_upload(Bucket=b, Key="tmp/upload")
        keys = lambda: sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=b)
                              .get("Contents", []))
        self.assertEqual(len(keys()), 4)
        try:
            self.pd.admin("POST", "clock", {"advance_ms": 2 * DAY})
            self.assertEqual(keys(), ["keep/b", "s/big", "s/small"])
            self.pd.admin("POST", "clock", {"advance_ms": 2 * DAY})
            self.assertEqual(keys(), ["keep/b", "s/small"])
            self.assertNotIn("Uploads", self.s3.list_multipart_uploads(Bucket=b))
        finally:
            self.pd.admin("POST", "clock", {"offset_ms": 0})
        self.s3.delete_bucket_lifecycle(Bucket=b)
        with self.assertRaises(botocore.exceptions.ClientError):
            self.s3.get_bucket_lifecycle_configuration(Bucket=b)

    def test_lifecycle_versions(self):
        b = self.bucket("cfg-lifecycle-v")
        self.s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            {"ID": "v", "Status": "Enabled", "Filter": {"Prefix": ""},
             "Expiration": {"Days": 2}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
        v1 = self.s3.put_object(Bucket=b, Key="k", Body=b"1")["VersionId"]
        v2 = self.s3.put_object(Bucket=b, Key="k", Body=b"2")["VersionId"]
        try:
            # expiry rounds up to the next midnight UTC: two days and a bit is not yet due
            self.pd.admin("POST", "clock", {"advance_ms": 3 * DAY})
            v = self.s3.list_object_versions(Bucket=b)
            # v1 noncurrent for days: gone; v2 expired: now noncurrent behind a delete marker
            self.assertEqual([x["VersionId"] for x in v.get("Versions", [])], [v2])
            self.assertEqual(len(v.get("DeleteMarkers", [])), 1)
            self.assertNotIn(v1, [x["VersionId"] for x in v.get("Versions", [])])
        finally:
            self.pd.admin("POST", "clock", {"offset_ms": 0})


if __name__ == "__main__":
    unittest.main()
