"""A TCP proxy between the validators of a local cluster, for cutting one off.

One listener per ordered pair (i -> j) forwards what node i dials for node j
to j's real peer port (cdl-node --peer-address validator-J=127.0.0.1:PORT).
cut(n) blackholes every link to or from node n: connections stay open and
accepted, but bytes are swallowed both ways (like a dropped route, so the
nodes find out only by their keepalives). heal(n) closes the blackholed
connections, so the nodes redial at once, and forwards again.
"""
import socket
import threading


class PeerProxy:
    def __init__(self, real_peer_port):
        """real_peer_port: {node number (1-4): its real peer port}."""
        self.real = dict(real_peer_port)
        self.ports = {}  # (i, j) -> listening port
        self.cut_nodes = set()
        self.conns = []  # (i, j, client socket, upstream socket)
        self.lock = threading.Lock()
        self.listeners = []
        self.stopped = threading.Event()
        for i in self.real:
            for j in self.real:
                if i == j:
                    continue
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", 0))
                s.listen(16)
                self.ports[(i, j)] = s.getsockname()[1]
                self.listeners.append(s)
                threading.Thread(target=self._accept, args=(s, i, j), daemon=True).start()

    def flags_for(self, i):
        """cdl-node flags that make node i dial every peer through the proxy."""
        return " ".join("--peer-address validator-%d=127.0.0.1:%d" % (j - 1, self.ports[(i, j)])
                        for j in sorted(self.real) if j != i)

    def _blocked(self, i, j):
        with self.lock:
            return i in self.cut_nodes or j in self.cut_nodes

    def _accept(self, listener, i, j):
        while not self.stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.real[j]), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns.append((i, j, client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, i, j), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, i, j), daemon=True).start()

    def _pump(self, src, dst, i, j):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if not self._blocked(i, j):
                    dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass

    def cut(self, n):
        with self.lock:
            self.cut_nodes.add(n)

    def heal(self, n):
        with self.lock:
            self.cut_nodes.discard(n)
            stale = [c for c in self.conns if n in (c[0], c[1])]
            self.conns = [c for c in self.conns if n not in (c[0], c[1])]
        for _, _, a, b in stale:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass

    def stop(self):
        self.stopped.set()
        for s in self.listeners:
            s.close()
        with self.lock:
            conns, self.conns = self.conns, []
        for _, _, a, b in conns:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass
