// a number token of 16 digits or more (2^53 has 16) as PostgreSQL prints jsonb: the only integers JSON.parse may change
const LONG_NUMBER = /[:,[] ?-?\d{16}/;
// a whole number as PostgreSQL prints it (numeric keeps a written scale: 3.0)
const INTEGER = /^-?\d+(?:\.0*)?$/;

function keepLongIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined && INTEGER.test(context.source)
    ? BigInt(context.source.replace(/\..*/, ''))
    : value;
}

/**
 * jsonb text as JavaScript, an integer past ±(2^53−1) as a bigint with its exact digits (a
 * plain JSON.parse would round it). Only text holding a long number pays for the reviver.
 */
export function parseExactJson(text: string): unknown {
  return LONG_NUMBER.test(text) ? JSON.parse(text, keepLongIntegers) : JSON.parse(text);
}
