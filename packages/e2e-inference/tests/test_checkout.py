def test_inference_env_has_common_and_inference_from_this_checkout(e2e_modules_from_checkout):
    assert "e2e_inference" in e2e_modules_from_checkout
    assert "e2e_training" not in e2e_modules_from_checkout
