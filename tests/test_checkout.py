def test_all_three_packages_and_the_plugin_come_from_this_checkout(e2e_modules_from_checkout):
    assert sorted(e2e_modules_from_checkout) == ["e2e_common", "e2e_inference", "e2e_testing", "e2e_training"]
