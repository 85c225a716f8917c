"""The one exception type commands raise for failures the user can act on."""

from __future__ import annotations


class UserFacingError(Exception):
    """An expected failure whose message tells the user what to do; exits with ``exit_code``.

    The console script prints it as one line, without a traceback.
    """

    exit_code = 2
