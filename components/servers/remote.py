"""Remote servers run elsewhere: the gateway reads them from the catalog; only egress is added.

Nothing runs in the cluster for them, so the one object is a CiliumNetworkPolicy letting
the gateway's pods reach the entry's URLs (and whatever else its ``egress`` names).
"""

from __future__ import annotations

from catalog.model import RemoteServer
from catalog.naming import runtime_resource_name, selector
from components.meta import Manifest
from components.policies import cilium_egress, host_egress

__all__ = ["remote_egress"]


def remote_egress(server: RemoteServer) -> Manifest | None:
    cidrs, fqdns, ports = host_egress(server.egress, server.urls)
    return cilium_egress(
        selector(runtime_resource_name("gateway")), cidrs=cidrs, fqdns=fqdns, ports=ports
    )
