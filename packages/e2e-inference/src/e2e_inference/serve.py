"""``e2e-serve``: the model version at a stage behind HTTP, following the stage.

MLflow's scoring protocol (``POST /invocations`` with ``dataframe_records``, ``dataframe_split``,
``instances`` or ``inputs`` JSON, or CSV), parsed by MLflow's own helpers; the rows are checked
against the version's data contract and scored with its ``preprocess_pipeline`` and ``model``,
exactly as ``e2e-infer`` does (``check_rows``, ``rows_to_score``, ``score_chunk``). A regression
version (the task of its data contract) answers a number per row (``prediction``), a classification
its class and probabilities.

The logic is in plain functions and ``ModelHolder``; the FastAPI routes of ``create_app`` are thin.
A ``ModelHolder`` keeps one reference to the ``ServedModel``: the poll thread loads a newly promoted
version beside it and then swaps the reference, so a request scores with the model it started
with and none is dropped. Error answers name columns, never the request's values.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from e2e_common.contract import MODEL, PREPROCESS_PIPELINE
from e2e_common.errors import DataError, NoModelAtStageError, UnavailableError, one_line
from e2e_common.schemas import DataContract, coerce_column, plain_value
from e2e_inference.__about__ import __version__

if TYPE_CHECKING:
    from e2e_inference.resolve import ResolvedVersion

CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_CSV = "text/csv"
CONTENT_TYPES = (CONTENT_TYPE_JSON, CONTENT_TYPE_CSV)

# The JSON fields of MLflow's scoring protocol (mlflow.pyfunc.scoring_server).
DF_RECORDS = "dataframe_records"
DF_SPLIT = "dataframe_split"
INSTANCES = "instances"
INPUTS = "inputs"
INPUT_FIELDS = (DF_RECORDS, DF_SPLIT, INSTANCES, INPUTS)

# ``error_code`` of the error answers ({"error_code": ..., "message": ...}).
BAD_REQUEST = "BAD_REQUEST"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
INTERNAL_ERROR = "INTERNAL_ERROR"

# Keys of GET /health.
HEALTH_KEYS = (
    "model_name", "stage", "version", "version_id", "task", "stage_version", "behind", "checked_at", "last_error"
)

REQUEST_SOURCE = "the request"
class RequestError(Exception):
    """A request the server refuses: its HTTP status, ``error_code`` and one line naming what is wrong."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = one_line(message)

    def body(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}


def bad_request(message: str) -> RequestError:
    return RequestError(400, BAD_REQUEST, message)


# --- Requests: body to rows ---------------------------------------------------------------------------


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header; 415 unless JSON or CSV in UTF-8."""
    parts = [part.strip() for part in (content_type or "").split(";")]
    mime = parts[0].lower()
    if mime not in CONTENT_TYPES:
        if not mime:
            problem = "no content type"
        elif re.fullmatch(r"[\w.+-]{1,64}/[\w.+-]{1,64}", mime):
            problem = f"content type '{mime}' is not supported"
        else:
            problem = "the content type is not supported"
        raise RequestError(415, UNSUPPORTED_MEDIA_TYPE, f"{problem}; send {CONTENT_TYPE_JSON} or {CONTENT_TYPE_CSV}")
    for parameter in parts[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise RequestError(415, UNSUPPORTED_MEDIA_TYPE, "only the UTF-8 charset is supported")
    return mime


def parse_rows(body: bytes, content_type: str | None) -> pd.DataFrame:
    """The rows of a scoring request, read with MLflow's scoring-server helpers.

    RequestError (400, 415) with a message that never holds the request's values.
    """
    mime = media_type(content_type)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the body is not UTF-8 text") from None
    rows = rows_from_csv(text) if mime == CONTENT_TYPE_CSV else rows_from_json(text)
    if rows.columns.duplicated().any():
        duplicated = sorted({str(name) for name in rows.columns[rows.columns.duplicated()]})
        raise bad_request(f"duplicate columns: {', '.join(duplicated)}")
    if len(rows.index) == 0:
        raise bad_request("no rows to score")
    rows.columns = [str(name) for name in rows.columns]
    return rows


def rows_from_json(text: str) -> pd.DataFrame:
    """``dataframe_records``, ``dataframe_split``, ``instances`` or ``inputs`` (MLflow's JSON formats)."""
    import numpy as np
    from mlflow.pyfunc.scoring_server import _split_data_and_params, infer_and_parse_data

    expected = ", ".join(INPUT_FIELDS)
    try:
        data, _params = _split_data_and_params(text)
    except Exception:  # noqa: BLE001 - MLflow's message quotes the body: ours does not
        raise bad_request(f"the body is not a JSON object with one of the fields {expected}") from None
    if len(data) != 1:
        found = "none of them" if not data else f"{len(data)} of them ({', '.join(sorted(data))})"
        raise bad_request(f"the JSON body needs exactly one of the fields {expected}; it has {found}")
    (field,) = data
    try:
        parsed = infer_and_parse_data(data)
        if isinstance(parsed, dict):
            parsed = pd.DataFrame(parsed)
    except Exception:  # noqa: BLE001 - MLflow's and pandas' messages may quote values
        raise bad_request(f"'{field}' could not be read as a table: {FORMAT_HINTS[field]}") from None
    if isinstance(parsed, np.ndarray) or not isinstance(parsed, pd.DataFrame):
        raise bad_request(f"'{field}' has no column names: {FORMAT_HINTS[field]}")
    return parsed


FORMAT_HINTS = {
    DF_RECORDS: 'send a list of objects, one per row: [{"column": value, ...}, ...]',
    DF_SPLIT: 'send {"columns": [names], "data": [[values of a row], ...]}',
    INSTANCES: 'send a list of objects, one per row: [{"column": value, ...}, ...]',
    INPUTS: 'send an object of columns: {"column": [values], ...}',
}


def rows_from_csv(text: str) -> pd.DataFrame:
    """A CSV table with a header row (MLflow's ``parse_csv_input``)."""
    from io import StringIO

    from mlflow.pyfunc.scoring_server import parse_csv_input

    try:
        return parse_csv_input(csv_input=StringIO(text))
    except Exception as exc:  # noqa: BLE001 - MLflow's message quotes pandas', which may quote values
        cause = exc.__context__ or exc
        raise bad_request(f"the body is not a CSV table with a header row ({type(cause).__name__})") from None


# --- Rows to answers ---------------------------------------------------------------------------------


def check_request_rows(rows: pd.DataFrame, contract: DataContract) -> str | None:
    """Check rows against the data contract as ``e2e-infer`` does; the id column to keep, if any.

    400 naming the missing columns, or the columns whose values cannot be read as their kind
    (without the values). Extra columns are ignored; the first column the contract records as an
    identifier that the rows carry is kept as the id column, as ``e2e-infer`` does.
    """
    from e2e_inference.columns import default_id_column
    from e2e_inference.inputs import check_rows

    missing = [name for name in contract.feature_names if name not in rows.columns]
    if missing:
        raise bad_request(f"missing feature column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    id_column = default_id_column(contract.excluded_columns, list(rows.columns))
    try:
        check_rows(rows, contract, id_column, REQUEST_SOURCE)
    except DataError:
        raise bad_request(unreadable_columns(rows, contract)) from None
    return id_column


_COUNTED = re.compile(r"\d+ value\(s\) not [a-z ]+")


def unreadable_columns(rows: pd.DataFrame, contract: DataContract) -> str:
    """Which columns hold values that cannot be read as their kind, and how many: never the values."""
    problems = []
    for spec in contract.features:
        try:
            coerce_column(rows[spec.name], spec.kind)
        except ValueError as exc:
            counted = _COUNTED.match(str(exc))
            problems.append(f"{spec.name} ({counted.group(0) if counted else f'values not {spec.kind.value}'})")
    if not problems:
        return "the rows do not match the model's data contract"
    return f"columns with values that cannot be read as their kind: {'; '.join(problems)}"


def json_value(value: Any) -> Any:
    """A value JSON can hold: Python scalars, None for missing values and NaN, text for the rest."""
    value = plain_value(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    return str(value)


def prediction_records(predictions: pd.DataFrame) -> list[dict[str, Any]]:
    """One JSON-safe record per row, the columns in the predictions' order."""
    columns = [str(name) for name in predictions.columns]
    return [
        {column: json_value(value) for column, value in zip(columns, row, strict=True)}
        for row in predictions.itertuples(index=False, name=None)
    ]


@dataclass(frozen=True)
class ServedModel:
    """A model version loaded to answer requests: its data contract, preprocessing and model."""

    model_name: str
    stage: str
    version_name: str
    version_id: str
    contract: DataContract
    preprocess_pipeline: Any
    model: Any

    def score(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The predictions ``e2e-infer`` writes for ``rows``; RequestError (400) for rows it refuses."""
        from e2e_inference.inputs import rows_to_score
        from e2e_inference.predict import score_chunk

        id_column = check_request_rows(rows, self.contract)
        try:
            return score_chunk(
                rows_to_score(rows, self.contract, id_column),
                self.preprocess_pipeline,
                self.model,
                model_name=self.model_name,
                model_version=self.version_name,
                id_column=id_column,
                task=self.contract.task,
            )
        except DataError as exc:  # a regressor's non-finite prediction: names row numbers, never values
            raise bad_request(str(exc)) from None

    def answer(self, body: bytes, content_type: str | None) -> dict[str, Any]:
        """The answer to ``POST /invocations``: ``{"predictions": [record per row]}``."""
        return {"predictions": prediction_records(self.score(parse_rows(body, content_type)))}


def load_served_model(version: ResolvedVersion) -> ServedModel:
    """Load the resolved version's ``preprocess_pipeline`` and ``model`` from the artifact store."""
    from uuid import UUID

    from zenml.client import Client

    model_version = Client().zen_store.get_model_version(UUID(version.version_id))
    loaded = {}
    for name in (PREPROCESS_PIPELINE, MODEL):
        artifact = model_version.get_artifact(name)
        if artifact is None:
            raise DataError(f"version {version.version_name} of model '{version.model_name}' has no {name} artifact")
        loaded[name] = artifact.load()
    return ServedModel(
        model_name=version.model_name,
        stage=version.stage,
        version_name=version.version_name,
        version_id=version.version_id,
        contract=version.contract,
        preprocess_pipeline=loaded[PREPROCESS_PIPELINE],
        model=loaded[MODEL],
    )


# --- Following the stage -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StageVersion:
    """What the stage holds: a version's id and name."""

    version_id: str
    version_name: str


def version_at_stage(model_name: str, stage: str) -> StageVersion:
    """The version at the stage, by one query; NoModelAtStageError (with its hint) when there is none."""
    from e2e_common.registry import version_at_stage as lookup

    version = lookup(model_name, stage)
    return StageVersion(version_id=str(version.id), version_name=version.name)


def resolve_and_load(model_name: str, stage: str) -> ServedModel:
    """The version at the stage, checked by ``resolve_version`` as ``e2e-infer`` does, then loaded."""
    from e2e_inference.resolve import resolve_version

    return load_served_model(resolve_version(model_name, stage))


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def store_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the ZenML store cannot be reached: a server that does
    not answer, a database that refuses connections, a timeout."""
    kinds: list[type[BaseException]] = [ConnectionError, TimeoutError]
    try:
        import requests

        kinds += [requests.exceptions.ConnectionError, requests.exceptions.Timeout]
    except ImportError:  # pragma: no cover - requests comes with ZenML
        pass
    try:
        import sqlalchemy.exc

        kinds += [sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.TimeoutError]
    except ImportError:  # pragma: no cover - SQLAlchemy comes with ZenML
        pass
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, tuple(kinds)):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def without_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` part."""
    return re.sub(r"(//)[^/@]*@", r"\1", url)


def unreachable_error(exc: BaseException) -> UnavailableError:
    """UnavailableError (exit 5) naming the store, without credentials, and what to do."""
    try:
        from zenml.config.global_config import GlobalConfiguration

        where = f" at {without_credentials(GlobalConfiguration().store_configuration.url)}"
    except Exception:  # noqa: BLE001 - the message can do without the address
        where = ""
    root = exc
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__  # type: ignore[assignment]
    return UnavailableError(
        f"the ZenML store{where} cannot be reached ({type(root).__name__}); "
        "check that the server or database is up (zenml status) and start e2e-serve again"
    )


def connect_store() -> None:
    """Open the ZenML store (client, server or database); UnavailableError (exit 5) when it does not answer."""
    from zenml.client import Client

    try:
        Client().zen_store  # noqa: B018 - opening the store is the check
    except Exception as exc:
        if store_unreachable(exc):
            raise unreachable_error(exc) from exc
        raise


class ModelHolder:
    """The served model (one reference, swapped whole) and what the last check of the stage found.

    ``check`` reads the stage; when it holds another version than the one served it resolves and
    loads that version, then swaps the reference. A failed load, an empty stage or an unreachable
    store keep the served model and set ``last_error``.
    """

    def __init__(
        self,
        model_name: str,
        stage: str,
        *,
        find: Callable[[str, str], StageVersion] = version_at_stage,
        load: Callable[[str, str], ServedModel] = resolve_and_load,
        say: Callable[[str], None] = print,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.model_name = model_name
        self.stage = stage
        self.served: ServedModel | None = None
        self._find = find
        self._load = load
        self._say = say
        self._warn = warn or say
        self._lock = threading.Lock()
        self._checking = threading.Lock()
        self.stage_version: StageVersion | None = None
        self.checked_at: str | None = None
        self.last_error: str | None = None
        self.hint: str | None = None  # why the stage holds no version, when it does not
        self.announce = False  # print a line on each swap (set once the server has said it is ready)

    def check(self, *, raise_unreachable: bool = False) -> None:
        """Check the stage once and follow it; never raises, but for an unreachable store when asked."""
        with self._checking:
            try:
                self._check()
            except Exception as exc:  # noqa: BLE001 - a failed check is reported in /health, never fatal
                if raise_unreachable and store_unreachable(exc):
                    raise unreachable_error(exc) from exc
                self._failed(f"the stage could not be checked: {one_line(f'{type(exc).__name__}: {exc}')}", exc)

    def _check(self) -> None:
        try:
            at_stage = self._find(self.model_name, self.stage)
        except NoModelAtStageError as exc:
            with self._lock:
                self.stage_version, self.checked_at, self.hint = None, now_iso(), one_line(exc)
                served = self.served
                if served is None:
                    self.last_error = None
            if served is not None:
                self._failed(f"{self.hint}; still serving version {served.version_name}")
            return
        with self._lock:
            self.stage_version, self.checked_at, self.hint = at_stage, now_iso(), None
            if self.served is not None and self.served.version_id == at_stage.version_id:
                self.last_error = None
                return
        try:
            loaded = self._load(self.model_name, self.stage)
        except Exception as exc:  # noqa: BLE001 - keep serving the model there is
            self._failed(f"version {at_stage.version_name} could not be loaded: {one_line(exc)}", exc)
            return
        with self._lock:
            before, self.served = self.served, loaded
            self.last_error = None
            if loaded.version_id != at_stage.version_id:  # the stage moved again while loading
                self.stage_version = StageVersion(loaded.version_id, loaded.version_name)
        if self.announce:
            was = f", was version {before.version_name}" if before is not None else ""
            self._say(f"serving model '{self.model_name}' version {loaded.version_name} (stage '{self.stage}'){was}")

    def _failed(self, message: str, exc: BaseException | None = None) -> None:
        if exc is not None and store_unreachable(exc):
            served = self.served
            message = f"the ZenML store cannot be reached ({type(exc).__name__})" + (
                f"; still serving version {served.version_name}" if served is not None else ""
            )
        with self._lock:
            changed = message != self.last_error
            self.last_error = message
        if changed:
            self._warn(f"warning: {message}")

    def follow(self, interval: float, stop: threading.Event) -> None:
        """Check the stage every ``interval`` seconds until ``stop`` is set (the poll thread's loop)."""
        while not stop.wait(interval):
            self.check()

    def start_following(self, interval: float) -> tuple[threading.Thread, threading.Event]:
        """The poll thread (a daemon) and the event that stops it."""
        stop = threading.Event()
        thread = threading.Thread(target=self.follow, args=(interval, stop), name="e2e-serve-stage", daemon=True)
        thread.start()
        return thread, stop

    @property
    def behind(self) -> bool:
        """The stage holds another version than the one served (or none while one is served)."""
        served_id = self.served.version_id if self.served is not None else None
        stage_id = self.stage_version.version_id if self.stage_version is not None else None
        return served_id != stage_id

    def unavailable_message(self) -> str:
        """Why no model answers yet: the stage holds none (and how to fix it), or its loading failed."""
        with self._lock:
            if self.hint is not None:
                return f"{self.hint}; e2e-serve serves it as soon as one is promoted"
            if self.last_error is not None:
                return self.last_error
            return f"model '{self.model_name}' (stage '{self.stage}') is loading; retry in a few seconds"

    def health(self) -> dict[str, Any]:
        """``GET /health``: what is served, what the stage held at the last check, and the last error."""
        with self._lock:
            served = self.served
            at_stage = self.stage_version
            return {
                "model_name": self.model_name,
                "stage": self.stage,
                "version": served.version_name if served is not None else None,
                "version_id": served.version_id if served is not None else None,
                "task": served.contract.task.value if served is not None else None,
                "stage_version": at_stage.version_name if at_stage is not None else None,
                "behind": self.behind,
                "checked_at": self.checked_at,
                "last_error": self.last_error if self.last_error is not None else (
                    self.hint if served is None else None
                ),
            }


# --- HTTP ----------------------------------------------------------------------------------------------


def invocation(holder: ModelHolder, body: bytes, content_type: str | None) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of ``POST /invocations``: scored by the model served when the request came."""
    served = holder.served
    if served is None:
        return 503, {"error_code": TEMPORARILY_UNAVAILABLE, "message": holder.unavailable_message()}
    try:
        return 200, served.answer(body, content_type)
    except RequestError as refused:
        return refused.status, refused.body()


def warm_up() -> None:
    """Import what the first request would otherwise wait for (MLflow's scoring helpers, a few seconds)."""
    import mlflow.pyfunc.scoring_server  # noqa: F401


def create_app(holder: ModelHolder, *, report: Callable[[BaseException], None] | None = None) -> FastAPI:
    """The FastAPI app: ``POST /invocations``, ``GET /ping``, ``GET /health``, ``GET /version``.

    ``report`` is called with an unexpected scoring failure (answered 500 without details).
    """
    app = FastAPI(title="e2e-serve", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/invocations")
    async def invocations(request: Request) -> JSONResponse:
        body = await request.body()
        try:
            status, answer = await run_in_threadpool(invocation, holder, body, request.headers.get("content-type"))
        except Exception as exc:  # noqa: BLE001 - a bug, not the request: no details in the answer
            if report is not None:
                report(exc)
            status, answer = 500, {
                "error_code": INTERNAL_ERROR,
                "message": f"scoring failed ({type(exc).__name__}); the server's log says more",
            }
        return JSONResponse(answer, status_code=status)

    @app.get("/ping")
    async def ping() -> JSONResponse:
        if holder.served is None:
            return JSONResponse(
                {"error_code": TEMPORARILY_UNAVAILABLE, "message": holder.unavailable_message()}, status_code=503
            )
        return JSONResponse({"status": "ok"})

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse(holder.health())

    @app.get("/version")
    async def version() -> JSONResponse:
        return JSONResponse({"version": __version__})

    return app
