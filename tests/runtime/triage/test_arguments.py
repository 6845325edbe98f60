"""Reading values off a query and pairing them with tool parameters."""

from __future__ import annotations

from runtime.triage.arguments import Entity, Kind, extract, fill, fit

PING = {
    "type": "object",
    "properties": {
        "host": {"type": "string", "description": "IP address or hostname"},
        "count": {"type": "integer"},
    },
    "required": ["host"],
}
VM = {
    "type": "object",
    "properties": {"node": {"type": "string"}, "vmid": {"type": "string"}},
    "required": ["node", "vmid"],
}


def test_values_of_each_kind_are_recognised() -> None:
    found = extract(
        "block aa:bb:cc:dd:ee:ff at 10.0.0.7, see https://x.example/a and mail ops@example.com"
    )
    kinds = {e.kind: e.value for e in found}
    assert kinds[Kind.MAC] == "aa:bb:cc:dd:ee:ff"
    assert kinds[Kind.IP] == "10.0.0.7"
    assert kinds[Kind.URL] == "https://x.example/a"
    assert kinds[Kind.EMAIL] == "ops@example.com"


def test_promql_sql_paths_namespaces_and_vm_ids_are_recognised() -> None:
    assert Entity(Kind.PROMQL, "rate(http_requests_total[5m])") in extract(
        "run rate(http_requests_total[5m]) please"
    )
    assert extract("explain select * from orders where id = 5")[0].kind is Kind.SQL
    assert Entity(Kind.PATH, "/etc/os-release") in extract("read /etc/os-release on cp2")
    assert Entity(Kind.NAMESPACE, "media") in extract("pods in the media namespace")
    assert Entity(Kind.VMID, 105) in extract("start vm 105 on pve1")
    assert Entity(Kind.NODE, "pve1") in extract("start vm 105 on pve1")


def test_an_unambiguous_value_fills_its_parameter_and_the_rest_are_named() -> None:
    arguments, missing = fill(extract("ping 1.1.1.1 from the router"), PING)
    assert arguments == {"host": "1.1.1.1"}
    assert missing == []
    arguments, missing = fill(extract("ping the nas"), PING)
    assert arguments == {}
    assert missing == ["host"]


def test_values_are_cast_to_the_parameter_type() -> None:
    arguments, missing = fill(extract("start vm 105 on pve1"), VM)
    assert arguments == {"node": "pve1", "vmid": "105"}
    assert missing == []


def test_two_values_of_one_kind_are_not_guessed_between() -> None:
    arguments, missing = fill(extract("ping 10.0.0.1 or 10.0.0.2"), PING)
    assert arguments == {}
    assert missing == ["host"]


def test_fit_is_the_share_of_named_values_some_parameter_takes() -> None:
    assert fit(extract("ping 10.0.0.1"), PING) == 1.0
    assert fit(extract("ping 10.0.0.1 from aa:bb:cc:dd:ee:ff"), PING) == 0.5
    assert fit(extract("ping the nas"), PING) == 0.0
