#!/usr/bin/env python3
"""Reads TFRecord files of tf.Example (gzip or not) and prints one JSON object per example:
feature name -> list of values (bytes as UTF-8 text, floats as float32, int64 as int).

With --elwc, the records are TensorFlow Ranking's ExampleListWithContext (tensorflow_serving/
apis/input.proto: repeated Example examples = 1; Example context = 2) and each prints as
{"context": {feature: [values]}, "examples": [{feature: [values]}, ...]}.

An independent reader for tests: the standard library only, written from the TFRecord framing
and the tf.Example protocol buffer definitions, sharing no code with Backflow's writer.
Lengths are checked; CRCs are not (tfrecord framing is checked elsewhere)."""
import gzip
import json
import struct
import sys


def varint(buf, pos):
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def fields(buf):
    """(field number, wire type, value) of a message: value is an int for varints, bytes for length-delimited."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 2:
            length, pos = varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        else:
            raise ValueError("unexpected wire type %d" % wire)
        yield number, wire, value


def signed64(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def feature_values(feature):
    for kind, wire, body in fields(feature):
        values = []
        for number, w, item in fields(body):
            if number != 1:
                continue
            if kind == 1:  # BytesList
                values.append(item.decode("utf-8"))
            elif kind == 2:  # FloatList, packed or not
                values.extend(struct.unpack("<%df" % (len(item) // 4), item) if w == 2 else struct.unpack("<f", item))
            elif kind == 3:  # Int64List, packed or not
                if w == 2:
                    pos = 0
                    while pos < len(item):
                        v, pos = varint(item, pos)
                        values.append(signed64(v))
                else:
                    values.append(signed64(item))
        return values
    return []


def records(path):
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    pos = 0
    while pos < len(data):
        (length,) = struct.unpack("<Q", data[pos:pos + 8])
        record = data[pos + 12:pos + 12 + length]
        if len(record) != length:
            raise ValueError("truncated record")
        pos += 12 + length + 4
        yield record


def example_features(record):
    example = {}
    for number, _, features in fields(record):  # Example.features = 1
        for n, _, entry in fields(features):  # Features.feature = 1 (map entries)
            name = feature = None
            for k, _, v in fields(entry):
                if k == 1:
                    name = v.decode("utf-8")
                elif k == 2:
                    feature = v
            example[name] = feature_values(feature) if feature is not None else []
    return example


def example_list_with_context(record):
    context, examples = {}, []
    for number, wire, value in fields(record):
        if number in (1, 2) and wire != 2:
            raise ValueError("ExampleListWithContext field %d has wire type %d" % (number, wire))
        if number == 1:  # examples
            examples.append(example_features(value))
        elif number == 2:  # context; a repeated one merges, as protobuf merges a message
            context.update(example_features(value))
    return {"context": context, "examples": examples}


arguments = sys.argv[1:]
parse = example_features
if arguments[:1] == ["--elwc"]:
    arguments, parse = arguments[1:], example_list_with_context
for path in arguments:
    for record in records(path):
        print(json.dumps(parse(record), ensure_ascii=False))
