/**
 * Ids (users, clients) are compared, stored as UTF-8 (Avro, SQLite, Cassandra) and printed. A string with an
 * unpaired surrogate is not valid Unicode: storing it turns the surrogate into U+FFFD, so what comes back is a
 * different id (another dedupe key, another user). Such ids are refused where they arrive.
 */
export const hasLoneSurrogate = (s: string): boolean => /\p{Surrogate}/u.test(s);

export const UNPAIRED_SURROGATE = 'must not contain unpaired surrogates';
