#!/usr/bin/env python3
"""Record the protobuf request bodies kubectl sends (tests/data/k8s_pb/*.bin).

A throwaway plain-http API server: minimal legacy discovery, and every POST body saved as
OUTDIR/<n>.bin (with <n>.txt holding method, path and content type). Answers are JSON, which
kubectl accepts for protobuf requests (reference/kubectl-facts.md §6).
Usage: record.py PORT OUTDIR, then point a kubeconfig at http://127.0.0.1:PORT and run
kubectl.1.32 (the versioned binary, not Google's dispatcher) with a fresh --cache-dir.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

OUT = sys.argv[2]
COUNT = [0]


def res(name, kind, ns=True, short=None, verbs=("create", "get", "list", "delete")):
    r = {"name": name, "singularName": "", "namespaced": ns, "kind": kind, "verbs": list(verbs)}
    if short:
        r["shortNames"] = [short]
    return r


DISCOVERY = {
    "/version": {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "platform": "linux/amd64"},
    "/api": {"versions": ["v1"]},
    "/apis": {"groups": [
        {"name": "authentication.k8s.io",
         "versions": [{"groupVersion": "authentication.k8s.io/v1", "version": "v1"}]},
        {"name": "authorization.k8s.io",
         "versions": [{"groupVersion": "authorization.k8s.io/v1", "version": "v1"}]}]},
    "/api/v1": {"groupVersion": "v1", "resources": [
        res("namespaces", "Namespace", ns=False, short="ns"),
        res("serviceaccounts", "ServiceAccount", short="sa"),
        res("configmaps", "ConfigMap", short="cm"),
        res("pods", "Pod", short="po"),
        {"name": "serviceaccounts/token", "singularName": "", "namespaced": True,
         "group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest",
         "verbs": ["create"]}]},
    "/apis/authentication.k8s.io/v1": {"groupVersion": "authentication.k8s.io/v1", "resources": [
        res("selfsubjectreviews", "SelfSubjectReview", ns=False, verbs=("create",))]},
    "/apis/authorization.k8s.io/v1": {"groupVersion": "authorization.k8s.io/v1", "resources": [
        res("selfsubjectaccessreviews", "SelfSubjectAccessReview", ns=False, verbs=("create",))]},
}


class H(BaseHTTPRequestHandler):
    def send(self, code, obj, ctype="application/json"):
        body = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        p = self.path.split("?")[0]
        if p == "/openapi/v2":
            return self.send(200, None, "application/octet-stream")
        if p in DISCOVERY:
            return self.send(200, DISCOVERY[p])
        self.send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "reason": "NotFound", "code": 404, "message": "not found"})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        COUNT[0] += 1
        with open("%s/%d.bin" % (OUT, COUNT[0]), "wb") as f:
            f.write(body)
        with open("%s/%d.txt" % (OUT, COUNT[0]), "w") as f:
            f.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Content-Type")))
        p = self.path.split("?")[0]
        if p.endswith("/token"):
            return self.send(201, {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                                   "metadata": {"name": "x"}, "spec": {"audiences": ["a"]},
                                   "status": {"token": "t.t.t",
                                              "expirationTimestamp": "2030-01-01T00:00:00Z"}})
        if "selfsubjectaccessreviews" in p:
            return self.send(201, {"kind": "SelfSubjectAccessReview",
                                   "apiVersion": "authorization.k8s.io/v1",
                                   "metadata": {}, "spec": {}, "status": {"allowed": True}})
        if "selfsubjectreviews" in p:
            return self.send(201, {"kind": "SelfSubjectReview",
                                   "apiVersion": "authentication.k8s.io/v1", "metadata": {},
                                   "status": {"userInfo": {"username": "u"}}})
        kind = {"namespaces": "Namespace", "serviceaccounts": "ServiceAccount",
                "configmaps": "ConfigMap"}.get(p.rstrip("/").split("/")[-1], "Status")
        self.send(201, {"kind": kind, "apiVersion": "v1", "metadata": {"name": "x"}})

    def log_message(self, *a):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
