"""The input check: column names, odd files, values the libraries cannot take (issue 16)."""

from __future__ import annotations

import gzip
import math
import os
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from e2e_common.checks import LARGEST_MAGNITUDE, check_table, unsupported_values
from e2e_common.data import frame_fingerprint, read_table
from e2e_common.errors import DataError
from e2e_common.files import check_readable_file, read_header
from e2e_common.preprocessing import FEATURE_BOUND, build_preprocess_pipeline
from e2e_common.schemas import DataContract


def write(path, content: str | bytes):
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


# --- column names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("mean radius,mean radius,y", "column name 'mean radius' appears 2 times (columns 1, 2)"),
        ("a,b,a,b,y", "column name 'a' appears 2 times (columns 1, 3) (and 1 more repeated name(s))"),
        (",a,y", "column 1 of 3 has no name (a saved row index? write the file without it)"),
        ("a,,y", "column 2 of 3 has no name; name it or remove it"),
        ("a,y,", "column 3 of 3 has no name"),
        ("a,  ,y", "column 2 of 3 has no name"),
    ],
)
def test_repeated_and_empty_column_names_are_refused_in_the_header_and_by_read_table(tmp_path, header, message):
    values = ",".join(str(i) for i in range(len(header.split(","))))
    path = write(tmp_path / "data.csv", f"{header}\n{values}\n")
    with pytest.raises(DataError, match=re.escape(message)):
        read_header(path)
    with pytest.raises(DataError, match="has no name|appears 2 times"):
        read_table(path)


def test_a_parquet_schema_with_a_repeated_name_is_refused(tmp_path):
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.table([pa.array([1, 2]), pa.array([3, 4]), pa.array([0, 1])], names=["x", "x", "y"]), path)
    with pytest.raises(DataError, match="column name 'x' appears 2 times"):
        read_header(path)
    with pytest.raises(DataError, match="column name 'x' appears 2 times"):
        read_table(path)


def test_check_table_refuses_repeated_names_of_a_frame_and_names_with_control_characters_are_escaped():
    frame = pd.DataFrame([[1, 2, 0], [3, 4, 1]], columns=["a\n", "a\n", "y"])
    with pytest.raises(DataError, match=r"column name 'a\\n' appears 2 times") as raised:
        check_table(frame, "y")
    assert "\n" not in str(raised.value)
    with pytest.raises(DataError, match=r"the name of column 2 of 2 \('b\\x00'\) holds a NUL character"):
        check_table(pd.DataFrame([[1, 0]], columns=["y", "b\x00"]), "y")


def test_a_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    path = write(tmp_path / "bom.csv", "\ufeffa,y\n1,0\n2,1\n")
    assert read_header(path) == ["a", "y"]
    assert list(read_table(path).columns) == ["a", "y"]


def test_a_header_of_one_column_holding_another_separator_says_so(tmp_path):
    path = write(tmp_path / "semicolon.csv", "a;b;y\n1;2;0\n")
    with pytest.raises(DataError, match="the file looks separated by ';', but CSV files are read comma-separated"):
        read_header(path)
    tabs = write(tmp_path / "tabs.csv", "a\tb\ty\n1\t2\t0\n")
    with pytest.raises(DataError, match="separated by a tab"):
        read_header(tabs)


# --- odd files -----------------------------------------------------------------------------------


def test_files_of_another_format_named_csv_say_what_they_are(tmp_path):
    parquet = tmp_path / "data.csv"
    pd.DataFrame({"a": [1, 2], "y": [0, 1]}).to_parquet(parquet)
    with pytest.raises(DataError, match="is a Parquet file; name it .parquet"):
        read_header(parquet)
    zipped = write(tmp_path / "zipped.csv", gzip.compress(b"a,y\n1,0\n"))
    with pytest.raises(DataError, match="is gzip-compressed; decompress it first"):
        read_table(zipped)
    with pytest.raises(DataError, match=r"unsupported file extension '.gz'; .* decompress it first"):
        read_header(write(tmp_path / "data.csv.gz", gzip.compress(b"a,y\n1,0\n")))


def test_latin_1_bytes_are_not_utf_8(tmp_path):
    header = write(tmp_path / "header.csv", "caf\xe9,y\n1,0\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"not UTF-8 text \(byte 0xe9\); save the file as UTF-8"):
        read_header(header)
    body = write(tmp_path / "body.csv", "city,y\nS\xe3o Paulo,0\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8 text"):
        read_table(body)


def test_links_folders_and_pipes_say_what_they_are(tmp_path):
    loop = tmp_path / "loop.csv"
    os.symlink(loop, loop)
    with pytest.raises(DataError, match="symbolic link loop"):
        check_readable_file(loop)
    dangling = tmp_path / "dangling.csv"
    os.symlink(tmp_path / "gone.csv", dangling)
    with pytest.raises(DataError, match="symbolic link to .*gone.csv, which does not exist"):
        check_readable_file(dangling)
    folder = tmp_path / "parts"
    folder.mkdir()
    with pytest.raises(DataError, match="is a folder; pass a CSV or Parquet file"):
        check_readable_file(folder)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"is a named pipe \(FIFO\), not a regular file"):
        check_readable_file(fifo)


def test_a_header_only_csv_has_no_rows(tmp_path):
    with pytest.raises(DataError, match="no rows to read"):
        read_table(write(tmp_path / "header.csv", "a,y\n"))


def test_a_column_of_numbers_and_text_is_read_as_one_type_whatever_its_length(tmp_path):
    rows = [str(i) for i in range(200_000)] + ["unknown"]
    path = write(tmp_path / "mixed.csv", "a,y\n" + "".join(f"{value},{i % 2}\n" for i, value in enumerate(rows)))
    column = read_table(path)["a"]
    assert {type(value) for value in column} == {str}


# --- values --------------------------------------------------------------------------------------


def test_infinities_are_missing_values_counted_per_column():
    frame = pd.DataFrame({"a": [1.0, math.inf, -math.inf, 2.0], "b": [1.0, 2.0, 3.0, math.inf], "y": [0, 1, 0, 1]})
    checked = check_table(frame, "y")
    assert checked.infinite == {"a": 2, "b": 1}
    assert checked.frame["a"].isna().tolist() == [False, True, True, False]
    assert checked.warnings() == [
        "column 'a' holds 2 infinite value(s) (inf or -inf), read as missing values",
        "column 'b' holds 1 infinite value(s) (inf or -inf), read as missing values",
    ]
    assert np.isinf(frame["a"]).sum() == 2  # the frame given is left as it is


@pytest.mark.parametrize("value", [1e150, -1e300, 1.7976931348623157e308])
def test_numbers_beyond_the_largest_magnitude_are_refused_naming_the_column_and_the_value(value):
    frame = pd.DataFrame({"x": [1.0, value, 2.0], "y": [0, 1, 0]})
    with pytest.raises(DataError) as raised:
        check_table(frame, "y")
    message = str(raised.value)
    assert message.startswith(f"column 'x' holds {value:g} beyond ±1e+150")
    assert "rescale it" in message and "drop the column" in message and "np.float64" not in message


def test_numbers_just_below_the_largest_magnitude_and_tiny_ones_pass():
    frame = pd.DataFrame({"x": [9.9e149, -9.9e149, 5e-324, 0.0], "y": [0, 1, 0, 1]})
    assert check_table(frame, "y").infinite == {}
    assert LARGEST_MAGNITUDE == 1e150


def test_dropped_columns_are_not_looked_at():
    frame = pd.DataFrame({"x": [1.0, 1e300], "keep": [1, 2], "y": [0, 1]})
    assert list(check_table(frame, "y", skip=["x"]).frame.columns) == ["x", "keep", "y"]


@pytest.mark.parametrize(
    ("cells", "held"),
    [
        ([[1, 2], [3]], "lists, e.g. [1, 2]"),
        ([{"k": 1}, {"k": 2}], "dicts (structs), e.g. {'k': 1}"),
        ([b"ab", b"cd"], "bytes, e.g. b'ab'"),
        ([np.array([1, 2]), np.array([3])], "lists (arrays), e.g. [1, 2]"),
        ([1, object()], "'object' objects"),
        (["a", None, (1, 2)], "lists (tuples), e.g. (1, 2)"),
    ],
)
def test_cells_that_are_not_scalars_are_named(cells, held):
    assert unsupported_values(pd.Series(cells, dtype=object)) == held


@pytest.mark.parametrize("cells", [["a", "b"], [1, "a", 2.5, None], [True, False], [pd.Timestamp(0), None]])
def test_scalar_cells_are_fine(cells):
    assert unsupported_values(pd.Series(cells, dtype=object)) is None


def test_parquet_list_struct_and_binary_columns_are_reported_not_refused(tmp_path):
    path = tmp_path / "nested.parquet"
    pd.DataFrame(
        {"tags": [[1, 2], [3], []], "meta": [{"k": 1}, {"k": 2}, {"k": 3}], "raw": [b"a", b"b", b"c"], "y": [0, 1, 0]}
    ).to_parquet(path)
    checked = check_table(read_table(path), "y")
    assert set(checked.unsupported) == {"tags", "meta", "raw"}
    assert frame_fingerprint(checked.frame).startswith("sha256:")  # lists cannot be hashed as they are


def test_a_target_holding_lists_or_mixed_kinds_or_measures_is_refused():
    with pytest.raises(DataError, match="target column 'y' holds lists"):
        check_table(pd.DataFrame({"x": [1, 2], "y": [[0], [1]]}), "y")
    with pytest.raises(DataError, match=r"target column 'y' mixes numbers \(e.g. 1\) and text \(e.g. 'a'\)"):
        check_table(pd.DataFrame({"x": [1, 2, 3], "y": pd.Series([1, "a", 1], dtype=object)}), "y")
    with pytest.raises(DataError, match="target column 'y' holds 0.5, which is not a class label"):
        check_table(pd.DataFrame({"x": [1, 2, 3], "y": [0.5, 1.0, 0.0]}), "y", task="classification")
    # Without --task classification, measures are a regression's target.
    assert check_table(pd.DataFrame({"x": [1, 2, 3], "y": [0.5, 1.0, 0.0]}), "y").frame["y"].tolist() == [0.5, 1.0, 0.0]


def test_a_target_of_numbers_as_objects_gets_a_numeric_dtype_and_whole_floats_pass():
    checked = check_table(pd.DataFrame({"x": [1, 2, 3], "y": pd.Series([0, 1, 0], dtype=object)}), "y")
    assert checked.frame["y"].dtype == np.int64
    assert check_table(pd.DataFrame({"x": [1, 2, 3], "y": [0.0, 1.0, np.nan]}), "y").frame["y"].isna().sum() == 1


# --- scoring: the contract's check of rows ---------------------------------------------------------


@pytest.fixture
def contract():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "color": ["r", "g", "r", "g"], "y": [0, 1, 0, 1]})
    return DataContract.from_frame(frame, "y")


def test_rows_to_score_read_infinities_as_missing_values_and_count_them(contract):
    rows = pd.DataFrame({"x": [1.0, math.inf, -math.inf], "color": ["r", "g", "b"]})
    validated = contract.validate(rows)
    assert validated.infinite == {"x": 2}
    assert validated.features["x"].isna().tolist() == [False, True, True]
    preprocess = build_preprocess_pipeline(contract).fit(rows.iloc[:1])
    assert np.isfinite(preprocess.transform(rows).to_numpy()).all()


def test_rows_to_score_refuse_huge_numbers_and_cells_that_are_not_scalars_naming_the_column(contract):
    with pytest.raises(DataError, match=r"column 'x' holds 1e\+300 beyond ±1e\+150"):
        contract.validate(pd.DataFrame({"x": [1.0, 1e300], "color": ["r", "g"]}))
    with pytest.raises(DataError, match="feature column 'color' holds lists, e.g. \\['r'\\]; the model reads one text or number per cell"):
        contract.validate(pd.DataFrame({"x": [1.0, 2.0], "color": [["r"], ["g"]]}))
    with pytest.raises(DataError, match=r"feature column 'x' holds bytes.*one number per cell"):
        contract.validate(pd.DataFrame({"x": [b"1", b"2"], "color": ["r", "g"]}))


def test_a_missing_column_spelled_with_other_spaces_or_case_is_pointed_at(contract):
    with pytest.raises(DataError, match=r"missing feature columns: x \(the rows have ' X ' for 'x': names must match exactly"):
        contract.validate(pd.DataFrame({" X ": [1.0], "color": ["r"]}))


def test_values_that_are_not_numbers_are_named_as_plain_values(contract):
    with pytest.raises(DataError) as raised:
        contract.validate(pd.DataFrame({"x": pd.Series([1.0, "1,234"], dtype=object), "color": ["r", "g"]}))
    assert "x (1 value(s) not a number, e.g. '1,234')" in str(raised.value)
    assert "np." not in str(raised.value)


def test_model_inputs_stay_within_what_float32_models_take(contract):
    preprocess = build_preprocess_pipeline(contract).fit(pd.DataFrame({"x": [0.0, 1e-300], "color": ["r", "g"]}))
    out = preprocess.transform(pd.DataFrame({"x": [1e149], "color": ["r"]}))
    assert out["x"].iloc[0] == FEATURE_BOUND
    raw = build_preprocess_pipeline(contract, normalize=False).fit(pd.DataFrame({"x": [1e140, 2.0], "color": ["r", "g"]}))
    assert raw.transform(pd.DataFrame({"x": [1e140], "color": ["r"]}))["x"].iloc[0] == FEATURE_BOUND


@pytest.mark.parametrize("values", [["1,234.50", "12", None, "999"], ["3,5", "2,25"], ["1.234.567", "12"], ["1'000", "7"]])
def test_numbers_written_with_separators_are_refused_naming_the_column_and_an_example(values):
    frame = pd.DataFrame({"amount": pd.Series(values, dtype=object), "y": [0, 1] * (len(values) // 2)})
    with pytest.raises(DataError, match=r"column 'amount' holds numbers written with separators \(e.g. '"):
        check_table(frame, "y")


@pytest.mark.parametrize("values", [["12", "13"], ["a", "1,234"], ["123 456", "7"], ["1.2.3", "4"]])
def test_text_that_is_not_only_separated_numbers_passes(values):
    check_table(pd.DataFrame({"code": pd.Series(values, dtype=object), "y": [0, 1]}), "y")
