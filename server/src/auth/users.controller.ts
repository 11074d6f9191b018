import { Controller, Get, HttpCode, Patch, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { AdminUserResponse, CreateUserRequest, PasswordResetResponse, ResetPasswordRequest, UpdateUserRequest, UserResponse } from '@backflow/contracts';
import { openApiSchema, ValidBody, ValidParam } from '../common/validation/zod-validation.pipe';
import { CurrentUser, Roles } from './auth.decorators';
import type { UserPrincipal } from './principal';
import { PasswordsService } from './passwords.service';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('api/v1/users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordsService,
  ) {}

  @Post()
  @Roles('admin')
  @ApiCreatedResponse({ schema: openApiSchema(UserResponse) })
  create(@ValidBody(CreateUserRequest) body: CreateUserRequest, @CurrentUser() admin: UserPrincipal, @Req() request: FastifyRequest): Promise<UserResponse> {
    return this.users.create(body, { userId: admin.userId, requestId: String(request.id) });
  }

  @Get()
  @Roles('admin')
  async list(): Promise<{ users: AdminUserResponse[] }> {
    return { users: await this.users.list() };
  }

  /** Changes a user's global role, or disables them (they can no longer sign in; their sessions end). */
  @Patch(':id')
  @Roles('admin')
  @ApiOkResponse({ schema: openApiSchema(AdminUserResponse) })
  update(
    @ValidParam('id', z.uuid()) id: string,
    @ValidBody(UpdateUserRequest) body: UpdateUserRequest,
    @CurrentUser() admin: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<AdminUserResponse> {
    return this.users.update(id, body, { userId: admin.userId, requestId: String(request.id) });
  }

  /** Sets somebody's password (the one given, or a generated one answered once); all of their sessions end at once. Audited. */
  @Post(':id/password')
  @Roles('admin')
  @HttpCode(200)
  @ApiOkResponse({ schema: openApiSchema(PasswordResetResponse) })
  resetPassword(
    @ValidParam('id', z.uuid()) id: string,
    @ValidBody(ResetPasswordRequest) body: ResetPasswordRequest,
    @CurrentUser() admin: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<PasswordResetResponse> {
    return this.passwords.reset(id, body, { userId: admin.userId, sessionId: admin.sessionId, requestId: String(request.id) });
  }
}
