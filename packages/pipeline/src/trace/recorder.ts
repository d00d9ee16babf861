import type { PipelineRequestEvent } from '../pipeline/pipeline.js';
import { type ChromeTrace, type ChromeTraceInput, chromeTrace } from './chrome-trace.js';

/**
 * Collects a pipeline's requests for a trace: pass `recorder.onRequest` as `PipelineOptions.onRequest`,
 * run, ask the boards for their STATS, then `recorder.trace(stats)`.
 */
export class TraceRecorder {
  readonly requests: PipelineRequestEvent[] = [];
  readonly onRequest = (event: PipelineRequestEvent): void => {
    this.requests.push(event);
  };

  /** The Chrome trace of what was recorded (see `chromeTrace`); `boards` are `Pipeline.boardStats()`. */
  trace(boards: ChromeTraceInput['boards'], about?: Record<string, string>): ChromeTrace {
    return chromeTrace({ requests: this.requests, boards, ...(about ? { about } : {}) });
  }
}
