// The console's shell: sign-in, navigation between pages (the address's #/page part: never a
// token), the colour theme, and the shared choice of tenant.
import { api, setToken, signedIn, whenUnauthorized } from './api.js';
import { loadTenants } from './state.js';
import { clear, h, showError, status } from './dom.js';
import { renderAudit } from './audit.js';
import { renderInsights } from './insights.js';
import { renderSystem } from './system.js';
import { renderTenants } from './tenants.js';
import { renderWebhooks } from './webhooks.js';

const PAGES = { tenants: renderTenants, webhooks: renderWebhooks, audit: renderAudit, insights: renderInsights, system: renderSystem };
const $ = (id) => document.getElementById(id);

// ---- theme: auto (the system's), light or dark; remembered in localStorage (not a secret)
const THEMES = ['auto', 'light', 'dark'];
const applyTheme = (theme) => {
  if (theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  $('theme').textContent = `Theme: ${theme}`;
  // The name starts with the visible text (WCAG 2.5.3, label in name: speech users say what they see).
  $('theme').setAttribute('aria-label', `Theme: ${theme}${theme === 'auto' ? ' (follows the system)' : ''}; change`);
  window.dispatchEvent(new Event('themechange'));
};
applyTheme(localStorage.getItem('securekey-console-theme') ?? 'auto');
$('theme').addEventListener('click', () => {
  const next = THEMES[(THEMES.indexOf(document.documentElement.dataset.theme ?? 'auto') + 1) % THEMES.length];
  localStorage.setItem('securekey-console-theme', next);
  applyTheme(next);
});
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => window.dispatchEvent(new Event('themechange')));

// ---- pages
const route = () => {
  const [, name = 'tenants', ...rest] = location.hash.split('/');
  return { name: PAGES[name] ? name : 'tenants', rest };
};

let rendering = 0;
const render = async (moved = false) => {
  const page = $('page');
  if (!signedIn()) return showSignIn();
  $('signIn').hidden = true;
  $('nav').hidden = false;
  $('signOut').hidden = false;
  const { name, rest } = route();
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const mine = ++rendering;
  const body = h('div', { class: 'page', dataset: { page: name } });
  clear(page, body);
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · SecureKey console`;
  try {
    await loadTenants();
    if (mine !== rendering) return;
    await PAGES[name](body, rest);
    // Opened from a link inside the page (a tenant's name), the focus moves to the new page's title.
    if (moved && (document.activeElement === document.body || !document.activeElement?.isConnected)) {
      const title = body.querySelector('h1');
      if (title) (title.tabIndex = -1), title.focus();
    }
  } catch (err) {
    if (mine === rendering && signedIn()) clear(body, h('p', { class: 'error', role: 'alert', text: `${err.message}${err.code ? ` (${err.code})` : ''}` }));
  }
};

const showSignIn = (message) => {
  $('nav').hidden = true;
  $('signOut').hidden = true;
  clear($('page'));
  $('signIn').hidden = false;
  const error = $('signInError');
  error.textContent = message ?? '';
  $('token').focus();
};

whenUnauthorized((err) => {
  setToken('', false);
  showSignIn(`${err.message} (${err.code})`);
});

$('signInForm').addEventListener('submit', async (e) => {
  e.preventDefault();
  const button = e.submitter ?? $('signInForm').querySelector('button');
  button.disabled = true;
  setToken($('token').value.trim(), $('remember').checked);
  try {
    await api('GET', 'tenants');
    $('token').value = '';
    status('Signed in');
    await render();
    $('main').focus();
  } catch (err) {
    setToken('', false);
    showError($('signInError'), err);
  } finally {
    button.disabled = false;
  }
});
$('signOut').addEventListener('click', () => {
  setToken('', false);
  status('Signed out');
  showSignIn();
});
window.addEventListener('hashchange', () => void render(true));
void render();
