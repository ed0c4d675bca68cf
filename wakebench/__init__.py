"""wakebench composition root: the CLI and the rig daemon wire the layers together."""

from mqtt_bridge import API_VERSION  # one source: bridge/info and asyncapi.yaml use it too

__version__ = "0.1.0"

__all__ = ["API_VERSION", "__version__"]
