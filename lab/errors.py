"""The lab's user-facing errors: each names where it is and what is wrong."""


class Located(Exception):
    """An error at a place (``where``) with what is wrong there (``reason``); it pickles whole, so
    a child process's error reaches its parent as itself."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason

    def __reduce__(self):
        return type(self), (self.where, self.reason)


class BadInput(Located):
    """Input the user can fix.

    Args:
        where: ``FILE:LINE`` for a file, ``--option`` for an argument, or a run id.
        reason: what is wrong there, in words.
    """


class StoreError(Located):
    """A place the lab must write to or reach cannot be used: a full disk, a read-only or
    unwritable folder, a tracking server that does not answer, traces the store did not keep.

    Args:
        where: the file, folder or server URI, or a run id.
        reason: what is wrong there and what to do, in words.
    """
