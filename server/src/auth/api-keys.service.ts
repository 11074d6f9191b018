import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ApiKeyResponse, CreateApiKeyRequest, CreatedApiKeyResponse } from '@backflow/contracts';
import { AuditService } from '../common/audit/audit.service';
import { CacheInvalidation } from '../common/cache/cache-invalidation';
import { ApiKeyEntity } from './api-key.entity';
import { AuthErrors } from './auth.errors';
import { AuthService } from './auth.service';
import { digest, newApiKey } from './credentials';
import type { Actor } from './users.service';

function toResponse(key: ApiKeyEntity): ApiKeyResponse {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

@Injectable()
export class ApiKeysService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly auth: AuthService,
    private readonly invalidation: CacheInvalidation,
  ) {}

  /** The secret is returned here once; only its digest is stored. */
  async create(projectId: string, request: CreateApiKeyRequest, actor: Actor): Promise<CreatedApiKeyResponse> {
    const { prefix, secret } = newApiKey();
    return this.dataSource.transaction(async (manager) => {
      const key = manager.getRepository(ApiKeyEntity).create({
        projectId,
        name: request.name,
        prefix,
        secretHash: digest(secret),
        scopes: request.scopes,
        createdBy: actor.userId,
      });
      const saved = await manager.getRepository(ApiKeyEntity).save(key);
      await this.audit.record(
        {
          actorUserId: actor.userId,
          action: 'api_key.created',
          targetType: 'api_key',
          targetId: saved.id,
          projectId,
          details: { name: saved.name, scopes: saved.scopes },
          requestId: actor.requestId,
        },
        manager,
      );
      const stored = await manager.getRepository(ApiKeyEntity).findOneByOrFail({ id: saved.id });
      return { ...toResponse(stored), secret };
    });
  }

  async list(projectId: string): Promise<ApiKeyResponse[]> {
    const keys = await this.dataSource.getRepository(ApiKeyEntity).find({ where: { projectId }, order: { createdAt: 'ASC' } });
    return keys.map(toResponse);
  }

  /** Revoking twice is not an error: the key stays revoked at its first time. */
  async revoke(projectId: string, id: string, actor: Actor): Promise<ApiKeyResponse> {
    const revoked = await this.dataSource.transaction(async (manager) => {
      const key = await manager.getRepository(ApiKeyEntity).findOneBy({ id, projectId });
      if (!key) throw AuthErrors.apiKeyNotFound(id);
      if (!key.revokedAt) {
        key.revokedAt = new Date();
        await manager.getRepository(ApiKeyEntity).update({ id }, { revokedAt: key.revokedAt });
        await this.audit.record(
          { actorUserId: actor.userId, action: 'api_key.revoked', targetType: 'api_key', targetId: id, projectId, requestId: actor.requestId },
          manager,
        );
        await this.invalidation.publish(manager, 'api_key', id);
      }
      return toResponse(key);
    });
    this.auth.forgetApiKey(id);
    return revoked;
  }
}
