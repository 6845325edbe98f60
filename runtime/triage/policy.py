"""When triage may run a tool by itself: read-only, confident, and nothing to ask for.

Never on a guess. The first candidate runs without the user's confirmation only when
all of these hold: the tool declares itself read-only (its ``readOnlyHint`` annotation or
the catalog's ``readOnlyTools``), the question asks to look rather than to change
something (a read-only tool answering "turn on safe search" would be a wrong answer
delivered with confidence), the calibrated confidence clears the threshold
(``platform.triage.executeThreshold``), and every required argument is known. Anything
else is answered with the candidates and how to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass

from runtime.triage.decision import Decision, Route

__all__ = ["DEFAULT_THRESHOLD", "ExecutionPolicy"]

#: The calibrated probability a decision needs before a read-only tool runs by itself.
DEFAULT_THRESHOLD = 0.7


@dataclass(frozen=True)
class ExecutionPolicy:
    threshold: float = DEFAULT_THRESHOLD

    def judge(self, decision: Decision) -> tuple[bool, str]:
        """(would execute, why) for ``decision``'s first candidate."""
        top = decision.top
        if decision.route is not Route.TOOL or top is None:
            return False, f"route is {decision.route.value}, not tool"
        if not top.read_only:
            return False, f"{top.key} is not declared read-only: it runs only when confirmed"
        if decision.asks_change:
            return False, f"the question asks for a change and {top.key} only reads: confirm it"
        if decision.confidence < self.threshold:
            return False, (
                f"confidence {decision.confidence:.2f} is below {self.threshold:.2f}: "
                "choose a tool to run it"
            )
        if decision.missing_arguments:
            return False, f"{top.key} needs {', '.join(decision.missing_arguments)}"
        return True, (
            f"{top.key} is read-only and the confidence {decision.confidence:.2f} "
            f"clears {self.threshold:.2f}"
        )

    def apply(self, decision: Decision) -> Decision:
        """``decision`` with ``would_execute`` and ``execution`` set."""
        run, why = self.judge(decision)
        return decision.model_copy(update={"would_execute": run, "execution": why})
