import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIST_DIR } from '../dist-dir';

// What the server serves, as a fixed table read once at start (no path from a URL ever
// reaches the file system). The page is the package's web/ folder; xterm.js and its add-ons
// are their packages' own browser builds (ES modules), from the installed dependencies:
// nothing comes from a CDN, the page works offline.

export interface StaticFile {
  body: Buffer;
  type: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const HTML = 'text/html; charset=utf-8';

/** The package's web/ folder: beside dist/ (DIST_DIR is dist/ from the modules and from the bundle). */
export const PAGE_DIR = path.join(DIST_DIR, '..', 'web');

/** The page's own files: URL path → file in web/. */
const PAGE: Record<string, [string, string]> = {
  '/': ['index.html', HTML],
  '/app.css': ['app.css', CSS],
  '/app.js': ['app.js', JS],
  '/connection.js': ['connection.js', JS],
  '/agent-list.js': ['agent-list.js', JS],
  '/terminal-view.js': ['terminal-view.js', JS],
  '/compose.js': ['compose.js', JS],
  '/format.js': ['format.js', JS],
};

/** Browser builds of the terminal: URL path → [package, file in it]. */
const VENDOR: Record<string, [string, string, string]> = {
  '/vendor/xterm.mjs': ['@xterm/xterm', 'lib/xterm.mjs', JS],
  '/vendor/xterm.css': ['@xterm/xterm', 'css/xterm.css', CSS],
  '/vendor/addon-fit.mjs': ['@xterm/addon-fit', 'lib/addon-fit.mjs', JS],
  '/vendor/addon-unicode11.mjs': ['@xterm/addon-unicode11', 'lib/addon-unicode11.mjs', JS],
};

function packageDir(name: string): string {
  return path.dirname(require.resolve(`${name}/package.json`));
}

/** Reads every file; a missing one fails here, at start, with its path. */
export function loadStaticFiles(): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const [url, [file, type]] of Object.entries(PAGE)) files.set(url, { body: fs.readFileSync(path.join(PAGE_DIR, file)), type });
  for (const [url, [pkg, file, type]] of Object.entries(VENDOR)) {
    // The source map comment would have the browser ask for a file we do not serve.
    const text = fs.readFileSync(path.join(packageDir(pkg), file), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
    files.set(url, { body: Buffer.from(text, 'utf8'), type });
  }
  return files;
}
