"""How a stream's sync reports that it had to stop."""


class StreamFailed(Exception):
    """The stream stopped; the message names the stream, the page URL and the problem.

    Everything landed before the failing page stays committed."""
