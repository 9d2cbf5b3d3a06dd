"""Field errors in the request's language, translated at the edge.

The schemas (marshmallow's own messages), the services and the CSV readers give each field's
problem as a short English text ("Not a valid number.", "before start", "must be holiday or
workday"). Those texts stay where they are raised; this catalogue says each one in Chinese,
and our own terse ones as English sentences (marshmallow's English is kept as it is).
``localize_errors`` rewrites an ``errors`` value (a nested dict/list of strings) in the
request's language: for every API answer (``server/errors.py``), a failed import job's
answer (``server/org/jobs.py``) and the CSV row errors as they are worded
(``server/org/imports.py``). Localizing a text twice gives the same text.

A text the catalogue does not know passes through unchanged: ``tests/api/test_languages.py``
sends every operation bad input in both languages and fails on a text left untranslated, and
checks every message marshmallow can give against this catalogue.
"""
from __future__ import annotations

import re

from .messages import MESSAGES
from .schemas import BLANK, FIRST_DAY, LAST_DAY, SERVICE_YEARS, TEXT_REFUSED, TIMESTAMP_SHAPE

_YEARS_ZH = f"须在 {FIRST_DAY} 到 {LAST_DAY} 之间"

# Exact texts: what the code raises → (Chinese, English).
EXACT: dict[str, tuple[str, str]] = {
    # marshmallow and webargs (their English is kept as it is)
    "Missing data for required field.": ("必填。", "Missing data for required field."),
    "Unknown field.": ("未知字段。", "Unknown field."),
    "Field may not be null.": ("不能为空值。", "Field may not be null."),
    "Invalid value.": ("值无效。", "Invalid value."),
    "Invalid input.": ("输入无效。", "Invalid input."),
    "Invalid input type.": ("须为对象（键值对）。", "Invalid input type."),
    "Invalid type.": ("类型错误。", "Invalid type."),
    "Not a valid boolean.": ("须为布尔值（是或否）。", "Not a valid boolean."),
    "Not a valid integer.": ("须为整数。", "Not a valid integer."),
    "Not a valid number.": ("须为数字。", "Not a valid number."),
    "Number too large.": ("数字过大。", "Number too large."),
    "Not a valid string.": ("须为文本（字符串）。", "Not a valid string."),
    "Not a valid utf-8 string.": ("不是有效的文本。", "Not a valid utf-8 string."),
    "Not a valid list.": ("须为列表（数组）。", "Not a valid list."),
    "Not a valid delimited list.": ("须为以逗号分隔的列表。", "Not a valid delimited list."),
    "Not a valid delimited tuple.": ("须为以逗号分隔的列表。", "Not a valid delimited tuple."),
    "Not a valid mapping type.": ("须为对象（键值对）。", "Not a valid mapping type."),
    "Not a valid tuple.": ("须为列表（数组）。", "Not a valid tuple."),
    "Not a valid UUID.": ("不是有效的唯一标识符。", "Not a valid UUID."),
    "Not a valid URL.": ("不是有效的网址。", "Not a valid URL."),
    "Not a valid email address.": ("不是有效的电子邮箱地址。", "Not a valid email address."),
    "Not a valid period of time.": ("不是有效的时长。", "Not a valid period of time."),
    **{f"Not a valid IP{version} {kind}.": (f"不是有效的网络{zh}。", f"Not a valid IP{version} {kind}.")
       for version in ("", "v4", "v6")
       for kind, zh in (("address", "地址"), ("interface", "接口地址"))},
    "Special numeric values (nan or infinity) are not permitted.": (
        "不能是非数值或无穷大。", "Special numeric values (nan or infinity) are not permitted."),
    "String does not match expected pattern.": ("格式不正确。",
                                                "String does not match expected pattern."),
    "Invalid JSON body.": ("请求体不是有效的 JSON。", "Invalid JSON body."),
    # server/schemas.py
    "1–20 letters or digits": ("须为 1–20 位字母或数字。", "Must be 1–20 letters or digits."),
    "12 digits": ("须为 12 位数字。", "Must be 12 digits."),
    TEXT_REFUSED: ("不能含有控制字符、双向文本控制符或孤立的代理项。",
                   "Must not hold control characters, bidirectional overrides or lone "
                   "surrogates."),
    BLANK: ("不能为空白。", "Must not be blank."),
    "must be written YYYY-MM-DD": ("日期须写作 2026-03-01 这样的格式。",
                                   "Must be written YYYY-MM-DD."),
    f"must be written {TIMESTAMP_SHAPE}": (
        "时间须写作 2026-03-01T08:30:00+08:00 这样带时区的格式。",
        f"Must be written {TIMESTAMP_SHAPE}."),
    SERVICE_YEARS: (f"{_YEARS_ZH}。", f"{SERVICE_YEARS[0].upper()}{SERVICE_YEARS[1:]}."),
    f"{SERVICE_YEARS} once corrected for the device clock (X-Client-Time)": (
        f"按设备时钟校正后，{_YEARS_ZH}。",
        f"{SERVICE_YEARS[0].upper()}{SERVICE_YEARS[1:]} once corrected for the device clock "
        "(X-Client-Time)."),
    # server/auth/usernames.py
    "only letters, digits and . _ - @": ("只能含字母、数字和 . _ - @。",
                                         "Only letters, digits and . _ - @."),
    "letters from more than one script": ("不能混用多种文字的字母。",
                                          "Letters from more than one script."),
    # cross-field rules of the schemas
    "lat and lon change together": ("lat 与 lon 须一起修改。", "lat and lon change together."),
    "must not be before active_from": ("不能早于 active_from。",
                                       "Must not be before active_from."),
    # the services' details
    "required": ("必填。", "Required."),
    "unknown": ("不存在。", "Unknown."),
    "duplicate": ("已存在。", "Already exists."),
    "duplicate key": ("重复的字段。", "Given more than once."),
    "out of scope": ("不在您的管辖范围内。", "Outside your scope."),
    "level": ("上级单位层级不正确。", "The parent unit's level does not fit."),
    "not a township": ("不是乡镇。", "Not a township."),
    "township required": ("须为乡镇。", "Must be a township."),
    "not a county": ("不是县（区）。", "Not a county."),
    "name the county": ("请指明县（区）。", "Name the county."),
    "before active_from": ("早于 active_from。", "Before active_from."),
    "outside township": ("不在该乡镇。", "Outside the township."),
    "outside": ("不在您所在的乡镇。", "Outside your township."),
    "not a field role": ("该角色不能包村。", "This role does not link villages."),
    "after today": ("不能晚于今天。", "Cannot be after today."),
    "outside the year": ("不在所选年度内。", "Outside the requested year."),
    "before start": ("早于开始日期。", "Before the start date."),
    "before from": ("早于开始日期（from）。", "Before from."),
    "no post on this date": ("该日期没有班子成员或书记任职。",
                             "No cadre or secretary post on this date."),
    "before current post": ("早于现任职的开始日期。", "Before the current post began."),
    "given twice": ("在文件中出现了不止一次。", "Given more than once in the file."),
    "multiples of 0.5": ("须为 0.5 的倍数。", "Must be a multiple of 0.5."),
    "in the future": ("晚于当前时间。", "In the future."),
    "before check-in": ("早于签到时间。", "Before the check-in."),
    "unknown activity": ("未知的工作内容。", "Unknown activity."),
    "unchanged": ("新密码不能与原密码相同。", "The new password must differ from the current one."),
    # codes given as a field's problem
    **{code: MESSAGES[code] for code in (
        "weak_password", "wrong_password", "nul_character", "lone_surrogate")},
    # uploads and CSV files
    "not UTF-8": ("文件不是 UTF-8 编码。", "The file is not UTF-8."),
    "contains U+0000": ("文件含有空字符（U+0000）。", "The file contains U+0000."),
    "missing column": ("缺少该列。", "Missing column."),
    "unknown column": ("未知的列。", "Unknown column."),
    "line contains NUL": ("该行含有空字符。", "The line contains NUL."),
    "missing": ("缺少该项。", "Missing."),
    "not a YYYY-MM-DD date": ("不是有效日期（应写作 2026-01-01 这样的格式）。",
                              "Not a YYYY-MM-DD date."),
    "must be holiday or workday": ("须为 holiday（放假）或 workday（调休上班）。",
                                   "Must be holiday or workday."),
    "no dates": ("文件中没有日期。", "The file holds no dates."),
}

_OPS = {  # marshmallow's Range wording in Chinese
    "greater than or equal to": "不小于", "greater than": "大于",
    "less than or equal to": "不大于", "less than": "小于",
}
_OP = "|".join(map(re.escape, _OPS))  # longest first: "... or equal to" before "... than"
_TYPES = {"datetime": "日期时间", "date": "日期", "time": "时间"}
_AWARENESS = {"aware": "带时区的", "naive": "不带时区的", None: ""}

# Texts with parameters: (regex, Chinese, English); the templates take the regex's groups.
# English None: the text is English already (marshmallow's own) and is kept as it is.
PATTERNS: list[tuple[re.Pattern, str, str | None]] = [(re.compile(p), zh, en) for p, zh, en in [
    # server/org/posts.py
    (r"overlaps post (?P<post>\d+)", "与任职 {post} 的日期重叠。", "Overlaps post {post}."),
    # marshmallow
    (r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.",
     "长度须在 {min} 到 {max} 之间。", None),
    (r"Length must be (?P<equal>\d+)\.", "长度须为 {equal}。", None),
    (r"Longer than maximum length (?P<max>\d+)\.", "长度不能超过 {max}。", None),
    (r"Shorter than minimum length (?P<min>\d+)\.", "长度不能少于 {min}。", None),
    (rf"Must be (?P<min_op>{_OP}) (?P<min>\S+) and (?P<max_op>{_OP}) (?P<max>\S+)\.",
     "须{min_op} {min}，且{max_op} {max}。", None),
    (rf"Must be (?P<op>{_OP}) (?P<limit>\S+)\.", "须{op} {limit}。", None),
    (r"Must be one of: (?P<choices>.*)\.", "须为以下之一：{choices}。", None),
    (r"Must be equal to (?P<other>.*)\.", "须等于 {other}。", None),
    (r"One or more of the choices you made was not in: (?P<choices>.*)\.",
     "所选的值须在以下范围内：{choices}。", None),
    (r"One or more of the choices you made was in: (?P<choices>.*)\.",
     "所选的值不能是以下之一：{choices}。", None),
    (r"Not a valid (?:(?P<awareness>aware|naive) )?(?P<type>datetime|date|time)\.",
     "不是有效的{awareness}{type}。", None),
    (r".* cannot be formatted as an? (?P<type>datetime|date|time)\.", "无法写成{type}。", None),
    (r".* cannot be formatted as a timedelta\.", "无法写成时长。", None),
    # server/auth/usernames.py
    (r"(?P<min>\d+)–(?P<max>\d+) characters", "须为 {min}–{max} 个字符。",
     "Must be {min}–{max} characters."),
    # CSV files (server/org/imports.py, the calendar's parse_calendar_csv) and the csv module
    (r"more fields than the header \((?P<count>\d+) > (?P<width>\d+)\)",
     "字段数多于表头（{count} > {width}）。", "More fields than the header ({count} > {width})."),
    (r"too many rows \(at most (?P<max>[\d,]+)\)", "行数过多（最多 {max} 行）。",
     "Too many rows (at most {max})."),
    (r"column given (?P<count>\d+) times", "该列出现了 {count} 次。",
     "Column given {count} times."),
    (r"not in (?P<year>\d{4})", "不在 {year} 年内。", "Not in {year}."),
    (r"field larger than field limit \((?P<limit>\d+)\)", "字段超过长度上限（{limit} 个字符）。",
     "A field is longer than the limit ({limit} characters)."),
]]


def _chinese_params(match: re.Match) -> dict[str, str]:
    params = match.groupdict()
    if params.get("choices"):
        params["choices"] = params["choices"].replace(", ", "、")
    if "type" in params:
        params["type"] = _TYPES[params["type"]]
    if "awareness" in params:
        params["awareness"] = _AWARENESS[params["awareness"]]
    for name in ("min_op", "max_op", "op"):
        if params.get(name):
            params[name] = _OPS[params[name]]
    return params


def localize(text: str, english: bool) -> str:
    """One field error in Chinese or English; a text the catalogue does not know is kept."""
    known = EXACT.get(text)
    if known is not None:
        return known[english]
    for pattern, zh, en in PATTERNS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        if english:
            return text if en is None else en.format(**match.groupdict())
        return zh.format(**_chinese_params(match))
    return text


def localize_errors(errors, english: bool):
    """``errors`` (field → messages, nested as marshmallow nests them; CSV row errors as
    ``{"row", "column", "message"}``) with every message in the chosen language. Keys, row
    numbers and the ``column`` a row error names are left as they are."""
    if isinstance(errors, str):
        return localize(errors, english)
    if isinstance(errors, list):
        return [localize_errors(item, english) for item in errors]
    if isinstance(errors, dict):
        return {key: value if key in ("row", "column") and "message" in errors
                else localize_errors(value, english) for key, value in errors.items()}
    return errors
