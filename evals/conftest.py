from harness.plugin import start_eval_run


def pytest_configure(config):
    # Only runs that include evals/ load the suite; a bad suite stops here with one line.
    start_eval_run(config)
