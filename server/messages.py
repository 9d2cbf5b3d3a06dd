"""Every message the API speaks, in Simplified Chinese (default) and English."""
from flask import has_request_context, request

MESSAGES: dict[str, tuple[str, str]] = {
    "bad_request": ("请求格式错误。", "The request is malformed."),
    "invalid_json": ("请求体不是有效的 JSON 对象。", "The request body is not a valid JSON object."),
    "invalid_input": ("输入有误，请检查标出的字段。", "Some fields are invalid; see errors."),
    "nul_character": ("文本中不能含有空字符（U+0000）。", "Text cannot contain the NUL character (U+0000)."),
    "lone_surrogate": ("文本中含有无法保存的字符（孤立的代理项）。",
                       "Text holds a character that cannot be stored (a lone surrogate)."),
    "duplicate_key": ("请求中字段 {key} 出现了不止一次。", "The field {key} appears more than once."),
    "unauthorized": ("请先登录。", "Please log in."),
    "token_invalid": ("登录已失效，请重新登录。", "Your session has ended; please log in again."),
    "bad_credentials": ("用户名或密码错误。", "Wrong username or password."),
    "throttled": ("登录失败次数过多，请 {minutes} 分钟后再试。",
                  "Too many failed logins; try again in {minutes} minutes."),
    "too_many_requests": ("请求过于频繁，请稍后再试。", "Too many requests; try again shortly."),
    "forbidden": ("您无权执行此操作。", "You are not allowed to do this."),
    "out_of_scope": ("所选单位或人员不在您的管辖范围内。", "That unit or person is outside your scope."),
    "password_change_required": ("请先修改一次性密码。", "Please change your one-time password first."),
    "not_found": ("未找到该对象。", "Not found."),
    "method_not_allowed": ("不支持此请求方法。", "This method is not allowed here."),
    "too_large": ("请求内容过大。", "The request is too large."),
    "conflict": ("与已有数据冲突。", "This conflicts with stored data."),
    "unavailable": ("服务暂时不可用，请稍后重试。", "The service is briefly unavailable; retry shortly."),
    "internal_error": ("服务器内部错误。", "Internal server error."),
    "weak_password": ("密码至少 8 个字符，且不能与用户名相同。",
                      "A password needs at least 8 characters and must differ from the username."),
    "wrong_password": ("原密码不正确。", "The current password is wrong."),
    "duplicate": ("{what}已存在：{value}", "{what} already exists: {value}"),
    "unknown_unit": ("未知单位：{code}", "Unknown unit: {code}"),
    "bad_parent": ("上级单位层级不正确：{code}", "The parent unit's level does not fit: {code}"),
    "unit_not_township": ("单位 {code} 不是乡镇。", "Unit {code} is not a township."),
    "unit_not_county": ("单位 {code} 不是县（区）。", "Unit {code} is not a county."),
    "calendar_county_required": ("请指明要载入日历的县（区）（unit_code）。",
                                 "Name the county whose calendar this is (unit_code)."),
    "unit_required": ("该角色需要所属单位。", "This role needs a unit."),
    "unknown_village": ("未知村：{code}", "Unknown village: {code}"),
    "village_outside_township": ("村 {code} 不在您所在的乡镇。",
                                 "Village {code} is not in your township."),
    "linked_village_outside_township": ("村 {code} 不在该人员所在的乡镇。",
                                        "Village {code} is not in this person's township."),
    "no_post": ("该日期您没有班子成员或书记任职，不能签到。",
                "You hold no cadre or secretary post on that date, so you cannot check in."),
    "post_overlap": ("与任职 {post_id}（{start} 至 {end}）的日期重叠。",
                     "The dates overlap post {post_id} ({start} to {end})."),
    "before_current_post": ("调动或任职日期须晚于现任职 {post_id} 的开始日期（{start}）。",
                            "A transfer must start after the current post {post_id} began ({start})."),
    "links_no_post": ("该人员在 {date} 没有班子成员或书记任职，不能包村；请改选任职期间的生效日期。",
                      "This person holds no cadre or secretary post on {date}; "
                      "choose a date within a post to link villages from."),
    "period_closed": ("该年度已封存，如需补录请联系组织部",
                      "This year is closed; to add or change a record, "
                      "contact the organisation department."),
    "pending_reviews": ("该年度还有 {count} 条到村记录待审核，审核完毕后才能封存。",
                        "{count} visits of this year still await review; "
                        "review them before closing the year."),
    "year_closed": ("{code} 的 {year} 年度已经封存。", "Year {year} of {code} is closed already."),
    "not_closed": ("该年度没有封存。", "That year is not closed."),
    "reason_required": ("请写明重新开放的理由。", "Give a reason for reopening."),
    "year_out_of_range": ("年份 {year} 不在可查询的范围内（2000 年至今年）。",
                          "Year {year} is not one that can be asked about (2000 to this year)."),
    "unknown_user": ("未知用户：{username}", "Unknown user: {username}"),
    "duplicate_row": ("同一文件中 {value} 出现了不止一次。", "{value} appears more than once in the file."),
    "not_field_user": ("只有班子成员和书记可以包村。", "Only cadres and secretaries link villages."),
    "visit_open": ("已有未签退的走访（{client_id}），请先签退。",
                   "Another visit is still open ({client_id}); check out first."),
    "client_id_reused": ("该 client_id 已用于不同的请求。",
                         "This client_id was already used for a different request."),
    "checkout_before_checkin": ("签退时间早于签到时间。", "Check-out is before check-in."),
    "time_in_future": ("时间晚于当前时间超过 5 分钟。", "A time is more than 5 minutes in the future."),
    "time_without_offset": ("时间必须带时区偏移。", "A time must carry a UTC offset."),
    "invalid_client_time": ("X-Client-Time 须为带时区偏移的时间，如 2026-03-01T08:30:00+08:00。",
                            "X-Client-Time is not an ISO 8601 time with an offset."),
    "visit_closed": ("该走访已签退，签退信息不同。",
                     "This visit is already checked out with a different check-out."),
    "visit_not_open": ("只能修改未签退走访的村。", "Only an open visit's village can change."),
    "cannot_withdraw": ("只能撤回未签退或待审核的走访。", "Only open or pending visits can be withdrawn."),
    "cannot_review": ("该走访当前状态（{state}）不能执行此审核。",
                      "A visit in status {state} cannot take this decision."),
    "comment_required": ("驳回或重新审核须填写意见。", "A comment is required for this decision."),
    "not_flagged": ("只有带标记的走访可以补充说明。", "Only a flagged visit takes an explanation."),
    "report_not_submitted": ("只有已提交的汇报可以执行此操作。",
                             "Only a submitted report allows this."),
    "report_for_secretary": ("只能为书记登记专题汇报。", "Reports are recorded for secretaries only."),
    "date_in_future": ("日期不能晚于今天。", "The date cannot be after today."),
    "user_id_required": ("请指定书记（user_id）。", "Name the secretary (user_id)."),
    "as_of_future": ("as_of 不能晚于今天。", "as_of cannot be after today."),
    "as_of_outside_year": ("as_of 不在所选年度内。", "as_of is outside the requested year."),
    "calendar_invalid": ("日历文件有误，未导入。", "The calendar file has errors; nothing was loaded."),
    "csv_invalid": ("文件有 {count} 处错误，未导入任何行。",
                    "The CSV has {count} errors; no row was imported."),
}


# Parameters that are words of ours rather than the client's data (``what`` was duplicated, a
# visit's ``state``): said in the message's language too.
WORDS: dict[str, tuple[str, str]] = {
    "unit": ("单位", "A unit"), "village": ("村", "A village"), "username": ("用户名", "The username"),
    "open": ("未签退", "open"), "verified": ("已核验", "verified"),
    "pending_review": ("待审核", "pending review"), "approved": ("已通过", "approved"),
    "rejected": ("已驳回", "rejected"), "withdrawn": ("已撤回", "withdrawn"),
}
WORDED_PARAMS = ("what", "state")


def prefers_english() -> bool:
    """Whether the current request asks for English before Chinese."""
    if not has_request_context():
        return False
    best = request.accept_languages.best_match(["zh", "zh-CN", "en"], default="zh")
    return best.startswith("en")


def message(code: str, /, **params) -> str:
    """Return the readable message for ``code`` in the request's language."""
    zh, en = MESSAGES.get(code, MESSAGES["bad_request"])
    english = prefers_english()
    template = en if english else zh
    for name in WORDED_PARAMS:
        if params.get(name) in WORDS:
            params[name] = WORDS[params[name]][english]
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
