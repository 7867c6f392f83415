"""libvirt-python's own test suite (its sdist's tests/ directory) run
against one daemon: every URI the tests open on the test driver
("test:///default", or "test://" + a file of their own) is rewritten onto
the daemon's remote URI, then unittest discovery runs the directory and
prints one line per test, "<test id> <outcome>" with outcome one of pass,
fail, error, skip; each failure's traceback goes to stderr.

usage: libvirt_python_suite.py TESTS_DIR URI_TEMPLATE
URI_TEMPLATE holds "{path}", e.g. "test+tcp://127.0.0.1:16509{path}" or
"test+unix://{path}?socket=/run/x/libvirt-sock"; "test:///default" becomes
the template with {path} = "/default".
"""

import sys
import unittest

import libvirt

TEST_SCHEME = "test://"


def remote_uri(template, uri):
    if uri is None or not uri.startswith(TEST_SCHEME):
        return uri
    return template.format(path=uri[len(TEST_SCHEME):])


def point_opens_at(template):
    """Wrap libvirt's open functions (module-level, as the tests call them)
    so a test-driver URI reaches the daemon."""
    for name in ("open", "openReadOnly", "openAuth"):
        original = getattr(libvirt, name)

        def wrapped(uri=None, *rest, _original=original):
            return _original(remote_uri(template, uri), *rest)

        setattr(libvirt, name, wrapped)


class OutcomeResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = []

    def addSuccess(self, test):
        super().addSuccess(test)
        self.outcomes.append((test.id(), "pass"))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.outcomes.append((test.id(), "fail"))

    def addError(self, test, err):
        super().addError(test, err)
        self.outcomes.append((test.id(), "error"))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.outcomes.append((test.id(), "skip"))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.outcomes.append((test.id(), "pass"))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.outcomes.append((test.id(), "fail"))


def main():
    tests_dir, template = sys.argv[1], sys.argv[2]
    point_opens_at(template)
    sys.path.insert(0, tests_dir)
    suite = unittest.defaultTestLoader.discover(tests_dir, top_level_dir=tests_dir)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=OutcomeResult)
    result = runner.run(suite)
    for test_id, outcome in sorted(result.outcomes):
        print(test_id, outcome)
    # A module that failed to import shows as an error of its loader's
    # stand-in test, so it is in the table too.
    print("done")


if __name__ == "__main__":
    main()
