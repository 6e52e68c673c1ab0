"""What the Kubernetes e2e tests share: a podiam with an EKS cluster "demo" made by the aws
CLI, the kubeconfig `aws eks update-kubeconfig` writes, kubectl 1.32 (and 1.20 when found),
get-token bearer tokens, plain HTTP calls to the cluster API and a line reader for watches.
"""
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

from podiam_harness import Podiam
from test_k8s_kubectl import find_kubectl

ACCT = "000000000000"
EKS_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


class ClusterTest(unittest.TestCase):
    """One podiam and cluster per test class; a fresh HOME and kubeconfig per test."""
    kubectl = find_kubectl(32)
    kubectl_120 = find_kubectl(20)
    need_kubectl = True
    podiam_args = ()

    @classmethod
    def setUpClass(cls):
        if cls.need_kubectl and not cls.kubectl:
            raise unittest.SkipTest("no kubectl 1.32 binary found (set KUBECTL_1_32)")
        cls.p = Podiam.start(*cls.podiam_args)
        cls.p.boto3("iam").create_role(RoleName="eks-cluster-role",
                                       AssumeRolePolicyDocument=json.dumps(EKS_TRUST))
        _, out, _ = cls.p.aws("eks", "create-cluster", "--name", "demo", "--role-arn",
                              "arn:aws:iam::%s:role/eks-cluster-role" % ACCT,
                              "--resources-vpc-config", "subnetIds=subnet-a,subnet-b")
        cls.cluster = out["cluster"]
        cls.base = cls.cluster["endpoint"]  # https://127.0.0.1:PORT/_podiam/k8s/ID
        path = urllib.parse.urlsplit(cls.base).path
        cls.http_base = cls.p.endpoint + path  # the same API on the http listener
        cls._token = None
        cls._token_at = 0

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "p", None):
            cls.p.stop()

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="podiam-kube-")
        self.kubeconfig = os.path.join(self.home, "kubeconfig")
        self.p.aws("eks", "update-kubeconfig", "--name", "demo", "--kubeconfig", self.kubeconfig)

    def tearDown(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def env(self, key="test", secret="test"):
        e = self.p.client_env(key, secret)
        e.update({"HOME": self.home, "AWS_ENDPOINT_URL": self.p.endpoint})
        return e

    def k(self, *args, stdin=None, binary=None, check=True, timeout=180):
        cmd = [binary or self.kubectl, "--kubeconfig", self.kubeconfig,
               "--cache-dir", os.path.join(self.home, "cache")] + list(args)
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=self.env(),
                           timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d): %s\n--- podiam log ---\n%s" % (
                " ".join(args), p.returncode, p.stderr, self.p.logs()[-3000:]))
        return p

    def k_bg(self, *args):
        """kubectl in the background (a watch): the Popen, output in pipes."""
        cmd = [self.kubectl, "--kubeconfig", self.kubeconfig,
               "--cache-dir", os.path.join(self.home, "cache")] + list(args)
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=self.env())

    @classmethod
    def token(cls):
        """A get-token token of the creator (root), reused for 5 minutes."""
        if cls._token and time.time() - cls._token_at < 300:
            return cls._token
        p = subprocess.run(["aws", "eks", "get-token", "--cluster-name", "demo", "--region",
                            "us-east-1", "--output", "json"], capture_output=True, text=True,
                           env=dict(cls.p.client_env(), AWS_ENDPOINT_URL=cls.p.endpoint),
                           timeout=120)
        assert p.returncode == 0, p.stderr
        cls._token = json.loads(p.stdout)["status"]["token"]
        cls._token_at = time.time()
        return cls._token

    def call(self, method, path, body=None, ctype="application/json", headers=None):
        """One request to the cluster API over plain http: (status, parsed JSON or text)."""
        u = urllib.parse.urlsplit(self.http_base + path)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        h = {"Authorization": "Bearer " + self.token()}
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h["Content-Type"] = ctype
        h.update(headers or {})
        c.request(method, u.path + ("?" + u.query if u.query else ""), body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        c.close()
        try:
            return r.status, json.loads(raw)
        except ValueError:
            return r.status, raw.decode(errors="replace")

    def ok(self, method, path, body=None, ctype="application/json", want=(200, 201)):
        st, v = self.call(method, path, body, ctype)
        if st not in (want if isinstance(want, tuple) else (want,)):
            raise AssertionError("%s %s: %d %s\n--- podiam log ---\n%s" % (
                method, path, st, v, self.p.logs()[-3000:]))
        return v


class Watch:
    """A watch over plain http read line by line in a thread: events land in .events."""

    def __init__(self, test, path, headers=None):
        u = urllib.parse.urlsplit(test.http_base + path)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=60)
        req = "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n" % (
            u.path + "?" + u.query, u.hostname, u.port, test.token())
        for k, v in (headers or {}).items():
            req += "%s: %s\r\n" % (k, v)
        self.sock.sendall((req + "\r\n").encode())
        self.events = []
        self.status = None
        self.ended = False
        self.error = None
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        f = self.sock.makefile("rb")
        try:
            line = f.readline()
            self.status = int(line.split()[1])
            chunked = False
            while True:
                h = f.readline().strip()
                if not h:
                    break
                if h.lower() == b"transfer-encoding: chunked":
                    chunked = True
            if not chunked:
                body = f.read()
                with self.lock:
                    self.events.append(json.loads(body))
                return
            pending = b""
            while True:
                size = int(f.readline().strip(), 16)
                if size == 0:
                    break
                pending += f.read(size)
                f.readline()
                while b"\n" in pending:
                    one, pending = pending.split(b"\n", 1)
                    with self.lock:
                        self.events.append(json.loads(one))
        except (OSError, ValueError) as e:
            self.error = e
        finally:
            self.ended = True

    def wait_for(self, n, timeout=20.0):
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                if len(self.events) >= n:
                    return list(self.events)
            if self.ended:
                break
            time.sleep(0.02)
        with self.lock:
            return list(self.events)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.t.join(5)
