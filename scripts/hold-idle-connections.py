#!/usr/bin/env python3
"""Holds N idle keep-alive connections open to a server, for `make bench` (issue 13).

Each connection makes one GET /healthz and then sits idle between requests, as a browser's
keep-alive connection does; any the server closes are opened again. Prints "ready N" once all
are idle, then holds them until killed (SIGTERM/SIGINT).

Usage: hold-idle-connections.py --port PORT [--host 127.0.0.1] [--count 5000]
"""
import argparse
import resource
import selectors
import signal
import socket
import sys
import time

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n"


def open_idle(host, port):
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(REQUEST)
    received = b""
    while b"\r\n\r\n" not in received or not received.endswith(b"}"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the answer")
        received += chunk
    if not received.startswith(b"HTTP/1.1 200"):
        raise ConnectionError(received[:80].decode(errors="replace"))
    sock.setblocking(False)
    return sock


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.count + 1024), hard))

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    selector = selectors.DefaultSelector()
    for _ in range(args.count):
        selector.register(open_idle(args.host, args.port), selectors.EVENT_READ)
    print(f"ready {args.count}", flush=True)
    reopened = 0
    while not stop:
        # An idle connection only becomes readable when the server closes it: open another.
        for key, _ in selector.select(timeout=0.5):
            selector.unregister(key.fileobj)
            key.fileobj.close()
            selector.register(open_idle(args.host, args.port), selectors.EVENT_READ)
            reopened += 1
    print(f"held {args.count} idle connections; {reopened} reopened after the server closed them", file=sys.stderr)


if __name__ == "__main__":
    main()
