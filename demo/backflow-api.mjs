// The few admin, rater and export calls the demo makes, over the public HTTP API.
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { readSpanRows } from './span-rows.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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

/** Creates the project, or finds it and reapplies its settings (what a project's questions are cannot change). */
export async function ensureProject(adminApi, settings) {
  const created = await idempotent(() => adminApi.post('/api/v1/projects', settings));
  if (created) return 'created';
  const { slug, taskType: _taskType, questions: _questions, routingQuestion: _routingQuestion, ...rest } = settings;
  await adminApi.patch(`/api/v1/projects/${slug}`, rest);
  return 'exists (settings reapplied)';
}

export async function ensureMember(adminApi, slug, account, role) {
  await idempotent(() => adminApi.post('/api/v1/users', { email: account.email, password: account.password, role }));
  await idempotent(() => adminApi.post(`/api/v1/projects/${slug}/members`, { email: account.email, role }));
}

/**
 * Exports what is labeled as the next span, waits for it, downloads its files of `format` (TFRecord of tf.Example by
 * default) under `directory` and reads them back with `read` (by default each example made a row by `toRow`).
 * Undefined when there was nothing new to export.
 */
export async function landSpan({ adminApi, exportApi, slug, directory, toRow, format = 'tfrecord', read = (files) => readSpanRows(files, toRow) }) {
  const { job } = await adminApi.post(`/api/v1/projects/${slug}/exports`, {});
  if (!job) return undefined;
  let state = job;
  while (state.state === 'writing') {
    await sleep(500);
    state = await adminApi.get(`/api/v1/projects/${slug}/exports/${job.id}`);
  }
  if (state.state !== 'completed') throw new Error(`export of span ${state.span} failed: ${state.error}`);
  const files = [];
  for (const file of state.files.filter((f) => f.format === format)) {
    const local = path.join(directory, slug, `span-${state.span}`, `version-${state.version}`, file.path);
    files.push(await exportApi.download(`/api/v1/projects/${slug}/spans/${state.span}/versions/${state.version}/files/${file.path}`, local));
  }
  return { span: state.span, rows: await read(files) };
}

/** "12 consensus, 1 feedback": where a span's labels came from. */
export function sourcesOf(rows) {
  const counts = {};
  for (const row of rows) counts[row.labelSource] = (counts[row.labelSource] ?? 0) + 1;
  return Object.entries(counts)
    .map(([source, n]) => `${n} ${source}`)
    .join(', ');
}
