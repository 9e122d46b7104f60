/** The seed for a fuzz run: FUZZ_SEED from the environment to replay one, otherwise a fresh one. */
export const fuzzSeed = (): number => {
  const fromEnv = Number(process.env['FUZZ_SEED']);
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.floor(Math.random() * 2 ** 31) + 1;
};
