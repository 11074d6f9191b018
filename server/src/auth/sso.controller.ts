import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SsoCallbackQuery, SsoLoginQuery } from '@backflow/contracts';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError } from '../common/errors';
import { ValidQuery } from '../common/validation/zod-validation.pipe';
import { Public } from './auth.decorators';
import { setSessionCookie } from './session-cookie';
import { SSO_FLOW_SECONDS, SsoService } from './sso.service';

/** The cookie that keeps a sign-in's state, nonce and PKCE verifier in the browser that started it, sent to these routes only. */
const FLOW_COOKIE = 'backflow_sso';
const FLOW_PATH = '/api/v1/auth/oidc';

/**
 * Single sign-on through the OpenID provider: both routes are top-level browser navigations (GET),
 * so a session cookie set by the callback is the product's usual one. The callback is a GET the
 * provider redirects to from its own site: it changes nothing unless the browser holds the flow
 * cookie it was given when it started (SameSite=Lax cookies ride on such navigations), and the
 * answer matches that flow's state, nonce and PKCE verifier.
 */
@ApiTags('auth')
@Controller('api/v1/auth/oidc')
export class SsoController {
  constructor(
    private readonly sso: SsoService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Sends the browser to the provider's sign-in page; it comes back to `returnTo` (a path of this
   * app) signed in. A provider that cannot be reached is refused like a failed sign-in.
   */
  @Public()
  @Get('login')
  @ApiResponse({ status: 302, description: "to the provider's authorization endpoint" })
  async login(@ValidQuery(SsoLoginQuery) query: { returnTo?: string }, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    void reply.header('cache-control', 'no-store');
    try {
      const { url, flow } = await this.sso.begin(query.returnTo);
      reply.setCookie(FLOW_COOKIE, flow, {
        httpOnly: true,
        sameSite: 'lax',
        secure: this.config.session.cookieSecure,
        path: FLOW_PATH,
        maxAge: SSO_FLOW_SECONDS,
      });
      void reply.redirect(url, 302);
    } catch (error) {
      refuse(error, request, reply);
    }
  }

  /**
   * The provider's redirect back. Signed in: the session cookie, and on to the page the sign-in
   * started from. Refused: a browser is taken to the sign-in page with the error's code
   * (`/?signInError=auth/sso_no_role`); any other caller gets the error itself.
   */
  @Public()
  @Get('callback')
  @ApiResponse({ status: 303, description: 'signed in: to the page the sign-in started from' })
  async callback(@ValidQuery(SsoCallbackQuery) _query: Record<string, unknown>, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const search = request.url.slice(request.url.indexOf('?') + 1 || request.url.length);
    reply.clearCookie(FLOW_COOKIE, { path: FLOW_PATH });
    void reply.header('cache-control', 'no-store');
    try {
      const session = await this.sso.complete(search, request.cookies[FLOW_COOKIE], {
        ip: request.ip,
        userAgent: request.headers['user-agent'],
        requestId: String(request.id),
      });
      setSessionCookie(reply, session, this.config);
      void reply.redirect(session.returnTo, 303);
    } catch (error) {
      refuse(error, request, reply);
    }
  }
}

/** A refusal: a browser's navigation is taken to the sign-in page, which says why by the code; any other caller gets the error. */
function refuse(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  if (!(error instanceof DomainError) || !(request.headers.accept ?? '').includes('text/html')) throw error;
  request.log.info({ code: error.code }, `single sign-on refused: ${error.message}`);
  void reply.redirect(`/?signInError=${encodeURIComponent(error.code)}`, 303);
}
