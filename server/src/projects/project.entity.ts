import { Column, Entity, PrimaryColumn } from 'typeorm';
import type {
  ExportSettings,
  FeedbackRules,
  IntegrationSettings,
  LabelDefinition,
  LabelingSettings,
  MonitoringSettings,
  Question,
  RetentionSettings,
  RoutingPolicy,
  TaskType,
  WeakSupervisionSettings,
} from '@backflow/contracts';

@Entity({ name: 'projects' })
export class ProjectEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' })
  id!: string;

  @Column({ type: 'text' })
  slug!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'task_type', type: 'text' })
  taskType!: TaskType;

  /** the routing question's labels (none for a kind without labels), kept beside `questions` for the readers of labels */
  @Column({ type: 'jsonb' })
  labels!: LabelDefinition[];

  /** what raters are asked of each item, in order */
  @Column({ type: 'jsonb' })
  questions!: Question[];

  /** the question the model's output is for: routing, monitoring and feedback rules read it */
  @Column({ name: 'routing_question', type: 'text' })
  routingQuestion!: string;

  @Column({ type: 'text', default: '' })
  instructions!: string;

  @Column({ type: 'integer', default: 1 })
  overlap!: number;

  @Column({ name: 'masked_fields', type: 'jsonb', default: () => `'[]'` })
  maskedFields!: string[];

  @Column({ name: 'labeling_settings', type: 'jsonb' })
  labelingSettings!: LabelingSettings;

  @Column({ type: 'jsonb' })
  routing!: RoutingPolicy;

  @Column({ name: 'feedback_rules', type: 'jsonb' })
  feedbackRules!: FeedbackRules;

  @Column({ name: 'export_settings', type: 'jsonb' })
  exportSettings!: ExportSettings;

  /** as stored: projects made before monitoring had settings hold `{}` (read with `monitoringSettingsOf`) */
  @Column({ name: 'monitoring_settings', type: 'jsonb', default: () => `'{}'` })
  monitoringSettings!: Partial<MonitoringSettings>;

  /** as stored: projects made before the integrations hold `{}` (read with `integrationSettingsOf`) */
  @Column({ name: 'integration_settings', type: 'jsonb', default: () => `'{}'` })
  integrationSettings!: Partial<IntegrationSettings>;

  /** null: every prediction is kept */
  @Column({ name: 'retention_settings', type: 'jsonb', nullable: true })
  retention!: RetentionSettings | null;

  /** as stored: projects made before labeling functions hold `{}` (read with `weakSupervisionOf`) */
  @Column({ name: 'weak_supervision', type: 'jsonb', default: () => `'{}'` })
  weakSupervision!: Partial<WeakSupervisionSettings>;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
