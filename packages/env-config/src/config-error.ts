/**
 * A configuration that cannot be used, with every problem found (not just the first): what each service's and the
 * CLI's `loadConfig` throws, and what their entry points turn into exit code 2 and one message listing them all.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
