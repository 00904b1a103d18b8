"""Drive a headless Chromium over the Chrome DevTools Protocol, with the standard library only.

Chromium is started with ``--remote-debugging-pipe``: it reads CDP commands on fd 3 and writes
replies and events on fd 4, each message a JSON text ended by a NUL byte (what Playwright and
Puppeteer use). No port, no websocket, no package to install, no browser download: only
Debian's ``chromium``.

Each page gets a browser context of its own whose proxy is ours, on loopback: it refuses every
connection and records it (loopback included). That is a catch-all, beside CDP's ``Network``
events, for "the page must not touch the network": it sees what a worker or a preconnect
opens too. The browser's own background services (component updater, account checks, which
Debian's build still runs despite --disable-background-networking) go to a second, browser-wide
refusing proxy that nobody reads, and never reach the network either.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What works here (see the machine notes): headless, as root, with no background networking.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--disable-client-side-phishing-detection",
    "--disable-component-extensions-with-background-pages",
    "--no-service-autorun",
    "--enable-automation",
    "--force-color-profile=srgb",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--no-pings",
    "--metrics-recording-only",
    "--safebrowsing-disable-auto-update",
    "--password-store=basic",
    "--use-mock-keychain",
    "--disable-features=Translate,OptimizationHints,MediaRouter,NetworkTimeServiceQuerying,"
    "InterestFeedContentSuggestions,CertificateTransparencyComponentUpdater,AutofillServerCommunication,"
    "DialMediaRouteProvider,SafeBrowsing,AccountConsistency,SigninInterception,PrivacySandboxSettings4,"
    # Chromium 150's AI-mode eligibility fetch (www.google.com/async/folae) from every context
    "AimEnabled,AimServerRequestOnStartupEnabled",
)


def _quiet_profile(folder: Path) -> None:
    """A profile that never predicts the network: Chromium 150 preconnects to its default
    search engine (www.google.com) from every new browser context, the page's included, which
    its flags do not stop; the preference does (NETWORK_PREDICTION_NEVER)."""
    (folder / "Default").mkdir(parents=True, exist_ok=True)
    prefs = {"net": {"network_prediction_options": 2}}
    (folder / "Default" / "Preferences").write_text(json.dumps(prefs))


class CdpError(RuntimeError):
    """A CDP command failed, timed out, or the browser went away."""


def find_chromium() -> str | None:
    """The Chromium to drive: $OOMSLEUTH_CHROMIUM, else chromium on PATH, else None."""
    env = os.environ.get("OOMSLEUTH_CHROMIUM")
    if env:
        return env if os.access(env, os.X_OK) else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class _RefusingProxy:
    """An HTTP proxy on loopback that refuses every request and remembers what was asked."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="refusing-proxy", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                head = b""
                with contextlib.suppress(OSError):
                    while b"\r\n" not in head and len(head) < 8192:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        head += chunk
                line = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
                self.requests.append(line or "(connection with no request line)")
                with contextlib.suppress(OSError):
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()


@dataclass
class Event:
    method: str
    params: dict[str, Any]
    session: str | None


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    reply: dict[str, Any] | None = None


class Browser:
    """One headless Chromium process and its CDP pipe. Use as a context manager."""

    def __init__(self, executable: str | None = None, *, timeout: float = 20.0) -> None:
        exe = executable or find_chromium()
        if exe is None:
            raise FileNotFoundError("chromium not found (Debian: apt-get install chromium)")
        self.timeout = timeout
        self.events: list[Event] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pending: dict[int, _Pending] = {}
        self._next_id = 0
        self._closed = False
        self._buffer = b""
        self.profile = Path(tempfile.mkdtemp(prefix="oomsleuth-chromium-"))
        self.log_path = self.profile / "chromium.log"
        self.proxy = _RefusingProxy()
        _quiet_profile(self.profile / "profile")
        try:
            self._launch(exe)
            self.version = self.send("Browser.getVersion")
        except BaseException:
            self.close()
            raise

    def _launch(self, exe: str) -> None:
        to_child_r, self._write_fd = os.pipe()
        self._read_fd, from_child_w = os.pipe()
        # Raise the child's ends above 4 so that dup2 onto 3 and 4 cannot clobber one another.
        child_in = _dup_high(to_child_r)
        child_out = _dup_high(from_child_w)
        os.close(to_child_r)
        os.close(from_child_w)
        max_fd = os.sysconf("SC_OPEN_MAX")

        def wire_pipe() -> None:  # runs in the child, between fork and exec
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)
            os.closerange(5, max_fd)

        argv = [
            exe,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self.profile / 'profile'}",
            "--remote-debugging-pipe",
            f"--proxy-server=http://127.0.0.1:{self.proxy.port}",
            "--proxy-bypass-list=<-loopback>",
            "about:blank",
        ]
        try:
            with open(self.log_path, "wb") as log:
                self.process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    close_fds=False,  # wire_pipe keeps 0-4 and closes the rest
                    preexec_fn=wire_pipe,  # only dup2 and close between fork and exec
                    start_new_session=True,  # own process group: killed whole in close()
                )
        finally:
            os.close(child_in)
            os.close(child_out)
        self._reader = threading.Thread(target=self._read_loop, name="cdp-reader", daemon=True)
        self._reader.start()

    # -- plumbing ------------------------------------------------------------------------

    def _read_loop(self) -> None:
        while True:
            try:
                chunk = os.read(self._read_fd, 1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                with self._changed:
                    self._closed = True
                    for pending in self._pending.values():
                        pending.done.set()
                    self._changed.notify_all()
                return
            self._buffer += chunk
            *messages, self._buffer = self._buffer.split(b"\0")
            for raw in messages:
                self._dispatch(json.loads(raw))

    def _dispatch(self, msg: dict[str, Any]) -> None:
        with self._changed:
            if "id" in msg:
                pending = self._pending.pop(msg["id"], None)
                if pending is not None:
                    pending.reply = msg
                    pending.done.set()
            else:
                self.events.append(
                    Event(msg["method"], msg.get("params", {}), msg.get("sessionId"))
                )
            self._changed.notify_all()

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send one command and wait for its reply; return its result."""
        with self._lock:
            if self._closed:
                raise CdpError(f"{method}: the browser has gone ({self.log_tail()})")
            self._next_id += 1
            ident = self._next_id
            pending = self._pending[ident] = _Pending()
        msg: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session is not None:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._write_fd, data) :]
        except OSError as exc:
            raise CdpError(f"{method}: cannot write to the browser: {exc}") from None
        if not pending.done.wait(timeout or self.timeout):
            raise CdpError(f"{method}: no reply in {timeout or self.timeout:.0f} s")
        if pending.reply is None:
            raise CdpError(f"{method}: the browser has gone ({self.log_tail()})")
        if "error" in pending.reply:
            raise CdpError(f"{method}: {pending.reply['error']}")
        result: dict[str, Any] = pending.reply.get("result", {})
        return result

    def wait_for(
        self,
        predicate: Callable[[Event], bool],
        *,
        since: int = 0,
        timeout: float | None = None,
    ) -> Event:
        """Wait for an event (from index `since` of self.events on) that matches `predicate`."""
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._changed:
            while True:
                for event in self.events[since:]:
                    if predicate(event):
                        return event
                since = len(self.events)
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise CdpError(
                        "the awaited event never came"
                        + (f" (the browser has gone: {self.log_tail()})" if self._closed else "")
                    )
                self._changed.wait(left)

    def log_tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            text = self.log_path.read_text(errors="replace").strip().splitlines()
            return " | ".join(text[-lines:]) or "chromium printed nothing"
        return "no chromium log"

    # -- pages ---------------------------------------------------------------------------

    def new_page(self) -> Page:
        """A tab in a fresh browser context (no shared cache or storage) with a proxy of its
        own: whatever reaches that proxy came from this page, not from the browser's own
        background services (which go to the browser-wide proxy, and are ignored).
        """
        proxy = _RefusingProxy()
        context = self.send(
            "Target.createBrowserContext",
            {
                "disposeOnDetach": True,
                "proxyServer": f"http://127.0.0.1:{proxy.port}",
                "proxyBypassList": "<-loopback>",
            },
        )["browserContextId"]
        target = self.send(
            "Target.createTarget", {"url": "about:blank", "browserContextId": context}
        )["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        return Page(self, target, session, context, proxy)

    def close(self) -> None:
        """End the browser (SIGKILL to its whole process group: nothing in it is worth a
        polite shutdown, which takes seconds) and remove its profile."""
        proc = getattr(self, "process", None)
        if proc is not None:
            _kill_group(proc)
        for fd in ("_write_fd", "_read_fd"):
            with contextlib.suppress(AttributeError, OSError):
                os.close(getattr(self, fd))
        self.proxy.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _kill_group(proc: subprocess.Popen[bytes], wait: float = 5.0) -> None:
    """SIGKILL the browser's process group (it leads it: its zygotes, renderers, GPU and
    network helpers) and wait until none of them runs, so nothing writes into the profile.
    """
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
        proc.poll()  # reap the leader; the others are reaped by init, in its own time
        if not _running_in_group(proc.pid):
            return
        time.sleep(0.02)


def _running_in_group(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs (zombies do not count). Linux /proc."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # after the command: state, ppid, pgrp
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def _dup_high(fd: int) -> int:
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)


# Installed before any script of the page runs: CSP violations are recorded even when the
# console does not say so, and the page cannot hide them.
_WATCH_SCRIPT = """
window.__oomsleuthCsp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__oomsleuthCsp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline'));
});
"""


@dataclass
class Problem:
    """Something the page did that a self-contained report must never do."""

    kind: str  # console, exception, log, csp, request, crash
    text: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"


class Page:
    """One tab, attached over a flat CDP session."""

    def __init__(
        self, browser: Browser, target: str, session: str, context: str, proxy: _RefusingProxy
    ) -> None:
        self.browser = browser
        self.target = target
        self.session = session
        self.context = context
        self.proxy = proxy
        self.url = ""
        self._mark = len(browser.events)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Page.addScriptToEvaluateOnNewDocument", {"source": _WATCH_SCRIPT})

    def send(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session, **kw)

    # -- set-up --------------------------------------------------------------------------

    def viewport(self, width: int, height: int, *, scale: float = 1, mobile: bool = False) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile},
        )

    def media(self, *, dark: bool = False, print_: bool = False) -> None:
        self.send(
            "Emulation.setEmulatedMedia",
            {
                "media": "print" if print_ else "",
                "features": [
                    {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}
                ],
            },
        )

    def open(self, url: str, *, settle: float = 0.1) -> None:
        """Navigate, wait for the load event, web fonts and two frames, then a short quiet."""
        self.url = url
        mark = len(self.browser.events)
        reply = self.send("Page.navigate", {"url": url})
        if reply.get("errorText"):
            raise CdpError(f"cannot open {url}: {reply['errorText']}")
        self.browser.wait_for(
            lambda e: e.session == self.session and e.method == "Page.loadEventFired", since=mark
        )
        self.evaluate(
            "document.fonts.ready.then(() => new Promise((ok) =>"
            " requestAnimationFrame(() => requestAnimationFrame(ok))))",
        )
        time.sleep(settle)

    # -- reading ---------------------------------------------------------------------------

    def evaluate(self, expression: str) -> Any:
        """Evaluate JS in the page (promises awaited) and return its value, JSON-copied."""
        reply = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CdpError(f"evaluate failed: {text}")
        return reply["result"].get("value")

    def problems(self) -> list[Problem]:
        """Console errors, exceptions, error log entries, CSP violations, requests, crashes:
        everything since this page was made. Only the page's own file, data: and blob: may load.
        """
        found: list[Problem] = []
        for event in self.browser.events[self._mark :]:
            if event.session not in (self.session, None):
                continue
            p = event.params
            if event.method == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
                found.append(Problem("console", text))
            elif event.method == "Runtime.exceptionThrown":
                details = p["exceptionDetails"]
                text = details.get("exception", {}).get("description") or details.get("text")
                found.append(Problem("exception", str(text)))
            elif event.method == "Log.entryAdded" and p["entry"]["level"] == "error":
                entry = p["entry"]
                found.append(Problem("log", f"[{entry['source']}] {entry['text']}"))
            elif event.method == "Network.requestWillBeSent":
                url = p["request"]["url"]
                if not (url.startswith(("data:", "blob:")) or _same_document(url, self.url)):
                    found.append(Problem("request", url))
            elif event.method in ("Inspector.targetCrashed", "Target.targetCrashed"):
                found.append(Problem("crash", json.dumps(p)))
        with contextlib.suppress(CdpError):
            for text in self.evaluate("window.__oomsleuthCsp || []") or []:
                found.append(Problem("csp", str(text)))
        found.extend(Problem("network", line) for line in self.proxy.requests)
        return found

    # -- output ----------------------------------------------------------------------------

    def screenshot(
        self, *, full_page: bool = True, scale: float = 1, max_height: int | None = None
    ) -> bytes:
        """A PNG of the page at the current viewport width: the whole page when full_page (its
        first max_height CSS px, if given), else the first screenful; scaled by `scale`.
        """
        metrics = self.send("Page.getLayoutMetrics")
        view = metrics["cssLayoutViewport"]
        height = metrics["cssContentSize"]["height"] if full_page else view["clientHeight"]
        if max_height is not None:
            height = min(height, max_height)
        clip = {"x": 0, "y": 0, "width": view["clientWidth"], "height": height, "scale": scale}
        data: str = self.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": full_page, "clip": clip},
            timeout=60,
        )["data"]
        return base64.b64decode(data)

    def pdf(self) -> bytes:
        """Print to PDF (A4, backgrounds on), as the browser's print dialog would."""
        data: str = self.send(
            "Page.printToPDF",
            {"printBackground": True, "paperWidth": 8.27, "paperHeight": 11.69},
            timeout=60,
        )["data"]
        return base64.b64decode(data)

    def close(self) -> None:
        with contextlib.suppress(CdpError):
            self.browser.send("Target.closeTarget", {"targetId": self.target})
        with contextlib.suppress(CdpError):
            self.browser.send("Target.disposeBrowserContext", {"browserContextId": self.context})
        self.proxy.close()


def _same_document(url: str, page_url: str) -> bool:
    return url.split("#", 1)[0] == page_url.split("#", 1)[0]


@contextlib.contextmanager
def page(browser: Browser) -> Iterator[Page]:
    tab = browser.new_page()
    try:
        yield tab
    finally:
        tab.close()
