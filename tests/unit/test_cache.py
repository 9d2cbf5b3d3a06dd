"""The one bounded cache (server/cache.py), and the roll-up's plans keyed through it."""
import gc
import weakref
from datetime import date

import pytest

from server.cache import BoundedCache
from server.compliance.calendar import WorkingCalendar
from server.compliance.engine import period_containing
from server.compliance.rulebook import load_ruleset
from server.progress import rollup

AS_OF = date(2026, 6, 30)


def test_the_bound_holds():
    cache = BoundedCache(3)
    for i in range(100):
        cache.put(i, str(i))
        assert len(cache) <= 3
    assert cache.get(99) == "99"


def test_a_full_cache_is_emptied_before_a_new_key_is_kept():
    cache = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)  # full: emptied, then "c" kept
    assert "a" not in cache and "b" not in cache
    assert cache.get("c") == 3 and len(cache) == 1


def test_replacing_a_kept_key_does_not_empty_a_full_cache():
    cache = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    assert cache.get("a") == 10 and cache.get("b") == 2


def test_get_or_make_makes_once_per_key():
    cache = BoundedCache(10)
    made = []

    def make(key):
        return lambda: made.append(key) or key * 2

    assert [cache.get_or_make(k, make(k)) for k in (1, 2, 1, 2, 1, 3)] == [2, 4, 2, 4, 2, 6]
    assert made == [1, 2, 3]


def test_get_or_make_keeps_none_and_falsy_values():
    cache = BoundedCache(10)
    calls = []
    for _ in range(3):
        assert cache.get_or_make("none", lambda: calls.append(1)) is None
        assert cache.get_or_make("zero", lambda: calls.append(1) or 0) == 0
    assert len(calls) == 2


def test_get_or_make_makes_again_after_an_emptying():
    cache = BoundedCache(1)
    made = []
    for key in ("a", "b", "a"):
        cache.get_or_make(key, lambda key=key: made.append(key) or key)
    assert made == ["a", "b", "a"]


def test_get_is_a_plain_lookup_with_a_default():
    cache = BoundedCache(2)
    assert cache.get("missing") is None
    assert cache.get("missing", 7) == 7


def test_keys_must_be_hashable():
    with pytest.raises(TypeError):
        BoundedCache(2).get_or_make({"a": 1}, lambda: 1)


def test_a_size_below_one_is_refused():
    with pytest.raises(ValueError):
        BoundedCache(0)


def _starts():
    return sorted({period_containing(p, AS_OF).start for p in ("year", "quarter", "month")})


@pytest.fixture
def fresh_plans(monkeypatch):
    monkeypatch.setattr(rollup, "_plans", BoundedCache(64))
    return rollup._plans


def test_plans_are_kept_by_content_not_by_the_book_object(fresh_plans):
    calendar = WorkingCalendar()
    first, again = load_ruleset().default, load_ruleset().default  # equal, distinct objects
    assert first is not again
    plan = rollup._plan(first, "secretary", _starts(), calendar, AS_OF)
    assert [step.frame.rule.id for step in plan] == ["village_time", "thematic_reports"]
    assert rollup._plan(again, "secretary", _starts(), calendar, AS_OF) is plan
    assert rollup._plan(first, "cadre", _starts(), calendar, AS_OF) is not plan
    assert rollup._plan(first, "secretary", _starts(), calendar, date(2026, 7, 1)) is not plan
    assert len(fresh_plans) == 3


def test_a_kept_plan_holds_its_calendar_so_its_id_is_never_reused(fresh_plans):
    book = load_ruleset().default
    calendar = WorkingCalendar()
    held = weakref.ref(calendar)
    plan = rollup._plan(book, "cadre", _starts(), calendar, AS_OF)
    del calendar
    gc.collect()
    assert held() is not None  # alive while its plan is kept: no other calendar gets its id
    other = WorkingCalendar({2026: {date(2026, 6, 1): False}})
    assert rollup._plan(book, "cadre", _starts(), other, AS_OF) is not plan
    fresh_plans.clear()
    gc.collect()
    assert held() is None  # and freed once the plan is dropped


def test_shared_results_are_kept_per_value_and_bounded_per_step():
    step = rollup._Step(frame=None, column=0, per_unit=1, made=BoundedCache(3))
    made = []

    class Frame:
        def result(self, value):
            made.append(value)
            return ("result", value)

    step.frame = Frame()
    for value in (1, 2, 1, 3, 4, 5, 4):
        assert rollup._shared_result(step, (value,)) == ("result", value)
    assert made == [1, 2, 3, 4, 5]  # each value made once; 4 came after an emptying, then kept
    assert len(step.made) <= 3
