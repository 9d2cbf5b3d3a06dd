"""The demo county 示范县 for ``zaicun seed-demo`` and ``zaicun serve --demo``.

A province, a city, the county, three townships with thirty villages, twenty-five people in
every role, about a year of visits ending today and the secretaries' thematic reports.

The year is lived, not written: a simulation decides who goes to which village when, where
the phone says they are and when its requests reach the server, and then makes those
requests — ``create_visit``, ``check_out``, ``explain``, ``review``, ``withdraw``,
``create_report`` … — with the server's clock set to the moment each arrives
(``clock.frozen_at``). Flags, statuses, distances, credits and the audit trail are therefore
exactly what production computes for such a year. The same seed gives the same county; only
"today" moves.
"""
from __future__ import annotations

import heapq
import itertools
import math
import random
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from . import clock
from .auth.models import User
from .auth.passwords import check_policy, hash_password, verify_password
from .closing.services import close_year
from .errors import Conflict
from .evaluation.rectifications import add_note as add_rectification_note
from .evaluation.rectifications import create_item as create_rectification
from .evaluation.rectifications import review_item as review_rectification
from .evaluation.schemas import RectificationCreateSchema, RectificationNoteCreateSchema
from .extensions import db
from .geo import distance_m
from .org.models import LinkedVillage, Unit
from .org.posts import first_post
from .org.schemas import (
    LinkedVillagesSchema,
    PostCreateSchema,
    UnitCreateSchema,
    VillageCreateSchema,
)
from .org.services import (
    change_post,
    check_role_unit,
    create_unit,
    create_village,
    set_linked_villages,
)
from .progress.facts import working_calendar
from .progress.models import MonthCredit
from .progress.schemas import AbsenceCreateSchema
from .progress.services import create_absence
from .reports.schemas import ReportCreateSchema, ReportReviewSchema
from .reports.services import create_report, load_report, review_report
from .visits.models import Visit
from .visits.schemas import CheckOutSchema, ExplainSchema, ReviewSchema, VisitCreateSchema
from .visits.services import check_out, create_visit, explain, load_visit, review, withdraw

DEMO_PASSWORD = "zaicun-demo"
DEMO_CADRE = "cadre1"
SEED = 20260301
HISTORY_DAYS = 365

COUNTY = ("341122", "示范县")
UNITS_ABOVE = (("34", "安徽省", "province", None), ("3411", "滁州市", "city", "34"))
# (code, name, centre, village names)
TOWNSHIPS = (
    ("341122100", "东山镇", (32.520, 118.470),
     ("桃园村", "柳塘村", "杨庄村", "石桥村", "双河村", "大李村", "小王庄村", "龙湾村", "白塔村",
      "新华村")),
    ("341122101", "青溪镇", (32.430, 118.585),
     ("青溪村", "枫林村", "荷塘村", "王圩村", "长岗村", "陈集村", "三合村", "前进村", "梅山村",
      "金牛村")),
    ("341122200", "石塘乡", (32.355, 118.380),
     ("石塘村", "马岗村", "高庙村", "竹园村", "沙河村", "周湾村", "团结村", "黄泥岗村", "卧龙村",
      "花园村")),
)
# (username, name, role, unit code)
STAFF = (
    ("admin", "陈立新", "admin", "341122"),
    ("supervisor", "孙建国", "supervisor", "341122"),
    ("supervisor2", "刘慧敏", "supervisor", "341122"),
    ("townsup", "周文斌", "supervisor", "341122100"),
)
# (username, name, role, township code, village days per working day the person keeps to):
# a third of the working days is 0.333, so 0.35+ is on track, ~0.3 at risk, lower behind.
FIELD_PEOPLE = (
    ("secretary1", "王志强", "secretary", "341122100", 0.37),
    ("cadre1", "赵明", "cadre", "341122100", 0.37),
    ("cadre2", "杨丽华", "cadre", "341122100", 0.42),
    ("cadre3", "黄海涛", "cadre", "341122100", 0.355),
    ("cadre4", "吴晓燕", "cadre", "341122100", 0.30),
    ("cadre5", "徐国庆", "cadre", "341122100", 0.24),
    ("cadre6", "胡静", "cadre", "341122100", 0.36),
    ("secretary2", "李春梅", "secretary", "341122101", 0.30),
    ("cadre7", "朱建华", "cadre", "341122101", 0.38),
    ("cadre8", "郭振宇", "cadre", "341122101", 0.36),
    ("cadre9", "何秀兰", "cadre", "341122101", 0.27),
    ("cadre10", "高永刚", "cadre", "341122101", 0.37),
    ("cadre11", "林小红", "cadre", "341122101", 0.18),
    ("cadre12", "马俊", "cadre", "341122101", 0.355),
    ("secretary3", "张德胜", "secretary", "341122200", 0.36),
    ("cadre13", "罗斌", "cadre", "341122200", 0.37),
    ("cadre14", "梁婷婷", "cadre", "341122200", 0.31),
    ("cadre15", "宋志刚", "cadre", "341122200", 0.40),
    ("cadre16", "郑丽", "cadre", "341122200", 0.22),
    ("cadre17", "谢宏伟", "cadre", "341122200", 0.36),
    ("cadre18", "韩雪", "cadre", "341122200", 0.29),
)
# The supervisor of one township (the others are the county's), and that township.
TOWNSHIP_SUPERVISOR = next((username, unit) for username, _, role, unit in STAFF
                           if role == "supervisor" and unit != COUNTY[0])
ROLE_LABELS = {"admin": "管理员 admin", "supervisor": "组织部督导 supervisor",
               "secretary": "乡镇党委书记 secretary", "cadre": "班子成员 cadre"}

ACTIVITIES = (("household_visit", 40), ("village_service", 24), ("research", 12),
              ("meeting", 14), ("other", 4), (None, 6))
NOTES = {
    "household_visit": ("走访脱贫户，了解务工和收入情况", "走访独居老人，检查冬季取暖安全",
                        "入户宣传城乡居民医保缴费政策", "走访困难党员，送去慰问",
                        "了解留守儿童就学情况"),
    "village_service": ("在村便民服务站坐班，代办社保认证", "协调解决村组道路维修问题",
                        "调解邻里宅基地纠纷", "检查村级防汛物资储备", "督导人居环境整治"),
    "research": ("调研村集体经济项目进展", "调研高标准农田建设", "调研稻虾共养产业发展",
                 "了解土地流转情况"),
    "meeting": ("参加村两委班子会议", "列席村党支部主题党日", "组织召开村民代表会议",
                "指导村党支部三会一课"),
    "other": ("陪同县检查组到村", "秸秆禁烧巡查"),
    "overnight_stay": ("驻村住宿，晚上入户走访", "汛期驻村值守"),
}
EXPLANATIONS = {
    "outside_geofence": ("当天在离村部较远的自然组走访", "先在镇上与村干部碰头，签到早了"),
    "low_accuracy": ("山区信号差，定位不准", "手机定位漂移"),
    "manual_checkout": ("离村时手机没电，充电后补签退", "离村时忘记签退，回到镇上后补签"),
    "too_long": ("驻村住宿，次日上午离村",),
    "late_sync": ("手机长期无信号，回镇后才同步",),
    "impossible_travel": ("上一处签退定位漂移，实际按正常路线前往",),
}
REJECTIONS = {
    "outside_geofence": "签到位置距村约{km}公里，经核实当日未到村，不予认定",
    "low_accuracy": "定位误差过大且无其他佐证，不予认定",
    "manual_checkout": "补签退时间与村干部反映的情况不符，不予认定",
    "too_long": "时长异常，未能说明驻村情况",
    "late_sync": "同步过迟且无法核实，不予认定",
    "impossible_travel": "两次定位之间的行程不可能完成，不予认定",
}
APPROVAL_COMMENTS = (None, None, "已电话核实", "经村党支部书记确认，情况属实", "同意")
# A supervisor rejects one verified visit of this person's, from about this many days ago.
REJECTED_VERIFIED = "当天在县委党校参加培训，不应计为在村，请核实后重新记录"
REJECTED_VERIFIED_PERSON, REJECTED_VERIFIED_DAYS_AGO = "cadre11", 90
TRAINING_NOTE = "县委党校中青年干部培训班"  # the absence the supervisor then enters for that day
# Who once checks in at the wrong village by mistake and withdraws it, about when (days ago).
WRONG_CHECK_INS = (("cadre3", 45), ("cadre9", 150))
# Who once checks in at the far side of the township two minutes after leaving a village (a
# location-faking app), about when (days ago).
FAKED_TRIPS = (("cadre16", 75),)
# What goes wrong with a visit, and how often (the rest go as they should).
# "clock_skew": the phone's clock is off by minutes (the server corrects the times).
MISHAPS = (("outside_geofence", 0.015), ("low_accuracy", 0.01), ("manual_checkout", 0.012),
           ("late_sync", 0.004), ("no_location", 0.02), ("clock_skew", 0.006))

REPORT_TITLES = {
    "rural": ("{t}农村基层党组织建设情况专题汇报", "{t}村级集体经济发展情况汇报",
              "{t}农村党员发展和教育管理情况汇报", "{t}抓党建促乡村振兴工作汇报",
              "{t}人居环境整治中党员先锋作用发挥情况汇报", "{t}软弱涣散村党组织整顿情况汇报"),
    "urban": ("{t}城镇社区党建网格化管理情况汇报", "{t}新就业群体党建工作情况汇报",
              "{t}小区物业党建联建情况汇报"),
    "other": ("{t}基层减负工作落实情况汇报", "{t}防汛救灾中基层党组织作用发挥情况汇报"),
}
REPORT_SUMMARIES = ("介绍了工作进展、存在的问题和下一步整改措施。",
                    "结合走访调研情况，提出了三条改进意见。", None)
# Per secretary: days back to the latest report, days between reports, and what became of
# which report (by age, 0 the newest); the others were acknowledged.
REPORT_CADENCE = {"secretary1": (6, 58, {0: "submitted"}), "secretary2": (105, 110, {}),
                  "secretary3": (12, 62, {3: "rejected"}), "cadre12": (14, 40, {})}
# People over time (RULES.md §8), days ago: 胡静 is transferred from 东山镇 to 青溪镇; later
# 青溪镇's secretary 李春梅 moves up to the county's organisation department and the township's
# cadre 马俊 is promoted to secretary in her place (so he reports only from then on).
TRANSFER = ("cadre6", "341122101", 150)
PROMOTION = ("cadre12", "secretary2", "341122101", 100)
REPORT_REJECTION = "汇报缺少问题清单和整改措施，请补充后重新汇报"
# Last year's critique points (点评问题) by township, recorded this many days ago, then what was
# done about each: (days ago, who, "note" | "claim" | "confirm" | "send_back", text).
RECORDED_DAYS_AGO = 300
RECTIFICATIONS = {
    "341122100": (
        ("村级活动场所利用率不高", "部分村党群服务中心长期闲置，未按规定开放",
         ((250, "secretary1", "note", "制定各村党群服务中心开放计划，明确专人值守"),
          (120, "secretary1", "claim", "10 个村均已按周开放，建立使用台账"),
          (110, "supervisor", "confirm", None))),
        ("党员发展计划执行不到位", "两个村连续两年未发展党员",
         ((40, "secretary1", "note", "已确定入党积极分子 4 名，列入培养计划"),)),
    ),
    "341122101": (
        ("软弱涣散村党组织整顿不彻底", "王圩村班子不团结问题反复",
         ((60, "cadre12", "note", "调整王圩村党支部书记，建立周例会制度"),
          (12, "cadre12", "claim", "新班子运行正常，群众满意度明显提升"))),
        ("村集体经济增收渠道单一", None, ()),
    ),
    "341122200": (
        ("驻村工作队管理松散", "部分队员在村时间不足",
         ((200, "secretary3", "claim", "已建立驻村工作队考勤制度"),
          (190, "supervisor", "send_back", "考勤制度未落实到人，请补充每名队员的在村记录"),
          (30, "secretary3", "note", "已按人建立在村记录，每月通报"))),
        ("基层减负落实不到位", "村级填报表格仍然偏多", ()),
    ),
}


# --- entry points -----------------------------------------------------------------------------

def seed_demo(progress: Callable[[], None] | None = None) -> None:
    """Build the demo county (the database must have no users yet); ``progress`` is called
    once per simulated day (``HISTORY_DAYS`` of them).

    The simulated year commits as it goes, a day at a time as the server would have; a
    failure part-way leaves part of a county, so start again from an empty database.
    """
    try:
        Demo(random.Random(SEED), clock.now()).build(progress or (lambda: None))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def print_logins(echo) -> None:
    """Print the demo logins (those still on the demo password), each field person's linked
    villages beside them, as a zh/en table."""
    people = demo_users()
    if not people:
        echo("没有演示账号 / no demo logins: this database was not built by seed-demo")
        return
    echo(f"演示账号 Demo logins — {COUNTY[1]}   密码 password: {DEMO_PASSWORD}")
    rows = [("用户名 username", "角色 role", "姓名 name", "单位 unit", "联系村 linked villages")]
    for user in people:
        villages = "、".join(v.name for v in user.linked_villages)
        note = "  (到村中 has an open visit)" if user.username == DEMO_CADRE else ""
        rows.append((user.username, ROLE_LABELS[user.role], user.name, user.unit.name,
                     villages + note))
    widths = [max(_width(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        echo(("  " + "  ".join(_pad(cell, w) for cell, w in zip(row, widths)) + "  "
              + row[4]).rstrip())


def demo_users() -> list[User]:
    """The demo people whose password is still the demo password, in the order above.

    They share one hash, so one (slow) check of the commonest hash among them is enough.
    """
    order = [row[0] for row in STAFF + FIELD_PEOPLE]
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(order)).options(
            selectinload(User.unit),
            selectinload(User.links).selectinload(LinkedVillage.village)))}
    if not users:
        return []
    shared = Counter(u.password_hash for u in users.values()).most_common(1)[0][0]
    if not verify_password(shared, DEMO_PASSWORD):
        return []
    return [users[name] for name in order
            if name in users and users[name].password_hash == shared]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


# --- what the simulation knows ----------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """A village as the simulation needs it (plain values: they outlive every commit)."""
    code: str
    name: str
    lat: float
    lon: float
    radius_m: int


@dataclass
class Person:
    """A cadre or secretary: who they are, their pace, and where they may go."""
    user: User
    user_id: int
    unit_code: str
    unit_name: str
    pace: float
    linked: list[Place]
    township: list[Place]
    free_from: datetime | None = None      # the end of the latest stay
    wrong_check_in_from: date | None = None  # from then on, one check-in at a wrong village
    faked_trip_from: date | None = None      # from then on, one trip faster than a car

    def chance(self, workday: bool, gap: float) -> float:
        """How likely the person goes to a village today: their pace, nudged by how far
        their credit (as the server keeps it) lags behind or runs ahead of it."""
        if not workday:
            return 0.025
        return min(0.92, max(0.03, self.pace / 0.66 + 0.1 * gap))


@dataclass
class Stay:
    """Where the person really was, and when."""
    place: Place
    check_in: datetime
    check_out: datetime | None
    activity: str | None


@dataclass
class Trip:
    """A stay as the person's phone records it and sends it to the server."""
    person: Person
    stay: Stay
    client_id: str
    check_in_location: dict | None
    check_out_location: dict | None = None
    manual: bool = False
    clock_error: timedelta = timedelta(0)    # how far the phone's clock is off
    households: int | None = None
    note: str | None = None
    visit_id: int | None = None


# The request bodies are loaded as the API loads them, so the services get what it gives them.
UNIT_CREATE, VILLAGE_CREATE = UnitCreateSchema(), VillageCreateSchema()
LINKED_VILLAGES, POST_CREATE = LinkedVillagesSchema(), PostCreateSchema()
VISIT_CREATE, CHECK_OUT = VisitCreateSchema(), CheckOutSchema()
EXPLAIN, REVIEW = ExplainSchema(), ReviewSchema()
REPORT_CREATE, REPORT_REVIEW = ReportCreateSchema(), ReportReviewSchema()
ABSENCE_CREATE = AbsenceCreateSchema()
RECTIFICATION_CREATE, RECTIFICATION_NOTE = RectificationCreateSchema(), RectificationNoteCreateSchema()


# --- the simulation ---------------------------------------------------------------------------

class Demo:
    """Lives the demo county's year through the services, request by request, in the order
    the requests reach the server; the caller commits the last day."""

    def __init__(self, rng: random.Random, now: datetime):
        self.rng, self.now, self.zone = rng, now, clock.zone()
        self.today = now.astimezone(self.zone).date()
        self.start = self.today - timedelta(days=HISTORY_DAYS)
        self.began_at = self._local(self.start - timedelta(days=30), time(9))
        self.users: dict[str, User] = {}
        self.people: dict[str, Person] = {}
        self.townships: dict[str, list[Place]] = {}
        self.calendar = None
        self._queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def build(self, progress: Callable[[], None]) -> None:
        with clock.frozen_at(self.began_at):
            self.townships = townships = self._organisation()
            self._people(townships)
            db.session.commit()
        self.calendar = working_calendar(COUNTY[0])
        self._schedule_reports()
        self._at(self._after_meeting(RECORDED_DAYS_AGO, time(16)), self._close_last_year)
        self._history(progress)
        self._rectifications()
        self._open_visit(self.people[DEMO_CADRE])
        self._run_until(self.now + timedelta(microseconds=1))

    # --- requests in the order they arrive ----------------------------------------------------

    def _at(self, moment: datetime, request: Callable[[], None]) -> None:
        """Make ``request`` reach the server at ``moment`` (dropped if that is after now)."""
        if moment <= self.now:
            heapq.heappush(self._queue, (moment, next(self._order), request))

    def _run_until(self, moment: datetime) -> None:
        """Serve every request that arrives before ``moment``, each on the clock of its
        arrival."""
        while self._queue and self._queue[0][0] < moment:
            at, _, request = heapq.heappop(self._queue)
            with clock.frozen_at(at):
                request_only = db.session.begin_nested()
                try:
                    request()
                except Conflict as refused:  # a late write to last year, closed since: what
                    if request_only.is_active:  # it wrote goes, as a request's commit point
                        request_only.rollback()  # does
                    if refused.code != "period_closed":
                        raise
                else:
                    if request_only.is_active:  # (a request that commits ends it itself)
                        request_only.commit()

    # --- organisation and people --------------------------------------------------------------

    def _organisation(self) -> dict[str, list[Place]]:
        """Units and villages; returns each township's villages by township code."""
        above = UNITS_ABOVE + ((*COUNTY, "county", UNITS_ABOVE[-1][0]),)
        for code, name, level, parent in above:
            self._unit(code, name, level, parent)
        villages = {}
        for code, name, centre, names in TOWNSHIPS:
            self._unit(code, name, "township", COUNTY[0])
            points = self._spread(centre, len(names))
            villages[code] = [self._village(code, i, name, point)
                              for i, (name, point) in enumerate(zip(names, points))]
        return villages

    @staticmethod
    def _unit(code: str, name: str, level: str, parent: str | None) -> None:
        create_unit(None, UNIT_CREATE.load({"code": code, "name": name, "level": level,
                                            "parent_code": parent}))

    def _village(self, township_code: str, index: int, name: str, point) -> Place:
        radius = self.rng.choice((1000,) * 6 + (800, 1200, 1500))
        village = create_village(None, VILLAGE_CREATE.load({
            "code": f"{township_code}{201 + index}", "name": name,
            "township_code": township_code, "lat": point[0], "lon": point[1],
            "radius_m": radius}))
        return Place(village.code, village.name, village.lat, village.lon, village.radius_m)

    def _spread(self, centre: tuple[float, float], count: int) -> list[tuple[float, float]]:
        """Points 1.5–7 km around a township's seat, at least 1.8 km from one another."""
        points: list[tuple[float, float]] = []
        while len(points) < count:
            p = offset(centre, self.rng.uniform(1500, 7000), self.rng.uniform(0, 360))
            if all(distance_m(*p, *q) >= 1800 for q in points):
                points.append(p)
        return points

    def _people(self, townships: dict[str, list[Place]]) -> None:
        """Every demo user on one password hash (hashed once: scrypt is slow on purpose)."""
        check_policy("cadre1", DEMO_PASSWORD)
        password_hash = hash_password(DEMO_PASSWORD)
        units = {u.code: u for u in db.session.scalars(select(Unit))}
        for username, name, role, unit_code in STAFF + tuple(p[:4] for p in FIELD_PEOPLE):
            check_role_unit(role, units[unit_code])
            self.users[username] = user = User(
                username=username, name=name, role=role, unit=units[unit_code], active=True,
                password_hash=password_hash, must_change_password=False)
            first_post(user, units[unit_code], role, None, None)
        db.session.add_all(self.users.values())
        db.session.flush()
        for index, (username, _name, _role, code, pace) in enumerate(FIELD_PEOPLE):
            user = self.users[username]
            linked = self._linked_villages(townships[code], index)
            set_linked_villages(None, user, LINKED_VILLAGES.load(
                {"village_codes": [v.code for v in linked]})["village_codes"])
            self.people[username] = Person(user, user.id, code, units[code].name, pace, linked,
                                           townships[code])
        for username, days_ago in WRONG_CHECK_INS:
            self.people[username].wrong_check_in_from = self.today - timedelta(days=days_ago)
        for username, days_ago in FAKED_TRIPS:
            self.people[username].faked_trip_from = self.today - timedelta(days=days_ago)

    def _linked_villages(self, villages: list[Place], index: int) -> list[Place]:
        """Two to four villages, overlapping so every village has someone linked."""
        count = self.rng.randint(2, 4)
        first = index * 3 % len(villages)
        return [villages[(first + i) % len(villages)] for i in range(count)]

    # --- a year of visits ---------------------------------------------------------------------

    def _history(self, progress: Callable[[], None]) -> None:
        """Day by day up to yesterday: who goes where, for how long, and what the phone
        sends when; each day starts from the credits the server kept up to then."""
        day = self.start
        while day < self.today:
            self._run_until(self._local(day, time(0)))
            db.session.commit()  # the credits are brought up to date on commit
            workday = self.calendar.is_workday(day)
            credits = self._credits_so_far(day) if workday else {}
            workdays = self.calendar.count(date(day.year, 1, 1), day)
            self._moves(day)
            for person in self.people.values():
                gap = person.pace * workdays - credits.get(person.user_id, 0.0)
                if self.rng.random() < person.chance(workday, gap):
                    self._go(person, self._plan_day(person, day))
            if day == self.today - timedelta(days=REJECTED_VERIFIED_DAYS_AGO):
                self._reject_a_verified_visit(self.people[REJECTED_VERIFIED_PERSON])
            day += timedelta(days=1)
            progress()

    def _moves(self, day: date) -> None:
        """The year's transfer and promotion, recorded by the admin on their first morning
        (POST /users/{id}/posts, then the new township's links from that day)."""
        admin = self.users["admin"]
        username, township, days_ago = TRANSFER
        with clock.frozen_at(self._local(day, time(7, 30))):
            if day == self.today - timedelta(days=days_ago):
                person = self.people[username]
                change_post(admin, person.user, POST_CREATE.load(
                    {"unit_code": township, "role": "cadre", "from": day.isoformat()}))
                villages = self.townships[township]
                person.unit_code, person.township = township, villages
                person.unit_name = next(name for code, name, *_ in TOWNSHIPS if code == township)
                person.linked = villages[-3:]
                set_linked_villages(admin, person.user, [v.code for v in person.linked], day)
            promoted, leaving, township, days_ago = PROMOTION
            if day == self.today - timedelta(days=days_ago):
                change_post(admin, self.users[leaving], POST_CREATE.load(
                    {"unit_code": COUNTY[0], "role": "supervisor", "from": day.isoformat()}))
                del self.people[leaving]
                change_post(admin, self.users[promoted], POST_CREATE.load(
                    {"unit_code": township, "role": "secretary", "from": day.isoformat()}))
            db.session.commit()

    def _meeting_day(self) -> date:
        """The day after the 述职评议考核 meeting judged last year: ``RECORDED_DAYS_AGO`` days
        ago, but in this year (never before 15 January) and not after today."""
        return min(max(self.today - timedelta(days=RECORDED_DAYS_AGO),
                       date(self.today.year, 1, 15)), self.today)

    def _after_meeting(self, days_ago: int, at: time) -> datetime:
        """A moment of the story after the meeting, told in days ago (``RECORDED_DAYS_AGO``
        the meeting itself); never after now."""
        meeting = self._meeting_day()
        if meeting == self.today - timedelta(days=RECORDED_DAYS_AGO):  # it fits as told
            moment = self._local(self.today - timedelta(days=days_ago), at)
        else:  # the meeting was nearer: the story is squeezed between it and now
            since = self._local(meeting, at)
            moment = since + (self.now - since) * (
                (RECORDED_DAYS_AGO - days_ago) / RECORDED_DAYS_AGO)
        return min(moment, self.now - timedelta(minutes=1))

    def _rectifications(self) -> None:
        """Last year's critique points of each township, recorded by the county's supervisor
        after the meeting and answered since, so that every state shows (RULES.md §10)."""
        supervisor = self.users["supervisor"]
        for township, items in RECTIFICATIONS.items():
            for title, detail, steps in items:
                with clock.frozen_at(self._after_meeting(RECORDED_DAYS_AGO, time(10))):
                    item = create_rectification(supervisor, RECTIFICATION_CREATE.load({
                        "unit_code": township, "year": self.today.year - 1, "title": title,
                        "detail": detail,
                        "due": (self.today + timedelta(days=60)).isoformat()}))
                    db.session.commit()
                for days_ago, who, action, text in steps:
                    with clock.frozen_at(self._after_meeting(days_ago, time(15))):
                        actor = self.users[who]
                        if action in ("confirm", "send_back"):
                            review_rectification(actor, item, action, text)
                        else:
                            add_rectification_note(actor, item, RECTIFICATION_NOTE.load({
                                "client_id": self._uuid(), "note": text,
                                "claim_done": action == "claim"}))
                        db.session.commit()

    def _close_last_year(self) -> None:
        """After the meeting the county's supervisor decides last year's visits still waiting
        for review, then closes the year (POST /closings, RULES.md §9): what the meeting
        judged stays, and later writes to it are refused."""
        supervisor, year = self.users["supervisor"], self.today.year - 1
        start, end = clock.local_day_bounds(date(year, 1, 1), date(year, 12, 31))
        waiting = db.session.scalars(select(Visit.id).where(
            Visit.status == "pending_review", Visit.check_in_at >= start,
            Visit.check_in_at < end).order_by(Visit.id)).all()
        for visit_id in waiting:
            self._review(supervisor, visit_id, "approve", "年终集中审核：情况属实",
                         "pending_review")()
        db.session.commit()  # the decisions' credits are brought up to date on commit
        close_year(supervisor, year, COUNTY[0], "述职评议考核会后封存", now=clock.now())
        db.session.commit()

    def _credits_so_far(self, day: date) -> dict[int, float]:
        """Each person's village days this year so far, as the server keeps them."""
        rows = db.session.execute(select(MonthCredit.user_id, MonthCredit.year_halves_to_date)
                                  .where(MonthCredit.month == day.replace(day=1)))
        return {user_id: halves / 2 for user_id, halves in rows}

    def _plan_day(self, person: Person, day: date) -> list[Stay]:
        """One day's stays: a half day, a full day, two villages, a short call or a night."""
        rng = self.rng
        kind = rng.choices(("half", "full", "two", "short", "night"), (56, 25, 10, 8, 1))[0]
        if kind == "night" and day >= self.today - timedelta(days=2):
            kind = "full"
        if kind == "two":
            first = self._stay(person, day, rng.uniform(8, 9), rng.uniform(2, 3.5))
            gap = timedelta(minutes=rng.randint(40, 90))
            second_in = first.check_out + gap
            second = Stay(self._pick_village(person, avoid=first.place), second_in,
                          second_in + timedelta(hours=rng.uniform(2, 3.5)), self._activity())
            stays = [first, second]
        else:
            start, hours = {"half": (rng.uniform(8, 10), rng.uniform(3, 6.5)),
                            "full": (rng.uniform(7.75, 9), rng.uniform(7.5, 10)),
                            "short": (rng.uniform(8.5, 15), rng.uniform(1.5, 3)),
                            "night": (rng.uniform(14, 16), rng.uniform(16, 19.5))}[kind]
            stays = [self._stay(person, day, start, hours,
                                "overnight_stay" if kind == "night" else None)]
        if person.free_from and stays[0].check_in < person.free_from + timedelta(minutes=50):
            return []  # still away from a night's stay, or yet to send its check-out
        return stays

    def _stay(self, person: Person, day: date, start_h: float, hours: float,
              activity: str | None = None) -> Stay:
        check_in = self._local(day, time(0)) + timedelta(minutes=round(start_h * 60))
        check_out = check_in + timedelta(minutes=round(hours * 60))
        return Stay(self._pick_village(person), check_in, check_out,
                    activity or self._activity())

    def _pick_village(self, person: Person, avoid: Place | None = None) -> Place:
        pool = person.linked if self.rng.random() < 0.85 else person.township
        choices = [v for v in pool if v is not avoid] or [v for v in person.township
                                                          if v is not avoid]
        return self.rng.choice(choices)

    def _activity(self) -> str | None:
        names, weights = zip(*ACTIVITIES)
        return self.rng.choices(names, weights)[0]

    def _mishap(self) -> str | None:
        roll = self.rng.random()
        for mishap, share in MISHAPS:
            if roll < share:
                return mishap
            roll -= share
        return None

    def _go(self, person: Person, stays: list[Stay]) -> None:
        """The person spends the day's stays in villages; their phone sends them."""
        trips = [self._send(person, stay) for stay in stays]
        if not trips:
            return
        person.free_from = stays[-1].check_out
        first = trips[0]
        if person.wrong_check_in_from and first.stay.check_in.date() >= person.wrong_check_in_from:
            self._wrong_check_in(first)
            person.wrong_check_in_from = None
        if len(trips) == 1 and first.check_out_location and person.faked_trip_from and \
                first.stay.check_in.date() >= person.faked_trip_from:
            self._faked_trip(person, first)
            person.faked_trip_from = None

    def _send(self, person: Person, stay: Stay, mishaps: bool = True) -> Trip:
        """What the phone records of one stay, and when its requests reach the server."""
        rng = self.rng
        mishap = self._mishap() if mishaps else None
        if mishap == "late_sync" and stay.check_out + timedelta(days=21) > self.now:
            mishap = None
        manual = mishap == "manual_checkout"
        trip = Trip(person, stay, self._uuid(), self._phone_location(stay.place, mishap),
                    None if manual or mishap == "no_location" else
                    self._phone_location(stay.place, None), manual)
        if mishap == "clock_skew":
            trip.clock_error = timedelta(minutes=rng.choice((-1, 1)) * rng.randint(10, 70))
        trip.households, trip.note = self._households(stay.activity), self._note(stay.activity)
        flow = "manual" if manual else "late" if mishap == "late_sync" else \
            rng.choices(("live", "synced"), (75, 25))[0]
        received_out = min(stay.check_out + self._delay(flow), self.now - timedelta(minutes=1))
        if flow in ("live", "manual"):
            self._at(stay.check_in + timedelta(seconds=rng.randint(2, 20)),
                     lambda: self._check_in(trip))
            self._at(received_out, lambda: self._check_out(trip))
        else:
            self._at(received_out, lambda: self._whole_visit(trip))
        return trip

    def _delay(self, flow: str) -> timedelta:
        """How long after leaving the check-out reaches the server: at once ("live"), typed
        in soon after, before the person could check in anywhere else ("manual"), or with the
        whole visit when the phone regains its signal ("synced", or "late" after days)."""
        rng = self.rng
        return {"live": lambda: timedelta(seconds=rng.randint(2, 20)),
                "manual": lambda: timedelta(minutes=rng.randint(20, 39)),
                "synced": lambda: timedelta(minutes=rng.randint(5, 360)),
                "late": lambda: timedelta(days=rng.uniform(8, 20))}[flow]()

    def _phone_location(self, place: Place, mishap: str | None) -> dict | None:
        """Where the phone said the person was, given what went wrong (if anything)."""
        rng = self.rng
        if mishap == "no_location":
            return None
        if mishap == "outside_geofence":
            metres = rng.uniform(max(1500, place.radius_m + 500), 3000)
            accuracy = rng.uniform(8, 40)
        elif mishap == "low_accuracy":
            metres, accuracy = rng.uniform(50, 400), rng.uniform(550, 1800)
        else:
            metres = rng.uniform(10, min(550, 0.55 * place.radius_m))
            accuracy = rng.choices((rng.uniform(5, 25), rng.uniform(25, 80),
                                    rng.uniform(80, 300)), (70, 25, 5))[0]
        lat, lon = offset((place.lat, place.lon), metres, rng.uniform(0, 360))
        return {"lat": lat, "lon": lon, "accuracy_m": round(accuracy, 1)}

    def _households(self, activity: str | None) -> int | None:
        if activity == "household_visit":
            return self.rng.randint(3, 14)
        if activity == "village_service" and self.rng.random() < 0.3:
            return self.rng.randint(1, 6)
        return None

    def _note(self, activity: str | None) -> str | None:
        if activity is None or self.rng.random() < 0.5:
            return None
        return self.rng.choice(NOTES[activity])

    # --- the phone's requests -----------------------------------------------------------------

    def _check_in(self, trip: Trip) -> None:
        """POST /visits with the check-in only, on arrival."""
        visit, _ = create_visit(trip.person.user, VISIT_CREATE.load(self._check_in_body(trip)),
                                self._phone_clock(trip))
        trip.visit_id = visit.id

    def _check_out(self, trip: Trip) -> None:
        """POST /visits/{id}/check-out on leaving (or typed in afterwards)."""
        user = trip.person.user
        body = {**self._check_out_part(trip), "households": trip.households, "note": trip.note}
        visit = check_out(user, load_visit(user, str(trip.visit_id)), CHECK_OUT.load(body),
                          self._phone_clock(trip))
        self._after_closing(trip.person, visit)

    def _whole_visit(self, trip: Trip) -> None:
        """POST /visits with check-in and check-out, from a phone that was offline."""
        body = {**self._check_in_body(trip), "check_out": self._check_out_part(trip),
                "households": trip.households, "note": trip.note}
        visit, _ = create_visit(trip.person.user, VISIT_CREATE.load(body),
                                self._phone_clock(trip))
        self._after_closing(trip.person, visit)

    def _withdraw(self, trip: Trip) -> None:
        """POST /visits/{id}/withdraw."""
        user = trip.person.user
        withdraw(user, load_visit(user, str(trip.visit_id)))

    def _check_in_body(self, trip: Trip) -> dict:
        return {"client_id": trip.client_id, "village_code": trip.stay.place.code,
                "activity": trip.stay.activity,
                "check_in": {"at": self._phone_time(trip, trip.stay.check_in),
                             "location": trip.check_in_location}}

    def _check_out_part(self, trip: Trip) -> dict:
        return {"at": self._phone_time(trip, trip.stay.check_out),
                "location": trip.check_out_location, "manual": trip.manual}

    def _phone_time(self, trip: Trip, moment: datetime) -> str:
        """A time as the phone writes it: local, by its own clock."""
        return (moment + trip.clock_error).astimezone(self.zone).isoformat()

    @staticmethod
    def _phone_clock(trip: Trip) -> datetime:
        """The phone's clock when it sends (``X-Client-Time``)."""
        return clock.now() + trip.clock_error

    # --- what follows a flagged visit: explanations and reviews -------------------------------

    def _after_closing(self, person: Person, visit: Visit) -> None:
        """A visit the server sent for review: the person may explain it, and a supervisor
        decides within days (unless that is still to come)."""
        if visit.status != "pending_review":
            return
        now, rng = clock.now(), self.rng
        decided_at = self._later(now, rng.uniform(1, 10))
        if rng.random() < 0.6:
            explained_at = now + timedelta(hours=rng.uniform(1, 20))
            flag = main_flag(visit.flags, EXPLANATIONS)
            if flag and explained_at < min(decided_at, self.now):
                self._at(explained_at, self._explain(person, visit.id,
                                                     rng.choice(EXPLANATIONS[flag])))
        if decided_at < self.now - timedelta(hours=1) and rng.random() < 0.9:
            flag = main_flag(visit.flags, REJECTIONS)
            if rng.random() < (0.4 if flag == "outside_geofence" else 0.15):
                km = round((visit.distance_m or 0) / 1000, 1)
                decision, comment = "reject", REJECTIONS[flag or "low_accuracy"].format(km=km)
            else:
                decision, comment = "approve", rng.choice(APPROVAL_COMMENTS)
            self._at(decided_at, self._review(self._reviewer(person), visit.id, decision,
                                              comment, "pending_review"))

    @staticmethod
    def _explain(person: Person, visit_id: int, note: str) -> Callable[[], None]:
        """POST /visits/{id}/explain."""
        def send() -> None:
            visit = load_visit(person.user, str(visit_id))
            explain(person.user, visit, EXPLAIN.load({"note": note})["note"])
        return send

    @staticmethod
    def _review(reviewer: User, visit_id: int, decision: str, comment: str | None,
                status: str) -> Callable[[], None]:
        """POST /visits/{id}/review, if the visit is still in ``status`` when the reviewer
        gets to it (a visit that arrived late may have changed its neighbour's flags)."""
        def send() -> None:
            visit = load_visit(reviewer, str(visit_id))
            if visit.status == status:
                args = REVIEW.load({"decision": decision, "comment": comment})
                review(reviewer, visit, args["decision"], args.get("comment"))
        return send

    def _reviewer(self, person: Person) -> User:
        """The township's own supervisor for about half its visits, else the county's."""
        if person.unit_code == TOWNSHIP_SUPERVISOR[1] and self.rng.random() < 0.5:
            return self.users[TOWNSHIP_SUPERVISOR[0]]
        return self.users[self.rng.choices(("supervisor", "supervisor2"), (3, 1))[0]]

    # --- the odd ones out ---------------------------------------------------------------------

    def _wrong_check_in(self, trip: Trip) -> None:
        """Just before ``trip``, the person checks in at the neighbouring village by mistake
        and withdraws it at once."""
        here = trip.stay.place
        wrong = min((v for v in trip.person.township if v is not here),
                    key=lambda v: distance_m(v.lat, v.lon, here.lat, here.lon))
        at = trip.stay.check_in - timedelta(minutes=6)
        mistake = Trip(trip.person, Stay(wrong, at, None, trip.stay.activity), self._uuid(),
                       trip.check_in_location)
        self._at(at + timedelta(seconds=5), lambda: self._check_in(mistake))
        self._at(at + timedelta(minutes=2), lambda: self._withdraw(mistake))

    def _faked_trip(self, person: Person, trip: Trip) -> None:
        """Two minutes after ``trip`` the person checks in at the township's village
        farthest from it, kilometres away: the server finds the trip impossible."""
        here = trip.stay.place
        far = max(person.township, key=lambda v: distance_m(v.lat, v.lon, here.lat, here.lon))
        check_in = trip.stay.check_out + timedelta(minutes=2)
        stay = Stay(far, check_in, check_in + timedelta(minutes=self.rng.randint(90, 150)),
                    self._activity())
        self._send(person, stay, mishaps=False)
        person.free_from = stay.check_out

    def _reject_a_verified_visit(self, person: Person) -> None:
        """A supervisor later rejects the person's latest verified visit: they were at a
        training that day, which the supervisor enters as an absence."""
        visit = db.session.scalar(select(Visit).where(
            Visit.user_id == person.user_id, Visit.status == "verified")
            .order_by(Visit.check_in_at.desc()).limit(1))
        if visit is None:
            return
        supervisor, at = self.users["supervisor"], self._later(visit.check_out_received_at, 12)
        self._at(at, self._review(supervisor, visit.id, "reject", REJECTED_VERIFIED, "verified"))
        day = visit.check_in_at.astimezone(self.zone).date().isoformat()
        body = {"user_id": person.user_id, "start": day, "end": day, "kind": "training",
                "note": TRAINING_NOTE}
        self._at(at + timedelta(minutes=5),
                 lambda: create_absence(supervisor, ABSENCE_CREATE.load(body)))

    def _open_visit(self, person: Person) -> None:
        """The demo cadre checked in a couple of hours ago and is in the village now."""
        check_in = (self.now - timedelta(hours=2, minutes=5)).replace(second=0, microsecond=0)
        stay = Stay(person.linked[0], check_in, None, "household_visit")
        trip = Trip(person, stay, self._uuid(), self._phone_location(stay.place, None))
        self._at(check_in + timedelta(seconds=4), lambda: self._check_in(trip))

    # --- thematic reports ---------------------------------------------------------------------

    def _schedule_reports(self) -> None:
        """Each secretary's reports over the year, filed through the API's service, mostly
        acknowledged by the county's supervisor."""
        titles = [(category, title) for category, pool in REPORT_TITLES.items()
                  for title in pool]
        promoted, _, _, promoted_days_ago = PROMOTION
        for username, (latest, every, fates) in REPORT_CADENCE.items():
            oldest = promoted_days_ago - 5 if username == promoted else HISTORY_DAYS
            ages = [latest]
            while ages[-1] + every + 5 <= oldest:
                ages.append(ages[-1] + every + self.rng.randint(-5, 5))
            topics = self.rng.sample(titles, len(ages))  # nobody reports on one topic twice
            for age, (days_ago, topic) in enumerate(zip(ages, topics)):
                self._schedule_report(self.people[username], days_ago, topic,
                                      fates.get(age, "acknowledged"))

    def _schedule_report(self, secretary: Person, days_ago: int, topic: tuple[str, str],
                         fate: str) -> None:
        day = self._previous_workday(self.today - timedelta(days=days_ago))
        body = {"client_id": self._uuid(), "reported_on": day.isoformat(),
                "title": topic[1].format(t=secretary.unit_name), "category": topic[0],
                "summary": self.rng.choice(REPORT_SUMMARIES)}
        created_at = min(self._local(day, time(16)) + timedelta(minutes=self.rng.randint(0, 150)),
                         self.now - timedelta(minutes=30))
        filed: dict[str, int] = {}

        def file() -> None:  # POST /reports
            report, _ = create_report(secretary.user, REPORT_CREATE.load(body))
            filed["id"] = report.id

        def decide() -> None:  # POST /reports/{id}/review
            supervisor = self.users["supervisor"]
            args = REPORT_REVIEW.load({
                "decision": "reject" if fate == "rejected" else "acknowledge",
                "comment": REPORT_REJECTION if fate == "rejected" else None})
            review_report(supervisor, load_report(supervisor, filed["id"]), args["decision"],
                          args.get("comment"))

        self._at(created_at, file)
        reviewed_at = self._later(created_at, self.rng.uniform(2, 8))
        if fate != "submitted" and reviewed_at < self.now:
            self._at(reviewed_at, decide)

    # --- time and ids -------------------------------------------------------------------------

    def _local(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, self.zone)

    def _later(self, moment: datetime, days: float) -> datetime:
        """About ``days`` later, in office hours (9:00–17:30 local) on a working day."""
        day = (moment + timedelta(days=days)).astimezone(self.zone).date()
        while not self.calendar.is_workday(day):
            day += timedelta(days=1)
        minutes = 9 * 60 + self.rng.randint(0, 510)
        return datetime.combine(day, time(minutes // 60, minutes % 60), self.zone)

    def _previous_workday(self, day: date) -> date:
        while not self.calendar.is_workday(day):
            day -= timedelta(days=1)
        return day

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


# --- small pure helpers -----------------------------------------------------------------------

def offset(point: tuple[float, float], metres: float, bearing_deg: float) -> tuple[float, float]:
    """The point ``metres`` away in direction ``bearing_deg`` (where to put a simulated phone;
    close enough at these ranges — the server measures the distance itself)."""
    lat, lon = point
    bearing = math.radians(bearing_deg)
    dlat = metres * math.cos(bearing) / 111_320
    dlon = metres * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def main_flag(flags: list[str], known: dict) -> str | None:
    """The flag a comment is about: the first of ``known`` the visit has."""
    return next((f for f in known if f in flags), None)
