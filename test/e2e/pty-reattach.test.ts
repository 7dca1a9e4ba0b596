import { afterEach, describe, expect, it } from 'vitest';
import { Sandbox } from '../helpers/sandbox';
import { COLS, ROWS, replayKit } from '../helpers/replay';
import { TmuxView } from '../helpers/tmux-view';

// Attaching again and again: each attach shows exactly the current screen (compared with
// the same program run directly in a tmux pane), and the snapshot joins the live stream
// without a line shown twice or skipped.

let sb: Sandbox;
afterEach(() => sb?.dispose());
const { expectSame, writeScript, spawn, startBoth, agentShows, detach } = replayKit(() => sb);

// Generous: on a loaded CI machine each CLI start alone can take seconds.
describe('attach, detach, attach again', { timeout: 120_000 }, () => {
  it('detached and attached again 20 times with output in between: each attach shows the current screen', async () => {
    sb = new Sandbox();
    const file = writeScript(
      'rounds.sh',
      String.raw`
n=0
printf '\e]2;rounds\a'
while IFS= read -r line; do
  n=$((n + 1))
  case $((n % 4)) in
    0) for i in 1 2 3 4 5 6 7; do printf '\e[3%sm%s colour %s\e[0m\n' $i "$line" $i; done ;;
    1) printf '%s: 中文 😀 wide\n' "$line" ;;
    2) printf '\e[?1049h\e[H\e[2Jalternate for %s\n' "$line" ;;
    3) printf '\e[?1049lback from the alternate screen at %s\n' "$line" ;;
  esac
  printf '[%s]> ' $n
done
`,
    );
    const direct = startBoth('d1', ['bash', file]);
    for (let round = 1; round <= 20; round++) {
      // Output while nobody is attached.
      direct.type(`round ${round}\r`);
      const sent = sb.run(['agent', 'send', 'd1', `round ${round}`, '--enter']);
      expect(sent, sent.stderr).toMatchObject({ code: 0 });
      const prompt = new RegExp(`\\[${round}\\]>`); // capture-pane trims trailing spaces
      await direct.waitText(prompt);
      await agentShows('d1', prompt);
      const viewer = TmuxView.attach(sb, `viewer${round}`, COLS, ROWS, 'd1');
      const s = await expectSame(direct, viewer, round % 4 === 2);
      expect(s.screen).toMatch(prompt);
      await detach(viewer, 'd1');
      viewer.kill();
    }
  }, 240_000);

  it('joins the snapshot to the live stream: numbered lines printed during the attach come without gap or repeat', async () => {
    sb = new Sandbox();
    // Many lines per second, in bursts, so an attach lands between and inside chunks.
    const file = writeScript('count.sh', 'i=0; while :; do for k in 1 2 3 4 5 6 7 8 9 10; do i=$((i + 1)); printf "n %07d\\n" $i; done; sleep 0.002; done\n');
    spawn('n1', ['bash', file]);
    await agentShows('n1', /n \d{7}/);
    for (let round = 0; round < 3; round++) {
      const viewer = TmuxView.attach(sb, `viewer${round}`, COLS, ROWS, 'n1');
      await viewer.waitText(/n \d{7}/);
      await new Promise((r) => setTimeout(r, 700));
      await detach(viewer, 'n1');
      const lines = viewer
        .capture({ scrollback: true, ansi: false })
        .split('\n')
        .filter((l) => /^n \d{7}$/.test(l))
        .map((l) => Number(l.slice(2)));
      expect(lines.length).toBeGreaterThan(200);
      const breaks = lines.flatMap((n, i) => (i > 0 && n !== lines[i - 1]! + 1 ? [`${lines[i - 1]} -> ${n}`] : []));
      expect(breaks).toEqual([]);
      viewer.kill();
    }
  });
});
