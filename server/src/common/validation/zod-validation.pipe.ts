import { ArgumentMetadata, Body, Param, PipeTransform, Query } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiParam, ApiQuery } from '@nestjs/swagger';
import { z } from 'zod';
import { DomainError, ValidationError } from '../errors';
import { findJsonHazard } from './json-hazards';

/** The dotted field an issue is about (`labels.1.hotkey`); an unknown key names itself. */
export function fieldOf(issue: z.core.$ZodIssue, root?: string): string {
  const parts = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys.length) parts.push(issue.keys[0]);
  const joined = parts.join('.');
  return root ? (joined ? `${root}.${joined}` : root) : joined || 'body';
}

/** The error code an issue carries (`params.code` of a refinement, e.g. validation/date_out_of_range), else validation/invalid. */
export function codeOf(issue: z.core.$ZodIssue): string {
  const code = (issue as { params?: { code?: unknown } }).params?.code;
  return typeof code === 'string' ? code : 'validation/invalid';
}

/** Parses with the route's zod schema; the first issue names the field in the error. */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(
    private readonly schema: S,
    private readonly root?: string,
  ) {}

  transform(value: unknown, _metadata: ArgumentMetadata): z.infer<S> {
    // query strings and parameters reach here unscanned (a JSON body was scanned as it was parsed);
    // a query object is the query parser's own kind of object, which the walk would not enter: its values are copied out
    const scanned = this.root === 'query' && typeof value === 'object' && value !== null ? { ...value } : value;
    const hazard = findJsonHazard(scanned, { text: true }, this.root);
    if (hazard) throw new DomainError(hazard.code, hazard.message, 400, hazard.field);
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const issues = result.error.issues.map((issue) => ({ field: fieldOf(issue, this.root), message: issue.message }));
    const [first] = issues;
    const code = codeOf(result.error.issues[0]);
    if (code !== 'validation/invalid') throw new DomainError(code, `${first.field}: ${first.message}`, 400, first.field, { issues });
    throw new ValidationError(`${first.field}: ${first.message}`, first.field, issues);
  }
}

// named schemas (zod `.meta({ id })`) met while documenting routes; merged into components.schemas
const components = new Map<string, unknown>();

function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' ? value.replace(/^#\/(definitions|\$defs)\//, '#/components/schemas/') : rewriteRefs(value),
    ]),
  );
}

/** OpenAPI schema from the same zod schema the pipe enforces; named parts become shared components. */
export function openApiSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const definitions = { ...(json.definitions as Record<string, unknown>), ...(json.$defs as Record<string, unknown>) };
  for (const [name, definition] of Object.entries(definitions)) components.set(name, rewriteRefs(definition));
  delete json.$schema;
  delete json.definitions;
  delete json.$defs;
  return rewriteRefs(json) as Record<string, unknown>;
}

export function openApiComponents(): Record<string, unknown> {
  return Object.fromEntries(components);
}

/** The body as the route's zod schema reads it, or a file's bytes (a body of a FILE_CONTENT_TYPES type) left to the route. */
class BodyOrFilePipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S> | Buffer> {
  private readonly json: ZodValidationPipe<S>;
  constructor(schema: S) {
    this.json = new ZodValidationPipe(schema);
  }
  transform(value: unknown, metadata: ArgumentMetadata): z.infer<S> | Buffer {
    return Buffer.isBuffer(value) ? value : this.json.transform(value, metadata);
  }
}

/**
 * The content types a file body may come as (TFDV's artifacts): its bytes reach the route as a
 * Buffer. None is one a cross-site form can send (those are refused before any parsing).
 */
export const FILE_CONTENT_TYPES = ['application/x-protobuf', 'application/octet-stream', 'text/x-protobuf', 'application/x-protobuf-text'] as const;

/** @Body as JSON validated by a zod schema, or a file (a body of a FILE_CONTENT_TYPES type) as a Buffer; both documented. */
export function ValidBodyOrFile(schema: z.ZodType, file: string): ParameterDecorator {
  return (target, key, index) => {
    Body(new BodyOrFilePipe(schema))(target, key, index);
    if (key !== undefined) {
      const descriptor = Object.getOwnPropertyDescriptor(target, key);
      if (descriptor) {
        ApiConsumes('application/json', ...FILE_CONTENT_TYPES)(target, key, descriptor);
        ApiBody({ description: file, schema: { oneOf: [openApiSchema(schema), { type: 'string', format: 'binary' }] } })(target, key, descriptor);
      }
    }
  };
}

/** @Body validated by a zod schema, documented in OpenAPI from that schema. */
export function ValidBody(schema: z.ZodType): ParameterDecorator {
  return (target, key, index) => {
    Body(new ZodValidationPipe(schema))(target, key, index);
    if (key !== undefined) {
      const descriptor = Object.getOwnPropertyDescriptor(target, key);
      if (descriptor) ApiBody({ schema: openApiSchema(schema) })(target, key, descriptor);
    }
  };
}

/**
 * @Query validated by a zod object schema; each key is documented as a query parameter.
 * Annotate the parameter with an inline type: a type named like its schema is emitted as
 * the schema object in decorator metadata, and Swagger would scan it as a class.
 */
export function ValidQuery(schema: z.ZodObject): ParameterDecorator {
  return (target, key, index) => {
    Query(new ZodValidationPipe(schema, 'query'))(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    if (!descriptor) return;
    for (const [name, field] of Object.entries(schema.shape)) {
      ApiQuery({ name, required: !(field as z.ZodType).safeParse(undefined).success, schema: openApiSchema(field as z.ZodType) })(target, key, descriptor);
    }
  };
}

/** A path parameter validated by a zod schema. */
export function ValidParam(name: string, schema: z.ZodType): ParameterDecorator {
  return (target, key, index) => {
    Param(name, new ZodValidationPipe(schema, name))(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    if (descriptor) ApiParam({ name, schema: openApiSchema(schema) })(target, key, descriptor);
  };
}

/** A file body only (a FILE_CONTENT_TYPES type) as a Buffer; anything else a 400 under `code`, naming the body. */
class FilePipe implements PipeTransform<unknown, Buffer> {
  constructor(private readonly code: string) {}
  transform(value: unknown): Buffer {
    if (Buffer.isBuffer(value) && value.length > 0) return value;
    throw new DomainError(this.code, `body: send the file's bytes as ${FILE_CONTENT_TYPES.slice(0, 2).join(' or ')}`, 400, 'body');
  }
}

/** @Body as a file's bytes (a body of a FILE_CONTENT_TYPES type); documented. */
export function FileBody(code: string, description: string): ParameterDecorator {
  return (target, key, index) => {
    Body(new FilePipe(code))(target, key, index);
    if (key !== undefined) {
      const descriptor = Object.getOwnPropertyDescriptor(target, key);
      if (descriptor) {
        ApiConsumes(...FILE_CONTENT_TYPES)(target, key, descriptor);
        ApiBody({ description, schema: { type: 'string', format: 'binary' } })(target, key, descriptor);
      }
    }
  };
}
