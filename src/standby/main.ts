// The standby's process: `node SUPERVISOR_NODE_FLAGS dist/standby/main.js`, as
// native/spawn.c starts it (serve.ts says what it does).
import { launchStandby } from '../launch';

// As bin/symposium-mcp, before msgpackr loads.
process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED = 'true';
if (!launchStandby()) {
  process.stderr.write('standby: no CLI bundle (only tsc ran): no standby\n');
  process.exitCode = 1;
}
