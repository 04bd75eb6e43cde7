pytest_plugins = ["e2e_common.testing"]
