import { crc32c } from '@node-rs/crc32';

// TFRecord framing: uint64 length, masked CRC-32C of the length, the data, masked CRC-32C of
// the data, all little-endian. The mask is TensorFlow's: rotate right by 15, add 0xa282ead8.
const MASK_DELTA = 0xa282ead8;

export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

export function unmaskCrc(masked: number): number {
  const rotated = (masked - MASK_DELTA) >>> 0;
  return ((rotated >>> 17) | (rotated << 15)) >>> 0;
}

export function maskedCrc32c(data: Uint8Array): number {
  return maskCrc(crc32c(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)) >>> 0);
}

// CRC-32C's table (the reflected Castagnoli polynomial), for the 8 bytes of a record's length:
// the native function costs more to call than a table lookup per byte takes (0.45 µs against 0.04)
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The masked CRC-32C of `bytes[from..to)`, computed here: for a few bytes (a record's length) only. */
export function maskedCrc32cOfFew(bytes: Uint8Array, from: number, to: number): number {
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = CRC32C_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return maskCrc((c ^ 0xffffffff) >>> 0);
}

export const FRAME_OVERHEAD = 16;

/**
 * Frames `size` bytes already written at `at + 12` in `out`: the length and its checksum before
 * them, their checksum after (room for 16 more bytes). Returns the offset after the record.
 */
export function sealFrame(out: Buffer, at: number, size: number): number {
  // a record is under 4 GiB: the high word of the uint64 length is 0
  out.writeUInt32LE(size, at);
  out.writeUInt32LE(0, at + 4);
  out.writeUInt32LE(maskedCrc32cOfFew(out, at, at + 8), at + 8);
  out.writeUInt32LE(maskedCrc32c(out.subarray(at + 12, at + 12 + size)), at + 12 + size);
  return at + FRAME_OVERHEAD + size;
}

/** Writes one record's TFRecord bytes into `out` at `at` (room for data + 16 bytes); returns the offset after it. */
export function writeFramedRecord(out: Buffer, at: number, data: Uint8Array): number {
  out.set(data, at + 12);
  return sealFrame(out, at, data.byteLength);
}

/** One record as TFRecord bytes: 12 bytes of header, the data, 4 bytes of footer. */
export function frameRecord(data: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(FRAME_OVERHEAD + data.byteLength);
  writeFramedRecord(record, 0, data);
  return record;
}

export class CorruptRecordError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
    this.name = 'CorruptRecordError';
  }
}

/**
 * Splits TFRecord bytes into records, checking both checksums of each; `rest` is an incomplete
 * record at the end (more bytes to come in a stream).
 */
export function unframeRecords(bytes: Buffer, baseOffset = 0): { records: Buffer[]; rest: Buffer } {
  const records: Buffer[] = [];
  let at = 0;
  while (bytes.length - at >= 12) {
    const length = bytes.readBigUInt64LE(at);
    if (bytes.readUInt32LE(at + 8) !== maskedCrc32cOfFew(bytes, at, at + 8))
      throw new CorruptRecordError('the length checksum does not match', baseOffset + at);
    if (length > BigInt(bytes.length)) {
      if (length > 2n ** 31n) throw new CorruptRecordError(`a record of ${length} bytes is not plausible`, baseOffset + at);
    }
    const size = Number(length);
    if (bytes.length - at < 12 + size + 4) break;
    const data = bytes.subarray(at + 12, at + 12 + size);
    if (bytes.readUInt32LE(at + 12 + size) !== maskedCrc32c(data)) throw new CorruptRecordError('the data checksum does not match', baseOffset + at);
    records.push(Buffer.from(data));
    at += 12 + size + 4;
  }
  return { records, rest: bytes.subarray(at) };
}
