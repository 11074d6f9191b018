import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { UserRole } from '@backflow/contracts';

@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' })
  id!: string;

  @Column({ type: 'text' })
  email!: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ type: 'text' })
  role!: UserRole;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt!: Date | null;

  /** the OpenID provider the account is linked to (with sso_subject), or null */
  @Column({ name: 'sso_issuer', type: 'text', nullable: true })
  ssoIssuer!: string | null;

  /** the person's `sub` at that provider */
  @Column({ name: 'sso_subject', type: 'text', nullable: true })
  ssoSubject!: string | null;

  @Column({ name: 'password_changed_at', type: 'timestamptz', nullable: true })
  passwordChangedAt!: Date | null;
}
