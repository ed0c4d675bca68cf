"""wakebench composition root: the CLI and the rig daemon wire the layers together.

``API_VERSION`` is imported from :mod:`mqtt_bridge` on first use, so importing a light module
of this package (``wakebench.pytest_plugin``, loaded into every pytest run) stays light.
"""

from typing import Any

__version__ = "0.1.0"

__all__ = ["API_VERSION", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "API_VERSION":
        from mqtt_bridge import API_VERSION  # one source: bridge/info and asyncapi.yaml use it too

        return API_VERSION
    raise AttributeError(f"module 'wakebench' has no attribute {name!r}")
