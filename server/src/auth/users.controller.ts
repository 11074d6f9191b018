import { Controller, Get, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { CreateUserRequest, UserResponse } from '@backflow/contracts';
import { openApiSchema, ValidBody } from '../common/validation/zod-validation.pipe';
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
  async list(): Promise<{ users: UserResponse[] }> {
    return { users: await this.users.list() };
  }
}
