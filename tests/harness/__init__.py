"""Test harness for Haven: private XMPP servers, an asyncio test client, the component process.

- :mod:`tests.harness.servers`: :class:`ProsodyServer`, :class:`EjabberdServer`.
- :mod:`tests.harness.client`: :class:`TestClient` and stanza predicates.
- :mod:`tests.harness.component`: :class:`HavenProcess` and the TOML config writer.
"""

from __future__ import annotations

from tests.harness.client import TestClient, is_iq, is_message, is_presence, status_codes
from tests.harness.component import DEFAULT_ROOMS, HavenProcess, component_available, dump_toml
from tests.harness.servers import EjabberdServer, ProsodyServer, ServerStartError, XMPPServer

__all__ = [
    "DEFAULT_ROOMS",
    "EjabberdServer",
    "HavenProcess",
    "ProsodyServer",
    "ServerStartError",
    "TestClient",
    "XMPPServer",
    "component_available",
    "dump_toml",
    "is_iq",
    "is_message",
    "is_presence",
    "status_codes",
]
