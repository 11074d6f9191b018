import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './server-process';

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** the server's own files: what a bucket holds, on disk */
  directory: string;
  /** the environment a Backflow process needs to reach it (credentials as the SDK's chain reads them) */
  env: Record<string, string>;
  close(): Promise<void>;
}

const S3RVER = path.join(__dirname, '..', '..', 'node_modules', 's3rver', 'bin', 's3rver.js');

/** A real S3 HTTP server (s3rver) on a free port with one empty bucket, for the duration of a suite. */
export async function startS3Server(bucket = 'spans'): Promise<S3Server> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'backflow-s3-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [S3RVER, '--address', '127.0.0.1', '--port', String(port), '--directory', directory, '--configure-bucket', bucket, '--silent'],
    { stdio: 'ignore' },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    const up = await fetch(`${endpoint}/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (tries > 80 || child.exitCode !== null) throw new Error(`s3rver did not start on ${endpoint}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    endpoint,
    bucket,
    directory,
    env: { S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
    async close() {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
