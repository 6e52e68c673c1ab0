"""A podiam process (or a running podiam) and its admin API, for test suites.

    from podiam import Podiam
    with Podiam.start() as p:               # free ports, :memory: state
        s3 = p.client("s3")                  # boto3, wired to it (keys test/test)
        p.snapshot("base")
        ...
        p.restore("base")

Only the standard library is needed; boto3 only for `client()` / `session()`.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from .decisions import Decisions


class PodiamError(Exception):
    """podiam refused an admin call or could not start. `status` and `code` are the HTTP
    status and podiam's error code when it answered."""

    def __init__(self, message, status=None, code=None):
        super().__init__(message)
        self.status = status
        self.code = code


def find_binary(binary=None):
    """The podiam binary: `binary`, else $PODIAM_BIN, else `podiam` on PATH."""
    for b in (binary, os.environ.get("PODIAM_BIN")):
        if b:
            return b
    found = shutil.which("podiam")
    if found:
        return found
    raise PodiamError("podiam not found: pass binary=, set PODIAM_BIN, or put podiam on PATH "
                      "(build it with .ci/build; it is build/emulator/podiam)")


class Account:
    """A whole account made for one test (POST /_podiam/accounts): its id and root keys."""

    def __init__(self, podiam, account_id, access_key_id, secret_access_key):
        self.podiam = podiam
        self.id = account_id
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key

    @property
    def root_arn(self):
        return "arn:aws:iam::%s:root" % self.id

    def client(self, service, **kw):
        """A boto3 client of this account's root user."""
        kw.setdefault("key", self.access_key_id)
        kw.setdefault("secret", self.secret_access_key)
        return self.podiam.client(service, **kw)

    def delete(self):
        self.podiam.delete_account(self.id)

    def __repr__(self):
        return "Account(%s)" % self.id


class Podiam:
    """One podiam: started here (`Podiam.start`) or already running (`Podiam.connect`)."""

    def __init__(self, endpoint, ready=None, proc=None, workdir=None, region="us-east-1"):
        self.endpoint = endpoint.rstrip("/")
        self.ready = ready or {}
        self.proc = proc
        self.workdir = workdir
        self.region = self.ready.get("region", region)
        self.decisions = Decisions(self)
        self._log = None

    # --- life ----------------------------------------------------------------------
    @classmethod
    def start(cls, *args, binary=None, state=":memory:", fixtures=(), decision_log_size=100000,
              env=None, timeout=30):
        """Start podiam on free loopback ports and wait for its ready object. `args` are
        more `podiam serve` flags. The log goes to `self.log_path`."""
        workdir = tempfile.mkdtemp(prefix="podiam-")
        ready_file = os.path.join(workdir, "ready.json")
        cmd = [find_binary(binary), "serve", "--listen", "127.0.0.1:0", "--state", state,
               "--ready-file", ready_file, "--ready-format", "json",
               "--decision-log-size", str(decision_log_size)]
        for f in fixtures:
            cmd += ["--fixtures", f]
        cmd += list(args)
        penv = dict(os.environ)
        penv.update(env or {})
        log = open(os.path.join(workdir, "podiam.log"), "w+")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=log, env=penv)
        deadline = time.monotonic() + timeout
        ready = None
        while time.monotonic() < deadline:
            if os.path.exists(ready_file):
                with open(ready_file) as f:
                    ready = json.load(f)
                break
            if proc.poll() is not None:
                break
            time.sleep(0.005)
        if ready is None:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.seek(0)
            text = log.read()
            log.close()
            shutil.rmtree(workdir, ignore_errors=True)
            raise PodiamError("podiam did not start (%s):\n%s" % (" ".join(cmd), text[-4000:]))
        p = cls(ready["endpoints"]["http"], ready, proc, workdir)
        p._log = log
        return p

    @classmethod
    def connect(cls, endpoint=None):
        """A podiam that is already running: `endpoint`, else $PODIAM_ENDPOINT, else
        $AWS_ENDPOINT_URL. Nothing is stopped at the end."""
        endpoint = endpoint or os.environ.get("PODIAM_ENDPOINT") or os.environ.get(
            "AWS_ENDPOINT_URL")
        if not endpoint:
            raise PodiamError("no endpoint: pass one, or set PODIAM_ENDPOINT")
        p = cls(endpoint)
        h = p.health()
        p.ready = {"endpoints": h.get("endpoints", {"http": endpoint}), "region": h["region"]}
        p.region = h["region"]
        return p

    @property
    def log_path(self):
        return self._log.name if self._log else None

    def logs(self):
        if not self._log:
            return ""
        self._log.flush()
        with open(self._log.name) as f:
            return f.read()

    def stop(self):
        """Stop with SIGTERM (a podiam that does not exit 0 raises, with its log)."""
        code = 0
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = "timeout"
            self.proc = None
        logs = self.logs()
        if self._log:
            self._log.close()
            self._log = None
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        if code != 0:
            raise PodiamError("podiam exited with %s on SIGTERM:\n%s" % (code, logs[-4000:]))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- where it is -----------------------------------------------------------------
    @property
    def tls_endpoint(self):
        return self.ready.get("endpoints", {}).get("https")

    @property
    def proxy(self):
        return self.ready.get("endpoints", {}).get("proxy")

    @property
    def ca_file(self):
        """podiam's CA certificate (PEM) as a file (the ready object's, else fetched)."""
        path = self.ready.get("ca_file")
        if path and os.path.exists(path):
            return path
        if not self.workdir:
            self.workdir = tempfile.mkdtemp(prefix="podiam-")
        path = os.path.join(self.workdir, "ca.pem")
        with open(path, "wb") as f:
            f.write(self.admin("GET", "ca.pem"))
        self.ready["ca_file"] = path
        return path

    def env(self, key="test", secret="test", token=None):
        """Variables that point AWS SDKs and CLIs at this podiam (for subprocesses)."""
        e = {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": key,
             "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": self.region,
             "AWS_DEFAULT_REGION": self.region}
        if token:
            e["AWS_SESSION_TOKEN"] = token
        return e

    # --- the admin API ------------------------------------------------------------------
    def admin(self, method, path, body=None, timeout=30):
        """Call /_podiam/PATH; JSON answers are parsed. Errors raise PodiamError."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"X-Podiam-Admin": "1"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.endpoint + "/_podiam/" + path, data=data,
                                     method=method, headers=headers)
        # podiam is local: never through a proxy the environment names
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=timeout) as resp:
                raw = resp.read()
                if "json" in resp.headers.get("Content-Type", ""):
                    return json.loads(raw)
                return raw
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                j = json.loads(raw)
            except ValueError:
                j = {}
            raise PodiamError("%s /_podiam/%s: %s %s" % (
                method, path, e.code, j.get("message") or raw[:300].decode(errors="replace")),
                status=e.code, code=j.get("error")) from None

    def health(self):
        return self.admin("GET", "health")

    def reset(self):
        """Back to the start: empty, the --fixtures files loaded again, the clock at 0."""
        return self.admin("POST", "reset", {})

    def snapshot(self, name):
        """Save the whole state under name (replacing a snapshot of that name)."""
        return self.admin("POST", "snapshots", {"name": name})

    def restore(self, name):
        """Return to snapshot name."""
        return self.admin("POST", "snapshots/%s/restore" % urllib.parse.quote(name, safe=""),
                          {})

    def delete_snapshot(self, name):
        return self.admin("DELETE", "snapshots/%s" % urllib.parse.quote(name, safe=""))

    def snapshots(self):
        return self.admin("GET", "snapshots")["snapshots"]

    def create_account(self, account_id=None):
        """A new whole account with root keys (`Account`)."""
        a = self.admin("POST", "accounts", {"id": account_id} if account_id else {})
        return Account(self, a["account_id"], a["access_key_id"], a["secret_access_key"])

    def delete_account(self, account_id):
        return self.admin("DELETE", "accounts/%s" % account_id)

    def advance_clock(self, ms):
        return self.admin("POST", "clock", {"advance_ms": int(ms)})

    # --- decisions ------------------------------------------------------------------------
    def mark(self):
        """A mark of the decision log: the calls after it are `decisions.since(mark)`."""
        return self.admin("GET", "decisions/mark")["mark"]

    def report(self, since=None, principal=None, allow_partial=False):
        """What the calls since the mark proved (GET /_podiam/decisions/report)."""
        q = {"since": since or "d-0"}
        if principal:
            q["principal"] = principal
        if allow_partial:
            q["allow_partial"] = "1"
        return self.admin("GET", "decisions/report?" + urllib.parse.urlencode(q))

    def least_privilege_policy(self, principal, since=None):
        """The least-privilege policy document of a role or user ARN over the calls since the
        mark, or None when it was allowed nothing."""
        for p in self.report(since, principal)["principals"]:
            if p["principal"] == principal:
                return p.get("least_privilege")
        return None

    # --- clients --------------------------------------------------------------------------
    def session(self, key="test", secret="test", token=None):
        import boto3
        return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                     aws_session_token=token, region_name=self.region)

    def client(self, service, key="test", secret="test", token=None, tls=False, **kw):
        """A boto3 client for service, pointed at podiam (no retries: a test sees every
        answer as it came)."""
        import botocore.config
        kw.setdefault("config", botocore.config.Config(retries={"max_attempts": 1}))
        if tls:
            kw.setdefault("verify", self.ca_file)
        return self.session(key, secret, token).client(
            service, endpoint_url=self.tls_endpoint if tls else self.endpoint, **kw)

    def assume_role(self, role_arn, session_name="podiam-test", key="test", secret="test",
                    **kw):
        """Credentials of a role session: {"key", "secret", "token"} for client()."""
        c = self.client("sts", key=key, secret=secret).assume_role(
            RoleArn=role_arn, RoleSessionName=session_name, **kw)["Credentials"]
        return {"key": c["AccessKeyId"], "secret": c["SecretAccessKey"],
                "token": c["SessionToken"]}


def start_many(n, *args, **kw):
    """Start n podiams in parallel (each on its own free ports); a list of Podiam."""
    out, errors = [None] * n, []

    def one(i):
        try:
            out[i] = Podiam.start(*args, **kw)
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for p in out:
            if p:
                p.stop()
        raise errors[0]
    return out
