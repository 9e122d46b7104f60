/** snappyjs ships no types: the two functions we use (a Buffer in gives a Buffer out). */
declare module 'snappyjs' {
  export function compress(input: Buffer): Buffer;
  export function uncompress(input: Buffer, maxLength?: number): Buffer;
  const snappy: { compress: typeof compress; uncompress: typeof uncompress };
  export default snappy;
}
