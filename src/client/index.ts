// The package's Node API: `require('symposium-mcp')`. See the README's "Library" section.

export { SymposiumClient } from './client';
export type { ClientOptions } from './context';
export type { ListOptions } from './verbs/list';
export * from './types';
export { UserError as SymposiumError } from '../errors';
export { VERSION } from '../version';
