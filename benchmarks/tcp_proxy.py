"""A TCP proxy on 127.0.0.1 that can cut or freeze the link to a server: database outages on demand.

Used by ``tests/service/test_db_outage.py`` and by fault-and-load scripts here;
it never touches the server behind it (the shared PostgreSQL stays up)::

    with TcpProxy(("127.0.0.1", 5432)) as proxy:     # listens on proxy.port
        url = f"postgresql://postgres@127.0.0.1:{proxy.port}/db"
        proxy.cut()       # stopped server: connections closed, new ones refused
        proxy.freeze()    # hung server (SIGSTOP): connections accepted, nothing forwarded
        proxy.restore()   # forwarding again; frozen connections resume where they were

A frozen link behaves like a stopped process: the kernel still accepts the
connection and the bytes sent, and nothing answers.  Threads, not asyncio, so
a test can drive it from any thread; one thread per connection direction.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

LOOPBACK = "127.0.0.1"
_CHUNK = 65_536
_POLL = 0.05


class TcpProxy:
    """Forward ``127.0.0.1:<port>`` to ``target`` until cut, frozen or stopped."""

    def __init__(self, target: tuple[str, int], *, port: int = 0) -> None:
        self.target = target
        self.port = port
        self.accepted = 0  # connections accepted since start, for tests and reports
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._stopped = False

    # --- control -------------------------------------------------------------------------------
    def start(self) -> TcpProxy:
        """Listen (on ``port``, or a free one the first time) and forward."""
        self._listen()
        return self

    def cut(self) -> None:
        """Close every connection and stop listening: clients see resets, then "connection refused"."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        if listener is not None:
            _close(listener)  # shutdown first: close() alone does not wake a thread blocked in accept()
        for sock in sockets:
            _close(sock)

    def freeze(self) -> None:
        """Keep accepting and reading, forward nothing: a server that no longer answers."""
        self._flowing.clear()
        if self._listener is None and not self._stopped:
            self._listen()

    def restore(self) -> None:
        """Forward again (after a cut: listen again on the same port)."""
        self._flowing.set()
        if self._listener is None and not self._stopped:
            self._listen()

    def stop(self) -> None:
        """Close everything for good."""
        self._stopped = True
        self._flowing.set()
        self.cut()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None) -> None:
        self.stop()

    # --- forwarding ------------------------------------------------------------------------------
    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="proxy-accept", daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut() or stop()
            self.accepted += 1
            self._track(client)
            threading.Thread(target=self._connect, args=(client,), name="proxy-conn", daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        # A frozen server accepts and never answers: wait before even reaching the target.
        while not self._flowing.wait(_POLL):
            if client not in self._sockets:
                return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        if not self._track(upstream):
            _close(client)
            return
        threading.Thread(target=self._pump, args=(upstream, client), name="proxy-down", daemon=True).start()
        self._pump(client, upstream)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(_CHUNK):
                while not self._flowing.wait(_POLL):  # frozen: hold what was read
                    if src not in self._sockets:
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with self._lock:
                    self._sockets.discard(sock)
                _close(sock)

    def _track(self, sock: socket.socket) -> bool:
        with self._lock:
            if self._stopped:
                _close(sock)
                return False
            self._sockets.add(sock)
            return True


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
