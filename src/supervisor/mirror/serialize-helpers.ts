import type { Terminal } from '@xterm/headless';
import { linkOpen, sgrParams, underlineColorParams } from './pen';
import { type Attrs, hasExtended, linkId, normalSavedPen, underlineColor, underlineStyle } from './xterm-internals';

// What the serializer's patched code calls (as `__sx`, serialize-patches.ts): our readers
// of xterm's cells and our SGR writer (pen.ts).
export const SERIALIZE_HELPERS = {
  ul: underlineStyle,
  ulc: underlineColor,
  ulcSgr: underlineColorParams,
  sgrAll: sgrParams,
  linkId,
  linkOpen: (terminal: Terminal, id: number): string => linkOpen(terminal, id),
  /**
   * Before `?1049h`: the pen the agent had when it entered the alternate screen, which
   * ?1049h saves (DECSC). xterm keeps the "has extended attributes" bit of a link open at
   * that moment without the link: a throw-away link reproduces the bit.
   */
  altEntry(terminal: Terminal): string {
    const saved: Attrs | null = normalSavedPen(terminal);
    if (!saved) return '';
    return `\x1b[${sgrParams(saved).join(';')}m${hasExtended(saved) ? '\x1b]8;;about:blank\x1b\\' : ''}`;
  },
};
