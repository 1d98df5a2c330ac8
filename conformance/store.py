"""The S3-compatible store the objects cases read through: moto in server mode, started and stopped here.

``MotoStore`` runs ``python -m moto.server`` on a free loopback port (no AWS account, no network), creates
the bucket and uploads ``streamspec.files.OBJECTS``; each object's bytes are also kept on disk
(``<base>/objects/<key>``) so a case reads what it expects from a file, not from the store it judges.

``StoreRelay`` is a plain TCP forwarder in front of the store, one per sequential run (each concurrent
part has its own): the server under test talks to the store through it, so a case can make "the store"
fail mid-object for that server alone (``sever()`` cuts every connection at once, as a crashed store
would) without touching the store the other parts share. The relay neither parses nor changes a byte.

``python -m conformance.store DIR`` builds the fixture tree in DIR, starts a store and prints the
environment a server needs, for trying an adapter by hand (Ctrl-C stops the store).
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from streamspec import http_client
from streamspec.files import BUCKET, OBJECTS, S3_BUCKET_ENV, S3_ENDPOINT_ENV, write_random
from streamspec.launch import ServerError, child_env, free_port, preexec_die_with_parent

READY_S = 20.0


class MotoStore:
    """One moto server process holding the bucket and the objects."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log = base / "moto.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def object_path(self, key: str) -> Path:
        return self.base / "objects" / key

    def start(self) -> "MotoStore":
        """Start moto (non-blocking); ``ready()`` waits for it and uploads the objects."""
        self.port = free_port()
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=child_env(),
                start_new_session=True, preexec_fn=preexec_die_with_parent())
        folder = self.base / "objects"
        folder.mkdir(parents=True, exist_ok=True)
        for key, size in OBJECTS.items():
            write_random(folder / key, size)
        return self

    def ready(self) -> "MotoStore":
        deadline = time.monotonic() + READY_S
        with http_client.client(self.endpoint, 5.0) as http:
            while True:
                if self.proc.poll() is not None:
                    raise ServerError(f"the S3 store (moto) exited with code {self.proc.returncode} before it was "
                                      f"ready: {self.tail()}")
                try:
                    http.get("/")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise ServerError(f"the S3 store (moto) did not answer within {READY_S:.0f} s: "
                                          f"{self.tail()}") from None
                    time.sleep(0.05)
            _ok(http.put(f"/{BUCKET}"), "create the bucket")
            for key in OBJECTS:
                _ok(http.put(f"/{BUCKET}/{key}", content=self.object_path(key).read_bytes()), f"upload {key}")
        return self

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        return {S3_ENDPOINT_ENV: endpoint or self.endpoint, S3_BUCKET_ENV: BUCKET}

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-600:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(3)
        self.proc = None


def _ok(response: httpx.Response, what: str) -> None:
    if response.status_code >= 300:
        raise ServerError(f"the S3 store (moto) refused to {what}: {response.status_code} {response.text[:200]}")


class StoreRelay:
    """A TCP forwarder on a free loopback port to the store; ``sever()`` cuts every connection."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._serve, name="store-relay", daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        """Non-blocking forwarding: a direction's pending bytes must reach their reader before the relay
        reads more from the writer, so the relay holds at most one read per direction (backpressure
        passes through it) and one stalled connection never holds up another."""
        sel = selectors.DefaultSelector()
        self.listener.setblocking(False)
        sel.register(self.listener, selectors.EVENT_READ)
        peer: dict[socket.socket, socket.socket] = {}
        pending: dict[socket.socket, bytes] = {}  # bytes waiting to be written TO this socket

        def interest(sock: socket.socket) -> int:
            # read from sock only when its peer has nothing pending; write to sock when it has
            return (selectors.EVENT_READ if not pending[peer[sock]] else 0) | \
                (selectors.EVENT_WRITE if pending[sock] else 0)

        def update(*socks: socket.socket) -> None:
            for sock in socks:
                if sock in peer:
                    events = interest(sock)
                    if events:
                        sel.modify(sock, events) if sock in sel.get_map() else sel.register(sock, events)
                    elif sock in sel.get_map():
                        sel.unregister(sock)

        def drop(sock: socket.socket) -> None:
            for s in (sock, peer.get(sock)):
                if s is not None and s in peer:
                    if s in sel.get_map():
                        sel.unregister(s)
                    peer.pop(s, None)
                    pending.pop(s, None)
                    s.close()

        while not self._stopped:
            for key, events in sel.select(timeout=0.1):
                sock = key.fileobj
                if sock is self.listener:
                    try:
                        client, _ = self.listener.accept()
                        upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                    except OSError:
                        continue
                    for s in (client, upstream):
                        s.setblocking(False)
                    peer[client], peer[upstream] = upstream, client
                    pending[client] = pending[upstream] = b""
                    with self._lock:
                        self._pairs.append((client, upstream))
                    update(client, upstream)
                    continue
                if sock not in peer:
                    continue
                other = peer[sock]
                try:
                    if events & selectors.EVENT_WRITE and pending[sock]:
                        sent = sock.send(pending[sock])
                        pending[sock] = pending[sock][sent:]
                    if events & selectors.EVENT_READ and not pending[other]:
                        data = sock.recv(256 * 1024)
                        if not data:
                            drop(sock)
                            continue
                        pending[other] = data
                except BlockingIOError:
                    pass
                except OSError:
                    drop(sock)
                    continue
                update(sock, other)
            with self._lock:
                self._pairs = [(a, b) for a, b in self._pairs if a.fileno() != -1]
        for sock in list(peer):
            drop(sock)
        sel.close()

    @property
    def open_connections(self) -> int:
        with self._lock:
            return sum(1 for a, _ in self._pairs if a.fileno() != -1)

    def sever(self) -> int:
        """Cut every relayed connection now (both sides see the connection end mid-stream); returns how
        many were cut."""
        with self._lock:
            pairs = [(a, b) for a, b in self._pairs if a.fileno() != -1]
        for a, b in pairs:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        return len(pairs)

    def close(self) -> None:
        self._stopped = True
        self.sever()
        self._thread.join(2)
        self.listener.close()


def main(argv: list[str]) -> int:
    from streamspec.files import FILES_ROOT_ENV, build_tree

    parser = argparse.ArgumentParser(
        prog="python -m conformance.store",
        description="Build the files fixture tree in DIR (about 280 MiB), start an S3 store (moto) on a free "
                    "loopback port, print the environment a server needs, and run until interrupted.")
    parser.add_argument("dir", metavar="DIR", help="where the tree and the store's data go (created if missing)")
    base = Path(parser.parse_args(argv).dir).resolve()
    tree = build_tree(base)
    store = MotoStore(base).start().ready()
    print(f"export {FILES_ROOT_ENV}={tree.root}")
    for k, v in store.env().items():
        print(f"export {k}={v}")
    sys.stdout.flush()
    try:
        while store.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        store.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
