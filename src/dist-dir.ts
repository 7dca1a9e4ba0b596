// Where the compiled files are: this module sits at the root of src/, so its __dirname is
// dist/ both when it runs as dist/dist-dir.js and when it is part of the CLI's one-file
// bundle (dist/cli.bundle.js, where every module's __dirname is the bundle's). Paths to
// what is started from disk (the supervisor, the native relay) are built from here.
export const DIST_DIR = __dirname;

/** The native key relay and flood pump (native/relay.c), compiled at install; absent without a C compiler. */
export const RELAY_BINARY = `${DIST_DIR}/symposium-relay`;
