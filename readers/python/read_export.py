"""Reads a `collab export` file with the Python data stack, independently of our code: a Parquet directory with
pyarrow, or an Avro container file with fastavro (any codec it knows: null, deflate, snappy with its CRC check).
Prints one JSON object per op: docId, version, baseVersion, clientId, seq, userId, timestamp (ms since the epoch)
and, for Parquet, the op (the JSON text of the column, parsed). An export with comment events (`--comments`: a
`kind` column, or Avro `ExportRecord {kind, op, comment}` records) prints each record with its kind first; a
comment event as kind, docId, version, userId, timestamp and its body (Parquet: the JSON text, parsed; Avro: the
record of the body's branch).

    python read_export.py --parquet ops/        python read_export.py --avro ops.avro
"""
import argparse
import json
import sys
from datetime import datetime, timezone

FIELDS = ("docId", "version", "baseVersion", "clientId", "seq", "userId")


def millis(value):
    """A timestamp as ms since the epoch: pyarrow gives a naive datetime (of UTC), fastavro an aware one."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return round(value.timestamp() * 1000)
    return value


COMMENT_FIELDS = ("docId", "version", "userId")


def comment_row(fields, body):
    out = {"kind": "comment", **{k: fields[k] for k in COMMENT_FIELDS}}
    out["timestamp"] = millis(fields["timestamp"])
    out["body"] = body
    return out


def parquet_rows(path):
    import pyarrow.parquet as pq

    for row in pq.read_table(path).to_pylist():
        if row.get("kind") == "comment":
            yield comment_row(row, json.loads(row["comment"]))
            continue
        out = {"kind": "op"} if "kind" in row else {}
        out.update({k: row[k] for k in FIELDS})
        out["timestamp"] = millis(row["timestamp"])
        out["op"] = json.loads(row["op"])
        yield out


def avro_rows(path):
    import fastavro

    with open(path, "rb") as f:
        reader = fastavro.reader(f)
        print(json.dumps({"codec": reader.codec}), file=sys.stderr)
        for record in reader:
            kind = record.get("kind")
            if kind == "comment":
                yield comment_row(record["comment"], record["comment"]["body"])
                continue
            op = record["op"] if kind == "op" else record
            out = {"kind": "op"} if kind == "op" else {}
            out.update({k: op[k] for k in FIELDS})
            out["timestamp"] = millis(op["timestamp"])
            yield out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--parquet", help="a directory of part files (or one file)")
    group.add_argument("--avro", help="an Avro object container file")
    args = parser.parse_args()
    rows = parquet_rows(args.parquet) if args.parquet else avro_rows(args.avro)
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
