"""Workloads with real clients (issue 12): kubectl 1.32 creates Deployments, Jobs, CronJobs,
Secrets and Services (its protobuf bodies), watches a Deployment's rollout event by event,
waits for `rollout status` and `wait --for=condition=complete`, scales, updates and rolls
back; the controllers make ReplicaSets and pods (through the identity webhook) on the
built-in virtual node, complete Jobs, collect garbage by ownerReferences; the Python client
reads pods/status and deletes a collection; kubectl 1.20 lists the new kinds.
"""
import base64
import json
import subprocess
import time
import unittest

from k8s_e2e import ClusterTest, Watch

PY = "/usr/bin/python3"


class K8sWorkloadsTest(ClusterTest):

    def poll(self, fn, timeout=30, what="condition"):
        end = time.time() + timeout
        while time.time() < end:
            v = fn()
            if v:
                return v
            time.sleep(0.2)
        self.fail("timed out waiting for " + what)

    def pods(self, ns, sel):
        return self.ok("GET", "/api/v1/namespaces/%s/pods?labelSelector=%s" % (ns, sel))["items"]

    def test_discovery_and_tables(self):
        out = self.k("api-resources", "--no-headers").stdout
        for want in ("deployments", "replicasets", "statefulsets", "daemonsets", "jobs",
                     "cronjobs", "secrets", "services", "endpoints", "events", "nodes"):
            self.assertIn(want, out)
        nodes = self.k("get", "nodes").stdout.split("\n")
        self.assertEqual(nodes[0].split()[:2], ["NAME", "STATUS"])
        self.assertEqual(nodes[1].split()[:2], ["podiam-node", "Ready"])
        self.k("create", "secret", "generic", "s1", "--from-literal=user=alice")
        v = json.loads(self.k("get", "secret", "s1", "-o", "json").stdout)
        self.assertEqual(base64.b64decode(v["data"]["user"]), b"alice")
        self.assertEqual(v["type"], "Opaque")
        self.k("create", "service", "clusterip", "svc1", "--tcp=80:8080")
        v = json.loads(self.k("get", "svc", "svc1", "-o", "json").stdout)
        self.assertTrue(v["spec"]["clusterIP"].startswith("10.100."))
        self.assertEqual(v["spec"]["ports"][0]["targetPort"], 8080)
        row = self.k("get", "svc", "svc1").stdout.split("\n")[1].split()
        self.assertEqual(row[1], "ClusterIP")
        self.assertEqual(row[4], "80/TCP")

    def test_deployment_rollout_scale_undo_gc(self):
        self.k("create", "namespace", "web")
        rv = self.ok("GET", "/api/v1/namespaces/web/pods")["metadata"]["resourceVersion"]
        pw = Watch(self, "/api/v1/namespaces/web/pods?watch=1&resourceVersion=%s" % rv)
        dw = Watch(self, "/apis/apps/v1/namespaces/web/deployments?watch=1&resourceVersion=%s"
                   % rv)
        self.k("-n", "web", "create", "deployment", "web", "--image=nginx:1.25", "--replicas=2")
        out = self.k("-n", "web", "rollout", "status", "deploy/web", "--timeout=60s").stdout
        self.assertIn('deployment "web" successfully rolled out', out)
        pods = self.pods("web", "app=web")
        self.assertEqual(len(pods), 2)
        for p in pods:
            self.assertEqual(p["status"]["phase"], "Running")
            self.assertEqual(p["spec"]["nodeName"], "podiam-node")
            ref = p["metadata"]["ownerReferences"][0]
            self.assertEqual(ref["kind"], "ReplicaSet")
            self.assertTrue(p["metadata"]["name"].startswith(ref["name"] + "-"))
        # the pod watch saw both pods added; the deployment watch its status going to ready
        ev = pw.wait_for(2)
        self.assertEqual([e["type"] for e in ev[:2]], ["ADDED", "ADDED"])
        dev = self.poll(lambda: [e for e in dw.events if e["type"] == "MODIFIED" and
                                 e["object"].get("status", {}).get("readyReplicas") == 2],
                        what="a MODIFIED event with 2 ready replicas")
        self.assertEqual(dev[0]["object"]["status"]["observedGeneration"], 1)
        self.assertEqual(dw.events[0]["type"], "ADDED")
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in dw.events]
        self.assertEqual(rvs, sorted(rvs))
        # scale
        self.k("-n", "web", "scale", "deploy/web", "--replicas=3")
        self.k("-n", "web", "rollout", "status", "deploy/web", "--timeout=60s")
        self.poll(lambda: len(self.pods("web", "app=web")) == 3, what="3 pods")
        row = self.k("-n", "web", "get", "deploy", "web").stdout.split("\n")[1].split()
        self.assertEqual(row[:4], ["web", "3/3", "3", "3"])
        # a new template: a second ReplicaSet takes over, the first is scaled to 0
        self.k("-n", "web", "set", "image", "deploy/web", "nginx=nginx:1.26")
        self.k("-n", "web", "rollout", "status", "deploy/web", "--timeout=60s")
        rs = self.ok("GET", "/apis/apps/v1/namespaces/web/replicasets")["items"]
        self.assertEqual(len(rs), 2)
        by_rev = {r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r
                  for r in rs}
        self.assertEqual(by_rev["1"]["spec"]["replicas"], 0)
        self.assertEqual(by_rev["2"]["spec"]["replicas"], 3)
        pods = self.poll(lambda: [p for p in self.pods("web", "app=web")] if all(
            c["image"] == "nginx:1.26" for p in self.pods("web", "app=web")
            for c in p["spec"]["containers"]) else None, what="pods of the new template")
        self.assertEqual(len(pods), 3)
        # undo: back to the first template, which becomes revision 3
        self.k("-n", "web", "rollout", "undo", "deploy/web")
        self.k("-n", "web", "rollout", "status", "deploy/web", "--timeout=60s")
        d = self.ok("GET", "/apis/apps/v1/namespaces/web/deployments/web")
        self.assertEqual(d["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.25")
        hist = self.k("-n", "web", "rollout", "history", "deploy/web").stdout
        self.assertIn("3", hist)
        # deleting the deployment takes its ReplicaSets and pods (garbage collection)
        self.k("-n", "web", "delete", "deploy", "web")
        self.poll(lambda: not self.pods("web", "app=web") and not self.ok(
            "GET", "/apis/apps/v1/namespaces/web/replicasets")["items"], what="GC")
        ev = self.k("-n", "web", "get", "events").stdout
        self.assertIn("ScalingReplicaSet", ev)
        pw.close()
        dw.close()

    def test_deployment_pods_get_web_identity(self):
        self.k("create", "namespace", "idw")
        self.k("-n", "idw", "create", "sa", "app")
        self.k("-n", "idw", "annotate", "sa", "app",
               "eks.amazonaws.com/role-arn=arn:aws:iam::000000000000:role/app")
        dep = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "app", "namespace": "idw"},
               "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "app"}},
                        "template": {"metadata": {"labels": {"app": "app"}},
                                     "spec": {"serviceAccountName": "app", "containers": [
                                         {"name": "app", "image": "s3-echoer"}]}}}}
        self.k("apply", "-f", "-", stdin=json.dumps(dep))
        self.k("-n", "idw", "rollout", "status", "deploy/app", "--timeout=60s")
        pods = self.pods("idw", "app=app")
        self.assertEqual(len(pods), 3)
        for p in pods:
            env = {e["name"]: e.get("value") for e in p["spec"]["containers"][0]["env"]}
            self.assertEqual(env["AWS_ROLE_ARN"], "arn:aws:iam::000000000000:role/app")
            self.assertIn("AWS_WEB_IDENTITY_TOKEN_FILE", env)
            vols = [v["name"] for v in p["spec"]["volumes"]]
            self.assertIn("aws-iam-token", vols)

    def test_job_complete_logs_and_bad_input(self):
        self.k("create", "namespace", "jobs")
        self.k("-n", "jobs", "create", "job", "hello", "--image=busybox", "--", "echo", "hi")
        out = self.k("-n", "jobs", "wait", "--for=condition=complete", "job/hello",
                     "--timeout=60s").stdout
        self.assertIn("job.batch/hello condition met", out)
        j = self.ok("GET", "/apis/batch/v1/namespaces/jobs/jobs/hello")
        self.assertEqual(j["status"]["succeeded"], 1)
        self.assertIn("completionTime", j["status"])
        row = self.k("-n", "jobs", "get", "job", "hello").stdout.split("\n")[1].split()
        self.assertEqual(row[1:3], ["Complete", "1/1"])
        p = self.k("-n", "jobs", "logs", "job/hello")
        self.assertEqual(p.stdout, "")  # the virtual node ran nothing
        # a Job whose pods must restart forever is refused
        bad = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "bad"},
               "spec": {"template": {"spec": {"restartPolicy": "Always", "containers": [
                   {"name": "c", "image": "x"}]}}}}
        st, v = self.call("POST", "/apis/batch/v1/namespaces/jobs/jobs", bad)
        self.assertEqual(st, 422, v)
        self.assertIn("spec.template.spec.restartPolicy", v["message"])
        # a Deployment whose selector does not match its template
        bad = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "bad"},
               "spec": {"selector": {"matchLabels": {"a": "b"}},
                        "template": {"metadata": {"labels": {"a": "c"}},
                                     "spec": {"containers": [{"name": "c", "image": "x"}]}}}}
        st, v = self.call("POST", "/apis/apps/v1/namespaces/jobs/deployments", bad)
        self.assertEqual(st, 422, v)
        self.assertIn("`selector` does not match template `labels`", v["message"])
        st, _ = self.call("GET", "/apis/apps/v1/namespaces/jobs/deployments/bad")
        self.assertEqual(st, 404)

    def test_statefulset_daemonset_cronjob(self):
        self.k("create", "namespace", "sets")
        tpl = {"metadata": {"labels": {"app": "s"}},
               "spec": {"containers": [{"name": "c", "image": "x"}]}}
        for kind, extra in (("StatefulSet", {"replicas": 2, "serviceName": "s"}),
                            ("DaemonSet", {})):
            spec = dict(extra, selector={"matchLabels": {"app": "s"}}, template=tpl)
            self.k("apply", "-f", "-", stdin=json.dumps(
                {"apiVersion": "apps/v1", "kind": kind,
                 "metadata": {"name": kind.lower(), "namespace": "sets"}, "spec": spec}))
        self.k("-n", "sets", "rollout", "status", "sts/statefulset", "--timeout=60s")
        names = sorted(p["metadata"]["name"] for p in self.pods("sets", "app=s"))
        self.assertIn("statefulset-0", names)
        self.assertIn("statefulset-1", names)
        ds = self.poll(lambda: (lambda d: d if d.get("status", {}).get("numberReady") else None)(
            self.ok("GET", "/apis/apps/v1/namespaces/sets/daemonsets/daemonset")), what="ds")
        self.assertEqual(ds["status"]["desiredNumberScheduled"], 1)  # one node: the virtual one
        self.k("-n", "sets", "create", "cronjob", "tick", "--image=busybox",
               "--schedule=*/1 * * * *")
        # podiam's clock moves forward two minutes: the CronJob runs a Job
        self.p.admin("POST", "clock", {"advance_ms": 120000})
        job = self.poll(lambda: self.ok("GET", "/apis/batch/v1/namespaces/sets/jobs")["items"],
                        timeout=30, what="a Job of the CronJob")
        self.assertTrue(job[0]["metadata"]["name"].startswith("tick-"))
        self.assertEqual(job[0]["metadata"]["ownerReferences"][0]["kind"], "CronJob")

    def test_python_client_status_and_delete_collection(self):
        if subprocess.run([PY, "-c", "import kubernetes"], capture_output=True).returncode:
            self.skipTest("python3-kubernetes is not installed for %s" % PY)
        self.k("create", "namespace", "pyc")
        for i in range(3):
            self.ok("POST", "/api/v1/namespaces/pyc/pods", {
                "metadata": {"name": "p%d" % i, "labels": {"x": "y"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]}})
        script = """
import sys
from kubernetes import client
cfg = client.Configuration()
cfg.host, cfg.ssl_ca_cert = sys.argv[1], sys.argv[2]
cfg.api_key = {"authorization": "Bearer " + sys.argv[3]}
api = client.CoreV1Api(client.ApiClient(cfg))
print(api.read_namespaced_pod_status("p0", "pyc").status.phase)
api.delete_collection_namespaced_pod("pyc", label_selector="x=y")
print(len(api.list_namespaced_pod("pyc").items))
print(client.AppsV1Api(client.ApiClient(cfg)).list_namespaced_deployment("pyc").items)
"""
        p = subprocess.run([PY, "-c", script, self.base, self.p.ca_file(), self.token()],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split("\n")[:3], ["Running", "0", "[]"])

    def test_python_client_watches_a_rollout(self):
        """The Python client's watch.Watch().stream on deployments sees a rollout event by
        event: the Deployment ADDED, then MODIFIED as its status catches up, in order."""
        if subprocess.run([PY, "-c", "import kubernetes"], capture_output=True).returncode:
            self.skipTest("python3-kubernetes is not installed for %s" % PY)
        self.k("create", "namespace", "pyroll")
        script = """
import sys
from kubernetes import client, watch
cfg = client.Configuration()
cfg.host, cfg.ssl_ca_cert = sys.argv[1], sys.argv[2]
cfg.api_key = {"authorization": "Bearer " + sys.argv[3]}
apps = client.AppsV1Api(client.ApiClient(cfg))
rv = apps.list_namespaced_deployment("pyroll").metadata.resource_version
w = watch.Watch()
print("open", flush=True)
for ev in w.stream(apps.list_namespaced_deployment, "pyroll", resource_version=rv,
                   timeout_seconds=60):
    d = ev["object"]
    st = d.status
    print(ev["type"], d.metadata.resource_version, d.metadata.generation,
          st.observed_generation, st.ready_replicas, st.updated_replicas, flush=True)
    if st.ready_replicas == 3 and st.observed_generation == d.metadata.generation:
        w.stop()
print("stopped", flush=True)
"""
        proc = subprocess.Popen([PY, "-c", script, self.base, self.p.ca_file(), self.token()],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # listed: the watch resumes from the list's resourceVersion, so nothing after is lost
        self.assertEqual(proc.stdout.readline().strip(), "open")
        self.k("-n", "pyroll", "create", "deployment", "r", "--image=x", "--replicas=3")
        out, err = proc.communicate(timeout=90)
        self.assertEqual(proc.returncode, 0, err)
        lines = [l.split() for l in out.splitlines()]
        self.assertEqual(lines[-1], ["stopped"])
        events = lines[:-1]
        self.assertEqual(events[0][0], "ADDED")
        self.assertTrue(all(e[0] == "MODIFIED" for e in events[1:]), out)
        self.assertGreaterEqual(len(events), 2, out)
        rvs = [int(e[1]) for e in events]
        self.assertEqual(rvs, sorted(rvs))
        self.assertEqual(events[-1][4:], ["3", "3"])

    def test_kubectl_120(self):
        if not self.kubectl_120:
            self.skipTest("no kubectl 1.20 binary found")
        self.k("create", "namespace", "old")
        self.k("-n", "old", "create", "deployment", "d", "--image=x", binary=self.kubectl_120)
        self.k("-n", "old", "rollout", "status", "deploy/d", "--timeout=60s",
               binary=self.kubectl_120)
        out = self.k("-n", "old", "get", "deploy,rs,pods", binary=self.kubectl_120).stdout
        self.assertIn("deployment.apps/d", out)
        self.assertIn("1/1", out)


if __name__ == "__main__":
    unittest.main()
