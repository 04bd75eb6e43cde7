"""Benchmark ``e2e-serve`` beside ``mlflow models serve`` on the same registry model, in one run.

    hatch run bench:serve [--seconds 60] [--quick] [--clients 1]

In a fresh ZenML store (a temporary ZENML_CONFIG_PATH, removed at the end) it trains the default
data with a small search space (``e2e-train --config tests/tiny_search.yaml --target-env
production``), so one version is at production and its whole model (preprocessing + classifier)
is in the MLflow registry under the alias ``champion``. Then, on 127.0.0.1:

- ``e2e-serve --stage production`` (uvicorn in one process; it checks the stage every 5 s), and
- ``mlflow models serve -m models:/NAME@champion --env-manager local`` (a CLI process that execs
  one uvicorn worker as its child).

They are started one after the other (start: process start until ``GET /ping`` answers 200, the
other server not running yet, or idle). Then both stay up and are measured in turns, so that the
other work on a shared 2-core machine falls on both alike; only one of them gets requests at a
time (the client takes one core, the server the other):

- latency: sequential requests (``dataframe_split`` JSON, bodies encoded beforehand), one
  keep-alive connection per server, alternating between the servers request by request, after a
  warm-up; p50 and p99 of 1-row and of 1,000-row requests;
- throughput: 1-row requests for ``--seconds`` per server, in slices of ``--slice`` seconds taken
  in turns, from ``--clients`` threads each sequential on its own keep-alive connection (a closed
  loop: a client sends its next request when the answer came); requests/s, and the server's CPU
  time per request (user + system of its process tree during its slices: less sensitive to the
  machine's other load than requests/s);
- memory: resident memory of each server's process tree (psutil), sampled every 0.5 s over the
  whole loop: at its start, its end, the maximum, and every 10 s;
- stop: SIGTERM to the server's process group until its processes are gone;
- sanity: every answer is 200, and both servers give the same classes for the default data's
  held-out rows and a 1,000-row batch.

Prints a table (metric | e2e-serve | mlflow models serve | ratio e2e-serve / mlflow). Exits 1 when
a server does not start, answers anything but 200 or the two disagree on a class.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from measure import tree_rss

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
START_TIMEOUT = 300  # seconds until /ping must answer 200
STOP_TIMEOUT = 20  # seconds after SIGTERM before SIGKILL
SAMPLE_SECONDS = 0.5  # RSS sampling period over the throughput loop
TRACE_SECONDS = 10  # RSS printed every so many seconds of the loop
BATCH_ROWS = 1000
JSON = {"Content-Type": "application/json"}


class BenchError(Exception):
    """A server that does not start, or an answer that is not 200: the bench fails."""


# --- data -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bodies:
    """Request bodies, encoded once (the client's cost stays out of the figures)."""

    held_out: bytes  # the default data's held-out rows, one request (sanity)
    held_out_rows: int
    single: list[bytes]  # 1-row requests, cycled
    batches: list[bytes]  # 1,000-row requests, cycled; batches[0] is also compared (sanity)


def split_body(frame) -> bytes:
    return json.dumps(
        {"dataframe_split": {"columns": [str(c) for c in frame.columns], "data": frame.to_numpy().tolist()}}
    ).encode()


def make_bodies() -> Bodies:
    from e2e_common.data import DEFAULT_TARGET, default_inference_data, load_default_dataset

    held_out = default_inference_data()
    features = load_default_dataset().drop(columns=[DEFAULT_TARGET])
    singles = features.sample(n=1000, replace=True, random_state=0).reset_index(drop=True)
    batches = [
        features.sample(n=BATCH_ROWS, replace=True, random_state=seed).reset_index(drop=True)
        for seed in range(1, 6)
    ]
    return Bodies(
        held_out=split_body(held_out),
        held_out_rows=len(held_out),
        single=[split_body(singles.iloc[[i]]) for i in range(len(singles))],
        batches=[split_body(batch) for batch in batches],
    )


# --- HTTP client ----------------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects (and counts it) when the server closed it."""

    def __init__(self, port: int, timeout: float = 60) -> None:
        self.port, self.timeout = port, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.reconnects = 0

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=body, headers=JSON if body is not None else {})
                answer = self.conn.getresponse()
                return answer.status, answer.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt:
                    raise
                self.reconnects += 1
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        raise AssertionError("unreachable")

    def post(self, body: bytes, label: str) -> tuple[float, bytes]:
        """Seconds and body of a 200 answer to ``POST /invocations``; BenchError otherwise."""
        started = time.perf_counter()
        status, answer = self.request("POST", "/invocations", body)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise BenchError(f"{label}: POST /invocations answered {status}: {answer[:300]!r}")
        return elapsed, answer

    def close(self) -> None:
        self.conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def classes_of(answer: bytes) -> list[str]:
    """The predicted classes of an answer: e2e-serve's records or MLflow's list of values."""
    predictions = json.loads(answer)["predictions"]
    return [str(p["predicted_class"] if isinstance(p, dict) else p) for p in predictions]


# --- one server -----------------------------------------------------------------------------------------


def tree_cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU seconds of a process and its descendants so far."""
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = member.cpu_times()
            total += times.user + times.system
    return total


@dataclass
class Server:
    """A server under test: how to start it, its process, and what was measured."""

    label: str
    command: list[str]
    env: dict[str, str]
    port: int
    log: Path
    info_path: str
    process: subprocess.Popen | None = None
    conn: Connection | None = None
    start_seconds: float = float("nan")
    first_request_ms: float = float("nan")
    single_ms: list[float] = field(default_factory=list)
    batch_ms: list[float] = field(default_factory=list)
    requests: int = 0
    loop_seconds: float = 0.0
    cpu_seconds: float = 0.0
    rss: list[int] = field(default_factory=list)  # samples over the throughput loop
    stop_seconds: float = float("nan")
    exit_code: int | None = None
    reconnects: int = 0
    classes: list[str] = field(default_factory=list)
    info: str = ""

    @property
    def psutil_process(self) -> psutil.Process:
        assert self.process is not None
        return psutil.Process(self.process.pid)

    def start(self) -> None:
        """Start in its own process group; wait until GET /ping answers 200 (BenchError otherwise)."""
        print(f"{self.label}: starting: {' '.join(self.command)}", flush=True)
        started = time.perf_counter()
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.env["BENCH_WORKDIR"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.start_seconds = wait_ready(self.process, self.port, started, self.log)
        print(f"  /ping 200 after {self.start_seconds:.1f} s", flush=True)
        self.conn = Connection(self.port)
        status, info = self.conn.request("GET", self.info_path)
        self.info = f"GET {self.info_path}: {status} {info.decode(errors='replace').strip()[:300]}"
        print(f"  {self.info}", flush=True)

    def reconnect(self) -> None:
        """A fresh keep-alive connection (the server closes one left idle for a few seconds)."""
        if self.conn is not None:
            self.reconnects += self.conn.reconnects
            self.conn.close()
        self.conn = Connection(self.port)

    def post(self, body: bytes) -> tuple[float, bytes]:
        assert self.conn is not None
        return self.conn.post(body, self.label)

    def stop(self) -> None:
        if self.conn is not None:
            self.reconnects += self.conn.reconnects
            self.conn.close()
            self.conn = None
        if self.process is not None:
            self.stop_seconds, self.exit_code = stop(self.process)
            self.process = None
            print(
                f"{self.label}: stopped after {self.stop_seconds:.1f} s, exit code {self.exit_code}",
                flush=True,
            )


def stop(process: subprocess.Popen) -> tuple[float, int | None]:
    """SIGTERM the process group (the process is its leader); the seconds until the process and its
    children are gone (NaN when some had to be killed after STOP_TIMEOUT) and the process's exit code."""
    if process.poll() is not None:
        return 0.0, process.returncode
    children: list[psutil.Process] = []
    with contextlib.suppress(psutil.Error):
        children = psutil.Process(process.pid).children(recursive=True)
    started = time.perf_counter()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        code: int | None = process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        code = None
    _, alive = psutil.wait_procs(children, timeout=max(0.0, STOP_TIMEOUT - (time.perf_counter() - started)))
    elapsed = time.perf_counter() - started
    if code is None or alive:
        elapsed = float("nan")
        print(f"  not gone within {STOP_TIMEOUT} s of SIGTERM: killed", flush=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        for child in alive:  # children that left the group, by their ids
            with contextlib.suppress(psutil.Error):
                child.kill()
        if code is None:
            code = process.wait(10)
    return elapsed, code


def wait_ready(process: subprocess.Popen, port: int, started: float, log: Path) -> float:
    """Seconds from ``started`` until GET /ping answers 200; BenchError if the process exits or times out."""
    while time.perf_counter() - started < START_TIMEOUT:
        if process.poll() is not None:
            raise BenchError(
                f"exited with code {process.returncode} before answering /ping; see the log:\n{tail(log)}"
            )
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                return time.perf_counter() - started
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise BenchError(f"/ping did not answer 200 within {START_TIMEOUT} s; the log:\n{tail(log)}")


def tail(log: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return ""


# --- measurements ---------------------------------------------------------------------------------------


def sanity_and_warm_up(server: Server, bodies: Bodies) -> None:
    """The first request's time, the classes of the sanity rows, then a few requests not counted."""
    server.first_request_ms = server.post(bodies.single[0])[0] * 1000
    held_out, batch = server.post(bodies.held_out)[1], server.post(bodies.batches[0])[1]
    server.classes = classes_of(held_out) + classes_of(batch)
    for body in bodies.single[1:21] + bodies.batches[1:4]:
        server.post(body)


def latencies(servers: list[Server], bodies: Bodies, singles: int, batches: int) -> None:
    """Sequential requests, alternating between the servers (who goes first alternates too)."""
    for server in servers:
        server.reconnect()
    for i in range(singles):
        for server in servers if i % 2 == 0 else servers[::-1]:
            server.single_ms.append(server.post(bodies.single[i % len(bodies.single)])[0] * 1000)
    for i in range(batches):
        for server in servers if i % 2 == 0 else servers[::-1]:
            server.batch_ms.append(server.post(bodies.batches[i % len(bodies.batches)])[0] * 1000)


def throughput_slice(
    active: Server, servers: list[Server], bodies: list[bytes], seconds: float, clients: int, first: int
) -> int:
    """1-row requests to ``active`` from ``clients`` threads for ``seconds``; samples every server's RSS
    meanwhile; adds to ``active``'s requests, loop time and CPU time. Returns the next body index."""
    deadline: list[float] = []
    counts = [0] * clients
    errors: list[BaseException] = []
    go = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        conn = Connection(active.port)
        try:
            go.wait()
            i = first + index
            while time.perf_counter() < deadline[0] and not errors:
                conn.post(bodies[i % len(bodies)], active.label)
                counts[index] += 1
                i += clients
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            active.reconnects += conn.reconnects
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    watched = active.psutil_process
    cpu_before = tree_cpu_seconds(watched)
    started = time.perf_counter()
    deadline.append(started + seconds)
    go.wait()
    while any(thread.is_alive() for thread in threads):
        time.sleep(SAMPLE_SECONDS)
        for server in servers:
            server.rss.append(tree_rss(server.psutil_process))
    active.loop_seconds += time.perf_counter() - started
    active.cpu_seconds += tree_cpu_seconds(watched) - cpu_before
    active.requests += sum(counts)
    if errors:
        raise errors[0] if isinstance(errors[0], BenchError) else BenchError(f"{active.label}: {errors[0]!r}")
    return first + sum(counts)


def throughput(
    servers: list[Server], bodies: list[bytes], seconds: float, slice_seconds: float, clients: int
) -> None:
    """``seconds`` of 1-row requests per server, in slices taken in turns; RSS at the start and end."""
    for server in servers:
        server.rss = [tree_rss(server.psutil_process)]
    slices = max(1, round(seconds / slice_seconds))
    length = seconds / slices
    print(
        f"throughput: {slices} slice(s) of {length:g} s per server, in turns, {clients} client(s)", flush=True
    )
    index = 0
    for number in range(slices):
        for server in servers if number % 2 == 0 else servers[::-1]:
            index = throughput_slice(server, servers, bodies, length, clients, index)
    for server in servers:
        server.rss.append(tree_rss(server.psutil_process))
        print(f"  {server.label}: {server.requests / server.loop_seconds:.1f} requests/s", flush=True)


# --- set-up ---------------------------------------------------------------------------------------------


def bench_environment(store: Path, workdir: Path) -> dict[str, str]:
    """A private ZenML store; bytecode caching on, as on a user's machine; this env's bin on PATH
    (``mlflow models serve`` execs ``uvicorn`` from PATH)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        ZENML_CONFIG_PATH=str(store),
        ZENML_ANALYTICS_OPT_IN="false",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        BENCH_WORKDIR=str(workdir),
    )
    return env


def console_script(name: str, module: str) -> list[str]:
    """The env's console script, or its module when the env was installed before the script existed."""
    script = BIN / name
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


def train(env: dict[str, str], model_name: str, config: Path, log: Path) -> None:
    command = [
        *console_script("e2e-train", "e2e_training.cli"),
        "--model-name",
        model_name,
        "--config",
        str(config),
        "--target-env",
        "production",
    ]
    print(f"training: {' '.join(command)} (log: {log})", flush=True)
    started = time.perf_counter()
    with open(log, "w") as out:
        done = subprocess.run(
            command, env=env, cwd=env["BENCH_WORKDIR"], stdout=out, stderr=subprocess.STDOUT
        )
    if done.returncode != 0:
        raise BenchError(f"e2e-train exited {done.returncode}:\n{tail(log)}")
    print(f"  trained and promoted to production in {time.perf_counter() - started:.0f} s", flush=True)


def tracking_uri(env: dict[str, str]) -> str:
    """The stack's MLflow tracking URI (from a script file: ZenML wants a main module with a file)."""
    script = Path(env["BENCH_WORKDIR"]) / "tracking_uri.py"
    script.write_text(
        "from zenml.client import Client\n"
        "print(Client().active_stack.experiment_tracker.get_tracking_uri())\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], env=env, cwd=env["BENCH_WORKDIR"], capture_output=True, text=True
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise BenchError(f"could not read the stack's MLflow tracking URI:\n{done.stderr[-2000:]}")
    return lines[-1].strip()


# --- report ---------------------------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method: linear between the sorted values)."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def mb(value: float) -> str:
    return f"{value / 1e6:,.0f}"


def table(
    ours: Server, theirs: Server, args: argparse.Namespace, bodies: Bodies, load: tuple[float, ...]
) -> str:
    def ms(value: float) -> str:
        return f"{value:.1f}"

    def row(name: str, show: Callable[[float], str], value: Callable[[Server], float]) -> str:
        a, b = value(ours), value(theirs)
        return f"| {name} | {show(a)} | {show(b)} | {f'{a / b:.2f}x' if b else '-'} |"

    n1, nb, c = args.single_requests, args.batch_requests, args.clients
    lines = [
        f"| metric | {ours.label} | {theirs.label} | ratio |",
        "| --- | ---: | ---: | ---: |",
        row("start to /ping 200 (s)", ms, lambda s: s.start_seconds),
        row("first request after /ping, 1 row (ms)", ms, lambda s: s.first_request_ms),
        row(f"1 row p50 (ms), n={n1}", ms, lambda s: percentile(s.single_ms, 50)),
        row(f"1 row p99 (ms), n={n1}", ms, lambda s: percentile(s.single_ms, 99)),
        row(f"{BATCH_ROWS:,} rows p50 (ms), n={nb}", ms, lambda s: percentile(s.batch_ms, 50)),
        row(f"{BATCH_ROWS:,} rows p99 (ms), n={nb}", ms, lambda s: percentile(s.batch_ms, 99)),
        row(
            f"throughput, 1 row, {c} client(s) (req/s)",
            lambda v: f"{v:,.1f}",
            lambda s: s.requests / s.loop_seconds,
        ),
        row("requests in the loop", lambda v: f"{v:,.0f}", lambda s: s.requests),
        row("server CPU per request in the loop (ms)", ms, lambda s: s.cpu_seconds / s.requests * 1000),
        row("RSS at loop start (MB)", mb, lambda s: s.rss[0]),
        row("RSS at loop end (MB)", mb, lambda s: s.rss[-1]),
        row("RSS max over the loop (MB)", mb, lambda s: max(s.rss)),
        row("SIGTERM to exit (s)", ms, lambda s: s.stop_seconds),
        "",
    ]
    for item in (ours, theirs):
        growth = item.rss[-1] - item.rss[0]
        every = round(TRACE_SECONDS / SAMPLE_SECONDS)  # both servers are sampled all along the loop
        trace = " ".join(mb(v) for v in [*item.rss[:-1:every], item.rss[-1]])
        lines.append(
            f"{item.label}: RSS every ~{TRACE_SECONDS} s while the loop ran (MB): {trace}; growth "
            f"{growth / 1e6:+,.1f} MB ({growth / item.rss[0]:+.1%}); loop {item.loop_seconds:.0f} s; "
            f"exit code {item.exit_code}; reconnects {item.reconnects}"
        )
    lines += [
        f"{ours.label}: {ours.info}",
        f"{theirs.label}: {theirs.info}",
        f"sanity: every answer 200; classes equal on {len(ours.classes):,} rows "
        f"({bodies.held_out_rows} held-out rows + a {BATCH_ROWS:,}-row batch)",
        f"load average at the end (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in load)}; "
        f"{os.cpu_count()} cores",
        "ratio: e2e-serve / mlflow models serve. Started one after the other, then measured in turns with "
        "both up (one gets requests at a time); RSS is the server's process tree (mlflow: its CLI process "
        "and its uvicorn worker).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60, help="throughput loop per server (default 60)")
    parser.add_argument("--slice", type=float, default=5, help="seconds of a turn of the loop (default 5)")
    parser.add_argument("--quick", action="store_true", help="a short try: 5 s loops, fewer latency requests")
    parser.add_argument(
        "--clients", type=int, default=1, help="client threads of the throughput loop (default 1)"
    )
    parser.add_argument("--single-requests", type=int, default=200, help="timed 1-row requests (default 200)")
    parser.add_argument(
        "--batch-requests", type=int, default=50, help=f"timed {BATCH_ROWS:,}-row requests (default 50)"
    )
    parser.add_argument("--model-name", default="e2e_use_case")
    parser.add_argument(
        "--train-config", type=Path, default=ROOT / "tests" / "tiny_search.yaml", help="--config of e2e-train"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary store and the servers' logs")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.single_requests, args.batch_requests = 5, 50, 10
    if min(args.seconds, args.slice, args.clients, args.single_requests, args.batch_requests) <= 0:
        parser.error("--seconds, --slice, --clients, --single-requests and --batch-requests must be positive")

    def on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # the servers are stopped in the finally block

    signal.signal(signal.SIGTERM, on_sigterm)
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    workdir = folder / "work"
    workdir.mkdir()
    env = bench_environment(folder / "zenml", workdir)
    print(
        f"{sys.executable} (Python {sys.version.split()[0]}), {os.cpu_count()} cores; store {folder}",
        flush=True,
    )
    servers: list[Server] = []
    try:
        bodies = make_bodies()
        train(env, args.model_name, args.train_config, folder / "train.log")
        mlflow_env = {**env, "MLFLOW_TRACKING_URI": tracking_uri(env)}
        print(f"  MLFLOW_TRACKING_URI={mlflow_env['MLFLOW_TRACKING_URI']}", flush=True)
        port = free_port()
        ours = Server(
            "e2e-serve",
            [
                *console_script("e2e-serve", "e2e_inference.serve_cli"),
                *("--model-name", args.model_name, "--stage", "production", "--host", "127.0.0.1"),
                *("--port", str(port)),
            ],
            env,
            port,
            folder / "e2e-serve.log",
            "/health",
        )
        servers.append(ours)
        ours.start()
        sanity_and_warm_up(ours, bodies)
        port = free_port()
        theirs = Server(
            "mlflow models serve",
            [
                *(str(BIN / "mlflow"), "models", "serve", "-m", f"models:/{args.model_name}@champion"),
                *("--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)),
            ],
            mlflow_env,
            port,
            folder / "mlflow-serve.log",
            "/version",
        )
        servers.append(theirs)
        theirs.start()
        sanity_and_warm_up(theirs, bodies)
        if ours.classes != theirs.classes:
            differ = sum(a != b for a, b in zip(ours.classes, theirs.classes, strict=False))
            raise BenchError(f"the servers disagree on {differ} of {len(ours.classes)} classes")
        counts = f"{args.single_requests} 1-row and {args.batch_requests} {BATCH_ROWS:,}-row requests"
        print(f"latency: {counts} to each, in turns", flush=True)
        latencies(servers, bodies, args.single_requests, args.batch_requests)
        throughput(servers, bodies.single, args.seconds, args.slice, args.clients)
        load = os.getloadavg()
        for server in servers:
            server.stop()
        print()
        print(table(ours, theirs, args, bodies, load))
        return 0
    except (BenchError, OSError, http.client.HTTPException) as failed:
        kind = "" if isinstance(failed, BenchError) else f"{type(failed).__name__}: "
        print(f"error: {kind}{failed}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: servers stopped", file=sys.stderr)
        return 130
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
