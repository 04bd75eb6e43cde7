import os

import pytest


def test_training_env_has_common_training_and_the_plugin_from_this_checkout(e2e_modules_from_checkout):
    assert {"e2e_common", "e2e_training", "e2e_testing"} <= set(e2e_modules_from_checkout)


@pytest.mark.skipif(
    os.environ.get("E2E_ISOLATED_PACKAGE") != "training", reason="only in the training env of hatch.toml"
)
def test_the_training_env_does_not_hold_inference(e2e_modules_from_checkout):
    assert "e2e_inference" not in e2e_modules_from_checkout
