pytest_plugins = [
    "tests.fixtures.infra",
    "tests.fixtures.procs",
    "tests.fixtures.logscan",
    "tests.fixtures.receiver",
    "tests.fixtures.emulator",
    "tests.fixtures.workers",
    "tests.fixtures.stack",
    "tests.fixtures.browser",
]
