"""`podiamctl env` and the environment `podiamctl run` gives its command (client/clientenv.c).

Each test reads the lines back through a real shell (`eval "$(podiamctl env ...)"`), as a
user would, and checks what the shell then holds:
  * the endpoint, root keys test/test (or the ones given), both region variables;
  * NO_PROXY/no_proxy with the loopback names;
  * one CA bundle (system CAs + podiam's CA) under AWS_CA_BUNDLE, SSL_CERT_FILE,
    REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and NODE_EXTRA_CA_CERTS, in the cache directory
    ($XDG_CACHE_HOME/podiam, $HOME/.cache/podiam, $TMPDIR/podiam-UID), replaced atomically;
  * with --cluster/--service-account: the pod's variables, a token that STS accepts for the
    role, and no static keys; `podiamctl run` gives its command the same variables;
  * the proxy variables equal /_podiam/health's endpoints.proxy. ProxyTest needs a podiam
    with the forward proxy (issue 10) and fails against one without: the variables are the
    point of `podiamctl env` for every client that ignores AWS_ENDPOINT_URL.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

from podiam_harness import ROOT, Podiam, podiamctl_binary

FIXTURES = os.path.join(ROOT, "fixtures", "seed.json")
CA_NAMES = ["AWS_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
            "NODE_EXTRA_CA_CERTS"]
PROXY_NAMES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"
ROLE = "arn:aws:iam::000000000000:role/s3-echoer"


def seed_with_plain_sa(path):
    """The seed's fixtures plus a service account `plain` without a role annotation."""
    with open(FIXTURES) as f:
        doc = json.load(f)
    doc["eks"]["clusters"][0]["kubernetes"]["serviceaccounts"].append(
        {"name": "plain", "namespace": "default"})
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


class EnvCase(unittest.TestCase):
    podiam_env = None

    @classmethod
    def setUpClass(cls):
        cls.fixtures_dir = tempfile.mkdtemp(prefix="podiamctl-env-fixtures-")
        fixtures = seed_with_plain_sa(os.path.join(cls.fixtures_dir, "seed.json"))
        cls.p = Podiam.start("--fixtures", fixtures, env=cls.podiam_env)
        shutil.rmtree(cls.fixtures_dir, True)

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="podiamctl-env-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def shell_env(self, *args, before="", env=None, after="env -0"):
        """Evaluate `podiamctl env ARGS` in /bin/sh (with `before` run first) and return
        (the shell's environment as a dict, podiamctl's standard output)."""
        penv = self.p.client_env(extra={"AWS_ENDPOINT_URL": self.p.endpoint,
                                        "XDG_CACHE_HOME": os.path.join(self.tmp, "cache")})
        penv.update(env or {})
        ctl = podiamctl_binary()
        out = subprocess.run([ctl, "env"] + list(args), capture_output=True, text=True,
                             env=penv, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        script = '%s\nout=$("$0" env "$@") || exit 9\neval "$out"\n%s' % (before, after)
        r = subprocess.run(["/bin/sh", "-c", script, ctl] + list(args), capture_output=True,
                           env=penv, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        got = dict(kv.split("=", 1) for kv in r.stdout.decode().split("\0") if "=" in kv)
        return got, out.stdout

    def assert_ca_bundle(self, env, cache_dir):
        bundle = env["AWS_CA_BUNDLE"]
        for n in CA_NAMES:
            self.assertEqual(env.get(n), bundle, n)
        self.assertEqual(os.path.dirname(bundle), cache_dir)
        with open(bundle) as f:
            text = f.read()
        ca = self.p.admin("GET", "ca.pem").decode()
        self.assertTrue(text.rstrip().endswith(ca.strip()), "podiam's CA is not in the bundle")
        if os.path.exists(SYSTEM_CA):
            with open(SYSTEM_CA) as f:
                self.assertTrue(text.startswith(f.read()), "the system CAs are not in the bundle")
        return bundle


class StaticEnvTest(EnvCase):
    def test_root_keys_region_endpoint_and_ca(self):
        env, out = self.shell_env(before="export AWS_SESSION_TOKEN=stale AWS_ROLE_ARN=stale")
        self.assertEqual(env["AWS_ENDPOINT_URL"], self.p.endpoint)
        self.assertEqual((env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]), ("test", "test"))
        self.assertEqual((env["AWS_REGION"], env["AWS_DEFAULT_REGION"]), ("us-east-1", "us-east-1"))
        self.assertNotIn("AWS_SESSION_TOKEN", env)  # a stale session would break the keys
        self.assertNotIn("AWS_ROLE_ARN", env)
        for n in ("NO_PROXY", "no_proxy"):
            self.assertEqual(env[n].split(","), ["localhost", "127.0.0.1", "::1"], n)
        cache = os.path.join(self.tmp, "cache", "podiam")
        self.assert_ca_bundle(env, cache)
        self.assertEqual(stat.S_IMODE(os.stat(cache).st_mode), 0o700)
        self.assertIn("# CA bundle " + env["AWS_CA_BUNDLE"], out)
        # the keys work (boto3 pointed at the endpoint the lines name)
        import boto3
        arn = boto3.session.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=env["AWS_REGION"]
        ).client("sts", endpoint_url=env["AWS_ENDPOINT_URL"]).get_caller_identity()["Arn"]
        self.assertEqual(arn, "arn:aws:iam::000000000000:root")

    def test_given_keys_region_and_odd_values_are_quoted(self):
        secret = "it's $HOME `x` a b"
        env, out = self.shell_env("--access-key-id", "AKIAEXAMPLE", "--secret-access-key", secret,
                                  "--session-token", "tok en", "--region", "eu-west-1")
        self.assertEqual(env["AWS_SECRET_ACCESS_KEY"], secret)
        self.assertEqual(env["AWS_SESSION_TOKEN"], "tok en")
        self.assertEqual(env["AWS_ACCESS_KEY_ID"], "AKIAEXAMPLE")
        self.assertEqual((env["AWS_REGION"], env["AWS_DEFAULT_REGION"]), ("eu-west-1", "eu-west-1"))
        self.assertIn("export AWS_SECRET_ACCESS_KEY='it'\\''s $HOME `x` a b'", out)

    def test_cache_dir_fallbacks_and_atomic_rewrite(self):
        home = os.path.join(self.tmp, "home")
        os.mkdir(home)
        env, _ = self.shell_env(env={"XDG_CACHE_HOME": "", "HOME": home})
        first = self.assert_ca_bundle(env, os.path.join(home, ".cache", "podiam"))
        fd = os.open(first, os.O_RDONLY)  # holds the inode: it cannot be reused meanwhile
        self.addCleanup(os.close, fd)
        env, _ = self.shell_env(env={"XDG_CACHE_HOME": "", "HOME": home})
        self.assertEqual(env["AWS_CA_BUNDLE"], first)
        self.assertNotEqual(os.stat(first).st_ino, os.fstat(fd).st_ino,
                            "rewritten in place, not replaced")
        self.assertEqual(os.listdir(os.path.dirname(first)), [os.path.basename(first)])
        # no HOME: TMPDIR/podiam-UID
        tmpdir = os.path.join(self.tmp, "tmpdir")
        os.mkdir(tmpdir)
        penv = self.p.client_env(extra={"AWS_ENDPOINT_URL": self.p.endpoint, "TMPDIR": tmpdir})
        penv.pop("HOME")
        penv.pop("XDG_CACHE_HOME", None)
        out = subprocess.run([podiamctl_binary(), "env"], capture_output=True, text=True,
                             env=penv, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        want = os.path.join(tmpdir, "podiam-%d" % os.getuid())
        self.assertIn("export AWS_CA_BUNDLE=%s/ca-bundle-" % want, out.stdout)
        # a cache directory others may write to is refused
        os.chmod(want, 0o777)
        out = subprocess.run([podiamctl_binary(), "env"], capture_output=True, text=True,
                             env=penv, timeout=60)
        self.assertEqual(out.returncode, 1)
        self.assertIn("others may write", out.stderr)
        self.assertEqual(out.stdout, "")

    def test_errors(self):
        p = self.p.podiamctl("env", "--cluster", "demo", check=False)
        self.assertEqual(p.returncode, 2)
        p = self.p.podiamctl("env", "--access-key-id", "A", check=False)
        self.assertEqual(p.returncode, 2)
        p = self.p.podiamctl("env", "--cluster", "nope", "--service-account", "s3-echoer",
                             env={"XDG_CACHE_HOME": self.tmp}, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("nope", p.stderr)
        self.assertEqual(p.stdout, "")
        p = self.p.podiamctl("env", "--endpoint", "http://127.0.0.1:9", check=False,
                             env={"XDG_CACHE_HOME": self.tmp})
        self.assertEqual(p.returncode, 1)
        self.assertIn("podiam does not answer at http://127.0.0.1:9", p.stderr)
        self.assertEqual(p.stdout, "")


class PodEnvTest(EnvCase):
    def test_pod_variables_token_and_no_static_keys(self):
        env, out = self.shell_env("--cluster", "demo", "--service-account", "s3-echoer",
                                  before="export AWS_PROFILE=mine")
        for n in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                  "AWS_PROFILE"):
            self.assertNotIn(n, env)
        self.assertEqual(env["AWS_ROLE_ARN"], ROLE)
        self.assertEqual(env["PODIAM_POD_TOKEN_PATH"],
                         "/var/run/secrets/eks.amazonaws.com/serviceaccount/token")
        self.assertEqual((env["AWS_REGION"], env["AWS_DEFAULT_REGION"]), ("us-east-1", "us-east-1"))
        self.assertEqual(env["AWS_ENDPOINT_URL"], self.p.endpoint)
        cache = os.path.join(self.tmp, "cache", "podiam")
        self.assert_ca_bundle(env, cache)
        token_file = env["AWS_WEB_IDENTITY_TOKEN_FILE"]
        self.assertEqual(os.path.dirname(token_file), cache)
        self.assertEqual(stat.S_IMODE(os.stat(token_file).st_mode), 0o600)
        with open(token_file) as f:
            token = f.read()
        self.assertNotIn(token, out)  # the file, never the token, is printed
        # STS accepts the token for the role
        import boto3
        creds = boto3.session.Session(region_name="us-east-1").client(
            "sts", endpoint_url=self.p.endpoint, aws_access_key_id="unused",
            aws_secret_access_key="unused").assume_role_with_web_identity(
                RoleArn=env["AWS_ROLE_ARN"], RoleSessionName="env-test",
                WebIdentityToken=token)
        self.assertEqual(creds["AssumedRoleUser"]["Arn"],
                         "arn:aws:sts::000000000000:assumed-role/s3-echoer/env-test")

    def test_run_gives_its_command_the_same_variables(self):
        env, _ = self.shell_env("--cluster", "demo", "--service-account", "s3-echoer")
        script = ('env -0; for f in "$AWS_WEB_IDENTITY_TOKEN_FILE" "$AWS_CA_BUNDLE"; do '
                  'test -s "$f" || exit 7; done')
        r = self.p.podiamctl("run", "--cluster", "demo", "--service-account", "s3-echoer",
                             "--", "/bin/sh", "-c", script)
        child = dict(kv.split("=", 1) for kv in r.stdout.split("\0") if "=" in kv)
        files = ["AWS_WEB_IDENTITY_TOKEN_FILE"] + CA_NAMES
        names = ["AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "PODIAM_POD_TOKEN_PATH", "AWS_REGION",
                 "AWS_DEFAULT_REGION", "NO_PROXY", "no_proxy"] + PROXY_NAMES
        for n in names:
            self.assertEqual(child.get(n), env.get(n), n)
        for n in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            self.assertNotIn(n, child)
        # run's files live in a private directory that is gone once the command ended
        rundir = os.path.dirname(child["AWS_WEB_IDENTITY_TOKEN_FILE"])
        for n in files:
            self.assertEqual(os.path.dirname(child[n]), rundir, n)
        self.assertFalse(os.path.exists(rundir))

    def test_print_env_is_the_same_lines(self):
        r = self.p.podiamctl("run", "--cluster", "demo", "--service-account", "s3-echoer",
                             "--print-env")
        self.assertIn("export AWS_ROLE_ARN=%s\n" % ROLE, r.stdout)
        self.assertIn("unset AWS_ACCESS_KEY_ID\n", r.stdout)
        for n in CA_NAMES:
            self.assertRegex(r.stdout, r"\nexport %s=/\S+/ca-bundle-\S+\.pem\n" % n)
        m = re.search(r"export AWS_WEB_IDENTITY_TOKEN_FILE=(\S+)", r.stdout)
        self.assertFalse(os.path.exists(m.group(1)), "--print-env leaves its files behind")

    def test_errors(self):
        for sa, why in [("plain", "has no eks.amazonaws.com/role-arn annotation"),
                        ("nobody", "nobody")]:
            r = self.p.podiamctl("env", "--cluster", "demo", "--service-account", sa,
                                 env={"XDG_CACHE_HOME": self.tmp}, check=False)
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertEqual(r.stdout, "")
            self.assertIn(why, r.stderr)
            r = self.p.podiamctl("run", "--cluster", "demo", "--service-account", sa, "--",
                                 "/bin/echo", "ran", check=False)
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertNotIn("ran", r.stdout)
            self.assertIn(why, r.stderr)


class ProxyOffTest(EnvCase):
    """podiam started without a proxy: no proxy variables, and a comment saying why."""
    podiam_env = {"PODIAM_LISTEN_PROXY": "off"}

    def test_no_proxy_variables(self):
        self.assertFalse((self.p.health().get("endpoints") or {}).get("proxy"))
        env, out = self.shell_env(before="export HTTPS_PROXY=http://stale:1 http_proxy=x")
        for n in PROXY_NAMES:
            self.assertNotIn("export %s=" % n, out)
        self.assertIn("has no proxy", out)
        self.assertEqual(env["NO_PROXY"], "localhost,127.0.0.1,::1")


class ProxyTest(EnvCase):
    """podiam with its forward proxy (PODIAM_LISTEN_PROXY=127.0.0.1:0, the harness's
    default): the proxy variables name it, for env and for run."""

    def test_proxy_variables(self):
        proxy = (self.p.health().get("endpoints") or {}).get("proxy")
        self.assertTrue(proxy, "this podiam reports no proxy (/_podiam/health has no "
                        "endpoints.proxy): it needs the forward proxy of issue 10")
        self.assertEqual(proxy, self.p.proxy, "the ready line and health disagree")
        env, _ = self.shell_env()
        for n in PROXY_NAMES:
            self.assertEqual(env.get(n), proxy, n)
        r = self.p.podiamctl("run", "--cluster", "demo", "--service-account", "s3-echoer",
                             "--", "/bin/sh", "-c", "env -0")
        child = dict(kv.split("=", 1) for kv in r.stdout.split("\0") if "=" in kv)
        for n in PROXY_NAMES:
            self.assertEqual(child.get(n), proxy, n)


if __name__ == "__main__":
    unittest.main()
