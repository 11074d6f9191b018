import { Module } from '@nestjs/common';
import { ApiKeysService } from './api-keys.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { PasswordsService } from './passwords.service';
import { SsoController } from './sso.controller';
import { SsoService } from './sso.service';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  controllers: [AuthController, UsersController, SsoController],
  providers: [AuthService, UsersService, ApiKeysService, PasswordsService, SsoService],
  exports: [AuthService, UsersService, ApiKeysService, PasswordsService],
})
export class AuthModule {}
