// The text box under the terminal (what a phone uses): send a line now, queue a task for
// when the agent is idle, or press one of the keys a phone keyboard lacks.

export class Compose {
  constructor(form, send) {
    this.form = form;
    this.send = send;
    this.text = form.querySelector('#compose-text');
    this.status = form.querySelector('#compose-status');
    this.id = null;
    this.ref = 0;
    this.pending = new Map();
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit('send');
    });
    form.querySelector('#queue-task').addEventListener('click', () => this.submit('queue'));
    for (const b of form.querySelectorAll('[data-key]')) {
      b.addEventListener('click', () => this.request({ t: 'send', id: this.id, text: '', keys: [b.dataset.key], enter: false }, `${b.dataset.key}`));
    }
    // Enter sends, Shift+Enter is a new line in the box.
    this.text.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.submit('send');
      }
    });
  }

  show(id) {
    this.id = id;
    this.say('');
  }

  submit(kind) {
    const text = this.text.value;
    if (kind === 'queue' && text.trim() === '') return this.say('nothing to queue', true);
    const message = kind === 'send' ? { t: 'send', id: this.id, text, keys: [], enter: true } : { t: 'queue', id: this.id, text };
    if (this.request(message, kind === 'send' ? 'sending…' : 'queueing…')) this.text.value = '';
  }

  request(message, what) {
    if (!this.id) return false;
    const ref = ++this.ref;
    if (!this.send({ ...message, ref })) {
      this.say('not connected', true);
      return false;
    }
    this.pending.set(ref, what);
    this.say(what);
    return true;
  }

  /** The server's answer to a send or queue. */
  done(m) {
    if (!this.pending.delete(m.ref)) return;
    this.say(m.message, !m.ok);
  }

  say(text, failed = false) {
    this.status.textContent = text;
    this.status.classList.toggle('failed', failed);
  }
}
