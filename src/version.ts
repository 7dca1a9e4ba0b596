// The package's version, from package.json and nowhere else. Read once when this module
// loads (the CLI's bundle inlines it at build time; a supervisor reads it at its start,
// never later: an upgrade may replace the file under a running supervisor).

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const VERSION: string = (require('../package.json') as { version: string }).version;
