"""Errors a user can fix. The command line prints them as one line and exits 1."""


class OmniDiffError(Exception):
    """A failure the user can fix (bad input, missing file, missing tool): one-line message."""


class StoreError(OmniDiffError):
    """A store cannot be created, opened or written as asked."""


class UnknownChangeType(OmniDiffError, KeyError):
    """A change-type label that is neither a taxonomy key nor one of its aliases."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown change type"
