"""The one error the spec tools raise for bad input: a line for the user, exit 2."""


class SpecError(Exception):
    """Bad input to the spec tools (unreadable file, not OpenAPI, an overlay action that
    matches nothing, ...). Its message is one line that names the problem."""
