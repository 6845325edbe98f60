"""Values a query spells out (an IP, a MAC, a VM id, a namespace, a PromQL expression...)
and the tool parameters they fit.

Used twice: to rank (a tool that can take what the query names fits better than one that
cannot) and to fill arguments, only where a value and a parameter pair up unambiguously —
otherwise the decision names the required arguments still needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from runtime.triage.terms import words

__all__ = [
    "Entity",
    "Kind",
    "accepted_kinds",
    "extract",
    "fill",
    "fit",
    "kind_mask",
    "parameter_kinds",
    "value_kinds",
]


class Kind(StrEnum):
    IP = "ip"
    CIDR = "cidr"
    MAC = "mac"
    UUID = "uuid"
    ID = "id"  # an opaque object id: 24 hex digits (UniFi, MongoDB), a commit sha...
    URL = "url"
    EMAIL = "email"
    HOST = "host"
    PATH = "path"
    PROMQL = "promql"
    LOGQL = "logql"
    SQL = "sql"
    VMID = "vmid"
    NUMBER = "number"
    NAMESPACE = "namespace"
    NODE = "node"
    REPO = "repo"
    VERSION = "version"
    TABLE = "table"
    PERIOD = "period"  # a time span: "over the last week", "last 3h at 1m resolution"
    QUOTED = "quoted"
    QUANTITY = "quantity"  # a bare number ("add 2 and 3"): fills numeric parameters only


@dataclass(frozen=True)
class Entity:
    kind: Kind
    value: str | int | float


_PATTERNS: list[tuple[Kind, re.Pattern[str]]] = [
    (Kind.URL, re.compile(r"\bhttps?://[^\s\"'<>]+")),
    (Kind.EMAIL, re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    (Kind.MAC, re.compile(r"\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b", re.I)),
    (
        Kind.UUID,
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
    ),
    (Kind.ID, re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{12,40}\b", re.I)),
    (Kind.CIDR, re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}/\d{1,2}\b")),
    (Kind.IP, re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b(?!/)")),
    (
        Kind.SQL,
        re.compile(
            r"\b(?:select|insert into|update|delete from|with)\b.+\b(?:from|set|into|where|as)\b.*",
            re.I,
        ),
    ),
]
#: A PromQL expression: a range selector, a function call, a label matcher, or a metric
#: name in exporter style (a known prefix, or a unit/type suffix) — not any snake_case word,
#: which would also catch tool names like ``talos_machine_configuration_apply``.
_PROMQL = re.compile(
    r"[a-z_:][a-z0-9_:]*(?:\{[^}]*\})?\[\d+[smhdw]\]|\b(?:rate|irate|increase|sum|avg|max|min|"
    r"count|histogram_quantile|topk|bottomk|absent|delta|deriv)\s*\("
    r"|\b(?:sum|avg|max|min|count|topk|bottomk)\s+(?:by|without)\s*\("
    r"|(?:\b[a-z_:][a-z0-9_:]*)?\{\s*[a-z_]\w*\s*(?:=~|!=|!~|=)\s*\""
    r"|\b(?:node|kube|container|process|go|prometheus|up|probe|http|grpc|apiserver|etcd|"
    r"coredns|kubelet|cadvisor|machine|scrape|alertmanager|cilium|traefik|caddy|blackbox|"
    r"windows|nginx|pg|mysql|redis)_[a-z0-9_:]+"
    r"|\b[a-z]+(?:_[a-z0-9]+)*_(?:total|seconds|bytes|celsius|ratio|count|sum|bucket|info|"
    r"percent|milliseconds|volts|watts|amperes|joules|hertz|errors|requests)\b",
    re.I,
)
_CONTINUES = re.compile(
    r"\s+(?:\||(?:by|without|on|ignoring|group_left|group_right)\s*\(|offset\b|[(=!<>+*/%-]|"
    r"\"[^\"]*\"(?:\s|$)|[0-9.]+(?:\s|$))"
)
_LOG_PIPELINE = re.compile(r"\|[=~]|\|\s*(?:json|logfmt|pattern|regexp|line_format)\b")
_LOG_WORDS = re.compile(r"\b(?:logs?|loki|lines?|logql)\b", re.I)
_HOST = re.compile(r"\b(?=[a-z0-9-]*[a-z])[a-z0-9-]+(?:\.[a-z0-9-]+)+\b|\blocalhost\b", re.I)
_QUANTITY = re.compile(r"(?<![\w./:#-])\d{1,15}(?:\.\d{1,15})?(?![\w./:%-])")  # no bignums
_FILE_PATH = re.compile(r"(?:(?<=\s)|^)(/[\w.-]+(?:/[\w.*-]*)*|[\w.-]+(?:/[\w.-]+)+\.[a-z]{2,5})\b")
_VMID = re.compile(r"\b(?:vm|vmid|ct|lxc|container|guest)\s*#?(\d{3,9})\b", re.I)
_NUMBER = re.compile(r"(?:#|\b(?:pr|issue|pull request|number|no\.?|port)\s*#?)(\d{1,6})\b", re.I)
_NAMESPACE = re.compile(
    r"\b(?:in|from)\s+(?:the\s+)?([a-z0-9][a-z0-9-]*)\s+namespace\b|\bnamespace\s+([a-z0-9][a-z0-9-]*)\b"
    r"|\bns\s+([a-z0-9][a-z0-9-]*)\b|\s-n\s+([a-z0-9][a-z0-9-]*)\b",
    re.I,
)
_NODE = re.compile(r"\b(?:on|node|nodes|host)\s+([a-z]{1,6}-?\d{1,3})\b", re.I)
_REPO = re.compile(r"\b([a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9_.-]*)\b(?!\.[a-z]{2,5}\b)", re.I)
_VERSION = re.compile(r"(?<![\w./-])v\d+\.\d+(?:\.\d+)?(?:-[\w.]+)?\b")
#: Last labels that make a dotted name a host, not ``schema.table`` or ``file.txt``.
_TLDS = frozenset(
    {
        "com",
        "net",
        "org",
        "io",
        "dev",
        "app",
        "ai",
        "co",
        "me",
        "info",
        "biz",
        "xyz",
        "cloud",
        "tech",
        "site",
        "online",
        "lan",
        "local",
        "home",
        "arpa",
        "internal",
        "lab",
        "localdomain",
        "intra",
        "corp",
        "test",
        "example",
        "invalid",
        "svc",
        "cluster",
        "de",
        "uk",
        "eu",
        "nz",
        "au",
        "ch",
        "nl",
        "fr",
        "at",
        "be",
        "se",
        "no",
        "dk",
        "fi",
        "es",
        "it",
        "pl",
        "cz",
        "us",
        "ca",
        "jp",
        "cn",
        "in",
        "br",
        "ru",
    }
)
_TABLE = re.compile(
    r"\b([a-z_][\w$]*\.[a-z_][\w$]*)\s+(?:table|view)\b|\bthe\s+([a-z_][\w$]*)\s+(?:table|view)\b"
    r"|\b(?:table|tables|view|views|relation)\s+([a-z_][\w$]*(?:\.[a-z_][\w$]*)?)"
    r"|\b(?:from|into|update|join|truncate)\s+([a-z_][\w$]*(?:_[\w$]+|\.[a-z_][\w$]*))",
    re.I,
)
_UNIT = (
    r"(?:\d+\s*)?(?:[smhdw]|secs?|seconds?|mins?|minutes?|hours?|hrs?|days?|weeks?|months?|"
    r"years?)"
)
_PERIOD = re.compile(
    rf"\b(?:over|in|for|during|within|across) (?:the )?(?:last|past|previous) {_UNIT}\b"
    rf"|\b(?:last|past) \d+\s*{_UNIT}\b|\b\d+[smhdw] (?:resolution|step|steps|intervals?)\b"
    r"|\bper (?:second|minute|hour|day|week|month)\b|\bsince (?:yesterday|last|\d)"
    r"|\b(?:trend|trends|history|historical|over time|time series|timeseries)\b",
    re.I,
)
_NOT_TABLE = frozenset(
    {
        "in",
        "on",
        "of",
        "for",
        "with",
        "from",
        "the",
        "a",
        "an",
        "that",
        "which",
        "and",
        "or",
        "to",
        "are",
        "is",
        "by",
        "where",
        "without",
        "owned",
        "older",
        "newer",
        "bigger",
        "larger",
        "size",
    }
)
_QUOTED = re.compile(r"[\"“']([^\"”']{2,80})[\"”']")
_NOT_NAMESPACE = frozenset({"the", "a", "this", "that", "which", "each", "every", "all", "same"})


def _is_host(name: str) -> bool:
    """A dotted name is a host when it ends in a known TLD or has three labels or more."""
    if name.lower() == "localhost":
        return True
    labels = name.lower().split(".")
    if len(labels) < 2 or all(label.isdigit() for label in labels):
        return False
    return labels[-1] in _TLDS or len(labels) >= 3


def _query_language(text: str, expression: str) -> Kind:
    """A bare ``{label="value"}`` selector is LogQL when the question is about logs."""
    if _LOG_PIPELINE.search(expression):
        return Kind.LOGQL
    if expression.lstrip("(").startswith("{") and _LOG_WORDS.search(text):
        return Kind.LOGQL
    return Kind.PROMQL


def _expression_at(text: str, start: int) -> tuple[int, int]:
    """The span of the query-language expression around ``start``.

    Whitespace ends it unless brackets are open or what follows continues the expression
    (a ``|`` pipeline stage, ``by (...)``, an operator): ``sum by (job) (up) == 0`` and
    ``{app="x"} |= "error"`` stay whole.
    """
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    depth, end = 0, start
    while end < len(text):
        if depth == 0 and text[end].isspace() and not _CONTINUES.match(text, end):
            break
        depth += text[end] in "([{"
        depth -= text[end] in ")]}"
        end += 1
    while end > start and text[end - 1] in ".,;?":
        end -= 1
    return start, end


def extract(text: str) -> list[Entity]:
    """Every value of a known kind spelled out in ``text``, in order of kind."""
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in taken)

    for m in _VERSION.finditer(text):
        taken.append(m.span())
        found.append(Entity(Kind.VERSION, m.group(0)))
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if free(m.span()):
                taken.append(m.span())
                found.append(Entity(kind, m.group(0).rstrip(".,;")))
    promql = _PROMQL.search(text)
    if promql and not any(e.kind is Kind.SQL for e in found):
        span = _expression_at(text, promql.start())
        expression = text[span[0] : span[1]]
        taken.append(span)
        found.append(Entity(_query_language(text, expression), expression))
    for m in _QUOTED.finditer(text):
        if free(m.span()):
            taken.append(m.span())
            found.append(Entity(Kind.QUOTED, m.group(1)))
    for m in _FILE_PATH.finditer(text):
        if free(m.span()):
            taken.append(m.span())
            found.append(Entity(Kind.PATH, m.group(1)))
    for m in _TABLE.finditer(text):
        group = next(g for g in range(1, 6) if m.group(g))
        name, span = m.group(group), m.span(group)
        if free(span) and not _is_host(name) and name.lower() not in _NOT_TABLE:
            taken.append(span)
            found.append(Entity(Kind.TABLE, name))
    for m in _HOST.finditer(text):
        if free(m.span()) and _is_host(m.group(0)):
            taken.append(m.span())
            found.append(Entity(Kind.HOST, m.group(0)))
    for m in _REPO.finditer(text):
        if free(m.span()) and not m.group(1).replace("/", "").isupper():  # TCP/UDP, NUT/UPS
            taken.append(m.span())
            found.append(Entity(Kind.REPO, m.group(1)))
    period = _PERIOD.search(text)
    if period:
        found.append(Entity(Kind.PERIOD, period.group(0)))
    for m in _VMID.finditer(text):
        found.append(Entity(Kind.VMID, int(m.group(1))))
    for m in _NUMBER.finditer(text):
        found.append(Entity(Kind.NUMBER, int(m.group(1))))
    for m in _NAMESPACE.finditer(text):
        name = next(g for g in m.groups() if g)
        if name.lower() not in _NOT_NAMESPACE:
            found.append(Entity(Kind.NAMESPACE, name))
    for m in _NODE.finditer(text):
        found.append(Entity(Kind.NODE, m.group(1)))
    numbers = {e.value for e in found if isinstance(e.value, int)}
    for m in _QUANTITY.finditer(text):
        if free(m.span()):
            value = float(m.group(0)) if "." in m.group(0) else int(m.group(0))
            if value not in numbers:
                found.append(Entity(Kind.QUANTITY, value))
    return found


# Which parameter names take which kinds of value (words of the name, lower case).
_NAME_KINDS: list[tuple[frozenset[str], frozenset[Kind]]] = [
    (frozenset({"mac"}), frozenset({Kind.MAC})),
    (frozenset({"uuid"}), frozenset({Kind.UUID})),
    (frozenset({"id", "ids", "uid", "sha", "ref"}), frozenset({Kind.ID, Kind.UUID})),
    (frozenset({"url", "urls"}), frozenset({Kind.URL})),
    (frozenset({"email"}), frozenset({Kind.EMAIL})),
    (frozenset({"ip", "ips", "addr", "address"}), frozenset({Kind.IP})),
    (frozenset({"cidr", "cidrs", "subnet", "net", "ranges"}), frozenset({Kind.CIDR, Kind.IP})),
    (
        frozenset({"host", "hostname", "domain", "domains", "subjects", "fqdn"}),
        frozenset({Kind.HOST, Kind.IP}),
    ),
    (
        frozenset({"upstream", "upstreams", "target", "dial", "destination"}),
        frozenset({Kind.IP, Kind.HOST}),
    ),
    (frozenset({"path", "file", "filename"}), frozenset({Kind.PATH})),
    (frozenset({"promql", "expr", "expression"}), frozenset({Kind.PROMQL})),
    (frozenset({"logql"}), frozenset({Kind.LOGQL})),
    (frozenset({"sql"}), frozenset({Kind.SQL})),
    (frozenset({"vmid"}), frozenset({Kind.VMID})),
    (frozenset({"namespace"}), frozenset({Kind.NAMESPACE})),
    (frozenset({"nodes", "node"}), frozenset({Kind.NODE})),
    (frozenset({"repo"}), frozenset({Kind.REPO})),
    (frozenset({"tag", "version"}), frozenset({Kind.VERSION})),
    (
        frozenset(
            {
                "start",
                "end",
                "step",
                "since",
                "until",
                "duration",
                "period",
                "lookback",
                "granularity",
                "timerange",
            }
        ),
        frozenset({Kind.PERIOD}),
    ),
    (frozenset({"number", "pull", "port"}), frozenset({Kind.NUMBER})),
]


def _schema_properties(schema: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    props = schema.get("properties")
    if isinstance(props, Mapping):
        for name, spec in props.items():
            if isinstance(spec, Mapping):
                yield str(name), spec


def parameter_kinds(name: str, spec: Mapping[str, Any]) -> frozenset[Kind]:
    """Kinds of value a parameter takes, judged from its name and description."""
    name_words = set(words(name))
    kinds: set[Kind] = set()
    for keys, accepted in _NAME_KINDS:
        if name_words & keys:
            kinds |= accepted
    description = str(spec.get("description") or "").lower()
    if name_words & {"query", "queries", "selector", "matcher"}:
        if "logql" in description or "loki" in description:
            kinds.add(Kind.LOGQL)
        elif "promql" in description or "prometheus" in description:
            kinds.add(Kind.PROMQL)
        elif "sql" in description:
            kinds.add(Kind.SQL)
    if "table" in name_words or {"object", "name"} <= name_words:
        kinds.add(Kind.TABLE)
    if name_words == {"id"} and "uuid" in description:
        kinds.add(Kind.UUID)
    return frozenset(kinds)


def accepted_kinds(schema: Mapping[str, Any]) -> frozenset[Kind]:
    """Every kind of value some parameter of a tool can take."""
    accepted: set[Kind] = set()
    for name, spec in _schema_properties(schema):
        accepted |= parameter_kinds(name, spec)
    return frozenset(accepted)


_BITS = {kind: 1 << i for i, kind in enumerate(Kind)}


def kind_mask(kinds: frozenset[Kind] | set[Kind]) -> int:
    """Kinds as a bit mask, so many tools can be checked against a question at once."""
    mask = 0
    for kind in kinds:
        mask |= _BITS[kind]
    return mask


#: Values that say nothing about which tool is meant (a quoted phrase, a bare number).
_NOT_EVIDENCE = frozenset({Kind.QUOTED, Kind.QUANTITY})


def value_kinds(entities: list[Entity]) -> frozenset[Kind]:
    """The kinds of value a query names that can point at a tool (not bare quotes)."""
    return frozenset(e.kind for e in entities if e.kind not in _NOT_EVIDENCE)


def fit(entities: list[Entity], schema: Mapping[str, Any]) -> float:
    """Share of the query's values that some parameter of the tool can take (0 when none)."""
    if not entities:
        return 0.0
    accepted = accepted_kinds(schema)
    kinds = value_kinds(entities)
    if not kinds:
        return 0.0
    return len(kinds & accepted) / len(kinds)


def _cast(entity: Entity, spec: Mapping[str, Any]) -> Any:
    types = spec.get("type")
    type_list = types if isinstance(types, list) else [types]
    if "array" in type_list:
        return [entity.value]
    if "integer" in type_list and isinstance(entity.value, str) and entity.value.isdigit():
        return int(entity.value)
    if "string" in type_list and isinstance(entity.value, int):
        return str(entity.value)
    return entity.value


#: Kinds that rank tools but are never copied into arguments: a quoted phrase could be
#: anything, and "over the last week" is not what a ``start`` parameter takes.
_NOT_FILLED = frozenset({Kind.QUOTED, Kind.PERIOD, Kind.QUANTITY})


def fill(entities: list[Entity], schema: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Arguments that pair one value with one parameter unambiguously, and required ones left.

    A value is used only when it is the only one of its kind in the query and exactly one
    parameter takes that kind; anything less certain is left for the caller to ask about.
    """
    properties = dict(_schema_properties(schema))
    by_kind: dict[Kind, list[Entity]] = {}
    for e in entities:
        by_kind.setdefault(e.kind, []).append(e)
    arguments: dict[str, Any] = {}
    for kind, values in by_kind.items():
        if len(values) != 1 or kind in _NOT_FILLED:
            continue
        takers = [n for n, spec in properties.items() if kind in parameter_kinds(n, spec)]
        if len(takers) == 1 and takers[0] not in arguments:
            arguments[takers[0]] = _cast(values[0], properties[takers[0]])
    required = schema.get("required")
    required_names = [str(r) for r in (required if isinstance(required, list) else [])]
    _fill_quantities(by_kind.get(Kind.QUANTITY, []), properties, required_names, arguments)
    missing = [r for r in required_names if r not in arguments]
    return arguments, missing


def _fill_quantities(
    quantities: list[Entity],
    properties: Mapping[str, Mapping[str, Any]],
    required: list[str],
    arguments: dict[str, Any],
) -> None:
    """Bare numbers fill the required numeric parameters left, in order — only when there
    are exactly as many of each ("add 2 and 3" → a=2, b=3); anything else is asked for."""
    numeric = [
        name
        for name in required
        if name not in arguments
        and not parameter_kinds(name, properties.get(name, {}))
        and _is_numeric(properties.get(name, {}))
    ]
    if numeric and len(numeric) == len(quantities):
        for name, entity in zip(numeric, quantities, strict=True):
            value = entity.value
            integer = "integer" in _types(properties[name])
            arguments[name] = int(value) if integer and float(value).is_integer() else value


def _types(spec: Mapping[str, Any]) -> list[Any]:
    types = spec.get("type")
    return types if isinstance(types, list) else [types]


def _is_numeric(spec: Mapping[str, Any]) -> bool:
    return bool({"number", "integer"} & set(_types(spec)))
