"""The HTTP server: Mastra's API over our HTTP/1.1 server on Trio, as an actor."""

from actors.server.config import ServerConfig, TokenConfig
from actors.server.server import GetAddress, Server

__all__ = ["GetAddress", "Server", "ServerConfig", "TokenConfig"]
