"""Clients that know nothing of podiam, run as a pod by `podiamctl run` with no endpoint flag:
Debian 12's own aws CLI (2.9, /usr/bin/aws) and boto3 (1.26, for /usr/bin/python3). Both
predate AWS_ENDPOINT_URL: their web-identity providers and their S3 clients dial the AWS
hostnames (https://sts.amazonaws.com, https://sts.us-east-1.amazonaws.com,
https://s3-echoer-demo.s3.amazonaws.com), and reach podiam only through the HTTPS_PROXY and
AWS_CA_BUNDLE that podiamctl run sets. Each is also run with AWS_ENDPOINT_URL removed, so a
newer client on a machine where /usr/bin holds one takes the same path.

Then curl, given only `podiamctl env`'s variables and an issuer URL, fetches the issuer's
discovery document and JWKS from https://oidc.eks.us-east-1.amazonaws.com/..., as an OIDC
verifier that knows only the issuer does.

Everything here goes through podiam's forward proxy: against a podiam without one, the tests
fail and say so. A client that is not installed is skipped with its name and package
(.ci/setup installs Debian's awscli and python3-boto3)."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from podiam_harness import ROOT, Podiam, podiamctl_binary

FIXTURES = os.path.join(ROOT, "fixtures", "seed.json")
APP = os.path.join(ROOT, "scenarios", "app", "s3_echoer.py")
SESSION_PREFIX = "arn:aws:sts::000000000000:assumed-role/s3-echoer/"
DEBIAN_AWS = "/usr/bin/aws"
DEBIAN_PYTHON = "/usr/bin/python3"
ISSUER = "https://oidc.eks.us-east-1.amazonaws.com/id/DE7A11ED0E5A11ED0E5A11ED0E5A1101"
# as podiamctl run sets it, and with AWS_ENDPOINT_URL removed (an app with no endpoint at all)
VARIANTS = [("as podiamctl run sets it", []), ("without AWS_ENDPOINT_URL",
                                              ["env", "-u", "AWS_ENDPOINT_URL"])]


class OldClientCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.start("--fixtures", FIXTURES)
        if not (cls.p.health().get("endpoints") or {}).get("proxy"):
            cls.p.stop()
            raise AssertionError(
                "this podiam has no forward proxy (/_podiam/health has no endpoints.proxy): "
                "clients that ignore AWS_ENDPOINT_URL cannot reach it. These tests need the "
                "proxy of issue 10 (--listen-proxy).")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def as_pod(self, *cmd, input=None):
        return self.p.podiamctl("run", "--cluster", "demo", "--service-account", "s3-echoer",
                                "--", *cmd, input=input, check=False)

    def read_back(self, bucket, key):
        return self.p.boto3("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()


class DebianAwsCliTest(OldClientCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(DEBIAN_AWS, os.X_OK):
            raise unittest.SkipTest("Debian's aws CLI is not installed (%s; Debian package "
                                    "awscli, which .ci/setup installs)" % DEBIAN_AWS)
        v = subprocess.run([DEBIAN_AWS, "--version"], capture_output=True, text=True)
        print("\n%s: %s" % (DEBIAN_AWS, (v.stdout or v.stderr).strip()))
        super().setUpClass()

    def aws(self, prefix, *args, input=None):
        return self.as_pod(*prefix, DEBIAN_AWS, "--output", "json", *args, input=input)

    def test_identity_is_the_assumed_role(self):
        for name, prefix in VARIANTS:
            with self.subTest(name):
                r = self.aws(prefix, "sts", "get-caller-identity")
                self.assertEqual(r.returncode, 0, "%s\n--- podiam log ---\n%s" % (
                    r.stderr, self.p.logs()[-3000:]))
                self.assertTrue(json.loads(r.stdout)["Arn"].startswith(SESSION_PREFIX), r.stdout)

    def test_s3_its_bucket_and_not_another(self):
        for name, prefix in VARIANTS:
            with self.subTest(name):
                key = "cli/%d.txt" % time.time_ns()
                text = "from Debian's aws CLI (%s)\n" % name
                r = self.aws(prefix, "s3", "cp", "-", "s3://s3-echoer-demo/" + key, input=text)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(self.read_back("s3-echoer-demo", key), text)
                r = self.aws(prefix, "s3", "cp", "s3://s3-echoer-demo/" + key, "-")
                self.assertEqual((r.returncode, r.stdout), (0, text), r.stderr)
                r = self.aws(prefix, "s3api", "put-object", "--bucket", "other-team", "--key",
                             key)
                self.assertNotEqual(r.returncode, 0, r.stdout)
                self.assertIn("AccessDenied", r.stderr)


class DebianBoto3Test(OldClientCase):
    @classmethod
    def setUpClass(cls):
        v = subprocess.run([DEBIAN_PYTHON, "-c", "import boto3; print(boto3.__version__)"],
                           capture_output=True, text=True) if os.access(DEBIAN_PYTHON,
                                                                        os.X_OK) else None
        if not v or v.returncode != 0:
            raise unittest.SkipTest("Debian's boto3 is not installed for %s (Debian package "
                                    "python3-boto3, which .ci/setup installs)" % DEBIAN_PYTHON)
        print("\n%s: boto3 %s" % (DEBIAN_PYTHON, v.stdout.strip()))
        super().setUpClass()

    def test_s3_echoer_app(self):
        """The seed walkthrough's app (scenarios/app/s3_echoer.py: the default chain, no
        endpoint code) writes and reads its bucket and is refused the other team's."""
        for name, prefix in VARIANTS:
            with self.subTest(name):
                r = self.as_pod(*prefix, DEBIAN_PYTHON, APP)
                self.assertEqual(r.returncode, 0, "%s\n%s\n--- podiam log ---\n%s" % (
                    r.stdout, r.stderr, self.p.logs()[-3000:]))
                out = json.loads(r.stdout)
                self.assertTrue(out["identity"].startswith(SESSION_PREFIX + "botocore-session-"),
                                out["identity"])
                self.assertEqual(out["put"], "ok")
                self.assertTrue(out["get"].startswith("hello from s3-echoer (boto3 "), out)
                self.assertEqual(out["other_team"], "AccessDenied")


class CurlIssuerTest(OldClientCase):
    """An OIDC verifier that knows only the issuer URL: curl with `podiamctl env`'s
    variables (https_proxy, CURL_CA_BUNDLE) and nothing else."""

    def curl(self, url):
        """curl URL in a shell that has only evaluated `podiamctl env`."""
        r = subprocess.run(["/bin/sh", "-c", 'eval "$("$0" env)" && curl -fsS "$1"',
                            podiamctl_binary(), url], capture_output=True, text=True,
                           env=self.env, timeout=60)
        self.assertEqual(r.returncode, 0, "curl %s: %s" % (url, r.stderr))
        return json.loads(r.stdout)

    def test_discovery_and_jwks_by_issuer_url(self):
        if not shutil.which("curl"):
            self.skipTest("curl is not installed (Debian package curl)")
        cache = tempfile.mkdtemp(prefix="podiam-curl-")
        self.addCleanup(shutil.rmtree, cache, True)
        self.env = self.p.client_env(extra={"AWS_ENDPOINT_URL": self.p.endpoint,
                                            "XDG_CACHE_HOME": cache})
        doc = self.curl(ISSUER + "/.well-known/openid-configuration")
        self.assertEqual(doc["issuer"], ISSUER)
        self.assertTrue(doc["jwks_uri"].startswith("https://"), doc["jwks_uri"])
        kids = [k["kid"] for k in self.curl(doc["jwks_uri"])["keys"]]
        token = self.p.admin("POST", "oidc/token", {
            "issuer": ISSUER, "claims": {"sub": "system:serviceaccount:default:x",
                                         "aud": ["sts.amazonaws.com"]}})["token"]
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        self.assertIn(header["kid"], kids)


if __name__ == "__main__":
    unittest.main()
