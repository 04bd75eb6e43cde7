"""What --help shows of a settings class: plain sentences with defaults in words, groups, examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e_common.settings import DATA_GROUP, GATES_GROUP, E2ESettings, Section, option


class Inputs(Section):
    help_group = DATA_GROUP

    data: Path | None = option(None, "File to read.", metavar="FILE", default_text="the demo data")
    share: float = option(0.5, "Share to keep.", ge=0, le=1)


class Gates(Section):
    help_group = GATES_GROUP

    no_gate: bool = option(False, "Skip the gate.")


class Demo(E2ESettings, Gates, Inputs):
    """Do the demo thing.

    Not shown: only the first paragraph is the description.
    """

    cli_examples = "  demo --data x.csv\n"
    cli_version = "9.9.9"


def help_of(capsys) -> str:
    with pytest.raises(SystemExit) as leaving:
        Demo.from_cli(["--help"], prog="demo")
    assert leaving.value.code == 0
    return capsys.readouterr().out


def test_help_has_plain_sentences_defaults_in_words_groups_and_examples(capsys):
    text = help_of(capsys)
    squashed = " ".join(text.split())
    assert "Do the demo thing." in text and "Not shown" not in text
    assert "--data FILE File to read. Default: the demo data." in squashed
    assert "--share NUMBER Share to keep. Default: 0.5." in squashed
    assert "--no-gate Skip the gate." in squashed and "Skip the gate. Default" not in squashed
    assert "--no-notify-on-failure Do not send a message through the stack's alerter when the run fails." in squashed
    for internal in ("{Path,null}", "null", "default factory", "(default:"):
        assert internal not in text, internal
    groups = [line for line in text.splitlines() if line.endswith(" options:")]
    assert groups == ["data options:", "model options:", "gates options:", "runtime options:"]
    body = text[text.index("data options:"):]
    assert body.index("--data FILE") < body.index("model options:") < body.index("--model-name NAME")
    assert text.rstrip().endswith("examples:\n  demo --data x.csv")


def test_version_prints_the_program_and_its_version(capsys):
    with pytest.raises(SystemExit) as leaving:
        Demo.from_cli(["--version"], prog="demo")
    assert leaving.value.code == 0 and capsys.readouterr().out.strip() == "demo 9.9.9"


def test_the_options_still_parse_after_the_help_rework(tmp_path):
    parsed = Demo.from_cli(["--data", str(tmp_path / "a.csv"), "--share", "0.25", "--no-gate"])
    assert parsed.data == tmp_path / "a.csv" and parsed.share == 0.25 and parsed.no_gate
    assert Gates.of(parsed) == Gates(no_gate=True)
