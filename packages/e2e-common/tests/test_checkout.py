def test_common_env_has_common_and_the_plugin_from_this_checkout(e2e_modules_from_checkout):
    assert {"e2e_common", "e2e_testing"} <= set(e2e_modules_from_checkout)


def test_the_session_has_a_private_zenml_store():
    import os
    import tempfile
    from pathlib import Path

    store = Path(os.environ["ZENML_CONFIG_PATH"])
    assert store.parent.name.startswith("e2e-tests-") and store.parent.parent == Path(tempfile.gettempdir())
