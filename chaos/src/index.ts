/** What fault tests share with the chaos run: the acked-op checker and the recorder of what clients saw. */
export { AckRecorder, type TimedAck } from './ack-recorder.js';
export { checkAckedOps, type AckedOp, type CheckResult, type ClientFinal, type Violation } from './acked-ops.js';
export { applyOp, replayText } from './text-replay.js';
