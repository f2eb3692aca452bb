/** Public surface of the engine for the worker, the CLI and tests. */
export { loadModel, Model, type ModelInfo, type LoadOptions, type TraceOptions, type GenerateResult, type GenerateTextOptions, type Seq2SeqTrace } from './model';
export { Trace, type TopToken, type NextTokenStats, type HeadMath, type TokenInfo, type PatternPrecision, PATTERN_F32_BUDGET } from './trace';
export { HOOKS, hookName, HookCache, combineRecorders, type Recorder, type HookKind } from './hooks';
export type { ModelConfig } from './config';
export { supportedArchitectures } from './architectures';
export * as positional from './positional';
export { EngineError, isEngineError, type EngineErrorCode } from './errors';
