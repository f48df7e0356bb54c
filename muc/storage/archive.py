"""Reading the archive for XEP-0313 queries (runs in a worker thread, never on the loop).

Results are in archive order (the order the room broadcast them, XEP-0313
§4.2: "MUST be sorted in chronological order"); RSM ``after``/``before`` and
the ``before-id``/``after-id``/``ids`` fields are stanza-ids, and an unknown
one is reported so the caller can answer ``item-not-found`` (§4.1.3, §4.3.2).
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from muc.archive import ArchivePage, ArchiveQuery
from muc.storage.models import MessageRow, RoomRow


class UnknownId(LookupError):
    """A stanza-id named in the query is not in this room's archive."""


def query_archive(engine: Engine, q: ArchiveQuery) -> ArchivePage:
    """Run ``q``; raise :class:`UnknownId` for an id that isn't archived."""
    with Session(engine) as s:
        rid = s.scalar(select(RoomRow.id).where(RoomRow.jid == q.room))
        if rid is None:
            return ArchivePage()

        def row_id(stanza_id: str) -> int:
            found = s.scalar(select(MessageRow.id).where(MessageRow.room_id == rid,
                                                         MessageRow.stanza_id == stanza_id))
            if found is None:
                raise UnknownId(stanza_id)
            return found

        cond = [MessageRow.room_id == rid]
        if q.start is not None:
            cond.append(MessageRow.created_at >= q.start)
        if q.end is not None:
            cond.append(MessageRow.created_at <= q.end)
        if q.with_nick is not None:
            cond.append(MessageRow.nick == q.with_nick)
        if q.after_id:
            cond.append(MessageRow.id > row_id(q.after_id))
        if q.before_id:
            cond.append(MessageRow.id < row_id(q.before_id))
        if q.ids:
            for sid in q.ids:
                row_id(sid)
            cond.append(MessageRow.stanza_id.in_(q.ids))
        count = s.scalar(select(func.count(MessageRow.id)).where(*cond)) or 0
        page_cond = list(cond)
        newest_first = False
        if q.after:
            page_cond.append(MessageRow.id > row_id(q.after))
        elif q.before is not None:
            newest_first = True
            if q.before:
                page_cond.append(MessageRow.id < row_id(q.before))
        order = MessageRow.id.desc() if newest_first else MessageRow.id.asc()
        rows = list(s.execute(
            select(MessageRow.id, MessageRow.stanza_id, MessageRow.created_at, MessageRow.stanza)
            .where(*page_cond).order_by(order).limit(q.max + 1)).all())
        more = len(rows) > q.max
        rows = rows[: q.max]
        if newest_first:
            rows.reverse()
        first_index = None
        if rows:
            first_index = s.scalar(select(func.count(MessageRow.id))
                                   .where(*cond, MessageRow.id < rows[0][0])) or 0
        return ArchivePage(items=[(sid, at, stanza) for _, sid, at, stanza in rows],
                           complete=not more, count=count, first_index=first_index)
