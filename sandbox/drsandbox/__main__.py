"""Runs the sandbox server: `python -m drsandbox [--port N] [--watch-stdin] [--seed]`.

Binds 127.0.0.1 only. Prints `AWS_ENDPOINT_URL=http://127.0.0.1:PORT` on stdout once it
accepts connections. With --watch-stdin it exits when its standard input reaches end of
file, i.e. when the process that started it (a test binary) goes away, however it ends.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

HOST = "127.0.0.1"


def _watch_stdin() -> None:
    def watch() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except Exception:  # noqa: BLE001 - any failure to read means the parent is gone
            pass
        os._exit(0)

    threading.Thread(target=watch, name="stdin-watchdog", daemon=True).start()


def _watch_parent(pid: int) -> None:
    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="drsandbox")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    parser.add_argument("--seed", action="store_true", help="create the seed stack at start")
    args = parser.parse_args(argv)

    started = time.time()
    if os.environ.get("SANDBOX_ACCESS_LOG") != "1":
        # One line per request on stderr costs time and hides errors; the request log has it all.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if args.watch_stdin:
        _watch_stdin()
    if args.parent_pid:
        _watch_parent(args.parent_pid)

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from . import patches, state
    from .app import SandboxApp

    patches.install()
    app = SandboxApp(DomainDispatcherApplication(create_backend_app))
    server = make_server(HOST, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_address[1]
    os.environ.setdefault("MOTO_PORT", str(port))
    if args.seed:
        from . import seed

        with state.LOCK:
            seed.seed()
    state.start_ticker()
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)

    def stop(signum: int, frame: object) -> None:
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"sandbox: listening after {time.time() - started:.2f}s (pid {os.getpid()})", file=sys.stderr, flush=True)
    print(f"AWS_ENDPOINT_URL=http://{HOST}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
