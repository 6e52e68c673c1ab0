"""Crash safety of IAM and S3 writes together: threads create users, access keys, roles and
inline role policies while others upload objects; podiam is killed with SIGKILL at a random
moment and restarted on the same --state, several times in a row (the state accumulates).
After each restart:
  * the server starts and /_podiam/health says ok;
  * every acknowledged write is there and whole: the user, its access key (the secret
    still signs: GetCallerIdentity with it names the user), the role with its trust policy,
    the inline policy with the exact document, the object with its bytes and ETag;
  * nothing is half there: every user, role, inline policy, key and object present was
    attempted, and is complete (an unacknowledged write may be present, if whole: its
    commit happened and only the answer was lost).
The kill points are random; the seed is printed (PODIAM_CRASH_SEED=N repeats a run)."""
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

import boto3
import botocore.config

from podiam_harness import READY, podiam_binary

TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
         '{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}')


def inline_doc(name):
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::crash/%s/*" % name}]}


def client(service, endpoint, key="test", secret="test"):
    s = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                              region_name="us-east-1")
    return s.client(service, endpoint_url=endpoint,
                    config=botocore.config.Config(retries={"max_attempts": 1},
                                                  connect_timeout=5, read_timeout=10,
                                                  max_pool_connections=20))


class Ledger:
    """What was attempted and what was acknowledged, per kind."""

    def __init__(self):
        self.lock = threading.Lock()
        self.attempted = {"user": set(), "role": set(), "policy": set(), "object": {}}
        self.acked = {"user": set(), "role": set(), "policy": set(), "object": {},
                      "key": {}}
        self.key_attempts = {}  # user -> number of CreateAccessKey calls sent

    def attempt(self, kind, name, value=None):
        with self.lock:
            if kind == "object":
                self.attempted[kind].setdefault(name, set()).add(value)
            elif kind == "key":
                self.key_attempts[name] = self.key_attempts.get(name, 0) + 1
            else:
                self.attempted[kind].add(name)

    def ack(self, kind, name, value=None):
        with self.lock:
            if kind in ("object", "key"):
                self.acked[kind][name] = value
            else:
                self.acked[kind].add(name)


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="podiam-crash-")
        self.state = os.path.join(self.dir, "state.db")
        self.log = open(os.path.join(self.dir, "podiam.log"), "w+")
        self.proc = None

    def tearDown(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self):
        proc = subprocess.Popen([podiam_binary(), "serve", "--listen", "127.0.0.1:0",
                                 "--listen-tls", "off", "--state", self.state,
                                 "--log-level", "warn"],
                                stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = proc.stdout.readline()
        m = READY.search(line)
        if not m:
            proc.kill()
            self.log.seek(0)
            self.fail("podiam did not start on the crashed state: %r\n%s" % (
                line, self.log.read()[-4000:]))
        self.proc = proc
        return m.group(1)

    def kill(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc.stdout.close()
        self.proc = None

    # --- the writers ----------------------------------------------------------------
    def iam_writer(self, endpoint, led, t, cycle, stop):
        iam = client("iam", endpoint)
        n = 0
        while not stop.is_set():
            name = "c%d-t%d-%d" % (cycle, t, n)
            n += 1
            try:
                led.attempt("user", name)
                iam.create_user(UserName=name)
                led.ack("user", name)
                led.attempt("key", name)
                k = iam.create_access_key(UserName=name)["AccessKey"]
                led.ack("key", name, (k["AccessKeyId"], k["SecretAccessKey"]))
                led.attempt("role", name)
                iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
                led.ack("role", name)
                led.attempt("policy", name)
                iam.put_role_policy(RoleName=name, PolicyName="inline",
                                    PolicyDocument=json.dumps(inline_doc(name)))
                led.ack("policy", name)
            except Exception:
                return  # the server died under us

    def s3_writer(self, endpoint, led, t, cycle, stop):
        s3 = client("s3", endpoint)
        n = 0
        while not stop.is_set():
            # unique keys, and a key shared by every writer (overwritten concurrently)
            key = "shared" if n % 4 == 3 else "c%d-t%d-%d" % (cycle, t, n)
            data = os.urandom([0, 1, 5000, 20000][n % 4])
            n += 1
            md5 = hashlib.md5(data).hexdigest()
            led.attempt("object", key, md5)
            try:
                s3.put_object(Bucket="crash", Key=key, Body=data)
            except Exception:
                return
            if key != "shared":
                led.ack("object", key, md5)

    # --- the checks -------------------------------------------------------------------
    def check(self, endpoint, led):
        with urllib.request.urlopen(endpoint + "/_podiam/health", timeout=10) as r:
            self.assertEqual(json.loads(r.read())["status"], "ok")
        with urllib.request.urlopen(endpoint + "/_podiam/state", timeout=60) as r:
            state = json.loads(r.read())
        # the account appears once something was written in it (a kill before the first
        # write leaves none; the checks below still fail if an acknowledged write is lost)
        acct = next((a for a in state.get("iam", {}).get("accounts", [])
                     if a["id"] == "000000000000"), {})
        users = {u["name"]: u for u in acct.get("users", [])}
        roles = {r["name"]: r for r in acct.get("roles", [])}
        for name in led.acked["user"]:
            self.assertIn(name, users, "acknowledged CreateUser lost")
        for name, (kid, secret) in led.acked["key"].items():
            keys = {k["id"]: k["secret"] for k in users[name].get("access_keys", [])}
            self.assertEqual(keys.get(kid), secret, "acknowledged access key lost: " + name)
        for name in led.acked["role"]:
            self.assertIn(name, roles, "acknowledged CreateRole lost")
            self.assertEqual(roles[name]["trust_policy"], json.loads(TRUST), name)
        for name in led.acked["policy"]:
            self.assertEqual(roles[name].get("inline_policies", {}).get("inline"),
                             inline_doc(name), "acknowledged PutRolePolicy lost: " + name)
        # nothing present that was never attempted, and what is present is whole
        for name, u in users.items():
            self.assertIn(name, led.attempted["user"], "a user nobody created")
            self.assertTrue(u.get("id", "").startswith("AIDA"), u)
            self.assertLessEqual(len(u.get("access_keys", [])), led.key_attempts.get(name, 0),
                                 "more keys than CreateAccessKey calls: " + name)
        for name, r in roles.items():
            self.assertIn(name, led.attempted["role"], "a role nobody created")
            self.assertEqual(r["trust_policy"], json.loads(TRUST), name)
            for pname, doc in r.get("inline_policies", {}).items():
                self.assertIn(name, led.attempted["policy"])
                self.assertEqual((pname, doc), ("inline", inline_doc(name)))
        # the API agrees with the export: a sample of keys sign, roles answer
        rnd = random.Random(len(users))
        for name in rnd.sample(sorted(led.acked["key"]), min(5, len(led.acked["key"]))):
            kid, secret = led.acked["key"][name]
            arn = client("sts", endpoint, kid, secret).get_caller_identity()["Arn"]
            self.assertEqual(arn, "arn:aws:iam::000000000000:user/" + name)
        iam = client("iam", endpoint)
        for name in rnd.sample(sorted(led.acked["policy"]), min(5, len(led.acked["policy"]))):
            doc = iam.get_role_policy(RoleName=name, PolicyName="inline")["PolicyDocument"]
            self.assertEqual(doc, inline_doc(name))
        # objects: acknowledged ones whole, others attempted and whole
        s3 = client("s3", endpoint)
        listed = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="crash"):
            for o in page.get("Contents", []):
                listed[o["Key"]] = o["ETag"].strip('"')
        for key, md5 in led.acked["object"].items():
            self.assertEqual(listed.get(key), md5, "acknowledged PutObject lost: " + key)
        for key, etag in listed.items():
            self.assertIn(etag, led.attempted["object"].get(key, set()), "object " + key)
            body = s3.get_object(Bucket="crash", Key=key)["Body"].read()
            self.assertEqual(hashlib.md5(body).hexdigest(), etag, "partial object " + key)
        return len(users), len(roles), len(listed)

    def test_kill_during_iam_and_s3_writes(self):
        seed = int(os.environ.get("PODIAM_CRASH_SEED", random.randrange(1 << 30)))
        print("\ntest_crash seed: %d (PODIAM_CRASH_SEED=%d repeats)" % (seed, seed),
              file=sys.stderr)
        rnd = random.Random(seed)
        led = Ledger()
        endpoint = self.start()
        s3 = client("s3", endpoint)
        s3.create_bucket(Bucket="crash")
        for cycle in range(4):
            stop = threading.Event()
            threads = [threading.Thread(target=self.iam_writer,
                                        args=(endpoint, led, t, cycle, stop))
                       for t in range(4)]
            threads += [threading.Thread(target=self.s3_writer,
                                         args=(endpoint, led, t, cycle, stop))
                        for t in range(2)]
            for t in threads:
                t.start()
            delay = rnd.uniform(0.5, 2.5)
            time.sleep(delay)
            self.kill()
            stop.set()
            for t in threads:
                t.join()
            endpoint = self.start()
            counts = self.check(endpoint, led)
            print("kill %d after %.2f s: %d users, %d roles, %d objects; acknowledged %d users"
                  ", %d keys, %d roles, %d policies, %d objects" % (
                      cycle + 1, delay, counts[0], counts[1], counts[2],
                      len(led.acked["user"]), len(led.acked["key"]), len(led.acked["role"]),
                      len(led.acked["policy"]), len(led.acked["object"])), file=sys.stderr)
        self.assertGreater(len(led.acked["policy"]), 10)
        self.assertGreater(len(led.acked["object"]), 10)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=30), 0)
        self.proc.stdout.close()
        self.proc = None


if __name__ == "__main__":
    unittest.main()
