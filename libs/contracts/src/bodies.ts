import type { z } from 'zod';
import type {
  AddMemberRequest,
  ChangePasswordRequest,
  CreateApiKeyRequest,
  CreateUserRequest,
  LoginRequest,
  ResetPasswordRequest,
  UpdateUserRequest,
} from './auth';
import type { FeedbackInput, FeedbackReapplyRequest, PredictionInput } from './ingest';
import type { ReviewRequest, SkipRequest, SubmitAnnotationRequest } from './labeling';
import type { CreateProjectRequest, FeedbackRules, Question, RoutingPolicy, UpdateProjectRequest } from './projects';
import type { RoutingPreviewRequest } from './routing';
import type { LabelingFunction, LabelingFunctionPreviewRequest } from './weak';

// What a client sends: a request schema's input, before its defaults and transforms apply (the `X` types are what the server reads).
export type LoginRequestBody = z.input<typeof LoginRequest>;
export type CreateUserRequestBody = z.input<typeof CreateUserRequest>;
export type UpdateUserRequestBody = z.input<typeof UpdateUserRequest>;
export type ChangePasswordRequestBody = z.input<typeof ChangePasswordRequest>;
export type ResetPasswordRequestBody = z.input<typeof ResetPasswordRequest>;
export type AddMemberRequestBody = z.input<typeof AddMemberRequest>;
export type CreateApiKeyRequestBody = z.input<typeof CreateApiKeyRequest>;
export type CreateProjectRequestBody = z.input<typeof CreateProjectRequest>;
export type UpdateProjectRequestBody = z.input<typeof UpdateProjectRequest>;
export type RoutingPolicyBody = z.input<typeof RoutingPolicy>;
export type FeedbackRulesBody = z.input<typeof FeedbackRules>;
export type RoutingPreviewRequestBody = z.input<typeof RoutingPreviewRequest>;
export type ReviewRequestBody = z.input<typeof ReviewRequest>;
export type SubmitAnnotationRequestBody = z.input<typeof SubmitAnnotationRequest>;
export type QuestionBody = z.input<typeof Question>;
export type SkipRequestBody = z.input<typeof SkipRequest>;
export type PredictionInputBody = z.input<typeof PredictionInput>;
export type FeedbackInputBody = z.input<typeof FeedbackInput>;
export type FeedbackReapplyRequestBody = z.input<typeof FeedbackReapplyRequest>;
export type LabelingFunctionBody = z.input<typeof LabelingFunction>;
export type LabelingFunctionPreviewRequestBody = z.input<typeof LabelingFunctionPreviewRequest>;
