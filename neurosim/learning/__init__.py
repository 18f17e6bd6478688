"""Learning rules that train a network online or offline (FORCE's recursive least squares lives in ``rls``)."""

from . import rls  # noqa: F401
