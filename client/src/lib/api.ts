import type { ErrorBody } from '@backflow/contracts';

/** An error as the client tells it: the server's error body, or one made here for a request that got none (no request id then). */
type ErrorFields = Pick<ErrorBody, 'code' | 'message' | 'field'> & { requestId?: string };

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  readonly requestId?: string;

  constructor(status: number, body: ErrorFields) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.code = body.code;
    this.field = body.field;
    this.requestId = body.requestId;
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface ApiRequestOptions {
  method?: HttpMethod;
  body?: unknown;
  signal?: AbortSignal;
}

type UnauthorizedListener = () => void;

const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called whenever the server answers 401, so an expired session can send the user back to sign-in. */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => {
    unauthorizedListeners.delete(listener);
  };
}

export async function apiRequest<T>(path: string, options: ApiRequestOptions = {}): Promise<T> {
  const { method = 'GET', body, signal } = options;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';

  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch (cause) {
    if (signal?.aborted) throw cause;
    throw new ApiError(0, {
      code: 'network/unreachable',
      message: 'Could not reach the Backflow server. Check your connection and try again.',
    });
  }

  if (response.status === 204) return undefined as T;

  const payload = await readJson(response);
  if (!response.ok) {
    if (response.status === 401) unauthorizedListeners.forEach((listener) => listener());
    throw new ApiError(response.status, toErrorBody(response, payload));
  }
  return payload as T;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function toErrorBody(response: Response, payload: unknown): ErrorFields {
  const fields = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  const requestId = stringOrUndefined(fields.requestId) ?? response.headers.get('x-request-id') ?? undefined;
  return {
    code: stringOrUndefined(fields.code) ?? `http/${response.status}`,
    message: stringOrUndefined(fields.message) ?? fallbackMessage(response.status),
    field: stringOrUndefined(fields.field),
    requestId,
  };
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function fallbackMessage(status: number): string {
  if (status === 401) return 'You are not signed in.';
  if (status === 403) return 'You do not have access to this.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many requests. Wait a moment and try again.';
  if (status >= 500) return 'The Backflow server had a problem. Try again in a moment.';
  return `The request failed (HTTP ${status}).`;
}

/** A server's message with the field it names, unless the message starts with that field already (`routing.targetRate: …`). */
export function messageWithField(message: string, field: string | undefined): string {
  return field && !message.startsWith(`${field}:`) ? `${message} (field: ${field})` : message;
}

/** What to tell the user about a failed request: the server's message and the field it names, or a fallback. */
export function errorMessage(cause: unknown, fallback: string): string {
  if (!isApiError(cause)) return fallback;
  return messageWithField(cause.message, cause.field);
}
