import { Inject, Injectable, Logger } from '@nestjs/common';
import * as oidc from 'openid-client';
import { SsoLoginQuery, type SignInMethodsResponse } from '@backflow/contracts';
import { APP_CONFIG, AppConfig, type SsoConfig } from '../config/app-config';
import { DomainError } from '../common/errors';
import { AuthErrors } from './auth.errors';
import { AuthService, type ClientInfo } from './auth.service';
import { accessOf, identityOf, managedProjects } from './sso-claims';
import { UsersService } from './users.service';

/** How long a browser may take from the provider's sign-in page back to the callback. */
export const SSO_FLOW_SECONDS = 600;

/** One sign-in under way, kept by the browser that started it (an HttpOnly cookie) until the provider sends it back. */
interface SsoFlow {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  /** epoch milliseconds */
  expiresAt: number;
}

// how long discovery, the token exchange and userinfo may take before the provider counts as unreachable
const PROVIDER_TIMEOUT_SECONDS = 10;

/**
 * Single sign-on with an OpenID Connect provider (openid-client): the authorization code flow
 * with PKCE (S256), state and nonce, the provider found by discovery from its issuer URL. A
 * sign-in's secrets travel in the starting browser's own cookie, so any node can finish it; the
 * account is made or brought up to date from the claims (UsersService), and the session is the
 * one every other sign-in makes.
 */
@Injectable()
export class SsoService {
  private readonly logger = new Logger('SsoService');
  private provider: Promise<oidc.Configuration> | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  methods(): SignInMethodsResponse {
    const sso = this.config.sso;
    return { password: this.config.localPasswords, sso: sso ? { provider: sso.providerName, loginUrl: '/api/v1/auth/oidc/login' } : null };
  }

  /** Starts a sign-in: where to send the browser, and the flow to keep in its cookie. */
  async begin(returnTo = '/'): Promise<{ url: string; flow: string }> {
    const sso = this.settings();
    const provider = await this.discovered(sso);
    const flow: SsoFlow = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      returnTo,
      expiresAt: Date.now() + SSO_FLOW_SECONDS * 1000,
    };
    const url = oidc.buildAuthorizationUrl(provider, {
      redirect_uri: sso.redirectUrl,
      scope: sso.scopes.join(' '),
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, flow: Buffer.from(JSON.stringify(flow)).toString('base64url') };
  }

  /**
   * Finishes a sign-in from the provider's redirect (`search`: the callback's query string) and
   * the flow the browser kept: the code is exchanged with the PKCE verifier, the ID token checked
   * (signature, issuer, audience, expiry, nonce), the person's account made or updated from the
   * claims, and a session started. Every failure is a DomainError with its own code.
   */
  async complete(
    search: string,
    keptFlow: string | undefined,
    client: ClientInfo & { requestId?: string },
  ): Promise<{ token: string; expiresAt: string; returnTo: string }> {
    const sso = this.settings();
    const flow = readFlow(keptFlow);
    const answer = new URLSearchParams(search);
    if (answer.get('state') !== flow.state) throw AuthErrors.ssoStateMismatch();
    const error = answer.get('error');
    if (error) throw AuthErrors.ssoRefused(error, answer.get('error_description') ?? undefined);
    const provider = await this.discovered(sso);
    const callback = new URL(sso.redirectUrl);
    callback.search = search;
    let claims: Record<string, unknown>;
    try {
      const tokens = await oidc.authorizationCodeGrant(provider, callback, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims()!;
      // groups and email are often in userinfo only (claims a scope grants stay out of the ID token)
      const userinfo = provider.serverMetadata().userinfo_endpoint ? await oidc.fetchUserInfo(provider, tokens.access_token, idToken.sub) : {};
      claims = { ...userinfo, ...idToken };
    } catch (cause) {
      throw this.refusalOf(cause);
    }
    const identity = identityOf(claims, sso.claims);
    const actor = { userId: null, requestId: client.requestId };
    const access = accessOf(identity, sso);
    if (!access) {
      const ended = await this.users.endProviderSessions(sso.issuer, identity.subject, actor);
      this.logger.log(`refused ${identity.email} at single sign-on: no role for their claims${ended ? `; ${ended} sessions ended` : ''}`);
      throw AuthErrors.ssoNoRole();
    }
    const user = await this.users.signInFromProvider(sso.issuer, identity, access, managedProjects(sso), actor);
    return { ...(await this.auth.startSession(user.id, client)), returnTo: flow.returnTo };
  }

  private settings(): SsoConfig {
    if (!this.config.sso) throw AuthErrors.ssoNotConfigured();
    return this.config.sso;
  }

  /** The provider's configuration, discovered once per process; a failed discovery is tried again at the next sign-in. */
  private discovered(sso: SsoConfig): Promise<oidc.Configuration> {
    this.provider ??= oidc
      .discovery(
        new URL(sso.issuer),
        sso.clientId,
        undefined,
        // client_secret_basic, the method every provider must accept; a public client proves the code with PKCE alone
        sso.clientSecret ? oidc.ClientSecretBasic(sso.clientSecret) : oidc.None(),
        // plain http only for a provider on this machine (the configuration refuses it elsewhere)
        { timeout: PROVIDER_TIMEOUT_SECONDS, execute: sso.issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [] },
      )
      .catch((cause: unknown) => {
        this.provider = undefined;
        this.logger.warn(`OpenID discovery of ${sso.issuer} failed: ${String(cause)}`);
        throw AuthErrors.ssoUnavailable(`discovery of ${sso.issuer} failed (${messageOf(cause)})`);
      });
    return this.provider;
  }

  /** What a failed exchange tells the person, by what went wrong. */
  private refusalOf(cause: unknown): DomainError {
    if (cause instanceof DomainError) return cause;
    if (cause instanceof oidc.ResponseBodyError) {
      return cause.error === 'invalid_grant'
        ? AuthErrors.ssoCodeRejected(cause.error_description ?? cause.error)
        : AuthErrors.ssoInvalidResponse(cause.message);
    }
    if (cause instanceof oidc.AuthorizationResponseError) return AuthErrors.ssoRefused(cause.error, cause.error_description);
    // openid-client's ClientError wraps oauth4webapi's error, whose cause names the claim at fault
    const { code, cause: inner } = cause as { code?: string; cause?: { message?: string; cause?: { claim?: string } } };
    if (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' && inner?.cause?.claim === 'nonce') return AuthErrors.ssoNonceMismatch();
    if (typeof code === 'string' && code.startsWith('OAUTH_')) return AuthErrors.ssoInvalidResponse(inner?.message ?? messageOf(cause));
    this.logger.warn(`the OpenID provider could not be reached: ${String(cause)}`);
    return AuthErrors.ssoUnavailable(messageOf(cause));
  }
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** The flow the browser kept, or a refusal when there is none, it is not one, or it is too old. */
function readFlow(kept: string | undefined): SsoFlow {
  if (!kept) throw AuthErrors.ssoFlowMissing();
  let flow: Partial<SsoFlow>;
  try {
    flow = JSON.parse(Buffer.from(kept, 'base64url').toString('utf8')) as Partial<SsoFlow>;
  } catch {
    throw AuthErrors.ssoFlowMissing();
  }
  const complete =
    typeof flow.state === 'string' &&
    typeof flow.nonce === 'string' &&
    typeof flow.codeVerifier === 'string' &&
    typeof flow.returnTo === 'string' &&
    SsoLoginQuery.safeParse({ returnTo: flow.returnTo }).success &&
    typeof flow.expiresAt === 'number';
  if (!complete || flow.expiresAt! < Date.now()) throw AuthErrors.ssoFlowMissing();
  return flow as SsoFlow;
}
