"""What a query asks to *do*, and what a tool does, as a few action classes.

Large tool lists are full of near-twins: ``list_backups`` / ``create_backup`` /
``delete_backup``. Their text is almost the same; what tells them apart is the action. A
question or a bare noun phrase ("pods in media", "is the tunnel up?") wants a read; an
imperative ("restart containerd on w1") wants that action. Tools get their classes from
the verbs in their name (else the first words of their description, else readOnlyHint).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from runtime.triage.documents import ToolDocument
from runtime.triage.terms import words

__all__ = ["Action", "agreement", "query_actions", "tool_actions", "verb_class"]


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    DELETE = "delete"
    UPDATE = "update"
    TOGGLE = "toggle"
    LIFECYCLE = "lifecycle"
    RUN = "run"


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_VERBS: dict[Action, frozenset[str]] = {
    Action.READ: _wordset(
        "list get show search query find describe check lookup read fetch analyze analyse ls "
        "explain view inspect count display print tail watch top poll summarize summarise "
        "browse discover retrieve return report audit"
    ),
    Action.CREATE: _wordset(
        "create add new install clone download push fork duplicate authorize provision make "
        "generate register import adopt take snapshot backup authorise allow grant permit "
        "admit whitelist allowlist"
    ),
    Action.DELETE: _wordset(
        "delete remove uninstall forget revoke clear wipe purge drop destroy erase archive "
        "unauthorize prune kill"
    ),
    Action.UPDATE: _wordset(
        "update set configure rename move patch apply replace reorder mark assign edit change "
        "modify upgrade renew refresh reload rotate adjust resize scale merge submit "
        "acknowledge ack resolve close reopen approve silence unsilence escalate snooze "
        "redownload resync sync commit"
    ),
    Action.TOGGLE: _wordset("toggle enable disable block unblock pause resume mute"),
    Action.LIFECYCLE: _wordset(
        "start stop restart reboot shutdown reset cancel retry rollback restore halt "
        "kick reconnect bounce cycle"
    ),
    Action.RUN: _wordset(
        "execute exec run trigger ping traceroute test validate reconfigure confirm convert adapt"
    ),
}
_CLASS_OF: dict[str, Action] = {verb: action for action, verbs in _VERBS.items() for verb in verbs}

#: Words that open a question or a request to see something: the query wants a read.
_READ_OPENERS = _wordset(
    "is are was were does do did which what who whom whose how when where why whats "
    "show list get display find give tell any has have"
)
#: Words before the verb that do not change what is asked ("please restart", "can you add").
_POLITE = _wordset("please pls plz can could would will you u just quickly now force go bitte")
#: Verbs whose class depends on a particle later in the sentence ("switch the ssid off").
_PARTICLE_VERBS = _wordset("switch turn schalte schalt")
_PARTICLES = {"off": Action.TOGGLE, "on": Action.TOGGLE, "aus": Action.TOGGLE, "ein": Action.TOGGLE}


#: Two-word verbs, joined before classification ("roll back" is not "back").
_PHRASES = {
    "back up": "backup",
    "roll back": "rollback",
    "shut down": "shutdown",
    "turn on": "enable",
    "turn off": "disable",
    "switch on": "enable",
    "switch off": "disable",
    "power on": "start",
    "power off": "stop",
    "power cycle": "cycle",
    "look up": "lookup",
    "set up": "configure",
    "spin up": "create",
    "tear down": "delete",
    "kick off": "trigger",
    "fire off": "trigger",
    "open a": "create",
    "open an": "create",
    "file a": "create",
    "file an": "create",
    "raise a": "create",
}


def _joined(text: str) -> list[str]:
    joined = f" {' '.join(words(text))} "
    for phrase, verb in _PHRASES.items():
        joined = joined.replace(f" {phrase} ", f" {verb} ")
    return joined.split()


def verb_class(word: str) -> Action | None:
    """The action class of one (lower-case) verb, if it is one."""
    return _CLASS_OF.get(word)


def _classes(verbs: Iterable[str]) -> set[Action]:
    return {_CLASS_OF[v] for v in verbs if v in _CLASS_OF}


def query_actions(text: str) -> set[Action]:
    """Action classes the query asks for; ``{READ}`` for questions and bare noun phrases.

    The verb is looked for after politeness ("please", "can you") and after a leading
    phrase set off by a comma ("in lab/gitops on main, set ..."); a verb later in the
    sentence belongs to a clause about the thing, not to the request.
    """
    ws = _joined(text)
    if "," in text:
        head, _, rest = text.partition(",")
        head_words = _joined(head)
        if head_words and head_words[0] not in _CLASS_OF and head_words[0] not in _READ_OPENERS:
            ws = _joined(rest) or ws
    while ws and ws[0] in _POLITE:
        ws = ws[1:]
    if not ws:
        return {Action.READ}
    if ws[0] in _READ_OPENERS:
        return {Action.READ}
    if ws[0] == "let" and len(ws) > 1 and ws[1] not in ("me", "us"):
        return {Action.CREATE}  # "let the guest onto the wifi": admit, not "let me see"
    if ws[0] in _PARTICLE_VERBS:
        particle = next((w for w in ws[1:12] if w in _PARTICLES), None)
        return {_PARTICLES[particle]} if particle else {Action.UPDATE}
    first = next((w for w in ws[:4] if w in _CLASS_OF), None)
    if first is None:
        return {Action.READ}
    return {_CLASS_OF[first]}


def tool_actions(document: ToolDocument) -> set[Action]:
    """Action classes of a tool: its name's first verb, else its summary's, else its hints."""
    # A tool that declares itself read-only answers reads whatever its verb ("execute_query").
    reads = {Action.READ} if document.read_only else set()
    name = document.name_text.split()
    head = next((i for i, w in enumerate(name) if w in _CLASS_OF), None)
    if head is not None:
        # The first verb leads (delete_backup deletes); verbs joined to it by "or"/"and"
        # count too (create_or_update_file also updates).
        found = {_CLASS_OF[name[head]]}
        for joiner, verb in zip(name[head + 1 :], name[head + 2 :], strict=False):
            if joiner in ("or", "and") and verb in _CLASS_OF:
                found.add(_CLASS_OF[verb])
        return found | reads
    found = _classes(words(document.summary)[:3])
    return (found | reads) if found else reads


def agreement(wanted: set[Action], offered: set[Action]) -> float:
    """+1 when the tool does what the query asks, -1 when it clearly does something else."""
    if not offered:
        return 0.0
    if wanted & offered:
        return 1.0
    if offered == {Action.RUN} and Action.READ not in wanted:
        return 0.0  # "execute_sql" can delete rows or update them: neither for nor against
    if Action.READ in wanted:
        return -1.0  # asked to look, tool would change something
    if Action.READ in offered:
        return -0.5  # asked to change something, tool only looks
    return -1.0
