"""Raw-socket reproductions of what socketify.py 0.0.31 does with streamed request bodies (the uploads
contract's ``/upload`` and ``/echo``: ``adapters/socketify_app.py``, ``res.on_data``).

    python -m tests.adapter_repro.socketify_upload_repro                 # every repro
    python -m tests.adapter_repro.socketify_upload_repro continue resume  # some of them

* ``continue``: ``Expect: 100-continue`` on an upload the handler rejects (``reject=413``): uWS writes
  ``100 Continue`` itself, in its router, before any handler runs (uWebSockets src/HttpContext.h,
  ``onHttp``: "Middleware? Automatically respond to expectations" -> ``writeContinue()``), so the 413
  follows an invitation to send the body (upload.expect-reject);
* ``resume``: the docs' ``res.pause()`` / ``res.resume()`` ("All Basic Stuff": "pause and resume the
  response"), in a minimal app of the docs' own ``res.on_data`` upload example: after ``pause()`` no
  further ``on_data`` arrives, whether ``resume()`` is called at once, from ``loop.call_later`` or from a
  coroutine (``res.run_async``): the upload stalls for good (upload.backpressure);
* ``gc``: the docs' own ``res.on_data`` example (a sync handler that answers at ``is_end``), with a
  ``gc.collect()`` every 50 ms in the server: a request whose body is still arriving is referenced only by
  its own ``ffi.new_handle`` cycle once the handler returned, the collector frees it, and the next chunk's
  callback dies in ``ffi.from_handle`` ("points to garbage", SIGABRT). The same root cause as S8
  (reports/findings/socketify.md), here with nothing but the upload example; in the suite it strikes
  whichever upload waits across a collection (upload.memory most of all: 512 MiB of allocations);
* ``echo-stall``: ``/echo`` with a client that never reads: ``res.write()`` returns no backpressure
  flag (S7), so the handler takes the whole upload and uWS buffers the echo (echo.backpressure).
"""

from __future__ import annotations

import socket
import sys
import textwrap
import time

from streamspec.launch import ServerProcess, free_port

HOST = "127.0.0.1"
MiB = 1 << 20

#: the docs' upload example (docs/upload-post.md "Manually getting the chunks"), plus the pieces a repro
#: switches on: pause/resume after each chunk (MODE), a gc.collect() every 50 ms (GC)
DOCS_APP = textwrap.dedent('''
    import asyncio, gc, json, os, sys
    from socketify import App, AppListenOptions
    port, MODE, GC = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "gc"
    def upload(res, req):
        def on_data(res, chunk, is_end):
            print(f"on_data {len(chunk or b'')} is_end={is_end}", flush=True)
            if is_end:
                res.cork_end("Thanks for the data!")
            elif not chunk:
                pass
            elif MODE == "sync":
                res.pause(); res.resume()
            elif MODE == "call_later":
                res.pause(); res.app.loop.loop.call_later(0.005, res.resume)
            elif MODE == "coroutine":
                res.pause()
                async def later():
                    await asyncio.sleep(0.005)
                    res.resume()
                    print("resumed", flush=True)
                res.run_async(later())
        res.on_data(on_data)
    app = App()
    app.post("/", upload)
    app.get("/probe", lambda res, req: res.end(json.dumps({"pid": os.getpid()})))  # ServerProcess's readiness
    async def collect():
        while True:
            await asyncio.sleep(0.05)
            gc.collect()
    if GC:
        app.on_start(lambda: app.loop.create_task(collect()))
    app.listen(AppListenOptions(port=port, host="127.0.0.1"), lambda config: print("listening", flush=True))
    app.run()
''')


def recv_for(sock: socket.socket, seconds: float) -> bytes:
    sock.settimeout(seconds)
    out = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return out + b"<EOF>"
            out += data
    except TimeoutError:
        return out + b"<silence>"
    except OSError as exc:
        return out + f"<{exc}>".encode()


def adapter_server(port: int) -> ServerProcess:
    return ServerProcess([sys.executable, "-m", "adapters.socketify_app", "--host", HOST, "--port", str(port)],
                         HOST, port, name="socketify-upload-repro")


def docs_server(port: int, mode: str, gc: str = "nogc") -> ServerProcess:
    return ServerProcess([sys.executable, "-c", DOCS_APP, str(port), mode, gc], HOST, port,
                         name=f"socketify-docs-{mode}")


def repro_continue() -> None:
    port = free_port()
    with adapter_server(port):
        sock = socket.create_connection((HOST, port))
        t0 = time.monotonic()
        sock.sendall(b"POST /upload?id=c&reject=413 HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        got = recv_for(sock, 1.0)
        print(f"--- continue: POST /upload?reject=413 with Expect: 100-continue, body held back; "
              f"in {time.monotonic() - t0:.2f} s:\n  {got[:300]!r}")
        sock.close()


def repro_resume() -> None:
    for mode in ("sync", "call_later", "coroutine"):
        port = free_port()
        with docs_server(port, mode) as server:
            sock = socket.create_connection((HOST, port))
            sock.sendall(f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {4 * MiB}\r\n\r\n".encode())
            sock.settimeout(3.0)
            sent = 0
            try:
                while sent < 4 * MiB:
                    sent += sock.send(b"a" * 65536)
                answer = recv_for(sock, 3.0)
            except TimeoutError:
                answer = b"<the client's writes blocked for 3 s>"
            sock.close()
            time.sleep(0.2)
            log = [line for line in server.log_tail(50).splitlines() if line.startswith(("on_data", "resumed"))]
            print(f"--- resume ({mode}): client wrote {sent} of {4 * MiB} bytes; answer {answer[:60]!r}; "
                  f"server saw: {log}")


def repro_gc() -> None:
    port = free_port()
    with docs_server(port, "none", "gc") as server:
        sock = socket.create_connection((HOST, port))
        sock.sendall(f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {2 * 65536}\r\n\r\n".encode() + b"a" * 65536)
        time.sleep(0.5)  # ten collections while the body is incomplete
        try:
            sock.sendall(b"b" * 65536)
            answer = recv_for(sock, 2.0)
        except OSError as exc:
            answer = repr(exc).encode()
        sock.close()
        time.sleep(0.3)
        print(f"--- gc: the docs' on_data upload, paused 0.5 s mid-body: answer {answer[:120]!r}; server alive: "
              f"{server.alive}; its output:")
        tail = server.log_tail(40).splitlines()
        print(textwrap.indent("\n".join(line for line in tail if "Fatal" in line or "from_handle" in line
                                         or "on_data" in line), "  "))


def repro_echo_stall() -> None:
    port = free_port()
    with adapter_server(port) as server:
        sock = socket.create_connection((HOST, port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(b"POST /echo?id=stall HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        sock.settimeout(1.0)
        sent = 0
        block = b"1" * MiB
        try:
            while sent < 48 * MiB:
                sock.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
                sent += len(block)
            held = "never"
        except TimeoutError:
            held = f"after {sent / MiB:.0f} MiB"
        import json
        import urllib.request
        with urllib.request.urlopen(f"http://{HOST}:{port}/probe?id=stall", timeout=5) as resp:
            counters = json.load(resp)["record"]["counters"]
        print(f"--- echo-stall: a client that reads none of /echo's answer: its writes blocked {held}; the "
              f"handler received {counters.get('bytes', 0) / MiB:.1f} MiB; server rss {server.rss() / MiB:.0f} MiB")
        sock.close()


REPROS = {"continue": repro_continue, "resume": repro_resume, "gc": repro_gc, "echo-stall": repro_echo_stall}


def main(names: list[str]) -> int:
    for name in names or list(REPROS):
        REPROS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
