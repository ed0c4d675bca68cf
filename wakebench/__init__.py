"""wakebench composition root: the CLI and the rig daemon wire the layers together."""

__version__ = "0.1.0"
API_VERSION = 1

__all__ = ["API_VERSION", "__version__"]
