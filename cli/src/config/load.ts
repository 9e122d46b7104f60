/**
 * One place where a command turns (environment, flags) into its configuration: the mode, then the embedded
 * configuration or the distributed sections it needs. Every problem is listed at once (ConfigProblems, exit 2).
 */
import { ConfigProblems, loadEmbeddedConfig, redactEmbedded, type EmbeddedConfig } from '../embedded-config.js';
import {
  loadDistributedConfig,
  redactDistributed,
  type DistributedConfig,
  type Section,
} from './distributed-config.js';
import { resolveMode } from './mode.js';

export interface CommonFlags {
  mode?: string;
  dataDir?: string;
}

export type CommandConfig =
  { mode: 'embedded'; embedded: EmbeddedConfig } | { mode: 'distributed'; distributed: DistributedConfig };

export function loadCommandConfig(
  env: NodeJS.ProcessEnv,
  flags: CommonFlags,
  sections: readonly Section[],
): CommandConfig {
  const resolved = resolveMode(env, flags.mode);
  if ('problem' in resolved) throw new ConfigProblems([resolved.problem]);
  if (resolved.mode === 'distributed') {
    return { mode: 'distributed', distributed: loadDistributedConfig(env, sections) };
  }
  return {
    mode: 'embedded',
    embedded: loadEmbeddedConfig(env, flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
  };
}

export const redactCommandConfig = (c: CommandConfig): Record<string, unknown> =>
  c.mode === 'embedded'
    ? { mode: c.mode, ...redactEmbedded(c.embedded) }
    : { mode: c.mode, ...redactDistributed(c.distributed) };

/** The section a distributed command needs, which loadDistributedConfig guarantees when it was asked for. */
export function need<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`internal: the ${name} configuration was not loaded`);
  return value;
}
