#!/usr/bin/env python3
"""Rebuild one document's text from the collab ops topic with the standard Kafka tools of Python.

confluent-kafka reads the topic with isolation.level=read_committed (aborted transactions of a fenced writer stay
invisible), its AvroDeserializer decodes each record through the schema registry by the id in its Confluent frame,
and the ops are applied in version order with the text-unicode semantics of docs/ot.md (positions and counts are
Unicode code points, which is what a Python str indexes). Prints {"docId", "version", "text"} as JSON.

Records of schema v1 and v2 may share the topic (v2 is what today's servers write): a v2 record carries its op
twice, as plain records in `components` and in v1's form in `op`; this reader applies `components` when a record
has any, else `op` (a v1 record, or any record read through a v1 reader schema).

The topic also holds each document's comment events (schema `collab.comments.CommentEvent`, docs/comments.md),
in the same partition and order as its ops. They change no text: this reader skips them by the writer schema
their frame's id names (looked up once per id), before decoding, since no op reader schema can read them.

    python read_document.py --brokers 127.0.0.1:9092 --registry http://127.0.0.1:8081/apis/ccompat/v6 \\
        --topic collab.ops --doc notes [--reader-schema schemas/avro/op-committed/v1.avsc]
"""
import argparse
import json
import sys
import uuid
from typing import Optional

from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def apply_components(text: str, components: list) -> str:
    """One op in its v2 form: {kind, count, text} records (retain keeps count code points, insert adds text,
    delete removes count)."""
    out, pos = [], 0
    for component in components:
        kind, count = component["kind"], component["count"]
        if kind == "retain":
            out.append(text[pos : pos + count])
            pos += count
        elif kind == "insert":
            out.append(component["text"])
        elif kind == "delete":
            pos += count
        else:
            raise ValueError(f"unknown component kind {kind!r}")
    if pos > len(text):
        raise ValueError(f"op reaches code point {pos} of a {len(text)}-code-point text")
    out.append(text[pos:])
    return "".join(out)


def apply_op(text: str, op: list) -> str:
    """One op in its v1 form: an int keeps that many code points, a str inserts, a Delete record removes count."""
    return apply_components(
        text,
        [
            {"kind": "retain", "count": c}
            if isinstance(c, int)
            else {"kind": "insert", "count": len(c), "text": c}
            if isinstance(c, str)
            else {"kind": "delete", "count": c["count"]}
            for c in op
        ],
    )


def apply_record(text: str, record: dict) -> str:
    """A record of any schema version: `components` when it has any (v2), else `op` (v1)."""
    components = record.get("components") or []
    return apply_components(text, components) if components else apply_op(text, record["op"])


COMMENT_EVENT = "collab.comments.CommentEvent"


def full_name(schema: dict) -> str:
    name = schema.get("name", "")
    return name if "." in name or not schema.get("namespace") else f"{schema['namespace']}.{name}"


def comment_event_filter(client: SchemaRegistryClient):
    """Tells whether a framed value is a comment event, by its writer schema's full name (cached per id)."""
    kinds = {}

    def is_comment_event(value: bytes) -> bool:
        if len(value) < 5 or value[0] != 0:
            return False  # not a Confluent frame: the deserializer says what is wrong with it
        schema_id = int.from_bytes(value[1:5], "big")
        if schema_id not in kinds:
            schema = json.loads(client.get_schema(schema_id).schema_str)
            kinds[schema_id] = isinstance(schema, dict) and full_name(schema) == COMMENT_EVENT
        return kinds[schema_id]

    return is_comment_event


def read_ops(brokers: str, registry: str, topic: str, doc_id: str, reader_schema: Optional[str] = None) -> dict:
    """The ops of one document by version (its comment events skipped). `reader_schema`: Avro JSON every op is
    resolved to (the writer schema of each record when None)."""
    client = SchemaRegistryClient({"url": registry})
    deserialize = AvroDeserializer(client, schema_str=reader_schema)
    is_comment_event = comment_event_filter(client)
    consumer = Consumer(
        {
            "bootstrap.servers": brokers,
            "group.id": f"read-document-{uuid.uuid4()}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": True,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        remaining, ops = set(partitions), {}
        while remaining:
            message = consumer.poll(10)
            if message is None:
                raise TimeoutError(f"no message or end of partition within 10 s (partitions left: {sorted(remaining)})")
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    remaining.discard(message.partition())
                    continue
                raise RuntimeError(message.error())
            if message.key() != doc_id.encode() or is_comment_event(message.value()):
                continue
            record = deserialize(message.value(), SerializationContext(topic, MessageField.VALUE))
            # A record written twice (a retried append) is the same op at the same version: keep one.
            ops.setdefault(record["version"], record)
        return ops
    finally:
        consumer.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--registry", required=True, help="the registry's Confluent-compatible API root")
    parser.add_argument("--topic", default="collab.ops")
    parser.add_argument("--doc", required=True)
    parser.add_argument(
        "--reader-schema",
        help="an .avsc file to resolve every record to, e.g. schemas/avro/op-committed/v1.avsc to read as a v1 reader",
    )
    args = parser.parse_args()
    reader_schema = None
    if args.reader_schema is not None:
        with open(args.reader_schema, encoding="utf-8") as f:
            reader_schema = f.read()
    ops = read_ops(args.brokers, args.registry, args.topic, args.doc, reader_schema)
    text = ""
    for version in range(1, len(ops) + 1):
        if version not in ops:
            raise ValueError(f"{args.doc}: version {version} is missing (versions are gapless from 1)")
        text = apply_record(text, ops[version])
    json.dump({"docId": args.doc, "version": len(ops), "text": text}, sys.stdout, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
