export {
  type ChromeTrace,
  type ChromeTraceEvent,
  ChromeTraceEventSchema,
  type ChromeTraceInput,
  ChromeTraceSchema,
  chromeTrace,
  TRACE_BOARDS_PID,
  TRACE_STREAMS_PID,
} from './chrome-trace.js';
export { TraceRecorder } from './recorder.js';
