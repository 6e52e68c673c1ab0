"""Soak (label soak): 64 watches of one namespace stay open while 1,000 changes are made to
its config maps by 4 writers at once (creates, merge patches, deletes); every watch must see
exactly the changes that were made, each once, in resourceVersion order, all watches the same
sequence. Then the same watches resume from the middle of the run and see its second half.
"""
import threading
import time
import unittest

from k8s_e2e import ClusterTest, Watch

WATCHES = 64
CHANGES = 1000
WRITERS = 4


class K8sWatchSoakTest(ClusterTest):
    need_kubectl = False

    def test_64_watches_1000_changes(self):
        self.ok("POST", "/api/v1/namespaces", {"metadata": {"name": "soak"}})
        rv0 = self.ok("GET", "/api/v1/namespaces/soak/configmaps")["metadata"]["resourceVersion"]
        path = "/api/v1/namespaces/soak/configmaps?watch=1&resourceVersion=%s" % rv0
        ws = [Watch(self, path) for _ in range(WATCHES)]
        made = []  # (type, name) of every change, in no particular order across writers
        lock = threading.Lock()
        errors = []

        def writer(k):
            try:
                n = CHANGES // WRITERS
                i = 0
                while i < n:
                    name = "w%d-%d" % (k, i)
                    self.ok("POST", "/api/v1/namespaces/soak/configmaps",
                            {"metadata": {"name": name}, "data": {"v": "0"}})
                    with lock:
                        made.append(("ADDED", name))
                    i += 1
                    if i < n:
                        self.ok("PATCH", "/api/v1/namespaces/soak/configmaps/" + name,
                                {"data": {"v": "1"}}, "application/merge-patch+json")
                        with lock:
                            made.append(("MODIFIED", name))
                        i += 1
                    if i < n and i % 3 == 0:
                        self.ok("DELETE", "/api/v1/namespaces/soak/configmaps/" + name)
                        with lock:
                            made.append(("DELETED", name))
                        i += 1
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        t0 = time.time()
        threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(made), CHANGES)
        seqs = [w.wait_for(CHANGES, timeout=120) for w in ws]
        for w in ws:
            w.close()
        elapsed = time.time() - t0
        first = [(e["type"], e["object"]["metadata"]["name"],
                  int(e["object"]["metadata"]["resourceVersion"])) for e in seqs[0]]
        self.assertEqual(len(first), CHANGES)
        rvs = [x[2] for x in first]
        self.assertEqual(rvs, sorted(set(rvs)), "events out of order or repeated")
        self.assertEqual(sorted((t, n) for t, n, _ in first), sorted(made))
        # per object, its changes in the order its writer made them
        order = {"ADDED": 0, "MODIFIED": 1, "DELETED": 2}
        last = {}
        for t, n, _ in first:
            self.assertGreater(order[t], last.get(n, -1), "%s of %s out of order" % (t, n))
            last[n] = order[t]
        for i, s in enumerate(seqs[1:], 1):
            got = [(e["type"], e["object"]["metadata"]["name"],
                    int(e["object"]["metadata"]["resourceVersion"])) for e in s]
            self.assertEqual(got, first, "watch %d saw another sequence" % i)
        # resuming from the middle gives exactly the second half
        mid = first[CHANGES // 2 - 1][2]
        w = Watch(self, "/api/v1/namespaces/soak/configmaps?watch=1&resourceVersion=%d" % mid)
        rest = w.wait_for(CHANGES - CHANGES // 2, timeout=60)
        w.close()
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in rest],
                         [(t, n) for t, n, _ in first[CHANGES // 2:]])
        print("\n%d watches saw %d changes each in %.1f s" % (WATCHES, CHANGES, elapsed))


if __name__ == "__main__":
    unittest.main()
