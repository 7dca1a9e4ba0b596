import { describe, expect, it } from 'vitest';
import { knownAgent, titleWord } from '../../src/agents/known-agents';

// The table of known agents: recognised by their program, their titles read, their hooks
// wired for one run (the user's files untouched: only argv), their last conversation resumed.

const HOOK = ['/usr/bin/symposium-mcp', 'hook', '--session', 'a1'];

describe('known agents', () => {
  it('recognises agents by the program that runs them, whatever its path', () => {
    expect(knownAgent(['claude'])?.name).toBe('claude');
    expect(knownAgent(['/home/u/.local/bin/codex', '--full-auto'])?.name).toBe('codex');
    expect(knownAgent(['kiro-cli', 'chat'])?.name).toBe('q');
    expect(knownAgent(['bash'])).toBeNull();
  });

  it('reads their window titles', () => {
    expect(titleWord(knownAgent(['claude']), '✳ Fix the build')).toBe('idle');
    expect(titleWord(knownAgent(['claude']), '◐ Fix the build')).toBe('working');
    expect(titleWord(knownAgent(['gemini']), '◇  Ready (project)')).toBe('idle');
    expect(titleWord(knownAgent(['gemini']), '✋  Action Required (project)')).toBe('blocked');
    expect(titleWord(knownAgent(['codex']), '[ ! ] Action Required | ~/p')).toBe('blocked');
    expect(titleWord(knownAgent(['bash']), '✳ anything')).toBeNull();
  });

  it("wires Claude Code's hooks with --settings for this run only", () => {
    const w = knownAgent(['claude'])!.wireHooks!(['claude', '--model', 'opus'], HOOK);
    expect(w.command[0]).toBe('claude');
    expect(w.command[1]).toBe('--settings');
    expect(w.command.slice(3)).toEqual(['--model', 'opus']);
    const settings = JSON.parse(w.command[2]!) as { hooks: Record<string, Array<{ hooks: Array<{ command: string }> }>> };
    expect(settings.hooks.Stop![0]!.hooks[0]!.command).toBe('/usr/bin/symposium-mcp hook --session a1 idle');
    expect(Object.keys(settings.hooks).sort()).toEqual(['Notification', 'PermissionRequest', 'PostToolUse', 'PreToolUse', 'Stop', 'StopFailure', 'UserPromptSubmit']);
  });

  it("wires Codex's notify as argv, in-session (--no-daemon)", () => {
    const w = knownAgent(['codex'])!.wireHooks!(['codex', '-m', 'gpt-5'], HOOK);
    expect(w.command).toEqual(['codex', '--no-daemon', '-c', `notify=${JSON.stringify([...HOOK, 'idle'])}`, '-m', 'gpt-5']);
  });

  it('resumes the last conversation in the same directory', () => {
    expect(knownAgent(['claude'])!.resume(['claude', '--model', 'opus', '--session-id', 'x'])).toEqual(['claude', '--model', 'opus', '--continue']);
    expect(knownAgent(['claude'])!.resume(['claude', '--continue'])).toEqual(['claude', '--continue']);
    expect(knownAgent(['codex'])!.resume(['codex', '-m', 'gpt-5', '--full-auto', 'fix the tests'])).toEqual(['codex', 'resume', '--last', '-m', 'gpt-5', '--full-auto']);
    expect(knownAgent(['gemini'])!.resume(['gemini', '--resume', 'abc'])).toEqual(['gemini', '--resume', 'latest']);
    expect(knownAgent(['q'])!.resume(['q', 'chat'])).toEqual(['q', 'chat', '--resume']);
    expect(knownAgent(['q'])!.resume(['q'])).toEqual(['q', 'chat', '--resume']);
    expect(knownAgent(['aider'])!.resume(['aider', '--model', 'x'])).toEqual(['aider', '--model', 'x', '--restore-chat-history']);
  });
});
