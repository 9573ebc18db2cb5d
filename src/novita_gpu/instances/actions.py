"""Start, stop and delete: decide, call upstream outside any transaction, then record.

Each action reads the row, applies the rule of :mod:`novita_gpu.instances.rules` (202 with no
upstream call when the end state already holds; 409 when the transition is not allowed), calls
upstream, and records the outcome in a short write transaction. A failed start never deletes
anything; an upstream refusal caused by our stale view is resolved by asking upstream.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from novita_gpu.context import AppContext
from novita_gpu.core.errors import (
    InstanceNotFound,
    InstanceNotStartable,
    InstanceNotStoppable,
)
from novita_gpu.db.models import Instance
from novita_gpu.events.types import EventType
from novita_gpu.instances.rules import Decision, decide_delete, decide_start, decide_stop
from novita_gpu.instances.snapshot import apply_snapshot
from novita_gpu.instances.spend import ensure_within_spend_limit
from novita_gpu.instances.states import UP, Status, fold_upstream_status
from novita_gpu.instances.transitions import change_status
from novita_gpu.instances.uow import Change, UnitOfWork, update_instance, write_unit
from novita_gpu.instances.upstream_lookup import locate_created
from novita_gpu.upstream import (
    ActionResult,
    UpstreamError,
    UpstreamInvalidState,
    UpstreamNotFound,
)
from novita_gpu.upstream.api_errors import upstream_error_to_service_error


@dataclass(frozen=True)
class ActionOutcome:
    instance: Instance
    message: str
    skipped: bool = False


@dataclass(frozen=True)
class Notice:
    """An event recorded just before the usual stop/delete events, in the same transaction
    (``instance.auto_stopped`` with its reason). ``still_due`` is asked on the fresh row
    before upstream is called: False skips the action (e.g. a heartbeat just arrived)."""

    event_type: EventType
    data: dict[str, Any] = field(default_factory=dict)
    still_due: Callable[[Instance], bool] | None = None

    def holds(self, instance: Instance) -> bool:
        return self.still_due is None or self.still_due(instance)

    async def record(self, uow: UnitOfWork, instance: Instance) -> None:
        await change_status(
            uow.recorder,
            instance,
            Status(instance.status),
            event_type=self.event_type,
            data=self.data,
        )
        if self.event_type is EventType.AUTO_STOPPED:
            instance.auto_stopped_at = uow.recorder.clock.now()


async def _announce(uow: UnitOfWork, instance: Instance, notice: Notice | None) -> None:
    if notice is not None:
        await notice.record(uow, instance)


@dataclass(frozen=True)
class ActionOptions:
    """Settings an action request may carry, as the original service's clients send them.

    ``webhook_url`` becomes the instance's webhook URL, so this operation's events (and later
    ones) go there; ``health_check`` is merged over the instance's readiness-check settings,
    so it governs the readiness check that follows this start. Both are applied when the action
    is accepted (not on a no-op such as stopping a stopped instance), before upstream is called.
    """

    webhook_url: str | None = None
    health_check: dict[str, Any] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return self.webhook_url is None and not self.health_check


NO_OPTIONS = ActionOptions()


async def _load(ctx: AppContext, instance_id: str) -> Instance:
    async with write_unit(ctx) as uow:
        instance = await uow.instances.get(instance_id)
    if instance is None:
        raise InstanceNotFound(details={"instanceId": instance_id})
    return instance


async def _record(ctx: AppContext, instance_id: str, apply: Change) -> Instance:
    async def change(uow: UnitOfWork, instance: Instance) -> None:
        await apply(uow, instance)
        instance.next_sync_at = ctx.clock.now()

    instance = await update_instance(ctx, instance_id, change)
    if instance is None:
        raise InstanceNotFound(details={"instanceId": instance_id})
    return instance


async def _configure(ctx: AppContext, instance_id: str, options: ActionOptions) -> None:
    if options.is_empty():
        return

    async def apply(uow: UnitOfWork, instance: Instance) -> None:
        if options.webhook_url is not None:
            instance.webhook_url = options.webhook_url
        if options.health_check:
            instance.health_check_config = {
                **(instance.health_check_config or {}),
                **options.health_check,
            }

    await update_instance(ctx, instance_id, apply)


class InstanceActions:
    """The lifecycle commands of one app."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    # start

    async def start(self, instance_id: str, options: ActionOptions = NO_OPTIONS) -> ActionOutcome:
        """Start; a plain start of an instance already being started here joins that start."""
        if options.is_empty():
            return await self._once(("start", instance_id), lambda: self._start(instance_id))
        return await self._start(instance_id, options)

    async def _once(
        self, key: tuple[str, str], action: Callable[[], Awaitable[ActionOutcome]]
    ) -> ActionOutcome:
        return await self.ctx.actions_in_flight.run(key, action)

    async def _start(self, instance_id: str, options: ActionOptions = NO_OPTIONS) -> ActionOutcome:
        instance = await _load(self.ctx, instance_id)
        if decide_start(instance) is Decision.NOOP:
            return ActionOutcome(instance, f"Instance is already {instance.status}")
        assert instance.novita_instance_id is not None
        await ensure_within_spend_limit(self.ctx, instance.price_units)
        await _configure(self.ctx, instance.id, options)
        try:
            result = await self.ctx.upstream.start_instance(instance.novita_instance_id)
        except UpstreamInvalidState:
            return await self._start_refused(instance)
        except UpstreamNotFound:
            raise InstanceNotStartable(
                "Instance no longer exists on Novita", details={"instanceId": instance.id}
            ) from None
        except UpstreamError as exc:
            raise upstream_error_to_service_error(exc) from exc
        return ActionOutcome(await self._starting(instance.id, result), "Instance is starting")

    async def _starting(self, instance_id: str, result: ActionResult) -> Instance:
        async def apply(uow: UnitOfWork, instance: Instance) -> None:
            instance.desired_status = None
            instance.last_error = None
            if Status(instance.status) in UP:
                return  # already seen running upstream (a reader was quicker than this record)
            instance.upstream_status = result.state or "toStart"
            instance.health_check = {}
            # SSH port and password rotate on every start: fetch them again once running.
            instance.connection = {}
            await change_status(uow.recorder, instance, Status.STARTING)

        return await _record(self.ctx, instance_id, apply)

    async def _start_refused(self, instance: Instance) -> ActionOutcome:
        """Upstream says the instance is not stopped: learn its real state and answer by it."""
        refreshed = await self._refresh(instance)
        status = Status(refreshed.status)
        if status in {Status.STARTING, Status.RUNNING, Status.HEALTH_CHECKING, Status.READY}:
            return ActionOutcome(refreshed, f"Instance is already {status.value}")
        raise InstanceNotStartable(
            f"Novita refused to start the instance (upstream status {refreshed.upstream_status})",
            details={"instanceId": instance.id, "upstreamStatus": refreshed.upstream_status},
        )

    async def _prepare(
        self,
        instance_id: str,
        decide: Callable[[Instance], Decision],
        notice: Notice | None,
        options: ActionOptions,
    ) -> Instance | ActionOutcome:
        """The row a stop or delete goes on with, after applying ``options``; or the answer
        at once when there is nothing to do (a no-op, or a ``notice`` no longer due)."""
        instance = await _load(self.ctx, instance_id)
        if decide(instance) is Decision.NOOP:
            return ActionOutcome(instance, f"Instance is already {instance.status}")
        if notice is not None and not notice.holds(instance):
            return ActionOutcome(instance, "No longer due", skipped=True)
        await _configure(self.ctx, instance.id, options)
        return instance

    # stop

    async def stop(
        self,
        instance_id: str,
        event_type: EventType | None = None,
        options: ActionOptions = NO_OPTIONS,
        *,
        notice: Notice | None = None,
    ) -> ActionOutcome:
        """Stop; ``event_type`` replaces ``instance.stopping``; ``notice`` precedes it.

        A plain stop of an instance already being stopped here joins that stop (one upstream
        call); a stop with a ``notice`` (auto-stop) runs on its own so its notice is recorded."""
        if event_type is None and notice is None and options.is_empty():
            return await self._once(("stop", instance_id), lambda: self._stop(instance_id))
        return await self._stop(instance_id, event_type, notice, options)

    async def _stop(
        self,
        instance_id: str,
        event_type: EventType | None = None,
        notice: Notice | None = None,
        options: ActionOptions = NO_OPTIONS,
    ) -> ActionOutcome:
        prepared = await self._prepare(instance_id, decide_stop, notice, options)
        if isinstance(prepared, ActionOutcome):
            return prepared
        instance = prepared
        if instance.novita_instance_id is None:
            stopping = await self._stop_later(instance.id, event_type, notice)
            return ActionOutcome(stopping, "Stop queued")
        try:
            result = await self.ctx.upstream.stop_instance(instance.novita_instance_id)
        except UpstreamInvalidState:
            return await self._stop_refused(instance, event_type, notice)
        except UpstreamNotFound:
            await self._vanished(instance.id)
            raise InstanceNotStoppable(
                "Instance no longer exists on Novita", details={"instanceId": instance.id}
            ) from None
        except UpstreamError as exc:
            raise upstream_error_to_service_error(exc) from exc
        stopped = await self._stopping(instance.id, result.state or "toStop", event_type, notice)
        return ActionOutcome(stopped, "Instance is stopping")

    async def _stopping(
        self,
        instance_id: str,
        upstream_state: str | None,
        event_type: EventType | None,
        notice: Notice | None,
    ) -> Instance:
        async def apply(uow: UnitOfWork, instance: Instance) -> None:
            instance.desired_status = None
            await _announce(uow, instance, notice)
            if instance.status == Status.STOPPED.value:
                return  # already seen stopped upstream (a reader was quicker than this record)
            if upstream_state:
                instance.upstream_status = upstream_state
            await change_status(uow.recorder, instance, Status.STOPPING, event_type=event_type)

        return await _record(self.ctx, instance_id, apply)

    async def _stop_later(
        self, instance_id: str, event_type: EventType | None, notice: Notice | None = None
    ) -> Instance:
        """Upstream cannot stop it yet (still booting): remember, the reconciler finishes."""

        async def apply(uow: UnitOfWork, instance: Instance) -> None:
            instance.desired_status = Status.STOPPED.value
            await _announce(uow, instance, notice)
            await change_status(uow.recorder, instance, Status.STOPPING, event_type=event_type)

        return await _record(self.ctx, instance_id, apply)

    async def _stop_refused(
        self, instance: Instance, event_type: EventType | None, notice: Notice | None
    ) -> ActionOutcome:
        refreshed = await self._refresh(instance)
        if Status(refreshed.status) in {Status.STOPPED, Status.STOPPING}:
            return ActionOutcome(refreshed, f"Instance is already {refreshed.status}")
        stopping = await self._stop_later(instance.id, event_type, notice)
        return ActionOutcome(stopping, "Stop queued")

    # delete

    async def delete(
        self,
        instance_id: str,
        event_type: EventType | None = None,
        options: ActionOptions = NO_OPTIONS,
        *,
        notice: Notice | None = None,
    ) -> ActionOutcome:
        """Delete upstream; ``notice`` (e.g. ``instance.auto_deleted``) precedes the events.

        A plain delete of an instance already being deleted here joins that delete."""
        if event_type is None and notice is None and options.is_empty():
            return await self._once(("delete", instance_id), lambda: self._delete(instance_id))
        return await self._delete(instance_id, event_type, notice, options)

    async def _delete(
        self,
        instance_id: str,
        event_type: EventType | None = None,
        notice: Notice | None = None,
        options: ActionOptions = NO_OPTIONS,
    ) -> ActionOutcome:
        prepared = await self._prepare(instance_id, decide_delete, notice, options)
        if isinstance(prepared, ActionOutcome):
            return prepared
        instance = prepared
        novita_id = instance.novita_instance_id or await self._find_unconfirmed(instance)
        if novita_id is None:
            deleted = await self._deleted(instance.id, event_type, notice)
            return ActionOutcome(deleted, "Instance deleted")
        try:
            result = await self.ctx.upstream.delete_instance(novita_id)
        except UpstreamNotFound:
            deleted = await self._deleted(instance.id, event_type, notice)
            return ActionOutcome(deleted, "Instance deleted")
        except UpstreamError as exc:
            raise upstream_error_to_service_error(exc) from exc
        deleting = await self._deleting(instance.id, novita_id, result.state, event_type, notice)
        return ActionOutcome(deleting, "Instance is being deleted")

    async def _find_unconfirmed(self, instance: Instance) -> str | None:
        if instance.create_sent_at is None:
            return None
        try:
            found = await locate_created(self.ctx.upstream, instance)
        except UpstreamError as exc:
            raise upstream_error_to_service_error(exc) from exc
        return found.id if found else None

    async def _deleting(
        self,
        instance_id: str,
        novita_id: str,
        state: str | None,
        event_type: EventType | None,
        notice: Notice | None,
    ) -> Instance:
        async def apply(uow: UnitOfWork, instance: Instance) -> None:
            instance.novita_instance_id = novita_id
            instance.desired_status = Status.DELETED.value
            await _announce(uow, instance, notice)
            if instance.status == Status.DELETED.value:
                return  # already seen gone upstream (a reader was quicker than this record)
            instance.upstream_status = state or "toRemove"
            await change_status(uow.recorder, instance, Status.DELETING, event_type=event_type)

        return await _record(self.ctx, instance_id, apply)

    async def _deleted(
        self, instance_id: str, event_type: EventType | None, notice: Notice | None
    ) -> Instance:
        async def apply(uow: UnitOfWork, instance: Instance) -> None:
            # A create whose answer was lost may still surface; the reconciler deletes it then.
            instance.desired_status = Status.DELETED.value
            await _announce(uow, instance, notice)
            await change_status(uow.recorder, instance, Status.DELETED, event_type=event_type)

        return await _record(self.ctx, instance_id, apply)

    async def _vanished(self, instance_id: str) -> None:
        async def apply(uow: UnitOfWork, instance: Instance) -> None:
            await change_status(
                uow.recorder, instance, Status.TERMINATED, error="Instance vanished on Novita"
            )

        await _record(self.ctx, instance_id, apply)

    # shared

    async def _refresh(self, instance: Instance) -> Instance:
        """Fetch upstream's view and fold its status in (used when upstream refused)."""
        assert instance.novita_instance_id is not None
        try:
            snapshot = await self.ctx.upstream.get_instance(instance.novita_instance_id)
        except UpstreamError as exc:
            raise upstream_error_to_service_error(exc) from exc

        async def apply(uow: UnitOfWork, row: Instance) -> None:
            apply_snapshot(row, snapshot, detailed=True)
            await change_status(
                uow.recorder, row, fold_upstream_status(Status(row.status), snapshot.status)
            )

        return await _record(self.ctx, instance.id, apply)
