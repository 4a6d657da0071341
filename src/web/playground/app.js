/**
 * The card playground page: a small EHR that calls this service's real CDS Hooks endpoints.
 * Plain ES module, no framework, no build step. Every piece of text from a card, a scenario or a pasted request
 * reaches the page as a text node (textContent) or through markdown.js (which builds DOM nodes); no innerHTML.
 * Under AUTH_MODE=required each call carries a client JWT minted for exactly that URL by /playground/token;
 * the token lives in a local variable for the duration of one fetch and is never stored or shown.
 */
import { renderMarkdown, safeHref } from './markdown.js';
import * as ehr from './ehr.js';

const $ = (id) => document.getElementById(id);

const app = {
  config: null,
  base: window.location.origin,
  services: [],
  scenarios: [],
  /** { kind: 'scenario', scenario } | { kind: 'pasted', request } */
  source: null,
  state: null,
  cards: [],
  serviceId: null,
  busy: false,
  /** A change arrived while a call was running: call again when it ends (the latest chart wins). */
  rerun: false,
  /** The chart entry being edited in a form: { kind: 'medication' | 'condition', ref?: string, trigger?: Element }. */
  editing: null,
  /** Refs edited in this page → the note shown on them. */
  edited: new Map(),
};

// ------------------------------------------------------------------------------------------------------------
// DOM helpers

function h(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else if (name === 'className') node.className = value;
    else if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of [].concat(children)) {
    if (child === undefined || child === null || child === false) continue;
    node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

const INDICATORS = {
  critical: { label: 'Critical', shape: () => svg('polygon', { points: '7,1 17,1 23,7 23,17 17,23 7,23 1,17 1,7' }) },
  warning: { label: 'Warning', shape: () => svg('polygon', { points: '12,1 23,22 1,22' }) },
  info: { label: 'Info', shape: () => svg('circle', { cx: '12', cy: '12', r: '11' }) },
};

/** Icon (shape differs per indicator) + the indicator's name as text: never colour alone. */
function indicatorBadge(indicator) {
  const spec = INDICATORS[indicator] ?? { label: String(indicator), shape: () => svg('rect', { x: '1', y: '1', width: '22', height: '22' }) };
  const icon = svg('svg', { viewBox: '0 0 24 24', width: '20', height: '20', 'aria-hidden': 'true', focusable: 'false', class: 'badge__icon' });
  icon.appendChild(spec.shape());
  const mark = svg('text', { x: '12', y: indicator === 'warning' ? '19' : '17', 'text-anchor': 'middle', class: 'badge__mark' });
  mark.textContent = indicator === 'info' ? 'i' : '!';
  icon.appendChild(mark);
  return h('span', { className: `badge badge--${indicator}` }, [icon, h('span', { text: spec.label })]);
}

function setText(id, text) {
  $(id).textContent = text;
}

function showJson(codeId, lineId, line, value) {
  setText(codeId, value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  setText(lineId, line);
}

function status(text) {
  setText('cards-status', text);
}

/** A lasting warning above the scenario picker (setup problems: wrong origin, failed discovery). */
function warn(text) {
  $('warnings').appendChild(h('p', { className: 'notice notice--warning', text }));
}

// ------------------------------------------------------------------------------------------------------------
// HTTP

async function readJson(response) {
  const body = await response.text();
  try {
    return body ? JSON.parse(body) : undefined;
  } catch {
    return body;
  }
}

function outcomeText(json, fallback) {
  const issues = json && Array.isArray(json.issue) ? json.issue.map((i) => i?.details?.text ?? i?.diagnostics).filter(Boolean) : [];
  return issues.length ? issues.join('; ') : fallback;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const json = await readJson(response);
  if (!response.ok) throw new Error(outcomeText(json, `${path}: HTTP ${response.status}`));
  return json;
}

/** A client JWT for exactly `aud`, from the page's own origin. Kept only in the caller's local variable. */
async function mintToken(aud) {
  const response = await fetch('playground/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ aud }),
    cache: 'no-store',
  });
  const json = await readJson(response);
  if (!response.ok || typeof json?.token !== 'string') throw new Error(`No playground token: ${outcomeText(json, `HTTP ${response.status}`)}`);
  return json.token;
}

/** Call one of this service's CDS Hooks endpoints as a CDS client would. */
async function cdsFetch(method, path, body) {
  const url = app.base + path;
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (app.config?.authMode === 'required') headers.authorization = `Bearer ${await mintToken(url)}`;
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  return { status: response.status, ok: response.ok, json: await readJson(response) };
}

function authNote(path) {
  return app.config?.authMode === 'required' ? ` · Authorization: Bearer <ES384 JWT from ${app.config.issuer}, aud ${app.base}${path}>` : ' · no Authorization (AUTH_MODE=off)';
}

// ------------------------------------------------------------------------------------------------------------
// Chart

/** `notes`: ref → the note shown on a changed entry. `kind`: 'medication' | 'condition' makes entries editable. */
function renderResourceList(listId, resources, emptyText, { notes, kind } = {}) {
  const list = $(listId);
  list.replaceChildren();
  if (resources.length === 0) {
    list.appendChild(h('li', { className: 'resource resource--empty', text: emptyText }));
    return;
  }
  for (const resource of resources) {
    const { title, facts } = ehr.describeResource(resource);
    const ref = resource.resourceType && resource.id ? `${resource.resourceType}/${resource.id}` : undefined;
    const dl = h(
      'dl',
      { className: 'facts' },
      facts.flatMap(([label, value]) => [h('dt', { text: label }), h('dd', { text: value, 'data-fact': label.toLowerCase() })]),
    );
    const note = notes && ref ? notes.get(ref) : undefined;
    const tools =
      kind && ref
        ? h('div', { className: 'resource__tools' }, [
            h('button', { type: 'button', className: 'button button--quiet edit', 'aria-label': `Edit ${title}`, text: 'Edit', onclick: (e) => openEditor(kind, ref, e.currentTarget) }),
            h('button', { type: 'button', className: 'button button--quiet remove', 'aria-label': `Remove ${title}`, text: 'Remove', onclick: () => removeEntry(kind, ref, title) }),
          ])
        : null;
    list.appendChild(
      h('li', { className: `resource${note ? ' resource--changed' : ''}`, 'data-ref': ref }, [
        h('p', { className: 'resource__title', text: title }),
        dl,
        note ? h('p', { className: 'resource__note', text: note }) : null,
        tools,
      ]),
    );
  }
}

function renderChart(changedRefs) {
  const state = app.state;
  const banner = $('patient-banner');
  banner.replaceChildren();
  if (!state) return;
  const p = ehr.patientBanner(state);
  const bits = [
    p.gender ? `${p.gender}` : undefined,
    p.birthDate ? `born ${p.birthDate}${p.age !== undefined ? ` (${p.age} y)` : ''}` : undefined,
    `ID ${p.id}`,
  ].filter(Boolean);
  const origin = app.source?.kind === 'scenario' ? `Scenario: ${app.source.scenario.name} · fixtures/${app.source.scenario.file}` : 'Pasted hook request';
  banner.append(h('p', { className: 'banner__name', text: p.name }), h('p', { className: 'banner__facts', text: bits.join(' · ') }), h('p', { className: 'banner__origin', text: origin }));

  const changed = new Map((changedRefs ?? []).map((ref) => [ref, 'Changed by the accepted suggestion']));
  renderResourceList('orders', state.draftOrders, 'No draft orders.', { notes: changed });
  const chart = ehr.chartOf(state);
  const notes = new Map([...app.edited, ...changed]);
  renderResourceList('medications', chart.medications, 'No medications in the prefetch.', { notes, kind: 'medication' });
  renderResourceList('conditions', chart.conditions, 'No conditions in the prefetch.', { notes, kind: 'condition' });
  $('add-medication').disabled = false;
  $('add-condition').disabled = false;
  previewRequest();
}

// ------------------------------------------------------------------------------------------------------------
// Chart editor: add, edit and remove medications and conditions; each change re-runs the hook

const EDITORS = {
  medication: {
    form: 'medication-editor',
    legend: 'medication-editor-legend',
    error: 'medication-editor-error',
    add: 'add-medication',
    list: 'medications',
    fields: { name: 'med-name', code: 'med-code', dose: 'med-dose', status: 'med-status', start: 'med-start', end: 'med-end' },
    read: (resource) => ehr.medicationFields(resource),
    save: (state, ref, fields) => ehr.saveMedication(state, ref, fields),
    statuses: (resource) => ehr.MEDICATION_STATUSES[resource?.resourceType === 'MedicationRequest' ? 'MedicationRequest' : 'MedicationStatement'],
    statusField: 'status',
    noun: 'medication',
  },
  condition: {
    form: 'condition-editor',
    legend: 'condition-editor-legend',
    error: 'condition-editor-error',
    add: 'add-condition',
    list: 'conditions',
    fields: { name: 'cond-name', code: 'cond-code', clinicalStatus: 'cond-status', onset: 'cond-onset' },
    read: (resource) => ehr.conditionFields(resource),
    save: (state, ref, fields) => ehr.saveCondition(state, ref, fields),
    statuses: () => ehr.CONDITION_CLINICAL_STATUSES,
    statusField: 'clinicalStatus',
    noun: 'condition',
  },
};

function chartResource(ref) {
  const chart = ehr.chartOf(app.state);
  return [...chart.medications, ...chart.conditions].find((r) => `${r.resourceType}/${r.id}` === ref);
}

function openEditor(kind, ref, trigger) {
  if (!app.state) return;
  closeEditors();
  const spec = EDITORS[kind];
  const resource = ref ? chartResource(ref) : undefined;
  const values = spec.read(resource);
  const statusSelect = $(spec.fields[spec.statusField]);
  statusSelect.replaceChildren(...spec.statuses(resource).map((st) => h('option', { value: st, text: st })));
  for (const [field, id] of Object.entries(spec.fields)) $(id).value = values[field] ?? '';
  setText(spec.legend, ref ? `Edit ${spec.noun}: ${ehr.describeResource(resource).title}` : `Add ${spec.noun}`);
  $(spec.error).hidden = true;
  $(spec.form).hidden = false;
  app.editing = { kind, ref, trigger: trigger ?? $(spec.add) };
  $(spec.fields.name).focus();
}

function closeEditors({ restoreFocus = false } = {}) {
  const editing = app.editing;
  for (const spec of Object.values(EDITORS)) $(spec.form).hidden = true;
  app.editing = null;
  if (restoreFocus && editing?.trigger?.isConnected) editing.trigger.focus();
}

function saveEditor(kind) {
  const spec = EDITORS[kind];
  const editing = app.editing;
  if (!editing || editing.kind !== kind) return;
  const fields = Object.fromEntries(Object.entries(spec.fields).map(([field, id]) => [field, $(id).value]));
  let result;
  try {
    result = spec.save(app.state, editing.ref, fields);
  } catch (error) {
    const box = $(spec.error);
    box.textContent = error.message;
    box.hidden = false;
    return;
  }
  app.state = result.state;
  app.edited.set(result.ref, editing.ref ? 'Edited in the playground' : 'Added in the playground');
  closeEditors();
  renderChart();
  const edit = [...$(spec.list).querySelectorAll('li')].find((li) => li.dataset.ref === result.ref)?.querySelector('button.edit');
  (edit ?? $(spec.add)).focus();
  chartChanged(`${editing.ref ? 'Saved' : 'Added'} ${spec.noun} “${fields.name || fields.code}”.`);
}

function removeEntry(kind, ref, title) {
  if (!app.state) return;
  closeEditors();
  app.state = ehr.removeFromChart(app.state, ref);
  app.edited.delete(ref);
  renderChart();
  $(EDITORS[kind].add).focus();
  chartChanged(`Removed ${EDITORS[kind].noun} “${title}”.`);
}

/** The chart changed: say so, then call the hook again as the EHR would. */
function chartChanged(what) {
  status(`${what} Calling the service again…`);
  void runHook();
}

function previewRequest() {
  if (!app.state) return;
  const hook = $('hook').value;
  const serviceId = ehr.serviceFor(hook, app.services) ?? '(no service for this hook)';
  const blocked = ehr.blockedReason(app.state, hook);
  const path = `/cds-services/${serviceId}`;
  showJson('request-json', 'request-line', `(preview) POST ${path}${authNote(path)}`, blocked ? blocked : ehr.buildRequest(app.state, hook, '(new UUID at each call)'));
}

// ------------------------------------------------------------------------------------------------------------
// Scenarios

function populateScenarios() {
  const select = $('scenario');
  select.replaceChildren();
  const groups = new Map();
  for (const s of app.scenarios) {
    const key = s.file.startsWith('requests/') ? s.group : `fixtures/${s.file}`;
    if (!groups.has(key)) groups.set(key, h('optgroup', { label: key }));
    groups.get(key).appendChild(h('option', { value: s.id, text: `${s.name} (${s.hook})` }));
  }
  for (const group of groups.values()) select.appendChild(group);
  select.appendChild(h('option', { value: 'pasted', text: 'Pasted hook request', hidden: true, disabled: true }));
  select.disabled = app.scenarios.length === 0;
  if (app.scenarios.length === 0) select.appendChild(h('option', { text: 'No scenario files found (paste a request)' }));
}

function loadSource(source) {
  const request = source.kind === 'scenario' ? source.scenario.request : source.request;
  app.source = source;
  app.state = ehr.stateFromRequest(request);
  app.edited = new Map();
  closeEditors();
  $('hook').value = app.state.hook;
  const pasted = $('scenario').querySelector('option[value="pasted"]');
  if (pasted) {
    pasted.hidden = source.kind !== 'pasted';
    pasted.disabled = source.kind !== 'pasted';
  }
  $('scenario').value = source.kind === 'scenario' ? source.scenario.id : 'pasted';
  clearCards('Scenario loaded. Call the CDS service to see its cards.');
  renderChart();
  $('run').disabled = false;
  $('reset').disabled = false;
}

function clearCards(message) {
  app.cards = [];
  app.suppressed = 0;
  $('cards').replaceChildren();
  status(message);
  showJson('response-json', 'response-line', '', undefined);
}

// ------------------------------------------------------------------------------------------------------------
// Calling the service and showing cards

async function runHook({ focusCards = false } = {}) {
  if (!app.state) return;
  if (app.busy) {
    app.rerun = true;
    return;
  }
  const hook = $('hook').value;
  const serviceId = ehr.serviceFor(hook, app.services);
  if (!serviceId) {
    clearCards(`No discovered CDS service serves ${hook}.`);
    return;
  }
  const blocked = ehr.blockedReason(app.state, hook);
  if (blocked) {
    clearCards(blocked);
    previewRequest();
    if (focusCards) $('cards-heading').focus();
    return;
  }
  const request = ehr.buildRequest(app.state, hook);
  const path = `/cds-services/${serviceId}`;
  showJson('request-json', 'request-line', `POST ${path}${authNote(path)}`, request);
  setBusy(true);
  status(`Calling ${hook} on ${serviceId}…`);
  try {
    const result = await cdsFetch('POST', path, request);
    showJson('response-json', 'response-line', `HTTP ${result.status}`, result.json);
    if (!result.ok) {
      app.cards = [];
      $('cards').replaceChildren(h('p', { className: 'notice notice--error', text: `The service answered HTTP ${result.status}: ${outcomeText(result.json, 'no details')}` }));
      status(`Error: HTTP ${result.status}`);
      return;
    }
    app.serviceId = serviceId;
    app.cards = Array.isArray(result.json?.cards) ? result.json.cards : [];
    app.suppressed = ehr.suppressedCount(result.json);
    app.hook = hook;
    renderCards();
    const top = app.cards[0];
    status(`${ehr.cardCountText(app.cards, app.suppressed, hook)}${top ? ` First: ${INDICATORS[top.indicator]?.label ?? top.indicator}: ${top.summary}` : ''}`);
  } catch (error) {
    status(`Error: ${error.message}`);
    $('cards').replaceChildren(h('p', { className: 'notice notice--error', text: error.message }));
  } finally {
    setBusy(false);
    if (focusCards) $('cards-heading').focus();
  }
  if (app.rerun) {
    app.rerun = false;
    await runHook();
  }
}

function setBusy(busy) {
  app.busy = busy;
  $('cards').setAttribute('aria-busy', busy ? 'true' : 'false');
  $('run').disabled = busy || !app.state;
}

function renderCards() {
  const container = $('cards');
  container.replaceChildren();
  const held = app.suppressed ? ehr.suppressedText(app.suppressed, app.hook) : '';
  const resetHint = held && app.config?.reset ? ' “Reset suppressions” shows them again.' : '';
  if (app.cards.length === 0) {
    container.appendChild(
      held
        ? h('p', { className: 'notice notice--warning cards__suppressed', 'data-suppressed': String(app.suppressed), text: `No cards shown: ${held}${resetHint}` })
        : h('p', { className: 'cards__empty', text: 'No cards. (An EHR shows nothing.)' }),
    );
    return;
  }
  app.cards.forEach((card, index) => container.appendChild(cardElement(card, index)));
  if (held) container.appendChild(h('p', { className: 'notice notice--warning cards__suppressed', 'data-suppressed': String(app.suppressed), text: `${held}${resetHint}` }));
}

function cardElement(card, index) {
  const indicator = INDICATORS[card.indicator] ? card.indicator : 'info';
  const summaryId = `card-${index}-summary`;
  const article = h('article', { className: `card card--${indicator}`, 'aria-labelledby': summaryId, 'data-indicator': card.indicator, 'data-uuid': card.uuid });
  article.appendChild(h('header', { className: 'card__head' }, [indicatorBadge(indicator), h('h3', { id: summaryId, className: 'card__summary', text: card.summary })]));

  if (typeof card.detail === 'string' && card.detail) {
    const detail = h('div', { className: 'card__detail' });
    detail.appendChild(renderMarkdown(card.detail, document, { headingOffset: 3 }));
    article.appendChild(detail);
  }

  const suggestions = Array.isArray(card.suggestions) ? card.suggestions : [];
  if (suggestions.length) {
    const group = h('div', { className: 'card__suggestions', role: 'group', 'aria-label': `Suggestions for: ${card.summary}` });
    for (const suggestion of suggestions) {
      const button = h('button', { type: 'button', className: `button suggestion${suggestion.isRecommended ? ' suggestion--recommended' : ''}`, 'data-suggestion': suggestion.uuid }, [
        h('span', { text: suggestion.label }),
        suggestion.isRecommended ? h('span', { className: 'tag', text: 'Recommended' }) : null,
      ]);
      button.addEventListener('click', () => acceptSuggestion(card, suggestion, article));
      group.appendChild(button);
    }
    article.appendChild(group);
  }

  article.appendChild(dismissControls(card, index, article));

  const meta = h('div', { className: 'card__meta' });
  const sourceHref = safeHref(card.source?.url);
  meta.appendChild(
    h('p', { className: 'card__source' }, [
      'Source: ',
      sourceHref ? h('a', { href: sourceHref, target: '_blank', rel: 'noopener noreferrer', text: card.source?.label ?? sourceHref }) : h('span', { text: card.source?.label ?? 'unknown' }),
      card.source?.topic?.display ? ` · ${card.source.topic.display}` : '',
    ]),
  );
  const links = Array.isArray(card.links) ? card.links : [];
  if (links.length) {
    meta.appendChild(
      h(
        'ul',
        { className: 'card__links', 'aria-label': 'Links' },
        links.map((link) => {
          const href = link?.type === 'absolute' ? safeHref(link.url) : null;
          if (href) return h('li', {}, [h('a', { href, target: '_blank', rel: 'noopener noreferrer', text: link.label ?? href })]);
          const why = link?.type === 'smart' ? ' (SMART app link: not launched by the playground)' : ' (not an http(s) link)';
          return h('li', { text: `${link?.label ?? 'link'}${why}` });
        }),
      ),
    );
  }
  article.appendChild(meta);
  return article;
}

function dismissControls(card, index, article) {
  const reasons = Array.isArray(card.overrideReasons) ? card.overrideReasons : [];
  const selectId = `card-${index}-reason`;
  const wrapper = h('div', { className: 'card__dismiss' });
  let select = null;
  if (reasons.length) {
    select = h('select', { id: selectId, className: 'reason' }, [
      h('option', { value: '', text: 'No reason given' }),
      ...reasons.map((r, i) => h('option', { value: String(i), text: r?.display ?? r?.code ?? `reason ${i + 1}` })),
    ]);
    wrapper.append(h('label', { for: selectId, text: 'Override reason' }), select);
  }
  const button = h('button', { type: 'button', className: 'button button--quiet dismiss', text: 'Dismiss card' });
  button.addEventListener('click', () => dismissCard(card, select && select.value !== '' ? reasons[Number(select.value)] : undefined, article));
  wrapper.appendChild(button);
  return wrapper;
}

// ------------------------------------------------------------------------------------------------------------
// Accepting and dismissing

async function acceptSuggestion(card, suggestion, article) {
  if (app.busy) return;
  for (const b of article.querySelectorAll('button')) b.disabled = true; // at-most-one, and no double submit
  const result = ehr.applySuggestion(app.state, suggestion);
  app.state = result.state;
  const changed = (suggestion.actions ?? []).map((a) => (a?.resource && a.resource.resourceType && a.resource.id ? `${a.resource.resourceType}/${a.resource.id}` : undefined));
  renderChart(changed.filter(Boolean));
  const applied = result.applied.length ? `Applied: ${result.applied.join('; ')}.` : 'Nothing applied.';
  status(`${applied}${result.problems.length ? ` Problems: ${result.problems.join('; ')}.` : ''} Sending feedback…`);
  if (card.uuid && suggestion.uuid) await sendFeedback(ehr.acceptedFeedback(card, suggestion), card, `accepted “${suggestion.label}”`);
  await runHook({ focusCards: true });
}

async function dismissCard(card, reason, article) {
  if (app.busy) return;
  for (const b of article.querySelectorAll('button, select')) b.disabled = true;
  const stored = card.uuid ? await sendFeedback(ehr.overriddenFeedback(card, reason), card, `dismissed${reason ? ` (${reason.display ?? reason.code})` : ' (no reason)'}`) : false;
  app.cards = app.cards.filter((c) => c !== card);
  const next = article.nextElementSibling ?? article.previousElementSibling;
  article.remove();
  if (app.cards.length === 0) renderCards();
  else $('cards').querySelector('.cards__suppressed')?.remove();
  status(`Card dismissed${stored ? '; feedback stored' : ''}. ${ehr.cardCountText(app.cards, app.suppressed, app.hook)}`);
  (next?.querySelector('button') ?? $('cards-heading')).focus();
}

async function sendFeedback(body, card, what) {
  const serviceId = app.serviceId;
  const path = `/cds-services/${serviceId}/feedback`;
  let result;
  try {
    result = await cdsFetch('POST', path, body);
  } catch (error) {
    result = { status: 0, ok: false, json: error.message };
  }
  showJson('feedback-json', 'feedback-line', `POST ${path} → HTTP ${result.status}`, { request: body, response: result.json });
  const outcome = body.feedback[0].outcome;
  const text = result.ok ? `stored (HTTP ${result.status})` : `NOT stored: ${outcomeText(result.json, typeof result.json === 'string' ? result.json : `HTTP ${result.status}`)}`;
  $('feedback-log').appendChild(
    h('li', { className: `feedback feedback--${result.ok ? 'ok' : 'error'}`, 'data-outcome': outcome, 'data-status': String(result.status) }, [
      h('strong', { text: `${outcome}: ` }),
      `${what} · “${card.summary}” · ${text}`,
    ]),
  );
  return result.ok;
}

// ------------------------------------------------------------------------------------------------------------
// Start

function pasteRequest() {
  const error = $('paste-error');
  try {
    const request = ehr.parseRequestText($('paste-input').value);
    error.hidden = true;
    loadSource({ kind: 'pasted', request });
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
  }
}

async function resetSuppressions() {
  const button = $('reset-suppressions');
  button.disabled = true;
  try {
    const response = await fetch('playground/reset', { method: 'POST', headers: { accept: 'application/json' }, cache: 'no-store' });
    const json = await readJson(response);
    if (!response.ok) throw new Error(outcomeText(json, `HTTP ${response.status}`));
    status(`Suppressions of the playground's ${json.patients} synthetic patients cleared (${json.suppressionsRemoved} removed).`);
    if (app.state) await runHook();
  } catch (error) {
    status(`Reset failed: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

function bind() {
  $('scenario').addEventListener('change', () => {
    const scenario = app.scenarios.find((s) => s.id === $('scenario').value);
    if (scenario) loadSource({ kind: 'scenario', scenario });
  });
  $('hook').addEventListener('change', () => {
    clearCards('Hook changed. Call the CDS service to see its cards.');
    previewRequest();
  });
  $('run').addEventListener('click', () => runHook());
  $('reset').addEventListener('click', () => app.source && loadSource(app.source));
  $('paste-apply').addEventListener('click', pasteRequest);
  $('reset-suppressions').addEventListener('click', resetSuppressions);
  for (const [kind, spec] of Object.entries(EDITORS)) {
    $(spec.add).addEventListener('click', (e) => openEditor(kind, undefined, e.currentTarget));
    $(spec.form).addEventListener('submit', (e) => {
      e.preventDefault();
      saveEditor(kind);
    });
    $(spec.form).querySelector('button.cancel').addEventListener('click', () => closeEditors({ restoreFocus: true }));
    $(spec.form).addEventListener('keydown', (e) => {
      if (e.key === 'Escape') closeEditors({ restoreFocus: true });
    });
  }
}

async function start() {
  bind();
  try {
    app.config = await getJson('playground/config');
  } catch (error) {
    status(`The playground is not available: ${error.message}`);
    return;
  }
  setText('knowledge-version', `Knowledge: ${app.config.knowledge.name} ${app.config.knowledge.version}`);
  setText('auth-mode', app.config.authMode === 'required' ? 'Auth: signed client JWTs' : 'Auth: off (development)');
  $('reset-suppressions').hidden = !app.config.reset;
  const base = app.config.publicBaseUrls.find((u) => new URL(u).origin === window.location.origin);
  app.base = base ?? window.location.origin;
  if (!base && app.config.authMode === 'required') {
    warn(`This page is open at ${window.location.origin}, which is not a PUBLIC_BASE_URL (${app.config.publicBaseUrls.join(', ')}): client JWTs name the URL called, so open the playground at ${app.config.publicBaseUrls[0]}/.`);
  }

  try {
    app.scenarios = (await getJson('playground/scenarios')).scenarios ?? [];
  } catch (error) {
    warn(`Scenarios could not be loaded: ${error.message}`);
  }
  populateScenarios();

  try {
    const discovery = await cdsFetch('GET', '/cds-services');
    if (!discovery.ok) throw new Error(`discovery answered HTTP ${discovery.status}`);
    app.services = Array.isArray(discovery.json?.services) ? discovery.json.services : [];
  } catch (error) {
    warn(`CDS discovery (GET /cds-services) failed: ${error.message}. Calls cannot be made.`);
  }
  if (app.scenarios.length) loadSource({ kind: 'scenario', scenario: app.scenarios[0] });
  document.body.dataset.ready = 'true';
}

start();
