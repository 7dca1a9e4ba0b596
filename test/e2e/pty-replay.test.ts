import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox';
import { COLS, ROWS, replayKit } from '../helpers/replay';
import { TmuxView } from '../helpers/tmux-view';

// The attach replay checked the way a user sees it: the same program runs directly in one
// tmux pane and as an agent attached in another pane of the same size; what tmux holds
// for both panes (screen with colours, history, alternate screen, cursor, modes, title,
// scroll region) must be identical.

let sb: Sandbox;
afterEach(() => sb?.dispose());
const { expectSame, writeScript, startBoth, agentShows, detach } = replayKit(() => sb);

// Generous: on a loaded CI machine each CLI start alone can take seconds.
describe('attach replays the screen exactly', { timeout: 120_000 }, () => {
  it('colours (16, 256, truecolor), attributes, wide characters, cursor position', async () => {
    sb = new Sandbox();
    const body = String.raw`
printf 'plain \e[1mbold\e[22m \e[2mdim\e[22m \e[3mitalic\e[23m \e[4munder\e[24m \e[5mblink\e[25m \e[7minverse\e[27m \e[8mhidden\e[28m \e[9mstrike\e[29m \e[53moverline\e[55m\n'
for c in 30 31 32 33 34 35 36 37 90 91 92 93 94 95 96 97; do printf '\e[%sm%s\e[0m ' $c $c; done; printf '\n'
for c in 40 41 42 43 44 45 46 47 100 101 102 103 104 105 106 107; do printf '\e[%sm%s\e[0m ' $c $c; done; printf '\n'
for c in 17 52 88 124 160 196 202 226 231 232 244 255; do printf '\e[38;5;%sm%s\e[48;5;%sm#\e[0m ' $c $c $(( (c * 7) % 240 + 16 )); done; printf '\n'
printf '\e[38;2;255;100;0mtrue-fg\e[48;2;0;50;200mtrue-bg\e[0m \e[1;4;38;2;1;2;3;48;5;200mmix\e[0m\n'
printf 'CJK: 中文字符 한국어 日本語 | emoji: 😀 🚀 ✨ | end\n'
printf '\e[3;1Hover\e[2Kwritten line\n'
printf '\e[10;95H宽字宽字宽字x'
printf '\e[20;1Hwide then cursor: 中文😀'
printf '\e[20;40H\e[44m   \e[0m\e[K'
printf '\e[15;30H'`;
    const file = writeScript('colours.sh', `${body}\nexec sleep 1000\n`);
    const direct = startBoth('c1', ['bash', file]);
    await direct.waitText(/wide then cursor/);
    await agentShows('c1', /wide then cursor/);
    const viewer = TmuxView.attach(sb, 'viewer', COLS, ROWS, 'c1');
    const s = await expectSame(direct, viewer);
    expect(s.state.cursor_x).toBe('29');
    expect(s.state.cursor_y).toBe('14');
    expect(s.screen).toContain('\x1b[38;2;255;100;0m');
  });

  it('scroll region (DECSTBM), output scrolling inside it, title, hidden cursor, cursor after the region', async () => {
    sb = new Sandbox();
    const file = writeScript(
      'region.sh',
      String.raw`
printf '\e]2;region title\a'
printf '\e[1;1H\e[7m header \e[0m\e[30;1H\e[7m footer \e[0m'
printf '\e[3;20r\e[3;1H'
for i in $(seq 1 45); do printf 'inside %s\n' $i; done
printf 'prompt> '
while IFS= read -r line; do printf 'got %s\nprompt> ' "$line"; done
`,
    );
    const direct = startBoth('r1', ['bash', file]);
    await direct.waitText(/inside 45/);
    await agentShows('r1', /inside 45/);
    // History is left out: tmux keeps the lines scrolled out of a partial scroll region,
    // xterm (whose model the supervisor mirrors, like most terminals) drops them.
    let viewer = TmuxView.attach(sb, 'viewer', COLS, ROWS, 'r1');
    let s = await expectSame(direct, viewer, false, false);
    expect([s.state.scroll_region_upper, s.state.scroll_region_lower]).toEqual(['2', '19']);
    expect(s.state.pane_title).toBe('region title');

    // More output after the attach must scroll inside the region on the user's terminal too.
    for (let i = 0; i < 25; i++) {
      for (const v of [direct, viewer]) v.type(`line ${i}\r`);
    }
    await direct.waitText(/got line 24/);
    s = await expectSame(direct, viewer, false, false);
    expect(s.screen.split('\n')[0]).toContain(' header');
    expect(s.screen.split('\n')[29]).toContain(' footer');

    // Detached and attached again: still the same.
    await detach(viewer, 'r1');
    viewer.kill();
    viewer = TmuxView.attach(sb, 'viewer2', COLS, ROWS, 'r1');
    await expectSame(direct, viewer, false, false);
  });

  it('modes: mouse tracking with SGR, hidden cursor, application cursor keys and keypad, bracketed paste', async () => {
    sb = new Sandbox();
    // Prints every byte it reads in hex, in raw mode, after turning the modes on.
    const file = writeScript(
      'modes.sh',
      String.raw`
export LC_ALL=C
printf '\e]2;modes\a\e[?1000h\e[?1002h\e[?1006h\e[?25l\e[?1h\e=\e[?2004h'
printf 'reading bytes:\n'
stty raw -echo
while IFS= read -r -s -n1 -d '' c; do
  if [ -z "$c" ]; then printf '00 '; else printf '%02x ' "'$c"; fi
done
`,
    );
    const direct = startBoth('m1', ['bash', file]);
    await direct.waitText(/reading bytes/);
    await agentShows('m1', /reading bytes/);
    // Give both `stty raw` time to take effect before typing.
    await new Promise((r) => setTimeout(r, 300));
    let viewer = TmuxView.attach(sb, 'viewer', COLS, ROWS, 'm1');
    let s = await expectSame(direct, viewer);
    expect(s.state).toMatchObject({
      cursor_flag: '0',
      mouse_sgr_flag: '1',
      mouse_button_flag: '1',
      keypad_cursor_flag: '1',
      keypad_flag: '1',
      pane_title: 'modes',
    });

    // The keys the program gets are encoded by the user's terminal from the replayed modes.
    for (const v of [direct, viewer]) {
      v.keys('Up');
      v.paste('hi');
    }
    const expected = '1b 4f 41 1b 5b 32 30 30 7e 68 69 1b 5b 32 30 31 7e';
    await direct.waitText(new RegExp(expected));
    await viewer.waitText(new RegExp(expected));
    s = await expectSame(direct, viewer);

    await detach(viewer, 'm1');
    viewer.kill();
    viewer = TmuxView.attach(sb, 'viewer2', COLS, ROWS, 'm1');
    await expectSame(direct, viewer);
  });

  it('vim editing a file: alternate screen, syntax colours, cursor, then live editing', async () => {
    sb = new Sandbox();
    const src = path.join(sb.work, 'code.sh');
    fs.writeFileSync(
      src,
      Array.from({ length: 120 }, (_, i) => `echo "line ${i + 1}" # comment ${'x'.repeat(i % 90)}`).join('\n') + '\n',
    );
    // A shell around vim, so both panes have the same normal screen under the alternate one.
    // t_RB empty: vim does not ask for the background colour, which the supervisor answers
    // (dark) and a detached tmux pane does not (vim then picks other syntax colours).
    const file = writeScript('vim.sh', `printf 'before vim\\n'\nexec vim -u NONE -i NONE -N -n --cmd 'set t_RB=' -c 'syntax on' -c 'set number laststatus=2' -c 'normal 40Gw' ${src}\n`);
    const direct = startBoth('v1', ['bash', file]);
    await direct.waitText(/code\.sh/);
    await agentShows('v1', /code\.sh/);
    // Attaching at the same size leaves vim alone: its message line (the file's name and
    // size) is still there, as on the direct pane (a forced redraw used to clear it).
    let viewer = TmuxView.attach(sb, 'viewer', COLS, ROWS, 'v1');
    let s = await expectSame(direct, viewer, true);
    expect(s.state.alternate_on).toBe('1');
    expect(s.alternate).toContain('before vim');
    expect(s.screen.split('\n')[ROWS - 1]).toMatch(/code\.sh" 120L/);

    // Step by step, each step seen on both before the next: vim draws differently when
    // keys arrive as typeahead, and a final Ctrl-L redraw leaves no timing trace.
    for (const v of [direct, viewer]) v.type('ONEW TEXT 中文 here');
    for (const v of [direct, viewer]) await v.waitText(/NEW TEXT 中文 here/);
    for (const v of [direct, viewer]) v.keys('Escape');
    for (const v of [direct, viewer]) await v.waitText(/^(?![\s\S]*-- INSERT --)/);
    for (const v of [direct, viewer]) v.type(':vsplit\r');
    for (const v of [direct, viewer]) await v.waitText(/NEW TEXT[\s\S]*NEW TEXT/);
    for (const v of [direct, viewer]) v.keys('C-l');
    s = await expectSame(direct, viewer, true);
    expect(s.screen).toContain('NEW TEXT');

    await detach(viewer, 'v1');
    viewer.kill();
    viewer = TmuxView.attach(sb, 'viewer2', COLS, ROWS, 'v1');
    await expectSame(direct, viewer, true);
  });

  it('less on a long file, with a search highlighted', async () => {
    sb = new Sandbox();
    const long = path.join(sb.work, 'long.txt');
    fs.writeFileSync(long, Array.from({ length: 2000 }, (_, i) => `row ${i + 1}: ${'abc '.repeat(i % 20)}`).join('\n') + '\n');
    const argv = ['less', long];
    const direct = startBoth('l1', argv);
    await direct.waitText(/row 29:/);
    await agentShows('l1', /row 29:/);
    // Attached at once: less's first prompt, the file's name, is still there (a forced
    // redraw replaces it with ':').
    let viewer = TmuxView.attach(sb, 'first', COLS, ROWS, 'l1');
    let s = await expectSame(direct, viewer, true);
    expect(s.screen.split('\n')[ROWS - 1]).toContain('long.txt');
    await detach(viewer, 'l1');
    viewer.kill();
    direct.type('/row 17[0-9]:');
    direct.keys('Enter');
    // The agent gets the same keys before anyone attaches.
    expect(sb.run(['agent', 'send', 'l1', '/row 17[0-9]:', '--enter'])).toMatchObject({ code: 0 });
    await direct.waitText(/row 198:/);
    await agentShows('l1', /row 198:/);
    viewer = TmuxView.attach(sb, 'viewer', COLS, ROWS, 'l1');
    s = await expectSame(direct, viewer, true);
    expect(s.state.alternate_on).toBe('1');
    expect(s.screen).toMatch(/\x1b\[7m/); // the highlighted match

    for (const v of [direct, viewer]) v.keys('Space');
    await direct.waitText(/row 227:/);
    s = await expectSame(direct, viewer, true);

    await detach(viewer, 'l1');
    viewer.kill();
    viewer = TmuxView.attach(sb, 'viewer2', COLS, ROWS, 'l1');
    await expectSame(direct, viewer, true);
  });

  it('plain output with a history longer than the screen, long wrapped lines, then a prompt', async () => {
    sb = new Sandbox();
    const file = writeScript(
      'plain.sh',
      String.raw`
for i in $(seq 1 300); do
  if [ $((i % 37)) -eq 0 ]; then printf 'long %s %s\n' $i "$(printf 'w%.0s' $(seq 1 230))"; else printf 'output line %s\n' $i; fi
done
printf '\e[32mgreen\e[0m tail\n$ '
while IFS= read -r line; do printf 'you said: %s\n$ ' "$line"; done
`,
    );
    const direct = startBoth('p1', ['bash', file]);
    await direct.waitText(/green tail/);
    await agentShows('p1', /green tail/);
    let viewer = TmuxView.attach(sb, 'viewer', COLS, ROWS, 'p1');
    let s = await expectSame(direct, viewer);
    expect(s.history).toContain('output line 1\n');
    expect(s.joined).toContain(`long 37 ${'w'.repeat(230)}\n`);

    for (const v of [direct, viewer]) v.type('hello there\r');
    await direct.waitText(/you said: hello there/);
    s = await expectSame(direct, viewer);

    await detach(viewer, 'p1');
    viewer.kill();
    viewer = TmuxView.attach(sb, 'viewer2', COLS, ROWS, 'p1');
    s = await expectSame(direct, viewer);
    expect(s.history.match(/output line 1\n/g)?.length).toBe(1);
  });

  it('tab stops, a saved cursor (DECSC), origin mode in a region, and a pending wrap survive the replay', async () => {
    sb = new Sandbox();
    const file = writeScript(
      'odd.sh',
      String.raw`
stty -echo
printf 'odd states\n'
printf '\e[3g\e[1;11H\eH\e[1;31H\eH'
printf '\e[12;5Hsaved here\e[12;5H\e7'
printf '\e[5;25r\e[?6h\e[3;7Hin origin mode'
read -r l
printf '\e[1;1H(origin) %s' "$l"
read -r l
printf '\e[?6l\e[r\e8restored: %s|\e[26;1Ha\tb\tc\n' "$l"
printf '\e[30;1H'; printf 'x%.0s' $(seq 1 100)
read -r l
printf '%s' "$l"
exec sleep 1000
`,
    );
    const direct = startBoth('o1', ['bash', file]);
    await direct.waitText(/in origin mode/);
    await agentShows('o1', /in origin mode/);
    let viewer = TmuxView.attach(sb, 'viewer', COLS, ROWS, 'o1');
    let s = await expectSame(direct, viewer);
    expect(s.state.origin_flag).toBe('1');
    for (const [i, word] of ['one', 'two', 'three'].entries()) {
      for (const v of [direct, viewer]) v.type(`${word}\r`);
      await direct.waitText(new RegExp(word));
      s = await expectSame(direct, viewer);
      if (i === 1) {
        expect(s.screen).toMatch(/^ {4}restored: two\|/m);
        expect(s.screen).toMatch(/^a {9}b {19}c$/m);
      }
      // Attached again before each next step: the replayed state must carry on.
      await detach(viewer, 'o1');
      viewer.kill();
      viewer = TmuxView.attach(sb, `viewer-${word}`, COLS, ROWS, 'o1');
      await expectSame(direct, viewer);
    }
    expect(s.screen).toMatch(/^x{100}\nthree$/m);
  });
});
