import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

// An npm registry on loopback that serves exactly the packages of our lock file, from the
// npm cache that `npm ci` filled (so a test can `npm install` the packed tarball with the
// real npm, offline). Each package's metadata is made from its lock entry; its tarball is
// the cached original, or, when the cache lacks it, a fresh `npm pack` of the installed
// copy. Platform packages that are in neither (another OS's optional binaries) are listed
// with their os/cpu so npm skips them without asking for their tarball.

interface LockEntry {
  version: string;
  integrity?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  os?: string[];
  cpu?: string[];
  engines?: Record<string, string>;
  bin?: Record<string, string>;
  license?: string;
}

interface Served {
  name: string;
  entry: LockEntry;
  tarball: Buffer | null;
}

/** Every version of one package the lock holds (a nested copy may differ from the top one). */
type Versions = Map<string, Served>;

function npmCacheDir(): string {
  const r = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' });
  return r.stdout.trim() || path.join(os.homedir(), '.npm');
}

/** The cached tarball of an integrity string (cacache's content-v2 layout). */
function cachedTarball(cache: string, integrity: string | undefined): Buffer | null {
  if (!integrity) return null;
  const [alg, b64] = integrity.split('-');
  if (!alg || !b64) return null;
  const hex = Buffer.from(b64, 'base64').toString('hex');
  const file = path.join(cache, '_cacache', 'content-v2', alg, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
  try {
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}

function packInstalled(root: string, name: string): Buffer | null {
  const dir = path.join(root, 'node_modules', name);
  if (!fs.existsSync(dir)) return null;
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-pack-'));
  try {
    const r = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dest, dir], { encoding: 'utf8' });
    const file = r.stdout.trim().split('\n').pop();
    return r.status === 0 && file ? fs.readFileSync(path.join(dest, file)) : null;
  } finally {
    fs.rmSync(dest, { recursive: true, force: true });
  }
}

export class LocalRegistry {
  private server: http.Server | null = null;
  private readonly served = new Map<string, Versions>();
  url = '';

  /** The production packages of `root`'s package-lock.json. */
  constructor(root: string) {
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const cache = npmCacheDir();
    for (const [key, entry] of Object.entries(lock.packages)) {
      if (!key.includes('node_modules/') || entry.dev) continue;
      // node_modules/a, or a nested copy: node_modules/b/node_modules/a.
      const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
      const versions = this.served.get(name) ?? new Map<string, Served>();
      if (versions.has(entry.version)) continue;
      const tarball = cachedTarball(cache, entry.integrity) ?? (key === `node_modules/${name}` ? packInstalled(root, name) : null);
      versions.set(entry.version, { name, entry, tarball });
      this.served.set(name, versions);
    }
  }

  /** Packages whose tarball could be found (the others can only be skipped by npm). */
  get tarballs(): string[] {
    return [...this.served.values()].flatMap((v) => [...v.values()]).filter((s) => s.tarball).map((s) => `${s.name}@${s.entry.version}`);
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${addr.port}/`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]!).replace(/^\/+/, '');
    const tar = /^-\/tarballs\/(.+)\/(\d[^/]*)\.tgz$/.exec(url);
    if (tar) {
      const s = this.served.get(tar[1]!)?.get(tar[2]!);
      if (!s?.tarball) return this.notFound(res);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': s.tarball.length });
      res.end(s.tarball);
      return;
    }
    const versions = this.served.get(url);
    if (!versions) return this.notFound(res);
    const doc: Record<string, unknown> = {};
    let latest = '';
    for (const s of versions.values()) {
      doc[s.entry.version] = this.versionDoc(s);
      latest = s.entry.version;
    }
    const body = JSON.stringify({ name: url, 'dist-tags': { latest }, versions: doc });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  }

  private versionDoc(s: Served): Record<string, unknown> {
    const e = s.entry;
    return {
      name: s.name,
      version: e.version,
      dependencies: e.dependencies ?? {},
      optionalDependencies: e.optionalDependencies ?? {},
      ...(e.peerDependencies ? { peerDependencies: e.peerDependencies } : {}),
      ...(e.peerDependenciesMeta ? { peerDependenciesMeta: e.peerDependenciesMeta } : {}),
      ...(e.os ? { os: e.os } : {}),
      ...(e.cpu ? { cpu: e.cpu } : {}),
      ...(e.engines ? { engines: e.engines } : {}),
      ...(e.bin ? { bin: e.bin } : {}),
      dist: s.tarball
        ? {
            tarball: `${this.url}-/tarballs/${s.name}/${e.version}.tgz`,
            integrity: `sha512-${crypto.createHash('sha512').update(s.tarball).digest('base64')}`,
          }
        : { tarball: `${this.url}-/tarballs/${s.name}/${e.version}.tgz` },
    };
  }

  private notFound(res: http.ServerResponse): void {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not found"}');
  }
}
