"""Watches of the per-cluster Kubernetes API with real clients: kubectl 1.32 `get -w` (Table
events) and `wait --for=delete`, the Kubernetes Python client's watch.Watch().stream(...), a
raw chunked reader checking the JSON framing, resourceVersion resumption and 410, and bad
clients: one that never reads while objects change (closed, the server unharmed) and many
watches open at once.
"""
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

from k8s_e2e import ClusterTest, Watch

PY = "/usr/bin/python3"


class K8sWatchTest(ClusterTest):
    need_kubectl = False
    podiam_args = ("--idle-timeout", "4")  # a stuck watch is dropped after 4 s

    def cm(self, name, ns="default", labels=None, data=None):
        return self.ok("POST", "/api/v1/namespaces/%s/configmaps" % ns,
                       {"metadata": {"name": name, "labels": labels or {}},
                        "data": data or {"a": "b"}})

    def test_raw_watch_events_and_resume(self):
        self.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "w1"}})
        lst = self.ok("GET", "/api/v1/namespaces/w1/configmaps")
        rv = lst["metadata"]["resourceVersion"]
        w = Watch(self, "/api/v1/namespaces/w1/configmaps?watch=1&resourceVersion=%s" % rv)
        self.cm("a", "w1")
        self.ok("PATCH", "/api/v1/namespaces/w1/configmaps/a", {"data": {"a": "c"}},
                "application/merge-patch+json")
        self.ok("DELETE", "/api/v1/namespaces/w1/configmaps/a")
        ev = w.wait_for(3)
        w.close()
        self.assertEqual(w.status, 200)
        self.assertEqual([e["type"] for e in ev], ["ADDED", "MODIFIED", "DELETED"])
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in ev]
        self.assertEqual(rvs, sorted(rvs))
        # resume from the first event: the two after it, again
        w = Watch(self, "/api/v1/namespaces/w1/configmaps?watch=1&resourceVersion=%d" % rvs[0])
        again = w.wait_for(2)
        w.close()
        self.assertEqual([e["type"] for e in again], ["MODIFIED", "DELETED"])
        # too large: 504
        st, v = self.call("GET", "/api/v1/namespaces/w1/configmaps?watch=1&resourceVersion=%d"
                          % (rvs[-1] + 10 ** 6))
        self.assertEqual(st, 504)
        self.assertEqual(v["reason"], "Timeout")

    def test_python_client_watch(self):
        if subprocess.run([PY, "-c", "import kubernetes"], capture_output=True).returncode:
            self.skipTest("python3-kubernetes is not installed for %s" % PY)
        self.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "pyw"}})
        script = os.path.join(self.home, "w.py")
        with open(script, "w") as f:
            f.write("""
import sys
from kubernetes import client, watch
cfg = client.Configuration()
cfg.host, cfg.ssl_ca_cert = sys.argv[1], sys.argv[2]
cfg.api_key = {"authorization": "Bearer " + sys.argv[3]}
api = client.CoreV1Api(client.ApiClient(cfg))
w = watch.Watch()
for ev in w.stream(api.list_namespaced_config_map, "pyw", timeout_seconds=30):
    print(ev["type"], ev["object"].metadata.name, flush=True)
    if ev["type"] == "DELETED":
        w.stop()
print("stopped", flush=True)
""")
        proc = subprocess.Popen([PY, script, self.base, self.p.ca_file(), self.token()],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # the watch is open once its first event (the namespace's kube-root-ca.crt) is out;
        # the client's start takes seconds on a busy machine
        first = proc.stdout.readline()
        self.assertEqual(first.strip(), "ADDED kube-root-ca.crt", proc.stderr.read()
                         if not first else first)
        self.cm("p1", "pyw")
        self.ok("DELETE", "/api/v1/namespaces/pyw/configmaps/p1")
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out.splitlines(), ["ADDED p1", "DELETED p1", "stopped"])

    def test_kubectl_get_w_and_wait(self):
        if not self.kubectl:
            self.skipTest("no kubectl 1.32")
        self.k("create", "namespace", "kw")
        watcher = self.k_bg("-n", "kw", "get", "configmaps", "-w")
        time.sleep(3)
        self.k("-n", "kw", "create", "configmap", "c1", "--from-literal=a=b")
        self.k("-n", "kw", "label", "configmap", "c1", "x=y")
        waiter = self.k_bg("-n", "kw", "wait", "--for=delete", "configmap/c1", "--timeout=60s")
        time.sleep(3)
        self.k("-n", "kw", "delete", "configmap", "c1", "--wait=false")
        out, err = waiter.communicate(timeout=90)
        self.assertEqual(waiter.returncode, 0, err)
        self.assertIn("configmap/c1 condition met", out)
        time.sleep(1)
        watcher.terminate()
        out, _ = watcher.communicate(timeout=30)
        rows = [l.split() for l in out.splitlines()]
        self.assertEqual(rows[0][:3], ["NAME", "DATA", "AGE"])
        names = [r[0] for r in rows[1:]]
        # kube-root-ca.crt first, then c1 created, labelled, deleted: three rows
        self.assertEqual(names.count("c1"), 3, out)

    def watches(self):
        return self.p.admin("GET", "health")["k8s"]["watches"]

    def test_never_reading_client_is_dropped(self):
        """A watch whose client never reads: the server renders nothing for it (no queue),
        keeps answering everyone else, and drops the connection once the socket stays full
        past the idle timeout."""
        self.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "slow"}})
        before = self.watches()
        u = urllib.parse.urlsplit(self.http_base)
        s = socket.create_connection((u.hostname, u.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(("GET %s/api/v1/namespaces/slow/configmaps?watch=1 HTTP/1.1\r\nHost: x\r\n"
                   "Authorization: Bearer %s\r\n\r\n" % (u.path, self.token())).encode())
        deadline = time.time() + 10
        while time.time() < deadline and self.watches() == before:
            time.sleep(0.1)
        self.assertEqual(self.watches(), before + 1)
        big = "x" * 200000
        t0 = time.time()
        for i in range(60):
            self.cm("big%d" % i, "slow", data={"v": big})
        self.assertLess(time.time() - t0, 60)  # writers are not slowed by the stuck reader
        # the server still answers (and its memory is not the problem: nothing is queued)
        self.ok("GET", "/api/v1/namespaces/slow/configmaps?limit=1")
        # past the idle timeout (4 s) the server has dropped it, though the client is there
        deadline = time.time() + 20
        while time.time() < deadline and self.watches() > before:
            time.sleep(0.5)
        self.assertEqual(self.watches(), before)
        s.close()

    def test_many_watches(self):
        """Hundreds of open watches at once: all get the event, then all close cleanly."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        n = min(400, max(0, soft - 64))
        self.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "many"}})
        rv = self.ok("GET", "/api/v1/namespaces/many/configmaps")["metadata"]["resourceVersion"]
        ws = [Watch(self, "/api/v1/namespaces/many/configmaps?watch=1&resourceVersion=%s" % rv)
              for _ in range(n)]
        self.cm("hello", "many")
        for w in ws:
            ev = w.wait_for(1, timeout=30)
            self.assertEqual(len(ev), 1)
            self.assertEqual(ev[0]["object"]["metadata"]["name"], "hello")
        for w in ws:
            w.close()
        self.ok("GET", "/api/v1/namespaces/many/configmaps")


if __name__ == "__main__":
    unittest.main()
