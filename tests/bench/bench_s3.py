#!/usr/bin/env python3
"""bench_s3.py - podiam's S3 against moto's server, side by side, on this machine.

What it measures (each round runs podiam then moto, rounds alternate; medians are
reported):
  * 4 KiB GET and PUT through presigned URLs with wrk, 16 and 64 connections:
    requests/s, p50 and p99 latency;
  * 64 MiB PUT and GET through presigned URLs, three times per round (a raw loopback
    client sending from and receiving into 1 MiB buffers, so the client is not the limit):
    MB/s;
  * podiam's peak RSS while the 64 MiB upload runs (VmRSS sampled every 5 ms from
    /proc/PID/status, and VmHWM);
  * 64 clients overwriting one key for the duration: errors (non-2xx answers) must be 0.
It also measures the references the targets are stated against: single-core MD5 speed
(`openssl speed -evp md5`) and single-connection loopback TCP bandwidth.

Targets (issue 4): 4 KiB GET >= 100x moto, PUT >= 30x moto; 64 MiB PUT >= 80% of MD5 speed;
64 MiB GET >= 2/3 of loopback bandwidth; peak RSS during the 64 MiB upload <= 32 MiB.

Usage: tests/bench/bench_s3.py [--podiam build/emulator/podiam] [--rounds 3]
       [--seconds 4] [--no-moto] [--state-dir /dev/shm]
       [--small-size 4096] [--podiam-arg=--s3-inline-max=0 ...] [--no-big]
--small-size changes the object size of the GET/PUT runs (the table still says "4 KiB"
rows by their operation), --podiam-arg passes a flag to podiam (repeatable), --no-big skips
the 64 MiB transfers (and the RSS figure).
Needs: wrk, curl, openssl, boto3 (for presigning) and moto_server (unless --no-moto).
Everything listens on 127.0.0.1 only and stops by itself.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import boto3
import botocore.config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, name, cmd, endpoint, env=None):
        self.name, self.endpoint = name, endpoint
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, env=env)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", int(endpoint.rsplit(":", 1)[1])),
                                         timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        self.s3 = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test",
            region_name="us-east-1").client(
                "s3", endpoint_url=endpoint,
                config=botocore.config.Config(signature_version="s3v4",
                                              s3={"addressing_style": "path"}))
        self.s3.create_bucket(Bucket="bench")

    def url(self, method, key, expires=3600):
        op = "put_object" if method == "PUT" else "get_object"
        return self.s3.generate_presigned_url(op, Params={"Bucket": "bench", "Key": key},
                                              ExpiresIn=expires)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_podiam(binary, state_dir=None, extra=()):
    port = free_port()
    cmd = [binary, "serve", "--listen", "127.0.0.1:%d" % port, "--listen-tls", "off",
           "--listen-proxy", "off", "--state", ":memory:", "--log-level", "warn"] + list(extra)
    env = dict(os.environ)
    if state_dir:
        env["TMPDIR"] = state_dir  # where :memory: state (and object files) live
    return Server("podiam", cmd, "http://127.0.0.1:%d" % port, env=env)


def start_moto():
    port = free_port()
    return Server("moto", ["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                  "http://127.0.0.1:%d" % port)


WRK_PUT = """
wrk.method = "PUT"
wrk.body = string.rep("x", %d)
wrk.headers["Content-Type"] = "application/octet-stream"
"""


def parse_latency(text, pct):
    m = re.search(r"^\s*%s%%\s+([\d.]+)(us|ms|s)\s*$" % pct, text, re.M)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000.0 if unit == "us" else v if unit == "ms" else v * 1000.0


def wrk(url, conns, seconds, script=None):
    cmd = ["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, "--latency", "--timeout", "10s"]
    tmp = None
    if script:
        tmp = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        tmp.write(script)
        tmp.close()
        cmd += ["-s", tmp.name]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    if tmp:
        os.unlink(tmp.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non2xx.group(1)) if non2xx else 0
    if errs:
        errors += sum(int(x) for x in errs.groups())
    return {"rps": rps, "p50": parse_latency(out, 50), "p99": parse_latency(out, 99),
            "errors": errors}


def rss_sampler(pid, stop, out):
    peak = 0
    while not stop.is_set():
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            break
        time.sleep(0.005)
    out.append(peak)


def vm_field(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return 0


def raw_http(url, method, body=None):
    """One HTTP/1.1 request on a fresh loopback connection, the response body read with
    1 MiB recv_into (so the client is not what limits the measurement). Returns the
    status and the number of body bytes."""
    import urllib.parse
    u = urllib.parse.urlparse(url)
    c = socket.create_connection((u.hostname, u.port))
    head = "%s %s?%s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n" % (
        method, u.path, u.query, u.hostname, u.port)
    if body is not None:
        head += "Content-Length: %d\r\n" % len(body)
    c.sendall((head + "\r\n").encode())
    if body is not None:
        c.sendall(body)
    buf = bytearray(1 << 20)
    mv = memoryview(buf)
    got = bytearray()
    n = c.recv_into(buf)
    while b"\r\n\r\n" not in got and n:
        got += mv[:n]
        if b"\r\n\r\n" in got:
            break
        n = c.recv_into(buf)
    hdr, _, rest = bytes(got).partition(b"\r\n\r\n")
    status = int(hdr.split()[1])
    total = len(rest)
    while True:
        n = c.recv_into(buf)
        if not n:
            break
        total += n
    c.close()
    return status, total


def big_transfer(srv, path, measure_rss, repeat=3):
    """PUT then GET the file `repeat` times (overwriting one key); medians of the speeds,
    RSS sampled over every PUT."""
    with open(path, "rb") as f:
        data = f.read()
    size = len(data)
    puts, gets, peak = [], [], []
    for _ in range(repeat):
        put = srv.url("PUT", "big64")
        stop = threading.Event()
        t = None
        if measure_rss:
            t = threading.Thread(target=rss_sampler, args=(srv.proc.pid, stop, peak))
            t.start()
        start = time.perf_counter()
        st, _ = raw_http(put, "PUT", data)
        puts.append(size / (time.perf_counter() - start) / 1e6)
        stop.set()
        if t:
            t.join()
        assert st == 200, st
        get = srv.url("GET", "big64")
        start = time.perf_counter()
        st, n = raw_http(get, "GET")
        gets.append(size / (time.perf_counter() - start) / 1e6)
        assert st == 200 and n == size, (st, n)
    res = {"put_mbs": statistics.median(puts), "get_mbs": statistics.median(gets)}
    if measure_rss:
        res["peak_rss_kib"] = max(peak) if peak else 0
        res["hwm_kib"] = vm_field(srv.proc.pid, "VmHWM")
    return res


def md5_speed():
    out = subprocess.run(["openssl", "speed", "-evp", "md5", "-bytes", "16384", "-seconds", "2"],
                         capture_output=True, text=True).stdout
    m = re.search(r"^md5\s+([\d.]+)k", out, re.M)
    return float(m.group(1)) * 1000 / 1e6 if m else float("nan")  # MB/s


def loopback_bandwidth(seconds=2.0):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    total = [0]

    def sink():
        c, _ = srv.accept()
        buf = bytearray(1 << 20)
        while True:
            n = c.recv_into(buf)
            if not n:
                break
            total[0] += n
        c.close()
    t = threading.Thread(target=sink)
    t.start()
    c = socket.create_connection(("127.0.0.1", port))
    block = b"\0" * (1 << 20)
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        c.sendall(block)
    c.close()
    t.join()
    elapsed = time.perf_counter() - start
    srv.close()
    return total[0] / elapsed / 1e6


def one_round(srv, seconds, bigfile, measure_rss, small=4096):
    # the big transfer first, on a fresh process: its RSS is the upload's, not what the
    # connection storms below leave behind
    r = big_transfer(srv, bigfile, measure_rss) if bigfile else {}
    srv.s3.put_object(Bucket="bench", Key="small", Body=os.urandom(small))
    get_url = srv.url("GET", "small")
    put_url = srv.url("PUT", "put-small")
    for c in (16, 64):
        r["get%d" % c] = wrk(get_url, c, seconds)
        r["put%d" % c] = wrk(put_url, c, seconds, WRK_PUT % small)
    r["overwrite64"] = wrk(srv.url("PUT", "contended"), 64, seconds, WRK_PUT % small)
    return r


def med(rounds, *path):
    vals = []
    for r in rounds:
        v = r
        for p in path:
            v = v[p]
        vals.append(v)
    return statistics.median(vals)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--podiam", default=os.path.join(ROOT, "build", "emulator", "podiam"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--no-moto", action="store_true")
    ap.add_argument("--state-dir", help="directory for podiam's :memory: state and object "
                                        "files (default $TMPDIR or /tmp), e.g. /dev/shm")
    ap.add_argument("--small-size", type=int, default=4096,
                    help="object size of the GET/PUT runs (default 4096)")
    ap.add_argument("--podiam-arg", action="append", default=[],
                    help="an extra podiam flag, e.g. --podiam-arg=--s3-inline-max=0")
    ap.add_argument("--no-big", action="store_true", help="skip the 64 MiB transfers")
    args = ap.parse_args()
    for tool in ["wrk", "curl", "openssl"] + ([] if args.no_moto else ["moto_server"]):
        if not shutil.which(tool):
            sys.exit("bench_s3: %s is needed" % tool)
    tmp = tempfile.mkdtemp(prefix="bench-s3-")
    bigfile = None if args.no_big else os.path.join(tmp, "big64")
    if bigfile:
        with open(bigfile, "wb") as f:
            for _ in range(64):
                f.write(os.urandom(1 << 20))
    results = {"podiam": [], "moto": []}
    try:
        for i in range(args.rounds):
            for name in ["podiam", "moto"]:
                if name == "moto" and args.no_moto:
                    continue
                srv = start_podiam(args.podiam, args.state_dir, args.podiam_arg) \
                    if name == "podiam" else start_moto()
                try:
                    results[name].append(one_round(srv, args.seconds, bigfile,
                                                   name == "podiam", args.small_size))
                finally:
                    srv.stop()
                print("round %d %s done" % (i + 1, name), file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    md5 = md5_speed()
    loop = loopback_bandwidth()
    P, M = results["podiam"], results["moto"]
    print("| metric | podiam | moto | ratio |")
    print("| --- | --- | --- | --- |")
    for op in ["get16", "get64", "put16", "put64"]:
        p = med(P, op, "rps")
        m = med(M, op, "rps") if M else float("nan")
        print("| 4 KiB %s req/s | %.0f | %.0f | %.1fx |" % (op, p, m, p / m if M else 0))
        print("| 4 KiB %s p50 / p99 ms | %.2f / %.2f | %.2f / %.2f | |" % (
            op, med(P, op, "p50"), med(P, op, "p99"),
            med(M, op, "p50") if M else float("nan"), med(M, op, "p99") if M else float("nan")))
    print("| 64 clients overwriting one key: errors | %d | %s | |" % (
        max(r["overwrite64"]["errors"] for r in P),
        max(r["overwrite64"]["errors"] for r in M) if M else "-"))
    if not bigfile:
        return
    print("| 64 MiB PUT MB/s | %.0f | %.0f | |" % (med(P, "put_mbs"),
                                                   med(M, "put_mbs") if M else float("nan")))
    print("| 64 MiB GET MB/s | %.0f | %.0f | |" % (med(P, "get_mbs"),
                                                   med(M, "get_mbs") if M else float("nan")))
    print("| podiam peak RSS during the 64 MiB PUT | %.1f MiB (VmHWM %.1f MiB) | | |" % (
        max(r["peak_rss_kib"] for r in P) / 1024, max(r["hwm_kib"] for r in P) / 1024))
    print("| single-core MD5 (openssl speed -evp md5) | %.0f MB/s | | |" % md5)
    print("| single-connection loopback TCP | %.0f MB/s | | |" % loop)
    print()
    print("targets: GET16 %.0fx (>=100x), PUT16 %.0fx (>=30x), 64 MiB PUT %.0f%% of MD5 "
          "(>=80%%), GET %.0f%% of loopback (>=67%%), peak RSS %.1f MiB (<=32)" % (
              med(P, "get16", "rps") / med(M, "get16", "rps") if M else 0,
              med(P, "put16", "rps") / med(M, "put16", "rps") if M else 0,
              100 * med(P, "put_mbs") / md5, 100 * med(P, "get_mbs") / loop,
              max(r["peak_rss_kib"] for r in P) / 1024))


if __name__ == "__main__":
    main()
