import { Controller, Get, Patch, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { AdminUserResponse, CreateUserRequest, UpdateUserRequest, UserResponse } from '@backflow/contracts';
import { openApiSchema, ValidBody, ValidParam } from '../common/validation/zod-validation.pipe';
import { CurrentUser, Roles } from './auth.decorators';
import type { UserPrincipal } from './principal';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

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
}
