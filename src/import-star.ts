// The bundles' (scripts/bundle.js) stand-in for TypeScript's `import * as x` helper at each
// call: TypeScript's __importStar copies a CommonJS module into a new namespace object, one
// getter closure per property, in every module that imports it; the supervisor's 24
// `import * as fs` made 24 copies of node:fs's 104 properties (measured: 723 KB of heap for
// its fs and path namespaces, in every supervisor). Here each module gets one namespace,
// made by the same helper the first time and shared after, as ES modules share theirs.

const namespaces = new WeakMap<object, unknown>();

/** The namespace of `mod`, made by `make` (TypeScript's __importStar) on its first import. */
export function importStarOnce<T>(mod: T, make: (m: T) => T): T {
  if (mod === null || (typeof mod !== 'object' && typeof mod !== 'function')) return make(mod);
  const key = mod as object;
  if (namespaces.has(key)) return namespaces.get(key) as T;
  const ns = make(mod);
  namespaces.set(key, ns);
  return ns;
}
