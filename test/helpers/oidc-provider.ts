import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { freePort } from './server-process';
import { startTestApp, type TestApp } from './test-app';

/** A person at the provider: the claims it gives them (besides `sub`, their login name); change them between sign-ins. */
export type ProviderAccount = Record<string, unknown>;

/**
 * A real OpenID provider (the `oidc-provider` package) on a free port of this machine, with one
 * confidential client for Backflow and its development sign-in and consent pages (any password
 * signs a known login in). `accounts` holds the people it knows, by login name.
 */
export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, ProviderAccount>;
  close(): Promise<void>;
}

export async function startOidcProvider(redirectUrl: string): Promise<TestOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'backflow';
  const clientSecret = randomBytes(24).toString('base64url');
  const accounts = new Map<string, ProviderAccount>();
  // its warning that the development sign-in pages are on is what these tests want: not said at every start
  const warn = console.warn;
  console.warn = () => undefined;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUrl],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    // the provider insists on PKCE for this confidential client too: a code without its verifier is refused
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile', 'groups'],
    // `backflow` stands for a provider's own nested claim (Keycloak's realm_access, a custom role claim)
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'backflow'], groups: ['groups'] },
    findAccount: (_ctx: unknown, id: string) => {
      const account = accounts.get(id);
      return account ? { accountId: id, claims: () => ({ sub: id, ...accounts.get(id) }) } : undefined;
    },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
  });
  console.warn = warn;
  const handle = provider.callback();
  server.on('request', (request, response) => void handle(request, response));
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The environment that points Backflow at a provider; `extra` maps groups to roles and projects. */
export function ssoEnv(provider: TestOidcProvider, redirectUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: provider.clientId,
    OIDC_CLIENT_SECRET: provider.clientSecret,
    OIDC_REDIRECT_URL: redirectUrl,
    OIDC_SCOPES: 'openid email profile groups',
    OIDC_PROVIDER_NAME: 'Test IdP',
    ...extra,
  };
}

/** Backflow on a port chosen first, so that the provider can know its callback, and the provider it signs in through. */
export async function startAppWithProvider(env: Record<string, string> = {}): Promise<{ app: TestApp; provider: TestOidcProvider }> {
  const port = await freePort();
  const redirectUrl = `http://127.0.0.1:${port}/api/v1/auth/oidc/callback`;
  const provider = await startOidcProvider(redirectUrl);
  const app = await startTestApp(ssoEnv(provider, redirectUrl, env), { port });
  return { app, provider };
}

/** One browser's cookies, by origin (enough for two hosts on 127.0.0.1 that differ by port). */
export class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  header(url: string): string | undefined {
    const jar = this.cookies.get(new URL(url).origin);
    return jar && jar.size ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : undefined;
  }

  take(url: string, response: Response): void {
    const origin = new URL(url).origin;
    const jar = this.cookies.get(origin) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now()));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.cookies.set(origin, jar);
  }

  get(url: string, name: string): string | undefined {
    return this.cookies.get(new URL(url).origin)?.get(name);
  }

  set(url: string, name: string, value: string): void {
    const origin = new URL(url).origin;
    this.cookies.set(origin, (this.cookies.get(origin) ?? new Map<string, string>()).set(name, value));
  }
}

export interface SignInOptions {
  returnTo?: string;
  /** a browser's navigations say they accept HTML; without it the callback answers an error as JSON */
  html?: boolean;
  /** changes the flow the browser keeps after the sign-in starts (what a tampered or stale cookie would hold) */
  tamperFlow?: (flow: { state: string; nonce: string; codeVerifier: string; returnTo: string; expiresAt: number }) => void;
  /** changes the provider's redirect back before the browser follows it */
  tamperCallback?: (url: URL) => void;
  /** the browser refuses at the provider's consent page instead of allowing */
  abortAtConsent?: boolean;
  jar?: CookieJar;
}

export interface SignInResult {
  /** the callback's answer */
  status: number;
  location: string | null;
  body: any;
  /** the session cookie the callback set, if it did */
  session?: string;
  /** the provider's redirect back, as the browser followed it */
  callbackUrl: string;
  jar: CookieJar;
}

/**
 * A browser's sign-in through the provider, over real HTTP: Backflow's login route, the
 * provider's authorization endpoint, its sign-in form (login name and any password) and consent
 * form, then the redirect back to Backflow's callback, each step's cookies kept per origin and
 * each redirect followed by hand. Returns the callback's answer.
 */
export async function signInThroughProvider(app: TestApp, login: string, options: SignInOptions = {}): Promise<SignInResult> {
  const jar = options.jar ?? new CookieJar();
  const accept = options.html === false ? 'application/json' : 'text/html,application/xhtml+xml';
  const go = async (url: string, init: { method?: string; body?: URLSearchParams; referer?: string } = {}) => {
    const headers: Record<string, string> = { accept };
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (init.referer) headers.referer = init.referer;
    if (init.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body, redirect: 'manual' });
    jar.take(url, response);
    return response;
  };
  const start = `${app.url}/api/v1/auth/oidc/login${options.returnTo ? `?returnTo=${encodeURIComponent(options.returnTo)}` : ''}`;
  let response = await go(start);
  if (response.status !== 302) throw new Error(`login -> ${response.status} ${await response.text()}`);
  if (options.tamperFlow) {
    const flow = JSON.parse(Buffer.from(jar.get(app.url, 'backflow_sso')!, 'base64url').toString());
    options.tamperFlow(flow);
    jar.set(app.url, 'backflow_sso', Buffer.from(JSON.stringify(flow)).toString('base64url'));
  }
  let url = new URL(response.headers.get('location')!, start).href;
  const providerOrigin = new URL(url).origin;
  for (let step = 0; step < 20; step++) {
    if (url.startsWith(app.url)) break;
    response = await go(url);
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location')!, url).href;
      continue;
    }
    const page = await response.text();
    if (response.status !== 200) throw new Error(`provider ${url} -> ${response.status}: ${page.slice(0, 500)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    if (!action) throw new Error(`no form at ${url}: ${page.slice(0, 500)}`);
    const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
    const target = new URL(action.replace(/&amp;/g, '&'), url).href;
    if (prompt === 'login') response = await go(target, { method: 'POST', body: new URLSearchParams({ prompt, login, password: 'any password' }) });
    else if (options.abortAtConsent) response = await go(`${target}/abort`);
    else response = await go(target, { method: 'POST', body: new URLSearchParams({ prompt: prompt ?? 'consent' }) });
    url = new URL(response.headers.get('location')!, target).href;
  }
  const callback = new URL(url);
  options.tamperCallback?.(callback);
  // the provider's redirect: a top-level navigation from its site, as a browser makes it
  response = await go(callback.href, { referer: `${providerOrigin}/` });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return {
    status: response.status,
    location: response.headers.get('location'),
    body,
    session: jar.get(app.url, 'backflow_session'),
    callbackUrl: callback.href,
    jar,
  };
}
