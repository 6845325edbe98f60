"""Reading values off a query and pairing them with tool parameters."""

from __future__ import annotations

from runtime.triage.arguments import Entity, Kind, extract, fill, fit, value_kinds

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


def test_exporter_style_metric_names_are_promql_but_tool_identifiers_are_not() -> None:
    assert extract("current cpu temperature from node_hwmon_temp_celsius") == [
        Entity(Kind.PROMQL, "node_hwmon_temp_celsius")
    ]
    assert extract("alerts for http_request_duration_seconds_bucket") == [
        Entity(Kind.PROMQL, "http_request_duration_seconds_bucket")
    ]
    assert extract("find code on github that calls talos_machine_configuration_apply") == []


def test_an_expression_stays_whole_across_spaces() -> None:
    assert extract("sum by (job) (up) == 0") == [Entity(Kind.PROMQL, "sum by (job) (up) == 0")]
    assert extract("run rate(http_requests_total[5m]) > 10 on prom") == [
        Entity(Kind.PROMQL, "rate(http_requests_total[5m]) > 10")
    ]


def test_a_label_selector_is_logql_when_the_question_is_about_logs() -> None:
    assert extract('bytes of logs from {namespace="media"} today') == [
        Entity(Kind.LOGQL, '{namespace="media"}')
    ]
    assert extract('{app="x"} |= "error"') == [Entity(Kind.LOGQL, '{app="x"} |= "error"')]
    assert extract('up{job="node"} == 0') == [Entity(Kind.PROMQL, 'up{job="node"} == 0')]


def test_table_names_are_values_and_dotted_names_need_a_tld_to_be_hosts() -> None:
    assert extract("describe table public.users") == [Entity(Kind.TABLE, "public.users")]
    assert extract("delete rows older than 90 days from audit_log") == [
        Entity(Kind.TABLE, "audit_log"),
        Entity(Kind.QUANTITY, 90),  # a bare number: fills numeric parameters, ranks nothing
    ]
    assert extract("views in the reporting schema") == []
    hosts = [e.value for e in extract("compare nas.home.arpa, grafana.lan and git.example.com")]
    assert hosts == ["nas.home.arpa", "grafana.lan", "git.example.com"]


def test_versions_and_repositories() -> None:
    assert extract("release notes for cilium v1.16.0") == [Entity(Kind.VERSION, "v1.16.0")]
    assert extract("who can push to jdoe/homelab") == [Entity(Kind.REPO, "jdoe/homelab")]
    assert extract("a plugin that can show NUT/UPS data") == []  # an acronym pair, no repo


def test_time_spans_rank_tools_but_are_never_filled_in() -> None:
    schema = {
        "type": "object",
        "properties": {"device_id": {"type": "string"}, "duration": {"type": "string"}},
    }
    found = extract("traffic of the office switch over the last week")
    assert found == [Entity(Kind.PERIOD, "over the last week")]
    assert fit(found, schema) == 1.0
    assert fill(found, schema) == ({}, [])


def test_bare_numbers_fill_exactly_as_many_numeric_parameters_and_nothing_else() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"],
    }
    assert fill(extract("add 2 and 3"), schema) == ({"a": 2, "b": 3}, [])
    assert fill(extract("add 2 and 3 and 4"), schema) == ({}, ["a", "b"])  # ambiguous
    assert value_kinds(extract("add 2 and 3")) == frozenset()  # no evidence for ranking


def test_a_port_and_localhost_fill_a_connectivity_check() -> None:
    schema = {
        "type": "object",
        "properties": {"host": {"type": "string"}, "port": {"type": "integer"}},
        "required": ["host", "port"],
    }
    assert fill(extract("is port 22 open on localhost"), schema) == (
        {"host": "localhost", "port": 22},
        [],
    )


def test_a_number_too_long_to_be_a_value_is_ignored_not_an_error() -> None:
    """Found by Schemathesis: an 8000-digit "number" once raised Python's int-size limit."""
    found = extract("add " + "9" * 8000 + " and 3")
    assert [e for e in found if e.kind is Kind.QUANTITY] == [Entity(Kind.QUANTITY, 3)]
