import { renderList, metaLine } from './agent-list.js';
import { Compose } from './compose.js';
import { Connection, signIn, signedIn, takeTokenFromAddress } from './connection.js';
import { ServerClock, stateOf } from './format.js';
import { TerminalView } from './terminal-view.js';

// The page: sign in, then the list of agents (#) or one agent (#agent/ID), both kept live
// over one WebSocket (docs/web-protocol.md).

const $ = (id) => document.getElementById(id);

const state = { write: false, agents: [], openId: null, v: 0, started: false, signedOut: false, mode: null };
const clock = new ServerClock();
let conn = null;
let term = null;
let compose = null;

function setConn(s) {
  const c = $('conn');
  c.textContent = s === 'live' ? 'live' : s === 'down' ? 'reconnecting…' : s;
  c.className = `badge ${s === 'live' ? 'live' : 'down'}`;
  if (s === 'signed-out') {
    state.signedOut = true;
    showSignIn('Signed out (the server restarted?): open the address it printed, or paste the token.');
  }
}

function showSignIn(error) {
  $('signin').hidden = false;
  $('list-view').hidden = true;
  $('agent-view').hidden = true;
  $('signin-error').textContent = error || '';
  $('token-input').focus();
}

function note(text, isError = false) {
  const n = $('note');
  n.hidden = !text;
  n.textContent = text || '';
  n.classList.toggle('error', isError);
}

function agentById(id) {
  return state.agents.find((a) => a.id === id) || null;
}

function renderAgentHeader() {
  const a = agentById(state.openId);
  const s = $('agent-state');
  if (!a) {
    s.textContent = '';
    $('agent-info').textContent = '';
    return;
  }
  const st = stateOf(a);
  s.textContent = st;
  s.className = `state state-${st}`;
  $('agent-info').textContent = metaLine(a, clock.now());
}

function render() {
  if (!state.openId) renderList($('agents'), $('empty'), state.agents, clock.now());
  else renderAgentHeader();
}

function route() {
  if (state.signedOut) return;
  takeTokenFromAddress(); // already signed in: a token pasted again only leaves the address bar
  const m = /^#agent\/(.+)$/.exec(location.hash);
  const id = m ? decodeURIComponent(m[1]) : null;
  if (id) openAgent(id);
  else showList();
}

function showList() {
  if (state.openId) conn.send({ t: 'close' });
  state.openId = null;
  $('agent-title').textContent = '';
  $('agent-view').hidden = true;
  $('list-view').hidden = false;
  render();
}

function openAgent(id) {
  state.openId = id;
  state.v++;
  term.open(state.v);
  conn.send({ t: 'open', v: state.v, id });
  $('agent-title').textContent = id;
  $('list-view').hidden = true;
  $('agent-view').hidden = false;
  note('');
  $('tasks-box').hidden = true;
  compose.show(id);
  state.mode = null;
  updateTypeToggle(false);
  render();
}

function updateTypeToggle(typing) {
  const b = $('type-toggle');
  // Only a live view can be typed into (tmux sessions and ended agents are captures).
  b.hidden = !state.write || state.mode !== 'live';
  term.canWrite = state.write && state.mode === 'live';
  b.textContent = typing ? 'stop typing' : 'type here';
  b.title = typing ? 'watch again: the agent goes back to the other viewers’ size' : 'type into the terminal: the agent takes this window’s size';
  b.setAttribute('aria-pressed', String(typing));
}

function renderTasks(tasks) {
  $('tasks-box').hidden = tasks.length === 0;
  $('task-count').textContent = String(tasks.length);
  $('tasks').replaceChildren(
    ...tasks.map((t) => {
      const li = document.createElement('li');
      li.textContent = t.text;
      return li;
    }),
  );
}

function onMessage(m) {
  switch (m.t) {
    case 'hello':
      state.write = m.write;
      $('mode').textContent = m.write ? 'write' : 'read-only';
      $('compose').hidden = !m.write;
      $('read-only-note').hidden = m.write;
      updateTypeToggle(false);
      return;
    case 'agents':
      clock.sync(m.now);
      state.agents = m.agents;
      $('warnings').hidden = m.warnings.length === 0;
      $('warnings').textContent = m.warnings.join('\n');
      return render();
    case 'view':
      if (m.v !== state.v) return;
      state.mode = m.mode;
      note(m.note);
      term.setTyping(m.typing);
      updateTypeToggle(m.typing);
      return;
    case 'screen':
      return term.screen(m);
    case 'o':
      return term.output(m.d);
    case 'size':
      return term.size(m);
    case 'ended':
      if (m.v !== state.v) return;
      state.mode = 'ended';
      updateTypeToggle(false);
      return note(m.message ? `The stream was lost: ${m.message}` : m.signal ? `The agent was killed by ${m.signal}.` : m.code !== null ? `The agent exited with code ${m.code}.` : 'The agent has ended.');
    case 'tasks':
      if (m.v === state.v) renderTasks(m.tasks);
      return;
    case 'done':
      return compose.done(m);
    case 'error':
      return note(m.message, true);
    default:
      return; // newer servers may say more
  }
}

function start() {
  $('signin').hidden = true;
  if (state.started) {
    // Signed in again after the server forgot us: the same page, a new connection.
    state.signedOut = false;
    return conn.connect();
  }
  state.started = true;
  term = new TerminalView($('term-box'), $('term'), (m) => conn.send(m));
  term.onSize = (cols, rows) => {
    $('term-box').dataset.size = `${cols}x${rows}`;
  };
  conn = new Connection(onMessage, setConn);
  compose = new Compose($('compose'), (m) => conn.send(m));
  conn.onOpen = () => {
    // A new connection counts acknowledgements from zero and knows no view yet.
    term.reset();
    route();
  };
  window.addEventListener('hashchange', route);
  $('type-toggle').addEventListener('click', () => (term.wantTyping ? term.giveKeyboard() : term.takeKeyboard()));
  $('fit-toggle').setAttribute('aria-pressed', 'true');
  $('fit-toggle').addEventListener('click', () => {
    term.setFit(!term.fit);
    $('fit-toggle').setAttribute('aria-pressed', String(term.fit));
  });
  setInterval(render, 1000);
  // For tests and debugging: the terminal and its screen as text.
  window.symposiumPage = { get term() { return term.term; }, view: term, lines: () => term.lines(), state };
  conn.connect();
}

$('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const token = $('token-input').value.trim();
  $('token-input').value = '';
  if (token && (await signIn(token))) start();
  else showSignIn('That token was refused.');
});

/** A token in the address (on load, or pasted into the address bar later) signs in. */
async function signInFromAddress() {
  const token = takeTokenFromAddress();
  if (token === null) return false;
  if (await signIn(token)) start();
  else showSignIn('That token was refused.');
  return true;
}

window.addEventListener('hashchange', () => {
  if (!state.started || state.signedOut) signInFromAddress().catch((err) => showSignIn(`Cannot reach the server: ${err.message}`));
});

(async () => {
  if (await signInFromAddress()) return;
  if (await signedIn()) return start();
  showSignIn();
})().catch((err) => showSignIn(`Cannot reach the server: ${err.message}`));
