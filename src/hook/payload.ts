import type { SignalArgs } from '../protocol/ops';

// What an agent's hook tells us, from the word our wiring gave it (known-agents.ts) and the
// payload the agent passes: JSON on stdin (Claude Code, Gemini CLI) or as the last argument
// (Codex's notify). Only a few fields are read, each optional; anything else is ignored,
// so an agent that adds or drops fields changes nothing here.

/** Words the hook may be called with: a state, or a question for the supervisor to settle. */
export type HookWord = 'working' | 'idle' | 'blocked' | 'notification' | 'attention';

export const HOOK_WORDS: readonly HookWord[] = ['working', 'idle', 'blocked', 'notification', 'attention'];

/** What the supervisor is told (the `signal` request). */
export type HookSignal = SignalArgs;

const TEXT_MAX = 1000;

function field(o: Record<string, unknown>, ...names: string[]): string | null {
  for (const n of names) {
    const v = o[n];
    if (typeof v === 'string' && v.trim() !== '') return v;
  }
  return null;
}

function clip(s: string | null): string | null {
  if (s === null) return null;
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > TEXT_MAX ? `${t.slice(0, TEXT_MAX - 1)}…` : t || null;
}

/** The payload as a map, from stdin's text or the last argument; {} when there is none or it is not JSON. */
export function parsePayload(text: string | null): Record<string, unknown> {
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function interpret(word: HookWord, payload: Record<string, unknown>): HookSignal {
  const event = field(payload, 'hook_event_name', 'type') ?? word;
  const source = `hook: ${event}`;
  const toolInput = payload.tool_input;
  const command = typeof toolInput === 'object' && toolInput !== null ? field(toolInput as Record<string, unknown>, 'command', 'file_path', 'description') : null;
  const tool = field(payload, 'tool_name');
  const asked = tool ? `approve ${tool}${command ? `: ${command}` : ''}` : null;
  const text = clip(field(payload, 'message', 'last-assistant-message', 'last_assistant_message', 'prompt_response') ?? asked);
  if (word === 'notification') {
    // Claude Code's Notification: idle_prompt is its "waiting for your input" after a while.
    const type = field(payload, 'notification_type');
    return { word: type === 'idle_prompt' ? 'idle' : 'blocked', text, source };
  }
  return { word, text: word === 'working' ? null : text, source };
}
