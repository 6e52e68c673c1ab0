"""Start a real podiam process for end-to-end tests, or use a running one.

Tests import this module and use `Podiam.shared()` (one process per test module) or
`Podiam.start()` (a fresh one). When PODIAM_ENDPOINT is set (for example
http://127.0.0.1:4566), no process is started and the tests run against that endpoint,
which may also be real AWS for the tests that make sense there.

Every process listens on free loopback ports (port 0: HTTP, TLS and the forward proxy),
keeps its state in :memory: and is stopped with SIGTERM when the test module ends. The
environment handed to clients never inherits the user's AWS configuration: HOME points at a
temporary directory.
"""
import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

READY = re.compile(r"ready: endpoint=(\S+)(?: tls=(\S+))?")
READY_PROXY = re.compile(r" proxy=(\S+)")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def podiam_binary():
    b = os.environ.get("PODIAM_BIN")
    if b:
        return b
    return os.path.join(ROOT, "build", "emulator", "podiam")


def podiamctl_binary():
    b = os.environ.get("PODIAMCTL_BIN")
    if b:
        return b
    return os.path.join(ROOT, "build", "client", "podiamctl")


class Podiam:
    _shared = None

    def __init__(self, endpoint, tls_endpoint=None, proc=None, home=None, log=None, proxy=None):
        self.endpoint = endpoint
        self.tls_endpoint = tls_endpoint
        self.proxy = proxy  # http://HOST:PORT of the forward proxy, or None
        self.proc = proc
        self.home = home
        self.log = log
        self.region = "us-east-1"
        self._ca = None

    @classmethod
    def start(cls, *args, env=None):
        """Start podiam with extra `serve` arguments; wait for its ready line. The forward
        proxy gets a free port too, unless env names PODIAM_LISTEN_PROXY (the variable of
        --listen-proxy; {"PODIAM_LISTEN_PROXY": "off"} turns it off)."""
        home = tempfile.mkdtemp(prefix="podiam-e2e-")
        log = open(os.path.join(home, "podiam.log"), "w+")
        proxy_args = [] if "PODIAM_LISTEN_PROXY" in (env or {}) else ["--listen-proxy",
                                                                       "127.0.0.1:0"]
        cmd = [podiam_binary(), "serve", "--listen", "127.0.0.1:0",
               "--listen-tls", "127.0.0.1:0"] + proxy_args + ["--state", ":memory:"] + list(args)
        penv = dict(os.environ)
        penv.update(env or {})
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, env=penv)
        line = proc.stdout.readline()
        m = READY.search(line)
        if not m:
            proc.kill()
            log.seek(0)
            raise RuntimeError("podiam did not start: %r\n%s" % (line, log.read()))
        proxy = READY_PROXY.search(line.split(" -- ")[0])
        p = cls(m.group(1), m.group(2), proc, home, log, proxy.group(1) if proxy else None)
        p.ready_line = line
        atexit.register(p.stop)  # also when a test (or a script) ends without stop()
        return p

    @classmethod
    def shared(cls):
        """One emulator per test module (or the external PODIAM_ENDPOINT)."""
        if cls._shared is None:
            ext = os.environ.get("PODIAM_ENDPOINT")
            if ext:
                cls._shared = cls(ext, os.environ.get("PODIAM_TLS_ENDPOINT"),
                                  home=tempfile.mkdtemp(prefix="podiam-e2e-"),
                                  proxy=os.environ.get("PODIAM_PROXY"))
            else:
                cls._shared = cls.start()
                atexit.register(cls._shared.stop)  # the process ends with the test run
        return cls._shared

    def stop(self):
        """Stop with SIGTERM. A non-zero exit (a sanitizer report, a crash on the way out)
        fails the test that owned the process."""
        code = 0
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = "timeout"
            if self.proc.stdout:
                self.proc.stdout.close()
            self.proc = None
        if code != 0:
            logs = self.logs()
            if self.log:
                self.log.close()
                self.log = None
            raise AssertionError("podiam exited with %s on SIGTERM:\n%s" % (code, logs[-6000:]))
        if self.log:
            self.log.close()
        if self.home:
            shutil.rmtree(self.home, ignore_errors=True)

    def logs(self):
        if not self.log:
            return ""
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    # --- admin API -------------------------------------------------------------------
    def admin(self, method, path, body=None):
        """Call podiam's admin API, with a JSON body and the X-Podiam-Admin header: a podiam
        that refuses admin calls a web page could make (issue 17) accepts these."""
        data = json.dumps(body).encode() if body is not None else None
        h = {"X-Podiam-Admin": "1"}
        if data is not None:
            h["Content-Type"] = "application/json"
        req = urllib.request.Request(self.endpoint + "/_podiam/" + path, data=data,
                                     method=method, headers=h)
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
            ctype = resp.headers.get("Content-Type", "")
            return json.loads(raw) if "json" in ctype else raw

    def health(self):
        """/_podiam/health: status, version, and "endpoints" (http, https, proxy) when this
        podiam reports them."""
        return self.admin("GET", "health")

    def podiamctl(self, *args, env=None, check=True, input=None, timeout=300):
        """Run podiamctl against this podiam (AWS_ENDPOINT_URL), in the isolated client
        environment plus `env`; returns the CompletedProcess (text)."""
        penv = self.client_env(extra={"AWS_ENDPOINT_URL": self.endpoint})
        penv.update(env or {})
        p = subprocess.run([podiamctl_binary()] + list(args), capture_output=True, text=True,
                           env=penv, input=input, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("podiamctl %s failed (%d):\n%s\n%s\n--- podiam log ---\n%s" % (
                " ".join(args), p.returncode, p.stdout[-4000:], p.stderr[-4000:],
                self.logs()[-4000:]))
        return p

    def reset(self):
        return self.admin("POST", "reset")

    def ca_file(self):
        """Path of podiam's CA certificate (PEM), fetched from /_podiam/ca.pem."""
        if self._ca is None:
            pem = self.admin("GET", "ca.pem")
            self._ca = os.path.join(self.home, "ca.pem")
            with open(self._ca, "wb") as f:
                f.write(pem)
        return self._ca

    # --- clients -----------------------------------------------------------------------
    def client_env(self, key="test", secret="test", token=None, extra=None):
        """Environment for a CLI subprocess: credentials, region, isolated HOME."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
                    "AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region,
                    "HOME": self.home, "AWS_CONFIG_FILE": os.path.join(self.home, "none"),
                    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.home, "none"),
                    "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": ""})
        if token:
            env["AWS_SESSION_TOKEN"] = token
        env.update(extra or {})
        return env

    def aws(self, *args, key="test", secret="test", token=None, tls=False, check=True,
            extra_env=None):
        """Run the aws CLI against podiam; returns (exit code, parsed JSON or text, stderr).
        The endpoint is passed with --endpoint-url: Debian's CLI v2.9 predates
        AWS_ENDPOINT_URL."""
        endpoint = self.tls_endpoint if tls else self.endpoint
        cmd = ["aws", "--endpoint-url", endpoint, "--output", "json"]
        if tls:
            cmd += ["--ca-bundle", self.ca_file()]
        cmd += list(args)
        p = subprocess.run(cmd, capture_output=True, text=True,
                           env=self.client_env(key, secret, token, extra_env), timeout=120)
        out = p.stdout
        try:
            out = json.loads(out) if out.strip() else {}
        except ValueError:
            pass
        if check and p.returncode != 0:
            raise AssertionError("aws %s failed (%d): %s\n--- podiam log ---\n%s" % (
                " ".join(args), p.returncode, p.stderr, self.logs()[-4000:]))
        return p.returncode, out, p.stderr

    def boto3(self, service, key="test", secret="test", token=None, tls=False, **kw):
        import boto3
        import botocore.config
        session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                        aws_session_token=token, region_name=self.region)
        cfg = botocore.config.Config(retries={"max_attempts": 1})
        if tls:
            kw.setdefault("verify", self.ca_file())
        return session.client(service, endpoint_url=self.tls_endpoint if tls else self.endpoint,
                              config=cfg, **kw)


# --- what the installed client can do --------------------------------------------------
# Debian 12 ships botocore 1.29 (boto3 1.26) and aws CLI 2.9: they reject parameters AWS
# added later (IfNoneMatch on PutObject, the CRC64NVME checksum, CreateOpenIDConnectProvider
# without ThumbprintList). A test of such a feature runs it through a client that has it
# (the pinned JS SDK in tests/e2e/js, or boto3 when it is new enough) and says what it skips.
def botocore_has(client, operation, member):
    """Whether this botocore's model of `operation` has the input member `member`."""
    return member in client.meta.service_model.operation_model(operation).input_shape.members


def botocore_checksums():
    """The checksum algorithms this botocore can compute ("CRC32", ...; CRC32C and
    CRC64NVME need awscrt, CRC64NVME botocore 1.36 or later)."""
    from botocore import httpchecksum
    return {a.upper() for a in getattr(httpchecksum, "_SUPPORTED_CHECKSUM_ALGORITHMS", [])}


def botocore_checksum_missing(alg):
    """Why this botocore cannot compute checksum `alg` ("CRC64NVME"), or None when it can."""
    import botocore
    if alg in botocore_checksums():
        return None
    try:
        import awscrt  # noqa: F401  (botocore computes CRC32C and CRC64NVME with it)
    except ImportError:
        if alg in ("CRC32C", "CRC64NVME"):
            return "botocore %s computes %s only with the awscrt package, not installed here" % (
                botocore.__version__, alg)
    return "botocore %s cannot compute the %s checksum (a later addition)" % (
        botocore.__version__, alg)


def too_old(what, covered_by):
    """The message of a skip for a feature this botocore lacks."""
    import botocore
    return "botocore %s cannot send %s (a later addition); %s covers it" % (
        botocore.__version__, what, covered_by)


def js_sdk_missing():
    """Why the pinned JS SDK cannot run here (a message), or None when it can."""
    if not shutil.which("node"):
        return "node is not installed (Debian package nodejs; .ci/setup installs it)"
    if not os.path.isdir(os.path.join(HERE, "js", "node_modules", "@aws-sdk", "client-s3")):
        return "the JS SDK is not installed in tests/e2e/js/node_modules (.ci/setup: npm ci)"
    return None


def js_put_object(endpoint, **params):
    """PutObject through the pinned JS SDK v3 (tests/e2e/js/put_object.mjs); Body is text.
    Returns {"ok": True, "ETag": ...} or {"ok": False, "code": ..., "status": ...}."""
    out = subprocess.run(["node", "put_object.mjs", endpoint, json.dumps(params)],
                         cwd=os.path.join(HERE, "js"), capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_until(fn, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if fn():
            return True
        time.sleep(0.05)
    return False


# --- raw signed requests (for what a client library will not send) ---------------------
def _signing_clock(when):
    """Make botocore sign as if the time were `when` (naive UTC), in old and new botocore."""
    import contextlib
    import datetime
    import types

    import botocore.auth as ba

    @contextlib.contextmanager
    def patched():
        if when is None:
            yield
            return
        saved = {"datetime": ba.datetime}
        if hasattr(ba, "get_current_datetime"):  # botocore >= 1.34
            saved["get_current_datetime"] = ba.get_current_datetime
            ba.get_current_datetime = lambda *a, **k: when

        class Fixed(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return when

            @classmethod
            def now(cls, tz=None):
                return when if tz is None else when.replace(tzinfo=tz)

        fake = types.ModuleType("datetime")
        fake.__dict__.update(datetime.__dict__)
        fake.datetime = Fixed
        ba.datetime = fake
        try:
            yield
        finally:
            for k, v in saved.items():
                setattr(ba, k, v)
    return patched()


def signed_request(url, service, body, key="test", secret="test", token=None, when=None,
                   method="POST", region="us-east-1", headers=None):
    """Sign a request with botocore's SigV4Auth and return (headers dict, body bytes), ready
    for http.client or urllib. `body` is a dict of form fields or bytes/str; `when` (naive
    UTC datetime) signs at another time."""
    from urllib.parse import urlencode

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    if isinstance(body, dict):
        body = urlencode(body)
    if isinstance(body, str):
        body = body.encode()
    h = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    h.update(headers or {})
    req = AWSRequest(method=method, url=url, data=body, headers=h)
    with _signing_clock(when):
        SigV4Auth(Credentials(key, secret, token), service, region).add_auth(req)
    return dict(req.headers.items()), body
