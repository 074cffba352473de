"""CloudWatch fidelity: alarms that evaluate metric data and run their actions.

moto stores alarms and metric data but never evaluates an alarm, and an alarm
that changes state (even through SetAlarmState) runs none of its actions. AWS
evaluates every alarm once a period; a lesson cannot wait minutes, so this
module evaluates in *simulated* time: the lesson publishes data points dated
on its own timeline (``put_metric_data`` with ``Timestamp``) and calls
:func:`evaluate_alarms` with the simulated ``now``.

Actions are dispatched to handlers other fidelity modules register with
:func:`register_action_handler` (Auto Scaling registers one for scaling
policy ARNs); ARNs no handler claims (SNS topics, ...) are ignored, as moto
did before.
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from labkit.config import EMULATOR_ACCOUNT_ID, region as default_region
from labkit.emulator.patching import replace

#: Handler signature: (action_arn, alarm, context) -> True if it handled the ARN.
ActionHandler = Callable[[str, Any, "ActionContext"], bool]

_ACTION_HANDLERS: list[ActionHandler] = []

_BREACH = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}
_WORDS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}


@dataclass
class ActionContext:
    """What an action handler learns about the evaluation that fired it.

    ``now`` is the simulated time of an :func:`evaluate_alarms` call, or None
    when the state was set with SetAlarmState. ``metric_value`` is the newest
    evaluated data point (None with SetAlarmState). ``repeat`` is True when the
    alarm was already in this state (Auto Scaling policies are re-invoked while
    their alarm stays in ALARM; other actions run on transitions only).
    """

    state: str
    now: datetime | None = None
    metric_value: float | None = None
    repeat: bool = False


@dataclass
class Transition:
    """One alarm's outcome in an :func:`evaluate_alarms` call."""

    alarm_name: str
    old_state: str
    new_state: str
    reason: str
    actions: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.old_state != self.new_state


def register_action_handler(handler: ActionHandler) -> None:
    """Let ``handler`` run alarm actions it recognises (idempotent)."""
    if handler not in _ACTION_HANDLERS:
        _ACTION_HANDLERS.append(handler)


def install() -> None:
    """Make SetAlarmState run the actions of the new state (idempotent)."""
    from moto.cloudwatch.models import CloudWatchBackend

    if getattr(CloudWatchBackend.set_alarm_state, "_labkit", False):
        return
    original = CloudWatchBackend.set_alarm_state

    def set_alarm_state(self, alarm_name, reason, reason_data, state_value):
        old = self.alarms[alarm_name].state_value if alarm_name in self.alarms else None
        original(self, alarm_name, reason, reason_data, state_value)
        if old != state_value:
            run_actions(self.alarms[alarm_name], ActionContext(state=state_value))

    set_alarm_state._labkit = True
    replace(CloudWatchBackend, "set_alarm_state", set_alarm_state)


def run_actions(alarm: Any, context: ActionContext) -> list[str]:
    """Run the alarm's actions for ``context.state``; return the ARNs handled."""
    if not alarm.actions_enabled:
        return []
    arns = {
        "ALARM": alarm.alarm_actions,
        "OK": alarm.ok_actions,
        "INSUFFICIENT_DATA": alarm.insufficient_data_actions,
    }[context.state] or []
    return [arn for arn in arns if any(h(arn, alarm, context) for h in _ACTION_HANDLERS)]


def evaluate_alarms(
    account_id: str | None = None,
    region: str | None = None,
    now: datetime | None = None,
) -> list[Transition]:
    """Evaluate every metric alarm of one account and region at simulated ``now``.

    For each alarm the last ``EvaluationPeriods`` windows of ``Period`` seconds
    ending at ``now`` (inclusive) are aggregated with the alarm's statistic
    from the data points put with ``put_metric_data`` (their ``Timestamp``
    decides the window; points after ``now`` are ignored). The alarm goes to
    ALARM when at least ``DatapointsToAlarm`` (default: all) windows breach,
    to OK when there is data but not enough breaches, and to
    INSUFFICIENT_DATA when no window has data (``TreatMissingData``:
    ``breaching``/``notBreaching`` count empty windows as such, ``ignore``
    keeps the state). A state change runs the new state's actions; an alarm
    staying in ALARM re-invokes Auto Scaling policies (which apply their own
    cooldown in simulated time), as AWS does.

    Alarms on metric math (``Metrics``) and composite alarms are skipped.
    ``now`` defaults to the current UTC time; naive datetimes are taken as UTC.
    Returns one :class:`Transition` per evaluated alarm.

    Example (a lesson's simulated timeline)::

        t0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
        for minute in range(5):
            cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{
                "MetricName": "CPUUtilization", "Value": 90.0,
                "Timestamp": t0 + timedelta(minutes=minute),
                "Dimensions": [{"Name": "AutoScalingGroupName", "Value": asg}]}])
            evaluate_alarms(now=t0 + timedelta(minutes=minute))
    """
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[account_id or EMULATOR_ACCOUNT_ID][region or default_region()]
    now = _as_naive_utc(now or datetime.now(timezone.utc))
    results = []
    for alarm in list(backend.alarms.values()):
        if alarm.metric_data_queries or alarm.rule or not alarm.metric_name:
            continue
        results.append(_evaluate_one(backend, alarm, now))
    return results


def _as_naive_utc(moment: datetime) -> datetime:
    # moto stores metric timestamps as naive UTC; compare like with like.
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _evaluate_one(backend: Any, alarm: Any, now: datetime) -> Transition:
    windows = _window_values(backend, alarm, now)
    new_state, reason, latest = _decide(alarm, windows, now)
    old_state = alarm.state_value
    transition = Transition(alarm.name, old_state, new_state, reason)
    if new_state != old_state:
        reason_data = json.dumps({"version": "1.0", "evaluatedDatapoints": [
            {"timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.000+0000"), "value": v}
            for ts, v in windows if v is not None]})
        alarm.update_state(reason, reason_data, new_state)
        alarm.state_updated_timestamp = now
    if new_state != old_state or new_state == "ALARM":
        context = ActionContext(new_state, now, latest, repeat=new_state == old_state)
        actions = run_actions(alarm, context)
        if new_state != old_state or _autoscaling_only(actions):
            transition.actions = actions
    return transition


def _autoscaling_only(actions: list[str]) -> bool:
    return bool(actions) and all(":autoscaling:" in a for a in actions)


def _window_values(backend: Any, alarm: Any, now: datetime) -> list[tuple[datetime, float | None]]:
    """(window start, aggregated value or None) for each window, newest first."""
    period = timedelta(seconds=int(alarm.period))
    wanted = {(d.name, d.value) for d in alarm.dimensions}
    points = [
        p for p in backend.metric_data
        if p.namespace == alarm.namespace and p.name == alarm.metric_name
        and {(d.name, d.value) for d in p.dimensions} == wanted
        and (alarm.unit is None or p.unit in (None, alarm.unit))
    ]
    out = []
    for i in range(int(alarm.evaluation_periods)):
        end = now - i * period
        start = end - period
        inside = [p for p in points if start < p.timestamp <= end]
        out.append((start, _statistic(alarm, inside)))
    return out


def _statistic(alarm: Any, points: list[Any]) -> float | None:
    """Aggregate plain and statistic-set data points like CloudWatch does."""
    if not points:
        return None
    values, n, total, lo, hi = [], 0.0, 0.0, math.inf, -math.inf
    for p in points:
        if hasattr(p, "value"):
            values.append(p.value)
            n, total, lo, hi = n + 1, total + p.value, min(lo, p.value), max(hi, p.value)
        else:
            n, total = n + p.sample_count, total + p.sum
            lo, hi = min(lo, p.min), max(hi, p.max)
    if alarm.extended_statistic:
        return _percentile(values, float(alarm.extended_statistic.lstrip("p")))
    return {
        "Average": total / n if n else None, "Sum": total, "Minimum": lo,
        "Maximum": hi, "SampleCount": n,
    }.get(alarm.statistic or "Average")


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, math.ceil(pct / 100 * len(ordered)) - 1)
    return ordered[rank]


def _decide(alarm: Any, windows: list, now: datetime) -> tuple[str, str, float | None]:
    breach = _BREACH[alarm.comparison_operator]
    threshold = float(alarm.threshold)
    missing = alarm.treat_missing_data or "missing"
    needed = int(alarm.datapoints_to_alarm or alarm.evaluation_periods)
    present = [(ts, v) for ts, v in windows if v is not None]
    empty = len(windows) - len(present)
    breaching = [(ts, v) for ts, v in present if breach(v, threshold)]
    breach_count = len(breaching) + (empty if missing == "breaching" else 0)
    latest = present[0][1] if present else None
    if breach_count >= needed:
        return "ALARM", _reason(alarm, breaching, len(windows), "ALARM"), latest
    if not present and missing in ("missing", "ignore"):
        if missing == "ignore":
            return alarm.state_value, "Missing data ignored", latest
        return "INSUFFICIENT_DATA", (
            f"Insufficient Data: {len(windows)} datapoints were unknown."), latest
    calm = [(ts, v) for ts, v in present if not breach(v, threshold)]
    return "OK", _reason(alarm, calm, len(windows), "OK"), latest


def _reason(alarm: Any, points: list, total: int, state: str) -> str:
    """A StateReason in the style CloudWatch writes."""
    shown = ", ".join(f"{v} ({ts.strftime('%d/%m/%y %H:%M:%S')})" for ts, v in points)
    verb = ("was" if len(points) == 1 else "were") + ("" if state == "ALARM" else " not")
    return (
        f"Threshold Crossed: {len(points)} out of the last {total} datapoints "
        f"[{shown}] {verb} {_WORDS[alarm.comparison_operator]} the threshold "
        f"({float(alarm.threshold)})."
    )
