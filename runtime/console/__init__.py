"""The web console: the fleet at a glance, served by the gateway at ``/``.

Server-rendered pages (Jinja2), one small script for live refresh and confirmations, all
assets inside the package — no CDN, no build step, works on an air-gapped cluster.

* Reads and actions the public API offers go through that API, in-process
  (:mod:`runtime.console.fleet_api`): same security, scopes, audit.
* What only the data layer holds (audit log, discovery's notes, tokens) is read from the
  stores in :mod:`runtime.store`; the viewer's access is always ``Principal.allows``.
* Sign-in is the host's gate (:mod:`runtime.console.gate`) with an HttpOnly,
  SameSite=Strict cookie (:mod:`runtime.console.session`); forms carry a CSRF token.

The host (``mcpfleet.composition``) mounts :class:`ConsoleHost`'s routers and lifespan.
"""

from runtime.console.gate import Denied, Gate, Viewer
from runtime.console.host import ConsoleHost
from runtime.console.rendering import CONTENT_SECURITY_POLICY

__all__ = ["CONTENT_SECURITY_POLICY", "ConsoleHost", "Denied", "Gate", "Viewer"]
