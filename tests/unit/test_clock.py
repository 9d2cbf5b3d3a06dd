"""The one clock: frozen in a block, it is what every service reads."""
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from server import clock
from server.db_types import utcnow


def test_a_frozen_clock_is_what_now_today_and_the_column_default_read():
    moment = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 March in Shanghai
    with clock.frozen_at(moment):
        assert clock.now() == moment == utcnow()
        assert clock.today() == date(2026, 3, 2)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_frozen_time_needs_an_offset_and_is_kept_in_utc():
    with pytest.raises(ValueError):
        with clock.frozen_at(datetime(2026, 3, 1, 9, 0)):
            pass
    with clock.frozen_at(datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))):
        assert clock.now() == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)


def test_local_day_bounds_are_the_local_midnights():
    start, end = clock.local_day_bounds(date(2026, 3, 2), date(2026, 3, 3))
    assert start == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
    assert clock.local_day_bounds(None, None) == (None, None)
