"""``e2e-serve``: serve the model version at a stage over HTTP, and follow the stage.

Settings are parsed (exit 2) and the address is bound (exit 2 when taken) before ZenML, MLflow or
pandas load. Then the ZenML store is opened (exit 5 when it cannot be reached), the version at the
stage is loaded (or the server starts without one, answering 503 with the hint), and uvicorn
serves the app in this process while a daemon thread checks the stage every ``--poll-interval``
seconds. SIGTERM stops it with exit 0, SIGINT (Ctrl-C) with 130.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, NoReturn

from e2e_common.errors import INTERRUPTED_EXIT_CODE, UsageError, run_cli
from e2e_inference.settings import ServeSettings

if TYPE_CHECKING:
    from e2e_inference.serve import ModelHolder

PROG = "e2e-serve"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Seconds uvicorn waits for requests in flight when asked to stop.
GRACEFUL_SHUTDOWN_SECONDS = 10


class Stopped(BaseException):
    """SIGTERM or SIGINT before uvicorn serves (while loading): stop where we are."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code_of(signum: int | None) -> int:
    """0 when stopped by SIGTERM (or not by a signal), 130 when interrupted (SIGINT), as run_cli does."""
    return INTERRUPTED_EXIT_CODE if signum == signal.SIGINT else 0


def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT raise Stopped in the main thread until uvicorn installs its own handlers."""
    original = {sig: signal.signal(sig, _raise_stopped) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in original.items():
            signal.signal(sig, handler)


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening (connections wait until the app serves);
    UsageError (exit 2) when the address is unknown or taken."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"cannot listen on {host}: unknown address ({exc}); fix --host / E2E_HOST") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart while old connections linger
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; pass another --port / E2E_PORT "
            "(0 picks a free one) or stop what uses it"
        ) from exc
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    """``http://HOST:PORT`` of the bound socket (the port it got for ``--port 0``)."""
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def ready_line(holder: ModelHolder, url: str) -> str:
    """What the server prints once it answers: the version it serves, or why it answers 503."""
    served = holder.served
    if served is not None:
        return f"serving model '{holder.model_name}' version {served.version_name} (stage '{holder.stage}') on {url}"
    return f"waiting on {url} (503 until a version can be served): {holder.unavailable_message()}"


def serve(settings: ServeSettings, say: Callable[[str], None] | None = None) -> int:
    """Run the server until SIGTERM or SIGINT; the exit code."""
    say = say or _print
    try:
        with stop_on_signals():
            return _serve(settings, say)
    except Stopped as stopped:
        say(f"stopped ({stopped}) before serving")
        return exit_code_of(stopped.signum)


def _serve(settings: ServeSettings, say: Callable[[str], None]) -> int:
    sock = listen(settings.host, settings.port)
    url = url_of(sock, settings.host)

    import os

    from e2e_common.stores import check_store_early

    check_store_early(say)

    from e2e_common.runtime import configure_runtime

    if not settings.debug:
        os.environ["ZENML_LOGGING_VERBOSITY"] = "CRITICAL"  # ZenML's own tracebacks: the error line says it
    configure_runtime(settings.debug)

    import uvicorn

    from e2e_inference.serve import ModelHolder, connect_store, create_app, warm_up

    connect_store()
    holder = ModelHolder(settings.model_name, settings.stage, say=say, warn=_warn)
    holder.check(raise_unreachable=True)
    warm_up()

    def report(exc: BaseException) -> None:
        _warn(f"error: scoring failed: {type(exc).__name__}" + ("" if settings.debug else " (--debug for the traceback)"))
        if settings.debug:
            import traceback

            traceback.print_exception(exc, file=sys.stderr)

    def ready() -> None:
        say(ready_line(holder, url))
        holder.announce = True

    config = uvicorn.Config(
        create_app(holder, report=report),
        lifespan="off",
        log_level="info" if settings.debug else "warning",
        access_log=settings.debug,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        server_header=False,
    )
    server = StageServer(config, on_ready=ready)
    _, stop = holder.start_following(settings.poll_interval)
    try:
        server.run(sockets=[sock])
    finally:
        stop.set()
        sock.close()
    say(f"stopped ({signal.Signals(server.stopped_by).name if server.stopped_by else 'done'})")
    return exit_code_of(server.stopped_by)


def _stage_server_class() -> type:
    import uvicorn

    class _StageServer(uvicorn.Server):
        """uvicorn's server that says when it answers and exits with a code instead of re-raising the signal."""

        def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
            super().__init__(config)
            self.on_ready = on_ready
            self.stopped_by: int | None = None

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            original = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

        def handle_exit(self, sig: int, frame: object) -> None:
            if self.stopped_by is None:
                self.stopped_by = sig
            super().handle_exit(sig, frame)  # type: ignore[arg-type]

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:
                self.on_ready()

    return _StageServer


def StageServer(config: object, on_ready: Callable[[], None]):  # noqa: N802 - builds the class lazily
    """uvicorn's Server, subclassed when uvicorn is imported (not before the settings are checked)."""
    return _stage_server_class()(config, on_ready)


def _print(line: str) -> None:
    print(line, flush=True)


def _warn(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    parsed: list[ServeSettings] = []

    def body() -> int:
        parsed.append(ServeSettings.from_cli(args, prog=PROG))
        return serve(parsed[0])

    run_cli(body, lambda: parsed[0].debug if parsed else "--debug" in args)


if __name__ == "__main__":
    main()
