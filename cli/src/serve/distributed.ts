/**
 * The distributed command-service (`collab serve --mode distributed`): the same process definition as its own
 * main.ts.
 */
export { commandServiceProcess, ConfigError, describeCommandServiceConfig } from '@collab/command-service';
