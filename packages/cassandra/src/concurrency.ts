/**
 * Runs `task` over `items` with at most `limit` in flight; rejects with the first error once the tasks already
 * started have settled (so no write is still running when the caller retries the batch).
 *
 * Why not the driver's `concurrent.executeConcurrent`: it takes neither per-statement `isIdempotent` nor a
 * consistency level (only through execution profiles), and this store must work with a client it did not
 * configure.
 */
export async function forEachConcurrent<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
