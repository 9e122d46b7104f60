/**
 * What `collab replay` will do, decided from the mode and the flags before anything is opened; every misuse is
 * listed at once (exit 2). Pure, unit-tested.
 */
import type { Mode } from '../config/mode.js';

export interface ReplayFlags {
  from?: string;
  keyspace?: string;
  compareWith?: string;
  out?: string;
  inPlace?: boolean;
  shadow?: boolean;
  failOnDiff?: boolean;
}

/** A shadow replay: a report of every difference, exit 3 on one only if asked (--fail-on-diff). */
export interface ShadowPlan {
  failOnDiff: boolean;
}

export type ReplayPlan =
  | {
      mode: 'embedded';
      target: { kind: 'file'; path: string } | { kind: 'in-place' };
      compareWith?: string;
      shadow?: ShadowPlan;
    }
  | { mode: 'distributed'; keyspace: string; compareWith?: string; shadow?: ShadowPlan };

export function planReplay(
  mode: Mode,
  flags: ReplayFlags,
  defaults: { outFile: string; liveKeyspace: string },
): { plan: ReplayPlan } | { problems: string[] } {
  const problems: string[] = [];
  if (flags.failOnDiff === true && flags.shadow !== true) {
    problems.push('--fail-on-diff: only with --shadow (a replay without it exits 3 on any difference)');
  }
  const shadow = flags.shadow === true ? { shadow: { failOnDiff: flags.failOnDiff === true } } : {};
  if (mode === 'embedded') {
    if (flags.shadow === true && flags.inPlace === true) {
      problems.push('--shadow with --in-place: a shadow is built beside the live read models, into a new --out');
    }
    if (flags.keyspace !== undefined) problems.push('--keyspace: only in the distributed mode (embedded: --out FILE)');
    if (flags.inPlace === true && flags.out !== undefined) problems.push('--in-place and --out: give one');
    if (flags.inPlace === true && flags.from !== undefined) {
      problems.push('--in-place with --from: clearing the read models then replaying part of the log would lose ops');
    }
    if (problems.length > 0) return { problems };
    const target =
      flags.inPlace === true
        ? { kind: 'in-place' as const }
        : { kind: 'file' as const, path: flags.out ?? defaults.outFile };
    return {
      plan: { mode, target, ...(flags.compareWith === undefined ? {} : { compareWith: flags.compareWith }), ...shadow },
    };
  }
  if (flags.inPlace === true) problems.push('--in-place: only in the embedded mode (distributed: a fresh --keyspace)');
  if (flags.out !== undefined) problems.push('--out: only in the embedded mode (distributed: --keyspace NAME)');
  if (flags.keyspace === undefined) problems.push('--keyspace: required in the distributed mode (a NEW keyspace)');
  else if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(flags.keyspace)) {
    problems.push('--keyspace: use [A-Za-z0-9_], starting with a letter');
  }
  const compareWith = flags.compareWith ?? defaults.liveKeyspace;
  if (flags.keyspace !== undefined && compareWith === flags.keyspace) {
    problems.push('--compare-with: must differ from --keyspace');
  }
  if (problems.length > 0 || flags.keyspace === undefined) return { problems };
  return { plan: { mode, keyspace: flags.keyspace, compareWith, ...shadow } };
}
