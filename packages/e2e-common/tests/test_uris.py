"""Locations (a local path or a URI) and how failures of an object store become exit codes.

No object store here: the exceptions are the ones the libraries raise (built-in OSErrors and
botocore's, when installed); tests/test_object_storage.py meets a real S3-compatible server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e_common.errors import DataError, UnavailableError, UsageError
from e2e_common.files import table_format
from e2e_common.images import extras_of, image_requirements
from e2e_common.uris import is_uri, location, name_of, storage_error, uri_scheme


@pytest.mark.parametrize(
    ("value", "scheme", "remote"),
    [
        ("s3://lake/data/train.csv", "s3", True),
        ("gs://lake/x.parquet", "gs", True),
        ("az://container/x.csv", "az", True),
        ("abfs://container@account.dfs.core.windows.net/x.csv", "abfs", True),
        ("file:///tmp/x.csv", "file", False),
        ("/tmp/x.csv", None, False),
        ("relative/x.csv", None, False),
        ("C:\\data\\x.csv", None, False),
    ],
)
def test_a_uri_is_told_from_a_path(value, scheme, remote):
    assert uri_scheme(value) == scheme
    assert is_uri(value) is remote


def test_a_uri_is_kept_as_written_and_a_path_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert location("s3://lake/data/train.csv") == "s3://lake/data/train.csv"
    assert location("x.csv") == tmp_path / "x.csv"
    assert location(f"file://{tmp_path}/y.csv") == tmp_path / "y.csv"
    assert isinstance(location(Path("z.csv")), Path)


def test_the_format_of_an_object_comes_from_its_key():
    assert table_format("s3://lake/data/train.csv") == "csv"
    assert table_format("gs://lake/p.PARQUET") == "parquet"
    assert name_of("s3://lake/data/x.pq") == "x.pq"
    with pytest.raises(DataError, match=r"^s3://lake/data: unsupported file extension \(none\)"):
        table_format("s3://lake/data")


def test_a_missing_key_or_denied_access_is_exit_2_and_an_unreachable_endpoint_exit_5(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    uri = "s3://lake/data/train.csv"
    missing = storage_error(FileNotFoundError(2, "NoSuchKey"), uri)
    assert isinstance(missing, DataError) and str(missing) == f"{uri}: not found (no such bucket or key); pass an existing object"
    denied = storage_error(PermissionError(13, "Access Denied"), uri)
    assert isinstance(denied, DataError) and str(denied).startswith(f"{uri}: access denied")
    try:
        raise OSError("wrapped") from ConnectionRefusedError(111, "Connect call failed")
    except OSError as exc:
        down = storage_error(exc, uri)
    assert isinstance(down, UnavailableError) and down.exit_code == 5
    assert str(down).startswith(f"{uri}: the object store at http://127.0.0.1:9 does not answer (ConnectionRefusedError)")
    assert storage_error(ValueError("something else"), uri) is None


def test_botocore_errors_are_classified_by_kind():
    botocore = pytest.importorskip("botocore.exceptions")
    uri = "s3://lake/x.csv"
    assert isinstance(storage_error(botocore.NoCredentialsError(), uri), DataError)
    assert isinstance(storage_error(botocore.EndpointConnectionError(endpoint_url="http://h"), uri), UnavailableError)


def test_a_scheme_without_its_library_names_the_extra():
    from e2e_common.uris import filesystem

    try:
        import gcsfs  # noqa: F401
    except ImportError:
        with pytest.raises(UsageError, match=r"install the 'gcs' extra"):
            filesystem("gs://lake/x.csv")
    else:
        pytest.skip("gcsfs is installed here")


def test_the_extras_of_an_image_follow_the_uris_of_the_run():
    assert extras_of(["s3://a/b.csv", "gs://c/d.parquet", None, Path("/x.csv")]) == ["gcs", "s3"]
    common, own = image_requirements("e2e-tabular-training", ["s3"])
    assert common.startswith("e2e-tabular-common[s3]==") and own.startswith("e2e-tabular-training[s3]==")


def test_a_parser_error_mentioning_404_is_not_a_missing_object():
    import pandas as pd

    from e2e_common.uris import storage_error

    parse = pd.errors.ParserError("Error tokenizing data. C error: Expected 5 fields in line 404, saw 6")
    assert storage_error(parse, "s3://lake/rows.csv") is None
    denied = pd.errors.ParserError("Expected 2 fields in line 403, saw 3")
    assert storage_error(denied, "s3://lake/rows.csv") is None


def test_an_object_whose_store_tells_nothing_of_its_content_is_fingerprinted_by_its_bytes():
    import fsspec

    from e2e_common.uris import object_fingerprint

    fs = fsspec.filesystem("memory")
    fs.pipe("/lake/rows.csv", b"a,b\n1,2\n")
    before = object_fingerprint("memory://lake/rows.csv", {"size": 8})
    fs.pipe("/lake/rows.csv", b"a,b\n3,4\n")  # rewritten, same size
    assert object_fingerprint("memory://lake/rows.csv", {"size": 8}) != before
