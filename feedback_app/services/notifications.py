"""Notifications: what each outbox message means for whom, delivered once each (signed webhooks, e-mail)."""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import os
import smtplib
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
import urllib3
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from feedback_app.extensions import db
from feedback_app.models import Agency, ClockAlert, Delivery, FeedbackItem, OutboxMessage, StaffUser
from feedback_app.models.types import utcnow
from feedback_app.plumbing import in_values
from feedback_app.services.directory import directory

log = logging.getLogger(__name__)
AGENCY_TOPICS = {"item.routed", "item.route", "item.reopened"}
PUBLIC_TOPICS = {"item.received", "item.routed", "item.route", "item.needs_triage", "item.accept", "item.request_info",
                 "item.respond", "item.resolve", "item.reject", "item.merge", "item.reopened", "item.closed"}


def may_be_heard(topic: str, item: FeedbackItem) -> bool:
    """Whether an item's message may have a recipient, known when it is written: an agency topic (its webhook,
    its e-mail), or a public change of an item sent through an app backend when the citizen app's webhook is
    set. `_targets` decides who exactly, when the message is delivered."""
    return topic in AGENCY_TOPICS or _citizen_app_hears(topic, item)


def _citizen_app_hears(topic: str, item: FeedbackItem) -> bool:
    """The citizen app hears of the public changes of the items sent through an app backend, once its
    webhook is set."""
    return topic in PUBLIC_TOPICS and bool(item.client_id) and bool(current_app.config.get("CITIZEN_APP_WEBHOOK_URL"))


class DeliveryFailed(Exception):
    """Raised so that RQ retries the job with back-off; the delivery row keeps the error."""


def item_summary(item: FeedbackItem) -> dict:
    """What a webhook may carry: never a name, phone, e-mail or the citizen's own words."""
    refs = directory().refs(item)
    return {"id": str(item.id), "tracking_code": item.tracking_code, "status": item.status,
            "category": (refs["category"] or {}).get("code"), "agency": (refs["agency"] or {}).get("code"),
            "area": (refs["area"] or {}).get("code"), "due_at": item.due_at.isoformat() if item.due_at else None,
            "version": item.version}


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _item(message: OutboxMessage) -> FeedbackItem | None:
    raw = message.payload.get("item_id")
    return db.session.get(FeedbackItem, uuid.UUID(raw)) if raw else None


DELIVERY_NAMESPACE = uuid.UUID("6f1c2b4e-8d0a-4c4e-9a57-3b2f1d0e7a91")
_DELIVERIES = Delivery.__table__
_OUTBOX = OutboxMessage.__table__


@dataclass(frozen=True)
class _Attempt:
    """A delivery about to be tried: its id (the X-Delivery-Id) and key. Written with Core statements: the
    worker handles hundreds of these a second, and the ORM's unit of work cost more than the webhook."""

    id: str
    key: str


_CLAIMED = ("id", "key", "outbox_id", "channel", "target", "topic")


@functools.cache
def _claim_statement(dialect: str):
    """Built once per dialect (building and keying a statement costs about as much as running it): insert each
    key as 'sending', or take it over when it is neither sent nor held by a claim younger than the lease.

    On PostgreSQL the rows come as one array per column (`unnest`, in the order given): the statement's text
    and its 8 parameters are the same whatever the number of rows, so psycopg converts it once and prepares
    it. A VALUES row per key took 7 parameters a row; past psycopg's 50 it parsed the 3-KB text again on
    every claim. Elsewhere: one row of parameters per key (executemany)."""
    c = _DELIVERIES.c
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY, insert

        rows = (sa.func.unnest(*[sa.bindparam(f"d_{name}s", type_=ARRAY(c[name].type)) for name in _CLAIMED])
                .table_valued(*_CLAIMED, with_ordinality="n").render_derived(name="claimed"))
        source = sa.select(*[rows.c[name] for name in _CLAIMED], sa.literal_column("'sending'"),
                           sa.literal_column("0"), sa.bindparam("d_now", type_=c.created_at.type),
                           sa.bindparam("d_now", type_=c.claimed_at.type)).order_by(rows.c.n)
        statement = insert(_DELIVERIES).from_select([*_CLAIMED, "status", "attempts", "created_at", "claimed_at"],
                                                    source)
    else:
        from sqlalchemy.dialects.sqlite import insert

        statement = insert(_DELIVERIES).values(
            id=sa.bindparam("d_id"), key=sa.bindparam("d_key"), outbox_id=sa.bindparam("d_outbox_id"),
            channel=sa.bindparam("d_channel"), target=sa.bindparam("d_target"), topic=sa.bindparam("d_topic"),
            status="sending", attempts=0, created_at=sa.bindparam("d_now", type_=c.created_at.type),
            claimed_at=sa.bindparam("d_now", type_=c.claimed_at.type))
    return statement.on_conflict_do_update(
        index_elements=["key"], set_={"status": "sending", "claimed_at": statement.excluded.claimed_at},
        where=sa.and_(c.status != "sent", sa.or_(
            c.status != "sending", c.claimed_at.is_(None),
            c.claimed_at < sa.bindparam("d_stale", type_=c.claimed_at.type))),
    ).returning(c.id, c.key)


def _claim_parameters(dialect: str, rows: list[tuple[str, int, str, str, str]], now: datetime, stale: datetime):
    """The parameters of `_claim_statement` for (key, outbox id, channel, target, topic) rows, in their order."""
    values = [(str(uuid.uuid5(DELIVERY_NAMESPACE, key)), key, outbox_id, channel, target, topic)
              for key, outbox_id, channel, target, topic in rows]
    if dialect == "postgresql":
        return {"d_now": now, "d_stale": stale,
                **{f"d_{name}s": list(column) for name, column in zip(_CLAIMED, zip(*values))}}
    return [{"d_now": now, "d_stale": stale, **{f"d_{name}": v for name, v in zip(_CLAIMED, row)}} for row in values]


class DeliveryHeld(Exception):
    """Another job holds the key (its claim is younger than the lease): it will send it."""


class _Writer:
    """The statements that record deliveries, each committed on its own as it runs: on PostgreSQL one round
    trip each, on a pooled connection of its own in autocommit (no BEGIN nor COMMIT); elsewhere with a
    commit after each. Nothing is held open while a webhook is posted.

    On PostgreSQL these commits do not wait for the disk (`synchronous_commit = off` on the writer's
    connection only, reset before it goes back to the pool). They are two of a submission's three WAL
    flushes, and each flush is a wait that every other commit queues behind, the intake's included. What a
    crash of PostgreSQL can lose (its last fraction of a second) is only what the retry does again: a lost
    claim or record means the key is sent again, under the same X-Delivery-Id (the id follows from the key),
    as after a worker killed between its POST and its record. Committed data is seen by every connection at
    once either way. Intake, triage and everything a person is told of still commit to disk first."""

    def __init__(self, connection):
        self.connection = connection
        self.dialect = connection.dialect.name

    def execute(self, statement, parameters):
        result = self.connection.execute(statement, parameters)
        rows = result.all() if result.returns_rows else None
        if self.dialect != "postgresql":
            self.connection.commit()
        return rows


@contextmanager
def _writer():
    from feedback_app.services.bulk import autocommit

    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            with autocommit(connection):
                connection.exec_driver_sql("SET synchronous_commit = off")
                try:
                    yield _Writer(connection)
                finally:
                    _reset_synchronous_commit(connection)
        else:
            yield _Writer(connection)


def _reset_synchronous_commit(connection) -> None:
    """The pooled connection goes back as it came, or not at all (a connection cut mid-batch cannot be
    reset: it is discarded rather than handed to a request with its commits not waiting for the disk)."""
    try:
        connection.exec_driver_sql("RESET synchronous_commit")
    except sa.exc.SQLAlchemyError:  # the driver's error, or SQLAlchemy's refusal on a connection already failed
        connection.invalidate()


def _claim(writer: _Writer, *, key: str, outbox_id: int, channel: str, target: str, topic: str,
           known: dict[str, Delivery] | None = None) -> _Attempt | None:
    """The delivery to try for this key, or None when it was already sent. `known`: the rows of the batch's
    messages, loaded in one query beforehand (a sent key among them needs no statement).

    The claim commits at once ('sending', claimed_at): a twin job that reaches the same key while the claim is
    younger than the lease finds it held (DeliveryHeld) and tries again later. A worker killed after its
    claim leaves the key to the next job once the lease is over; the id follows from the key, so a retry
    after a worker died mid-POST sends the same X-Delivery-Id again, and the agency can drop the repeat."""
    row = known.get(key) if known is not None else None
    if row is not None and row.status == "sent":
        return None
    now = utcnow()
    lease = timedelta(seconds=current_app.config.get("DELIVERY_LEASE_SECONDS", 60))
    taken = writer.execute(_claim_statement(writer.dialect), _claim_parameters(
        writer.dialect, [(key, outbox_id, channel, target, topic)], now, now - lease))
    if taken:
        return _Attempt(taken[0].id, key)
    status = writer.execute(sa.select(_DELIVERIES.c.status).where(_DELIVERIES.c.key == key), {})[0].status
    if status == "sent":
        return None
    raise DeliveryHeld(key)


_POOL: list = []  # (pid, urllib3.PoolManager): one per process, never inherited through a fork


def _http() -> urllib3.PoolManager:
    """Kept-alive connections to the agencies' webhooks: a worker posts to the same few hosts all day, and a
    new TCP (and TLS) connection per notification cost more than the notification."""
    if not _POOL or _POOL[0][0] != os.getpid():
        _POOL[:] = [(os.getpid(), urllib3.PoolManager(num_pools=64, maxsize=2, retries=False))]
    return _POOL[0][1]


def _post(row: _Attempt, url: str, secret: str | None, payload: dict) -> None:
    body = json.dumps({**payload, "delivery_id": row.id}, ensure_ascii=False, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "X-Delivery-Id": row.id, "User-Agent": "phan-anh/1"}
    if secret:
        headers["X-Signature"] = sign(secret, body)
    seconds = current_app.config.get("WEBHOOK_TIMEOUT", 5)
    # No redirect is followed: a webhook answers where it is registered (and a redirect could point anywhere).
    response = _http().request("POST", url, body=body, headers=headers, redirect=False,
                               timeout=urllib3.Timeout(connect=seconds, read=seconds))
    if not 200 <= response.status < 300:
        raise DeliveryFailed(f"HTTP {response.status}")


def _email(to: str, subject: str, text: str) -> None:
    message = EmailMessage()
    message["From"] = current_app.config.get("SMTP_FROM", "phan-anh@localhost")
    message["To"], message["Subject"] = to, subject
    message.set_content(text)
    with smtplib.SMTP(current_app.config["SMTP_HOST"], int(current_app.config.get("SMTP_PORT", 25)), timeout=10) as smtp:
        smtp.send_message(message)


_FAILED = (sa.update(_DELIVERIES).where(_DELIVERIES.c.key == sa.bindparam("k"))
           .values(status=sa.case((_DELIVERIES.c.attempts + 1 >= 6, "failed"), else_="pending"),
                   last_error=sa.bindparam("error"), attempts=_DELIVERIES.c.attempts + 1))
# No parameter is named like a column of either table: an UPDATE takes such a parameter as a value to SET.
_SENT_MANY = (sa.update(_DELIVERIES).where(_DELIVERIES.c.id.in_(sa.bindparam("delivery_ids", expanding=True)))
              .values(status="sent", sent_at=sa.bindparam("now"), last_error=None,
                      attempts=_DELIVERIES.c.attempts + 1))
_PROCESSED_MANY = (sa.update(_OUTBOX).where(_OUTBOX.c.id.in_(sa.bindparam("message_ids", expanding=True)))
                   .values(processed_at=sa.bindparam("now")))
# PostgreSQL: the deliveries sent and the messages done, recorded by one statement (one round trip).
_SENT_AND_PROCESSED = _PROCESSED_MANY.add_cte(_SENT_MANY.returning(_DELIVERIES.c.id).cte("sent"))
# A claim held and not used (its message failed before reaching it) is given back, so that the retry need not
# wait for the lease; a renewal pushes the lease of the claims still to be used. Both touch only the rows
# still under this job's claim (status and claimed_at as it wrote them).
_OURS = sa.and_(_DELIVERIES.c.id.in_(sa.bindparam("delivery_ids", expanding=True)), _DELIVERIES.c.status == "sending",
                _DELIVERIES.c.claimed_at == sa.bindparam("then", type_=_DELIVERIES.c.claimed_at.type))
_RELEASE = sa.update(_DELIVERIES).where(_OURS).values(status="pending", claimed_at=None)
_RENEW = (sa.update(_DELIVERIES).where(_OURS)
          .values(claimed_at=sa.bindparam("now", type_=_DELIVERIES.c.claimed_at.type)).returning(_DELIVERIES.c.id))
_STATUSES = sa.select(_DELIVERIES.c.key, _DELIVERIES.c.status)

CLAIM_CHUNK = 10  # messages whose keys one statement claims, and whose deliveries one statement records
RECORD_SECONDS = 0.2  # the longest a sent delivery waits for its record while a slow chunk goes on
SENT, HELD = "sent", "held"


class _Ledger:
    """A job's claims and records of deliveries, written in few statements: the keys of up to CLAIM_CHUNK
    messages claimed by one, and their deliveries sent and the messages done recorded together by one at the
    end of the chunk (sooner when the chunk takes RECORD_SECONDS, and whenever something fails). Before, each
    delivery took a statement for its claim and one for its record, two round trips and two commits per
    notification: `bench/intake_cost.py --case deliver` 2.42 M instructions per message then, 2.26 M after,
    and 0.2 statements per message instead of 2 for PostgreSQL to run and commit (2.29 -> 2.02 M once the
    claim's rows came as arrays, `_claim_statement`).

    What it changes on a crash: a worker killed after its POST and before the record sends the key again once
    the lease is over, under the same X-Delivery-Id, as before; now that can be the deliveries of up to a
    chunk of messages (sent in its last RECORD_SECONDS at most) instead of one message's. Keys claimed and
    not yet posted wait for the lease, as a single claim did; a job that goes on gives back the claims it did
    not use. A claim is never used older than a third of the lease: the chunk's claims still to be used are
    renewed first, so that a POST (its timeouts are held below the lease) ends while the key is ours."""

    def __init__(self, writer: _Writer):
        self.writer = writer
        self.lease = timedelta(seconds=current_app.config.get("DELIVERY_LEASE_SECONDS", 60))
        self.claimed_at = None
        self.unused: dict[str, str] = {}  # key -> delivery id: claimed, neither posted nor failed yet
        self.sent: list[str] = []
        self.done: list[OutboxMessage] = []
        self.recorded = time.monotonic()

    def claim(self, wanted: list[tuple[str, int, str, str, str]], known: dict[str, Delivery] | None = None) -> dict:
        """key -> _Attempt, SENT or HELD for each (key, outbox id, channel, target, topic). `known`: the
        deliveries already looked up (a sent key among them needs no statement)."""
        states, rows = {}, {}
        for key, outbox_id, channel, target, topic in wanted:
            row = (known or {}).get(key)
            if row is not None and row.status == "sent":
                states[key] = SENT
            else:
                rows[key] = (outbox_id, channel, target, topic)
        if not rows:
            return states
        self.release(list(self.unused))  # a failed message's leftovers: every unused claim shares claimed_at
        now = utcnow()
        # In key order: two jobs claiming some of the same keys lock their rows in the same order.
        taken = self.writer.execute(_claim_statement(self.writer.dialect), _claim_parameters(
            self.writer.dialect, [(key, *row) for key, row in sorted(rows.items())], now, now - self.lease))
        self.claimed_at = now
        for row in taken:
            states[row.key] = _Attempt(row.id, row.key)
            self.unused[row.key] = row.id
        others = [key for key in rows if key not in states]
        if others:  # sent by an earlier job, or claimed by a twin whose lease is not over
            found = {row.key: row.status for row in self.writer.execute(
                _STATUSES.where(in_values(_DELIVERIES.c.key, others)), {})}
            for key in others:  # a row gone meanwhile (nothing deletes one) is left for the retry too
                states[key] = SENT if found.get(key) == "sent" else HELD
        return states

    def usable(self, attempt: _Attempt) -> bool:
        """Whether the claim is still this job's to use (renewed first when older than a third of the lease)."""
        if attempt.key not in self.unused:
            return False
        if utcnow() - self.claimed_at > self.lease / 3:
            now, ids = utcnow(), list(self.unused.values())
            kept = {row.id for row in self.writer.execute(_RENEW, {"delivery_ids": ids, "then": self.claimed_at,
                                                                   "now": now})}
            self.claimed_at = now
            self.unused = {key: i for key, i in self.unused.items() if i in kept}
        return attempt.key in self.unused

    def posted(self, attempt: _Attempt) -> None:
        del self.unused[attempt.key]
        self.sent.append(attempt.id)

    def finished(self, message: OutboxMessage) -> None:
        self.done.append(message)
        if time.monotonic() - self.recorded >= RECORD_SECONDS:
            self.record()

    def failed(self, attempt: _Attempt, error: str) -> None:
        """The attempt is recorded (which ends its claim), after what was sent before it."""
        del self.unused[attempt.key]
        self.record()
        self.writer.execute(_FAILED, {"k": attempt.key, "error": error})

    def release(self, keys) -> None:
        ids = [self.unused.pop(key) for key in keys if key in self.unused]
        if ids:
            self.writer.execute(_RELEASE, {"delivery_ids": ids, "then": self.claimed_at})

    def record(self) -> None:
        sent, done, now = self.sent, [m.id for m in self.done], utcnow()
        if sent and done and self.writer.dialect == "postgresql":
            self.writer.execute(_SENT_AND_PROCESSED, {"delivery_ids": sent, "message_ids": done, "now": now})
        else:
            if sent:
                self.writer.execute(_SENT_MANY, {"delivery_ids": sent, "now": now})
            if done:
                self.writer.execute(_PROCESSED_MANY, {"message_ids": done, "now": now})
        for message in self.done:
            set_committed_value(message, "processed_at", now)  # what the statement wrote, without a second UPDATE
        self.sent, self.done, self.recorded = [], [], time.monotonic()

    def close(self) -> None:
        """Records what is left and gives back the claims not used."""
        self.record()
        self.release(list(self.unused))


def _deliver(ledger: _Ledger, message: OutboxMessage, recipients, states: dict) -> dict:
    """Deliver one message's notifications under the ledger's claims (`states`, by key). A delivery that fails
    is recorded with what was sent before it, and DeliveryFailed is raised (the ledger gives back the claims
    not used when it closes); a key held by another job is left to it, the others are sent, and DeliveryFailed is raised
    once they are recorded, so that the retry finds the message unprocessed."""
    sent = skipped = 0
    held, unique = [], {}
    for recipient in recipients:  # the same recipient twice is one delivery
        unique.setdefault(_key(message.id, recipient[0], recipient[1]), recipient)
    for key, (channel, target, secret, subject) in unique.items():
        attempt = states[key]
        if attempt == SENT:
            skipped += 1
            continue
        if attempt == HELD or not ledger.usable(attempt):
            held.append(channel)
            continue
        if channel == "webhook":
            action = functools.partial(_post, attempt, target, secret,
                                       {"topic": message.topic, "item": item_summary(_item(message))})
        elif channel == "email":
            action = functools.partial(_email, target, subject, subject)
        else:
            action = functools.partial(log.info, "notify %s: %s", target, subject)
        try:
            action()
        except (OSError, urllib3.exceptions.HTTPError, smtplib.SMTPException, DeliveryFailed) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            ledger.failed(attempt, error)
            raise DeliveryFailed(error) from None
        ledger.posted(attempt)
        sent += 1
    if held:
        ledger.record()
        raise DeliveryFailed(f"held by another job: {', '.join(held)} of message {message.id}")
    ledger.finished(message)
    return {"sent": sent, "skipped": skipped}


def _targets(message: OutboxMessage) -> list[tuple[str, str, str | None, str]]:
    """(channel, target, secret, subject) for each recipient of the message."""
    config = current_app.config
    targets = []
    if message.topic.startswith("clock."):
        alert = db.session.get(ClockAlert, message.payload.get("alert_id"))
        item = db.session.get(FeedbackItem, alert.item_id) if alert else None
        if item is None:
            return []
        roles = ("agency_admin",) if alert.level == "warning" else ("coordinator", "manager")
        staff = db.session.scalars(sa.select(StaffUser).where(
            StaffUser.role.in_(roles), StaffUser.active.is_(True),
            sa.or_(StaffUser.agency_id == item.agency_id, StaffUser.agency_id.is_(None)))).all()
        subject = f"[{alert.level}] {item.tracking_code}: {alert.goal} deadline {item.due_at if alert.goal == 'resolve' else item.ack_due_at}"
        for user in staff:
            if user.email and config.get("SMTP_HOST"):
                targets.append(("email", user.email, None, subject))
            else:  # no way to reach the person: recorded, and visible to admins in the deliveries
                targets.append(("log", f"staff:{user.id}", None, subject))
        return targets
    item = _item(message)
    if item is None:
        return []
    if message.topic in AGENCY_TOPICS and item.agency_id:
        agency = db.session.get(Agency, item.agency_id)
        if agency.webhook_url:
            targets.append(("webhook", agency.webhook_url, agency.webhook_secret, ""))
        if agency.email and config.get("SMTP_HOST"):
            targets.append(("email", agency.email, None, f"Phản ánh mới {item.tracking_code}"))
    if _citizen_app_hears(message.topic, item):
        targets.append(("webhook", config["CITIZEN_APP_WEBHOOK_URL"], config.get("CITIZEN_APP_WEBHOOK_SECRET"), ""))
    return targets


def _key(outbox_id: int, channel: str, target: str) -> str:
    """A delivery's unique key: one per message and recipient."""
    return f"{outbox_id}:{channel}:{target}"


def _wanted(message: OutboxMessage, recipients) -> list[tuple[str, int, str, str, str]]:
    return [(_key(message.id, channel, target), message.id, channel, target, message.topic)
            for channel, target, _, _ in recipients]


def handle_message(outbox_id: int, *, known: dict[str, Delivery] | None = None,
                   targets: list[tuple[str, str, str | None, str]] | None = None, writer: _Writer | None = None) -> dict:
    """Deliver every notification an outbox message stands for; already-sent ones are skipped. `targets`: the
    recipients when the caller has worked them out; `known`: deliveries already looked up. What is recorded
    commits as it goes, whatever the caller's session does."""
    if writer is None:
        with _writer() as own:
            return handle_message(outbox_id, known=known, targets=targets, writer=own)
    message = db.session.get(OutboxMessage, outbox_id)
    if message is None:
        return {"sent": 0, "skipped": 0}
    recipients = _targets(message) if targets is None else targets
    ledger = _Ledger(writer)
    try:
        return _deliver(ledger, message, recipients, ledger.claim(_wanted(message, recipients), known))
    finally:
        ledger.close()


def handle_batch(outbox_ids: list[int]) -> dict:
    """Deliver a batch of outbox messages. A delivery that fails does not stop the others; DeliveryFailed is
    raised at the end so that the job is retried, and the retry skips what is done.

    One query loads the batch, one its items, one their agencies, into a session that keeps them after its
    commit (the caller's session is left as it was)."""
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        return _deliver_batch(outbox_ids)
    finally:
        session.expire_on_commit = expire_on_commit


def _deliver_batch(outbox_ids: list[int]) -> dict:
    pending = db.session.scalars(sa.select(OutboxMessage).where(
        in_values(OutboxMessage.id, outbox_ids), OutboxMessage.processed_at.is_(None),
    ).order_by(OutboxMessage.id)).all()
    item_ids = {uuid.UUID(m.payload["item_id"]) for m in pending if (m.payload or {}).get("item_id")}
    # Held here: the session's identity map keeps objects only while something refers to them.
    items = db.session.scalars(
        sa.select(FeedbackItem).where(in_values(FeedbackItem.id, item_ids))).all() if item_ids else []
    agency_ids = {item.agency_id for item in items if item.agency_id is not None}
    agencies = db.session.scalars(sa.select(Agency).where(Agency.id.in_(agency_ids))).all() if agency_ids else []
    totals = {"messages": len(outbox_ids), "processed": 0, "sent": 0, "skipped": 0}
    # A message nobody is to hear of (no webhook, no e-mail for its topic) has nothing to send: all of those
    # are marked processed by one UPDATE and one commit, instead of a transaction each.
    targets = {m.id: _targets(m) for m in pending}
    silent = [message_id for message_id, recipients in targets.items() if not recipients]
    if silent:
        db.session.execute(sa.update(OutboxMessage.__table__).where(
            in_values(OutboxMessage.__table__.c.id, silent), OutboxMessage.__table__.c.processed_at.is_(None),
        ).values(processed_at=utcnow()))
        totals["processed"] += len(silent)
    # The batch's reads end here: nothing is held open while the webhooks are posted. The deliveries already
    # recorded need no look-up: the claims find them (a sent key is not taken).
    db.session.commit()
    rest = [m for m in pending if targets[m.id]]
    failed = []
    with _writer() as writer:
        ledger = _Ledger(writer)
        try:
            for start in range(0, len(rest), CLAIM_CHUNK):
                chunk = rest[start:start + CLAIM_CHUNK]
                states = ledger.claim([wanted for m in chunk for wanted in _wanted(m, targets[m.id])])
                for message in chunk:
                    try:
                        result = _deliver(ledger, message, targets[message.id], states)
                    except DeliveryFailed:
                        failed.append(message.id)
                        continue
                    totals["processed"] += 1
                    totals["sent"] += result["sent"]
                    totals["skipped"] += result["skipped"]
                ledger.record()
        finally:
            ledger.close()
    del items, agencies, targets
    if failed:
        raise DeliveryFailed(f"{len(failed)} of {len(outbox_ids)} messages not delivered: {failed[:20]}")
    return totals
