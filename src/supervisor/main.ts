// The supervisor's entry point. msgpackr's optional native decoder costs ~6 MB of
// resident memory per process for speed we do not need (frames are small), and the
// supervisor's memory counts once per agent: turn it off before anything loads msgpackr.
process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED = 'true';

// eslint-disable-next-line @typescript-eslint/no-require-imports
(require('./run') as typeof import('./run')).run();
