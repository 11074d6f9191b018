import * as protobuf from 'protobufjs';
import { decodeExample, type ExampleFeatures, prepareExample, varintSize, writeExample, writeVarint } from './example';

/*
 * TensorFlow Ranking's ExampleListWithContext (ELWC), from TensorFlow Serving's
 * tensorflow_serving/apis/input.proto (Apache License 2.0; tensorflow/serving at 4bc435b5):
 *
 *   message ExampleListWithContext {
 *     repeated tensorflow.Example examples = 1;
 *     tensorflow.Example context = 2;
 *   }
 *
 * Both fields are length-delimited tf.Examples, so an ELWC is each example's bytes behind tag
 * 0x0a and the context's behind tag 0x12: the Example encoding stays `writeExample`'s.
 */
const TAG_EXAMPLES = 0x0a;
const TAG_CONTEXT = 0x12;

/**
 * An ExampleListWithContext's bytes: one record of a ranking export, the list's shared features
 * in `context` and one tf.Example per ranked item in `examples`, in the given order.
 *
 * Fields are written in ascending field number, as protobuf's serializers write them: every
 * example (field 1), then the context (field 2). Each Example is `encodeExample`'s bytes
 * (features in name order), so the same input always gives the same bytes.
 *
 * An empty list writes no field 1 (protobuf's encoding of an empty repeated field). The context
 * is always written, an empty one as an Example with empty Features (`12 02 0a 00`), so the
 * record always carries a context. A feature name in both the context and an example is refused:
 * input.proto leaves the merge of the two undefined.
 */
export function encodeExampleListWithContext(context: ExampleFeatures, examples: readonly ExampleFeatures[]): Uint8Array {
  examples.forEach((example, i) => {
    for (const name of Object.keys(example)) if (Object.hasOwn(context, name)) throw new RangeError(`feature ${name} is in both the context and example ${i}`);
  });
  const prepared = examples.map(prepareExample);
  const preparedContext = prepareExample(context);
  let size = 1 + varintSize(preparedContext.size) + preparedContext.size;
  for (const p of prepared) size += 1 + varintSize(p.size) + p.size;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of prepared) {
    out[at++] = TAG_EXAMPLES;
    at = writeVarint(out, at, p.size);
    at = writeExample(p, out, at);
  }
  out[at++] = TAG_CONTEXT;
  at = writeVarint(out, at, preparedContext.size);
  writeExample(preparedContext, out, at);
  return out;
}

/**
 * The context and examples of an ExampleListWithContext's bytes, decoded as `decodeExample`
 * decodes a tf.Example (int64 as bigint, float as number, bytes as Uint8Array). A missing
 * context is an empty one; a context given more than once is merged as protobuf merges a
 * message (a later feature of the same name wins); fields other than 1 and 2 are skipped.
 */
export function decodeExampleListWithContext(bytes: Uint8Array): { context: ExampleFeatures; examples: ExampleFeatures[] } {
  const reader = protobuf.Reader.create(bytes);
  const context: ExampleFeatures = {};
  const examples: ExampleFeatures[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === TAG_EXAMPLES) examples.push(decodeExample(reader.bytes()));
    else if (tag === TAG_CONTEXT) Object.assign(context, decodeExample(reader.bytes()));
    else reader.skipType(tag & 7);
  }
  return { context, examples };
}
