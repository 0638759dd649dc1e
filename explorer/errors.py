"""The explorer's one user-facing error type: a mistake the musician can fix, said in one sentence."""


class UserError(Exception):
    """Bad input from a person or a script (no melody loaded yet, a number out of range, a broken link).

    str(e) is shown as it is. Any other exception reaching the UI is a bug: it is logged, not dressed up.
    """
