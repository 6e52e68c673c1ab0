"""Idle and half-open connections cannot lock new clients out (docs/usage.md).

A connection waiting for a request's headers (just opened, or parked after a keep-alive
request) is idle; near --max-connections, or when one peer address holds half of it, a new
connection makes room by closing the longest-idle ones. podiam runs here with
--max-connections 64 and the default 30 s header timeout, so without that rule a flood of
silent sockets would make every new client wait for the timeout."""
import socket
import time
import unittest
import urllib.parse

from podiam_harness import Podiam, signed_request

MAX = 64
BOUND = 2.0  # seconds a normal request may take while the flood is on


class Connections(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = Podiam.start("--max-connections", str(MAX), "--log-level", "warn")
        u = urllib.parse.urlparse(cls.p.endpoint)
        cls.host, cls.port = u.hostname, u.port

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()

    def request(self, sock=None):
        """One signed GetCallerIdentity; returns (status, seconds, socket kept open)."""
        h, b = signed_request(self.p.endpoint + "/", "sts",
                              {"Action": "GetCallerIdentity", "Version": "2011-06-15"})
        head = "POST / HTTP/1.1\r\nHost: %s:%d\r\n" % (self.host, self.port)
        for k, v in h.items():
            head += "%s: %s\r\n" % (k, v)
        head += "Content-Length: %d\r\n\r\n" % len(b)
        t0 = time.time()
        s = sock or socket.create_connection((self.host, self.port), timeout=40)
        s.sendall(head.encode() + b)
        buf = b""
        while b"</GetCallerIdentityResponse>" not in buf and b"</ErrorResponse>" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        status = int(buf.split()[1]) if buf else None
        return status, time.time() - t0, s

    def closed(self, s):
        """Has the server closed s (EOF or reset)?"""
        s.settimeout(0.01)
        try:
            return s.recv(1) == b""
        except socket.timeout:
            return False
        except OSError:
            return True

    def flood(self, idle, parked):
        socks = [socket.create_connection((self.host, self.port)) for _ in range(idle)]
        for _ in range(parked):
            st, _, s = self.request()
            self.assertEqual(st, 200)
            socks.append(s)  # keep-alive: parked after one request
        return socks

    def test_silent_and_parked_sockets_do_not_lock_out(self):
        socks = self.flood(3 * MAX, MAX)
        try:
            for _ in range(5):
                st, took, s = self.request()
                s.close()
                self.assertEqual(st, 200)
                self.assertLess(took, BOUND, "a new client waited behind idle sockets")
            time.sleep(0.3)
            gone = sum(self.closed(s) for s in socks)
            self.assertGreaterEqual(gone, len(socks) - MAX, "idle sockets were not closed")
        finally:
            for s in socks:
                s.close()

    def test_a_request_in_progress_is_never_closed_for_room(self):
        # headers in, body pending: busy, not idle
        busy = socket.create_connection((self.host, self.port))
        h, b = signed_request(self.p.endpoint + "/", "sts",
                              {"Action": "GetCallerIdentity", "Version": "2011-06-15"})
        head = "POST / HTTP/1.1\r\nHost: %s:%d\r\n" % (self.host, self.port)
        for k, v in h.items():
            head += "%s: %s\r\n" % (k, v)
        head += "Content-Length: %d\r\n\r\n" % len(b)
        busy.sendall(head.encode() + b[:5])
        time.sleep(0.2)
        socks = self.flood(2 * MAX, 0)
        try:
            self.assertFalse(self.closed(busy), "a request in progress was closed for room")
            busy.sendall(b[5:])
            busy.settimeout(10)
            self.assertIn(b"200 OK", busy.recv(65536))
        finally:
            busy.close()
            for s in socks:
                s.close()


if __name__ == "__main__":
    unittest.main()
