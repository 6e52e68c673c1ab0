"""Drive Debian's chromium, headless, from the e2e tests: a small Chrome DevTools Protocol
client over --remote-debugging-pipe (the browser reads commands on fd 3 and writes answers
and events on fd 4, each a JSON text ended by a NUL byte), so no driver package and no
WebSocket library are needed.

    with Browser() as b:
        b.goto("http://127.0.0.1:4566/_podiam/console")
        b.wait_for("document.querySelectorAll('#d-rows tr').length > 0")
        b.screenshot("decisions.png")

`Browser.find()` names the browser binary (CHROMIUM, else chromium or chromium-browser on
PATH) or returns None: tests skip with that reason when there is none.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time


def find():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class BrowserError(AssertionError):
    pass


class Browser:
    def __init__(self, width=1400, height=1000, timeout=30.0):
        self.binary = find()
        if not self.binary:
            raise BrowserError("no chromium on PATH (.ci/setup installs Debian's)")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="podiam-chromium-")
        # our ends: we write commands to w_cmd (the browser's fd 3), read from r_out (its fd 4)
        r_cmd, self.w_cmd = os.pipe()
        self.r_out, w_out = os.pipe()
        self.log = open(os.path.join(self.profile, "chromium.log"), "w+")

        def child_fds():
            # Our pipe ends are close-on-exec and may already be 3 or 4: copy them above 10
            # first, then onto 3 and 4 (inheritable), where the browser looks for them.
            a = fcntl.fcntl(r_cmd, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(w_out, fcntl.F_DUPFD, 10)
            os.dup2(a, 3, inheritable=True)
            os.dup2(b, 4, inheritable=True)

        args = [self.binary, "--headless=new", "--remote-debugging-pipe", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--no-proxy-server",
                "--disable-background-networking", "--disable-sync", "--mute-audio",
                "--hide-scrollbars", "--user-data-dir=" + self.profile,
                "--window-size=%d,%d" % (width, height), "about:blank"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, preexec_fn=child_fds, close_fds=False)
        os.close(r_cmd)
        os.close(w_out)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None
        self.width, self.height = width, height
        try:
            self._open_page()
        except Exception:
            self.close()
            raise

    # --- protocol ---------------------------------------------------------------------
    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("chromium did not answer in time\n" + self.logs()[-3000:])
            ready, _, _ = select.select([self.r_out], [], [], left)
            if ready:
                chunk = os.read(self.r_out, 1 << 20)
                if not chunk:
                    raise BrowserError("chromium closed its pipe\n" + self.logs()[-3000:])
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=True, timeout=None):
        self.next_id += 1
        mid = self.next_id
        m = {"id": mid, "method": method, "params": params or {}}
        if session and self.session:
            m["sessionId"] = self.session
        data = json.dumps(m).encode() + b"\0"
        while data:
            n = os.write(self.w_cmd, data)
            data = data[n:]
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            r = self._read_message(deadline)
            if r.get("id") == mid:
                if "error" in r:
                    raise BrowserError("%s: %s" % (method, r["error"]))
                return r.get("result", {})
            if "method" in r:
                self.events.append(r)
                del self.events[:-500]

    def _open_page(self):
        t = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        a = self.send("Target.attachToTarget", {"targetId": t["targetId"], "flatten": True},
                      session=False)
        self.session = a["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": self.height, "deviceScaleFactor": 1,
                   "mobile": False})

    # --- page -------------------------------------------------------------------------
    def goto(self, url):
        r = self.send("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise BrowserError("cannot open %s: %s" % (url, r["errorText"]))
        self.wait_for("document.readyState === 'complete'")

    def eval(self, expr):
        """The value of a JavaScript expression (awaited when it is a promise)."""
        r = self.send("Runtime.evaluate", {"expression": expr, "awaitPromise": True,
                                           "returnByValue": True})
        if r.get("exceptionDetails"):
            d = r["exceptionDetails"]
            raise BrowserError("page script failed: %s" % (
                d.get("exception", {}).get("description") or d.get("text")))
        return r.get("result", {}).get("value")

    KEYS = {"Enter": (13, "\r"), "Tab": (9, None), " ": (32, " ")}

    def press(self, key, shift=False):
        """A key typed on the keyboard (Input.dispatchKeyEvent: the browser's own handling,
        so Tab moves the focus and Enter activates a button), to whatever has the focus."""
        vk, text = self.KEYS[key]
        for t in ("keyDown", "keyUp"):
            p = {"type": t, "key": key, "code": {" ": "Space"}.get(key, key),
                 "windowsVirtualKeyCode": vk, "modifiers": 8 if shift else 0}
            if t == "keyDown" and text:
                p["text"] = text
            self.send("Input.dispatchKeyEvent", p)

    def wait_for(self, expr, timeout=None, what=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.eval("!!(%s)" % expr)
            except BrowserError as e:
                last = str(e)
            if last is True:
                return
            time.sleep(0.15)
        raise BrowserError("timed out waiting for %s (last: %r)\nconsole errors: %s" % (
            what or expr, last, self.console_errors()))

    def console_errors(self):
        out = []
        for e in self.events:
            if e.get("method") == "Runtime.exceptionThrown":
                d = e["params"]["exceptionDetails"]
                out.append(d.get("exception", {}).get("description") or d.get("text"))
            elif e.get("method") == "Runtime.consoleAPICalled" and \
                    e["params"].get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description")))
                                    for a in e["params"].get("args", [])))
        return out

    def screenshot(self, path, full_page=True):
        params = {"format": "png"}
        if full_page:
            h = self.eval("Math.min(document.documentElement.scrollHeight, 6000)") or self.height
            params["clip"] = {"x": 0, "y": 0, "width": self.width, "height": h, "scale": 1}
            params["captureBeyondViewport"] = True
        r = self.send("Page.captureScreenshot", params, timeout=60)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        return path

    def logs(self):
        try:
            self.log.flush()
            with open(self.log.name, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        if self.proc:
            try:
                self.send("Browser.close", session=False, timeout=5)
            except Exception:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        for fd in (self.w_cmd, self.r_out):
            try:
                os.close(fd)
            except OSError:
                pass
        self.w_cmd = self.r_out = -1
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
