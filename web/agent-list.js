import { ago, endedHow, stateOf } from './format.js';

// The list of agents. Everything an agent wrote (its preview line) is set as text, never
// as HTML.

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** What a row says besides its state: last output, queue, size, viewers, or how it ended. */
export function metaLine(agent, now) {
  const parts = [];
  if (agent.status === 'Running' || agent.status === 'Starting') {
    if (agent.lastOutputAt) parts.push(`last output ${ago(now - Date.parse(agent.lastOutputAt))} ago`);
    if (agent.queued) parts.push(`${agent.queued} queued`);
    if (agent.cols && agent.rows) parts.push(`${agent.cols}×${agent.rows}`);
    if (agent.viewers) parts.push(`${agent.viewers} viewer${agent.viewers === 1 ? '' : 's'}`);
  } else {
    parts.push(endedHow(agent));
  }
  if (agent.backend === 'tmux') parts.push('tmux');
  parts.push(agent.command);
  return parts.join(' · ');
}

/** One row's elements, made once per agent and updated in place (a row under a finger or a click stays the same node). */
function rowFor(ul, id) {
  let li = ul.querySelector(`li[data-id="${CSS.escape(id)}"]`);
  if (li) return li;
  li = el('li');
  li.dataset.id = id;
  const link = el('a');
  link.href = `#agent/${encodeURIComponent(id)}`;
  link.append(el('span', 'agent-id', id), el('span', 'state'), el('span', 'agent-meta'), el('span', 'agent-preview'));
  li.append(link);
  return li;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

export function renderList(ul, empty, agents, now) {
  const rows = agents.map((a) => {
    const state = stateOf(a);
    const li = rowFor(ul, a.id);
    li.dataset.state = state;
    const [, badge, meta, preview] = li.firstChild.children;
    setText(badge, state);
    badge.className = `state state-${state}`;
    setText(meta, metaLine(a, now));
    setText(preview, a.preview || '');
    preview.hidden = !a.preview;
    return li;
  });
  // In the server's order; rows of agents that are gone go.
  rows.forEach((li, i) => {
    if (ul.children[i] !== li) ul.insertBefore(li, ul.children[i] || null);
  });
  while (ul.children.length > rows.length) ul.lastChild.remove();
  empty.hidden = agents.length > 0;
}
