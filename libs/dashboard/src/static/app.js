// The Signet dashboard: one ES module, no build step, no dependency. It talks only to its own backend
// (/dashboard/session, /dashboard/logout, /dashboard/api/v1/…): the session's tokens stay on the server,
// behind an httpOnly cookie; every write carries the per-session CSRF token.

const state = { account: null, csrf: '' };
const view = document.getElementById('view');

// ---------------------------------------------------------------- small DOM helpers

/** h('button', { onclick, class: 'x' }, 'text', child…): an element; null/false children are skipped. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** `key=value` pairs with spaces between them, so a long line wraps in its cell. */
const detailsText = (details) =>
  Object.entries(details).map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : v}`).join(' ');
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const badge = (text) => h('span', { class: `badge ${text}` }, text);
const canWrite = () => state.account && state.account.role !== 'viewer';

function say(text, isError = false) {
  const p = h('p', { class: isError ? 'error' : '' }, text);
  document.getElementById('status').append(p);
  setTimeout(() => p.remove(), isError ? 8000 : 4000);
}

function table(headers, rows, empty = 'Nothing yet.') {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h('table', {}, h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows));
}

function field(label, input) {
  return h('label', {}, label, input);
}

/** The filters of a list: submitting (Enter in a field, or the button) reloads it. */
function filterForm(reload, buttonLabel, ...fields) {
  return h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); act(null, reload); } }, ...fields, h('button', { type: 'submit' }, buttonLabel));
}

// ---------------------------------------------------------------- the API, through the backend

class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = state.csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/dashboard/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { detail: text };
  }
  if (res.status === 401) {
    signedOut('Your session has ended. Sign in again.');
    throw new ApiError(401, parsed);
  }
  if (!res.ok) throw new ApiError(res.status, parsed);
  return parsed;
}

/** Runs an action from a button: the button is disabled meanwhile, errors are said, not thrown. */
async function act(button, work, done) {
  if (button) button.disabled = true;
  try {
    await work();
    if (done) say(done);
  } catch (err) {
    if (err.status !== 401) say(`${err.body?.code ? `${err.body.code}: ` : ''}${err.message}`, true);
  } finally {
    if (button) button.disabled = false;
  }
}

/** A page whose API this process does not serve says so instead of failing silently. */
function unavailable(err, what) {
  if (err.status === 404 && (err.body?.code === 'not_found' || err.body?.code === 'route_not_found' || !err.body?.code)) {
    return h('p', { class: 'muted' }, `${what} is not served by this Signet (its API route answered 404).`);
  }
  if (err.status === 403) return h('p', { class: 'muted' }, `Your role cannot see ${what.toLowerCase()} (${err.body?.code ?? 'forbidden'}).`);
  return h('p', { class: 'error' }, `${err.body?.code ?? 'error'}: ${err.message}`);
}

/** A keyset-paginated list: the first page, then "Load more" while next_cursor is set. */
function pagedList(container, fetchPage, renderRows, headers, empty) {
  const tbody = h('tbody', {});
  const more = h('button', { class: 'secondary', type: 'button' }, 'Load more');
  let cursor = null;
  let shown = 0;
  const load = async () => {
    const page = await fetchPage(cursor);
    const rows = renderRows(page);
    rows.forEach((r) => tbody.append(r));
    shown += rows.length;
    cursor = page.next_cursor ?? null;
    more.hidden = cursor === null;
  };
  more.addEventListener('click', () => act(more, load));
  const render = async () => {
    // aria-busy tells assistive technology (and the tests) when the list shown is the answer, not "Loading…".
    container.setAttribute('aria-busy', 'true');
    container.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    try {
      await load();
      container.replaceChildren(
        shown === 0 ? h('p', { class: 'muted' }, empty) : h('table', {}, h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))), tbody),
        more,
      );
    } catch (err) {
      if (err.status !== 401) container.replaceChildren(unavailable(err, headers.title ?? 'This list'));
    } finally {
      container.setAttribute('aria-busy', 'false');
    }
  };
  return render();
}

// ---------------------------------------------------------------- pages

function secretPanel(title, secret, note) {
  const input = h('input', { id: 'new-secret', readonly: true, value: secret, 'aria-label': title, class: 'mono' });
  const copy = h('button', { type: 'button', id: 'copy-secret' }, 'Copy');
  copy.addEventListener('click', async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(secret);
    } catch {
      document.execCommand('copy');
    }
    say('Copied to the clipboard.');
  });
  const panel = h('section', { class: 'secret', 'aria-labelledby': 'secret-title' }, h('h2', { id: 'secret-title' }, title), h('p', {}, note), h('div', { class: 'row' }, input, copy));
  setTimeout(() => copy.focus(), 0);
  return panel;
}

const USAGE_METRICS = [
  ['mqtt_connects', 'MQTT connects'],
  ['messages_published', 'Messages published'],
  ['api_calls', 'API calls'],
  ['bytes_published', 'Bytes published'],
  ['denials', 'Denials'],
];

/** Bars drawn as SVG: one per bucket of the chosen metric, the tallest filling the height. */
function barChart(buckets, metric, label) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const width = Math.max(buckets.length, 1) * 12;
  svg.setAttribute('viewBox', `0 0 ${width} 100`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const max = Math.max(1, ...buckets.map((b) => b[metric]));
  buckets.forEach((b, i) => {
    const rect = document.createElementNS(ns, 'rect');
    const height = (b[metric] / max) * 96;
    rect.setAttribute('x', String(i * 12 + 1));
    rect.setAttribute('y', String(100 - height));
    rect.setAttribute('width', '10');
    rect.setAttribute('height', String(height));
    const title = document.createElementNS(ns, 'title');
    title.textContent = `${new Date(b.start).toLocaleString()}: ${b[metric]}`;
    rect.append(title);
    svg.append(rect);
  });
  return svg;
}

async function showUsage(panel, key) {
  const interval = h('select', { id: 'usage-interval' }, h('option', { value: 'hour' }, 'per hour (last 24 h)'), h('option', { value: 'day' }, 'per day (last 30 days)'));
  const metric = h('select', { id: 'usage-metric' }, USAGE_METRICS.map(([v, t]) => h('option', { value: v }, t)));
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'usage-refresh' }, 'Refresh');
  const body = h('div', {});
  const draw = async () => {
    const span = interval.value === 'hour' ? 24 * 3600e3 : 30 * 86400e3;
    const from = new Date(Date.now() - span).toISOString();
    const usage = await api('GET', `/v1/keys/${encodeURIComponent(key.id)}/usage?interval=${interval.value}&from=${encodeURIComponent(from)}`);
    const label = USAGE_METRICS.find(([v]) => v === metric.value)[1];
    body.replaceChildren(
      h('div', { class: 'totals' }, USAGE_METRICS.map(([v, t]) => h('div', {}, h('span', { class: 'muted' }, t), h('strong', { id: `usage-total-${v}` }, String(usage.totals[v]))))),
      h('div', { class: 'chart' }, barChart(usage.buckets, metric.value, `${label} ${interval.value === 'hour' ? 'per hour' : 'per day'}`)),
      h('p', { class: 'muted' }, `${label} ${interval.value === 'hour' ? 'per hour' : 'per day'} (UTC), ${when(usage.from)} to ${when(usage.to)}; the tallest bar is ${Math.max(0, ...usage.buckets.map((b) => b[metric.value]))}.`),
    );
  };
  interval.addEventListener('change', () => act(null, draw));
  metric.addEventListener('change', () => act(null, draw));
  refresh.addEventListener('click', () => act(refresh, draw));
  panel.replaceChildren(
    h('h2', { id: 'usage-title', tabindex: '-1' }, `Usage of ${key.name}`),
    h('form', { class: 'inline', onsubmit: (e) => e.preventDefault() }, field('Interval', interval), field('Metric', metric), refresh),
    body,
  );
  panel.hidden = false;
  await act(null, draw);
  panel.querySelector('#usage-title').focus();
}

async function keysPage() {
  const list = h('div', {});
  const created = h('div', {});
  const usage = h('section', { hidden: true, id: 'usage' });
  const reload = () =>
    pagedList(
      list,
      (cursor) => api('GET', `/v1/keys?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
      (page) =>
        page.keys.map((k) => {
          const usageButton = h('button', { type: 'button', class: 'secondary', onclick: () => act(null, () => showUsage(usage, k)) }, 'Usage');
          const actions = [usageButton];
          if (canWrite() && k.status === 'active') {
            const rotate = h('button', { type: 'button', class: 'secondary' }, 'Rotate');
            rotate.addEventListener('click', () => {
              const grace = prompt(`Rotate "${k.name}": how many seconds should the old key keep working?`, '3600');
              if (grace === null) return;
              act(rotate, async () => {
                const r = await api('POST', `/v1/keys/${encodeURIComponent(k.id)}/rotate`, { grace_seconds: Number(grace) });
                created.replaceChildren(secretPanel(`New key for ${r.name}`, r.key, `Shown once: store it now. The old key works until ${when(r.previous.expires_at)}.`));
                await reload();
              });
            });
            const revoke = h('button', { type: 'button', class: 'danger' }, 'Revoke');
            revoke.addEventListener('click', () => {
              if (!confirm(`Revoke the key "${k.name}" now? Its MQTT sessions are closed.`)) return;
              act(revoke, async () => {
                await api('DELETE', `/v1/keys/${encodeURIComponent(k.id)}`);
                await reload();
              }, `Key ${k.name} revoked.`);
            });
            actions.push(rotate, revoke);
          }
          return h('tr', { 'data-key-id': k.id }, h('td', {}, k.name), h('td', {}, k.type), h('td', {}, h('code', {}, k.masked_key)), h('td', {}, badge(k.status)), h('td', {}, when(k.last_used_at)), h('td', {}, h('div', { class: 'actions' }, actions)));
        }),
      ['Name', 'Type', 'Key', 'Status', 'Last used', ''],
      'No keys.',
    );
  const parts = [h('h1', { tabindex: '-1' }, 'API keys')];
  if (canWrite()) {
    const name = h('input', { id: 'key-name', required: true, maxlength: 64, autocomplete: 'off' });
    const type = h('select', { id: 'key-type' }, h('option', { value: 'secret' }, 'secret (sk_, full access)'), h('option', { value: 'restricted' }, 'restricted (rk_, scopes)'));
    const scopes = h('input', { id: 'key-scopes', placeholder: 'tokens:write, mqtt:publish:events/#', size: 32 });
    const submit = h('button', { type: 'submit', id: 'key-create' }, 'Create key');
    parts.push(
      h('section', { 'aria-labelledby': 'create-key' }, h('h2', { id: 'create-key' }, 'Create a key'),
        h('form', {
          class: 'inline',
          onsubmit: (e) => {
            e.preventDefault();
            const body = { name: name.value.trim(), type: type.value };
            if (type.value === 'restricted') body.scopes = scopes.value.split(',').map((s) => s.trim()).filter(Boolean);
            act(submit, async () => {
              const k = await api('POST', '/v1/keys', body);
              created.replaceChildren(secretPanel(`New key ${k.name}`, k.key, 'Shown once: store it now. Signet keeps only its hash.'));
              name.value = '';
              await reload();
            });
          },
        }, field('Name', name), field('Type', type), field('Scopes (restricted keys, comma-separated)', scopes), submit)),
    );
  }
  parts.push(created, h('section', { 'aria-labelledby': 'keys-title' }, h('h2', { id: 'keys-title' }, 'Keys'), list), usage);
  view.replaceChildren(...parts);
  await reload();
}

async function tokensPage() {
  const list = h('div', {});
  const user = h('input', { id: 'tokens-user', placeholder: 'any user', autocomplete: 'off' });
  const status = h('select', { id: 'tokens-status' }, ['active', 'revoked', 'expired', 'all'].map((s) => h('option', { value: s }, s)));
  const reload = () =>
    pagedList(
      list,
      (cursor) => {
        const q = new URLSearchParams({ limit: '50' });
        if (user.value.trim()) q.set('user_id', user.value.trim());
        if (status.value !== 'all') q.set('status', status.value);
        if (cursor) q.set('cursor', cursor);
        return api('GET', `/v1/tokens?${q}`);
      },
      (page) =>
        page.tokens.map((t) => {
          const actions = [];
          if (canWrite() && t.status === 'active') {
            const revoke = h('button', { type: 'button', class: 'danger' }, 'Revoke');
            revoke.addEventListener('click', () => act(revoke, async () => {
              await api('DELETE', `/v1/tokens/${encodeURIComponent(t.token_id)}`);
              await reload();
            }, `Token ${t.token_id} revoked; its sessions are closed.`));
            const revokeUser = h('button', { type: 'button', class: 'danger' }, 'Revoke user');
            revokeUser.addEventListener('click', () => {
              if (!confirm(`Revoke every live token of ${t.user_id}?`)) return;
              act(revokeUser, async () => {
                const r = await api('POST', `/v1/users/${encodeURIComponent(t.user_id)}/revoke`);
                say(`${r.revoked} token(s) of ${t.user_id} revoked.`);
                await reload();
              });
            });
            actions.push(revoke, revokeUser);
          }
          return h('tr', { 'data-token-id': t.token_id },
            h('td', {}, h('code', {}, t.token_id)), h('td', {}, t.user_id), h('td', {}, t.client_id ?? '—'),
            h('td', {}, h('code', {}, `pub ${t.permissions.publish.join(' ')}`), h('br'), h('code', {}, `sub ${t.permissions.subscribe.join(' ')}`)),
            h('td', {}, when(t.expires_at)), h('td', {}, badge(t.status)), h('td', {}, h('div', { class: 'actions' }, actions)));
        }),
      ['Token', 'User', 'Client id', 'Permissions', 'Expires', 'Status', ''],
      'No tokens match.',
    );
  view.replaceChildren(
    h('h1', { tabindex: '-1' }, 'Tokens and users'),
    h('section', {}, filterForm(reload, 'Filter', field('User id', user), field('Status', status)), list),
  );
  await reload();
}

async function sessionsPage() {
  const list = h('div', {});
  const user = h('input', { id: 'sessions-user', placeholder: 'any user', autocomplete: 'off' });
  const client = h('input', { id: 'sessions-client', placeholder: 'any client id', autocomplete: 'off' });
  const headers = ['Client id', 'User', 'Credential', 'Edge', 'Address', 'Transport', 'MQTT', 'Connected', ''];
  headers.title = 'Live sessions';
  const reload = () =>
    pagedList(
      list,
      (cursor) => {
        const q = new URLSearchParams({ limit: '100' });
        if (user.value.trim()) q.set('user_id', user.value.trim());
        if (client.value.trim()) q.set('client_id', client.value.trim());
        if (cursor) q.set('cursor', cursor);
        return api('GET', `/v1/sessions?${q}`);
      },
      (page) =>
        page.sessions.map((s) => {
          const actions = [];
          if (canWrite()) {
            const kick = h('button', { type: 'button', class: 'danger' }, 'Kick');
            kick.addEventListener('click', () => act(kick, async () => {
              await api('DELETE', `/v1/sessions/${encodeURIComponent(s.client_id)}`);
              await reload();
            }, `Session ${s.client_id} closed.`));
            actions.push(kick);
          }
          return h('tr', { 'data-client-id': s.client_id },
            h('td', {}, h('code', {}, s.client_id)), h('td', { title: s.username ?? '' }, s.user_id ?? s.username ?? '—'), h('td', {}, `${s.credential_kind} `, h('code', {}, s.credential_id ?? '')),
            h('td', {}, s.edge_id ?? '—'), h('td', {}, s.address ?? '—'), h('td', {}, s.transport), h('td', {}, s.protocol_version === 5 ? '5.0' : '3.1.1'),
            h('td', {}, when(s.connected_at)), h('td', {}, h('div', { class: 'actions' }, actions)));
        }),
      headers,
      'No live sessions.',
    );
  view.replaceChildren(
    h('h1', { tabindex: '-1' }, 'Live sessions'),
    h('section', {}, filterForm(reload, 'Refresh', field('User id', user), field('Client id', client)), list),
  );
  await reload();
}

async function idpPage() {
  const list = h('div', {});
  const reload = async () => {
    try {
      const { providers } = await api('GET', '/v1/idp-providers');
      list.replaceChildren(table(['Name', 'Kind', 'Enabled', 'Settings', 'Secret', ''], providers.map((p) => {
        const actions = [];
        if (canWrite()) {
          const toggle = h('button', { type: 'button', class: 'secondary' }, p.enabled ? 'Disable' : 'Enable');
          toggle.addEventListener('click', () => act(toggle, async () => {
            await api('PATCH', `/v1/idp-providers/${encodeURIComponent(p.id)}`, { enabled: !p.enabled });
            await reload();
          }));
          const remove = h('button', { type: 'button', class: 'danger' }, 'Delete');
          remove.addEventListener('click', () => {
            if (!confirm(`Delete the provider "${p.name}"?`)) return;
            act(remove, async () => {
              await api('DELETE', `/v1/idp-providers/${encodeURIComponent(p.id)}`);
              await reload();
            });
          });
          actions.push(toggle, remove);
        }
        return h('tr', {}, h('td', {}, p.name), h('td', {}, p.kind), h('td', {}, p.enabled ? 'yes' : 'no'), h('td', {}, h('code', {}, JSON.stringify(p.settings))), h('td', {}, p.has_secret ? 'set' : '—'), h('td', {}, h('div', { class: 'actions' }, actions)));
      }), 'No identity providers.'));
    } catch (err) {
      if (err.status !== 401) list.replaceChildren(unavailable(err, 'Identity providers'));
    }
  };
  const parts = [h('h1', { tabindex: '-1' }, 'Identity providers'), h('section', {}, list)];
  if (canWrite()) {
    const body = h('textarea', { id: 'idp-body', spellcheck: 'false' }, '{\n  "kind": "oidc",\n  "name": "corporate",\n  "issuer": "https://login.example.com/",\n  "audience": "signet"\n}');
    const submit = h('button', { type: 'submit' }, 'Add provider');
    parts.push(h('section', { 'aria-labelledby': 'idp-add' }, h('h2', { id: 'idp-add' }, 'Add a provider'),
      h('p', { class: 'muted' }, 'The body of POST /v1/idp-providers (kinds: supabase, firebase, auth0, clerk, oidc, jwt; see docs/federation.md).'),
      h('form', { class: 'inline', onsubmit: (e) => {
        e.preventDefault();
        act(submit, async () => {
          let parsed;
          try {
            parsed = JSON.parse(body.value);
          } catch {
            throw new ApiError(400, { code: 'invalid_json', detail: 'the body is not JSON' });
          }
          await api('POST', '/v1/idp-providers', parsed);
          await reload();
        }, 'Provider added.');
      } }, field('Provider (JSON)', body), submit)));
  }
  view.replaceChildren(...parts);
  await reload();
}

async function settingsPage() {
  const box = h('section', {});
  view.replaceChildren(h('h1', { tabindex: '-1' }, 'Org settings'), box,
    h('section', {}, h('h2', {}, 'Token lifetime and default permissions'),
      h('p', { class: 'muted' }, 'The maximum TTL and the default permissions of tokens are set for the whole installation (SIGNET_TOKEN_MAX_TTL, SIGNET_TOKEN_DEFAULT_TTL; see docs/configuration.md); a token without permissions gets users/{user_id}/# for both publish and subscribe.')));
  try {
    const settings = await api('GET', '/v1/org/settings');
    const will = h('select', { id: 'will-policy', disabled: !canWrite() },
      h('option', { value: 'publish' }, 'publish the will when a session is revoked'),
      h('option', { value: 'suppress' }, 'suppress the will when a session is revoked'));
    will.value = settings.will_on_revoke;
    const save = h('button', { type: 'submit', id: 'settings-save' }, 'Save');
    box.replaceChildren(h('h2', {}, 'Will messages'),
      h('form', { class: 'inline', onsubmit: (e) => {
        e.preventDefault();
        act(save, async () => {
          const next = await api('PATCH', '/v1/org/settings', { will_on_revoke: will.value });
          will.value = next.will_on_revoke;
        }, 'Settings saved.');
      } }, field('Will policy on revocation', will), canWrite() ? save : null));
  } catch (err) {
    if (err.status !== 401) box.replaceChildren(unavailable(err, 'Org settings'));
  }
}

async function aclPage() {
  const kind = h('select', { id: 'acl-kind' }, h('option', { value: 'user_id' }, 'user id'), h('option', { value: 'token' }, 'token (tkn_…)'));
  const subject = h('input', { id: 'acl-subject', required: true, autocomplete: 'off', size: 28 });
  const action = h('select', { id: 'acl-action' }, h('option', { value: 'publish' }, 'publish'), h('option', { value: 'subscribe' }, 'subscribe'));
  const topic = h('input', { id: 'acl-topic', required: true, autocomplete: 'off', size: 28 });
  const submit = h('button', { type: 'submit', id: 'acl-submit' }, 'Check');
  const answer = h('div', { id: 'acl-answer', 'aria-live': 'polite' });
  view.replaceChildren(h('h1', { tabindex: '-1' }, 'ACL checker'),
    h('section', {}, h('p', { class: 'muted' }, 'Is this topic allowed for this user or token, and by which rule?'),
      h('form', { class: 'inline', onsubmit: (e) => {
        e.preventDefault();
        act(submit, async () => {
          try {
            const r = await api('POST', '/v1/acl/check', { [kind.value]: subject.value.trim(), action: action.value, topic: topic.value });
            answer.replaceChildren(h('p', {}, h('span', { class: r.allowed ? 'allowed' : 'denied' }, r.allowed ? 'Allowed' : 'Denied'), r.rule ? ' by the rule ' : ' (no rule matches)', r.rule ? h('code', {}, String(r.rule)) : null, r.token_id ? ' of the token ' : null, r.token_id ? h('code', {}, r.token_id) : null));
          } catch (err) {
            if (err.status === 404 && !err.body?.code) answer.replaceChildren(unavailable(err, 'The ACL check'));
            else throw err;
          }
        });
      } }, field('Subject', kind), field('Value', subject), field('Action', action), field('Topic', topic), submit), answer));
}

async function auditPage() {
  const list = h('div', {});
  const type = h('select', { id: 'audit-type' }, h('option', { value: '' }, 'all'), h('option', { value: 'admin' }, 'admin'), h('option', { value: 'auth' }, 'auth'));
  const actionFilter = h('input', { id: 'audit-action', placeholder: 'any action', autocomplete: 'off' });
  const outcome = h('select', { id: 'audit-outcome' }, h('option', { value: '' }, 'any'), h('option', { value: 'success' }, 'success'), h('option', { value: 'failure' }, 'failure'));
  const filters = () => {
    const q = new URLSearchParams();
    if (type.value) q.set('type', type.value);
    if (actionFilter.value.trim()) q.set('action', actionFilter.value.trim());
    if (outcome.value) q.set('outcome', outcome.value);
    return q;
  };
  const exportLinks = h('p', {});
  const headers = ['When', 'Type', 'Actor', 'Action', 'Target', 'Outcome', 'From', 'Details'];
  headers.title = 'The audit log';
  const reload = () => {
    const base = filters();
    exportLinks.replaceChildren('Export: ', ...['ndjson', 'csv'].flatMap((f, i) => {
      const q = new URLSearchParams(base);
      q.set('format', f);
      return [i ? ' · ' : '', h('a', { href: `/dashboard/api/v1/audit/export?${q}`, download: `audit.${f}` }, f.toUpperCase())];
    }));
    return pagedList(
      list,
      (cursor) => {
        const q = filters();
        q.set('limit', '50');
        if (cursor) q.set('cursor', cursor);
        return api('GET', `/v1/audit?${q}`);
      },
      (page) =>
        page.events.map((e) => h('tr', { 'data-event-id': e.id },
          h('td', {}, when(e.at)), h('td', {}, e.type), h('td', {}, `${e.actor?.kind ?? ''} `, h('code', {}, e.actor?.id ?? '')), h('td', {}, h('code', {}, e.action)),
          h('td', {}, h('code', {}, e.target ?? '—')), h('td', {}, badge(e.outcome)), h('td', {}, e.address ?? e.edge_id ?? '—'),
          h('td', { class: 'details' }, e.reason_code !== null && e.reason_code !== undefined ? `reason ${e.reason_code} ` : '', e.details ? h('code', {}, detailsText(e.details)) : ''))),
      headers,
      'No events match.',
    );
  };
  view.replaceChildren(h('h1', { tabindex: '-1' }, 'Audit log'),
    h('section', {}, filterForm(reload, 'Filter', field('Type', type), field('Action', actionFilter), field('Outcome', outcome)), exportLinks, list));
  await reload();
}

async function accountsPage() {
  const list = h('div', {});
  const reload = async () => {
    try {
      const { accounts } = await api('GET', '/v1/accounts');
      list.replaceChildren(table(['Username', 'Role', 'Account id'], accounts.map((a) => h('tr', {}, h('td', {}, a.username, a.account_id === state.account.account_id ? ' (you)' : ''), h('td', {}, badge(a.role)), h('td', {}, h('code', {}, a.account_id))))));
    } catch (err) {
      if (err.status !== 401) list.replaceChildren(unavailable(err, 'Accounts'));
    }
  };
  const parts = [h('h1', { tabindex: '-1' }, 'Accounts and roles'), h('section', {}, h('p', { class: 'muted' }, 'Owners and admins manage everything; viewers only read. An admin cannot add an owner.'), list)];
  if (canWrite()) {
    const username = h('input', { id: 'account-username', required: true, autocomplete: 'off' });
    const password = h('input', { id: 'account-password', type: 'password', required: true, minlength: 12, autocomplete: 'new-password' });
    const role = h('select', { id: 'account-role' }, ['viewer', 'admin', 'owner'].map((r) => h('option', { value: r }, r)));
    const submit = h('button', { type: 'submit', id: 'account-create' }, 'Add account');
    parts.push(h('section', { 'aria-labelledby': 'account-add' }, h('h2', { id: 'account-add' }, 'Add a person'),
      h('form', { class: 'inline', onsubmit: (e) => {
        e.preventDefault();
        act(submit, async () => {
          await api('POST', '/v1/accounts', { username: username.value.trim(), password: password.value, role: role.value });
          password.value = '';
          username.value = '';
          await reload();
        }, 'Account added.');
      } }, field('Username', username), field('Password (12+ characters)', password), field('Role', role), submit)));
  }
  view.replaceChildren(...parts);
  await reload();
}

const PAGES = [
  ['keys', 'API keys', keysPage],
  ['tokens', 'Tokens', tokensPage],
  ['sessions', 'Sessions', sessionsPage],
  ['idp', 'Identity providers', idpPage],
  ['settings', 'Settings', settingsPage],
  ['acl', 'ACL checker', aclPage],
  ['audit', 'Audit log', auditPage],
  ['accounts', 'Accounts', accountsPage],
];

// ---------------------------------------------------------------- shell

function signedOut(message) {
  state.account = null;
  document.getElementById('nav').hidden = true;
  document.getElementById('who').replaceChildren();
  const params = new URLSearchParams(location.search);
  view.replaceChildren(h('div', { class: 'signin card' },
    h('h1', {}, 'Signet dashboard'),
    message ? h('p', { role: 'alert' }, message) : null,
    params.get('error') ? h('p', { class: 'error', role: 'alert' }, params.get('error')) : null,
    h('p', {}, 'Sign in with your Signet account (the same as `signet login`).'),
    h('a', { class: 'button', href: '/dashboard/login', id: 'sign-in' }, 'Sign in')));
}

async function route() {
  if (!state.account) return;
  const name = location.hash.replace(/^#\/?/, '') || 'keys';
  const page = PAGES.find(([n]) => n === name) ?? PAGES[0];
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === page[0]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${page[1]} · Signet`;
  await page[2]();
  view.querySelector('h1')?.focus();
}

async function start() {
  const res = await fetch('/dashboard/session', { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (res.status !== 200) return signedOut();
  const session = await res.json();
  state.account = session.account;
  state.csrf = session.csrf_token;
  const nav = document.getElementById('nav');
  nav.replaceChildren(...PAGES.map(([n, title]) => h('a', { href: `#/${n}`, 'data-page': n }, title)));
  nav.hidden = false;
  const signOut = h('button', { type: 'button', class: 'secondary', id: 'sign-out' }, 'Sign out');
  signOut.addEventListener('click', () => act(signOut, async () => {
    const r = await fetch('/dashboard/logout', { method: 'POST', headers: { 'x-csrf-token': state.csrf }, credentials: 'same-origin' });
    if (r.status !== 204 && r.status !== 401) throw new ApiError(r.status, await r.json().catch(() => null));
    signedOut('You are signed out.');
  }));
  const who = [h('span', { id: 'who-name' }, state.account.username), badge(state.account.role)];
  if (state.account.role === 'viewer') who.push(h('span', { class: 'muted' }, 'read-only'));
  document.getElementById('who').replaceChildren(...who, signOut);
  window.addEventListener('hashchange', () => void route());
  await route();
}

void start();
