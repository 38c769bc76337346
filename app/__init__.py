"""The cooperative's API: a Litestar application organised by feature."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("coop-platform")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
