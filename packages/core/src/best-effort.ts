/**
 * A call whose failure changes nothing for the caller: closing or deleting what goes away anyway, cleaning up
 * after the error that matters has been reported. Its rejection is dropped on purpose — a named helper rather than
 * a bare `.catch(() => {})`, so a reader sees the choice and a search finds every one. Give `onError` to note the
 * failure (a debug line) instead of dropping it silently.
 */
export async function bestEffort(
  work: PromiseLike<unknown> | undefined,
  onError?: (err: unknown) => void,
): Promise<void> {
  try {
    await work;
  } catch (err) {
    onError?.(err);
  }
}
