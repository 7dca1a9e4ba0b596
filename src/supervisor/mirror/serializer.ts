import type { SerializeAddon } from '@xterm/addon-serialize';
import type { Terminal } from '@xterm/headless';
import { log } from '../lifecycle/log';
import { loadSerializeAddon } from './serialize-addon';

/**
 * The mirror's serializer (the patched addon, serialize-addon.ts), loaded into its terminal
 * on first use: a snapshot, coloured history serialized in advance, or the first quiet
 * moment with 1 000 lines of history or more (snapshots.ts, warm). An agent with less
 * history that nobody attaches to never pays it (~0.8 MB measured before the bundle's
 * source was shared between supervisors).
 */
export class LazySerializer {
  private addon: SerializeAddon | null = null;

  constructor(private readonly term: Terminal) {}

  get(): SerializeAddon {
    if (!this.addon) {
      const { SerializeAddon: Addon, missing } = loadSerializeAddon();
      if (missing.length > 0) {
        log(`@xterm/addon-serialize is not the version serialize-addon.ts patches (not found: ${missing.join('; ')}): loaded unpatched, replays lose what the patches fix`);
      }
      this.addon = new Addon();
      this.term.loadAddon(this.addon);
    }
    return this.addon;
  }
}
