"""The demo county 示范县 for ``zaicun seed-demo`` and ``zaicun serve --demo``.

A province, a city, the county, three townships with thirty villages, twenty-five people in
every role, about a year of visits ending today and the secretaries' thematic reports. Flags
and statuses are what the server's own rules give for the data (``server.visits.flags`` and
the county's rule book), and every visit has the audit trail the API would have left, so each
screen shows something true. The same seed gives the same county; only "today" moves.
"""
from __future__ import annotations

import math
import random
import unicodedata
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from flask import current_app
from sqlalchemy import select

from .audit.models import AuditEvent
from .auth.models import User
from .auth.passwords import check_policy, hash_password, verify_password
from .compliance.rulebook import Rulebook
from .db_types import utcnow
from .extensions import db
from .fingerprint import fingerprint
from .geo import distance_m
from .org.models import Unit, Village
from .org.services import check_role_unit, create_unit, create_village, set_linked_villages
from .reports.models import ThematicReport
from .rulebooks import rulebook_for
from .visits import flags as F
from .visits.models import Visit, VisitEvent

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
}
REJECTIONS = {
    "outside_geofence": "签到位置距村约{km}公里，经核实当日未到村，不予认定",
    "low_accuracy": "定位误差过大且无其他佐证，不予认定",
    "manual_checkout": "补签退时间与村干部反映的情况不符，不予认定",
    "too_long": "时长异常，未能说明驻村情况",
    "late_sync": "同步过迟且无法核实，不予认定",
}
APPROVAL_COMMENTS = (None, None, "已电话核实", "经村党支部书记确认，情况属实", "同意")
REJECTED_VERIFIED = "当天在县委党校参加培训，不应计为在村，请核实后重新记录"
# What goes wrong with a visit, and how often (the rest go as they should).
MISHAPS = (("outside_geofence", 0.015), ("low_accuracy", 0.01), ("manual_checkout", 0.012),
           ("late_sync", 0.004), ("no_location", 0.02))

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
REPORT_CADENCE = {"secretary1": (6, 58, {0: "submitted"}), "secretary2": (30, 110, {}),
                  "secretary3": (12, 62, {3: "rejected"})}
REPORT_REJECTION = "汇报缺少问题清单和整改措施，请补充后重新汇报"


# --- entry points -----------------------------------------------------------------------------

def seed_demo() -> None:
    """Build the demo county in one transaction (the database must have no users yet)."""
    rng = random.Random(SEED)
    try:
        demo = Demo(rng, utcnow(), ZoneInfo(current_app.config["TIMEZONE"]))
        demo.build()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def print_logins(echo) -> None:
    """Print the demo logins (those still on the demo password) as a short zh/en table."""
    people = demo_users()
    if not people:
        echo("没有演示账号 / no demo logins: this database was not built by seed-demo")
        return
    echo(f"演示账号 Demo logins — {COUNTY[1]}   密码 password: {DEMO_PASSWORD}")
    rows = [("用户名 username", "角色 role", "姓名 name", "单位 unit")]
    cadres = [u for u in people if u.role == "cadre"]
    for user in [u for u in people if u.role != "cadre"] + cadres[:1]:
        note = "  (到村中 has an open visit)" if user.username == DEMO_CADRE else ""
        rows.append((user.username, ROLE_LABELS[user.role], user.name, user.unit.name + note))
    widths = [max(_width(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        echo("  " + "  ".join(_pad(cell, w) for cell, w in zip(row, widths)) + "  " + row[3])
    if len(cadres) > 1:
        echo(f"  … {cadres[1].username} – {cadres[-1].username}: "
             f"其他 {len(cadres) - 1} 名班子成员 more cadres, same password")


def demo_users() -> list[User]:
    """The demo people whose password is still the demo password, in the order above.

    They share one hash, so one (slow) check of the commonest hash among them is enough.
    """
    order = [row[0] for row in STAFF + FIELD_PEOPLE]
    users = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(order)))}
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


# --- the builder ------------------------------------------------------------------------------

@dataclass
class Person:
    """A cadre or secretary, and what the simulation knows of their year so far."""
    user: User
    pace: float
    linked: list[Village]
    township: list[Village]
    book: Rulebook
    visits: list[Visit] = field(default_factory=list)
    last_fix: F.Fix | None = None           # the latest check-out, for impossible_travel
    free_from: datetime | None = None       # the end of the latest stay
    seconds_by_day: dict = field(default_factory=lambda: defaultdict(float))
    credit: dict = field(default_factory=lambda: defaultdict(float))     # per year
    workdays: dict = field(default_factory=lambda: defaultdict(int))     # per year, so far

    def chance(self, workday: bool, year: int) -> float:
        """How likely the person goes to a village today: their pace, nudged by any gap."""
        if not workday:
            return 0.025
        gap = self.pace * self.workdays[year] - self.credit[year]
        return min(0.92, max(0.03, self.pace / 0.66 + 0.1 * gap))


@dataclass
class Stay:
    village: Village
    check_in: datetime
    check_out: datetime
    activity: str | None


class Demo:
    """Builds the demo county into the session; the caller commits."""

    def __init__(self, rng: random.Random, now: datetime, zone: ZoneInfo):
        self.rng, self.now, self.zone = rng, now, zone
        self.today = now.astimezone(zone).date()
        self.start = self.today - timedelta(days=HISTORY_DAYS)
        self.began_at = self._local(self.start - timedelta(days=30), time(9))
        self.users: dict[str, User] = {}
        self.events: list[VisitEvent] = []

    def build(self) -> None:
        townships = self._organisation()
        people = self._people(townships)
        db.session.flush()
        self._history(people)
        self._withdrawn_check_ins(people)
        self._rejected_after_verification(people)
        self._open_visit(people[DEMO_CADRE])
        db.session.add_all(v for p in people.values() for v in p.visits)
        db.session.add_all(self.events)
        self._reports()

    # --- organisation and people --------------------------------------------------------------

    def _organisation(self) -> dict[str, list[Village]]:
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

    def _unit(self, code: str, name: str, level: str, parent: str | None) -> None:
        unit = create_unit(None, {"code": code, "name": name, "level": level,
                                  "parent_code": parent})
        unit.created_at = self.began_at

    def _village(self, township_code: str, index: int, name: str, point) -> Village:
        radius = self.rng.choice((1000,) * 6 + (800, 1200, 1500))
        village = create_village(None, {"code": f"{township_code}{201 + index}", "name": name,
                                        "township_code": township_code, "lat": point[0],
                                        "lon": point[1], "radius_m": radius})
        village.created_at = self.began_at
        return village

    def _spread(self, centre: tuple[float, float], count: int) -> list[tuple[float, float]]:
        """Points 1.5–7 km around a township's seat, at least 1.8 km from one another."""
        points: list[tuple[float, float]] = []
        while len(points) < count:
            p = offset(centre, self.rng.uniform(1500, 7000), self.rng.uniform(0, 360))
            if all(distance_m(*p, *q) >= 1800 for q in points):
                points.append(p)
        return points

    def _people(self, townships: dict[str, list[Village]]) -> dict[str, Person]:
        """Every demo user on one password hash (hashed once: scrypt is slow on purpose)."""
        check_policy("cadre1", DEMO_PASSWORD)
        password_hash = hash_password(DEMO_PASSWORD)
        units = {u.code: u for u in db.session.scalars(select(Unit))}
        for username, name, role, unit_code in STAFF + tuple(p[:4] for p in FIELD_PEOPLE):
            check_role_unit(role, units[unit_code])
            self.users[username] = User(username=username, name=name, role=role,
                                        unit=units[unit_code], active=True,
                                        password_hash=password_hash, must_change_password=False,
                                        created_at=self.began_at)
        db.session.add_all(self.users.values())
        people = {}
        for index, (username, _name, _role, code, pace) in enumerate(FIELD_PEOPLE):
            user = self.users[username]
            linked = self._linked_villages(townships[code], index)
            set_linked_villages(None, user, [v.code for v in linked])
            for link in user.links:
                link.linked_at = self.began_at
            people[username] = Person(user, pace, linked, townships[code], rulebook_for(user))
        return people

    def _linked_villages(self, villages: list[Village], index: int) -> list[Village]:
        """Two to four villages, overlapping so every village has someone linked."""
        count = self.rng.randint(2, 4)
        first = index * 3 % len(villages)
        return [villages[(first + i) % len(villages)] for i in range(count)]

    # --- a year of visits ---------------------------------------------------------------------

    def _history(self, people: dict[str, Person]) -> None:
        """Day by day up to yesterday: who goes where, for how long, and what arrives."""
        day = self.start
        while day < self.today:
            workday = is_workday(day)
            for person in people.values():
                if workday:
                    person.workdays[day.year] += 1
                if self.rng.random() < person.chance(workday, day.year):
                    for stay in self._plan_day(person, day):
                        self._record(person, stay)
            day += timedelta(days=1)

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
            second = Stay(self._pick_village(person, avoid=first.village), second_in,
                          second_in + timedelta(hours=rng.uniform(2, 3.5)), self._activity())
            stays = [first, second]
        else:
            start, hours = {"half": (rng.uniform(8, 10), rng.uniform(3, 6.5)),
                            "full": (rng.uniform(7.75, 9), rng.uniform(7.5, 10)),
                            "short": (rng.uniform(8.5, 15), rng.uniform(1.5, 3)),
                            "night": (rng.uniform(14, 16), rng.uniform(16, 19.5))}[kind]
            stays = [self._stay(person, day, start, hours,
                                "overnight_stay" if kind == "night" else None)]
        if person.free_from and stays[0].check_in < person.free_from + timedelta(minutes=30):
            return []  # still away from a night's stay
        return stays

    def _stay(self, person: Person, day: date, start_h: float, hours: float,
              activity: str | None = None) -> Stay:
        check_in = self._local(day, time(0)) + timedelta(minutes=round(start_h * 60))
        check_out = check_in + timedelta(minutes=round(hours * 60))
        return Stay(self._pick_village(person), check_in, check_out,
                    activity or self._activity())

    def _pick_village(self, person: Person, avoid: Village | None = None) -> Village:
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

    def _record(self, person: Person, stay: Stay) -> None:
        """Turn one stay into the visit the server would have stored, with its trail."""
        mishap = self._mishap()
        if mishap == "late_sync" and stay.check_out + timedelta(days=21) > self.now:
            mishap = None
        visit, flow = self._visit(person, stay, mishap)
        person.visits.append(visit)
        person.free_from = stay.check_out
        person.last_fix = check_out_fix(visit)
        self._trail(person, visit, flow)
        if visit.status in ("verified", "approved"):
            self._credit(person, visit)

    def _visit(self, person: Person, stay: Stay, mishap: str | None) -> tuple[Visit, str]:
        """The visit as stored; ``flow`` says how it reached the server."""
        rng, village = self.rng, stay.village
        check_in_point = self._phone_point(village, mishap)
        manual = mishap == "manual_checkout"
        check_out_point = None if manual or mishap == "no_location" else \
            self._phone_point(village, None)
        flow = "manual" if manual else "late" if mishap == "late_sync" else \
            rng.choices(("live", "synced"), (75, 25))[0]
        received_out = stay.check_out + {
            "live": timedelta(seconds=rng.randint(2, 20)),
            "synced": timedelta(minutes=rng.randint(5, 360)),
            "late": timedelta(days=rng.uniform(8, 20)),
            # typed in soon after, before the person could check in anywhere else
            "manual": timedelta(minutes=rng.randint(20, 39))}[flow]
        received_out = min(received_out, self.now - timedelta(minutes=1))
        received_in = stay.check_in + timedelta(seconds=rng.randint(2, 20)) \
            if flow in ("live", "manual") else received_out
        visit = self._check_in(person, stay, check_in_point, received_in)
        found = set(visit.flags)
        out_distance = point_distance(check_out_point, village)
        found |= F.location_flags(check_out_point, out_distance, village.radius_m, person.book)
        found |= F.stay_flags(stay.check_in, stay.check_out, manual, received_out, person.book)
        visit.flags = F.active(found, person.book)
        visit.status = F.closed_status(visit.flags, person.book)
        visit.check_out_at = visit.check_out_at_original = stay.check_out
        if check_out_point is not None:
            visit.check_out_lat, visit.check_out_lon = check_out_point.lat, check_out_point.lon
            visit.check_out_accuracy_m = check_out_point.accuracy_m
        visit.check_out_distance_m = out_distance
        visit.check_out_manual = manual
        visit.check_out_received_at = received_out
        visit.households, visit.note = self._households(stay.activity), self._note(stay.activity)
        check_out_body = {"at": self._shown(stay.check_out),
                          "location": location_body(check_out_point), "manual": manual}
        visit.check_out_digest = fingerprint({**check_out_body, "households": visit.households,
                                              "note": visit.note})
        if flow in ("synced", "late"):
            visit.request_digest = fingerprint({**self._check_in_body(visit, stay),
                                                "check_out": check_out_body,
                                                "households": visit.households,
                                                "note": visit.note})
        return visit, flow

    def _check_in(self, person: Person, stay: Stay, point: F.Point | None,
                  received_at: datetime) -> Visit:
        """A visit as it stands after its check-in arrived (flags of the check-in only)."""
        village = stay.village
        distance = point_distance(point, village)
        found = F.location_flags(point, distance, village.radius_m, person.book)
        if F.is_impossible_travel(person.last_fix, F.Fix(stay.check_in, point), person.book):
            found.add("impossible_travel")
        visit = Visit(client_id=self._uuid(), user_id=person.user.id, village=village,
                      activity=stay.activity, check_in_at=stay.check_in,
                      check_in_at_original=stay.check_in,
                      check_in_lat=point.lat if point else None,
                      check_in_lon=point.lon if point else None,
                      check_in_accuracy_m=point.accuracy_m if point else None,
                      check_in_distance_m=distance, status="open",
                      flags=F.active(found, person.book), received_at=received_at,
                      check_out_manual=False, updated_at=received_at)
        visit.request_digest = fingerprint(self._check_in_body(visit, stay))
        return visit

    def _check_in_body(self, visit: Visit, stay: Stay) -> dict:
        """The check-in request as the API would have parsed it."""
        point = None if visit.check_in_lat is None else F.Point(
            visit.check_in_lat, visit.check_in_lon, visit.check_in_accuracy_m)
        return {"client_id": uuid.UUID(visit.client_id), "village_code": stay.village.code,
                "activity": stay.activity,
                "check_in": {"at": self._shown(stay.check_in), "location": location_body(point)}}

    def _phone_point(self, village: Village, mishap: str | None) -> F.Point | None:
        """Where the phone said the person was, given what went wrong (if anything)."""
        rng = self.rng
        if mishap == "no_location":
            return None
        if mishap == "outside_geofence":
            metres = rng.uniform(max(1500, village.radius_m + 500), 3000)
            accuracy = rng.uniform(8, 40)
        elif mishap == "low_accuracy":
            metres, accuracy = rng.uniform(50, 400), rng.uniform(550, 1800)
        else:
            metres = rng.uniform(10, min(550, 0.55 * village.radius_m))
            accuracy = rng.choices((rng.uniform(5, 25), rng.uniform(25, 80),
                                    rng.uniform(80, 300)), (70, 25, 5))[0]
        lat, lon = offset((village.lat, village.lon), metres, rng.uniform(0, 360))
        return F.Point(lat, lon, round(accuracy, 1))

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

    def _credit(self, person: Person, visit: Visit) -> None:
        """Add a counting visit's time to the person's village days (RULES.md §2, roughly)."""
        at = visit.check_in_at.astimezone(self.zone)
        end = visit.check_out_at.astimezone(self.zone)
        while at < end:
            midnight = datetime.combine(at.date() + timedelta(days=1), time(0), self.zone)
            upto = min(end, midnight)
            day = at.date()
            before = day_credit(person.seconds_by_day[day])
            person.seconds_by_day[day] += (upto - at).total_seconds()
            person.credit[day.year] += day_credit(person.seconds_by_day[day]) - before
            at = upto

    # --- the audit trail, explanations and reviews -------------------------------------------

    def _trail(self, person: Person, visit: Visit, flow: str) -> None:
        """The events the API would have written for this visit, and any later decisions."""
        actor = person.user
        if flow in ("live", "manual"):
            self._event(visit, actor, visit.received_at, "created", None, "open")
            self._event(visit, actor, visit.check_out_received_at, "checked_out", "open",
                        visit.status)
        else:
            self._event(visit, actor, visit.received_at, "created", None, visit.status)
        visit.updated_at = visit.check_out_received_at
        if visit.status != "pending_review":
            return
        decided_at = self._later(visit.check_out_received_at, self.rng.uniform(1, 10))
        if self.rng.random() < 0.6:
            explained_at = visit.check_out_received_at + timedelta(hours=self.rng.uniform(1, 20))
            if explained_at < min(decided_at, self.now):
                self._explain(visit, actor, explained_at)
        if decided_at < self.now - timedelta(hours=1) and self.rng.random() < 0.9:
            self._decide(person, visit, decided_at)

    def _explain(self, visit: Visit, actor: User, at: datetime) -> None:
        flag = main_flag(visit.flags, EXPLANATIONS)
        if flag is None:
            return
        visit.explanation = self.rng.choice(EXPLANATIONS[flag])
        self._event(visit, actor, at, "explained", visit.status, visit.status,
                    {"explanation": [None, visit.explanation]})
        visit.updated_at = at

    def _decide(self, person: Person, visit: Visit, at: datetime) -> None:
        """A supervisor in scope approves or rejects a pending visit."""
        flag = main_flag(visit.flags, REJECTIONS)
        reject = self.rng.random() < (0.4 if flag == "outside_geofence" else 0.15)
        if reject:
            km = round((visit.distance_m or 0) / 1000, 1)
            comment = REJECTIONS.get(flag, REJECTIONS["low_accuracy"]).format(km=km)
        else:
            comment = self.rng.choice(APPROVAL_COMMENTS)
        self._review(visit, self._reviewer(person), at, "reject" if reject else "approve",
                     comment)

    def _review(self, visit: Visit, reviewer: User, at: datetime, decision: str,
                comment: str | None) -> None:
        before = visit.status
        visit.status = "rejected" if decision == "reject" else "approved"
        visit.reviewed_at, visit.reviewed_by_id, visit.review_comment = at, reviewer.id, comment
        self._event(visit, reviewer, at, decision, before, visit.status, comment=comment)
        visit.updated_at = at

    def _reviewer(self, person: Person) -> User:
        """The township's own supervisor for about half its visits, else the county's."""
        if person.user.unit.code == self.users["townsup"].unit.code and self.rng.random() < 0.5:
            return self.users["townsup"]
        return self.users[self.rng.choices(("supervisor", "supervisor2"), (3, 1))[0]]

    def _event(self, visit: Visit, actor: User, at: datetime, action: str, before: str | None,
               after: str, changes: dict | None = None, comment: str | None = None) -> None:
        self.events.append(VisitEvent(visit=visit, actor_id=actor.id, at=at, action=action,
                                      from_status=before, to_status=after,
                                      changes=changes or {}, comment=comment))

    # --- the odd ones out ---------------------------------------------------------------------

    def _withdrawn_check_ins(self, people: dict[str, Person]) -> None:
        """Two people checked in at the wrong village by mistake and withdrew at once."""
        for username, days_ago in (("cadre3", 45), ("cadre9", 150)):
            person = people[username]
            real = self._visit_near(person, days_ago, lambda v: v.status == "verified")
            wrong = min((v for v in person.township if v is not real.village),
                        key=lambda v: distance_m(v.lat, v.lon, real.village.lat,
                                                 real.village.lon))
            point = None if real.check_in_lat is None else F.Point(
                real.check_in_lat, real.check_in_lon, real.check_in_accuracy_m)
            at = real.check_in_at - timedelta(minutes=6)
            stay = Stay(wrong, at, at, real.activity)
            person.last_fix = latest_fix_before(person.visits, at)
            visit = self._check_in(person, stay, point, at + timedelta(seconds=5))
            self._event(visit, person.user, visit.received_at, "created", None, "open")
            visit.status = "withdrawn"
            visit.updated_at = at + timedelta(minutes=2)
            self._event(visit, person.user, visit.updated_at, "withdrawn", "open", "withdrawn")
            person.visits.append(visit)

    def _rejected_after_verification(self, people: dict[str, Person]) -> None:
        """A supervisor rejects a verified visit: the person was at a training that day."""
        person = people["cadre11"]
        visit = self._visit_near(person, 90, lambda v: v.status == "verified")
        self._review(visit, self.users["supervisor"],
                     self._later(visit.check_out_received_at, 12), "reject", REJECTED_VERIFIED)

    def _open_visit(self, person: Person) -> None:
        """The demo cadre checked in a couple of hours ago and is in the village now."""
        check_in = (self.now - timedelta(hours=2, minutes=5)).replace(second=0, microsecond=0)
        person.last_fix = latest_fix_before(person.visits, check_in)
        stay = Stay(person.linked[0], check_in, check_in, "household_visit")
        visit = self._check_in(person, stay, self._phone_point(stay.village, None),
                               check_in + timedelta(seconds=4))
        self._event(visit, person.user, visit.received_at, "created", None, "open")
        person.visits.append(visit)

    def _visit_near(self, person: Person, days_ago: int, wanted) -> Visit:
        """The person's visit closest to ``days_ago`` that ``wanted`` accepts."""
        target = self.now - timedelta(days=days_ago)
        return min((v for v in person.visits if wanted(v)),
                   key=lambda v: abs((v.check_in_at - target).total_seconds()))

    # --- thematic reports ---------------------------------------------------------------------

    def _reports(self) -> None:
        """Each secretary's reports over the year, mostly acknowledged; audited like the API."""
        reports = []
        titles = [(category, title) for category, pool in REPORT_TITLES.items()
                  for title in pool]
        for username, (latest, every, fates) in REPORT_CADENCE.items():
            ages = [latest]
            while ages[-1] + every + 5 <= HISTORY_DAYS:
                ages.append(ages[-1] + every + self.rng.randint(-5, 5))
            topics = self.rng.sample(titles, len(ages))  # nobody reports on one topic twice
            reports += [self._report(self.users[username], days_ago, topic,
                                     fates.get(age, "acknowledged"))
                        for age, (days_ago, topic) in enumerate(zip(ages, topics))]
        db.session.add_all(reports)
        db.session.flush()
        db.session.add_all(event for report in reports for event in self._report_audit(report))

    def _report(self, secretary: User, days_ago: int, topic: tuple[str, str],
                fate: str) -> ThematicReport:
        day = previous_workday(self.today - timedelta(days=days_ago))
        category, title = topic[0], topic[1].format(t=secretary.unit.name)
        summary = self.rng.choice(REPORT_SUMMARIES)
        client_id = self._uuid()
        created_at = min(self._local(day, time(16)) + timedelta(minutes=self.rng.randint(0, 150)),
                         self.now - timedelta(minutes=30))
        body = {"client_id": uuid.UUID(client_id), "reported_on": day, "title": title,
                "category": category, "summary": summary}
        report = ThematicReport(client_id=client_id, user_id=secretary.id,
                                created_by_id=secretary.id, reported_on=day, title=title,
                                category=category, summary=summary, status="submitted",
                                request_digest=fingerprint(body), created_at=created_at)
        reviewed_at = self._later(created_at, self.rng.uniform(2, 8))
        if fate != "submitted" and reviewed_at < self.now:
            report.status = fate
            report.review_comment = REPORT_REJECTION if fate == "rejected" else None
            report.reviewed_at, report.reviewed_by_id = reviewed_at, self.users["supervisor"].id
        return report

    @staticmethod
    def _report_audit(report: ThematicReport) -> list[AuditEvent]:
        events = [AuditEvent(actor_id=report.created_by_id, at=report.created_at,
                             entity="report", entity_key=str(report.id), action="created",
                             changes={"user_id": report.user_id})]
        if report.reviewed_at is not None:
            events.append(AuditEvent(actor_id=report.reviewed_by_id, at=report.reviewed_at,
                                     entity="report", entity_key=str(report.id),
                                     action=report.status,
                                     changes={"comment": report.review_comment}))
        return events

    # --- time and ids -------------------------------------------------------------------------

    def _local(self, day: date, at: time) -> datetime:
        return datetime.combine(day, at, self.zone)

    def _shown(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def _later(self, moment: datetime, days: float) -> datetime:
        """About ``days`` later, in office hours (9:00–17:30 local) on a working day."""
        day = (moment + timedelta(days=days)).astimezone(self.zone).date()
        while not is_workday(day):
            day += timedelta(days=1)
        minutes = 9 * 60 + self.rng.randint(0, 510)
        return datetime.combine(day, time(minutes // 60, minutes % 60), self.zone)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


# --- small pure helpers -----------------------------------------------------------------------

CALENDAR_YEARS = frozenset(d.year for d in chinese_calendar.holidays)


def is_workday(day: date) -> bool:
    """The official working day (调休 included); Monday–Friday where the calendar ends."""
    if day.year in CALENDAR_YEARS:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def previous_workday(day: date) -> date:
    while not is_workday(day):
        day -= timedelta(days=1)
    return day


def day_credit(seconds: float) -> float:
    return 1.0 if seconds >= 6 * 3600 else 0.5 if seconds >= 3 * 3600 else 0.0


def offset(point: tuple[float, float], metres: float, bearing_deg: float) -> tuple[float, float]:
    """The point ``metres`` away in direction ``bearing_deg`` (close enough at these ranges)."""
    lat, lon = point
    bearing = math.radians(bearing_deg)
    dlat = metres * math.cos(bearing) / 111_320
    dlon = metres * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def point_distance(point: F.Point | None, village: Village) -> float | None:
    """The distance the server stores (metres, one decimal), None without a point."""
    if point is None:
        return None
    return round(distance_m(point.lat, point.lon, village.lat, village.lon), 1)


def location_body(point: F.Point | None) -> dict | None:
    if point is None:
        return None
    return {"lat": point.lat, "lon": point.lon, "accuracy_m": point.accuracy_m, "crs": "wgs84"}


def main_flag(flags: list[str], known: dict) -> str | None:
    """The flag a comment is about: the first of ``known`` the visit has."""
    return next((f for f in known if f in flags), None)


def latest_fix_before(visits: list[Visit], at: datetime) -> F.Fix | None:
    """The check-out fix the server would compare a check-in at ``at`` with."""
    done = [v for v in visits if v.status != "withdrawn" and v.check_out_at is not None
            and v.check_out_at <= at]
    if not done:
        return None
    return check_out_fix(max(done, key=lambda v: v.check_out_at))


def check_out_fix(visit: Visit) -> F.Fix:
    point = None if visit.check_out_lat is None else F.Point(
        visit.check_out_lat, visit.check_out_lon, visit.check_out_accuracy_m)
    return F.Fix(visit.check_out_at, point)
