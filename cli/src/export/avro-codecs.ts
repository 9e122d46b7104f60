/**
 * Block codecs of Avro object container files beyond avsc's own (null, deflate): snappy as the Avro spec defines
 * it for containers — the block compressed with Snappy, then the CRC-32 of the uncompressed block, 4 bytes big
 * endian — which Spark, avro-tools and fastavro read. The decoder is here too, for our readers and tests.
 */
import avro from 'avsc';
import CRC32 from 'crc-32';
import snappy from 'snappyjs';

type Callback = (err: Error | null, out?: Buffer) => void;

function snappyCompress(block: Buffer, cb: Callback): void {
  try {
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(CRC32.buf(block) >>> 0);
    cb(null, Buffer.concat([snappy.compress(block), crc]));
  } catch (err) {
    cb(err as Error);
  }
}

function snappyDecompress(block: Buffer, cb: Callback): void {
  try {
    const out = snappy.uncompress(block.subarray(0, block.length - 4));
    if (CRC32.buf(out) >>> 0 !== block.readUInt32BE(block.length - 4)) throw new Error('snappy block CRC mismatch');
    cb(null, out);
  } catch (err) {
    cb(err as Error);
  }
}

/** For BlockEncoder's `codecs` option: avsc's own (null, deflate) and snappy. */
export const avroEncoderCodecs = { ...avro.streams.BlockEncoder.defaultCodecs(), snappy: snappyCompress };
/** For BlockDecoder's and createFileDecoder's `codecs` option. */
export const avroDecoderCodecs = { ...avro.streams.BlockDecoder.defaultCodecs(), snappy: snappyDecompress };
