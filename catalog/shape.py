"""The shape of a YAML text, checked from its parser events before any tree is built.

Building the tree is where a hostile file hurts: nine nested levels of anchors expand
to 9⁹ values (a "YAML bomb"), and a few hundred nested brackets overflow the recursive
composer. The event stream is flat and cheap, so the nesting depth and the number of
values after alias expansion are counted here first, and a file past either bound gets
one problem at the line where it crossed it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import events

from catalog.limits import MAX_DEPTH, MAX_VALUES
from catalog.problems import PathPart, Problem, field_path

__all__ = ["shape_problem"]


@dataclass
class _Frame:
    """An open map or list: what it has counted, and where the next value goes."""

    anchor: str | None
    mapping: bool
    size: int = 1
    index: int = 0
    key: PathPart | None = None
    expecting_key: bool = True

    def place(self) -> PathPart:
        return (self.key if self.key is not None else "?") if self.mapping else self.index

    def took_value(self, scalar: object = None) -> None:
        """Advance past one child: a key (maps, remembered for paths) or a value."""
        if not self.mapping:
            self.index += 1
        elif self.expecting_key:
            self.key = scalar if isinstance(scalar, str) else "?"
            self.expecting_key = False
        else:
            self.expecting_key = True


def shape_problem(file: Path, stream: Iterable[events.Event]) -> Problem | None:
    """The first bound ``stream`` crosses, as a problem located at that event.

    Raises:
        ruamel.yaml.error.MarkedYAMLError: the text is not YAML (the caller reports it).
    """
    stack: list[_Frame] = []
    sizes: dict[str, int] = {}
    total = 0
    for event in stream:
        if isinstance(event, events.ScalarEvent | events.AliasEvent):
            size = 1
            if isinstance(event, events.AliasEvent):
                if any(frame.anchor == event.anchor for frame in stack):
                    return _problem(
                        file,
                        event,
                        stack,
                        "yaml.recursive-alias",
                        f"alias *{event.anchor} refers to a value that contains it",
                    )
                size = sizes.get(str(event.anchor), 1)
            elif event.anchor:
                sizes[event.anchor] = 1
            total += size
            if total > MAX_VALUES:
                return _too_many(file, event, stack)
            if stack:
                stack[-1].size += size
                stack[-1].took_value(event.value if isinstance(event, events.ScalarEvent) else None)
        elif isinstance(event, events.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                return _problem(
                    file,
                    event,
                    stack,
                    "yaml.too-deep",
                    f"values nest more than {MAX_DEPTH} levels deep",
                )
            total += 1
            if total > MAX_VALUES:
                return _too_many(file, event, stack)
            mapping = isinstance(event, events.MappingStartEvent)
            stack.append(_Frame(anchor=event.anchor, mapping=mapping))
        elif isinstance(event, events.CollectionEndEvent) and stack:
            done = stack.pop()
            if done.anchor:
                sizes[done.anchor] = done.size
            if stack:
                stack[-1].size += done.size
                stack[-1].took_value()
    return None


def _too_many(file: Path, event: events.Event, stack: list[_Frame]) -> Problem:
    reason = (
        f"alias *{event.anchor} brings the file past {MAX_VALUES} values "
        "(anchors and aliases are expanded when the catalog is read)"
        if isinstance(event, events.AliasEvent)
        else f"the file holds more than {MAX_VALUES} values"
    )
    return _problem(file, event, stack, "yaml.too-many-values", reason)


def _problem(
    file: Path, event: events.Event, stack: list[_Frame], rule: str, message: str
) -> Problem:
    mark = event.start_mark
    path = field_path([frame.place() for frame in stack])
    return Problem(file, mark.line + 1, mark.column + 1, path, rule, message)
