"""Crash safety of S3 objects: concurrent uploads (threads, plus slow uploads certain to be
mid-body), kill -9 of podiam, restart on the same state file. Every acknowledged object must
be intact (bytes and ETag), nothing partial may be visible, and the temp files and
unreferenced object files must be gone after the restart. Objects up to the inline threshold
(64 KiB) have no file: their bytes commit with their row."""
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import boto3
import botocore.config

from podiam_harness import READY, podiam_binary

INLINE_MAX = 64 * 1024  # podiam's default --s3-inline-max


def start(state, log, extra=()):
    proc = subprocess.Popen([podiam_binary(), "serve", "--listen", "127.0.0.1:0",
                             "--listen-tls", "off", "--listen-proxy", "off", "--state", state]
                            + list(extra),
                            stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    m = READY.search(line)
    if not m:
        proc.kill()
        raise RuntimeError("podiam did not start: %r" % line)
    return proc, m.group(1)


def client(endpoint):
    s = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                              region_name="us-east-1")
    return s.client("s3", endpoint_url=endpoint,
                    config=botocore.config.Config(retries={"max_attempts": 1},
                                                  max_pool_connections=20))


class CrashTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="podiam-crash-")
        self.state = os.path.join(self.dir, "state.db")
        self.objects = self.state + ".objects"
        self.log = open(os.path.join(self.dir, "podiam.log"), "w+")

    def tearDown(self):
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def slow_upload(self, endpoint, key, size, stop):
        """An unsigned-payload PUT whose body trickles in until the process dies."""
        u = urllib.parse.urlparse(endpoint)
        s = socket.create_connection((u.hostname, u.port))
        req = ("PUT /crash/%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %d\r\n\r\n" %
               (key, u.hostname, u.port, size)).encode()
        # anonymous: the bucket policy lets anyone write slow/*
        s.sendall(req)
        sent = 0
        try:
            while not stop.is_set() and sent < size - 1:
                s.sendall(b"s" * 4096)
                sent += 4096
                time.sleep(0.01)
        except OSError:
            pass
        finally:
            s.close()

    def test_kill_during_uploads(self):
        self.crash(())

    def test_kill_during_uploads_sync_full(self):
        """The same with --sync full (files and directories fsynced, commits FULL)."""
        self.crash(("--sync", "full"), writers=3)

    def crash(self, extra, writers=6):
        proc, endpoint = start(self.state, self.log, extra)
        s3 = client(endpoint)
        s3.create_bucket(Bucket="crash")
        s3.delete_public_access_block(Bucket="crash")  # new buckets block public policies
        s3.put_bucket_policy(Bucket="crash", Policy=(
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
            '"Action":"s3:PutObject","Resource":"arn:aws:s3:::crash/slow/*"}]}'))
        acked, attempted = {}, {}
        lock = threading.Lock()
        stop = threading.Event()

        def writer(t):
            c = client(endpoint)
            n = 0
            while not stop.is_set():
                sizes = [0, 1, 1000, INLINE_MAX, INLINE_MAX + 1, 300000, 1500000]
                size = sizes[n % len(sizes)]
                data = os.urandom(size)
                key = "t%d/%d" % (t, n)
                n += 1
                md5 = hashlib.md5(data).hexdigest()
                with lock:
                    attempted[key] = md5
                try:
                    r = c.put_object(Bucket="crash", Key=key, Body=data)
                except Exception:
                    return
                with lock:
                    acked[key] = (md5, r["ETag"])

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(writers)]
        slow = [threading.Thread(target=self.slow_upload,
                                 args=(endpoint, "slow/%d" % i, 50 << 20, stop))
                for i in range(2)]
        for t in threads + slow:
            t.start()
        time.sleep(2.0)
        # the slow uploads are mid-body: their temp files exist
        tmp = os.listdir(os.path.join(self.objects, "tmp"))
        self.assertGreaterEqual(len(tmp), 2, tmp)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        stop.set()
        for t in threads + slow:
            t.join()
        self.assertGreater(len(acked), 10)

        proc, endpoint = start(self.state, self.log, extra)
        try:
            s3 = client(endpoint)
            listed = {}
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket="crash"):
                for o in page.get("Contents", []):
                    listed[o["Key"]] = o
            for key, (md5, etag) in acked.items():
                self.assertIn(key, listed)
                g = s3.get_object(Bucket="crash", Key=key)
                self.assertEqual(hashlib.md5(g["Body"].read()).hexdigest(), md5, key)
                self.assertEqual(g["ETag"], etag)
            for key, o in listed.items():
                self.assertIn(key, attempted, "an object nobody wrote: %s" % key)
                self.assertFalse(key.startswith("slow/"), "a partial upload is visible")
                self.assertEqual(o["ETag"], '"%s"' % attempted[key], key)
            self.assertEqual(os.listdir(os.path.join(self.objects, "tmp")), [])
            files = sum(len(fs) for d, _, fs in os.walk(self.objects)
                        if not d.endswith("/tmp"))
            # one file per object above the threshold, none for the inline ones
            self.assertEqual(files, sum(1 for o in listed.values() if o["Size"] > INLINE_MAX))
            self.assertTrue(any(o["Size"] <= INLINE_MAX for o in listed.values()))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
            proc.stdout.close()


if __name__ == "__main__":
    unittest.main()
