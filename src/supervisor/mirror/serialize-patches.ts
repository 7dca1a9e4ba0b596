// The fixes we apply to @xterm/addon-serialize's source (the pinned 0.14.0), as exact-text
// patches: at build time into the supervisor's bundle (scripts/bundle.js), or when the
// supervisor runs from its modules, at its start (serialize-addon.ts). Pure data and one
// function, so the build script can use them too. The patched code calls our helpers as
// `__sx` (serialize-helpers.ts), handed to it by whoever compiles it.
//
// Each defect was found by round trip (write into a terminal, serialize, replay into a
// second one, compare every cell): test/unit/serialize-roundtrip.test.ts has one case each.
// On 400 random agent-like inputs (colours, links, charsets, wraps, the alternate screen,
// erasures) the addon as shipped differed on every one, the patched one on none.

export interface Patch {
  /** Why: the defect it fixes. */
  name: string;
  from: string;
  to: string;
  /** How often `from` occurs (default 1). */
  count?: number;
}

/** Link method added to the serializer: opens or closes a link before a printed cell. */
const LINK_METHOD = String.raw`_linkFor(c){const id=__sx.linkId(c);if(id===(this._linkId||0))return"";this._linkId=id;const o=id?__sx.linkOpen(this._terminal,id):"";return o||(this._linkId=0,"\x1b]8;;\x1b\\")}`;

export const PATCHES: readonly Patch[] = [
  {
    // V8 keeps a string built by appending cell after cell as a tree of one node per
    // append until it is read: for 10 000 rows of 120 columns, ~28 MB of nodes that live
    // through the whole serialization (heap +28 MB and 186 ms before, +3 MB and 97 ms
    // after). Each row is read once as it ends, which flattens it. A link still open at the
    // row end is closed there (reopened on the next row: `id=` keeps them one link).
    name: 'row end: flatten the row; close an open link',
    from: 'this._allRows[this._rowIndex]=this._currentRow,',
    to: String.raw`(this._linkId&&(this._currentRow+="\x1b]8;;\x1b\\",this._linkId=0)),this._currentRow.charCodeAt(0),this._allRows[this._rowIndex]=this._currentRow,`,
  },
  {
    // SGR 22 clears bold and dim both: dim then bold alone came back as `1;22` (bold lost:
    // Codex's "Press **enter**"), bold+dim then bold as `22`.
    name: 'bold and dim share SGR 22',
    from: 't.isBold()!==e.isBold()&&s.push(t.isBold()?1:22)',
    to: '(t.isBold()!==e.isBold()||t.isDim()!==e.isDim())&&(!t.isBold()&&e.isBold()||!t.isDim()&&e.isDim()?(s.push(22),t.isBold()&&s.push(1),t.isDim()&&s.push(2)):(t.isBold()!==e.isBold()&&s.push(1),t.isDim()!==e.isDim()&&s.push(2)))',
  },
  { name: 'bold and dim share SGR 22 (the dim clause is now in the bold one)', from: ',t.isDim()!==e.isDim()&&s.push(t.isDim()?2:22)', to: '' },
  {
    // `38;5;9` was written as `91`: xterm stores them apart, and bold brightens only the second.
    name: '256-colour indexes below 16 stay 256-colour (foreground)',
    from: 't.isFgPalette()?e>=16?s.push(38,5,e)',
    to: 't.isFgPalette()?e>=16||t.getFgColorMode()===33554432?s.push(38,5,e)',
  },
  {
    name: '256-colour indexes below 16 stay 256-colour (background)',
    from: 't.isBgPalette()?e>=16?s.push(48,5,e)',
    to: 't.isBgPalette()?e>=16||t.getBgColorMode()===33554432?s.push(48,5,e)',
  },
  {
    // The addon compared and wrote isUnderline(), which xterm makes true for every cell of
    // an OSC 8 link: link cells came back really underlined, and curly or coloured
    // underlines came back plain.
    name: 'underline style and colour compared, not the link underline',
    from: 't.isUnderline()===e.isUnderline()',
    to: '__sx.ul(t)===__sx.ul(e)&&__sx.ulc(t)===__sx.ulc(e)',
  },
  {
    name: 'underline style and colour written',
    from: 't.isUnderline()!==e.isUnderline()&&s.push(t.isUnderline()?4:24)',
    to: '__sx.ul(t)!==__sx.ul(e)&&s.push(__sx.ul(t)?__sx.ul(t)===1?4:"4:"+__sx.ul(t):24),__sx.ulc(t)!==__sx.ulc(e)&&s.push(...__sx.ulcSgr(__sx.ulc(t)))',
  },
  {
    // xterm.js stores SGR 59 as "RGB white" (-1): back to the default underline colour is
    // written as a full reset instead.
    name: 'underline colour back to the default: a full SGR',
    from: '_diffStyle(t,e){const s=[],r=!n(t,e),i=!l(t,e),o=!a(t,e);if(r||i||o)if(t.isAttributeDefault())',
    to: '_diffStyle(t,e){const s=this._diffStyle0(t,e);return __sx.ulc(e)&&!__sx.ulc(t)&&s.length&&!t.isAttributeDefault()?__sx.sgrAll(t):s}_diffStyle0(t,e){const s=[],r=!n(t,e),i=!l(t,e),o=!a(t,e);if(r||i||o)if(t.isAttributeDefault())',
  },
  {
    name: 'OSC 8 links (the method)',
    from: '_nextCell(t,e,s,r){if(0===t.getWidth())return;const i=""===t.getChars(),o=this._diffStyle(t,this._cursorStyle);',
    to: `${LINK_METHOD}_nextCell(t,e,s,r){if(0===t.getWidth())return;const i=""===t.getChars(),o=this._diffStyle(t,this._cursorStyle);`,
  },
  {
    // The normal screen's section ends with the current pen and the alternate one assumed
    // the default: the pen leaked into alternate-screen cells, and ?1049h (which saves the
    // pen and clears with its background) ran with the wrong one. Now: the pen saved when
    // the agent entered, ?1049h, then a clear from the default pen.
    name: 'alternate screen entered with the saved pen, written from the default one',
    from: 'e+=`\x1b[?1049h\x1b[H${this._serializeBufferByScrollback(this._terminal,this._terminal.buffer.alternate,void 0)}`',
    to: 'e+=`${__sx.altEntry(this._terminal)}\x1b[?1049h\x1b]8;;\x1b\\\\\x1b[H\x1b[0m\x1b[2J${this._serializeBufferByScrollback(this._terminal,this._terminal.buffer.alternate,void 0)}`',
  },
  {
    // "CSI 0 C" moves one column (0 means 1): one '-' used to force a wrap stayed on screen.
    name: 'a forced wrap after an all-empty row left a "-"',
    from: 's+=`\x1b[${e.length-this._nullCellCount}C`,s+=`\x1b[${this._nullCellCount}X`,s+=`\x1b[${e.length-this._nullCellCount}D`',
    to: 'e.length-this._nullCellCount>0&&(s+=`\x1b[${e.length-this._nullCellCount}C`),s+=`\x1b[${this._nullCellCount}X`,e.length-this._nullCellCount>0&&(s+=`\x1b[${e.length-this._nullCellCount}D`)',
  },
  {
    // Rows of coloured empty cells after the last text (a TUI's background) were cut off
    // without scrollback (always on the alternate screen): their padding now counts as content.
    name: 'coloured empty rows at the bottom count as content',
    from: 'this._nullCellCount>0&&!l(this._cursorStyle,this._backgroundCell)&&(this._currentRow+=`\x1b[${this._nullCellCount}X`)',
    to: 'this._nullCellCount>0&&!l(this._cursorStyle,this._backgroundCell)&&(this._currentRow+=`\x1b[${this._nullCellCount}X`,this._lastContentCursorRow=this._lastCursorRow,this._lastContentCursorCol=this._lastCursorCol)',
  },
  {
    // A line break under a coloured background scrolls the viewer's screen at the bottom
    // and fills the new row with that colour (BCE); the addon's guess at it was a row off.
    // Now the background is reset before every line break, and there is no guess.
    name: 'no background colour across line breaks',
    from: 'else s="\\r\\n",this._lastCursorRow=t+1,this._lastCursorCol=0}',
    to: 'else s=(l(this._cursorStyle,this._backgroundCell)?"":(this._cursorStyle.bg&=~67108863,"\x1b[49m"))+"\\r\\n",this._lastCursorRow=t+1,this._lastCursorCol=0}',
  },
  { name: 'no background colour across line breaks (no guess)', from: 't-this._firstRow>=this._terminal.rows&&this._buffer.getLine(this._cursorStyleRow)?.getCell(this._cursorStyleCol,this._backgroundCell);', to: '' },
  {
    // Text wrapping at the bottom row scrolls the viewer, which fills the new row with the
    // pen's background: the empty cells of such a row are erased explicitly.
    name: 'rows entered by a wrap under a coloured pen: empty cells erased',
    from: 'if(r.isWrapped){s="";',
    to: 'if(r.isWrapped){s="",this._bce=!l(this._cursorStyle,this._backgroundCell);',
  },
  { name: 'rows entered by a wrap (a line break ends it)', from: '"\\r\\n",this._lastCursorRow=t+1,this._lastCursorCol=0}', to: '"\\r\\n",this._bce=!1,this._lastCursorRow=t+1,this._lastCursorCol=0}' },
  {
    name: 'rows entered by a wrap (empty cells inside the row)',
    count: 2,
    from: 'l(this._cursorStyle,this._backgroundCell)||(this._currentRow+=`\x1b[${this._nullCellCount}X`)',
    to: '!this._bce&&l(this._cursorStyle,this._backgroundCell)||(this._currentRow+=`\x1b[${this._nullCellCount}X`)',
  },
  {
    name: 'rows entered by a wrap (empty cells at the row end)',
    from: 'this._nullCellCount>0&&!l(this._cursorStyle,this._backgroundCell)&&',
    to: 'this._nullCellCount>0&&(this._bce||!l(this._cursorStyle,this._backgroundCell))&&',
  },
  {
    // OSC 8 links were dropped: each printed cell opens or closes its link.
    name: 'OSC 8 links (before each printed cell)',
    from: 'this._currentRow+=t.getChars(),this._lastContentCursorRow=',
    to: 'this._currentRow+=this._linkFor(t)+t.getChars(),this._lastContentCursorRow=',
  },
];

/** Applies every patch to `source`; the names of those that do not fit. */
export function applyPatches(source: string): { source: string; missing: string[] } {
  const missing: string[] = [];
  let out = source;
  for (const p of PATCHES) {
    const count = out.split(p.from).length - 1;
    if (count !== (p.count ?? 1)) {
      missing.push(p.name);
      continue;
    }
    out = out.split(p.from).join(p.to);
  }
  return { source: out, missing };
}
