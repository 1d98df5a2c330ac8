"""A real browser's ``EventSource`` against ``/sse``: the client the SSE contract is written for.

The wire cases in ``test_sse.py`` check each rule with a parser built from the spec; this case checks
that the pieces add up for the real implementation: headless Chromium (Debian's package, driven by
Playwright over CDP; never a downloaded browser) reconnects on its own after the server ends the
stream, sends ``Last-Event-ID``, honours ``retry:``, stops at 204, and ends with every event exactly once.

Without Chromium or Playwright the case is reported ``unsupported`` with the install command, never
passed. Every Chromium process the case started is killed when it ends, pass or fail, and its temporary
files are removed with it (``conformance/chromium.py``).
"""

from __future__ import annotations

import importlib.util
import os
import time

import psutil
import pytest

from streamspec.sse import expected_data

from .cases import case
from .chromium import launched as chromium_launched
from .helpers import ms, new_id
from .test_sse import sse_url

CHROMIUM = os.environ.get("STREAMSPEC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INSTALL = "apt-get install chromium && pip install -e '.[browser]'"
DEFAULT_RECONNECT_S = 3.0  # Chromium's reconnection time when no retry: field was honoured
RECONNECT_BOUND_S = 2.0
OPEN_BOUND_S = 5.0  # the first connection must open (a 200 text/event-stream head) within this  # retry: 200 was sent; a gap near 3 s means it was ignored

# The page keeps everything it sees, in its own clock (performance.now(), ms).
OPEN_EVENT_SOURCE = """url => {
  const s = {messages: [], opens: [], errors: [], done: false};
  const es = new EventSource(url);
  window.__sse = s;
  es.onopen = () => s.opens.push(performance.now());
  es.onmessage = e => s.messages.push({data: e.data, id: e.lastEventId, type: e.type});
  es.onerror = () => {
    s.errors.push({t: performance.now(), state: es.readyState});
    if (es.readyState === EventSource.CLOSED) s.done = true;
  };
  window.__es = es;
}"""


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found"
    return None


@pytest.fixture
def chromium(request):
    """A launched headless Chromium; afterwards no process of it survives. With ``--require-browser``
    (CI sets it) a missing browser fails the case instead of making it unsupported."""
    why = _missing()
    if why and request.config.getoption("require_browser"):
        pytest.fail(f"no browser ({why}) and --require-browser is set; install with: {INSTALL}", pytrace=False)
    if why:
        pytest.skip(f"unsupported: no browser ({why}); install with: {INSTALL}")
    spawned: list[psutil.Process] = []
    before = {p.pid for p in psutil.Process().children()}

    def kill_first(_browser) -> None:
        # A graceful close takes Chromium about 1.5 s, and nothing of its state is needed after the case:
        # kill its processes, then let Playwright notice. The driver reaps them; waiting here sees zombies.
        _kill(spawned, wait=False)

    with chromium_launched(CHROMIUM, CHROMIUM_ARGS, before_close=kill_first) as browser:
        # Remember the browser's processes while they are still our descendants (after the driver
        # exits they would be re-parented and impossible to tell apart).
        drivers = [p for p in psutil.Process().children() if p.pid not in before]
        spawned = [p for d in drivers for p in d.children(recursive=True)]  # the browser, not the driver
        yield browser
    _kill(spawned)


def _kill(procs: list[psutil.Process], wait: bool = True) -> None:
    for proc in procs:
        try:
            if proc.is_running():
                proc.kill()
        except psutil.Error:
            pass
    deadline = time.monotonic() + (5.0 if wait else 0.0)
    while wait and time.monotonic() < deadline and any(_alive(p) for p in procs):
        time.sleep(0.02)


def _alive(proc: psutil.Process) -> bool:
    """Still running (a killed zombie waiting for its parent to reap it is not)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@case("sse.browser-eventsource", "MUST", "WHATWG HTML §9.2.3 Processing model; §9.2.4; §9.2.6",
      requires=("sse",))
def test_browser_eventsource(target, figures, chromium):
    """"When a user agent is to reestablish the connection ... fetch ... with `Last-Event-ID` set to
    the last event ID string" and "a client can be told to stop reconnecting using the HTTP 204 No
    Content response code": Chromium's EventSource on a 9-event stream (mixed payloads) that the server
    ends after every 3 events with ``retry: 200`` reconnects by itself after about 200 ms, resumes
    where it left off, stops at the 204, and has events 1..9 exactly once, in order, with the data
    the contract defines."""
    n, every = 9, 3
    request_id = new_id("ssebrowser")
    url = sse_url(id=request_id, n=n, interval=50, payload="mixed", close_after=every, retry=200)
    started_before = target.probe.summary()["started"]
    page = chromium.new_page()
    # Same origin as the stream (EventSource is CORS-checked); /probe answers whenever the suite runs at all
    page.goto(target.base_url + "/probe", timeout=OPEN_BOUND_S * 1000)
    page.evaluate(OPEN_EVENT_SOURCE, url)
    t_open = time.monotonic()
    deadline = t_open + 30.0
    server_last_ids = []  # the probe keeps the newest record per id: sample it while reconnecting
    state = {}
    while time.monotonic() < deadline:
        state = page.evaluate("() => window.__sse")
        view = target.probe.record(request_id)
        start = view.first("start") if view else None
        if start and (not server_last_ids or server_last_ids[-1][0] != start["t"]):
            server_last_ids.append((start["t"], start["last_id"]))
        if state["done"]:
            break
        if not state["opens"] and time.monotonic() - t_open > OPEN_BOUND_S:
            break  # never opened: judged now, not after the whole deadline
        if len(state["messages"]) > n:
            break  # more events than the stream has: judged now
        time.sleep(0.05)
    page.evaluate("() => window.__es.close()")
    started = target.probe.summary()["started"] - started_before
    messages = state.get("messages", [])
    errors = state.get("errors", [])
    opens = state.get("opens", [])
    # Reconnection delay: from the error that ended connection i to the open of connection i+1.
    reconnects = [(o - e["t"]) / 1000 for e, o in zip(errors, opens[1:]) if e["state"] == 0]
    figures.update(events=len(messages), opens=len(opens), errors=len(errors), responses_streamed=started,
                   server_last_ids_seen=[lid for _, lid in server_last_ids],
                   reconnect_ms=[ms(r) for r in reconnects],
                   user_agent=page.evaluate("navigator.userAgent"))
    page.close()
    got_ids = [m["id"] for m in messages]
    assert opens, (f"the EventSource never opened within {OPEN_BOUND_S:.0f} s ({len(errors)} errors): no "
                   "usable text/event-stream response head arrived")
    assert state.get("done"), (
        f"the EventSource did not stop within 30 s (got ids {got_ids}, {len(opens)} opens): the server did "
        "not answer 204 when nothing was left, or kept resending events")
    assert got_ids == [str(i) for i in range(1, n + 1)], (
        f"the browser got event ids {got_ids}, expected 1..{n} once each: Last-Event-ID resume lost or "
        "repeated events")
    wrong = [i for i, m in enumerate(messages, 1)
             if m["data"] != expected_data("mixed", i) or m["type"] != "message"]
    assert not wrong, f"the browser's data differ from the contract for events {wrong}: {messages[wrong[0] - 1]}"
    assert started == n // every and server_last_ids and server_last_ids[-1][1] == n - every, (
        f"the server streamed {started} responses (expected {n // every}); last_id of the last one: "
        f"{server_last_ids[-1][1] if server_last_ids else None} (expected {n - every})")
    assert reconnects and max(reconnects) < RECONNECT_BOUND_S, (
        f"reconnections took {figures['reconnect_ms']} ms with retry: 200 (Chromium's default is "
        f"{DEFAULT_RECONNECT_S:.0f} s): the retry field was not honoured")
