"""``e2e-infer`` with ``--data`` and ``--output`` on an S3-compatible server, beside the same rows from
and to local files: wall time, peak memory and their ratio (one run each, after a warm-up).

    hatch run bench:python benchmarks/bench_s3.py --rows 1000000      # alone
    from bench_s3 import s3_rows                                       # a row of bench:infer

The server is moto's (``moto_server``, from ``moto[server]``) on 127.0.0.1, started here and stopped by
its process id; it keeps objects in memory, so its own memory is not counted. ZenML's artifact store
stays the bench store's local one: only the input and the output move to object storage.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import ROWS_HEADER, Measurement, measure, row_line

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "bench-results"
BIN = Path(sys.executable).parent
BUCKET = "bench"


def s3_rows(
    env: dict[str, str], model_name: str, data: Path, rows: int, infer_args: list[str] = (), warm_up: Path | None = None
) -> tuple[Measurement, Measurement, list[str]]:
    """Time ``e2e-infer`` on ``data`` (Parquet) from and to local files, then from and to S3 (the same
    file uploaded to the server); the two measurements and the printed lines."""
    from e2e_testing.objectstore import start_s3_server

    server = start_s3_server(Path(tempfile.mkdtemp(prefix="e2e-bench-s3-")) / "moto.log")
    try:
        server.create_bucket(BUCKET)
        s3_env = {**env, **server.environment}
        uri = f"s3://{BUCKET}/{data.name}"
        upload = [sys.executable, "-c", "import sys, s3fs; s3fs.S3FileSystem().put_file(sys.argv[1], sys.argv[2])"]
        subprocess.run([*upload, str(data), uri], env=s3_env, check=True)
        local_output = RESULTS / "data" / "s3_bench_local_out.parquet"

        def command(source: str, output: str) -> list[str]:
            return [str(BIN / "e2e-infer"), "--model-name", model_name, "--data", source, "--output", output, "--no-cache", *infer_args]

        if warm_up is not None:
            subprocess.run([*upload, str(warm_up), f"s3://{BUCKET}/{warm_up.name}"], env=s3_env, check=True)
            for source, output in ((str(warm_up), str(local_output)), (f"s3://{BUCKET}/{warm_up.name}", f"s3://{BUCKET}/warm.parquet")):
                subprocess.run(command(source, output), env=s3_env, check=True, stdout=subprocess.DEVNULL, cwd=RESULTS)
        local_output.unlink(missing_ok=True)
        local = measure("local files", command(str(data), str(local_output)), env=s3_env, log_path=str(RESULTS / f"s3_local_{rows}.log"))
        remote = measure("s3 (moto)", command(uri, f"s3://{BUCKET}/out.parquet"), env=s3_env, log_path=str(RESULTS / f"s3_remote_{rows}.log"))
    finally:
        server.stop()
    lines = [ROWS_HEADER, *(row_line(rows, item) for item in (local, remote))]
    lines.append(
        f"s3 / local: time {remote.wall_seconds / local.wall_seconds:.2f}x, "
        f"memory {remote.peak_rss_bytes / max(local.peak_rss_bytes, 1):.2f}x"
    )
    return local, remote, lines


def main() -> int:
    from bench_infer import bench_environment, ensure_promoted_version

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--model-name", default="e2e_bench")
    parser.add_argument("--store", type=Path, default=RESULTS / "zenml")
    args, infer_args = parser.parse_known_args()
    env = bench_environment(args.store)
    data_dir = RESULTS / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    ensure_promoted_version(env, args.model_name, ["--no-hp-tuning"])
    files = {}
    for rows in {1000, args.rows}:
        files[rows] = data_dir / f"rows_{rows}.parquet"
        if not files[rows].exists():
            generate = [sys.executable, str(HERE / "generate.py"), "--rows", str(rows), "--output", str(files[rows])]
            subprocess.run(generate, env=env, check=True)
    local, remote, lines = s3_rows(env, args.model_name, files[args.rows], args.rows, [a for a in infer_args if a != "--"], files[1000])
    print("\n".join(lines))
    return 0 if local.returncode == remote.returncode == 0 else 1


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    os.chdir(HERE.parent)
    sys.exit(main())
