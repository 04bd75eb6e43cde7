def test_e2e_modules_come_from_this_checkout(e2e_modules_from_checkout):
    assert "e2e_common" in e2e_modules_from_checkout
