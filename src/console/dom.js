// Small DOM helpers: elements built with properties and listeners (never inline handlers or
// styles: the CSP forbids them), tables, times and the status line.

/** h('button', { type: 'button', onclick: fn, class: 'x' }, 'text', child...) */
export const h = (tag, props = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && k !== 'list' && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
};

export const clear = (el, ...children) => {
  el.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
};

/** A table: columns [{ label, cell: (row) => Node|string }], rows; wrapped to scroll on a phone. */
export const table = (columns, rows, opts = {}) =>
  h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': opts.label ?? 'table' },
    h(
      'table',
      {},
      opts.caption ? h('caption', { text: opts.caption }) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', text: c.label })))),
      h('tbody', {}, rows.length ? rows.map((r) => h('tr', opts.rowProps?.(r) ?? {}, columns.map((c) => h('td', {}, c.cell(r))))) : h('tr', {}, h('td', { colspan: String(columns.length), class: 'muted', text: opts.empty ?? 'Nothing yet.' }))),
    ),
  );

const pad = (n) => String(n).padStart(2, '0');
/** "2026-12-01 14:03:07" in the browser's time zone; '' for none. */
export const time = (iso) => {
  if (!iso) return '';
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};

export const percent = (x) => `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)} %`;

/** The polite status line at the bottom (screen readers announce it). */
let statusTimer;
export const status = (text, kind = 'ok') => {
  const el = document.getElementById('status');
  el.textContent = text;
  el.dataset.kind = kind;
  // It would cover the page's bottom line for good otherwise.
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => (el.textContent = ''), 8000);
};

/** An error as the server said it (code and message) in the element, announced. */
export const showError = (el, err) => {
  el.textContent = err.code ? `${err.message} (${err.code})` : String(err.message ?? err);
  el.hidden = false;
};

/** A labelled field: label, control, hint and an error slot tied to it by aria-describedby. */
export const field = (id, label, control, hint) => {
  control.id = id;
  const hintEl = hint ? h('span', { class: 'hint', id: `${id}-hint`, text: hint }) : null;
  const errorEl = h('span', { class: 'field-error', id: `${id}-error`, role: 'alert' });
  control.setAttribute('aria-describedby', [hintEl ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
  return h('div', { class: 'field', dataset: { field: id } }, h('label', { for: id, text: label }), control, hintEl, errorEl);
};

// ---- focus: a page redrawn under the keyboard user's focus puts it back on the same control, or
// on the heading of the section it was in (a revoked key's button is gone), never on <body>.
const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]';
/** What names a control across redraws: its id, its aria-label, or its text within the nearest element with an id. */
const identity = (el) => (el.id ? `#${el.id}` : el.getAttribute('aria-label') ? `[${el.getAttribute('aria-label')}]` : `${el.parentElement?.closest('[id]')?.id}|${el.tagName}|${el.textContent}`);
const focusLost = () => !document.activeElement || document.activeElement === document.body || !document.activeElement.isConnected;
// A control may drop the focus (a disabled sign-in button): remember the last one focused.
let lastFocused = null;
document.addEventListener('focusin', (e) => (lastFocused = e.target));

/** Remembers the focused control; the function returned puts the focus back after a redraw (when
 * it was lost, or always with { force: true }, e.g. as a dialog closes). */
export const rememberFocus = () => {
  const el = focusLost() ? lastFocused : document.activeElement;
  if (!el || el === document.body) return () => {};
  const key = identity(el);
  const section = el.closest('section[aria-labelledby]')?.getAttribute('aria-labelledby');
  return ({ force = false } = {}) => {
    if (!force && !focusLost()) return;
    const same = el.isConnected ? el : [...document.querySelectorAll(FOCUSABLE)].find((c) => identity(c) === key && !c.disabled && !c.closest('[hidden], dialog:not([open])'));
    const heading = section ? document.getElementById(section) : null;
    const target = same ?? heading ?? document.querySelector('#page h1');
    if (!target) return;
    if (!target.matches(FOCUSABLE)) target.tabIndex = -1;
    target.focus();
  };
};

/** A modal dialog opened from the focused control, which gets the focus back when it closes.
 * Escape and the dialog's own buttons close it here, and the focus is put back in that same task:
 * the browser puts it back on the opener by itself, but when the page was redrawn behind the
 * dialog (a list reloaded) the opener is gone, and the browser leaves the focus on <body> until
 * the 'close' event a task later — where a screen reader, or a keystroke, finds it. */
const openModal = (dialog, onClose) => {
  const restore = rememberFocus();
  const form = dialog.querySelector('form[method="dialog"]');
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    dialog.removeEventListener('cancel', onCancel);
    form?.removeEventListener('submit', onSubmit);
    dialog.removeEventListener('close', finish);
    onClose();
    restore({ force: true });
  };
  const closeNow = (value) => {
    dialog.close(value);
    finish();
  };
  const onCancel = (e) => {
    e.preventDefault();
    closeNow('');
  };
  const onSubmit = (e) => {
    e.preventDefault();
    closeNow(e.submitter?.value ?? '');
  };
  dialog.addEventListener('cancel', onCancel);
  form?.addEventListener('submit', onSubmit);
  dialog.addEventListener('close', finish); // closed any other way
  dialog.showModal();
};

/** Shows secrets once in the modal dialog; they leave the page when it closes. */
export const showOnce = (title, entries) => {
  const dialog = document.getElementById('secretDialog');
  document.getElementById('secretTitle').textContent = title;
  const list = clear(
    document.getElementById('secretList'),
    entries.filter(([, v]) => v).flatMap(([k, v]) => [
      h('dt', { text: k }),
      h('dd', {}, h('code', { class: 'secret', text: v }), ' ', h('button', { type: 'button', class: 'ghost small', 'aria-label': `Copy ${k}`, onclick: () => navigator.clipboard?.writeText(v).then(() => status(`${k} copied`)) }, 'Copy')),
    ]),
  );
  openModal(dialog, () => list.replaceChildren());
};

/** Asks before a destructive action, in a modal dialog (Cancel has the focus; Escape cancels).
 * Resolves true when confirmed. */
export const confirmAction = (title, text, action) =>
  new Promise((resolve) => {
    const dialog = document.getElementById('confirmDialog');
    document.getElementById('confirmTitle').textContent = title;
    document.getElementById('confirmText').textContent = text;
    document.getElementById('confirmOk').textContent = action;
    dialog.returnValue = '';
    openModal(dialog, () => resolve(dialog.returnValue === 'ok'));
  });

/** Runs an action from a button: marked aria-disabled while it runs (a disabled button would drop
 * the keyboard focus) and not run twice at once; errors to the status line; afterwards the focus
 * is on the button, or on its like when the action redrew the page. */
export const busy = async (button, fn) => {
  if (button.getAttribute('aria-disabled') === 'true') return;
  const restore = rememberFocus();
  button.setAttribute('aria-disabled', 'true');
  try {
    return await fn();
  } catch (err) {
    status(err.code ? `${err.message} (${err.code})` : String(err.message ?? err), 'error');
  } finally {
    button.removeAttribute('aria-disabled');
    restore();
  }
};
