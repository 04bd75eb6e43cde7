import os

import pytest


def test_inference_env_has_common_inference_and_the_plugin_from_this_checkout(e2e_modules_from_checkout):
    assert {"e2e_common", "e2e_inference", "e2e_testing"} <= set(e2e_modules_from_checkout)


@pytest.mark.skipif(
    os.environ.get("E2E_ISOLATED_PACKAGE") != "inference", reason="only in the inference env of hatch.toml"
)
def test_the_inference_env_does_not_hold_training(e2e_modules_from_checkout):
    assert "e2e_training" not in e2e_modules_from_checkout
