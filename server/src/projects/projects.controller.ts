import { Controller, Delete, Get, HttpCode, Patch, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  AddMemberRequest,
  ApiKeyResponse,
  CreateApiKeyRequest,
  CreatedApiKeyResponse,
  CreateProjectRequest,
  DeleteProjectQuery,
  MemberResponse,
  ProjectListResponse,
  ProjectResponse,
  UpdateProjectRequest,
} from '@backflow/contracts';
import { ApiKeysService } from '../auth/api-keys.service';
import { CurrentUser, Roles } from '../auth/auth.decorators';
import type { UserPrincipal } from '../auth/principal';
import { Actor, UsersService } from '../auth/users.service';
import { openApiSchema, ValidBody, ValidParam, ValidQuery } from '../common/validation/zod-validation.pipe';
import { ProjectRoute } from './project-access.guard';
import { ProjectsService, toProjectResponse } from './projects.service';
import { ProjectErrors } from './projects.errors';

function actorOf(user: UserPrincipal, request: FastifyRequest): Actor {
  return { userId: user.userId, requestId: String(request.id) };
}

@ApiTags('projects')
@Controller('api/v1/projects')
export class ProjectsController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly users: UsersService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  @Get()
  @ApiOkResponse({ schema: openApiSchema(ProjectListResponse) })
  async list(@CurrentUser() user: UserPrincipal): Promise<ProjectListResponse> {
    const visible = await this.projects.listFor(user);
    const projects = visible.map(({ project, role }) => toProjectResponse(project, role));
    return { projects, items: projects };
  }

  @Post()
  @Roles('admin')
  @ApiCreatedResponse({ schema: openApiSchema(ProjectResponse) })
  async create(
    @ValidBody(CreateProjectRequest) body: CreateProjectRequest,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<ProjectResponse> {
    return toProjectResponse(await this.projects.create(body, actorOf(user, request)), 'admin');
  }

  @Get(':slug')
  @ProjectRoute({ members: ['rater', 'reviewer'], apiKeyScopes: ['export:read'] })
  @ApiOkResponse({ schema: openApiSchema(ProjectResponse) })
  async get(@Req() request: FastifyRequest): Promise<ProjectResponse> {
    const project = await this.projects.getBySlug((request.params as { slug: string }).slug);
    return toProjectResponse(project, request.projectAccess?.role ?? 'admin');
  }

  @Patch(':slug')
  @Roles('admin')
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(ProjectResponse) })
  async update(
    @ValidBody(UpdateProjectRequest) body: UpdateProjectRequest,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<ProjectResponse> {
    const slug = (request.params as { slug: string }).slug;
    return toProjectResponse(await this.projects.update(slug, body, actorOf(user, request)), 'admin');
  }

  /** Deletes the project and everything in it; `?confirm=<slug>` guards against a slip. */
  @Delete(':slug')
  @Roles('admin')
  @ProjectRoute()
  @HttpCode(204)
  async remove(@ValidQuery(DeleteProjectQuery) query: { confirm: string }, @CurrentUser() user: UserPrincipal, @Req() request: FastifyRequest): Promise<void> {
    const slug = (request.params as { slug: string }).slug;
    if (query.confirm !== slug) throw ProjectErrors.confirmationMismatch(slug);
    await this.projects.remove(slug, actorOf(user, request));
  }

  @Get(':slug/members')
  @Roles('admin')
  @ProjectRoute()
  async members(@Req() request: FastifyRequest): Promise<{ members: MemberResponse[] }> {
    const project = await this.projects.getBySlug((request.params as { slug: string }).slug);
    return { members: await this.users.members(project) };
  }

  @Post(':slug/members')
  @Roles('admin')
  @ProjectRoute()
  @ApiCreatedResponse({ schema: openApiSchema(MemberResponse) })
  async addMember(
    @ValidBody(AddMemberRequest) body: AddMemberRequest,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<MemberResponse> {
    const project = await this.projects.getBySlug((request.params as { slug: string }).slug);
    return this.users.addMember(project, body.email, body.role, actorOf(user, request));
  }

  @Delete(':slug/members/:userId')
  @Roles('admin')
  @ProjectRoute()
  @HttpCode(204)
  async removeMember(@ValidParam('userId', z.uuid()) userId: string, @CurrentUser() user: UserPrincipal, @Req() request: FastifyRequest): Promise<void> {
    const project = await this.projects.getBySlug((request.params as { slug: string }).slug);
    if (!(await this.users.removeMember(project, userId, actorOf(user, request)))) throw ProjectErrors.memberNotFound(userId);
  }

  @Get(':slug/api-keys')
  @Roles('admin')
  @ProjectRoute()
  async listApiKeys(@Req() request: FastifyRequest): Promise<{ apiKeys: ApiKeyResponse[] }> {
    const project = await this.projects.getBySlug((request.params as { slug: string }).slug);
    return { apiKeys: await this.apiKeys.list(project.id) };
  }

  @Post(':slug/api-keys')
  @Roles('admin')
  @ProjectRoute()
  @ApiCreatedResponse({ schema: openApiSchema(CreatedApiKeyResponse) })
  async createApiKey(
    @ValidBody(CreateApiKeyRequest) body: CreateApiKeyRequest,
    @CurrentUser() user: UserPrincipal,
    @Req() request: FastifyRequest,
  ): Promise<CreatedApiKeyResponse> {
    const project = await this.projects.getBySlug((request.params as { slug: string }).slug);
    return this.apiKeys.create(project.id, body, actorOf(user, request));
  }

  @Delete(':slug/api-keys/:id')
  @Roles('admin')
  @ProjectRoute()
  @ApiOkResponse({ schema: openApiSchema(ApiKeyResponse) })
  async revokeApiKey(@ValidParam('id', z.uuid()) id: string, @CurrentUser() user: UserPrincipal, @Req() request: FastifyRequest): Promise<ApiKeyResponse> {
    const project = await this.projects.getBySlug((request.params as { slug: string }).slug);
    return this.apiKeys.revoke(project.id, id, actorOf(user, request));
  }
}
