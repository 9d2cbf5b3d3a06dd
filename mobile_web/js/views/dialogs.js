// Modal questions: locating, picking a village, confirming, typing a check-out time, copying.
import { h, replace, $ } from '../dom.js';
import { t } from '../i18n.js';
import * as fmt from '../format.js';
import { readPosition, byDistance } from '../geo.js';

let closing = null;

/**
 * Show the dialog: `build(finish)` returns its content; resolves the value passed to
 * finish(value), or null when dismissed (Esc, back).
 */
export function modal(titleText, build, { role = 'dialog' } = {}) {
  const dlg = $('#dialog');
  if (closing) closing(null);
  return new Promise((resolve) => {
    const finish = (value) => {
      if (closing !== finish) return;
      closing = null;
      dlg.removeEventListener('cancel', onCancel);
      if (dlg.open) dlg.close();
      resolve(value);
    };
    const onCancel = (event) => { event.preventDefault(); finish(null); };
    closing = finish;
    dlg.setAttribute('role', role);
    dlg.setAttribute('aria-labelledby', 'dialog-title');
    dlg.addEventListener('cancel', onCancel);
    replace(dlg, h('h2', { id: 'dialog-title', class: 'dialog-title' }, titleText), build(finish));
    if (!dlg.open) dlg.showModal();
  });
}

const actions = (...buttons) => h('div', { class: 'dialog-actions' }, buttons);

const button = (label, onclick, cls = 'secondary') =>
  h('button', { type: 'button', class: cls, onclick }, label);

/** Yes or no; resolves true or null. */
export function confirm(titleText, text, yes, { danger = false } = {}) {
  return modal(titleText, (finish) => h('div', {},
    h('p', {}, text),
    actions(button(yes, () => finish(true), danger ? 'danger' : 'primary'),
      button(t('cancel'), () => finish(null)))), { role: 'alertdialog' });
}

/** A message with one button. */
export function inform(titleText, text) {
  return modal(titleText, (finish) => h('div', {},
    h('p', {}, text), actions(button(t('ok'), () => finish(true), 'primary'))));
}

/**
 * Read the location for a check-in or check-out, showing the accuracy as it improves.
 * Resolves {location} (null when skipped or unavailable, with `reason`), or null if cancelled.
 */
export function locate(purpose) {
  let reading = null;
  const status = h('p', { class: 'locating-status', role: 'status' }, t('locating'));
  const promise = modal(t(`locate_title_${purpose}`), (finish) => {
    reading = readPosition((fix) => {
      status.textContent = t('locating_accuracy', { n: fmt.number(fix.accuracy_m, 0) });
    });
    reading.result.then((location) => finish({ location }),
      (err) => finish(err.reason === 'cancelled' ? undefined : { location: null, reason: err.reason }));
    return h('div', { class: 'locating' },
      h('div', { class: 'spinner', 'aria-hidden': 'true' }), status,
      h('p', { class: 'hint' }, t('locating_hint')),
      actions(button(t('locate_use_now'), () => reading.stop(true)),
        button(t('locate_skip'), () => finish({ location: null, reason: 'skipped' })),
        button(t('cancel'), () => finish(undefined))));
  });
  return promise.then((value) => {
    if (reading) reading.stop(false);
    return value || null;
  });
}

/** Pick a village (linked ones first, or by distance from `point`); resolves it or null. */
export function pickVillage(villages, point, currentCode, message) {
  return modal(t('pick_village_title'), (finish) => {
    let chosen = currentCode;
    const rows = byDistance(villages, point);
    const list = h('div', { class: 'village-list', role: 'radiogroup',
      'aria-label': t('pick_village_title') },
    rows.map(({ village, distance }) => h('label', { class: 'village-choice' },
      h('input', { type: 'radio', name: 'village', value: village.code,
        checked: village.code === currentCode, onchange: () => { chosen = village.code; } }),
      h('span', { class: 'village-name' }, village.name),
      village.linked ? h('span', { class: 'tag' }, t('linked')) : null,
      distance != null ? h('span', { class: 'village-distance' }, fmt.distance(distance)) : null)));
    return h('div', {},
      message ? h('p', { class: 'notice' }, message) : null,
      villages.length ? list : h('p', {}, t('no_villages')),
      actions(button(t('confirm_village'), () => finish(
        villages.find((v) => v.code === chosen) || null), 'primary'),
      button(t('cancel'), () => finish(null))));
  });
}

/** 补签退: ask when the person left; resolves a Date or null. */
export function askCheckOutTime(visit) {
  return modal(t('manual_title'), (finish) => {
    const since = new Date(visit.at);
    const input = h('input', { type: 'datetime-local', id: 'manual-at', required: true,
      min: fmt.toLocalInput(since), max: fmt.toLocalInput(new Date()) });
    const error = h('p', { class: 'error', role: 'alert' });
    const submit = () => {
      const at = fmt.fromLocalInput(input.value);
      if (!at || Number.isNaN(at.getTime())) { error.textContent = t('manual_need_time'); return; }
      if (at <= since) { error.textContent = t('manual_before_check_in'); return; }
      if (at > new Date()) { error.textContent = t('manual_in_future'); return; }
      finish(at);
    };
    return h('div', {},
      h('p', {}, t('manual_text', { village: visit.village_name,
        since: `${fmt.dayLabel(since)} ${fmt.clock(since)}` })),
      h('div', { class: 'field' }, h('label', { for: 'manual-at' }, t('manual_label')), input),
      error,
      h('p', { class: 'hint' }, t('manual_hint')),
      actions(button(t('manual_submit'), submit, 'primary'), button(t('cancel'), () => finish(null))));
  });
}

/** Show text to keep elsewhere, and put it on the clipboard when the browser allows. */
export async function copyOut(text) {
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch (err) {
    copied = false;
  }
  return modal(t('copy_title'), (finish) => {
    const area = h('textarea', { class: 'copy-text', readonly: true, rows: 8,
      'aria-label': t('copy_title'), value: text });
    setTimeout(() => area.select(), 0);
    return h('div', {},
      h('p', {}, t(copied ? 'copy_done' : 'copy_manual')), area,
      actions(button(t('ok'), () => finish(true), 'primary')));
  });
}
