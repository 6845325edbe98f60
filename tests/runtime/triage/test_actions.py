"""What a query asks to do versus what a tool does."""

from __future__ import annotations

from mcp.types import Tool

from runtime.triage.actions import Action, agreement, query_actions, tool_actions
from runtime.triage.documents import build_document


def _doc(name: str, description: str = "", read_only: bool | None = None):
    annotations = {"readOnlyHint": read_only} if read_only is not None else None
    tool = Tool(name=name, description=description, input_schema={}, annotations=annotations)
    return build_document("s", tool)


def test_questions_and_noun_phrases_ask_for_a_read() -> None:
    assert query_actions("is the wireguard tunnel up?") == {Action.READ}
    assert query_actions("pods in the media namespace") == {Action.READ}


def test_imperatives_ask_for_their_action() -> None:
    assert query_actions("restart containerd on w1") == {Action.LIFECYCLE}
    assert query_actions("delete the stuck pod") == {Action.DELETE}
    assert query_actions("turn off the guest wifi") == {Action.TOGGLE}
    assert query_actions("back up vm 130") == {Action.CREATE}
    assert query_actions("roll back the upgrade on w2") == {Action.LIFECYCLE}


def test_tool_actions_come_from_the_name_then_the_summary_then_the_hints() -> None:
    assert tool_actions(_doc("delete_backup")) == {Action.DELETE}
    assert tool_actions(_doc("service_action", "Start, stop or restart a service.")) == {
        Action.LIFECYCLE
    }
    assert tool_actions(_doc("arp_table", "The ARP table.", read_only=True)) == {Action.READ}
    assert tool_actions(_doc("arp_table", "The ARP table.")) == set()


def test_a_read_only_tool_answers_reads_whatever_its_verb() -> None:
    assert tool_actions(_doc("execute_query", "Run PromQL.", read_only=True)) == {
        Action.RUN,
        Action.READ,
    }
    assert tool_actions(_doc("execute_sql", "Run any SQL.")) == {Action.RUN}


def test_phrasal_and_short_verbs() -> None:
    assert query_actions("kick off a speed test on the gateway") == {Action.RUN}
    assert query_actions("open a PR from feat/x into main") == {Action.CREATE}
    assert query_actions("open ports on the firewall") == {Action.READ}
    assert query_actions("let the guest onto the hotspot for 2 hours") == {Action.CREATE}
    assert query_actions("let me see the pods in media") == {Action.READ}
    assert query_actions("ack alert group I8F2K1") == {Action.UPDATE}
    assert query_actions("resolve incident 42") == {Action.UPDATE}


def test_agreement_rewards_a_match_and_punishes_a_write_for_a_question() -> None:
    assert agreement({Action.READ}, {Action.READ}) == 1.0
    assert agreement({Action.READ}, {Action.DELETE}) == -1.0
    assert agreement({Action.DELETE}, {Action.READ}) == -0.5
    assert agreement({Action.DELETE}, set()) == 0.0


def test_a_generic_executor_is_neither_for_nor_against_a_write() -> None:
    assert agreement({Action.DELETE}, {Action.RUN}) == 0.0  # execute_sql can delete rows
    assert agreement({Action.READ}, {Action.RUN}) == -1.0  # a question should not trigger
