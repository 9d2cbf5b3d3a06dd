// 管理 (admins): users (create, deactivate, reset a password, posts over time, linked villages
// from a date), villages (the radius), CSV imports with their row-level errors, 换届 (posts in
// bulk, previewed first), opening balances, and a year's calendar.
// Each section is a sub-tab: #/console/admin/<section>. A one-time password is shown once, in a
// dialog, and kept nowhere.
import { h } from '../js/dom.js';
import { t, addWords } from '../js/i18n.js';
import * as fmt from '../js/format.js';
import { chip, title } from '../js/views/common.js';
import { confirm, modal } from '../js/views/dialogs.js';
import { bound, busy, load, newClientId, notice, peopleInScope, personPicker, problem, rowErrors,
  send, sendCsv, subnav } from './work.js';
import { huanjiePage, pastLinks, postsEditor, ROLES } from './posts.js';

addWords({
  'zh-CN': {
    admin_title: '管理',
    admin_sections: '管理项目',
    admin_users: '人员',
    admin_villages: '村',
    admin_imports: '导入',
    admin_huanjie: '换届',
    admin_balances: '期初数',
    admin_calendar: '工作日历',
    admin_new_user: '新建人员',
    admin_username: '用户名',
    admin_name: '姓名',
    admin_active_from: '起始日期（目标从这天起按工作日计算）',
    admin_role: '角色',
    admin_unit: '单位',
    admin_no_unit: '无（全部范围）',
    admin_create: '新建',
    admin_created: '已新建 {name}。',
    admin_otp_title: '一次性密码',
    admin_otp_text: '{name}（{username}）的一次性密码如下，只显示这一次。请当面或电话告知本人，首次登录后须修改。',
    admin_otp_failed: '人员已新建，但没有生成一次性密码：{problem}。请在列表中点“重置密码”。',
    admin_active: '在用',
    admin_inactive: '已停用',
    admin_must_change: '待改密码',
    admin_deactivate: '停用',
    admin_activate: '启用',
    admin_deactivate_title: '停用 {name}？',
    admin_deactivate_text: '停用后此人不能登录，已登录的手机也会退出。记录都保留。',
    admin_deactivated: '已停用 {name}。',
    admin_activated: '已启用 {name}。',
    admin_reset: '重置密码',
    admin_reset_title: '重置 {name} 的密码？',
    admin_reset_text: '将生成一次性密码，只显示一次；原密码和已登录的手机失效。',
    admin_links_title: '{name} 包联的村',
    admin_links_save: '保存包联村',
    admin_links_saved: '已保存 {name} 的包联村（{n} 个）。',
    admin_links_none: '本乡镇没有村。',
    admin_radius: '范围（米）',
    admin_radius_save: '保存',
    admin_radius_saved: '{name} 的范围已改为 {n} 米，只对之后的走访生效。',
    admin_village_code: '代码',
    admin_village_name: '村名',
    admin_village_township: '乡镇',
    admin_village_refused: '{name}：{problem}',
    admin_import_kind: '导入内容',
    admin_import_users: '人员（username,name,role,unit_code[,active_from][,active_until][,village_codes]）',
    admin_import_villages: '村（code,name,township_code,lat,lon[,radius_m][,crs]）',
    admin_import_file: 'CSV 文件',
    admin_import_text: '或粘贴 CSV 内容',
    admin_import_submit: '导入',
    admin_import_need: '请选择文件或粘贴内容。',
    admin_imported: '已导入 {n} 行。',
    admin_imported_passwords: '新人员的一次性密码（只显示这一次）：',
    admin_job_title: '正在后台导入 {n} 行',
    admin_job_hint: '文件较大，正在后台导入，可以先去做别的事，完成后在这里显示结果。',
    admin_job_queued: '排队等待中…',
    admin_job_checking: '正在检查：第 {done} 行，共 {total} 行',
    admin_job_hashing: '正在生成一次性密码：{done} 个，共 {total} 个',
    admin_job_writing: '正在写入…',
    admin_job_running: '正在导入…',
    admin_job_lost: '查不到导入进度：{problem}',
    admin_balance_hint: '系统启用前本年度已完成的在村天数和专题汇报次数，计入全年结果。',
    admin_balance_year: '年度',
    admin_balance_days: '在村天数（0.5 的倍数）',
    admin_balance_reports: '专题汇报次数',
    admin_balance_note: '说明（选填）',
    admin_balance_submit: '保存期初数',
    admin_balance_saved: '已保存 {name} {year} 年期初数：在村 {days} 天，汇报 {reports} 次。',
    admin_balance_need_person: '请选择人员。',
    admin_calendar_hint: '每行“日期,类别”，类别为 holiday（放假）或 workday（调休上班）。载入后替换该年的清单，结果改按正式日历计算。',
    admin_calendar_year: '年份',
    admin_calendar_text: '日历内容',
    admin_calendar_submit: '载入日历',
    admin_calendar_loaded: '已载入 {year} 年日历：{n} 个日期，正式日历。',
  },
  en: {
    admin_title: 'Admin',
    admin_sections: 'Admin sections',
    admin_users: 'Users',
    admin_villages: 'Villages',
    admin_imports: 'Import',
    admin_huanjie: 'Posts in bulk',
    admin_balances: 'Opening balances',
    admin_calendar: 'Calendar',
    admin_new_user: 'New user',
    admin_username: 'Username',
    admin_name: 'Name',
    admin_active_from: 'Starts on (targets count working days from this date)',
    admin_role: 'Role',
    admin_unit: 'Unit',
    admin_no_unit: 'None (everything)',
    admin_create: 'Create',
    admin_created: '{name} created.',
    admin_otp_title: 'One-time password',
    admin_otp_text: 'The one-time password of {name} ({username}), shown only now. Tell them in person or by phone; they must change it at first login.',
    admin_otp_failed: 'The user was created but got no one-time password: {problem}. Use "Reset password" in the list.',
    admin_active: 'Active',
    admin_inactive: 'Deactivated',
    admin_must_change: 'must change password',
    admin_deactivate: 'Deactivate',
    admin_activate: 'Activate',
    admin_deactivate_title: 'Deactivate {name}?',
    admin_deactivate_text: 'They can no longer log in, and their phones are logged out. Their records stay.',
    admin_deactivated: '{name} deactivated.',
    admin_activated: '{name} activated.',
    admin_reset: 'Reset password',
    admin_reset_title: 'Reset the password of {name}?',
    admin_reset_text: 'A one-time password is made and shown once; the old one and their logins stop working.',
    admin_links_title: 'Villages linked to {name}',
    admin_links_save: 'Save linked villages',
    admin_links_saved: 'Linked villages of {name} saved ({n}).',
    admin_links_none: 'The township has no villages.',
    admin_radius: 'Radius (m)',
    admin_radius_save: 'Save',
    admin_radius_saved: 'The radius of {name} is now {n} m, for visits from now on.',
    admin_village_code: 'Code',
    admin_village_name: 'Village',
    admin_village_township: 'Township',
    admin_village_refused: '{name}: {problem}',
    admin_import_kind: 'What to import',
    admin_import_users: 'Users (username,name,role,unit_code[,active_from][,active_until][,village_codes])',
    admin_import_villages: 'Villages (code,name,township_code,lat,lon[,radius_m][,crs])',
    admin_import_file: 'CSV file',
    admin_import_text: 'or paste the CSV',
    admin_import_submit: 'Import',
    admin_import_need: 'Choose a file or paste the CSV.',
    admin_imported: '{n} rows imported.',
    admin_imported_passwords: 'One-time passwords of the new users (shown only now):',
    admin_job_title: 'Importing {n} rows in the background',
    admin_job_hint: 'A large file is imported in the background; you may do something else meanwhile. The result is shown here when it is done.',
    admin_job_queued: 'Waiting for its turn…',
    admin_job_checking: 'Checking row {done} of {total}',
    admin_job_hashing: 'Making one-time passwords: {done} of {total}',
    admin_job_writing: 'Writing…',
    admin_job_running: 'Importing…',
    admin_job_lost: 'The import\'s progress cannot be read: {problem}',
    admin_balance_hint: 'Village days and reports done this year before the system was used; they add to the yearly results.',
    admin_balance_year: 'Year',
    admin_balance_days: 'Village days (multiples of 0.5)',
    admin_balance_reports: 'Thematic reports',
    admin_balance_note: 'Note (optional)',
    admin_balance_submit: 'Save opening balance',
    admin_balance_saved: 'Opening balance of {name} for {year} saved: {days} village days, {reports} reports.',
    admin_balance_need_person: 'Choose the person.',
    admin_calendar_hint: 'One "date,kind" line each; kind is holiday or workday (a make-up workday). Loading replaces that year\'s list; results then use the official calendar.',
    admin_calendar_year: 'Year',
    admin_calendar_text: 'Calendar',
    admin_calendar_submit: 'Load calendar',
    admin_calendar_loaded: 'Calendar for {year} loaded: {n} dates, official.',
  },
});

const SECTIONS = ['users', 'villages', 'imports', 'huanjie', 'balances', 'calendar'];
const DRAW = { users, villages, imports, huanjie, balances, calendar };

// Kept between redraws: what each form holds, and each section's last message.
const notes = Object.fromEntries(SECTIONS.map((s) => [s, notice()]));
const drafts = {
  user: { username: '', name: '', role: 'cadre', unit_code: '', active_from: '' },
  radius: {},
  import: { kind: 'users', text: '' },
  balance: { user_id: '', year: String(fmt.cst().y), village_days: '', reports: '0', note: '' },
  calendar: { year: String(fmt.cst().y + 1), text: '' },
};

export async function render(ctx) {
  if (ctx.fresh) for (const note of Object.values(notes)) note.clear();
  const section = SECTIONS.includes(ctx.params.section) ? ctx.params.section : 'users';
  return h('div', { class: 'work admin', 'data-section': section },
    title(t('admin_title')),
    subnav(t('admin_sections'), SECTIONS.map((s) => ({ href: `#/console/admin/${s}`,
      label: t(`admin_${s}`), current: s === section }))),
    notes[section].node(),
    await DRAW[section](ctx));
}

// --- users ---------------------------------------------------------------------------------------

async function users(ctx) {
  const [people, units] = await Promise.all([load('/users'), load('/units')]);
  return h('div', {},
    newUserForm(ctx, units),
    h('ul', { class: 'admin-users' }, people.map((u) => userRow(ctx, u, units))));
}

function newUserForm(ctx, units) {
  const draft = drafts.user;
  // A person starts today unless told otherwise: a target counted from 1 January would show
  // someone created in December as far behind.
  if (!draft.active_from) draft.active_from = fmt.dateKey();
  const note = notes.users;
  const submit = async (event) => {
    event.preventDefault();
    const body = { username: draft.username.trim(), name: draft.name.trim(), role: draft.role,
      unit_code: draft.unit_code || null, active_from: draft.active_from || null,
      password: throwawayPassword() };
    const res = await busy(event.submitter, () => send('POST', '/users', body));
    if (!res.ok) { note.set('error', problem(res)); return; }
    drafts.user = { username: '', name: '', role: draft.role, unit_code: draft.unit_code,
      active_from: draft.active_from };
    note.set('ok', t('admin_created', { name: res.data.name }));
    await giveOneTimePassword(res.data, true);
    ctx.refresh();
  };
  return h('form', { class: 'card admin-new-user', onsubmit: submit, novalidate: true },
    h('h3', {}, t('admin_new_user')),
    h('div', { class: 'work-pair' },
      bound(draft, 'username', t('admin_username'), { id: 'admin-username', maxlength: 64,
        autocomplete: 'off' }),
      bound(draft, 'name', t('admin_name'), { id: 'admin-name', maxlength: 100 })),
    h('div', { class: 'work-pair' },
      bound(draft, 'role', t('admin_role'), { id: 'admin-role', tag: 'select',
        options: ROLES.map((r) => [r, t(`role_${r}`)]) }),
      bound(draft, 'unit_code', t('admin_unit'), { id: 'admin-unit', tag: 'select',
        options: [['', t('admin_no_unit')], ...units.map((u) => [u.code, `${u.name}（${u.code}）`])] })),
    bound(draft, 'active_from', t('admin_active_from'), { id: 'admin-active-from', type: 'date' }),
    h('button', { type: 'submit', class: 'primary' }, t('admin_create')));
}

/**
 * A password nobody sees: POST /users needs one, and the person gets a one-time password right
 * after (which they must change), so this one is never used.
 */
function throwawayPassword() {
  return `${newClientId()}${newClientId()}`.replace(/-/g, '');
}

/** Reset the password and show the one-time password once, in a dialog. */
async function giveOneTimePassword(user, justCreated = false) {
  const res = await send('POST', `/users/${user.id}/reset-password`);
  if (!res.ok) {
    notes.users.set('error', justCreated ? t('admin_otp_failed', { problem: problem(res) }) : problem(res));
    return;
  }
  const otp = res.data.one_time_password;
  await showOnce(t('admin_otp_title'),
    h('p', {}, t('admin_otp_text', { name: user.name, username: user.username })),
    h('p', { class: 'admin-otp', 'data-otp': '' }, h('code', {}, otp)));
}

/** One-time passwords in a dialog: shown once, and the dialog emptied when it is closed. */
async function showOnce(heading, ...body) {
  await modal(heading, (finish) => h('div', {}, body,
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'primary', onclick: () => finish(true) }, t('ok')))));
  const dialog = document.getElementById('dialog');
  if (dialog && !dialog.open) dialog.replaceChildren();   // kept nowhere once it is closed
}

function userRow(ctx, u, units) {
  const note = notes.users;
  const toggle = async (event) => {
    if (u.active) {
      const sure = await confirm(t('admin_deactivate_title', { name: u.name }),
        t('admin_deactivate_text'), t('admin_deactivate'), { danger: true });
      if (!sure) return;
    }
    const res = await busy(event.target, () => send('PATCH', `/users/${u.id}`, { active: !u.active }));
    if (!res.ok) { note.set('error', problem(res)); return; }
    note.set('ok', t(u.active ? 'admin_deactivated' : 'admin_activated', { name: u.name }));
    ctx.refresh();
  };
  const reset = async () => {
    const sure = await confirm(t('admin_reset_title', { name: u.name }), t('admin_reset_text'),
      t('admin_reset'), { danger: true });
    if (!sure) return;
    note.clear();
    await giveOneTimePassword(u);
    ctx.refresh();
  };
  const field = u.role === 'cadre' || u.role === 'secretary';
  return h('li', { class: 'card admin-user', 'data-user-id': u.id, 'data-username': u.username },
    h('div', { class: 'review-head' },
      h('strong', {}, u.name), h('span', { class: 'muted' }, u.username),
      chip(u.active ? 'verified' : 'withdrawn', t(u.active ? 'admin_active' : 'admin_inactive')),
      u.must_change_password ? h('span', { class: 'tag' }, t('admin_must_change')) : null),
    h('p', { class: 'muted' }, t(`role_${u.role}`), ' · ', u.unit_name || t('admin_no_unit')),
    h('div', { class: 'row admin-user-actions' },
      h('button', { type: 'button', class: u.active ? 'danger small' : 'secondary small',
        'data-action': 'toggle', onclick: toggle }, t(u.active ? 'admin_deactivate' : 'admin_activate')),
      h('button', { type: 'button', class: 'secondary small', 'data-action': 'reset',
        onclick: reset }, t('admin_reset'))),
    postsEditor(u, units, note, () => ctx.refresh()),
    field ? linksEditor(u) : null);
}

/** The villages a cadre or secretary is linked to: ticks over their township's villages, from
 * a date (default today); the links that ended are listed below. */
function linksEditor(u) {
  const body = h('div', { class: 'admin-links-body' });
  const fill = async () => {
    body.replaceChildren(h('p', { class: 'muted' }, t('loading')));
    const [links, villageList] = await Promise.all([send('GET', `/users/${u.id}/linked-villages`),
      send('GET', `/villages?township_code=${encodeURIComponent(u.unit_code)}`)]);
    if (!links.ok || !villageList.ok) {
      body.replaceChildren(h('p', { class: 'error' }, problem(links.ok ? villageList : links)));
      return;
    }
    const chosen = new Set(links.data.village_codes || []);
    const draft = { from: fmt.dateKey() };
    const error = h('p', { class: 'error', role: 'alert' });
    const save = async (event) => {
      const res = await busy(event.target, () => send('PUT', `/users/${u.id}/linked-villages`,
        { village_codes: [...chosen], from: draft.from }));
      if (!res.ok) { error.textContent = problem(res); return; }
      error.textContent = '';
      notes.users.set('ok', t('admin_links_saved', { name: u.name, n: chosen.size }));
      await fill();
    };
    body.replaceChildren(villageList.data.length ? h('div', {},
      h('div', { class: 'admin-links' }, villageList.data.map((v) => h('label', { class: 'work-check' },
        h('input', { type: 'checkbox', value: v.code, checked: chosen.has(v.code),
          onchange: (e) => { if (e.target.checked) chosen.add(v.code); else chosen.delete(v.code); } }),
        h('span', {}, v.name)))),
      bound(draft, 'from', t('links_from'), { id: `links-from-${u.id}`, type: 'date' }),
      error,
      h('button', { type: 'button', class: 'secondary small', 'data-action': 'save-links', onclick: save },
        t('admin_links_save')),
      pastLinks(links.data.links))
      : h('p', { class: 'muted' }, t('admin_links_none')));
  };
  return h('details', { class: 'admin-links-editor',
    ontoggle: (e) => { if (e.target.open) fill(); } },
  h('summary', {}, t('admin_links_title', { name: u.name })), body);
}

// --- villages ------------------------------------------------------------------------------------

async function villages(ctx) {
  const [list, units] = await Promise.all([load('/villages'), load('/units')]);
  const townships = new Map(units.map((u) => [u.code, u.name]));
  return h('table', { class: 'work-table admin-villages' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('admin_village_code')), h('th', { scope: 'col' }, t('admin_village_name')),
      h('th', { scope: 'col' }, t('admin_village_township')), h('th', { scope: 'col' }, t('admin_radius')))),
    h('tbody', {}, list.map((v) => villageRow(ctx, v, townships.get(v.township_code) || v.township_code))));
}

function villageRow(ctx, v, township) {
  const note = notes.villages;
  const draft = drafts.radius;
  const id = `radius-${v.code}`;
  const save = async (event) => {
    event.preventDefault();
    const value = Number(draft[v.code] ?? v.radius_m);
    const res = await busy(event.submitter, () => send('PATCH', `/villages/${v.code}`,
      { radius_m: Number.isInteger(value) ? value : String(draft[v.code]) }));
    if (!res.ok) { note.set('error', t('admin_village_refused', { name: v.name, problem: problem(res) })); return; }
    delete draft[v.code];
    note.set('ok', t('admin_radius_saved', { name: res.data.name, n: res.data.radius_m }));
    ctx.refresh();
  };
  return h('tr', { 'data-village': v.code },
    h('td', {}, v.code), h('td', {}, v.name), h('td', { 'data-field': 'township' }, township),
    h('td', {}, h('form', { class: 'admin-radius', onsubmit: save, novalidate: true },
      h('label', { class: 'sr-only', for: id }, `${v.name} ${t('admin_radius')}`),
      h('input', { id, type: 'number', min: 1, max: 100000, step: 1, inputmode: 'numeric',
        value: draft[v.code] ?? v.radius_m, oninput: (e) => { draft[v.code] = e.target.value; } }),
      h('button', { type: 'submit', class: 'secondary small' }, t('admin_radius_save')))));
}

// --- CSV imports ---------------------------------------------------------------------------------

async function imports(ctx) {
  const draft = drafts.import;
  const note = notes.imports;
  jobs.ctx = ctx;   // a running job redraws the section as it is now
  const file = h('input', { type: 'file', id: 'admin-import-file', accept: '.csv,text/csv' });
  const submit = async (event) => {
    event.preventDefault();
    const chosen = file.files && file.files[0];
    const body = chosen || draft.text;
    if (!chosen && !draft.text.trim()) { note.set('error', t('admin_import_need')); return; }
    const res = await busy(event.submitter, () => sendCsv('POST', `/imports/${draft.kind}`, body));
    if (res.status === 202 && res.data && res.data.id) {   // a large file: a job to follow
      note.clear();
      follow(res.data);
      return;
    }
    if (!res.ok) {
      note.set('error', problem(res), rowErrors(res));
      return;
    }
    await imported(ctx, res.data);
  };
  jobs.button = h('button', { type: 'submit', class: 'primary', disabled: Boolean(jobs.current) },
    t('admin_import_submit'));
  return h('div', {},
    jobs.box,
    h('form', { class: 'card admin-import', onsubmit: submit, novalidate: true },
      bound(draft, 'kind', t('admin_import_kind'), { id: 'admin-import-kind', tag: 'select',
        options: [['users', t('admin_import_users')], ['villages', t('admin_import_villages')]] }),
      h('div', { class: 'field' }, h('label', { for: 'admin-import-file' }, t('admin_import_file')), file),
      bound(draft, 'text', t('admin_import_text'), { id: 'admin-import-text', tag: 'textarea', rows: 6,
        spellcheck: 'false' }),
      jobs.button));
}

/** A finished import (at once, or a job's result): the count, then the passwords once. */
async function imported(ctx, result) {
  notes.imports.set('ok', t('admin_imported', { n: result.imported }));
  drafts.import.text = '';
  ctx.refresh();
  const passwords = passwordsTable(result.one_time_passwords);
  if (passwords) await showOnce(t('admin_otp_title'), passwords);
}

// A large file's job (202): its progress bar, kept across redraws of the section and filled
// by one poll of the job's status a second until it is done or failed (the import button
// waits meanwhile; the file and text stay, for a file with errors). The status answer that
// first finds the job done is the only one carrying the one-time passwords.
const POLL_MS = 1000;
const jobs = { current: null, ctx: null, button: null, box: h('div', { class: 'admin-job', hidden: true }) };

function follow(job) {
  jobs.current = job;
  jobs.button.disabled = true;
  drawJob(job);
  const poll = async () => {
    const res = await send('GET', `/imports/jobs/${encodeURIComponent(job.id)}`);
    if (res.status === 0 || res.status >= 500) { setTimeout(poll, POLL_MS * 3); return; }   // try again
    if (!res.ok) { endJob(); notes.imports.set('error', t('admin_job_lost', { problem: problem(res) })); return; }
    const now = res.data;
    if (now.status === 'queued' || now.status === 'running') {
      jobs.current = now;
      drawJob(now);
      setTimeout(poll, POLL_MS);
      return;
    }
    endJob();
    if (now.status === 'done') {
      await imported(jobs.ctx, now.result);
    } else {
      const failure = { status: 422, ok: false, data: now.error || {} };
      notes.imports.set('error', problem(failure), rowErrors(failure));
    }
  };
  setTimeout(poll, POLL_MS);
}

function endJob() {
  jobs.current = null;
  jobs.button.disabled = false;
  jobs.box.hidden = true;
  jobs.box.replaceChildren();
}

/** The job's progress: a <progress> with the rows done while rows are counted, else moving. */
function drawJob(job) {
  const counted = job.phase === 'checking' || job.phase === 'hashing';
  const total = job.total_rows;
  const done = Math.min(job.done_rows, total);
  const words = job.status === 'queued' ? t('admin_job_queued')
    : counted ? t(`admin_job_${job.phase}`, { done: fmt.number(done, 0), total: fmt.number(total, 0) })
      : job.phase === 'writing' ? t('admin_job_writing') : t('admin_job_running');
  jobs.box.hidden = false;
  jobs.box.replaceChildren(h('div', { class: 'card' },
    h('h3', {}, t('admin_job_title', { n: fmt.number(total, 0) })),
    h('progress', { id: 'admin-job-progress', max: counted ? total : null, value: counted ? done : null,
      'aria-label': words }),
    h('p', { class: 'admin-job-phase' }, words),
    h('p', { class: 'hint' }, t('admin_job_hint'))));
}

function passwordsTable(passwords) {
  const entries = Object.entries(passwords || {});
  if (!entries.length) return null;
  return h('div', {}, h('p', {}, t('admin_imported_passwords')),
    h('table', { class: 'work-table admin-passwords' }, h('tbody', {},
      entries.map(([username, otp]) => h('tr', {}, h('td', {}, username), h('td', {}, h('code', {}, otp)))))));
}

// --- 换届 ----------------------------------------------------------------------------------------

async function huanjie(ctx) {
  return huanjiePage(notes.huanjie, () => ctx.refresh());
}

// --- opening balances ----------------------------------------------------------------------------

async function balances(ctx) {
  const draft = drafts.balance;
  const note = notes.balances;
  const people = await peopleInScope();
  const submit = async (event) => {
    event.preventDefault();
    if (!draft.user_id) { note.set('error', t('admin_balance_need_person')); return; }
    const number = (text) => (text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text);
    const body = { village_days: number(String(draft.village_days)), reports: number(String(draft.reports)) };
    if (draft.note.trim()) body.note = draft.note.trim();
    const res = await busy(event.submitter, () => send('PUT',
      `/users/${draft.user_id}/opening-balance/${encodeURIComponent(draft.year)}`, body));
    if (!res.ok) { note.set('error', problem(res)); return; }
    const person = people.find((p) => String(p.id) === String(draft.user_id));
    note.set('ok', t('admin_balance_saved', { name: person ? person.name : '', year: res.data.year,
      days: res.data.village_days, reports: res.data.reports }));
    ctx.refresh();
  };
  return h('form', { class: 'card admin-balance', onsubmit: submit, novalidate: true },
    h('p', { class: 'hint' }, t('admin_balance_hint')),
    personPicker('admin-balance-person', people, draft.user_id, (id) => { draft.user_id = id; },
      { blank: '' }),
    bound(draft, 'year', t('admin_balance_year'), { id: 'admin-balance-year', type: 'number',
      min: 2000, max: 2100 }),
    h('div', { class: 'work-pair' },
      bound(draft, 'village_days', t('admin_balance_days'), { id: 'admin-balance-days', type: 'number',
        min: 0, max: 366, step: 0.5 }),
      bound(draft, 'reports', t('admin_balance_reports'), { id: 'admin-balance-reports', type: 'number',
        min: 0, max: 1000, step: 1 })),
    bound(draft, 'note', t('admin_balance_note'), { id: 'admin-balance-note', maxlength: 2000 }),
    h('button', { type: 'submit', class: 'primary' }, t('admin_balance_submit')));
}

// --- calendar ------------------------------------------------------------------------------------

async function calendar(ctx) {
  const draft = drafts.calendar;
  const note = notes.calendar;
  const submit = async (event) => {
    event.preventDefault();
    const res = await busy(event.submitter, () => sendCsv('PUT',
      `/calendars/${encodeURIComponent(draft.year)}`, draft.text));
    if (!res.ok) { note.set('error', problem(res), rowErrors(res)); return; }
    note.set('ok', t('admin_calendar_loaded', { year: res.data.year, n: res.data.dates }));
    ctx.refresh();
  };
  return h('form', { class: 'card admin-calendar', onsubmit: submit, novalidate: true },
    h('p', { class: 'hint' }, t('admin_calendar_hint')),
    bound(draft, 'year', t('admin_calendar_year'), { id: 'admin-calendar-year', type: 'number',
      min: 2000, max: 2100 }),
    bound(draft, 'text', t('admin_calendar_text'), { id: 'admin-calendar-text', tag: 'textarea', rows: 8,
      spellcheck: 'false', placeholder: 'date,kind\n2027-01-01,holiday\n2027-02-07,workday' }),
    h('button', { type: 'submit', class: 'primary' }, t('admin_calendar_submit')));
}
