"""Shared by the end-to-end tests (tests/integration/test_*.py): a tally of named checks that
prints each failure with its detail, so every test reports the same way."""


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []

    def check(self, ok, name, detail=''):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(name)
            print(f'FAIL: {name}' + (f'\n      {detail}' if detail else ''))
        return ok
