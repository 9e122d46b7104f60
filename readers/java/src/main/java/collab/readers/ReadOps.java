package collab.readers;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads the whole ops topic as a data team's JVM job would: Kafka's Java consumer at the isolation level asked for
 * (docs/data.md: read_committed, or de-duplicate by (docId, version)), and each value decoded through the schema
 * registry — the Confluent frame (magic byte 0, the 4-byte schema id, the Avro body), the writer schema fetched
 * by id from the registry's Confluent-compatible API (GET /schemas/ids/{id}, once per id) and read with the Java
 * Avro library. Prints one JSON line per record: partition, offset, schema id, kind (`comment` for the
 * `collab.comments.CommentEvent` schema, else `op`), docId and version. Stops at each partition's end as of its
 * start (for read_committed, the last stable offset); exits 1 if it is not reached in --timeout-ms.
 *
 * Usage: java -cp CLASSPATH ReadOps.java --brokers HOST:PORT --registry URL --topic T
 *        [--isolation read_committed|read_uncommitted] [--timeout-ms 30000]
 */
public final class ReadOps {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String COMMENT_EVENT = "collab.comments.CommentEvent";

  // HTTP/1.1: the JDK client otherwise asks a plain-HTTP server to upgrade to HTTP/2 (h2c), which the registry's
  // server answers by closing the connection.
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final String registry;
  private final Map<Integer, Schema> schemas = new HashMap<>();

  private ReadOps(String registry) {
    this.registry = registry.replaceAll("/+$", "");
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = parse(args);
    String isolation = opts.getOrDefault("isolation", "read_committed");
    if (!isolation.equals("read_committed") && !isolation.equals("read_uncommitted")) {
      throw new IllegalArgumentException("--isolation: read_committed or read_uncommitted, not " + isolation);
    }
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, required(opts, "brokers"));
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    new ReadOps(required(opts, "registry"))
        .run(props, required(opts, "topic"), Long.parseLong(opts.getOrDefault("timeout-ms", "30000")));
  }

  private void run(Properties props, String topic, long timeoutMs) throws Exception {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = new ArrayList<>();
      consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      // The end at this isolation level: under read_committed the last stable offset, past which nothing is decided.
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
      long deadline = System.currentTimeMillis() + timeoutMs;
      while (!reached(consumer, ends)) {
        if (System.currentTimeMillis() > deadline) {
          System.err.println("ReadOps: the end offsets " + ends + " were not reached in " + timeoutMs + " ms");
          System.exit(1);
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) print(record);
      }
    }
  }

  private static boolean reached(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> ends) {
    for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
      if (consumer.position(end.getKey()) < end.getValue()) return false;
    }
    return true;
  }

  private void print(ConsumerRecord<byte[], byte[]> record) throws Exception {
    byte[] value = record.value();
    // A writer's claim on its partition (null value, header collab-claim) carries no op. It is written in a
    // transaction that is aborted, so only read_uncommitted shows it (docs/data.md).
    if (value == null && record.headers().lastHeader("collab-claim") != null) return;
    ByteBuffer frame = ByteBuffer.wrap(value);
    if (value.length < 5 || frame.get() != 0) {
      throw new IllegalStateException("offset " + record.offset() + ": not a Confluent-framed Avro value");
    }
    int id = frame.getInt();
    Schema writer = schemaFor(id);
    GenericRecord decoded =
        new GenericDatumReader<GenericRecord>(writer)
            .read(null, DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, null));
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("partition", record.partition());
    line.put("offset", record.offset());
    line.put("schemaId", id);
    line.put("kind", COMMENT_EVENT.equals(writer.getFullName()) ? "comment" : "op");
    line.put("docId", decoded.get("docId").toString());
    line.put("version", decoded.get("version"));
    System.out.println(JSON.writeValueAsString(line));
  }

  /** The writer schema of an id, from the registry (ids never change meaning: cached for the run). */
  private Schema schemaFor(int id) throws Exception {
    Schema known = schemas.get(id);
    if (known != null) return known;
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(registry + "/schemas/ids/" + id)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("schema id " + id + ": the registry answered " + response.statusCode());
    }
    Schema schema = new Schema.Parser().parse(JSON.readTree(response.body()).get("schema").asText());
    schemas.put(id, schema);
    return schema;
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got " + String.join(" ", args));
      }
      opts.put(args[i].substring(2), args[i + 1]);
    }
    return opts;
  }

  private static String required(Map<String, String> opts, String name) {
    String value = opts.get(name);
    if (value == null) throw new IllegalArgumentException("--" + name + " is required");
    return value;
  }
}
