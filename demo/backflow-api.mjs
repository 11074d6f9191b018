// The few admin, rater and export calls the demo makes, over the public HTTP API.
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

export class ApiError extends Error {
  constructor(method, route, status, body) {
    super(`${method} ${route} → ${status} ${body?.code ?? ''} ${body?.message ?? ''}`.trim());
    this.status = status;
    this.code = body?.code;
  }
}

export function api(baseUrl, token) {
  async function call(method, route, body) {
    const response = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (response.status >= 400) throw new ApiError(method, route, response.status, parsed);
    return parsed;
  }
  return {
    get: (route) => call('GET', route),
    post: (route, body = {}) => call('POST', route, body),
    patch: (route, body) => call('PATCH', route, body),
    /** A file of a landed span, written under `directory`. */
    async download(route, file) {
      const response = await fetch(`${baseUrl}${route}`, { headers: { authorization: `Bearer ${token}` } });
      if (response.status !== 200) throw new ApiError('GET', route, response.status, await response.json().catch(() => undefined));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, Buffer.from(await response.arrayBuffer()));
      return file;
    },
  };
}

export async function signIn(baseUrl, email, password) {
  const { token } = await api(baseUrl).post('/api/v1/auth/login', { email, password });
  return token;
}

/** Runs `create`; an answer that the thing exists already (409) is fine: a re-run of the demo finds its users and members. */
export async function idempotent(create) {
  try {
    return await create();
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) return undefined;
    throw error;
  }
}
