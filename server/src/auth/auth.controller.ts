import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ChangePasswordRequest, LoginRequest, LoginResponse, MeResponse, PasswordChangedResponse, SignInMethodsResponse } from '@backflow/contracts';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { openApiSchema, ValidBody } from '../common/validation/zod-validation.pipe';
import { CurrentUser, Public } from './auth.decorators';
import { AuthErrors } from './auth.errors';
import { AuthService } from './auth.service';
import { PasswordsService } from './passwords.service';
import { SESSION_COOKIE } from './request-credentials';
import { setSessionCookie } from './session-cookie';
import type { UserPrincipal } from './principal';
import { SsoService } from './sso.service';
import { toUserResponse, UsersService } from './users.service';

@ApiTags('auth')
@Controller('api/v1')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
    private readonly passwords: PasswordsService,
    private readonly sso: SsoService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** How to sign in here: a password, the OpenID provider, or both (what the sign-in page shows). */
  @Public()
  @Get('auth/methods')
  @ApiOkResponse({ schema: openApiSchema(SignInMethodsResponse) })
  methods(): SignInMethodsResponse {
    return this.sso.methods();
  }

  @Public()
  @Post('auth/login')
  @HttpCode(200)
  @ApiOkResponse({ schema: openApiSchema(LoginResponse) })
  async login(
    @ValidBody(LoginRequest) body: LoginRequest,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<LoginResponse> {
    reply.header('cache-control', 'no-store');
    const result = await this.auth.login(body, { ip: request.ip, userAgent: request.headers['user-agent'] });
    setSessionCookie(reply, result, this.config);
    return result;
  }

  @Post('auth/logout')
  @HttpCode(204)
  async logout(@CurrentUser() user: UserPrincipal, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.auth.logout(user.sessionId);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
  }

  @Get('me')
  @ApiOkResponse({ schema: openApiSchema(MeResponse) })
  async me(@CurrentUser() principal: UserPrincipal): Promise<MeResponse> {
    const user = await this.users.findById(principal.userId);
    if (!user) throw AuthErrors.unauthenticated();
    const memberships = await this.users.membershipsOf(user.id);
    return {
      user: toUserResponse(user),
      memberships: memberships.map(({ projectSlug, role }) => ({ projectSlug, role })),
      localPassword: this.config.localPasswords && user.passwordHash.startsWith('$'),
    };
  }

  /** Changes the caller's password (the current one proves it is them); their other sessions end at once. */
  @Post('me/password')
  @HttpCode(200)
  @ApiOkResponse({ schema: openApiSchema(PasswordChangedResponse) })
  changePassword(
    @ValidBody(ChangePasswordRequest) body: ChangePasswordRequest,
    @CurrentUser() principal: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<PasswordChangedResponse> {
    return this.passwords.change(principal, body, { ip: request.ip, requestId: String(request.id) });
  }
}
