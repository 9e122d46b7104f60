/*
 * Decodes Confluent-framed Avro records with the Java Avro library (what Kafka Connect's AvroConverter, Trino's
 * Kafka connector and Spark's Avro reader use underneath): each frame's body is read with its writer schema
 * resolved to a reader schema, as a registry-aware reader does (GenericDatumReader(writer, reader)). Prints one
 * JSON line per frame (GenericData's toString). Run as a single-file source program by jvm-avro.int.test.ts:
 *
 *   java -cp <avro and jackson jars> ReadFrames.java <reader.avsc> <writer.avsc> <frame.hex>...
 */
import java.io.File;
import java.nio.file.Files;
import java.util.HexFormat;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;

public class ReadFrames {
  public static void main(String[] args) throws Exception {
    Schema reader = new Schema.Parser().parse(new File(args[0]));
    Schema writer = new Schema.Parser().parse(new File(args[1]));
    GenericDatumReader<GenericRecord> datumReader = new GenericDatumReader<>(writer, reader);
    for (int i = 2; i < args.length; i++) {
      byte[] frame = HexFormat.of().parseHex(Files.readString(new File(args[i]).toPath()).trim());
      if (frame[0] != 0) throw new IllegalArgumentException(args[i] + ": magic byte " + frame[0]);
      BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(frame, 5, frame.length - 5, null);
      GenericRecord record = datumReader.read(null, decoder);
      if (!decoder.isEnd()) throw new IllegalArgumentException(args[i] + ": trailing bytes");
      System.out.println(record);
    }
  }
}
