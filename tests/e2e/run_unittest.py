"""Run one e2e test module as `python3 -m unittest -v MODULE` does, and tell CTest when it
tested nothing: exit 77 (the tests' SKIP_RETURN_CODE) when every test, or every test class,
was skipped, so `ctest` reports the module as skipped, with the reasons in its output,
rather than as passed. Any failure or error still exits 1."""
import sys
import unittest


def main():
    prog = unittest.main(module=None, argv=["run_unittest.py", "-v"] + sys.argv[1:],
                         exit=False)
    r = prog.result
    if not r.wasSuccessful():
        return 1
    skipped_tests = sum(1 for t, _ in r.skipped if isinstance(t, unittest.TestCase))
    if r.skipped and r.testsRun == skipped_tests:
        print("\nNothing was tested (every test skipped; reasons above): reported as skipped.")
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
