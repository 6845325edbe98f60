"""Training questions written from the fleet's own tool schemas, at index build.

The learned scorer (``scorer``) and the route model (``routing``) are trained on these,
never on an evaluation set. Each tool gets a few questions in the shapes operators use —
an imperative from its name ("show dhcp leases"), a fragment of what its description
says it does, a bare noun phrase, a question — with values of the kinds its parameters
take ("in namespace media", "vm 204", a PromQL expression) and, sometimes, the server's
software named. Words are dropped and swapped at random so that the scorer cannot learn
that the right tool is always the one sharing every word: real questions share few.

Deterministic for a given fleet and seed, so a rebuild of an unchanged fleet reproduces
the same model (and the stored one is simply reused).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runtime.triage.actions import Action, verb_class
from runtime.triage.arguments import Kind, accepted_kinds, parameter_kinds
from runtime.triage.documents import ToolDocument
from runtime.triage.terms import words

__all__ = ["SYNTHESIS_VERSION", "TrainingQuestion", "narrate", "rephrase", "synthesize"]

#: Bump when the generator changes, so stored models trained on older questions retrain.
SYNTHESIS_VERSION = 3


@dataclass(frozen=True)
class TrainingQuestion:
    """One generated question and the tool (``server/tool``) that answers it."""

    text: str
    key: str
    shape: str  # which template wrote it: name, summary, noun, question, detail


_VERBS: Mapping[Action, tuple[str, ...]] = {
    Action.READ: ("show", "list", "get", "show me", "display", "check", "give me", "find"),
    Action.CREATE: ("create", "add", "make", "set up a new"),
    Action.DELETE: ("delete", "remove", "drop", "get rid of"),
    Action.UPDATE: ("update", "change", "set", "edit", "modify"),
    Action.TOGGLE: ("enable", "disable", "turn on", "turn off"),
    Action.LIFECYCLE: ("restart", "stop", "start", "reboot"),
    Action.RUN: ("run", "execute", "trigger"),
}
_QUESTION_OPENERS = (
    "what are the",
    "which",
    "how many",
    "what is the",
    "any",
    "can you show the",
    "is there a",
)
_SKIP_OPENERS = re.compile(
    r"^(this tool |use this tool to |tool to |a tool (that|to) |returns? |retrieves? |gets? |"
    r"fetch(es)? |lists? |shows? |provides? |queries |query |searches |search )",
    re.I,
)
_CLAUSE_END = re.compile(r"[.;:(\[]| - | — |, (which|that|and|or|with|including|optionally)\b")

_SAMPLES: Mapping[Kind, tuple[str, ...]] = {
    Kind.IP: ("10.0.{a}.{b}", "192.168.{a}.{b}", "172.16.{a}.{b}"),
    Kind.CIDR: ("10.{a}.0.0/24", "192.168.{a}.0/24"),
    Kind.MAC: ("{m}",),
    Kind.UUID: ("3f2b9c1e-7d4a-4e8b-9c0d-{u}",),
    Kind.ID: ("{x}", "id {x}"),
    Kind.URL: ("https://git.example.com/{w}", "http://10.0.0.{a}:8080/{w}"),
    Kind.EMAIL: ("ops@example.com", "{w}@home.arpa"),
    Kind.HOST: ("nas.lab.home", "{w}.example.com", "grafana.home.arpa"),
    Kind.PATH: ("/var/log/{w}.log", "/etc/{w}/config.yaml", "config/{w}.json"),
    Kind.PROMQL: (
        "rate(http_requests_total[5m])",
        'up{{job="{w}"}}',
        "node_memory_MemAvailable_bytes",
        "sum by (pod) (rate(container_cpu_usage_seconds_total[5m]))",
        'sum(kube_pod_status_phase{{phase="Pending"}})',
        "increase(kube_pod_container_status_restarts_total[1h]) > 3",
        "count by (job) (up == 0)",
    ),
    Kind.LOGQL: ('{{app="{w}"}} |= "error"', '{{namespace="{w}"}} | json'),
    Kind.SQL: (
        "select * from {w} limit 10",
        "select count(*) from {w} where created_at > now() - interval '1 day'",
        "select status, count(*) from {w} group by status",
        "SELECT name, size FROM {w} ORDER BY size DESC LIMIT 5",
    ),
    Kind.VMID: ("vm {n}", "ct {n}", "vmid {n}"),
    Kind.NUMBER: ("#{s}", "number {s}"),
    Kind.NAMESPACE: ("in namespace {w}", "in the {w} namespace", "-n {w}"),
    Kind.NODE: ("on node w{d}", "on cp{d}", "on node worker-{d}"),
    Kind.REPO: ("homelab/{w}", "lab/gitops"),
    Kind.VERSION: ("v1.{d}.{a}", "v{d}.2.0"),
    Kind.TABLE: ("table public.{w}", "the {w} table"),
    Kind.PERIOD: ("over the last {d}h", "for the past week", "last 30 minutes", "since yesterday"),
}
_ASIDES = (
    ", the {thing} {where} is acting up",
    " because {thing} {where} looks wrong",
    " - we changed {thing} {where} yesterday",
    ", {thing} {where} depends on it",
    " so i can fix {thing} {where}",
)
_LANGUAGES = (Kind.PROMQL, Kind.LOGQL, Kind.SQL)
_PASTE_OPENERS = ("", "", "run", "query:", "can you run", "what does this return:")
_WORDS = ("media", "monitoring", "backup", "web", "orders", "users", "app", "nginx", "home")


def _sample(kind: Kind, rng: random.Random) -> str:
    template = rng.choice(_SAMPLES[kind])
    return template.format(
        a=rng.randint(1, 254),
        b=rng.randint(1, 254),
        d=rng.randint(1, 9),
        n=rng.randint(100, 999),
        s=rng.randint(1, 400),
        w=rng.choice(_WORDS),
        u=f"{rng.getrandbits(48):012x}",
        x=f"{rng.getrandbits(96):024x}",
        m=":".join(f"{rng.getrandbits(8):02x}" for _ in range(6)),
    )


def _properties(schema: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return []
    return [(str(n), s) for n, s in props.items() if isinstance(s, Mapping)]


def _value_phrase(
    schema: Mapping[str, Any], server_kinds: Sequence[Kind], rng: random.Random
) -> str:
    """A value the question names: usually one the tool takes, sometimes not.

    Real questions carry values the tool has no parameter for ("silence the alerts for
    namespace media"), and tools take values their parameter names do not reveal ("start
    ct 108" for a ``selector``): so one question in four names a value of a kind some
    other tool of the server takes, and one in five names none.
    """
    draw = rng.random()
    if draw < 0.2:
        return ""
    if draw < 0.45:
        kinds = [k for k in server_kinds if k in _SAMPLES]
        return _sample(rng.choice(kinds), rng) if kinds else ""
    props = _properties(schema)
    required = set(schema.get("required") or ())
    ordered = sorted(props, key=lambda p: (p[0] not in required, rng.random()))
    for name, spec in ordered:
        kinds = [k for k in sorted(parameter_kinds(name, spec)) if k in _SAMPLES]
        if kinds:
            return _sample(rng.choice(kinds), rng)
        enum = spec.get("enum")
        if isinstance(enum, list) and enum and name in required:
            return " ".join(words(str(rng.choice(enum))))
    return ""


def _clause(text: str) -> str:
    """The first clause of a sentence, without the "Returns ..." style opener."""
    text = _SKIP_OPENERS.sub("", text.strip())
    head = _CLAUSE_END.split(text, maxsplit=1)[0]
    return " ".join(head.split()[:14]).lower()


def _drop(phrase: str, rng: random.Random, share: float) -> str:
    """Drop about ``share`` of the words (never all of them)."""
    parts = phrase.split()
    if len(parts) < 3:
        return phrase
    kept = [w for w in parts if rng.random() >= share]
    return " ".join(kept or parts[:1])


def _split_name(document: ToolDocument) -> tuple[Action | None, str]:
    """The name's verb class and the rest of the name (the object)."""
    name = document.name_text.split()
    for i, word in enumerate(name[:2]):
        action = verb_class(word)
        if action is not None:
            rest = name[:i] + name[i + 1 :]
            return action, " ".join(rest) or " ".join(name)
    return None, " ".join(name)


def _server_phrase(names: Sequence[str], rng: random.Random) -> str:
    if not names or rng.random() > 0.3:
        return ""
    return f"{rng.choice(('on', 'in', 'from'))} {rng.choice(list(names))}"


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p).strip()


def _aside(others: Sequence[tuple[str, Sequence[str]]], rng: random.Random) -> str:
    """A clause about something else ("..., the dhcp leases on opnsense are acting up").

    Real questions carry context about other systems; the scorer must learn that the
    request is in the first clause, not in every word.
    """
    if not others or rng.random() > 0.25:
        return ""
    thing, names = rng.choice(others)
    where = f"on {rng.choice(list(names))}" if names and rng.random() < 0.7 else ""
    return rng.choice(_ASIDES).format(thing=thing, where=where).replace("  ", " ")


def _questions_for(
    document: ToolDocument,
    schema: Mapping[str, Any],
    server_names: Sequence[str],
    server_kinds: Sequence[Kind],
    others: Sequence[tuple[str, Sequence[str]]],
    rng: random.Random,
    per_tool: int,
) -> list[TrainingQuestion]:
    action, obj = _split_name(document)
    # Another verb of the same class than the name's own, so that the scorer learns the
    # class (read, delete, ...) rather than the word: operators rarely use the tool's verb.
    own = set(document.name_text.split())
    verbs = (
        tuple(v for v in _VERBS.get(action or Action.READ, _VERBS[Action.READ]) if v not in own)
        or _VERBS[Action.READ]
    )
    summary = _clause(document.summary) or obj
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", document.description) if len(s) > 20]
    detail = _clause(rng.choice(sentences[1:])) if len(sentences) > 1 else summary

    def value() -> str:
        return _value_phrase(schema, server_kinds, rng)

    where = _server_phrase(server_names, rng)
    shapes = [
        ("name", _join(rng.choice(verbs), obj, value(), where)),
        ("summary", _join(_drop(summary, rng, 0.3), value())),
        ("noun", _join(_drop(obj, rng, 0.2), value(), _server_phrase(server_names, rng))),
        (
            "question",
            _join(rng.choice(_QUESTION_OPENERS), _drop(summary, rng, 0.4), value()) + "?",
        ),
        ("detail", _join(_drop(detail, rng, 0.35), value())),
    ]
    languages = [k for k in sorted(accepted_kinds(schema)) if k in _LANGUAGES]
    if languages:
        # Operators paste the query itself: the executor answers it whatever its words.
        pasted = _sample(rng.choice(languages), rng)
        shapes[4] = ("pasted", _join(rng.choice(_PASTE_OPENERS), pasted))
    if action not in (None, Action.READ):
        # Writes are asked for as imperatives, not "which ...?" questions or bare nouns.
        shapes[2] = ("noun", _join(rng.choice(verbs), _drop(obj, rng, 0.2), value()))
        shapes[3] = ("name", _join(rng.choice(verbs), _drop(summary, rng, 0.3), value()))
    rng.shuffle(shapes)
    out: list[TrainingQuestion] = []
    seen: set[str] = set()
    for shape, text in shapes:
        text = " ".join(text.split())
        if len(words(text)) < 2 or text in seen:
            continue
        seen.add(text)
        out.append(TrainingQuestion(text=text, key=document.key, shape=shape))
        if len(out) == per_tool:
            break
    return out


def synthesize(
    documents: Sequence[ToolDocument],
    schemas: Sequence[Mapping[str, Any]],
    server_names: Mapping[str, Sequence[str]],
    *,
    per_tool: int = 4,
    seed: int = 2612,
) -> list[TrainingQuestion]:
    """``per_tool`` questions for every tool, reproducible for the same inputs and seed.

    ``server_names`` gives, per server, what an operator may call it ("opnsense", "the
    firewall"); ``schemas`` are the tools' input schemas in ``documents`` order.
    """
    kinds: dict[str, set[Kind]] = {}
    for document, schema in zip(documents, schemas, strict=True):
        kinds.setdefault(document.server, set()).update(accepted_kinds(schema))
    objects = [(_split_name(d)[1], server_names.get(d.server, ()), d.server) for d in documents]
    out: list[TrainingQuestion] = []
    for document, schema in zip(documents, schemas, strict=True):
        rng = random.Random(f"{seed}:{document.key}")
        names = server_names.get(document.server, ())
        server_kinds = sorted(kinds[document.server])
        others = [(o, n) for o, n, server in objects if server != document.server]
        sample = rng.sample(others, min(8, len(others)))
        out.extend(_questions_for(document, schema, names, server_kinds, sample, rng, per_tool))
    return out


_EVENTS = (
    "the upgrade",
    "the reboot",
    "we changed the config",
    "the power cut",
    "we moved the nas",
    "we added a node",
    "the firmware update",
    "we swapped the switch",
)
_WHEN = ("yesterday", "last night", "this morning", "on friday", "last week", "an hour ago")
_NARRATIONS = (
    "since {event} {when}, {question}",
    "{event} {when} and now: {question}",
    "{question} - asking because of {event} {when}",
    "{question}? it started after {event} {when}",
    "we did {event} {when}. {question}",
)


def narrate(
    questions: Sequence[TrainingQuestion], *, count: int, seed: int
) -> list[TrainingQuestion]:
    """``count`` of the questions told with context ("since the upgrade yesterday, ...").

    Operators explain what happened before they ask; a tool question that mentions what
    "we" did "yesterday" is still a tool question, not one about past conversations. The
    route model learns that from these.
    """
    rng = random.Random(f"{seed}:narrate")
    picked = rng.sample(list(questions), min(count, len(questions)))
    return [
        TrainingQuestion(
            text=rng.choice(_NARRATIONS).format(
                event=rng.choice(_EVENTS), when=rng.choice(_WHEN), question=q.text.rstrip("?")
            ),
            key=q.key,
            shape="narrated",
        )
        for q in picked
    ]


_AGAIN = ("", "", "again", "pls", "quickly", "once more", "now")


def rephrase(questions: Sequence[TrainingQuestion], *, seed: int) -> list[TrainingQuestion]:
    """Each question as an operator asks it again: a few words dropped or added.

    What a confirmed question is remembered for: the same need, asked another day in
    nearly the same words. Training on these teaches the scorer what a close remembered
    question is worth.
    """
    out = []
    for question in questions:
        rng = random.Random(f"{seed}:again:{question.text}")
        text = _join(_drop(question.text, rng, 0.25), rng.choice(_AGAIN))
        out.append(TrainingQuestion(text=text, key=question.key, shape="repeat"))
    return out
