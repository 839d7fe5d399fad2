"""What every view shares: the transaction boundary with Idempotency-Key, request payload parsing, uploads."""
from __future__ import annotations

import functools
import json

from flask import Response, current_app, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from feedback_app.extensions import db
from feedback_app.services import bulk, idempotency
from feedback_app.services.bulk import SELF_COMMITTING, SOLE_TRANSACTION
from feedback_app.services.clients import current_client
from feedback_app.services.errors import Conflict, DomainError, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from feedback_app.services.intake import Upload
from feedback_app.services.storage import LocalStorage, sniff_content_type

IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "Retry safely: the same key and body replays the first answer for 24 hours or more.",
}


def storage() -> LocalStorage:
    """The app's upload store, built once per app (and again if its directory setting changes)."""
    extensions, root = current_app.extensions, current_app.config["UPLOAD_DIR"]
    store = extensions.get("upload_storage")
    if store is None or store.root_setting != root:
        store = extensions["upload_storage"] = LocalStorage(root)
    return store


def read_payload() -> tuple[dict, list[tuple[str, object]]]:
    """JSON, or multipart form fields (flat, `contact.name` style, or one `data` JSON part) plus files."""
    mimetype = request.mimetype
    try:
        if mimetype == "application/json" or (mimetype or "").endswith("+json"):
            body = request.get_json(silent=True)
            if body is None:
                raise DomainError("invalid_json", errors={"json": ["body is not valid JSON"]})
            if not isinstance(body, dict):
                raise Unprocessable("validation_failed", errors={"json": ["an object is expected"]})
            return body, []
        if mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = request.form
            files = [(name, f) for name in request.files for f in request.files.getlist(name)]
        else:
            raise UnsupportedMediaType()
    except RequestEntityTooLarge:
        raise PayloadTooLarge() from None
    if any(not key for key in files_names(files)):
        raise Unprocessable("validation_failed", errors={"files": ["each file part needs a name"]})
    if "data" in form:
        try:
            body = json.loads(form["data"])
        except ValueError:
            raise DomainError("invalid_json", errors={"data": ["the data part is not valid JSON"]}) from None
        if not isinstance(body, dict):
            raise Unprocessable("validation_failed", errors={"data": ["an object is expected"]})
        extra = [k for k in form if k != "data"]
        if extra:
            raise Unprocessable("validation_failed", errors={k: ["Unknown field."] for k in extra})
        return body, files
    body: dict = {}
    if any(not key for key in form):
        raise Unprocessable("validation_failed", errors={"": ["Unknown field."]})
    for key in form:
        values = form.getlist(key)
        value = values[0] if len(values) == 1 else values
        if "." in key:
            outer, inner = key.split(".", 1)
            body.setdefault(outer, {})
            if isinstance(body[outer], dict):
                body[outer][inner] = value
        else:
            body[key] = value
    return body, files


def files_names(files) -> list:
    return [name for name, _ in files]


def read_uploads(files) -> list[Upload]:
    """Sniff each file from its bytes; refuse too many, too large, or not an image or MP4 video."""
    limit = current_app.config["UPLOAD_MAX_FILES"]
    max_bytes = current_app.config["UPLOAD_MAX_BYTES"]
    if len(files) > limit:
        raise Unprocessable("too_many_files", errors={"files": [f"at most {limit}"]}, limit=limit)
    uploads = []
    for index, (field_name, storage_file) in enumerate(files):
        name = storage_file.filename or f"{field_name}[{index}]"
        data = storage_file.stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise PayloadTooLarge("file_too_large", errors={"files": [name]}, name=name, limit_mb=max_bytes // 2**20)
        content_type = sniff_content_type(data[:8192])
        if content_type is None:
            raise UnsupportedMediaType("unsupported_file_type", errors={"files": [name]}, name=name)
        uploads.append(Upload(data=data, content_type=content_type))
    return uploads


def upload_fingerprints(uploads: list[Upload]) -> list[tuple[str, str]]:
    import hashlib

    return [(u.content_type, hashlib.sha256(u.data).hexdigest()) for u in uploads]


class _KeyTaken(Exception):
    """The Idempotency-Key was already held when the work came to be written: nothing was written."""


def _kept_headers(response) -> dict:
    # The Content-Type too: an Open311 answer may be XML, and its replay must say so.
    return {k: v for k, v in response.headers.items() if k in ("Location", "ETag", "Content-Type")}


def transactional(view=None, *, claim_in_statement: bool = False):
    """The one commit of a creating view, with Idempotency-Key honoured for the caller's client.

    The view stashes its parsed request on `request.idempotency_body`; the answer is stored in
    the same transaction as the work, so a crash leaves either both or neither.

    `claim_in_statement`: for a view whose writes are intake's rows (`bulk.insert_pending(last_write=True)`),
    on PostgreSQL. The key is not claimed before the work: its record, answer included, is written by the
    same statement as the rows, which writes nothing if the key is already held (`bulk.insert_with_claim`).
    Then, and only then, the usual claim decides: a replay of the stored answer, a 422 for another body, a
    409 while a twin runs, or the work again under the claim (a record that had expired). A twin that arrives
    while the first request runs waits on the key's unique index and replays its answer. One round trip
    instead of four (claim, work, answer, commit).
    """
    if view is None:
        return functools.partial(transactional, claim_in_statement=claim_in_statement)

    def run_and_commit(*args, before_commit=None, **kwargs):
        # A unique-key clash on a random code (tracking code) is retried with fresh codes;
        # one that persists is a real conflict: 409, never a 500.
        # A connection cut before the commit (a database restart, a killed backend) is retried once on a
        # fresh connection: nothing was written. A cut during the commit is not: it may have landed, and
        # the client gets a 503 to retry with its Idempotency-Key.
        reconnected = False
        session = db.session()  # the request's session itself, not the scoped proxy on every use
        for _ in range(4):
            committing = False
            session.info[SELF_COMMITTING] = False
            try:
                response = view(*args, **kwargs)
                if not 200 <= response.status_code < 300:
                    return response
                if before_commit is not None:
                    before_commit(response)
                committing = True
                # Already committed by its own statement, and nothing since: the teardown releases the connection.
                if not (session.info.get(SELF_COMMITTING) and not (session.new or session.dirty or session.deleted)):
                    session.commit()
                return response
            except IntegrityError:
                session.rollback()
            except DBAPIError as exc:
                # A cut during a statement that commits itself (bulk.insert_pending) is a cut during a commit.
                committing = committing or session.info.get(SELF_COMMITTING)
                if committing or reconnected or not exc.connection_invalidated:
                    raise
                session.rollback()
                reconnected = True
        raise Conflict()

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        if key is None:
            # Nothing to write beside the view's own work: its one statement may commit itself.
            db.session.info[SOLE_TRANSACTION] = True
            try:
                return run_and_commit(*args, **kwargs)
            finally:
                db.session.info.pop(SOLE_TRANSACTION, None)
        if not (1 <= len(key) <= 200) or not key.isprintable():
            raise DomainError("idempotency_key_invalid", errors={"Idempotency-Key": ["1 to 200 printable characters"]})
        body, files = read_payload()
        uploads = read_uploads(files)
        request.parsed_payload = (body, uploads)
        config = current_app.config
        scope = current_client().scope
        request_hash = idempotency.fingerprint(method=request.method, path=request.path, body=body,
                                               files=upload_fingerprints(uploads))
        if claim_in_statement and db.engine.dialect.name == "postgresql":
            response = claim_with_work(scope, key, request_hash, args, kwargs)
            if response is not None:
                return response
        claim = idempotency.claim(
            scope=scope,
            key=key,
            request_hash=request_hash,
            ttl_hours=config["IDEMPOTENCY_TTL_HOURS"],
            lock_seconds=config["IDEMPOTENCY_LOCK_SECONDS"],
        )
        if isinstance(claim, idempotency.Replay):
            replay = Response(claim.body, status=claim.status, mimetype="application/json")
            for name, value in claim.headers.items():
                replay.headers[name] = value
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        def store_answer(response):
            idempotency.complete(claim, status=response.status_code, body=response.get_data(as_text=True),
                                 headers=_kept_headers(response))

        try:
            response = run_and_commit(*args, before_commit=store_answer, **kwargs)
        except BaseException:
            db.session.rollback()
            idempotency.release(claim)
            raise
        if not 200 <= response.status_code < 300:
            db.session.rollback()
            idempotency.release(claim)
        return response

    def claim_with_work(scope: str, key: str, request_hash: str, args, kwargs):
        """The view's work and the key's record in one statement; None when the key was already held."""
        session = db.session()
        record = idempotency.new_record(scope=scope, key=key, request_hash=request_hash,
                                        ttl_hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])

        def write_with_answer(response):
            record.update(state="done", response_status=response.status_code,
                          response_body=response.get_data(as_text=True), response_headers=_kept_headers(response))
            if not bulk.insert_with_claim(record):
                raise _KeyTaken()

        session.info[bulk.CLAIM_IN_STATEMENT] = session.info[SOLE_TRANSACTION] = True
        try:
            response = run_and_commit(*args, before_commit=write_with_answer, **kwargs)
        except _KeyTaken:
            session.rollback()
            return None
        finally:
            for flag in (bulk.CLAIM_IN_STATEMENT, SOLE_TRANSACTION, bulk.DEFERRED):
                session.info.pop(flag, None)
        if not 200 <= response.status_code < 300:
            session.rollback()  # nothing was written, and the key was never held
        return response

    return wrapper


def read_only() -> None:
    """This request only reads: its statements run in autocommit, each one its own snapshot, and no BEGIN and
    ROLLBACK round trips around them. Called before the request's first statement; the connection goes back
    to the pool in its usual mode. A write attempted afterwards would commit at once: only for views that
    never write."""
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def parsed_request() -> tuple[dict, list[Upload]]:
    """The request body and its uploads, parsed once per request."""
    if not hasattr(request, "parsed_payload"):
        body, files = read_payload()
        request.parsed_payload = (body, read_uploads(files))
    return request.parsed_payload
