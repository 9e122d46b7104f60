"""Reads a `collab export` file with the Python data stack, independently of our code: a Parquet directory with
pyarrow, or an Avro container file with fastavro (any codec it knows: null, deflate, snappy with its CRC check).
Prints one JSON object per op: docId, version, baseVersion, clientId, seq, userId, timestamp (ms since the epoch)
and, for Parquet, the op (the JSON text of the column, parsed).

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


def parquet_rows(path):
    import pyarrow.parquet as pq

    for row in pq.read_table(path).to_pylist():
        out = {k: row[k] for k in FIELDS}
        out["timestamp"] = millis(row["timestamp"])
        out["op"] = json.loads(row["op"])
        yield out


def avro_rows(path):
    import fastavro

    with open(path, "rb") as f:
        reader = fastavro.reader(f)
        print(json.dumps({"codec": reader.codec}), file=sys.stderr)
        for record in reader:
            out = {k: record[k] for k in FIELDS}
            out["timestamp"] = millis(record["timestamp"])
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
