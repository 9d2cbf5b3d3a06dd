"""People over time: the posts a person holds, transfers and changes of role, corrections of
dates, and the links to villages by date (RULES.md §8; docs/rules.md §8).

A post is a role in a unit from one date through another, both included; a person's posts
never overlap. The person's ``role``, ``unit``, ``active_from`` and ``active_until`` sum their
posts up (``summarize``) for what does not depend on a date (who may administer whom, the
lists of the console); everything that does — check-in, results, roll-ups, the phone's village
list — asks the posts for the date it is about.

Services take the actor and the data, check access, act and flush (the commit point commits).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from ..audit.models import record
from ..auth.models import FIELD_ROLES, User
from ..clock import today
from ..closing import guard
from ..compliance.engine import Held, Person
from ..errors import InvalidInput, NotFound
from ..extensions import db
from .models import POST_ORDER, LinkedVillage, Post, Unit, within

NO_START, NO_END = date.min, date.max


def _first(post: Post) -> date:
    return post.starts_on or NO_START


def _last(post: Post) -> date:
    return post.ends_on or NO_END


def in_order(posts) -> list[Post]:
    """Oldest first (a post with no start before any other)."""
    return sorted(posts, key=lambda p: (_first(p), p.id or 0))


# --- what posts say -----------------------------------------------------------------------

def in_effect(posts, day: date) -> Post | None:
    """The post that stands for the person on ``day``: the one held then, else the last one
    begun by then, else the first (someone yet to start)."""
    ordered = in_order(posts)
    held = next((p for p in ordered if p.in_force_on(day)), None)
    if held is not None:
        return held
    begun = [p for p in ordered if _first(p) <= day]
    return begun[-1] if begun else (ordered[0] if ordered else None)


def shown_on(posts, day: date) -> tuple[Post | None, bool]:
    """Where a person's results as of ``day`` are shown (RULES.md §8): under their cadre or
    secretary post held then, else — ended — under the last such post they held earlier in
    that year, with ``True`` for "post ended"; ``(None, False)`` when they held none in that
    year up to ``day`` (results are about village work: a later post of another kind ends
    it as leaving does)."""
    ordered = [p for p in in_order(posts) if p.role in FIELD_ROLES]
    held = next((p for p in ordered if p.in_force_on(day)), None)
    if held is not None:
        return held, False
    ended = [p for p in ordered if _last(p) < day and _last(p).year == day.year]
    return (ended[-1], True) if ended else (None, False)


def summarize(user: User, on: date | None = None) -> None:
    """Set the person's summary from their posts (see the module's docstring)."""
    on = on or today()
    posts = in_order(user.posts)
    if not posts:
        return
    current = in_effect(posts, on)
    user.role, user.unit = current.role, current.unit
    user.active_from, user.active_until = posts[0].starts_on, posts[-1].ends_on
    user.several_posts = len(posts) > 1
    user.post_changes_on = next_change([(p.starts_on, p.ends_on) for p in posts], on)


def next_change(dates, on: date) -> date | None:
    """The first date after ``on`` on which a post of (start, end) ``dates`` begins or ends."""
    changes = [start for start, _ in dates if start and start > on] + \
        [end + timedelta(days=1) for _, end in dates if end and end >= on]
    return min(changes, default=None)


def refresh_summary(user: User) -> None:
    """The caller's summary as of today, in this request only, once a date it depended on
    has come (a transfer recorded ahead takes effect that morning for what they may do). Set
    as loaded values, so a read — even on a read-only replica — writes nothing; the stored
    summary is made again by the next change of the person's posts."""
    if user.post_changes_on is None or user.post_changes_on > today():
        return
    current = in_effect(user.posts, today())
    if current is not None:
        for name, value in (("role", current.role), ("unit_id", current.unit_id),
                            ("unit", current.unit)):
            set_committed_value(user, name, value)


def begun(person: User) -> list[Post]:
    """The posts a person has begun by today (a post recorded ahead does not count yet)."""
    day = today()
    return [p for p in in_order(person.posts) if p.starts_on is None or p.starts_on <= day]


def current_post(person: User) -> Post | None:
    """The post in effect today (``in_effect``)."""
    return in_effect(person.posts, today())


def held(user_ids) -> dict[int, tuple[Held, ...]]:
    """Per person: their posts as results see them, oldest first (one query)."""
    found: dict[int, list[Held]] = defaultdict(list)
    rows = db.session.execute(select(Post.user_id, Post.role, Post.starts_on, Post.ends_on)
                              .where(Post.user_id.in_(user_ids))
                              .order_by(Post.user_id, *POST_ORDER))
    for user_id, role, start, end in rows:
        found[user_id].append(Held(role, start, end))
    return {uid: tuple(posts) for uid, posts in found.items()}


def person_of(user: User) -> Person:
    """The engine's view of a person: their summary role and every post."""
    return Person(user.role, user.active_from, user.active_until,
                  tuple(Held(p.role, p.starts_on, p.ends_on) for p in in_order(user.posts)))


def field_township_on(user: User, day: date) -> int | None:
    """The id of the township where the person holds a cadre or secretary post on ``day``.
    One post is its summary (no query); several are asked."""
    if not user.several_posts:
        held_then = within(day, user.active_from, user.active_until)
        return user.unit_id if held_then and user.role in FIELD_ROLES else None
    post = field_post_on(user, day)
    return post.unit_id if post is not None else None


def field_post_on(user: User, day: date) -> Post | None:
    """The cadre or secretary post the person holds on ``day``, if any."""
    post = user.post_on(day)
    return post if post is not None and post.role in FIELD_ROLES else None


# --- checks -------------------------------------------------------------------------------

def check_role_unit(role: str, unit: Unit | None, field: str = "unit_code") -> None:
    """Cadres and secretaries hold posts in a township; supervisors in some unit."""
    if unit is None and role in (*FIELD_ROLES, "supervisor"):
        raise InvalidInput("unit_required", errors={field: ["required"]})
    if role in FIELD_ROLES and unit.level != "township":
        raise InvalidInput("unit_not_township", errors={field: ["township required"]},
                           code=unit.code)


def _overlap(posts, start: date | None, end: date | None, but: Post | None = None) -> Post | None:
    """The first of ``posts`` (other than ``but``) that shares a day with start..end."""
    first, last = start or NO_START, end or NO_END
    return next((p for p in in_order(posts)
                 if p is not but and _first(p) <= last and first <= _last(p)), None)


def _refuse_overlap(post: Post, field: str = "from") -> None:
    raise InvalidInput("post_overlap", errors={field: [f"overlaps post {post.id}"]},
                       post_id=post.id, start=post.starts_on or "—", end=post.ends_on or "—")


def _check_dates(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise InvalidInput("invalid_input", errors={"until": ["before from"]})


# --- acting -------------------------------------------------------------------------------

def _audit(actor: User | None, user: User, action: str, post: Post, before=None) -> None:
    if actor is not None:
        details = {"post_id": post.id, "unit_code": post.unit_code, "role": post.role,
                   "from": str(post.starts_on) if post.starts_on else None,
                   "until": str(post.ends_on) if post.ends_on else None}
        if before is not None:
            details["before"] = before
        record(actor.id, "user", user.id, action, details)


def first_post(user: User, unit: Unit | None, role: str, start: date | None,
               end: date | None) -> Post:
    """The post a new person starts with (no start: from always, as before posts existed)."""
    _check_dates(start, end)
    post = Post(unit=unit, role=role, starts_on=start, ends_on=end)
    user.posts.append(post)
    summarize(user)
    return post


def change_post(actor: User | None, user: User, unit: Unit | None, role: str,
                start: date) -> Post:
    """A transfer or a change of role from ``start``: the post held then (or the last one
    begun before it and still open) ends the day before; links to villages outside the new
    township end then too. A post begun on or after ``start`` is refused: that is a
    correction of dates, not a change."""
    check_role_unit(role, unit)
    check_change(user, start)
    guard.ensure_person_open(user, [start.year], unit)
    for post in cut_by(user, start):
        post.ends_on = start - timedelta(days=1)
    new = Post(unit=unit, role=role, starts_on=start)
    user.posts.append(new)
    _end_links_outside(user, unit if role in FIELD_ROLES else None, start)
    summarize(user)
    db.session.flush()
    _audit(actor, user, "post_started", new)
    return new


def lock(user: User) -> None:
    """Hold the person's row until the commit, and read their posts and links afresh: two
    changes of one person's posts at once are made one after the other, never interleaved
    (on SQLite every write transaction already is)."""
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    db.session.expire(user, ["posts", "links"])


def cut_by(user: User, start: date) -> list[Post]:
    """The posts a new post from ``start`` would end (those still held on or after it)."""
    return [p for p in user.posts if _last(p) >= start]


def check_change(user: User, start: date) -> None:
    """Refuse a new post from ``start`` when a post of the person begins on or after it."""
    later = [p for p in in_order(user.posts) if _first(p) >= start]
    if later:
        raise InvalidInput("before_current_post", errors={"from": ["before current post"]},
                           post_id=later[0].id, start=later[0].starts_on)


def _end_links_outside(user: User, township: Unit | None, start: date) -> None:
    """End, the day before ``start``, the person's links to villages outside ``township``
    (all of them when the new post is not a cadre's or secretary's)."""
    for link in list(user.links):
        if township is not None and link.village.township_id == township.id:
            continue
        if link.starts_on is not None and link.starts_on >= start:
            user.links.remove(link)  # never took effect
        elif link.ends_on is None or link.ends_on >= start:
            link.ends_on = start - timedelta(days=1)


def correct_post(actor: User | None, user: User, post: Post, data: dict) -> Post:
    """Correct a post's dates (audited): 422 when it would overlap another post."""
    start = data["starts_on"] if "starts_on" in data else post.starts_on
    end = data["ends_on"] if "ends_on" in data else post.ends_on
    _check_dates(start, end)
    clash = _overlap(user.posts, start, end, but=post)
    if clash is not None:
        _refuse_overlap(clash, "from" if "starts_on" in data else "until")
    guard.ensure_person_open(user, [*guard.changed_years(post.starts_on, start, end=False),
                                    *guard.changed_years(post.ends_on, end, end=True)])
    before = {"from": str(post.starts_on) if post.starts_on else None,
              "until": str(post.ends_on) if post.ends_on else None}
    post.starts_on, post.ends_on = start, end
    if end is not None:  # 免职: the links of the post end with it, unless the next one keeps them
        after = next((p for p in user.posts if p.in_force_on(end + timedelta(days=1))), None)
        kept = after.unit if after is not None and after.role in FIELD_ROLES else None
        _end_links_outside(user, kept, end + timedelta(days=1))
    summarize(user)
    db.session.flush()
    _audit(actor, user, "post_corrected", post, before)
    return post


def edit_in_effect(user: User, unit: Unit | None, role: str, start: date | None,
                   end: date | None) -> None:
    """``PATCH /users/<id>`` on unit, role or active dates: the unit and role of the post in
    effect, the first post's start and the last post's end (a correction, checked for
    overlap like one)."""
    posts = in_order(user.posts)
    current = in_effect(posts, today())
    guard.ensure_person_open(user, [
        *(guard.years_between(current.starts_on, current.ends_on)
          if (current.unit, current.role) != (unit, role) else ()),
        *guard.changed_years(posts[0].starts_on, start, end=False),
        *guard.changed_years(posts[-1].ends_on, end, end=True)], unit)
    current.unit, current.role = unit, role
    if posts[0].starts_on != start:
        posts[0].starts_on = start
    if posts[-1].ends_on != end:
        posts[-1].ends_on = end
    for post in posts:
        _check_dates(post.starts_on, post.ends_on)
        clash = _overlap(posts, post.starts_on, post.ends_on, but=post)
        if clash is not None:
            _refuse_overlap(clash, "active_from")
    summarize(user)


def find_post(user: User, post_id: int) -> Post:
    post = next((p for p in user.posts if p.id == post_id), None)
    if post is None:
        raise NotFound()
    return post


# --- links by date --------------------------------------------------------------------------

def links_on(user_ids, day: date) -> dict[int, frozenset[int]]:
    """Per person: the ids of the villages linked to them on ``day``."""
    found: dict[int, set[int]] = defaultdict(set)
    for user_id, village_id in db.session.execute(select(
            LinkedVillage.user_id, LinkedVillage.village_id).where(
            LinkedVillage.user_id.in_(user_ids), LinkedVillage.in_force(day))):
        found[user_id].add(village_id)
    return {k: frozenset(v) for k, v in found.items()}


def dated_links(user_ids) -> dict[int, tuple]:
    """Per person: every link as (village id, first day, last day)."""
    found: dict[int, list] = defaultdict(list)
    for user_id, village_id, first, last in db.session.execute(select(
            LinkedVillage.user_id, LinkedVillage.village_id, LinkedVillage.starts_on,
            LinkedVillage.ends_on).where(LinkedVillage.user_id.in_(user_ids))):
        found[user_id].append((village_id, first, last))
    return {k: tuple(v) for k, v in found.items()}


def relink(user: User, post: Post, villages: list, start: date | None) -> None:
    """Make ``villages`` the person's links from ``start`` through the end of ``post`` (the
    cadre or secretary post held on ``start``): links of those dates not listed end the day
    before; listed villages not linked then get a link from ``start``. Links of other posts'
    dates (before the post, or after it ends) are left as they are. No start is for someone
    with no links yet: the links hold from always."""
    wanted = {v.id: v for v in villages}
    last = post.ends_on
    if start is None:
        user.links.extend(LinkedVillage(village=v, ends_on=last) for v in wanted.values())
        return
    kept = set()
    for link in list(user.links):
        if link.ends_on is not None and link.ends_on < start:
            continue  # history
        if last is not None and link.starts_on is not None and link.starts_on > last:
            continue  # a later post's
        if link.starts_on is not None and link.starts_on > start:
            user.links.remove(link)  # planned for a later date of this post: the new list wins
        elif link.village_id in wanted:
            kept.add(link.village_id)
            link.ends_on = last
        elif link.starts_on is not None and link.starts_on == start:
            user.links.remove(link)  # begun the same day: replaced, never in effect alone
        else:
            link.ends_on = start - timedelta(days=1)
    user.links.extend(LinkedVillage(village=v, starts_on=start, ends_on=last)
                      for vid, v in wanted.items() if vid not in kept)
