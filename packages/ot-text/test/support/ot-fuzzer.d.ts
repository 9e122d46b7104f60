declare module 'ot-fuzzer' {
  type GenOp = (snapshot: any) => [unknown[], any];
  interface Fuzzer {
    (type: unknown, genOp: GenOp, iterations?: number): void;
    randomReal(): number;
    randomInt(n: number): number;
    randomWord(): string;
  }
  const fuzzer: Fuzzer;
  export default fuzzer;
}
