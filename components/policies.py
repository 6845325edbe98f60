"""Network policy specs: Kubernetes NetworkPolicy in-cluster, CiliumNetworkPolicy beyond it.

The namespace denies everything by default; each workload then gets exactly the peers its
catalog entry names. Kubernetes NetworkPolicy cannot name DNS names or the API server, so
egress to hosts, FQDNs and ``kube-apiserver`` is a ``CiliumNetworkPolicy`` (Cilium is the
CNI on Talos here); a pod's allowed traffic is the union of both kinds.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from catalog.model import Egress, Provider
from components.meta import Manifest

__all__ = [
    "SCRAPER_PEER",
    "allow_dns",
    "cilium_egress",
    "default_deny",
    "egress_to",
    "host_egress",
    "ingress_from",
    "pod_peer",
    "provider_hosts",
    "to_cidr",
]

_KUBE_DNS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
SCRAPER_PEER: Manifest = {
    "namespaceSelector": {},
    "podSelector": {
        "matchExpressions": [
            {
                "key": "app.kubernetes.io/name",
                "operator": "In",
                "values": ["prometheus", "vmagent"],
            }
        ]
    },
}
"""Prometheus (prometheus-operator) and vmagent (VictoriaMetrics) pods in any namespace."""

_PROVIDER_HOSTS = {
    "anthropic": "api.anthropic.com",
    "google": "generativelanguage.googleapis.com",
}


def pod_peer(match_labels: Mapping[str, str], namespace: str | None = None) -> Manifest:
    """A NetworkPolicy peer: pods with these labels (in another namespace if given)."""
    peer: Manifest = {"podSelector": {"matchLabels": dict(match_labels)}}
    if namespace is not None:
        peer["namespaceSelector"] = {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
    return peer


def _ports(ports: Iterable[int], protocol: str = "TCP") -> list[Manifest]:
    return [{"port": p, "protocol": protocol} for p in sorted(set(ports))]


def default_deny() -> Manifest:
    """Nothing in, nothing out, for every pod of the namespace; the rest are exceptions."""
    return {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def allow_dns() -> Manifest:
    """Every pod may ask the cluster DNS; nothing else follows from this."""
    return {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"to": [_KUBE_DNS], "ports": _ports([53], "UDP") + _ports([53], "TCP")}],
    }


def ingress_from(
    pods: Mapping[str, str], peers: Sequence[Manifest] | None, ports: Iterable[int]
) -> Manifest:
    """``pods`` accept connections on ``ports`` from ``peers`` only (``None``: from anywhere)."""
    rule: Manifest = {"ports": _ports(ports)}
    if peers is not None:
        rule["from"] = list(peers)
    return {
        "podSelector": {"matchLabels": dict(pods)},
        "policyTypes": ["Ingress"],
        "ingress": [rule],
    }


def egress_to(pods: Mapping[str, str], peers: Sequence[tuple[Manifest, Iterable[int]]]) -> Manifest:
    """``pods`` may open connections to each in-cluster peer on its ports."""
    return {
        "podSelector": {"matchLabels": dict(pods)},
        "policyTypes": ["Egress"],
        "egress": [
            {"to": [peer], **({"ports": _ports(ports)} if ports else {})} for peer, ports in peers
        ],
    }


def to_cidr(address: str) -> str:
    """A host address or network as CIDR (``10.0.0.1`` → ``10.0.0.1/32``)."""
    return str(ipaddress.ip_network(address, strict=False))


def _cilium_ports(ports: Iterable[int]) -> list[Manifest]:
    return [{"ports": [{"port": str(p), "protocol": "TCP"} for p in sorted(set(ports))]}]


def cilium_egress(
    endpoints: Mapping[str, str],
    *,
    cidrs: Iterable[str] = (),
    fqdns: Iterable[str] = (),
    ports: Iterable[int] = (),
    entities: Iterable[str] = (),
) -> Manifest | None:
    """A CiliumNetworkPolicy spec for egress leaving the namespace; ``None`` if nothing is.

    ``ports`` applies to the CIDRs and FQDNs (any port when empty); entities such as
    ``kube-apiserver`` are allowed on any port. FQDN rules come with the DNS-proxy rule
    Cilium needs to learn the names' addresses.
    """
    cidrs, fqdns, entities, ports = (
        sorted({to_cidr(c) for c in cidrs}),
        sorted(set(fqdns)),
        sorted(set(entities)),
        sorted(set(ports)),
    )
    rules: list[Manifest] = []
    port_rules = _cilium_ports(ports) if ports else []
    if cidrs:
        rules.append({"toCIDR": cidrs, **({"toPorts": port_rules} if port_rules else {})})
    if fqdns:
        rules.append(
            {
                "toEndpoints": [
                    {
                        "matchLabels": {
                            "k8s:io.kubernetes.pod.namespace": "kube-system",
                            "k8s:k8s-app": "kube-dns",
                        }
                    }
                ],
                "toPorts": [
                    {
                        "ports": [{"port": "53", "protocol": "ANY"}],
                        "rules": {"dns": [{"matchPattern": "*"}]},
                    }
                ],
            }
        )
        selectors = [{"matchPattern": f} if f.startswith("*") else {"matchName": f} for f in fqdns]
        rules.append({"toFQDNs": selectors, **({"toPorts": port_rules} if port_rules else {})})
    if entities:
        rules.append({"toEntities": entities})
    if not rules:
        return None
    return {"endpointSelector": {"matchLabels": dict(endpoints)}, "egress": rules}


def host_egress(egress: Egress, urls: Sequence[str] = ()) -> tuple[set[str], set[str], set[int]]:
    """(CIDRs, FQDNs, ports) an entry may reach: its ``egress`` plus the hosts of ``urls``."""
    cidrs, fqdns, ports = set(egress.cidrs), set(egress.fqdns), set(egress.ports)
    for url in urls:
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            cidrs.add(to_cidr(host))
        except ValueError:
            fqdns.add(host)
        ports.add(parts.port or (443 if parts.scheme == "https" else 80))
    return cidrs, fqdns, ports


def provider_hosts(providers: Iterable[Provider]) -> list[str]:
    """Public API hosts of the model providers; in-cluster base URLs are not egress."""
    hosts: set[str] = set()
    for provider in providers:
        if provider.base_url:
            host = urlsplit(provider.base_url).hostname or ""
            if host and not (host.endswith(".svc") or ".svc." in host or "." not in host):
                hosts.add(host)
        elif provider.type in _PROVIDER_HOSTS:
            hosts.add(_PROVIDER_HOSTS[provider.type])
    return sorted(hosts)
