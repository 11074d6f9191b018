import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LoginRequest, LoginResponse, MeResponse } from '@backflow/contracts';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { openApiSchema, ValidBody } from '../common/validation/zod-validation.pipe';
import { CurrentUser, Public } from './auth.decorators';
import { AuthErrors } from './auth.errors';
import { AuthService } from './auth.service';
import { SESSION_COOKIE } from './request-credentials';
import type { UserPrincipal } from './principal';
import { toUserResponse, UsersService } from './users.service';

@ApiTags('auth')
@Controller('api/v1')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

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
    reply.setCookie(SESSION_COOKIE, result.token, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.config.session.cookieSecure,
      path: '/',
      expires: new Date(result.expiresAt),
    });
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
    return { user: toUserResponse(user), memberships: memberships.map(({ projectSlug, role }) => ({ projectSlug, role })) };
  }
}
