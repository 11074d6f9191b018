import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  baselineOf,
  defaultDataset,
  featureName,
  inferSchema,
  monitoringFeatureOf,
  Schema,
  weightedProportion,
  type AnomaliesObject,
  type FeatureStatisticsLike,
  type SchemaLike,
} from '@backflow/drift';
import { ArtifactError, decodeStatistics, parseSchemaText, printSchema } from '@backflow/tfmd';
import { answerColumns, kindMeasureOf, type Question } from '@backflow/questions';
import type {
  BaselineFeature,
  BaselineStatisticsReply,
  BaselineStatisticsRequest,
  ClickQuery,
  ClickReport,
  EvaluateReply,
  FeedbackSignals,
  FeedbackSignalsQuery,
  FeatureSchemaReply,
  FeatureSchemaRequest,
  FeatureSkewReport,
  MonitoringAlert,
  MonitoringReply,
  MonitoringSettings,
  PreferenceQuery,
  PreferenceReport,
  TrainingExamplesQuery,
} from '@backflow/contracts';
import { DEFAULT_MASKED_FIELD_POLICY } from '@backflow/contracts';
import { JobsService } from '../common/jobs/jobs.service';
import { deliver } from '../common/webhook/webhook';
import type { ProjectEntity } from '../projects/project.entity';
import { monitoringSettingsOf, ProjectsService } from '../projects/projects.service';
import { RoutingService } from '../routing/routing.service';
import { routingQuestion } from '../projects/project-questions';
import { accuracyAlerts, accuracyTable, anomaliesIn, driftOf, headlineAlerts, partitionsOf, rolledInputs, skewOf, Windows } from './monitoring-figures';
import {
  comparatorsOf,
  declaredTypes,
  maskedAnomalies,
  maskedSchema,
  maskedStatistics,
  schemaSkewAlerts,
  servingEnvironment,
  tfdvSchemaOf,
  trainingDataset,
  validateWindow,
} from './tfdv-window';
import { featureSkew, featureSkewAlerts, identifierOf, maskedFeatureSkew, readTrainingExamples } from './feature-skew';
import { MonitoringRepository, NewAlert, ObservedInput, StoredAlert, WindowPrediction } from './monitoring.repository';
import { clickAlerts, clickReport, clickTypesOf } from './clicks';
import { preferenceReport } from './preferences';
import { feedbackSignals } from './feedback-signals';
import { DomainError } from '../common/errors';
import { hourFloor } from '../common/database/time-partitions';

const HOUR_MS = 3_600_000;
// a ranking slice's click-through is judged over this many days, day by day
const CLICK_ALERT_DAYS = 28;
// the scheduled evaluation estimates a ranking's examination again once the last estimate is this old
const EXAMINATION_REFRESH_MS = HOUR_MS;
// inputs read per window for drift and anomalies (the newest)
const MAX_INPUTS = 20_000;
const WEBHOOK_JOB = 'monitoring-webhook';

function toAlert(a: StoredAlert): MonitoringAlert {
  return {
    id: a.id,
    kind: a.kind,
    metric: a.metric as MonitoringAlert['metric'],
    anomalyType: a.anomalyType as MonitoringAlert['anomalyType'],
    slice: a.slice,
    feature: a.feature,
    message: a.message,
    value: a.value,
    baseline: a.baseline,
    threshold: a.threshold,
    createdAt: a.createdAt.toISOString(),
    resolvedAt: a.resolvedAt?.toISOString() ?? null,
  };
}

interface Assessment {
  settings: MonitoringSettings;
  windows: Windows;
  reply: Omit<MonitoringReply, 'alerts' | 'boosts'>;
  failing: NewAlert[];
}

/** Live model quality per slice from the labels, input drift and anomalies, and the alerts they raise. */
@Injectable()
export class MonitoringService implements OnModuleInit {
  private readonly logger = new Logger('MonitoringService');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: MonitoringRepository,
    private readonly routing: RoutingService,
    private readonly projects: ProjectsService,
    private readonly jobs: JobsService,
  ) {}

  onModuleInit(): void {
    this.jobs.schedule('monitoring-evaluate', '*/5 * * * *', () => this.evaluateAll());
    this.jobs.handle<{ projectId: string; alertIds: string[]; delivery: string }>(WEBHOOK_JOB, (job) => this.sendAlerts(job), { retryLimit: 10 });
  }

  private windows(settings: MonitoringSettings, now: Date, chartHours: number): Windows {
    const windowFrom = new Date(now.getTime() - settings.windowHours * HOUR_MS);
    return {
      now,
      windowFrom,
      baselineFrom: new Date(windowFrom.getTime() - settings.baselineDays * 24 * HOUR_MS),
      chartFrom: new Date(now.getTime() - chartHours * HOUR_MS),
      bucket: chartHours <= 72 ? 'hour' : 'day',
    };
  }

  /** The project's schema: uploaded, or inferred once from traffic and kept. */
  private async schemaOf(project: ProjectEntity, sample: readonly ObservedInput[]): Promise<Schema> {
    const stored = await this.repository.schema(this.dataSource.manager, project.id);
    if (stored && (stored.source === 'uploaded' || stored.schema.features.length)) return stored.schema;
    if (sample.length === 0) return { features: [] };
    const schema = inferSchema(sample.map((i) => i.input));
    await this.repository.saveSchema(this.dataSource.manager, project.id, schema, 'inferred');
    return schema;
  }

  /**
   * The inputs of the current window and of the reference window before it (none for a project
   * with retention, which measures against the reference window's rollups), the newest of each,
   * and the schema they are judged by.
   */
  private async windowInputs(
    project: ProjectEntity,
    windows: Windows,
  ): Promise<{ baselineInputs: ObservedInput[]; currentInputs: WindowPrediction[]; schema: Schema }> {
    const manager = this.dataSource.manager;
    const [baselineInputs, currentInputs] = await Promise.all([
      project.retention ? Promise.resolve([]) : this.repository.inputsBetween(manager, project.id, windows.baselineFrom, windows.windowFrom, MAX_INPUTS),
      this.repository.inputsBetween(manager, project.id, windows.windowFrom, windows.now, MAX_INPUTS),
    ]);
    const schema = await this.schemaOf(project, baselineInputs.length ? baselineInputs : currentInputs);
    return { baselineInputs, currentInputs, schema };
  }

  private async assess(project: ProjectEntity, now: Date, chartHours: number): Promise<Assessment> {
    const settings = monitoringSettingsOf(project);
    const windows = this.windows(settings, now, chartHours);
    const manager = this.dataSource.manager;
    const since = new Date(Math.min(windows.baselineFrom.getTime(), windows.chartFrom.getTime()));
    const question = routingQuestion(project);
    const measure = kindMeasureOf(question);
    const [labels, feedback, { baselineInputs, currentInputs, schema }] = await Promise.all([
      this.repository.humanLabelsSince(manager, project.id, since, measure && question),
      this.repository.feedbackAgreement(manager, project.id, windows.chartFrom),
      this.windowInputs(project, windows),
    ]);
    const [uploaded, artifacts, featureSkew, stored] = await Promise.all([
      this.repository.baselineStatistics(manager, project.id),
      this.repository.tfdvArtifacts(manager, project.id),
      this.repository.featureSkew(manager, project.id),
      this.repository.schema(manager, project.id),
    ]);
    // a project with retention measures drift against the reference window's hourly rollups: the same figure once its raw rows are gone
    const rolled = project.retention
      ? await this.repository.rolledHours(manager, project.id, hourFloor(windows.baselineFrom), hourFloor(windows.windowFrom))
      : undefined;
    // a multi-label question's labels are measured one by one in `metrics.current.perLabel`: per class, only a label question's
    const classes = measure ? [] : project.labels.map((l) => l.name);
    // the sample of the window's predictions stands for all of them: counted only when the sample is capped
    const windowPredictions =
      currentInputs.length < MAX_INPUTS ? currentInputs.length : await this.repository.countBetween(manager, project.id, windows.windowFrom, windows.now);
    const accuracy = accuracyTable(labels, windows, classes, measure, {
      predictions: currentInputs,
      scale: currentInputs.length ? windowPredictions / currentInputs.length : 1,
      minExplored: settings.minLabels,
    });
    const tfdvSchema = artifacts.schema as SchemaLike | undefined;
    const declared = declaredTypes(schema, tfdvSchema);
    const training = trainingDataset(artifacts.statistics);
    // the window's slices and buckets, partitioned once for drift and skew (whose statistics of each are then worked out once)
    const partitions = partitionsOf(currentInputs, baselineInputs, windows, settings.drift.sliceKeys);
    const drift = driftOf(
      schema,
      baselineInputs,
      currentInputs,
      windows,
      settings,
      rolled && rolledInputs(rolled.hours, rolled.edges),
      { byFeature: comparatorsOf(tfdvSchema, 'drift_comparator'), declared },
      partitions,
    );
    const skew = skewOf(
      schema,
      currentInputs,
      windows,
      settings,
      { statistics: new Map((training?.features ?? []).map((f) => [featureName(f), f])), baselines: uploaded },
      { byFeature: comparatorsOf(tfdvSchema, 'skew_comparator'), declared },
      partitions,
    );
    const anomalies = anomaliesIn(schema, currentInputs, settings);
    const environment = servingEnvironment(tfdvSchema);
    const validation = validateWindow(currentInputs, rolled ? undefined : baselineInputs, tfdvSchema ?? tfdvSchemaOf(schema), declared, {
      training,
      environment,
      sliceKeys: settings.drift.sliceKeys,
    });
    // with an uploaded schema.pbtxt, TFDV's checks of the window's statistics judge it (schema skew); without, the per-example rates
    const schemaAlerts = tfdvSchema ? (currentInputs.length ? schemaSkewAlerts(validation, currentInputs.length) : []) : anomalies.alerts;
    return {
      settings,
      windows,
      failing: [
        ...(measure ? headlineAlerts(accuracy, settings) : accuracyAlerts(accuracy, settings)),
        ...drift.alerts,
        ...skew.alerts,
        ...schemaAlerts,
        ...featureSkewAlerts(featureSkew, settings),
      ],
      reply: {
        from: windows.chartFrom.toISOString(),
        to: now.toISOString(),
        bucket: windows.bucket,
        window: { from: windows.windowFrom.toISOString(), baselineFrom: windows.baselineFrom.toISOString() },
        labels: { human: labels.filter((l) => l.occurredAt >= windows.chartFrom).length, feedback: feedback.labels },
        accuracy,
        feedbackAccuracy:
          weightedProportion(Array.from({ length: feedback.labels }, (_, i) => ({ outcome: i < feedback.agreeing ? 1 : 0, weight: 1 }))) ?? null,
        drift: drift.features,
        anomalies: { examined: anomalies.examined, features: anomalies.features, tfdv: currentInputs.length ? validation.features : [] },
        skew: {
          schema: tfdvSchema ? 'tfdv' : stored?.source === 'uploaded' ? 'json' : stored ? 'inferred' : null,
          environment: environment ?? null,
          trainingStatistics: Object.keys(uploaded).length > 0,
          distribution: skew.features,
          feature: featureSkew ?? null,
        },
      },
    };
  }

  /** What a reviewer sees: a masked feature's values (in TFDV's texts, in skewed pairs) for admins only. */
  private masked(project: ProjectEntity, showMasked: boolean): ReadonlySet<string> {
    return showMasked ? new Set() : new Set(project.maskedFields);
  }

  async monitoring(project: ProjectEntity, hours: number, { showMasked }: { showMasked: boolean }, now = new Date()): Promise<MonitoringReply> {
    const { reply } = await this.assess(project, now, hours);
    const [alerts, boosts] = await Promise.all([this.repository.recentAlerts(this.dataSource.manager, project.id), this.routing.activeBoosts(project.id)]);
    const masked = this.masked(project, showMasked);
    return {
      ...reply,
      anomalies: {
        ...reply.anomalies,
        tfdv: reply.anomalies.tfdv.map((a) => (masked.has(a.feature) ? { ...a, description: a.shortDescription } : a)),
      },
      skew: { ...reply.skew, feature: reply.skew.feature && maskedFeatureSkew(reply.skew.feature, masked) },
      alerts: alerts.map(toAlert),
      boosts: boosts.map((b) => ({ slice: b.slice, factor: b.factor, until: new Date(b.until).toISOString() })),
    };
  }

  /**
   * The current window as TFDV's artifacts: its statistics (a DatasetFeatureStatisticsList of one
   * dataset, "serving") and their validation (an Anomalies: the schema's checks, its drift
   * comparators against the reference window, its skew comparators with the training statistics).
   */
  async windowArtifacts(
    project: ProjectEntity,
    { showMasked }: { showMasked: boolean },
    now = new Date(),
  ): Promise<{ statistics: { datasets: object[] }; anomalies: AnomaliesObject }> {
    const settings = monitoringSettingsOf(project);
    const windows = this.windows(settings, now, settings.windowHours);
    const [{ baselineInputs, currentInputs, schema }, artifacts] = await Promise.all([
      this.windowInputs(project, windows),
      this.repository.tfdvArtifacts(this.dataSource.manager, project.id),
    ]);
    const tfdvSchema = artifacts.schema as SchemaLike | undefined;
    // the artifacts only: no slice is validated on its own
    const validation = validateWindow(currentInputs, baselineInputs, tfdvSchema ?? tfdvSchemaOf(schema), declaredTypes(schema, tfdvSchema), {
      training: trainingDataset(artifacts.statistics),
      environment: servingEnvironment(tfdvSchema),
      sliceKeys: [],
    });
    const masked = this.masked(project, showMasked);
    return { statistics: { datasets: [maskedStatistics(validation.statistics, masked)] }, anomalies: maskedAnomalies(validation.anomalies, masked) };
  }

  /**
   * Feature skew: training examples (TFRecord of tf.Example, GZIP or not, or JSON Lines) joined
   * with the predictions of their ids, each feature compared (TFDV's feature skew detector); the
   * report is kept (the monitoring page shows it, the evaluation alerts on it) until the next upload.
   */
  async uploadTrainingExamples(project: ProjectEntity, body: Buffer, query: TrainingExamplesQuery, now = new Date()): Promise<FeatureSkewReport> {
    const examples = readTrainingExamples(body);
    if (examples.length === 0) throw new DomainError('monitoring/invalid_training_examples', 'body: no training examples', 400, 'body');
    const ids = [...new Set(examples.flatMap((e) => identifierOf(e, query.identifier) ?? []))];
    const predictions = await this.repository.predictionsByIds(this.dataSource.manager, project.id, ids);
    const reserved = [
      'prediction_id',
      'model_version',
      ...answerColumns(project.questions).map((c) => c.name),
      'label_source',
      'weight',
      'inclusion_probability',
    ];
    // a masked field leaves a span dropped or hashed (unless kept): its absence or its hash is no skew
    const masked =
      (project.exportSettings.maskedFields ?? DEFAULT_MASKED_FIELD_POLICY) === 'keep' ? [] : project.maskedFields.flatMap((f) => [f, `input_${f}`]);
    const report = featureSkew(examples, predictions, {
      identifier: query.identifier,
      ignore: [
        ...(query.ignore ?? '')
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean),
        ...masked,
      ],
      reserved,
      floatRoundDigits: query.floatRoundDigits,
      at: now,
    });
    await this.repository.saveFeatureSkew(this.dataSource.manager, project.id, report);
    return report;
  }

  /** The schema as TFDV's schema.pbtxt: the uploaded one as uploaded, else the monitoring schema's (a masked feature's domain for admins only). */
  async schemaText(project: ProjectEntity, { showMasked }: { showMasked: boolean }): Promise<string> {
    const manager = this.dataSource.manager;
    const [artifacts, stored] = await Promise.all([this.repository.tfdvArtifacts(manager, project.id), this.repository.schema(manager, project.id)]);
    const schema = (artifacts.schema as SchemaLike | undefined) ?? tfdvSchemaOf(stored?.schema ?? { features: [] });
    return printSchema(maskedSchema(schema, this.masked(project, showMasked)));
  }

  /**
   * Judges the current window: raises an alert per failing subject that has none open,
   * resolves open alerts that no longer fail, and gives each open alert on a slice its
   * routing boost (once per alert). New alerts go to the webhook.
   */
  async evaluate(project: ProjectEntity, now = new Date()): Promise<EvaluateReply> {
    const assessed = await this.assess(project, now, monitoringSettingsOf(project).windowHours);
    const { settings } = assessed;
    const failing = [...assessed.failing, ...(await this.clickAlerts(project, now)), ...(await this.preferenceAlerts(project, now))];
    const failingSubjects = new Set(failing.map((a) => a.subject));
    const outcome = await this.dataSource.transaction(async (manager) => {
      const open = await this.repository.openAlerts(manager, project.id);
      const resolved = await this.repository.resolve(
        manager,
        project.id,
        open.filter((a) => !failingSubjects.has(a.subject)).map((a) => a.id),
      );
      const raised = await this.repository.raise(manager, project.id, failing);
      const stillOpen = [...open.filter((a) => failingSubjects.has(a.subject)), ...raised];
      const until = new Date(now.getTime() + settings.boost.hours * HOUR_MS);
      await this.routing.boostSlices(
        manager,
        project.id,
        stillOpen
          .filter((a) => a.slice && a.kind !== 'anomaly')
          .map((a) => ({
            alertId: a.id,
            slice: a.slice!,
            factor: settings.boost.factor,
            until: raised.includes(a) ? until : new Date(a.createdAt.getTime() + settings.boost.hours * HOUR_MS),
          })),
      );
      return { raised, resolved, open: stillOpen.length };
    });
    if (outcome.raised.length && (settings.webhook ?? project.exportSettings.webhook)) {
      const delivery = { projectId: project.id, alertIds: outcome.raised.map((a) => a.id), delivery: randomUUID() };
      // no queue in this process: one try now
      if ((await this.jobs.send(WEBHOOK_JOB, delivery)) === null)
        await this.sendAlerts(delivery).catch((error: unknown) => this.logger.warn(`alert webhook: ${String(error)}`));
    }
    for (const a of outcome.raised) this.logger.warn(`project ${project.slug}: ${a.message}`);
    return { raised: outcome.raised.map(toAlert), resolved: outcome.resolved, open: outcome.open };
  }

  private async sendAlerts({ projectId, alertIds, delivery }: { projectId: string; alertIds: string[]; delivery: string }): Promise<void> {
    const project = await this.projects.findById(projectId);
    const webhook = project && (monitoringSettingsOf(project).webhook ?? project.exportSettings.webhook);
    if (!project || !webhook) return;
    const alerts = await this.repository.alertsById(this.dataSource.manager, projectId, alertIds);
    await deliver(
      webhook.url,
      webhook.secret,
      'alert.raised',
      delivery,
      JSON.stringify({ event: 'alert.raised', project: project.slug, alerts: alerts.map(toAlert) }),
    );
  }

  private async evaluateAll(): Promise<void> {
    for (const projectId of await this.repository.projectIds(this.dataSource.manager)) {
      const project = await this.projects.findById(projectId);
      if (project) await this.evaluate(project).catch((error: unknown) => this.logger.error(`monitoring ${project.slug}: ${String(error)}`));
    }
  }

  /** The schema; a masked field's domain (its values) only for admins. */
  async schema(project: ProjectEntity, { showMasked }: { showMasked: boolean }): Promise<FeatureSchemaReply> {
    const stored = await this.repository.schema(this.dataSource.manager, project.id);
    const masked = new Set(project.maskedFields);
    const features = (stored?.schema.features ?? []).map((feature) => {
      if (!masked.has(feature.name)) return feature;
      const { domain, ...rest } = feature;
      return { ...rest, ...(showMasked && domain && { domain }), masked: true };
    });
    return { features, source: stored?.source ?? null, updatedAt: stored?.updatedAt.toISOString() ?? null };
  }

  /**
   * Statistics of the training data (or any reference) to measure drift against, per feature,
   * instead of the reference window: as JSON, or as TFDV wrote them (a DatasetFeatureStatisticsList,
   * StatisticsGen's FeatureStats.pb or `tfdv.write_stats_text`'s text), whose unsliced dataset is
   * kept whole and whose features become the baseline (a number binned on its quantiles' boundaries).
   */
  async uploadBaseline(project: ProjectEntity, request: BaselineStatisticsRequest | Buffer): Promise<BaselineStatisticsReply> {
    if (!Buffer.isBuffer(request)) {
      await this.repository.saveBaselineStatistics(this.dataSource.manager, project.id, request.features);
      return { features: Object.keys(request.features).sort() };
    }
    const { statistics, skipped } = artifact('monitoring/invalid_statistics', () => decodeStatistics(request));
    const datasets = (statistics.datasets ?? []) as Array<{ name?: string; features?: FeatureStatisticsLike[] }>;
    const dataset = defaultDataset(datasets);
    if (!dataset?.features?.length) throw new DomainError('monitoring/invalid_statistics', 'body: the statistics hold no dataset with features', 400, 'body');
    const features: Record<string, BaselineFeature> = {};
    const notes = skipped.map((field) => `${field}: not read (not a field Backflow knows)`);
    if (datasets.length > 1) notes.push(`${datasets.length} datasets: the statistics of "${dataset.name || '(unsliced)'}" taken`);
    for (const feature of dataset.features) {
      const name = featureName(feature);
      const baseline = baselineOf(feature);
      if (baseline) features[name] = baseline;
      else notes.push(`${name}: no histogram or value counts, left out`);
    }
    await this.repository.saveBaselineStatistics(this.dataSource.manager, project.id, features, dataset);
    return { features: Object.keys(features).sort(), notes };
  }

  /**
   * An uploaded schema (from training) replaces the inferred one and is never re-inferred: as JSON,
   * or TFDV's schema.pbtxt (text format), kept whole (exports keep its settings, drift and skew read
   * its comparators) with the monitoring schema derived from it.
   */
  async uploadSchema(project: ProjectEntity, request: FeatureSchemaRequest | Buffer): Promise<FeatureSchemaReply> {
    if (!Buffer.isBuffer(request)) {
      await this.repository.saveSchema(this.dataSource.manager, project.id, { features: request.features }, 'uploaded');
      return this.schema(project, { showMasked: true });
    }
    const text = request.toString('utf8');
    if (Buffer.compare(Buffer.from(text, 'utf8'), request) !== 0)
      throw new DomainError('monitoring/invalid_schema', 'body: a schema.pbtxt is UTF-8 text (protobuf text format)', 400, 'body');
    const { schema: tfdv, skipped } = artifact('monitoring/invalid_schema', () => parseSchemaText(text));
    const domains = new Map(((tfdv.string_domain ?? []) as Array<{ name?: string; value?: string[] }>).map((d) => [d.name ?? '', d.value ?? []]));
    const features = ((tfdv.feature ?? []) as Array<Parameters<typeof monitoringFeatureOf>[0]>).flatMap((f) => monitoringFeatureOf(f, domains) ?? []);
    const twice = features.find((f, i) => features.findIndex((g) => g.name === f.name) !== i);
    if (twice) throw new DomainError('monitoring/invalid_schema', `feature: "${twice.name}" appears twice in the schema`, 400, 'feature');
    await this.repository.saveTfdvSchema(this.dataSource.manager, project.id, { features }, tfdv);
    const reply = await this.schema(project, { showMasked: true });
    return { ...reply, ...(skipped.length && { notes: skipped.map((field) => `${field}: not read (not a field Backflow knows)`) }) };
  }

  /**
   * A ranking project's clicks over the last `days`: per position (raw, and the examination
   * probability learned from the traffic), per model version, per slice over time with the
   * kind of degradation its series shows. A click is an event of a type a feedback rule grades
   * above the lowest grade, naming a candidate of the list.
   */
  async clicks(project: ProjectEntity, query: ClickQuery, now = new Date()): Promise<ClickReport> {
    const question = routingQuestion(project);
    if (question.kind !== 'ranking')
      throw new DomainError(
        'monitoring/not_a_ranking',
        `routingQuestion: clicks are read for a ranking; "${question.name}" is ${question.kind}`,
        409,
        'routingQuestion',
      );
    return this.clickSeries(project, question, query, now, true);
  }

  /** An alert per preference question whose newest version loses to the champion (its head-to-head interval below ½) over the last four weeks. */
  private async preferenceAlerts(project: ProjectEntity, now: Date): Promise<NewAlert[]> {
    const alerts: NewAlert[] = [];
    for (const question of project.questions) {
      if (question.kind !== 'preference') continue;
      const report = await this.preferences(project, question.name, { days: CLICK_ALERT_DAYS }, now);
      const challenger = report.challenger;
      if (challenger?.verdict !== 'worse') continue;
      alerts.push({
        kind: 'accuracy',
        subject: `preference:${question.name}:${challenger.modelVersion}`,
        slice: null,
        feature: null,
        message: `raters prefer ${report.champion} to ${challenger.modelVersion} on "${question.name}": ${challenger.modelVersion} won ${(challenger.winRate * 100).toFixed(1)}% of ${challenger.comparisons} comparisons (95% up to ${(challenger.high * 100).toFixed(1)}%)`,
        value: challenger.winRate,
        baseline: 0.5,
        threshold: 0.5,
        details: {
          metric: 'win_rate',
          question: question.name,
          champion: report.champion,
          challenger: challenger.modelVersion,
          low: challenger.low,
          high: challenger.high,
        },
      });
    }
    return alerts;
  }

  /**
   * What users did with each model version's predictions over the last `days` (from the hour):
   * implicit feedback rates and how far their edits moved the text.
   */
  async feedbackSignals(project: ProjectEntity, query: FeedbackSignalsQuery, now = new Date()): Promise<FeedbackSignals> {
    const from = hourFloor(new Date(now.getTime() - query.days * 24 * HOUR_MS));
    return feedbackSignals(await this.repository.feedbackSignals(this.dataSource.manager, project.id, from), query.days, from);
  }

  /**
   * A preference question's verdict on the model versions over the last `days`: Bradley–Terry
   * strengths relative to the champion (the version given, or the first seen), and the newest
   * version's direct win rate against it. Responses name their version (`model.version`).
   */
  async preferences(project: ProjectEntity, questionName: string, query: PreferenceQuery, now = new Date()): Promise<PreferenceReport> {
    const question = project.questions.find((q) => q.name === questionName);
    if (question?.kind !== 'preference')
      throw new DomainError('monitoring/not_a_preference', `question "${questionName}" is not a preference question of the project`, 404, 'question');
    const [key, ...rest] = query.slice?.split('=') ?? [];
    const slice = query.slice ? { key, value: rest.join('=') } : undefined;
    const rows = await this.repository.preferences(this.dataSource.manager, project.id, question, new Date(now.getTime() - query.days * 24 * HOUR_MS), slice);
    return preferenceReport(question, rows, { champion: query.champion, slice: query.slice ?? null });
  }

  /**
   * A ranking project's click-through alerts over the last four weeks, day by day. The click
   * model (EM) runs too when its last estimate is older than `EXAMINATION_REFRESH_MS`, so that
   * exports weight clicks by a recent one without anyone opening the report.
   */
  private async clickAlerts(project: ProjectEntity, now: Date): Promise<NewAlert[]> {
    const question = routingQuestion(project);
    if (question.kind !== 'ranking') return [];
    const estimatedAt = await this.repository.examinationEstimatedAt(this.dataSource.manager, project.id, question.name);
    const stale = !estimatedAt || now.getTime() - estimatedAt.getTime() >= EXAMINATION_REFRESH_MS;
    return clickAlerts(await this.clickSeries(project, question, { days: CLICK_ALERT_DAYS, bucket: 'day' }, now, stale), question.name);
  }

  private async clickSeries(
    project: ProjectEntity,
    question: Extract<Question, { kind: 'ranking' }>,
    query: ClickQuery,
    now: Date,
    propensity: boolean,
  ): Promise<ClickReport> {
    // from the hour, as rollups count: hours retention settled are read from them, the rest from the raw lists
    const from = hourFloor(new Date(now.getTime() - query.days * 24 * HOUR_MS));
    const clickTypes = clickTypesOf(question, project.feedbackRules);
    const manager = this.dataSource.manager;
    const { settled, rolled } = await this.repository.rolledClicks(manager, project.id, clickTypes, from, now);
    const [lists, engaged] = await Promise.all([
      this.repository.shownLists(manager, project.id, question.name, from, now, settled),
      this.repository.engagements(manager, project.id, clickTypes, from, now, settled),
    ]);
    const report = clickReport(lists, engaged, { from, to: now, bucket: query.bucket }, { propensity, rolled });
    if (report.propensity)
      await this.repository.saveExamination(manager, project.id, question.name, {
        method: report.propensity.method,
        at: now,
        positions: report.propensity.positions,
      });
    return { question: question.name, clickTypes, ...report };
  }
}

/** A TFDV file read, its fault a 400 naming the body. */
function artifact<T>(code: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ArtifactError) throw new DomainError(code, `body: ${error.message}`, 400, 'body');
    throw error;
  }
}
