"""The Go acceptance app: the pod-IAM walkthrough's s3echoer (tests/e2e/go/s3echoer, aws-sdk-go
v1 with its default session and no endpoint code), built offline with Debian's golang-go and
golang-github-aws-aws-sdk-go-dev (tests/e2e/go/build.sh), run by `podiamctl run` as a pod of
the seed's service account default/s3-echoer.

The app reads no endpoint setting at all: it dials https://sts.amazonaws.com and
https://s3-echoer-demo.s3.amazonaws.com, and reaches podiam only through the HTTPS_PROXY and
AWS_CA_BUNDLE that podiamctl run sets (podiam's forward proxy, and a bundle holding podiam's
CA). So it needs a podiam with the forward proxy; against one without, the test fails and
says so, as it should: the app cannot work there.

Checks: the object is written to s3-echoer-demo with the message, by the assumed role
(the decision log names arn:aws:sts::000000000000:assumed-role/s3-echoer/...); a bucket the
role lacks (other-team) is refused with AccessDenied and a non-zero exit, and nothing is
written there. Skipped, with the reason, when Go or Debian's aws-sdk-go is not installed
(.ci/setup installs both)."""
import os
import subprocess
import tempfile
import unittest
import urllib.parse

from podiam_harness import HERE, ROOT, Podiam

FIXTURES = os.path.join(ROOT, "fixtures", "seed.json")
ROLE_SESSION_PREFIX = "arn:aws:sts::000000000000:assumed-role/s3-echoer/"


def build_dir():
    d = os.environ.get("PODIAM_E2E_BUILD_DIR")
    return os.path.join(d, "go") if d else os.path.join(tempfile.gettempdir(), "podiam-e2e-go")


class GoS3EchoerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        out = build_dir()
        b = subprocess.run([os.path.join(HERE, "go", "build.sh"), out], capture_output=True,
                           text=True, timeout=900)
        if b.returncode == 77:
            raise unittest.SkipTest("the Go app cannot be built here: " + b.stdout.strip())
        if b.returncode != 0:
            raise AssertionError("building tests/e2e/go/s3echoer failed (%d):\n%s\n%s" % (
                b.returncode, b.stdout, b.stderr))
        print("\n" + b.stdout.strip())
        cls.app = os.path.join(out, "s3echoer")
        cls.p = Podiam.start("--fixtures", FIXTURES)
        health = cls.p.health()
        if not (health.get("endpoints") or {}).get("proxy"):
            cls.p.stop()
            raise AssertionError(
                "this podiam has no forward proxy (/_podiam/health has no endpoints.proxy): "
                "the Go app, which reads no endpoint setting, cannot reach it. It needs the "
                "proxy of issue 10 (--listen-proxy).")
        cls.root_s3 = cls.p.boto3("s3")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def echo(self, bucket, message):
        return self.p.podiamctl("run", "--cluster", "demo", "--service-account", "s3-echoer",
                                "--", self.app, bucket, input=message, check=False)

    def keys(self, bucket):
        got = self.root_s3.list_objects_v2(Bucket=bucket, Prefix="s3echoer-")
        return [o["Key"] for o in got.get("Contents", [])]

    def test_writes_its_bucket_as_the_role(self):
        message = "hello from the Go s3echoer\n"
        r = self.echo("s3-echoer-demo", message)
        self.assertEqual(r.returncode, 0, "s3echoer failed:\n%s\n%s\n--- podiam log ---\n%s" % (
            r.stdout, r.stderr, self.p.logs()[-4000:]))
        self.assertIn("Uploaded s3echoer-", r.stdout)
        key = r.stdout.split()[1]
        self.assertIn(key, self.keys("s3-echoer-demo"))
        body = self.root_s3.get_object(Bucket="s3-echoer-demo", Key=key)["Body"].read()
        self.assertEqual(body.decode(), message)
        # written by the role the app assumed with its web identity, over TLS (the proxy)
        q = urllib.parse.urlencode({"action": "s3:PutObject", "decision": "allowed",
                                    "limit": 50})
        put = [d for d in self.p.admin("GET", "decisions?" + q)["decisions"]
               if any(c.get("resource") == "arn:aws:s3:::s3-echoer-demo/" + key
                      for c in d.get("checks", []))]
        self.assertEqual(len(put), 1, "no allowed PutObject of %s in the decision log" % key)
        self.assertTrue(put[0]["principal"].startswith(ROLE_SESSION_PREFIX), put[0]["principal"])
        self.assertEqual(put[0]["context"].get("aws:securetransport"), "true")

    def test_denied_on_a_bucket_its_role_lacks(self):
        before = self.keys("other-team")
        r = self.echo("other-team", "should not be written\n")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("AccessDenied", r.stderr)
        self.assertEqual(self.keys("other-team"), before)


if __name__ == "__main__":
    unittest.main()
