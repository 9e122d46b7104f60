/**
 * A user process that hangs (for the deadline tests of user-process.ts): it never reports its users connected
 * (STUCK_AT=connect), or connects and then never sends its result (STUCK_AT=result). It writes its pid to
 * STUCK_PIDS_DIR, so the test can tell it was killed, and stays alive until it is.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

writeFileSync(join(process.env.STUCK_PIDS_DIR!, String(process.pid)), '');
if (process.env.STUCK_AT === 'result') process.send!({ type: 'connected', presence: false });
setInterval(() => {}, 1_000);
