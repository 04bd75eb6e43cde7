"""Inputs and outputs on object storage: ``--data`` and ``--output`` as a local path or an fsspec URI.

A *location* is a local ``Path`` (absolute) or a URI ``str`` (``s3://bucket/key.csv``, ``gs://``,
``az://``, ``abfs://``...); ``file://`` URIs become local paths. Reading and writing go through
fsspec's filesystem of the URI's scheme (s3fs, gcsfs, adlfs: the ``s3``, ``gcs`` and ``azure`` extras),
which takes credentials from the usual places (environment, profile files, instance metadata) and an
S3-compatible endpoint from ``AWS_ENDPOINT_URL``. Failures become one line naming the URI: access
denied, no such bucket or key, no credentials or a missing filesystem library are exit 2
(``DataError``/``UsageError``); an endpoint that does not answer is exit 5 (``UnavailableError``).
Nothing here prints a credential: the messages name the URI, the endpoint and the error's kind.

Nothing heavy is imported at module level: the CLIs check a URI before ZenML and pandas load.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from e2e_common.errors import DataError, E2EError, UnavailableError, UsageError, exception_chain, one_line

URI_PATTERN = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]+)://(?P<rest>.*)$")
FILE_SCHEME = "file"
# The package extra that brings each scheme's filesystem library (``pip install "e2e-tabular-inference[s3]"``).
EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure", "abfss": "azure", "adl": "azure"}
LIBRARIES = {"s3": "s3fs", "gcs": "gcsfs", "azure": "adlfs"}
# Fail within seconds when an S3 endpoint does not answer (botocore's defaults: 60 s, five attempts).
S3_CONNECT_TIMEOUT_SECONDS = 5
S3_READ_TIMEOUT_SECONDS = 60
S3_ATTEMPTS = 2
# What a library raises when a service does not answer, by class name anywhere in the chain.
UNREACHABLE_ERRORS = (
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ClientConnectorError",
    "ServerDisconnectedError",
    "ServiceRequestError",
    "TransportError",
    "FSTimeoutError",
)
CREDENTIAL_ERRORS = ("NoCredentialsError", "PartialCredentialsError", "DefaultCredentialsError", "ClientAuthenticationError")
DENIED_CODES = ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden", "403", "AuthorizationFailure")
MISSING_CODES = ("NoSuchBucket", "NoSuchKey", "404", "NotFound", "ContainerNotFound", "BlobNotFound")
DEFAULT_ENDPOINTS = {"s3": "AWS_ENDPOINT_URL_S3", "s3a": "AWS_ENDPOINT_URL_S3"}

Location = Path | str


def uri_scheme(value: object) -> str | None:
    """The scheme of a URI (``s3``), None for a local path (``C:\\x`` and ``/x`` included)."""
    found = URI_PATTERN.match(str(value)) if isinstance(value, str) else None
    return found.group("scheme").lower() if found else None


def is_uri(value: object) -> bool:
    """True for a location on a filesystem other than the local one (not ``file://``)."""
    scheme = uri_scheme(value)
    return scheme is not None and scheme != FILE_SCHEME


def location(value: Path | str) -> Location:
    """A setting's value as a location: a URI as written, a ``file://`` URI or a path made absolute."""
    from e2e_common.files import absolute_path

    if isinstance(value, str):
        scheme = uri_scheme(value)
        if scheme == FILE_SCHEME:
            return absolute_path(URI_PATTERN.match(value).group("rest") or "/")
        if scheme is not None:
            return value
    return absolute_path(value)


def name_of(value: Location) -> str:
    """The last part of a location (``p.parquet``), to read its extension."""
    return str(value).rstrip("/").rsplit("/", 1)[-1]


def parent_of(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[0]


def storage_options(uri: str) -> dict[str, Any]:
    """fsspec options of ``uri``'s filesystem: short connect timeouts and few attempts for S3."""
    if uri_scheme(uri) in ("s3", "s3a"):
        return {
            "config_kwargs": {
                "connect_timeout": S3_CONNECT_TIMEOUT_SECONDS,
                "read_timeout": S3_READ_TIMEOUT_SECONDS,
                "retries": {"max_attempts": S3_ATTEMPTS, "mode": "standard"},
            }
        }
    return {}


def filesystem(uri: str):
    """``(filesystem, path)`` of a URI; UsageError (exit 2) naming the extra when its library is missing."""
    scheme = uri_scheme(uri) or FILE_SCHEME
    try:
        import fsspec

        return fsspec.core.url_to_fs(uri, **storage_options(uri))
    except ImportError as exc:
        extra = EXTRAS.get(scheme)
        if extra is None:
            raise UsageError(f"{uri}: no filesystem library for '{scheme}://' URIs is installed ({one_line(exc)})") from exc
        raise UsageError(
            f"{uri}: reading '{scheme}://' needs {LIBRARIES[extra]}: install the '{extra}' extra "
            f'(pip install "e2e-tabular-inference[{extra}]" or "e2e-tabular-training[{extra}]")'
        ) from exc
    except ValueError as exc:
        if "not known" in str(exc) or "Protocol" in str(exc):
            raise UsageError(f"{uri}: '{scheme}://' is not a filesystem fsspec knows; pass a local path or an s3://, gs:// or az:// URI") from exc
        raise


def endpoint_of(uri: str) -> str:
    """Where ``uri``'s requests go, for messages: an S3-compatible endpoint, or the scheme's service."""
    if uri_scheme(uri) in ("s3", "s3a"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        return endpoint.split("@")[-1] if endpoint else "AWS S3"
    return f"the {uri_scheme(uri)}:// service"


def storage_error(exc: BaseException, uri: str, action: str = "read") -> E2EError | None:
    """The product's error for a failure to reach or use ``uri``, or None when it is not one of those.

    Missing bucket or key, access denied, no credentials: exit 2. An endpoint that does not answer
    (refused, timed out, DNS): exit 5, retry later.
    """
    chain = exception_chain(exc)
    for error in chain:
        if isinstance(error, E2EError):
            return error
    names = {cls.__name__ for error in chain for cls in type(error).__mro__}
    # Status codes are read from the store's errors only: a parser's "line 404" is no HTTP 404.
    text = " ".join(str(error) for error in chain if not _is_content_error(error))
    if names & set(CREDENTIAL_ERRORS):
        return DataError(
            f"{uri}: no credentials for {endpoint_of(uri)} ({_kind(chain, CREDENTIAL_ERRORS)}); set them as usual "
            "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE; GOOGLE_APPLICATION_CREDENTIALS; AZURE_STORAGE_*)"
        )
    if names & set(UNREACHABLE_ERRORS) or _is_connection_error(chain):
        return UnavailableError(
            f"{uri}: the object store at {endpoint_of(uri)} does not answer ({_kind(chain, UNREACHABLE_ERRORS)}); "
            "retry later, or check AWS_ENDPOINT_URL and the network"
        )
    if any(isinstance(error, PermissionError) for error in chain) or _has_code(text, DENIED_CODES):
        return DataError(
            f"{uri}: access denied (cannot {action} it with these credentials); check the credentials and "
            "the bucket's policy"
        )
    if any(isinstance(error, FileNotFoundError) for error in chain) or _has_code(text, MISSING_CODES):
        bucket = "bucket" if "NoSuchBucket" in text or "bucket" in text.lower() else "bucket or key"
        return DataError(f"{uri}: not found (no such {bucket}); pass an existing object")
    return None


def _is_content_error(error: BaseException) -> bool:
    """An error about the bytes read (a parser's, pyarrow's, a decoder's), not about the store."""
    return isinstance(error, UnicodeError) or type(error).__module__.split(".")[0] in ("pandas", "pyarrow")


def _kind(chain: list[BaseException], names: tuple[str, ...]) -> str:
    for error in chain:
        for cls in type(error).__mro__:
            if cls.__name__ in names:
                return cls.__name__
    for error in chain:
        if isinstance(error, (ConnectionError, TimeoutError)):
            return type(error).__name__
    return type(chain[0]).__name__


def _is_connection_error(chain: list[BaseException]) -> bool:
    import socket

    return any(isinstance(error, (ConnectionError, TimeoutError, socket.gaierror)) for error in chain)


def _has_code(text: str, codes: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b{re.escape(code)}\b", text) for code in codes)


@contextlib.contextmanager
def storage_errors(uri: Location, action: str = "read") -> Iterator[None]:
    """Turn a failure of the object store behind ``uri`` into the product's one-line error."""
    try:
        yield
    except BaseException as exc:
        if not is_uri(uri) or isinstance(exc, E2EError):
            raise
        known = storage_error(exc, str(uri), action)
        if known is None:
            raise
        raise known from exc


def info(uri: str) -> dict[str, Any]:
    """The object's metadata (``size``, ``type``, ``ETag``...): exit 2 when it is missing or denied, 5 when
    the store does not answer."""
    fs, path = filesystem(uri)
    with storage_errors(uri):
        return fs.info(path)


def size_of(value: Location) -> int:
    """The size in bytes of a local file or an object."""
    if is_uri(value):
        return int(info(str(value)).get("size") or 0)
    return Path(value).stat().st_size


def open_binary(value: Location, mode: str = "rb", **options: Any) -> IO[bytes]:
    """A binary file object over a local file or an object (random access for reading)."""
    if not is_uri(value):
        return open(value, mode)  # noqa: SIM115 - the caller closes it
    fs, path = filesystem(str(value))
    with storage_errors(value, "read" if "r" in mode else "write"):
        return fs.open(path, mode, **options)


def object_fingerprint(uri: str, metadata: dict[str, Any] | None = None) -> str:
    """What identifies an object's content without reading it: ``object:<sha256>`` of its URI, size and
    the store's own content tag (S3 ETag and version id, GCS generation and md5, Azure etag), else its
    modification time. A rewrite of the object changes it."""
    import hashlib

    metadata = info(uri) if metadata is None else metadata
    keys = ("ETag", "etag", "VersionId", "generation", "md5Hash", "crc32c", "content_settings", "LastModified", "mtime", "last_modified")
    tags = [f"{key}={metadata[key]}" for key in keys if metadata.get(key) not in (None, "")]
    if not tags:
        # A store that tells nothing of the content (http, ftp): a rewrite of the same size would look
        # the same, so the content itself is hashed (read once, streamed).
        tags = [f"sha256={content_sha256(uri)}"]
    text = "\n".join([uri, str(metadata.get("size")), *tags])
    return f"object:{hashlib.sha256(text.encode()).hexdigest()}"


def content_sha256(uri: str, block_bytes: int = 1 << 22) -> str:
    """The sha256 of an object's bytes, read in blocks."""
    import hashlib

    fs, path = filesystem(uri)
    digest = hashlib.sha256()
    with storage_errors(uri), fs.open(path, "rb") as handle:
        while block := handle.read(block_bytes):
            digest.update(block)
    return digest.hexdigest()


def check_readable_object(uri: str) -> dict[str, Any]:
    """The object's metadata if ``uri`` names an existing, non-empty object of a supported format."""
    from e2e_common.files import table_format

    table_format(name_of(uri), shown=uri)
    found = info(uri)
    if found.get("type") == "directory":
        raise DataError(f"{uri}: is a folder (a prefix); pass a CSV or Parquet object (a folder of Parquet parts is not read)")
    if not found.get("size"):
        raise DataError(f"{uri}: the object is empty")
    return found


def check_writable_object(uri: str, setting: str) -> None:
    """Prove before the run that an object can be written at ``uri``'s folder: write and remove a probe
    (exit 2 when the bucket is missing or writing is denied, 5 when the store does not answer)."""
    fs, path = filesystem(uri)
    probe = f"{parent_of(path)}/.{name_of(path)}.e2e-probe-{os.getpid()}"
    try:
        with storage_errors(uri, "write"):
            if fs.isdir(path):
                raise DataError(f"{uri}: is a folder (a prefix) (setting '{setting}'); pass an object name ending in .csv or .parquet")
            fs.pipe_file(probe, b"")
            fs.rm_file(probe)
    except DataError as exc:
        message = str(exc)
        raise DataError(message if f"setting '{setting}'" in message else f"{message} (setting '{setting}')") from exc


@contextlib.contextmanager
def object_writer(uri: str) -> Iterator[IO[bytes]]:
    """A file object writing ``uri``, visible at its key only once complete.

    Object stores publish an upload when it is closed (S3 multipart upload or single PUT, GCS resumable
    upload, Azure block list): a failure or an interruption here discards the upload, so the key keeps
    its previous object; a process killed mid-write leaves at most an incomplete multipart upload,
    which is never visible at the key (a bucket lifecycle rule removes it).
    """
    fs, path = filesystem(uri)
    with storage_errors(uri, "write"):
        handle = fs.open(path, "wb")
    try:
        # A large upload sends parts while it is written: a store that fails then is its own error.
        with storage_errors(uri, "write"):
            yield handle
    except BaseException:
        with contextlib.suppress(Exception):
            handle.discard()
        handle.closed = True  # never finalized later (a file object's __del__ would close it)
        raise
    with storage_errors(uri, "write"):
        handle.close()
