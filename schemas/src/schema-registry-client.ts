/**
 * A client of the Confluent Schema Registry REST API (what Confluent's registry, Karapace and Apicurio's
 * `/apis/ccompat/v6|v7` serve): only the calls collab needs. `url` is the API root, e.g.
 * `http://registry:8081` or `http://registry:8080/apis/ccompat/v6`. Every call is bounded by `timeoutMs`.
 *
 * Errors: ERR_UNAVAILABLE (names the URL) when the registry cannot be reached or answers 5xx; ERR_NOT_FOUND for
 * an unknown id or subject; ERR_CONFLICT when the registry refuses a schema as incompatible.
 */
import { CollabError } from '@collab/core';

/** The compatibility levels of the Confluent API. */
export type CompatibilityLevel =
  'NONE' | 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE';

export interface SchemaRegistryClientOptions {
  url: string;
  /** Bound of one request; default 5 s. */
  timeoutMs?: number;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export class SchemaRegistryClient {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(options: SchemaRegistryClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  /** Registers `schema` (Avro JSON text) under `subject`; returns the registry's id (the same for the same schema). */
  async register(subject: string, schema: string): Promise<number> {
    const body = await this.call<{ id: number }>('POST', `/subjects/${enc(subject)}/versions`, { schema });
    return positiveId(body.id, `register under ${subject}`);
  }

  /**
   * The id of `schema` if it is registered under `subject`, without registering it; undefined when it is not (or
   * the subject does not exist).
   */
  async lookup(subject: string, schema: string): Promise<number | undefined> {
    try {
      const body = await this.call<{ id: number }>('POST', `/subjects/${enc(subject)}`, { schema });
      return positiveId(body.id, `look up under ${subject}`);
    } catch (err) {
      if (err instanceof CollabError && err.code === 'ERR_NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** Sets the subject's compatibility level (the subject must already have a version on some registries). */
  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    await this.call('PUT', `/config/${enc(subject)}`, { compatibility: level });
  }

  async compatibility(subject: string): Promise<string> {
    const body = await this.call<{ compatibilityLevel?: string; compatibility?: string }>(
      'GET',
      `/config/${enc(subject)}`,
    );
    return body.compatibilityLevel ?? body.compatibility ?? '';
  }

  /** The registry's own compatibility check of `schema` against the subject's versions (per its level). */
  async isCompatible(subject: string, schema: string): Promise<boolean> {
    const body = await this.call<{ is_compatible: boolean }>(
      'POST',
      `/compatibility/subjects/${enc(subject)}/versions/latest`,
      { schema },
    );
    return body.is_compatible === true;
  }

  /** The registry's compatibility check of `schema` against one version of the subject. */
  async isCompatibleWith(subject: string, version: number, schema: string): Promise<boolean> {
    const body = await this.call<{ is_compatible: boolean }>(
      'POST',
      `/compatibility/subjects/${enc(subject)}/versions/${version}`,
      { schema },
    );
    return body.is_compatible === true;
  }

  /** The schema text of a global id. */
  async schemaById(id: number): Promise<string> {
    const body = await this.call<{ schema: string; schemaType?: string }>('GET', `/schemas/ids/${id}`);
    if (body.schemaType !== undefined && body.schemaType !== 'AVRO') {
      throw new CollabError('ERR_CORRUPT', `schema id ${id} in ${this.url} is ${body.schemaType}, not AVRO`);
    }
    return body.schema;
  }

  /** The versions of a subject, oldest first. */
  async versions(subject: string): Promise<number[]> {
    return this.call<number[]>('GET', `/subjects/${enc(subject)}/versions`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const target = `${this.url}${path}`;
    let response: Response;
    try {
      response = await fetch(target, {
        method,
        headers: { Accept: CONTENT_TYPE, ...(body === undefined ? {} : { 'Content-Type': CONTENT_TYPE }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new CollabError(
        'ERR_UNAVAILABLE',
        `schema registry ${this.url} unreachable (${method} ${path}): ${causeOf(err)}`,
        { cause: err },
      );
    }
    const text = await response.text();
    if (response.ok) return JSON.parse(text) as T;
    const detail = `${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`;
    if (response.status === 404) throw new CollabError('ERR_NOT_FOUND', `schema registry ${this.url}: ${detail}`);
    if (response.status === 409) throw new CollabError('ERR_CONFLICT', `schema registry ${this.url}: ${detail}`);
    if (response.status >= 500) throw new CollabError('ERR_UNAVAILABLE', `schema registry ${this.url}: ${detail}`);
    throw new CollabError('ERR_INVALID_ARGUMENT', `schema registry ${this.url}: ${detail}`);
  }
}

const enc = (subject: string): string => encodeURIComponent(subject);

function positiveId(id: unknown, what: string): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new CollabError('ERR_CORRUPT', `schema registry: ${what} returned id ${String(id)}, not a 32-bit id`);
  }
  return id;
}

function causeOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}
