// The pause between the parts of one send (the text, then each key), for both backends:
// agents that read a paste as one event must see it end before the key that submits it.
// With the text and Enter in one tmux command, Gemini CLI's key field lost the Enter 2 of
// 2 times and Claude Code's prompt 1 of 8; as separate writes 50 ms apart, none.
export const KEY_GAP_MS = 50;
