// cairn's operator console: plain DOM, no build step. Every read and action goes through the public API
// (volume v3, compute v2.1) with the operator's token, plus the admin reads under /v3/{project}/cairn/.
'use strict';

const VOLUME_MV = 'volume 3.70';
const COMPUTE_MV = 'compute 2.89';
const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

const session = {
  get token() { return sessionStorage.getItem('cairn.token'); },
  get project() { return sessionStorage.getItem('cairn.project'); },
  get user() { return sessionStorage.getItem('cairn.user'); },
  save(token, project, user) {
    sessionStorage.setItem('cairn.token', token);
    sessionStorage.setItem('cairn.project', project);
    sessionStorage.setItem('cairn.user', user || '');
  },
  clear() { sessionStorage.removeItem('cairn.token'); sessionStorage.removeItem('cairn.project'); sessionStorage.removeItem('cairn.user'); },
};

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

/** One API call; the error text is the fault's message (Cinder's and Nova's `{"<fault>": {"message"}}`). */
async function api(method, path, body, opts = {}) {
  const compute = path.startsWith('/v2.1');
  const headers = {
    'X-Auth-Token': session.token,
    'OpenStack-API-Version': compute ? COMPUTE_MV : VOLUME_MV,
    ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    ...(opts.headers || {}),
  };
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed;
  try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = text; }
  if (res.status === 401) { session.clear(); showLogin('Your token was refused or has expired: log in again.'); throw new ApiError(401, 'unauthorized'); }
  if (res.status >= 400) {
    const fault = parsed && typeof parsed === 'object' ? Object.values(parsed)[0] : undefined;
    throw new ApiError(res.status, (fault && fault.message) || `${res.status} ${text}`);
  }
  return parsed;
}
const v3 = (p) => `/v3/${session.project}${p}`;
const v21 = (p) => `/v2.1/${session.project}${p}`;

// --- rendering helpers ----------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}
const status = (s) => el('span', { class: `status ${s}`, 'data-status': s }, s);
const short = (id) => (id ? id.slice(0, 8) : '');
const age = (seconds) => (seconds === null || seconds === undefined ? '' : seconds < 120 ? `${Math.round(seconds)} s` : seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 3600)} h`);
const since = (iso) => (iso ? age((Date.now() - Date.parse(iso)) / 1000) : '');

function table(cols, rows, rowAttrs = () => ({})) {
  return el('table', {},
    el('thead', {}, el('tr', {}, cols.map((c) => el('th', {}, c.title)))),
    el('tbody', {}, rows.length === 0
      ? el('tr', {}, el('td', { colspan: cols.length, class: 'muted' }, 'none'))
      : rows.map((r) => el('tr', rowAttrs(r), cols.map((c) => { const v = c.value(r); return v instanceof Node && v.tagName === 'TD' ? v : el('td', {}, v ?? ''); })))));
}

/** A small form in a <dialog>; resolves to the values, or undefined when cancelled. */
function ask(title, fields) {
  const dialog = $('ask');
  $('ask-title').textContent = title;
  const box = $('ask-fields');
  box.replaceChildren(...fields.map((f) => el('label', {}, f.label,
    f.options
      ? el('select', { name: f.name }, f.options.map((o) => el('option', { value: o.value }, o.label)))
      : el('input', { name: f.name, type: f.type || 'text', value: f.value ?? '', required: f.required, min: f.min }))));
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      if (dialog.returnValue !== 'ok') { resolve(undefined); return; }
      resolve(Object.fromEntries([...box.querySelectorAll('input,select')].map((i) => [i.name, i.value])));
    }, { once: true });
    dialog.showModal();
  });
}

/** Runs an action; its error shows on the page. */
async function act(what, fn) {
  $('error').textContent = '';
  try { await fn(); } catch (err) { if (err.status !== 401) $('error').textContent = `${what}: ${err.message}`; }
  refresh();
}

// --- pages -------------------------------------------------------------------------------------------------

let servers = []; // for the attach dialog

const PAGES = {
  volumes: {
    title: 'Volumes',
    actions: () => [el('button', { id: 'create-volume', onclick: createVolume }, 'Create volume')],
    async render() {
      const { volumes } = await api('GET', v3('/volumes/detail?all_tenants=1'));
      return table([
        { title: 'Name', value: (v) => v.name || '' },
        { title: 'ID', value: (v) => el('code', { title: v.id }, short(v.id)) },
        { title: 'Project', value: (v) => short(v['os-vol-tenant-attr:tenant_id']) },
        { title: 'Size (GiB)', value: (v) => v.size },
        { title: 'Status', value: (v) => status(v.status) },
        { title: 'Attached to', value: (v) => v.attachments.map((a) => short(a.server_id)).join(', ') },
        { title: 'Host', value: (v) => v['os-vol-host-attr:host'] || '' },
        { title: 'Age', value: (v) => since(v.created_at) },
        { title: 'Actions', value: (v) => el('td', {}, volumeButtons(v)) },
      ], volumes, (v) => ({ 'data-volume': v.id, 'data-name': v.name || '' }));
    },
  },
  snapshots: {
    title: 'Snapshots',
    async render() {
      const { snapshots } = await api('GET', v3('/snapshots/detail?all_tenants=1'));
      return table([
        { title: 'Name', value: (s) => s.name || '' },
        { title: 'ID', value: (s) => el('code', { title: s.id }, short(s.id)) },
        { title: 'Volume', value: (s) => short(s.volume_id) },
        { title: 'Size (GiB)', value: (s) => s.size },
        { title: 'Status', value: (s) => status(s.status) },
        { title: 'Age', value: (s) => since(s.created_at) },
        { title: 'Actions', value: (s) => el('td', {},
          el('button', { 'data-action': 'delete', onclick: () => act('delete', () => confirmDelete('snapshot', s.id, () => api('DELETE', v3(`/snapshots/${s.id}`)))) }, 'Delete'),
          el('button', { 'data-action': 'reset-state', onclick: () => resetState('snapshot', s.id, ['available', 'error', 'creating', 'deleting', 'error_deleting']) }, 'Reset state')) },
      ], snapshots, (s) => ({ 'data-snapshot': s.id }));
    },
  },
  attachments: {
    title: 'Attachments',
    async render() {
      const { attachments } = await api('GET', v3('/attachments/detail?all_tenants=1'));
      return table([
        { title: 'ID', value: (a) => el('code', { title: a.id }, short(a.id)) },
        { title: 'Volume', value: (a) => short(a.volume_id) },
        { title: 'Server', value: (a) => short(a.instance) },
        { title: 'Status', value: (a) => status(a.status) },
        { title: 'Mode', value: (a) => a.attach_mode || '' },
        { title: 'Attached', value: (a) => since(a.attached_at) },
      ], attachments, (a) => ({ 'data-attachment': a.id }));
    },
  },
  servers: {
    title: 'Servers',
    async render() {
      const list = (await api('GET', v21('/servers/detail?all_tenants=1'))).servers;
      servers = list;
      return table([
        { title: 'Name', value: (s) => s.name },
        { title: 'ID', value: (s) => el('code', { title: s.id }, short(s.id)) },
        { title: 'Project', value: (s) => short(s.tenant_id) },
        { title: 'Status', value: (s) => status(s.status) },
        { title: 'Task', value: (s) => s['OS-EXT-STS:task_state'] || '' },
        { title: 'Volumes', value: (s) => (s['os-extended-volumes:volumes_attached'] || []).map((v) => short(v.id)).join(', ') },
        { title: 'Age', value: (s) => since(s.created) },
      ], list, (s) => ({ 'data-server': s.id }));
    },
  },
  tasks: {
    title: 'Tasks in flight',
    async render() {
      const { tasks } = await api('GET', v3('/cairn/tasks'));
      return table([
        { title: 'Kind', value: (t) => t.kind },
        { title: 'State', value: (t) => status(t.state) },
        { title: 'Backend', value: (t) => t.backend },
        { title: 'Resource', value: (t) => `${t.resource_type} ${short(t.resource_id)}` },
        { title: 'Attempts', value: (t) => `${t.attempts}/${t.max_attempts}` },
        { title: 'Age', value: (t) => age(t.age_seconds) },
        { title: 'Held by', value: (t) => t.lease_owner || '' },
        { title: 'Last error', value: (t) => t.last_error || '' },
      ], tasks);
    },
  },
  messages: {
    title: 'User messages',
    async render() {
      const { messages } = await api('GET', v3('/messages'));
      return table([
        { title: 'When', value: (m) => since(m.created_at) },
        { title: 'Level', value: (m) => m.message_level },
        { title: 'Resource', value: (m) => `${m.resource_type} ${short(m.resource_uuid)}` },
        { title: 'Event', value: (m) => m.event_id },
        { title: 'Message', value: (m) => m.user_message },
      ], messages);
    },
  },
  quotas: {
    title: 'Quota use per project',
    async render() {
      const { projects } = await api('GET', v3('/cairn/quota-usage'));
      const keys = ['volumes', 'gigabytes', 'snapshots', 'backups', 'groups'];
      const meter = (u) => {
        if (!u) return '';
        if (u.limit < 0) return `${u.in_use} (no limit)`;
        const pct = u.limit === 0 ? 100 : Math.min(100, Math.round((100 * u.in_use) / u.limit));
        const bar = el('span', { class: `meter${pct >= 100 ? ' full' : ''}` }, el('span', {}));
        bar.firstChild.style.width = `${pct}%`;
        return el('span', {}, bar, ` ${u.in_use} of ${u.limit}`);
      };
      return table([{ title: 'Project', value: (p) => el('code', {}, p.project_id) },
        ...keys.map((k) => ({ title: k, value: (p) => meter(p.usage[k]) }))], projects);
    },
  },
  services: {
    title: 'Services, workers and ExtStorage providers',
    async render() {
      const { services, workers, providers } = await api('GET', v3('/cairn/services'));
      const svc = table([
        { title: 'Binary', value: (s) => s.binary },
        { title: 'Host', value: (s) => s.host },
        { title: 'State', value: (s) => status(s.state) },
        { title: 'Status', value: (s) => s.status },
        { title: 'Last heartbeat', value: (s) => `${age(s.heartbeat_age_seconds)} ago` },
      ], services);
      // Providers side by side: one column per worker host, the checksum in each cell; a row whose copies
      // differ (or are missing/invalid on a live worker) is highlighted, and so are the odd cells.
      const hosts = workers.map((w) => w.host);
      const cell = (d, host) => {
        const w = d.workers.find((x) => x.worker === host);
        if (!w) return el('td', { class: 'muted' }, '—');
        const sums = d.workers.filter((x) => x.up && x.state !== 'missing').map((x) => x.checksum || '');
        const common = mode(sums);
        const odd = w.up && (w.state !== 'valid' || (w.checksum || '') !== common);
        return el('td', { class: odd ? 'mismatch' : '', title: w.reason || w.checksum || '' },
          status(w.state), ' ', el('code', {}, (w.checksum || '').slice(0, 12)), w.up ? '' : ' (down)');
      };
      const prov = providers.length === 0 ? el('p', { class: 'muted' }, 'No worker reports ExtStorage providers.')
        : el('table', {},
          el('thead', {}, el('tr', {}, el('th', {}, 'Provider'), hosts.map((h) => el('th', {}, h)), el('th', {}, 'Problems'))),
          el('tbody', {}, providers.map((d) => el('tr', { class: d.consistent ? '' : 'mismatch', 'data-provider': d.provider },
            el('td', {}, d.provider), hosts.map((h) => cell(d, h)), el('td', {}, d.problems.join('; '))))));
      return el('div', {}, svc, el('h3', {}, 'ExtStorage providers'), prov);
    },
  },
};

function mode(values) {
  const counts = new Map();
  for (const v of values) counts.set(v, (counts.get(v) || 0) + 1);
  let best; let n = 0;
  for (const [v, c] of counts) if (c > n) { best = v; n = c; }
  return best;
}

function volumeButtons(v) {
  const b = (action, label, fn) => el('button', { 'data-action': action, onclick: fn }, label);
  const attached = v.attachments.length > 0;
  return [
    b('extend', 'Extend', async () => {
      const r = await ask(`Extend ${v.name || v.id}`, [{ name: 'size', label: 'New size (GiB)', type: 'number', value: v.size + 1, min: v.size + 1, required: true }]);
      if (r) await act('extend', () => api('POST', v3(`/volumes/${v.id}/action`), { 'os-extend': { new_size: Number(r.size) } }));
    }),
    attached
      ? b('detach', 'Detach', () => act('detach', () => api('DELETE', v21(`/servers/${v.attachments[0].server_id}/os-volume_attachments/${v.id}`))))
      : b('attach', 'Attach', async () => {
        if (servers.length === 0) servers = (await api('GET', v21('/servers/detail?all_tenants=1'))).servers;
        const r = await ask(`Attach ${v.name || v.id} to a server`, [{ name: 'server', label: 'Server', options: servers.map((s) => ({ value: s.id, label: `${s.name} (${short(s.id)}, ${s.status})` })) }]);
        if (r && r.server) await act('attach', () => api('POST', v21(`/servers/${r.server}/os-volume_attachments`), { volumeAttachment: { volumeId: v.id } }));
      }),
    b('snapshot', 'Snapshot', async () => {
      const r = await ask(`Snapshot of ${v.name || v.id}`, [{ name: 'name', label: 'Name', value: `${v.name || 'volume'}-snap` }]);
      if (r) await act('snapshot', () => api('POST', v3('/snapshots'), { snapshot: { volume_id: v.id, name: r.name, force: attached } }));
    }),
    b('reset-state', 'Reset state', () => resetState('volume', v.id, ['available', 'error', 'in-use', 'creating', 'deleting', 'error_deleting', 'attaching', 'detaching', 'error_extending'])),
    b('delete', 'Delete', () => act('delete', () => confirmDelete('volume', v.id, () => api('DELETE', v3(`/volumes/${v.id}`))))),
  ];
}

async function confirmDelete(kind, id, fn) {
  const r = await ask(`Delete ${kind} ${id}?`, []);
  if (r) await fn();
}

async function resetState(kind, id, states) {
  const r = await ask(`Reset the status of ${kind} ${short(id)}`, [{ name: 'status', label: 'Status', options: states.map((s) => ({ value: s, label: s })) }]);
  if (!r) return;
  const path = kind === 'volume' ? `/volumes/${id}/action` : `/snapshots/${id}/action`;
  await act('reset-state', () => api('POST', v3(path), { 'os-reset_status': { status: r.status } }));
}

async function createVolume() {
  const r = await ask('Create a volume', [
    { name: 'name', label: 'Name', value: '' },
    { name: 'size', label: 'Size (GiB)', type: 'number', value: 1, min: 1, required: true },
  ]);
  if (!r) return;
  // An Idempotency-Key: a click whose answer was lost can be retried without a second volume.
  const key = crypto.randomUUID ? crypto.randomUUID() : String(Date.now() + Math.random());
  await act('create', () => api('POST', v3('/volumes'), { volume: { name: r.name || null, size: Number(r.size) } }, { headers: { 'Idempotency-Key': key } }));
}

// --- navigation and polling --------------------------------------------------------------------------------

let timer;
let rendering = false;
const current = () => (PAGES[location.hash.slice(1)] ? location.hash.slice(1) : 'volumes');

async function refresh() {
  if (!session.token || rendering) return;
  rendering = true;
  const name = current();
  const page = PAGES[name];
  try {
    const content = await page.render();
    if (name === current()) {
      $('content').replaceChildren(content);
      $('content').dataset.page = name;
      $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
      if ($('error').dataset.from === 'load') { $('error').textContent = ''; delete $('error').dataset.from; }
    }
  } catch (err) {
    if (err.status === 403) $('content').replaceChildren(el('p', { class: 'muted' }, 'This view is for administrators.'));
    else if (err.status !== 401) { $('error').textContent = `${page.title}: ${err.message}`; $('error').dataset.from = 'load'; }
  } finally {
    rendering = false;
  }
}

function showPage() {
  const name = current();
  const page = PAGES[name];
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('current', a.getAttribute('href') === `#${name}`);
  $('title').textContent = page.title;
  $('page-actions').replaceChildren(...(page.actions ? page.actions() : []));
  $('content').replaceChildren();
  $('error').textContent = '';
  refresh();
}

function showLogin(message) {
  clearInterval(timer);
  $('page').hidden = true; $('nav').hidden = true; $('logout').hidden = true; $('who').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = message || '';
}

function showConsole() {
  $('login').hidden = true;
  $('page').hidden = false; $('nav').hidden = false; $('logout').hidden = false;
  $('who').textContent = `project ${session.project}`;
  showPage();
  clearInterval(timer);
  timer = setInterval(refresh, POLL_MS);
}

async function start() {
  const { auth } = await (await fetch('config.json')).json();
  $(auth === 'keystone' ? 'login-keystone' : 'login-noauth').hidden = false;
  $('login-noauth').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = new FormData(e.target).get('token').trim();
    const i = token.indexOf(':');
    if (i < 1) { $('login-error').textContent = 'The token is <user_id>:<project_id>.'; return; }
    session.save(token, token.slice(i + 1), token.slice(0, i));
    showConsole();
  });
  $('login-keystone').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = Object.fromEntries(new FormData(e.target));
    const res = await fetch('login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(form) });
    const body = await res.json().catch(() => ({}));
    if (res.status !== 200) { $('login-error').textContent = body.error || `login failed (${res.status})`; return; }
    session.save(body.token, body.project_id, body.user_id);
    showConsole();
  });
  $('logout').addEventListener('click', () => { session.clear(); showLogin(); });
  window.addEventListener('hashchange', () => { if (session.token) showPage(); });
  if (session.token) showConsole(); else showLogin();
}

start();
