export {
  type ChromeTrace,
  type ChromeTraceEvent,
  ChromeTraceEventSchema,
  type ChromeTraceInput,
  ChromeTraceSchema,
  chromeTrace,
  parseChromeTrace,
  TRACE_BOARDS_PID,
  TRACE_STREAMS_PID,
} from './chrome-trace.js';
export { TraceRecorder } from './recorder.js';
